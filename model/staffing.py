"""Staffing: how many reviewers each team has, who knows which area, and how that changes.

Three policies (parameter ``staffing``):

``fixed_core``
    The question as the seed asks it: the single core keeps ``core_reviewers`` people
    whatever N is; every split team with contributors has ``reviewers_per_team``.
``equal_headcount``
    The fair comparison: every topology over N areas has the same
    H = round(``reviewers_per_area`` × N) reviewers. The single core has all H in one team;
    a flat split spreads H equally over its N teams; a hierarchy staffs its maintainer teams
    first and spreads the rest equally over its leaves (earlier leaves get the remainder).

``earned``
    Reviewers earn trust. Every team starts from the ``equal_headcount`` seed (so the
    organisations start at equal headcount) and from then on its headcount is an outcome:
    a contributor is promoted to reviewer of its team once a share
    ``promotion_endorsements`` of the team's current reviewers (at least one) have each
    approved ``promotion_reviews`` of its changes that landed in the team's tree. In one
    core the endorsers are the whole core; in a split, the team. Who has seen a
    contributor's work is decided by review routing, not by a formula: in one core over
    many areas a contributor's changes go to its area's few experts, a small share of a
    large core. Reviewers of teams with code leave at ``reviewer_attrition`` a year
    (exponential times), except that a team never drops below its seed or
    ``approvals_needed`` reviewers, whichever is fewer (the last maintainers of a tree stay
    until someone is promoted; a leaving reviewer finishes the job in hand).

Under every policy a maintainer team (drivers-core, a sub-maintainer, the top) has
ceil(children / ``maintainer_span``) reviewers, at least one: it grows with the number of
teams whose trees it merges, as maintainer teams do, instead of staying at a fixed size
while its load grows with N. Under ``earned`` it keeps that size (it has no contributors of
its own to promote).

Expertise (one team over several areas, i.e. the single core). Reviewer i of a team over n
areas knows the ``expert_areas`` = k consecutive areas starting at i·k (mod n): areas that
are siblings in the code's module tree, dealt so every area has ⌊m·k/n⌋ or ⌈m·k/n⌉ of the
team's m experts. When m·k < n the areas left over have no expert; the metric
``bare_areas`` says how many. A promoted core reviewer knows the k areas starting at the
one it contributed to.

Contributors join every area's team at ``contributor_growth`` a year (compounded: the
number of contributors grows by that share each year; each newcomer's area is drawn
uniformly), under every policy.

:class:`Staffing` owns the state these rules need (credit towards promotion, the reviewers
present, headcount history, paid reviewer-days); :class:`model.OrgModel` holds one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from model.agents import Contributor

if TYPE_CHECKING:
    from model.agents import Reviewer, Team
    from model.model import OrgModel
    from model.work import Change

STAFFING_POLICIES = ("equal_headcount", "fixed_core", "earned")


def maintainer_team_size(n_children: int, maintainer_span: int) -> int:
    """Reviewers of a maintainer team that merges ``n_children`` child trees (at least 1)."""
    return max(1, math.ceil(n_children / maintainer_span))


def total_headcount(n_areas: int, reviewers_per_area: float) -> int:
    """H, the reviewers every organisation over ``n_areas`` has under ``equal_headcount``."""
    return max(1, round(reviewers_per_area * n_areas))


def team_sizes(
    graph: nx.Graph,
    *,
    staffing: str,
    core_reviewers: int,
    reviewers_per_team: int,
    reviewers_per_area: float,
    maintainer_span: int,
) -> list[int]:
    """Reviewers of each team (indexed by node id) under the ``staffing`` policy (at the
    start of a run for ``earned``, which starts from the ``equal_headcount`` sizes).

    Raises ``ValueError`` when ``equal_headcount`` leaves fewer reviewers than the teams
    that need at least one (a hierarchy of N leaves needs N plus its maintainers).
    """
    if staffing not in STAFFING_POLICIES:
        raise ValueError(
            f"staffing={staffing!r} is unknown: must be one of {', '.join(STAFFING_POLICIES)}"
        )
    nodes = sorted(graph.nodes)
    n_areas = sum(graph.nodes[v]["areas"] for v in nodes if graph.nodes[v]["has_contributors"])
    children = dict.fromkeys(nodes, 0)
    for v in nodes:
        parent = graph.nodes[v]["parent"]
        if parent is not None:
            children[parent] += 1
    sizes = dict.fromkeys(nodes, 0)
    workers = [v for v in nodes if graph.nodes[v]["has_contributors"]]
    for v in nodes:
        if not graph.nodes[v]["has_contributors"]:
            sizes[v] = maintainer_team_size(children[v], maintainer_span)
    if staffing == "fixed_core":
        each = core_reviewers if graph.nodes[nodes[0]]["kind"] == "core" else reviewers_per_team
        for v in workers:
            sizes[v] = each
        return [sizes[v] for v in nodes]
    total = total_headcount(n_areas, reviewers_per_area)
    rest = total - sum(sizes.values())
    if rest < len(workers):
        raise ValueError(
            f"staffing={staffing!r} gives H={total} reviewers "
            f"(reviewers_per_area={reviewers_per_area:g} × {n_areas} areas), too few for "
            f"{len(workers)} teams plus {sum(sizes.values())} maintainers: raise "
            "reviewers_per_area or maintainer_span"
        )
    base, extra = divmod(rest, len(workers))
    for i, v in enumerate(workers):
        sizes[v] = base + (1 if i < extra else 0)
    return [sizes[v] for v in nodes]


def dealt_areas(index: int, k: int, n_areas: int) -> frozenset[int]:
    """The areas reviewer ``index`` of a team over ``n_areas`` knows: ``k`` consecutive
    areas starting at ``index·k`` (mod ``n_areas``), so every area gets ⌊m·k/n⌋ or ⌈m·k/n⌉
    of m reviewers."""
    return areas_from(index * k, k, n_areas)


def areas_from(first: int, k: int, n_areas: int) -> frozenset[int]:
    """``k`` consecutive areas (mod ``n_areas``) starting at ``first``."""
    k = min(k, n_areas)
    return frozenset((first + j) % n_areas for j in range(k))


class Staffing:
    """The people of an organisation as they change: promotions, departures, newcomers.

    Owns the credit each contributor has earned with each reviewer, the reviewers present,
    the headcount history of every team and the reviewer-days paid after warm-up.
    ``OrgModel`` calls :meth:`joined` for every reviewer it adds, :meth:`approved` when a
    patch set is approved, :meth:`landed` when a change merges into its home tree and
    :meth:`start` once the organisation is built.
    """

    def __init__(self, model: OrgModel) -> None:
        self.model = model
        self.earned = model.staffing == "earned"
        self.promotion_reviews = model.promotion_reviews
        self.promotion_endorsements = model.promotion_endorsements
        self.attrition_per_day = model.reviewer_attrition / 365.0
        self.growth_per_day = math.log1p(model.contributor_growth) / 365.0
        # credit[author uid][reviewer uid]: the author's landed changes that reviewer approved
        self.credit: dict[int, dict[int, int]] = {}
        self.approvers: dict[int, tuple[int, ...]] = {}  # change id -> its approvers
        self.contributor: dict[int, Contributor] = {}  # uid -> contributor
        self.promoted: set[int] = set()  # contributors promoted to reviewer (uids)
        self.floor: dict[int, int] = {}  # team node -> fewest reviewers attrition leaves
        self.history: list[tuple[float, int, int]] = []  # (day, team node, reviewers)
        self.reviewer: dict[int, Reviewer] = {}  # uid -> reviewer (present or gone)
        self.n_promotions = 0  # after warm-up
        self.n_departures = 0  # after warm-up
        self.paid_days = np.zeros(0)  # per team: reviewer-days after warm-up, up to _since
        self._since = np.zeros(0)
        self._area_teams: list[tuple[Team, int]] = []

    # ---------------------------------------------------------------- set-up
    def start(self) -> None:
        """The organisation is built: note each team's seed, schedule departures and the
        first newcomer."""
        model = self.model
        self.paid_days = np.zeros(len(model.teams))
        self._since = np.zeros(len(model.teams))
        for team in model.teams:
            self.floor[team.node] = min(len(team.reviewers), model.approvals_needed)
            self.history.append((model.now, team.node, len(team.reviewers)))
            for reviewer in team.reviewers:
                self.reviewer[reviewer.unique_id] = reviewer
        seen = set()
        for contributor in model.contributors:
            self.contributor[contributor.unique_id] = contributor
            key = (contributor.team.node, contributor.area)
            if key not in seen:
                seen.add(key)
                self._area_teams.append((contributor.team, contributor.area))
        if self.earned and self.attrition_per_day > 0:
            for team in model.coding_teams:
                for reviewer in team.reviewers:
                    self._schedule_departure(reviewer)
        self._schedule_newcomer()

    # ---------------------------------------------------------------- promotion
    def approved(self, change: Change, approvers: list[int]) -> None:
        """A patch set of ``change`` was approved by ``approvers`` (reviewer uids)."""
        if self.earned and change.author >= 0:
            self.approvers[change.id] = tuple(approvers)

    def landed(self, change: Change) -> None:
        """``change`` merged into its home tree: its approvers' credit goes to its author,
        who is promoted when enough of its team's reviewers endorse it."""
        approvers = self.approvers.pop(change.id, ())
        author = change.author
        if not approvers or author in self.promoted or self.promotion_reviews == 0:
            return
        credits = self.credit.setdefault(author, {})
        for uid in approvers:
            credits[uid] = credits.get(uid, 0) + 1
        contributor = self.contributor.get(author)
        if contributor is None:
            return
        team = contributor.team
        needed = max(1, math.ceil(self.promotion_endorsements * len(team.reviewers) - 1e-9))
        endorsers = 0
        for uid, n in credits.items():
            if n >= self.promotion_reviews:
                reviewer = self.reviewer.get(uid)
                endorsers += reviewer is not None and reviewer.active and reviewer.team is team
        if endorsers >= needed:
            self._promote(contributor)

    def _promote(self, contributor: Contributor) -> None:
        model = self.model
        team = contributor.team
        self.promoted.add(contributor.unique_id)
        self.credit.pop(contributor.unique_id, None)
        # a team with an area of its own knows all it reviews; the core: the dealt rule
        experts = None
        if team.area < 0:
            experts = areas_from(contributor.area, model.expert_areas, model.n_areas)
        reviewer = model.add_reviewer(team, experts)
        self.reviewer[reviewer.unique_id] = reviewer
        self._resized(team, +1)
        team.approval_slots = min(model.approvals_needed, len(team.reviewers))
        if model.measuring:
            self.n_promotions += 1
        if self.attrition_per_day > 0:
            self._schedule_departure(reviewer)
        model.report_for_duty(reviewer)
        model.review.wake(team)

    # ---------------------------------------------------------------- departures
    def _schedule_departure(self, reviewer: Reviewer) -> None:
        model = self.model
        delay = model.random.expovariate(self.attrition_per_day)
        model.events.push(model.now + delay, self.leave, reviewer)

    def leave(self, reviewer: Reviewer) -> None:
        """``reviewer``'s time to leave has come: it goes, unless its team would drop
        below its floor (then it stays and a new time is drawn)."""
        team = reviewer.team
        if not reviewer.active:
            return
        if len(team.reviewers) <= self.floor[team.node]:
            self._schedule_departure(reviewer)
            return
        reviewer.active = False
        team.reviewers.remove(reviewer)
        if reviewer.is_idle:  # drop it from the idle queues (their entries go stale)
            reviewer.is_idle = False
            reviewer.idle_token += 1
        model = self.model
        team.approval_slots = min(model.approvals_needed, len(team.reviewers))
        if model.measuring:
            self.n_departures += 1
        self._resized(team, -1)
        reviewer.remove()

    # ---------------------------------------------------------------- newcomers
    def _schedule_newcomer(self) -> None:
        model = self.model
        rate = self.growth_per_day * len(model.contributors)
        if rate > 0 and self._area_teams:
            model.events.push(model.now + model.random.expovariate(rate), self.newcomer, None)

    def newcomer(self, _: object = None) -> None:
        """A contributor joins an area drawn uniformly; it starts submitting changes."""
        model = self.model
        team, area = self._area_teams[model.random.randrange(len(self._area_teams))]
        contributor = Contributor(model, team, area)
        model.contributors.append(contributor)
        self.contributor[contributor.unique_id] = contributor
        team.n_contributors += 1
        if model.change_rate > 0:
            delay = model.random.expovariate(model.change_rate)
            model.events.push(model.now + delay, model.review.submit_change, contributor)
        self._schedule_newcomer()

    # ---------------------------------------------------------------- headcount
    def _resized(self, team: Team, delta: int) -> None:
        """The team's headcount has just changed by ``delta``: book its paid reviewer-days
        at the size before."""
        model = self.model
        node = team.node
        self.paid_days[node] = self.team_paid_days(team, len(team.reviewers) - delta)
        self._since[node] = model.now
        model.n_reviewers += delta
        self.history.append((model.now, node, len(team.reviewers)))

    def team_paid_days(self, team: Team, size: int | None = None) -> float:
        """Reviewer-days ``team`` paid after warm-up, up to now (days × reviewers present;
        ``size``: the headcount since the last change, if not the present one)."""
        model = self.model
        node = team.node
        start = max(self._since[node], model.warmup_days)
        size = len(team.reviewers) if size is None else size
        return float(self.paid_days[node]) + size * max(model.now - start, 0.0)

    def paid_reviewer_days(self) -> float:
        """Reviewer-days paid after warm-up in all teams, up to now."""
        return sum(self.team_paid_days(team) for team in self.model.teams)
