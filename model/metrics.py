"""Metrics: named pure functions ``model -> float``, measured after ``warmup_days``.

Each function is registered under the snake_case name it gets as a results column; its
docstring gives the units. Rates are per day of the measured window
(``model.time - warmup_days``); ``nan`` means "nothing to measure" (e.g. no change landed).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from model.integration import window_days_between
from model.topologies import tree_depth as topology_tree_depth
from model.work import JobKind, Pull

if TYPE_CHECKING:
    from model.model import OrgModel

METRICS: dict[str, Callable[[OrgModel], float]] = {}


def metric(fn: Callable[[OrgModel], float]) -> Callable[[OrgModel], float]:
    """Register ``fn`` under its own name."""
    METRICS[fn.__name__] = fn
    return fn


def measured_days(model: OrgModel) -> float:
    """Length of the measured window (days)."""
    return max(model.time - model.warmup_days, 0.0)


def _per_day(model: OrgModel, value: float) -> float:
    days = measured_days(model)
    return value / days if days > 0 else math.nan


def _mean(values: list[float] | np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _percentile(values: list[float] | np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else math.nan


def _observed(model: OrgModel, name: str) -> np.ndarray:
    """``model.<name>`` (a dotted name: ``"review.review_waits"``), an append-only list of
    observations, as an array.

    Several metrics read the same long lists (a long run holds hundreds of thousands of
    lead times); each is converted once per length and kept on the model, so a later call
    after more events converts it again.
    """
    values = attrgetter(name)(model)
    cache = model.__dict__.setdefault("_observed_arrays", {})
    kept = cache.get(name)
    if kept is None or kept[0] is not values or kept[1].size != len(values):
        kept = cache[name] = (values, np.asarray(values))
    return kept[1]


def _outcomes(model: OrgModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(days observed, landed?, still open?) for each change submitted after warm-up.

    Read in one pass over ``model.measured_changes`` and kept on the model until the run
    moves on: a change's outcome only changes when it lands or is abandoned (counted in
    ``n_landed_all`` / ``abandonment.n_abandoned_all``), and open changes are censored at ``time``.
    """
    changes = model.measured_changes
    key = (len(changes), model.time, model.n_landed_all, model.abandonment.n_abandoned_all)
    kept = model.__dict__.get("_outcomes_kept")
    if kept is not None and kept[0] is changes and kept[1] == key:
        return kept[2]
    n = len(changes)
    ended = np.fromiter([c.ended_at for c in changes], dtype=float, count=n)
    submitted = np.fromiter([c.submitted_at for c in changes], dtype=float, count=n)
    abandoned = np.fromiter([c.abandoned for c in changes], dtype=bool, count=n)
    is_open = ended < 0
    durations = np.where(is_open, key[1], ended) - submitted
    landed = ~is_open & ~abandoned
    outcomes = (durations, landed, is_open)
    model._outcomes_kept = (changes, key, outcomes)
    return outcomes


def lead_time_observations(model: OrgModel) -> tuple[np.ndarray, np.ndarray]:
    """(days observed, landed?) for each change submitted after warm-up: a landed change
    is observed to its landing; an open or abandoned one is censored at the end or at its
    abandonment."""
    durations, landed, _ = _outcomes(model)
    return durations, landed


def kaplan_meier_median(durations: np.ndarray, events: np.ndarray) -> float:
    """Median of the Kaplan–Meier survival curve (``nan`` if it never falls to ½).

    ``events[i]`` is True where observation ``i`` ended in the event (landing) and False
    where it was censored.
    """
    if durations.size == 0:
        return math.nan
    order = np.lexsort((~events, durations))  # at equal times, events before censorings
    t, e = durations[order], events[order]
    at_risk = np.arange(t.size, 0, -1)
    survival = np.cumprod(np.where(e, 1.0 - 1.0 / at_risk, 1.0))
    below = np.flatnonzero(survival <= 0.5)
    return float(t[below[0]]) if below.size else math.nan


