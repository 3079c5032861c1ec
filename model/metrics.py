"""Metrics: named pure functions ``model -> float``, measured after ``warmup_days``.

Each function is registered under the snake_case name it gets as a results column; its
docstring gives the units. Rates are per day of the measured window
(``model.time - warmup_days``); ``nan`` means "nothing to measure" (e.g. no change landed).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from model.work import JobKind

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


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


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
    """Reviewers (maintainers / core members) in all teams."""
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
    return _mean(model.lead_times)


@metric
def lead_time_p50(model: OrgModel) -> float:
    """Median lead time (days)."""
    return float(np.percentile(model.lead_times, 50)) if model.lead_times else math.nan


@metric
def lead_time_p95(model: OrgModel) -> float:
    """95th-percentile lead time (days)."""
    return float(np.percentile(model.lead_times, 95)) if model.lead_times else math.nan


@metric
def review_wait_mean(model: OrgModel) -> float:
    """Mean days from a patch set entering a review queue to the start of its first review
    (patch sets whose first review started after warm-up)."""
    return _mean(model.review_waits)


@metric
def negotiation_wait_mean(model: OrgModel) -> float:
    """Mean days a link negotiation waits in the other team's queue before it starts."""
    return _mean(model.negotiation_waits)


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
def cost_review(model: OrgModel) -> float:
    """Person-days per day spent reviewing one's own team's changes (not integration)."""
    return _per_day(model, model.cost[JobKind.REVIEW])


@metric
def integration_cost(model: OrgModel) -> float:
    """Person-days per day spent on anything but reviewing one's own team's changes:
    coordination + negotiation + conflicts + merges."""
    return (
        cost_coordination(model)
        + cost_negotiation(model)
        + cost_conflicts(model)
        + cost_merges(model)
    )


@metric
def integration_cost_per_change(model: OrgModel) -> float:
    """Integration person-days per change landed at the top."""
    rate = throughput(model)
    return integration_cost(model) / rate if rate > 0 else math.nan


@metric
def backlog(model: OrgModel) -> float:
    """Changes submitted but not yet landed at the top, at the end of the run."""
    return float(model.n_submitted - model.n_landed_all)


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
    """Share of reviewer time spent busy (any job) after warm-up, in [0, 1]."""
    days = measured_days(model)
    if days <= 0 or model.n_reviewers == 0:
        return math.nan
    # effort booked in advance (jobs and sync running past the end of the run)
    overhang = sum(
        max(r.busy_until - model.time, 0.0) + r.sync_debt
        if r.busy
        else max(r.free_from - model.time, 0.0)
        for t in model.teams
        for r in t.reviewers
    )
    return (model.busy_days - overhang) / (model.n_reviewers * days)


@metric
def conflicts(model: OrgModel) -> float:
    """Merge conflicts found after warm-up (count), early and late."""
    return float(model.n_conflicts)


@metric
def conflicts_caught_early(model: OrgModel) -> float:
    """Conflicts found by the daily CI test-merge rather than at a real merge (count)."""
    return float(model.n_conflicts_early)


@metric
def conflicts_late(model: OrgModel) -> float:
    """Conflicts found only when a tree was merged upward (count)."""
    return float(model.n_conflicts - model.n_conflicts_early)


@metric
def conflict_days_mean(model: OrgModel) -> float:
    """Mean person-days spent resolving one conflict (resolutions started after warm-up)."""
    if model.n_conflict_jobs == 0:
        return math.nan
    return model.cost[JobKind.CONFLICT] / model.n_conflict_jobs


@metric
def pull_size_mean(model: OrgModel) -> float:
    """Mean number of changes in an integration unit (a pull of a child tree)."""
    return _mean(model.pull_sizes)


def link_pain(model: OrgModel) -> np.ndarray:
    """Per-link pain: negotiations held plus conflicts found on it after warm-up."""
    return (model.edge_negotiations + model.edge_conflicts).astype(float)


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
