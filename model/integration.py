"""Integration: trees merged upward on their own cadence, merge conflicts, CI test-merges.

Cadence (kernel-like). Every team with a parent offers its tree upward on its own phase
(drawn at set-up, no organisation-wide epochs): every ``merge_interval_days``. When
``release_cycle_days`` > 0 the top takes pulls only in a merge window: each of its child
trees is offered once a cycle, at a random time in the first half of the
``merge_window_days``-long window that opens every ``release_cycle_days``.

Conflicts. Two changes conflict when they first meet in one tree, with the code-coupling
probability of their areas (:mod:`model.coupling`) plus ``conflict_prob`` × badness when
their teams share an API link; each pair is an independent Bernoulli trial (drawn here as
binomial counts). At an upward merge the pairs are (change in the unit) × (change that
reached the receiving tree since the unit's team last merged), including changes that
arrive while the pull is being handled. Finding a conflict bisects the unit
(⌈log₂ size⌉ test merges of ``bisect_step_days``) and fixing it costs ``conflict_fix_days``,
``cross_team_factor`` slower for an integrator who is not the author's team: the bigger the
unit, the costlier each conflict (Dague).

CI (``ci_automation``: linux-next, 0-day). Every tree is test-merged with all others daily,
so a pair of changes that will conflict when their trees meet has already been seen
together in linux-next. With ``ci_detection_prob`` each conflict a merge would meet was
found that way, while the unit was one day's changes: the team of one of the two changes
(either, at random) fixes it at its own cost (no bisection of a big unit, no foreign
fixer), and it does not hold the merge; the rest are found at the merge as without CI.
Early and late conflicts thus come from the same pairs as without CI: nothing CI finds is
lost and nothing is counted twice. Simplification: an early fix is booked when the trees
meet, not on the day linux-next first met the pair (at most one merge interval earlier).

State. :class:`Integration` (held by :class:`model.OrgModel` as ``model.integration``)
owns each tree's changes not yet pulled upward, what reached each receiving tree from
which team (the arrivals conflicts are drawn against), the conflict probabilities between
teams and the integration counters. It reads the model's clock (``now``), random streams,
event queue, event log and teams; it starts pulls and conflict fixes as reviewer jobs
(``model.start_job``), lands changes at the top (``model.land_top``), wakes idle reviewers
(``model.review``), makes coupled open changes stale (``model.coupling``), passes landed
changes' credit on (``model.staff``) and counts conflicts on links (``model.links``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from model.eventlog import CONFLICT, MERGED
from model.work import ConflictJob, JobKind, Pull

if TYPE_CHECKING:
    from model.agents import Reviewer, Team
    from model.model import OrgModel
    from model.work import Change


def bisect_steps(unit_size: int) -> int:
    """Test merges a bisection needs to find the conflicting change among ``unit_size``.

    ceil(log2(unit_size)), at least 1: the bigger the integration unit, the longer it takes
    to find which change broke the merge (Dague: "the integration units get much bigger").
    """
    return max(1, math.ceil(math.log2(max(unit_size, 1))))


def window_days_between(start: float, end: float, cycle: float, window: float) -> float:
    """Days of merge windows (each ``window`` long, opening every ``cycle``) in [start, end)."""
    if end <= start:
        return 0.0
    if cycle <= 0:
        return end - start
    total = 0.0
    k = math.floor(start / cycle)
    while k * cycle < end:
        lo, hi = max(k * cycle, start), min(k * cycle + window, end)
        total += max(hi - lo, 0.0)
        k += 1
    return total


class Integration:
    """Upward merges on each tree's cadence, conflicts at merges and CI test-merges (see
    the module docstring).

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock, random streams, event queue, event
        log, ``teams``, ``start_job``, ``land_top``, ``review``, ``coupling``, ``staff`` and
        ``links`` it uses.
    top : node of the top team (the mainline).
    code_conflict : (nodes, nodes) probability that changes of two teams conflict through
        the code (:meth:`model.coupling.Coupling.between_teams`).
    link_conflict : (nodes, nodes) probability that they conflict through an API link
        (:attr:`model.links.Links.conflict_probs`).
    merge_interval_days : a tree is offered to its parent this often (days).
    release_cycle_days : the top's release cycle (days); 0: it takes pulls at any time.
    merge_window_days : the top's merge window at the start of each cycle (days).
    pull_days : mean time to handle a pull (days, exponential).
    pull_days_per_change : extra time per change in the pull (days).
    bisect_step_days : one test merge of a bisection (days).
    conflict_fix_days : mean time to fix a conflict (days, exponential).
    cross_team_factor : how much slower a fixer of another team is.
    ci_automation : daily test-merges of every tree (linux-next) find conflicts early.
    ci_detection_prob : share of conflicts they find.
    warmup_days : conflicts and pulls from then on are counted (days).
    """

    def __init__(
        self,
        model: OrgModel,
        *,
        top: int,
        code_conflict: np.ndarray,
        link_conflict: np.ndarray,
        merge_interval_days: float,
        release_cycle_days: float,
        merge_window_days: float,
        pull_days: float,
        pull_days_per_change: float,
        bisect_step_days: float,
        conflict_fix_days: float,
        cross_team_factor: float,
        ci_automation: bool,
        ci_detection_prob: float,
        warmup_days: float,
    ) -> None:
        self.model = model
        self.top = top
        self.code_conflict = code_conflict
        self.link_conflict = link_conflict
        self.merge_interval_days = merge_interval_days
        self.release_cycle_days = release_cycle_days
        self.merge_window_days = merge_window_days
        self.pull_days = pull_days
        self.pull_days_per_change = pull_days_per_change
        self.bisect_step_days = bisect_step_days
        self.conflict_fix_days = conflict_fix_days
        self.cross_team_factor = cross_team_factor
        self.ci_automation = ci_automation
        self.ci_detection_prob = ci_detection_prob
        self.warmup_days = warmup_days
        teams = model.teams
        n_nodes = len(teams)
        # each team's tree: changes merged into it and not yet offered upward, and their
        # count by origin team
        self.tree: list[list[Change]] = [[] for _ in teams]
        self.tree_counts: list[dict[int, int]] = [{} for _ in teams]
        self.children: dict[int, list[int]] = {}  # parent node -> child nodes
        for team in teams:
            if team.parent is not None:
                self.children.setdefault(team.parent, []).append(team.node)
        # by receiving tree: changes that reached it, by origin team
        self.arrivals = {p: np.zeros(n_nodes, dtype=np.int64) for p in self.children}
        # by child: the arrivals of its parent's tree when its last unit landed there
        self.seen_at_parent = {
            c: np.zeros(n_nodes, dtype=np.int64) for kids in self.children.values() for c in kids
        }
        # by child: changes landed in its parent through its units, by origin: a child's
        # units never conflict with each other (they were one tree below)
        self.landed_via = {
            team.node: np.zeros(n_nodes, dtype=np.int64)
            for team in teams
            if team.parent is not None
        }
        # counters, after warm-up
        self.n_conflicts = 0  # conflicts found, early and late
        self.n_conflicts_early = 0  # found by CI test-merges
        self.n_top_conflicts = 0  # found at the top's merges
        self.n_conflict_jobs = 0  # conflicts whose resolution started
        self.pull_sizes: list[int] = []  # changes in each pull started

    # ------------------------------------------------------------------ cadence
    def start(self) -> None:
        """Give every child tree its own merge phase (see the module docstring)."""
        model = self.model
        rand = model.random
        windowed = self.release_cycle_days > 0
        for team in model.teams:
            if team.parent is None:
                continue
            if windowed and team.parent == self.top:
                phase = rand.uniform(0.0, self.merge_window_days / 2)
                model.events.push(phase, self.offer_in_window, team)
            else:
                phase = rand.uniform(0.0, self.merge_interval_days)
                model.events.push(phase, self.offer_tree, team)

    def offer_tree(self, team: Team) -> None:
        """``team`` sends its tree to its parent, then again after ``merge_interval_days``."""
        self.pull_up(team)
        model = self.model
        model.events.push(model.now + self.merge_interval_days, self.offer_tree, team)

    def offer_in_window(self, team: Team) -> None:
        """``team`` sends its tree to the top in this merge window, then in the next one."""
        self.pull_up(team)
        model = self.model
        model.events.push(model.now + self.release_cycle_days, self.offer_in_window, team)

    def pull_up(self, team: Team) -> None:
        """Offer ``team``'s tree to its parent as an urgent job (an integration unit)."""
        node = team.node
        if not self.tree[node]:
            return
        pull = Pull(node, self.tree[node], self.tree_counts[node])
        self.tree[node], self.tree_counts[node] = [], {}
        parent = self.model.teams[team.parent]
        parent.urgent.append(pull)
        self.model.review.wake(parent)

    # ------------------------------------------------------------------ merges
    def merge_home(self, change: Change) -> None:
        """Merge a reviewed change into its home tree (the mainline for the top team)."""
        model = self.model
        node = change.home
        change.in_home_tree = True
        change.home_at = model.now
        if model.staff.earned:  # its approvers' trust goes to its author (model.staffing)
            model.staff.landed(change)
        coupling = model.coupling
        if coupling.is_coupled:
            coupling.close_change(change)
            coupling.invalidate_coupled(change)
        origin = change.origin
        if node == self.top:
            model.land_top(change)
            if self.children:
                self.arrivals[node][origin] += 1
            return
        if model.event_log is not None:
            model.event_log.append((model.now, MERGED, change.id, node, -1, "home"))
        self.tree[node].append(change)
        counts = self.tree_counts[node]
        counts[origin] = counts.get(origin, 0) + 1
        if node in self.arrivals:
            self.arrivals[node][origin] += 1

    def start_pull(self, reviewer: Reviewer, pull: Pull) -> None:
        """Merge a child's tree; conflicts with what reached this tree since the child's last
        merge become urgent jobs. The pull costs ``pull_days`` plus ``pull_days_per_change``
        per change in it."""
        model = self.model
        team = reviewer.team
        arrivals = self.arrivals[team.node]
        recent = arrivals - self.seen_at_parent[pull.child]
        pull.checked = arrivals.copy()
        pull.checked_own = self.landed_via[pull.child].copy()
        self.add_conflicts(team, pull, self.merge_conflicts(team, pull, recent))
        if model.now >= self.warmup_days:
            self.pull_sizes.append(len(pull.changes))
        days = model.random.expovariate(1.0 / self.pull_days) if self.pull_days else 0.0
        days += self.pull_days_per_change * len(pull.changes)
        model.start_job(reviewer, JobKind.PULL, pull, days)
        model.review.wake(team)

    def finish_pull(self, team: Team, pull: Pull) -> None:
        """``team``'s reviewer has merged ``pull``; it lands once its conflicts are fixed."""
        pull.job_done = True
        self.maybe_land_pull(team, pull)

    def merge_conflicts(self, team: Team, pull: Pull, others: np.ndarray) -> list[ConflictJob]:
        """Conflicts between the unit's changes and ``others`` (counts by origin team).

        Returns the conflicts found at this merge; with CI, those found early are queued at
        their fixers' teams here (see the module docstring).
        """
        r_idx = np.flatnonzero(others)
        if r_idx.size == 0 or not pull.counts:
            return []
        u_idx = np.fromiter(pull.counts.keys(), dtype=np.int64, count=len(pull.counts))
        u_cnt = np.fromiter(pull.counts.values(), dtype=np.int64, count=len(pull.counts))
        pairs = np.outer(u_cnt, others[r_idx])
        size = len(pull.changes)
        late: list[ConflictJob] = []
        early: list[tuple[int, ConflictJob]] = []
        model = self.model
        rng = model.rng
        block = (u_idx[:, None], r_idx)  # the (unit, others) block, like np.ix_ but cheaper
        for prob, linked in ((self.code_conflict, False), (self.link_conflict, True)):
            p_block = prob[block]
            if not p_block.any():
                # e.g. no link between the two sides: binomial draws with p = 0 use no
                # random numbers, so skipping them leaves the stream unchanged
                continue
            found = rng.binomial(pairs, p_block)
            for i, j in zip(*np.nonzero(found), strict=True):
                a, b = int(u_idx[i]), int(r_idx[j])
                edge = model.links.edge_of(a, b) if linked else -1
                k = int(found[i, j])
                k_early = int(rng.binomial(k, self.ci_detection_prob)) if self.ci_automation else 0
                late += [ConflictJob(pull, size, True, edge) for _ in range(k - k_early)]
                for _ in range(k_early):
                    fixer = a if rng.random() < 0.5 else b
                    early.append((fixer, ConflictJob(None, 1, False, edge)))
        for fixer, job in early:
            self.add_conflicts(model.teams[fixer], None, [job])
        return late

    def add_conflicts(self, team: Team, pull: Pull | None, jobs: list[ConflictJob]) -> None:
        """Queue conflict jobs at ``team`` (found early when ``pull`` is None)."""
        if not jobs:
            return
        model = self.model
        if pull is not None:
            pull.pending_conflicts += len(jobs)
        if model.now >= self.warmup_days:
            self.n_conflicts += len(jobs)
            if pull is None:
                self.n_conflicts_early += len(jobs)
            elif team.node == self.top:
                self.n_top_conflicts += len(jobs)
            for job in jobs:
                if job.edge >= 0:
                    model.links.count_conflict(job.edge)
        if model.event_log is not None:
            for _ in jobs:
                model.event_log.append((model.now, CONFLICT, -1, team.node, -1, ""))
        team.urgent.extend(jobs)
        model.review.wake(team)

    def start_conflict(self, reviewer: Reviewer, job: ConflictJob) -> None:
        """Resolve a conflict: bisect the unit to find the change (``bisect_step_days`` per
        test merge, ceil(log2 unit size) of them), then fix it (``conflict_fix_days``,
        ``cross_team_factor`` slower when the fixer is not the change's own team)."""
        model = self.model
        days = self.bisect_step_days * bisect_steps(job.unit_size)
        if self.conflict_fix_days:
            days += model.random.expovariate(1.0 / self.conflict_fix_days) * (
                self.cross_team_factor if job.foreign else 1.0
            )
        if model.now >= self.warmup_days:
            self.n_conflict_jobs += 1
        model.start_job(reviewer, JobKind.CONFLICT, job, days)

    def finish_conflict(self, team: Team, job: ConflictJob) -> None:
        """``team``'s reviewer has fixed a conflict; a unit it held may now land."""
        if job.pull is not None:
            job.pull.pending_conflicts -= 1
            self.maybe_land_pull(team, job.pull)

    def maybe_land_pull(self, team: Team, pull: Pull) -> None:
        """Once merged and its conflicts resolved, the unit lands in ``team``'s tree.

        Changes that reached this tree while the pull was being handled are checked against
        the unit first; conflicts with them hold the unit until they are resolved too.
        """
        if not pull.job_done or pull.pending_conflicts:
            return
        model = self.model
        node = team.node
        arrivals = self.arrivals[node]
        own = self.landed_via[pull.child]
        # what reached this tree meanwhile, less the same child's other units (a child's
        # units were one tree below: they cannot conflict with each other)
        arrived_meanwhile = (arrivals - pull.checked) - (own - pull.checked_own)
        if arrived_meanwhile.any():
            pull.checked = arrivals.copy()
            pull.checked_own = own.copy()
            jobs = self.merge_conflicts(team, pull, arrived_meanwhile)
            if jobs:
                self.add_conflicts(team, pull, jobs)
                return
        for origin, count in pull.counts.items():
            arrivals[origin] += count
            own[origin] += count
        self.seen_at_parent[pull.child] = arrivals.copy()
        if node == self.top:
            for change in pull.changes:
                model.land_top(change)
        else:
            if model.event_log is not None:
                for change in pull.changes:
                    model.event_log.append((model.now, MERGED, change.id, node, -1, "parent"))
            self.tree[node].extend(pull.changes)
            counts = self.tree_counts[node]
            for origin, count in pull.counts.items():
                counts[origin] = counts.get(origin, 0) + count