def cumulative_incidence_median(
    durations: np.ndarray, landed: np.ndarray, abandoned: np.ndarray
) -> float:
    """First time at which the cumulative incidence of landing reaches ½ (``nan`` if it
    never does: half the changes or more were abandoned, or are still open).

    Aalen–Johansen with two competing events, landing and abandonment; an observation that
    is neither (still open at the end) is censored. Unlike Kaplan–Meier with abandonment
    censored, an abandoned change does not count as one that would have landed later.
    """
    if durations.size == 0:
        return math.nan
    order = np.lexsort((~(landed | abandoned), durations))  # at equal times events first
    t, land, gone = durations[order], landed[order], abandoned[order]
    at_risk = np.arange(t.size, 0, -1)
    # overall survival just before each observation (any event ends it)
    survival_after = np.cumprod(1.0 - (land | gone) / at_risk)
    survival_before = np.concatenate(([1.0], survival_after[:-1]))
    incidence = np.cumsum(np.where(land, survival_before / at_risk, 0.0))
    reached = np.flatnonzero(incidence >= 0.5 - 1e-12)
    return float(t[reached[0]]) if reached.size else math.nan


@metric
def links(model: OrgModel) -> float:
    """Number of API links between teams (edges of the topology)."""
    return float(model.graph.number_of_edges())


@metric
def n_teams_total(model: OrgModel) -> float:
    """Teams in the organisation, maintainer teams included."""
    return float(model.graph.number_of_nodes())


@metric
def n_reviewers(model: OrgModel) -> float:
    """Reviewers (maintainers / core members) in all teams at the end of the run."""
    return float(model.n_reviewers)


@metric
def headcount(model: OrgModel) -> float:
    """Reviewers plus contributors (people)."""
    return float(model.n_reviewers + len(model.contributors))


@metric
def throughput(model: OrgModel) -> float:
    """Changes landed in the top tree per day."""
    return _per_day(model, model.n_landed)


@metric
def lead_time_mean(model: OrgModel) -> float:
    """Mean days from submission to landing in the top tree (changes landed after warm-up)."""
    return _mean(_observed(model, "lead_times"))


@metric
def lead_time_p50(model: OrgModel) -> float:
    """Median lead time (days)."""
    return _percentile(_observed(model, "lead_times"), 50)


@metric
def lead_time_p95(model: OrgModel) -> float:
    """95th-percentile lead time (days)."""
    return _percentile(_observed(model, "lead_times"), 95)


@metric
def review_wait_mean(model: OrgModel) -> float:
    """Mean days from a patch set entering a review queue to the start of its first review
    (patch sets whose first review started after warm-up)."""
    return _mean(_observed(model, "review.review_waits"))


@metric
def negotiation_wait_mean(model: OrgModel) -> float:
    """Mean days a link negotiation waits in the other team's queue before it starts."""
    return _mean(model.review.negotiation_waits)


@metric
def cost_coordination(model: OrgModel) -> float:
    """Person-days per day spent keeping in sync with teammates (Brooks)."""
    return _per_day(model, model.cost[JobKind.SYNC])


@metric
def cost_negotiation(model: OrgModel) -> float:
    """Person-days per day spent agreeing other teams' changes on API links."""
    return _per_day(model, model.cost[JobKind.NEGOTIATION])


@metric
def cost_conflicts(model: OrgModel) -> float:
    """Person-days per day spent finding and fixing merge conflicts."""
    return _per_day(model, model.cost[JobKind.CONFLICT])


@metric
def cost_merges(model: OrgModel) -> float:
    """Person-days per day spent handling pulls of child trees."""
    return _per_day(model, model.cost[JobKind.PULL])


@metric
def cost_rebase(model: OrgModel) -> float:
    """Author-days per day spent rebasing changes made stale by coupled changes."""
    return _per_day(model, model.cost[JobKind.REBASE])


@metric
def cost_review(model: OrgModel) -> float:
    """Person-days per day spent reviewing one's own team's changes (not integration)."""
    return _per_day(model, model.cost[JobKind.REVIEW])


@metric
def integration_cost(model: OrgModel) -> float:
    """Person-days per day spent on anything but reviewing one's own team's changes:
    coordination + negotiation + conflicts + merges + rebases."""
    return (
        cost_coordination(model)
        + cost_negotiation(model)
        + cost_conflicts(model)
        + cost_merges(model)
        + cost_rebase(model)
    )


@metric
def integration_cost_per_change(model: OrgModel) -> float:
    """Integration person-days per contribution landed at the top.

    API changes are not counted as landed work: they exist only because the code is split
    into teams with contracts, so they are part of the split's cost, not of its output.
    """
    rate = contributions_landed_per_day(model)
    return integration_cost(model) / rate if rate > 0 else math.nan


@metric
def backlog(model: OrgModel) -> float:
    """Changes submitted and neither landed at the top nor abandoned, at the end of the run."""
    return float(model.wip)


@metric
def wip_mean(model: OrgModel) -> float:
    """Time-average number of changes submitted and not yet landed at the top (changes)."""
    days = measured_days(model)
    if days <= 0:
        return math.nan
    start = max(model._wip_since, model.warmup_days)
    area = model.wip_area + model.wip * max(model.time - start, 0.0)
    return area / days


@metric
def reviewer_utilization(model: OrgModel) -> float:
    """Share of paid reviewer time spent busy (any job) after warm-up, in [0, 1]."""
    paid = model.staff.paid_reviewer_days()
    if measured_days(model) <= 0 or paid <= 0:
        return math.nan
    overhang = sum(_overhang(model, team) for team in model.teams)
    return (model.busy_days - overhang) / paid


def _overhang(model: OrgModel, team) -> float:
    """Reviewer-days booked in advance: jobs and sync running past the end of the run
    (the work still to do in the reviewer's review hours, :mod:`model.availability`)."""
    now = model.time
    avail = model.availability
    if avail is None:
        return sum(
            max(r.busy_until - now, 0.0) if r.busy else max(r.free_from - now, 0.0)
            for r in team.reviewers
        )
    return sum(
        avail.work_between(r.unique_id, now, r.busy_until if r.busy else r.free_from)
        for r in team.reviewers
    )


def team_utilizations(model: OrgModel) -> np.ndarray:
    """Share of each team's reviewer time spent busy after warm-up (by node id)."""
    if measured_days(model) <= 0:
        return np.full(len(model.teams), math.nan)
    paid = [model.staff.team_paid_days(t) for t in model.teams]
    return np.array(
        [
            (t.busy_days - _overhang(model, t)) / days if days > 0 else math.nan
            for t, days in zip(model.teams, paid, strict=True)
        ]
    )


@metric
def max_team_utilization(model: OrgModel) -> float:
    """Utilisation of the busiest team, in [0, 1] (≥ 0.98: that team is at capacity)."""
    util = team_utilizations(model)
    return float(np.nanmax(util)) if np.isfinite(util).any() else math.nan


TEAM_KIND_CODES = {"core": 0.0, "peer": 1.0, "top": 2.0, "maintainer": 3.0, "leaf": 4.0}


@metric
def busiest_team_kind(model: OrgModel) -> float:
    """Kind of the busiest team, coded as a number (results columns are numbers):
    0 core, 1 peer, 2 top, 3 maintainer (drivers-core, sub-maintainer), 4 leaf."""
    util = team_utilizations(model)
    if not np.isfinite(util).any():
        return math.nan
    return TEAM_KIND_CODES[model.teams[int(np.nanargmax(util))].kind]


@metric
def paid_reviewer_days_per_change(model: OrgModel) -> float:
    """Reviewer-days paid (every reviewer, busy or not) per contribution landed at the top.

    API changes are not counted as landed work (as in :func:`integration_cost_per_change`).
    """
    if model.n_landed_contributions == 0:
        return math.nan
    return model.staff.paid_reviewer_days() / model.n_landed_contributions


@metric
def expert_review_share(model: OrgModel) -> float:
    """Share of reviews done by a reviewer expert in the change's area."""
    review = model.review
    if review.n_reviews_started == 0:
        return math.nan
    return review.n_expert_reviews / review.n_reviews_started


@metric
def bare_areas(model: OrgModel) -> float:
    """Code areas that no reviewer of the team reviewing them knows at the end of the run
    (count): in one core, areas outside every reviewer's ``expert_areas`` (the dealt rule
    leaves areas bare when reviewers × expert_areas < areas); in a split, the areas of a
    team without reviewers."""
    bare = 0
    for team in model.coding_teams:
        n_areas = model.graph.nodes[team.node]["areas"]
        if not team.reviewers:
            bare += n_areas
        elif n_areas > 1:
            known: set[int] = set()
            for reviewer in team.reviewers:
                if reviewer.experts is None:
                    known = set(range(n_areas))
                    break
                known |= reviewer.experts
            bare += n_areas - len(known)
    return float(bare)


@metric
def reviewers_per_area_end(model: OrgModel) -> float:
    """Reviewers of the teams that own code (the core, split teams, leaves; maintainer teams
    not counted) per code area at the end of the run (people per area): under
    ``staffing = 'earned'`` an outcome of promotions and departures."""
    return sum(len(t.reviewers) for t in model.coding_teams) / model.n_areas


@metric
def reviewer_promotions_per_year(model: OrgModel) -> float:
    """Contributors promoted to reviewer after warm-up, per year (365 days)."""
    return 365.0 * _per_day(model, model.staff.n_promotions)


@metric
def reviewer_departures_per_year(model: OrgModel) -> float:
    """Reviewers who left their team after warm-up, per year (365 days)."""
    return 365.0 * _per_day(model, model.staff.n_departures)


@metric
def submitted_per_day(model: OrgModel) -> float:
    """New changes (contributions and API changes) submitted per day."""
    return _per_day(model, model.n_submitted_measured)


@metric
def contributions_landed_per_day(model: OrgModel) -> float:
    """Contributions (changes other than a team's own API changes) landed at the top per day:
    the output that per-change costs divide by."""
    return _per_day(model, model.n_landed_contributions)


@metric
def merged_per_day(model: OrgModel) -> float:
    """Changes landed in the top tree per day (the same as ``throughput``)."""
    return throughput(model)


@metric
def abandoned_per_day(model: OrgModel) -> float:
    """Changes abandoned per day: by their authors (patience ran out) or rejected by a
    review, as a Gerrit history counts them (:func:`observe.patterns.abandoned_per_day`)."""
    return _per_day(model, model.abandonment.n_abandoned)


@metric
def rejected_per_day(model: OrgModel) -> float:
    """Changes abandoned because a review rejected them (a −2), per day."""
    return _per_day(model, model.abandonment.n_rejected)


@metric
def landed_share(model: OrgModel) -> float:
    """Share of the changes submitted after warm-up that landed at the top by the end."""
    _, landed, _ = _outcomes(model)
    if not landed.size:
        return math.nan
    return int(np.count_nonzero(landed)) / landed.size


@metric
def patch_sets_per_landed_change(model: OrgModel) -> float:
    """Mean patch sets of the changes landed after warm-up (rework and rebases add one)."""
    return _mean(_observed(model, "landed_patch_sets"))


@metric
def rebases_per_change(model: OrgModel) -> float:
    """Rebases done after warm-up per change landed at the top."""
    return model.coupling.n_rebases / model.n_landed if model.n_landed else math.nan


@metric
def gate_failures(model: OrgModel) -> float:
    """Changes failed by a gate because a coupled change merged first (count, after
    warm-up)."""
    return float(model.gates.n_conflict_failures)


@metric
def gate_flaky_failures(model: OrgModel) -> float:
    """Gate results that failed for no fault of the change, at the tree's flaky
    probability (count, after warm-up; the change is tested again)."""
    return float(model.gates.n_flaky_failures)


@metric
def gate_queue_days_p50(model: OrgModel) -> float:
    """Median days from a change's approval entering its tree's gate to its merge (changes
    merged through a gate after warm-up; re-runs after flaky failures and resets
    included)."""
    return _percentile(model.gates.queue_days, 50)


@metric
def gate_resets_per_day(model: OrgModel) -> float:
    """Serial gate: failures per day that voided the runs of changes behind the failing one
    (they are tested again), all trees together."""
    return _per_day(model, model.gates.n_resets)


@metric
def reviews_per_day(model: OrgModel) -> float:
    """Reviews of patch sets completed per day (all reviewers)."""
    return _per_day(model, model.review.n_reviews_done)


@metric
def reviews_per_reviewer_day(model: OrgModel) -> float:
    """Reviews of patch sets completed per reviewer per day."""
    paid = model.staff.paid_reviewer_days()
    return model.review.n_reviews_done / paid if paid > 0 else math.nan


@metric
def review_wait_p50(model: OrgModel) -> float:
    """Median days from a patch set entering a review queue to its first review."""
    return _percentile(_observed(model, "review.review_waits"), 50)


@metric
def review_wait_p75(model: OrgModel) -> float:
    """Third quartile of the wait for a first review (days)."""
    return _percentile(_observed(model, "review.review_waits"), 75)


@metric
def lead_time_km_p50(model: OrgModel) -> float:
    """Median lead time (days) by Kaplan–Meier over changes submitted after warm-up:
    changes still open at the end or abandoned count as censored, not as missing (kept for
    comparison; abandonment is a competing risk, not censoring: see
    ``lead_time_cif_p50``)."""
    durations, landed = lead_time_observations(model)
    return kaplan_meier_median(durations, landed)


@metric
def lead_time_cif_p50(model: OrgModel) -> float:
    """Median lead time (days) with abandonment as a competing risk: the first time by
    which half of the changes submitted after warm-up had landed (cumulative incidence,
    Aalen–Johansen; changes still open at the end censored). ``nan`` when half or more
    never land."""
    durations, landed, is_open = _outcomes(model)
    return cumulative_incidence_median(durations, landed, ~landed & ~is_open)


@metric
def landed_share_patience(model: OrgModel) -> float:
    """Share of changes expected to land if their authors' patience were the only loss:
    each change exposed to its author's patience only while in service, never while
    waiting in a review queue or a gate line. Estimated from the changes landed after
    warm-up, each weighted by the inverse of its chance to outlast its author's patience
    (exponential, mean ``patience_days`` P): Σ exp(q/P) / Σ exp(E/P) over their exposures
    E (submission to merging into the home tree, after which authors no longer abandon)
    and queue times q."""
    if model.patience_days <= 0:
        return 1.0
    changes = [c for c in model.measured_changes if c.ended_at >= 0 and not c.abandoned]
    if not changes:
        return math.nan
    rate = 1.0 / model.patience_days
    lead = np.array([c.home_at - c.submitted_at for c in changes]) * rate
    queued = np.minimum(np.array([c.queued_days for c in changes]) * rate, lead)
    top = max(lead.max(), queued.max())
    return float(np.exp(queued - top).sum() / np.exp(lead - top).sum())


@metric
def lead_time_censored_share(model: OrgModel) -> float:
    """Share of the changes submitted after warm-up still open at the end of the run."""
    _, _, is_open = _outcomes(model)
    if not is_open.size:
        return math.nan
    return int(np.count_nonzero(is_open)) / is_open.size


@metric
def backlog_slope(model: OrgModel) -> float:
    """Growth of the backlog (changes in the system) over the measured window, by least
    squares on the daily series (changes per day)."""
    if len(model.backlog_series) < 3:
        return math.nan
    return least_squares_slope(*zip(*model.backlog_series, strict=True))


def least_squares_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Slope of the least-squares line through the points (x, y), every sum taken exactly
    rounded (``math.fsum``): the same bits on every machine and BLAS build, which a
    library's vectorised fit (``np.polyfit``) does not promise. ``nan`` for fewer than two
    distinct x."""
    n = len(x)
    if n < 2:
        return math.nan
    x_mean = math.fsum(x) / n
    y_mean = math.fsum(y) / n
    dx = [xi - x_mean for xi in x]
    sxx = math.fsum(d * d for d in dx)
    if sxx == 0.0:
        return math.nan
    return math.fsum(d * (yi - y_mean) for d, yi in zip(dx, y, strict=True)) / sxx


#: How far (absolute) the share of resolved changes that landed may fall below the share
#: patience alone would let land before a run counts as saturated: well above the
#: estimate's noise at a few hundred resolved changes, and a tenth of the work lost to
#: queues is a system not keeping up.
LOSS_MARGIN = 0.1


def resolved_landed_share(model: OrgModel) -> float:
    """Share of the changes submitted after warm-up and resolved by the end that landed,
    among those not rejected: landed or abandoned by their authors. A rejection is a
    reviewer's decision about the change, not work lost to waiting, so it is left out of
    the comparison with ``landed_share_patience``."""
    _, landed, is_open = _outcomes(model)
    rejected = np.fromiter(
        (c.rejected for c in model.measured_changes),
        dtype=bool,
        count=len(model.measured_changes),
    )
    resolved = int(np.count_nonzero(~is_open & ~rejected))
    return int(np.count_nonzero(landed)) / resolved if resolved else math.nan


@metric
def saturated(model: OrgModel) -> float:
    """1.0 when the run is not in a steady state, else 0.0: the backlog grew by more than
    a quarter of its mean level and by more than 10 changes over the measured window, or
    a team was busy ≥ 98% of its time, or queues cost it changes: the share of resolved
    changes that landed fell more than 0.1 below ``landed_share_patience`` (abandonment
    bounds a backlog, so a core that loses most of its changes to waiting need not show a
    growing one); or the run stopped early because its backlog passed
    ``stop_backlog_days`` of demand (:func:`stopped_at_day`)."""
    if model.stopped:
        return 1.0
    slope = backlog_slope(model)
    util = max_team_utilization(model)
    if math.isnan(slope):
        return math.nan
    growth = slope * measured_days(model)
    mean_backlog = float(np.mean([b for _, b in model.backlog_series]))
    growing = growth > max(10.0, 0.25 * mean_backlog)
    expected = landed_share_patience(model)
    lost = resolved_landed_share(model) < expected - LOSS_MARGIN  # nan compares False
    return float(growing or lost or (not math.isnan(util) and util >= 0.98))


@metric
def stopped_at_day(model: OrgModel) -> float:
    """Day the run stopped early, saturated, its open backlog past ``stop_backlog_days`` of
    demand (nan: it ran its full length). A stopped run's metrics are measured from warm-up
    to this day, not over the window asked for, and describe a system that is not in a
    steady state (``saturated`` is 1): they are not points of a scaling law."""
    return model.stopped_at_day


@metric
def work_backlog_days(model: OrgModel) -> float:
    """Queued work not yet started at the end of the run (expert reviewer-days): open
    review slots at the mean review time, pulls and conflicts at their mean times."""
    review_days = 1.0 / model.review_rate
    total = 0.0
    for team in model.teams:
        for task in team.queue:
            if not task.closed and not task.change.abandoned:
                factor = model.cross_team_factor if task.kind == JobKind.NEGOTIATION else 1.0
                total += (task.slots - len(task.takers)) * review_days * factor
        for job in team.urgent:
            if isinstance(job, Pull):
                total += model.pull_days + model.pull_days_per_change * len(job.changes)
            else:
                total += model.conflict_fix_days
    return total


@metric
def tree_depth(model: OrgModel) -> float:
    """Merge hops on the longest chain from a team's tree to the mainline."""
    return float(topology_tree_depth(model.graph))


@metric
def top_direct_landed_share(model: OrgModel) -> float:
    """Share of the changes landed at the top that reached it without passing through
    another tree (homed in the mainline: every change of one core; in a hierarchy, those
    sent straight to the top by ``top_direct_share`` and the top team's own API changes).
    The same definition as the pattern :func:`observe.patterns.top_direct_landed_share`."""
    return model.n_landed_direct / model.n_landed if model.n_landed else math.nan


@metric
def top_conflicts_per_window_day(model: OrgModel) -> float:
    """Conflicts found at the top's merges per day of merge window (per day when the top
    takes pulls at any time), after warm-up."""
    days = window_days_between(
        model.warmup_days, model.time, model.release_cycle_days, model.merge_window_days
    )
    return model.integration.n_top_conflicts / days if days > 0 else math.nan


@metric
def conflicts(model: OrgModel) -> float:
    """Merge conflicts found after warm-up (count), early and late."""
    return float(model.integration.n_conflicts)


@metric
def conflicts_caught_early(model: OrgModel) -> float:
    """Conflicts found by the daily CI test-merge rather than at a real merge (count)."""
    return float(model.integration.n_conflicts_early)


@metric
def conflicts_late(model: OrgModel) -> float:
    """Conflicts found only when a tree was merged upward (count)."""
    return float(model.integration.n_conflicts - model.integration.n_conflicts_early)


@metric
def conflict_days_mean(model: OrgModel) -> float:
    """Mean person-days spent resolving one conflict (resolutions started after warm-up)."""
    n_jobs = model.integration.n_conflict_jobs
    if n_jobs == 0:
        return math.nan
    return model.cost[JobKind.CONFLICT] / n_jobs


@metric
def pull_size_mean(model: OrgModel) -> float:
    """Mean number of changes in an integration unit (a pull of a child tree)."""
    return _mean(model.integration.pull_sizes)


def link_pain(model: OrgModel) -> np.ndarray:
    """Per-link pain: negotiations held plus conflicts found on it after warm-up."""
    return (model.links.edge_negotiations + model.links.edge_conflicts).astype(float)


@metric
def link_pain_top_decile_share(model: OrgModel) -> float:
    """Share of all link pain carried by the worst 10% of links (at least one link)."""
    pain = np.sort(link_pain(model))[::-1]
    if pain.size == 0 or pain.sum() == 0:
        return math.nan
    k = max(1, math.ceil(0.1 * pain.size))
    return float(pain[:k].sum() / pain.sum())


@metric
def link_pain_gini(model: OrgModel) -> float:
    """Gini coefficient of link pain across links (0: even, →1: concentrated)."""
    pain = np.sort(link_pain(model))
    if pain.size < 2 or pain.sum() == 0:
        return math.nan
    n = pain.size
    ranks = np.arange(1, n + 1)
    return float((2 * np.sum(ranks * pain) / (n * pain.sum())) - (n + 1) / n)


@metric
def link_pain_cv(model: OrgModel) -> float:
    """Coefficient of variation of link pain across links (heavy tail → large)."""
    pain = link_pain(model)
    if pain.size < 2 or pain.mean() == 0:
        return math.nan
    return float(pain.std() / pain.mean())


def compute_metrics(model: OrgModel) -> dict[str, float]:
    """Every registered metric of ``model``, in registration order."""
    return {name: float(fn(model)) for name, fn in METRICS.items()}
