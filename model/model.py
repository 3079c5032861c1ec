"""OrgModel: review and integration of N teams under a topology, event-driven, in days.

Mechanisms (each a method below, named for what it does):

a. ``submit_change``   – contributors submit changes as Poisson processes.
b. ``start_job`` / ``finish_review`` – FIFO review queues, ``approvals_needed`` distinct
   reviewers per patch set, rework with ``rework_prob``.
c. expertise           – single-core reviewers are fast only in their ``expert_areas``.
d. ``sync_team``       – Brooks: every reviewer loses time per teammate each day.
e. ``touch_links`` / ``change_api`` – link negotiation at the other end's queue.
f. ``pull_trees`` / ``start_pull`` / ``test_merge`` – upward merges, conflicts, CI.

Costs (person-days) are added up as jobs start; nothing is computed from a formula in N.
"""

from __future__ import annotations

import bisect
import gc
import heapq
import math
from typing import Any

import mesa
import networkx as nx
import numpy as np

from model.agents import Contributor, Reviewer, Team
from model.events import EventQueue
from model.integration import bisect_steps, draw_conflicts, linked_pair_counts
from model.params import PARAMETERS, defaults, validate_params
from model.topologies import build_topology
from model.work import Change, ConflictJob, JobKind, Pull, ReviewTask

_D = defaults()
INTEGRATION_KINDS = (JobKind.SYNC, JobKind.NEGOTIATION, JobKind.CONFLICT, JobKind.PULL)


class OrgModel(mesa.Model):
    """Contributors and reviewers in teams joined by API links; time in days.

    All parameters are keyword-only; their units, ranges and sources are in
    :data:`model.params.PARAMETERS` (``python -c "import model; print(model.describe())"``).
    ``OrgModel()`` builds the default organisation; ``run_for(days)`` advances it;
    ``metrics()`` returns what was measured after ``warmup_days``.

    Parameters
    ----------
    rng : seed or numpy Generator; all randomness comes from it.
    """

    def __init__(
        self,
        *,
        topology: str = _D["topology"],
        n_teams: int = _D["n_teams"],
        contributors_per_team: int = _D["contributors_per_team"],
        reviewers_per_team: int = _D["reviewers_per_team"],
        core_reviewers: int = _D["core_reviewers"],
        change_rate: float = _D["change_rate"],
        review_rate: float = _D["review_rate"],
        review_time_dist: str = _D["review_time_dist"],
        review_time_sigma: float = _D["review_time_sigma"],
        approvals_needed: int = _D["approvals_needed"],
        rework_prob: float = _D["rework_prob"],
        rework_days: float = _D["rework_days"],
        link_change_prob: float = _D["link_change_prob"],
        api_change_rate: float = _D["api_change_rate"],
        cross_team_factor: float = _D["cross_team_factor"],
        expert_areas: int = _D["expert_areas"],
        nonexpert_slowdown: float = _D["nonexpert_slowdown"],
        coordination_overhead: float = _D["coordination_overhead"],
        merge_interval_days: float = _D["merge_interval_days"],
        conflict_prob: float = _D["conflict_prob"],
        unlinked_conflict_prob: float = _D["unlinked_conflict_prob"],
        api_badness_sigma: float = _D["api_badness_sigma"],
        fixed_link_share: float = _D["fixed_link_share"],
        bisect_step_days: float = _D["bisect_step_days"],
        conflict_fix_days: float = _D["conflict_fix_days"],
        pull_days: float = _D["pull_days"],
        pull_days_per_change: float = _D["pull_days_per_change"],
        ci_automation: bool = _D["ci_automation"],
        ci_detection_prob: float = _D["ci_detection_prob"],
        warmup_days: float = _D["warmup_days"],
        branching: int = _D["branching"],
        locality: float = _D["locality"],
        rng: Any = None,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in PARAMETERS}
        self.params: dict[str, Any] = validate_params(given)
        super().__init__(rng=rng)
        self._default_schedule.stop()  # purely event-driven: no implicit step() each day
        # the clock the mechanisms read: Mesa's ``time`` is an observable whose every write
        # notifies; it is brought up to date at each daily tick and at the end of a run
        self.now = 0.0
        for name, value in self.params.items():
            setattr(self, name, value)

        self.events = EventQueue()
        self.graph: nx.Graph = build_topology(
            self.topology,
            self.n_teams,
            branching=self.branching,
            locality=self.locality,
            rng=self.rng,
        )
        self.root: int = self.graph.graph["root"]
        self._build_links()
        self._build_teams()
        self._init_accounts()
        self._schedule_start()
        self.datacollector = mesa.DataCollector(
            model_reporters={name: name for name in SERIES_COLUMNS}
        )
        self._collect_day()

    # ------------------------------------------------------------------ set-up
    def _build_links(self) -> None:
        """Index links, give each an API badness, and store per-team neighbour arrays."""
        n_nodes = self.graph.number_of_nodes()
        edges = sorted((min(a, b), max(a, b)) for a, b in self.graph.edges)
        self.edges = np.array(edges, dtype=np.int64).reshape(-1, 2)
        self.edge_index = {pair: i for i, pair in enumerate(edges)}
        sigma = self.api_badness_sigma
        # lognormal with mean 1: a typical link has badness ~1, a few are much worse
        self.edge_badness = self.rng.lognormal(-sigma * sigma / 2, sigma, len(edges))
        self.fix_worst_links()
        self.edge_negotiations = np.zeros(len(edges), dtype=np.int64)
        self.edge_conflicts = np.zeros(len(edges), dtype=np.int64)
        self.neighbours: list[np.ndarray] = []
        self.incident: list[np.ndarray] = []
        self._touch_cumweight: list[list[float]] = []
        for node in range(n_nodes):
            nb = sorted(self.graph.neighbors(node))
            ids = [self.edge_index[(min(node, b), max(node, b))] for b in nb]
            self.neighbours.append(np.array(nb, dtype=np.int64))
            self.incident.append(np.array(ids, dtype=np.int64))
            self._touch_cumweight.append(np.cumsum(self.edge_badness[ids]).tolist())

    def fix_worst_links(self) -> None:
        """H5: the teams at the ends of the most painful APIs fix them.

        The ``fixed_link_share`` of links with the highest badness get the median link's
        badness (seed: "The greater the link pain ... the greater the pressure on the teams
        either end to fix it").
        """
        n_fixed = round(self.fixed_link_share * self.edge_badness.size)
        if n_fixed == 0:
            return
        worst = np.argsort(self.edge_badness, kind="stable")[::-1][:n_fixed]
        self.edge_badness[worst] = np.median(self.edge_badness)

    def _build_teams(self) -> None:
        """Create one Team agent per node, its reviewers and contributors."""
        n_nodes = self.graph.number_of_nodes()
        self.teams: list[Team] = []
        self.contributors: list[Contributor] = []
        for node in range(n_nodes):
            data = self.graph.nodes[node]
            self.teams.append(Team(self, node, data["kind"], data["parent"]))
        single = self.topology == "single_core"
        for team in self.teams:
            data = self.graph.nodes[team.node]
            if single:
                n_areas = data["areas"]
                k = min(self.expert_areas, n_areas)
                for _ in range(self.core_reviewers):
                    areas = self.rng.choice(n_areas, size=k, replace=False)
                    self._add_reviewer(team, frozenset(int(a) for a in areas))
            else:
                n_areas = 1
                for _ in range(self.reviewers_per_team):
                    self._add_reviewer(team, None)
            if data["has_contributors"]:
                for area in range(n_areas):
                    for _ in range(self.contributors_per_team):
                        self.contributors.append(
                            Contributor(self, team, area if single else team.node)
                        )
                team.n_contributors = n_areas * self.contributors_per_team
        self.n_reviewers = sum(len(t.reviewers) for t in self.teams)
        # which teams have children, and arrival counts by origin for conflict detection
        self.children: dict[int, list[int]] = {}
        for team in self.teams:
            if team.parent is not None:
                self.children.setdefault(team.parent, []).append(team.node)
        self.arrivals = {p: np.zeros(n_nodes, dtype=np.int64) for p in self.children}
        self.seen_at_parent = {
            c: np.zeros(n_nodes, dtype=np.int64) for kids in self.children.values() for c in kids
        }
        self.open_by_origin = np.zeros(n_nodes, dtype=np.int64)
        self.new_by_origin = np.zeros(n_nodes, dtype=np.int64)
        self.root_unsynced = np.zeros(n_nodes, dtype=np.int64)

    def _add_reviewer(self, team: Team, experts: frozenset[int] | None) -> None:
        reviewer = Reviewer(self, team, experts)
        team.reviewers.append(reviewer)
        team.idle.append(reviewer)

    def _init_accounts(self) -> None:
        """Counters from which :mod:`model.metrics` computes everything."""
        self.cost = dict.fromkeys(JobKind, 0.0)  # person-days, jobs started after warm-up
        self.busy_days = 0.0
        self.wip = 0  # changes submitted and not yet landed at the top
        self.wip_area = 0.0  # ∫ wip dt after warm-up (change-days), for Little's law
        self._wip_since = 0.0
        self.n_submitted = 0  # whole run, for the backlog
        self.n_landed_all = 0  # whole run
        self.n_landed = 0  # after warm-up
        self.landed_at: list[float] = []
        self.lead_times: list[float] = []
        self.review_waits: list[float] = []
        self.negotiation_waits: list[float] = []
        self.n_conflicts = 0
        self.n_conflicts_early = 0
        self.n_conflict_jobs = 0  # conflicts whose resolution started after warm-up
        self.pull_sizes: list[int] = []
        # daily series (whole run, for the app)
        self._day_landed = 0
        self._day_lead: list[float] = []
        self._day_cost = dict.fromkeys(JobKind, 0.0)
        self.day = 0
        self.backlog_now = 0
        self.throughput_day = 0.0
        self.lead_time_day = float("nan")
        for kind in JobKind:
            setattr(self, f"cost_{kind.name.lower()}_day", 0.0)

    def _schedule_start(self) -> None:
        """First arrivals, API changes, daily ticks and merge epochs."""
        rand = self.random
        if self.change_rate > 0:
            for contributor in self.contributors:
                self.events.push(
                    rand.expovariate(self.change_rate), self.submit_change, contributor
                )
        if self.api_change_rate > 0:
            for team in self.teams:
                if self.neighbours[team.node].size:
                    self.events.push(rand.expovariate(self.api_change_rate), self.change_api, team)
        self.events.push(1.0, self.daily_tick, None)
        if len(self.teams) > 1:
            self.events.push(self.merge_interval_days, self.pull_trees, None)

    # ------------------------------------------------------------------ time
    def _advance_time(self, until: float) -> None:
        """Run every event up to ``until`` (days); Mesa's ``run_for``/``step`` call this.

        Events scheduled through Mesa's own ``schedule_event`` still run, interleaved in
        time order with the model's events.
        """
        # Changes, tasks and jobs made during a run hold no reference cycles, so reference
        # counting frees them; the cyclic collector would only rescan the growing backlog
        # (up to a third of a large run's time). It is paused while events run.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run_events(until)
        finally:
            if collecting:
                gc.enable()
        self.time = self.now = until

    def _run_events(self, until: float) -> None:
        """Pop and run events in time order up to ``until`` (days); on equal times the
        model's own events run before Mesa's."""
        heap = self.events.heap
        pop = heapq.heappop
        mesa_list = self._event_list
        while heap and heap[0][0] <= until:
            if mesa_list._events and self._next_mesa_time() < heap[0][0]:
                self._run_mesa_event()
                continue
            time, _, callback, argument = pop(heap)
            self.now = time
            callback(argument)
        while self._next_mesa_time() <= until:
            self._run_mesa_event()

    def _run_mesa_event(self) -> None:
        event = self._event_list.pop_event()
        self.time = self.now = event.time
        event.execute()

    def _next_mesa_time(self) -> float:
        """Time of the next live event in Mesa's own event list (+inf if none)."""
        pending = self._event_list._events
        while pending and pending[0].CANCELED:
            heapq.heappop(pending)
        return pending[0].time if pending else math.inf

    @property
    def measuring(self) -> bool:
        """True once warm-up is over: only then are costs and outcomes counted."""
        return self.now >= self.warmup_days

    # ------------------------------------------------------------------ a. arrivals
    def submit_change(self, contributor: Contributor) -> None:
        """A contributor submits a change (Poisson process, ``change_rate`` per day).

        The change enters its team's review queue; with ``link_change_prob`` it also touches
        one of its team's API links (chosen in proportion to the link's badness).
        """
        now = self.now
        team = contributor.team
        change = Change(team.node, contributor.area, now)
        self._count_wip(+1)
        if self.link_change_prob > 0 and self.random.random() < self.link_change_prob:
            self.touch_links(change, team, all_links=False)
        self.enqueue_review(team, change)
        self.events.push(
            now + self.random.expovariate(self.change_rate), self.submit_change, contributor
        )

    def change_api(self, team: Team) -> None:
        """A team changes its own API (``api_change_rate`` per day per linked team).

        Seed: "If someone wants to change this API they have to negotiate between the two
        (or more) teams" – the change needs agreement from every linked team, so the work
        per API change follows the team's degree in the graph.
        """
        now = self.now
        change = Change(team.node, team.node, now, is_api=True)
        self._count_wip(+1)
        self.touch_links(change, team, all_links=True)
        self.enqueue_review(team, change)
        self.events.push(now + self.random.expovariate(self.api_change_rate), self.change_api, team)

    def _count_wip(self, delta: int) -> None:
        """Track changes in the system and their time integral after warm-up."""
        now = self.now
        start = max(self._wip_since, self.warmup_days)
        if now > start:
            self.wip_area += self.wip * (now - start)
        self._wip_since = now
        self.wip += delta
        if delta > 0:
            self.n_submitted += delta

    # ------------------------------------------------------------------ e. links
    def touch_links(self, change: Change, team: Team, *, all_links: bool) -> None:
        """Ask the team at the other end of one (or every) API link of ``team`` to agree.

        Each agreement is a negotiation task in that team's queue, served by its reviewers
        at ``cross_team_factor`` times the review time (cross-team work, Herbsleb & Mockus).
        """
        neighbours = self.neighbours[team.node]
        if neighbours.size == 0:
            return
        edges = self.incident[team.node]
        if all_links:
            picks = range(neighbours.size)
        else:
            cum = self._touch_cumweight[team.node]
            picks = (bisect.bisect_right(cum, self.random.random() * cum[-1]),)
        now = self.now
        for i in picks:
            change.pending_agreements += 1
            other = self.teams[int(neighbours[i])]
            task = ReviewTask(JobKind.NEGOTIATION, change, 1, now, int(edges[i]))
            other.queue.append(task)
            self._wake(other)

    # ------------------------------------------------------------------ b. review
    def enqueue_review(self, team: Team, change: Change) -> None:
        """Put a patch set at the back of ``team``'s FIFO queue; it needs
        ``approvals_needed`` distinct reviewers."""
        team.queue.append(ReviewTask(JobKind.REVIEW, change, self.approvals_needed, self.now))
        self._wake(team)

    def _wake(self, team: Team) -> None:
        """Let idle reviewers of ``team`` (longest idle first) pick up work."""
        idle = team.idle
        for _ in range(len(idle)):
            if not idle or not (team.queue or team.urgent):
                return
            reviewer = idle.popleft()
            if not self._pick_work(reviewer):
                idle.append(reviewer)  # e.g. it already reviewed every queued patch set

    def _pick_work(self, reviewer: Reviewer) -> bool:
        """Start the reviewer's next job: integration jobs first, then the FIFO queue."""
        team = reviewer.team
        if team.urgent:
            job = team.urgent.popleft()
            if isinstance(job, Pull):
                self.start_pull(reviewer, job)
            else:
                self.start_conflict(reviewer, job)
            return True
        queue = team.queue
        uid = reviewer.unique_id
        for i, task in enumerate(queue):
            if uid in task.takers:
                continue
            task.takers.append(uid)
            if len(task.takers) == task.slots:
                del queue[i]
            self.start_task(reviewer, task)
            return True
        return False

    def review_days(self, mean: float) -> float:
        """One review's duration (days): exponential or lognormal with the given mean."""
        if self.review_time_dist == "exponential":
            return self.random.expovariate(1.0 / mean)
        sigma = self.review_time_sigma
        return self.random.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)

    def start_task(self, reviewer: Reviewer, task: ReviewTask) -> None:
        """Start reviewing (or negotiating) ``task``; record the wait for its first review.

        Expertise (c): a single-core reviewer outside its ``expert_areas`` is
        ``nonexpert_slowdown`` times slower; a negotiation is ``cross_team_factor`` slower.
        """
        if len(task.takers) == 1 and self.now >= self.warmup_days:
            waits = self.review_waits if task.kind == JobKind.REVIEW else self.negotiation_waits
            waits.append(max(self.now, reviewer.free_from) - task.enqueued_at)
        mean = 1.0 / self.review_rate
        if task.kind == JobKind.NEGOTIATION:
            mean *= self.cross_team_factor
        elif reviewer.experts is not None and task.change.area not in reviewer.experts:
            mean *= self.nonexpert_slowdown
        self.start_job(reviewer, task.kind, task, self.review_days(mean))

    def book(self, kind: JobKind, days: float) -> None:
        """Add ``days`` person-days of effort to the ``kind`` account."""
        self._day_cost[kind] += days
        if self.now >= self.warmup_days:
            self.cost[kind] += days
            self.busy_days += days

    def start_job(self, reviewer: Reviewer, kind: JobKind, job: object, days: float) -> None:
        """Keep ``reviewer`` busy for ``days`` on ``job`` (after any sync time it owes)."""
        start = max(self.now, reviewer.free_from)
        reviewer.busy = True
        reviewer.job = job
        reviewer.job_kind = kind
        reviewer.busy_until = start + days
        self.book(kind, days)
        self.events.push(start + days, self.finish_job, reviewer)

    def finish_job(self, reviewer: Reviewer) -> None:
        """The reviewer's job is done: apply its outcome, then pick the next job."""
        kind, job = reviewer.job_kind, reviewer.job
        reviewer.busy = False
        reviewer.job = None
        if reviewer.sync_debt:
            reviewer.free_from = self.now + reviewer.sync_debt
            reviewer.sync_debt = 0.0
        if kind == JobKind.REVIEW:
            self.finish_review(job)
        elif kind == JobKind.NEGOTIATION:
            self.finish_negotiation(job)
        elif kind == JobKind.PULL:
            job.job_done = True
            self._maybe_land_pull(reviewer.team, job)
        elif kind == JobKind.CONFLICT:
            self.finish_conflict(reviewer.team, job)
        if not self._pick_work(reviewer):
            reviewer.team.idle.append(reviewer)

    def finish_review(self, task: ReviewTask) -> None:
        """A review ends: rework with ``rework_prob``; once all ``approvals_needed`` reviews
        of the patch set are in, the change is approved or goes back for rework."""
        task.done += 1
        if self.random.random() < self.rework_prob:
            task.rework = True
        if task.done < task.slots:
            return
        change = task.change
        if task.rework:
            change.patch_sets += 1
            delay = self.random.expovariate(1.0 / self.rework_days) if self.rework_days else 0.0
            self.events.push(self.now + delay, self.resubmit, change)
        else:
            change.approved = True
            self.try_merge(change)

    def resubmit(self, change: Change) -> None:
        """The author has reworked the change: a new patch set re-enters the queue."""
        self.enqueue_review(self._home(change), change)

    def finish_negotiation(self, task: ReviewTask) -> None:
        """The other end agrees to the change on its link (link pain is counted)."""
        change = task.change
        change.pending_agreements -= 1
        if self.measuring:
            self.edge_negotiations[task.edge] += 1
        self.try_merge(change)

    def _home(self, change: Change) -> Team:
        return self.teams[change.origin]

    def try_merge(self, change: Change) -> None:
        """Merge an approved, agreed change into its team's tree."""
        if not change.approved or change.pending_agreements:
            return
        team = self._home(change)
        if team.node == self.root:
            self.land_top(change)
            if self.children:
                self.arrivals[self.root][change.origin] += 1
                # in the mainline, but not yet in any child's tree until the next merge
                # epoch: the daily test-merge still checks it against the other trees
                self.open_by_origin[change.origin] += 1
                self.new_by_origin[change.origin] += 1
                self.root_unsynced[change.origin] += 1
            return
        team.tree.append(change)
        team.tree_counts[change.origin] = team.tree_counts.get(change.origin, 0) + 1
        if team.node in self.arrivals:
            self.arrivals[team.node][change.origin] += 1
        self.open_by_origin[change.origin] += 1
        self.new_by_origin[change.origin] += 1

    def land_top(self, change: Change) -> None:
        """The change reaches the top tree (mainline): lead time is measured."""
        now = self.now
        self._count_wip(-1)
        self.n_landed_all += 1
        self._day_landed += 1
        self._day_lead.append(now - change.submitted_at)
        if now >= self.warmup_days:
            self.n_landed += 1
            self.landed_at.append(now)
            self.lead_times.append(now - change.submitted_at)

    # ------------------------------------------------------------------ d. Brooks
    def sync_team(self, team: Team) -> None:
        """Brooks: each reviewer spends ``coordination_overhead`` days per teammate per day
        (at most the whole day) keeping in sync, before any further work.

        An idle reviewer is in sync from now on; a busy one syncs when its job ends. The
        time is booked to the coordination account as it is committed.
        """
        m = len(team.reviewers)
        if m < 2 or self.coordination_overhead == 0:
            return
        owed = min(1.0, self.coordination_overhead * (m - 1))
        now = self.now
        for reviewer in team.reviewers:
            if reviewer.busy:
                reviewer.sync_debt += owed
            else:
                reviewer.free_from = max(reviewer.free_from, now) + owed
        self.book(JobKind.SYNC, owed * m)

    # ------------------------------------------------------------------ f. integration
    def pull_trees(self, _: object = None) -> None:
        """Every ``merge_interval_days`` each team offers its tree to its parent (leaf →
        maintainer → top); the parent's reviewers merge it as an urgent job."""
        self.open_by_origin -= self.root_unsynced
        self.root_unsynced[:] = 0
        for team in self.teams:
            if team.parent is None or not team.tree:
                continue
            pull = Pull(team.node, team.tree, team.tree_counts)
            team.tree, team.tree_counts = [], {}
            parent = self.teams[team.parent]
            parent.urgent.append(pull)
            self._wake(parent)
        self.events.push(self.now + self.merge_interval_days, self.pull_trees, None)

    def start_pull(self, reviewer: Reviewer, pull: Pull) -> None:
        """Merge a child's tree: changes that meet here for the first time may conflict.

        Pairs are (change in the unit) × (change that reached this tree since the child's
        last merge), conflicting with ``conflict_prob`` × link badness when their teams are
        linked. With CI, ``ci_detection_prob`` of them were already found by daily
        test-merges. Each conflict becomes an urgent job for this team; the pull costs
        ``pull_days`` plus ``pull_days_per_change`` per change in it.
        """
        team = reviewer.team
        recent = self.arrivals[team.node] - self.seen_at_parent[pull.child]
        miss = 1.0 - self.ci_detection_prob if self.ci_automation else 1.0
        ids, pairs = linked_pair_counts(pull.counts, recent, self.neighbours, self.incident)
        found = draw_conflicts(self.rng, pairs, self.conflict_prob * miss * self.edge_badness[ids])
        unit_size = len(pull.changes)
        if self.unlinked_conflict_prob > 0:
            unlinked = unit_size * int(recent.sum()) - int(pairs.sum())
            n_extra = int(self.rng.binomial(max(unlinked, 0), self.unlinked_conflict_prob * miss))
        else:
            n_extra = 0
        jobs = [
            ConflictJob(pull, unit_size, True, int(e))
            for e, k in zip(ids[found > 0].tolist(), found[found > 0].tolist(), strict=True)
            for _ in range(k)
        ]
        jobs += [ConflictJob(pull, unit_size, True, -1) for _ in range(n_extra)]
        pull.pending_conflicts = len(jobs)
        self._count_conflicts(jobs, early=False)
        team.urgent.extend(jobs)
        if self.measuring:
            self.pull_sizes.append(unit_size)
        days = self.random.expovariate(1.0 / self.pull_days) if self.pull_days else 0.0
        days += self.pull_days_per_change * unit_size
        self.start_job(reviewer, JobKind.PULL, pull, days)
        self._wake(team)

    def _count_conflicts(self, jobs: list[ConflictJob], *, early: bool) -> None:
        if not jobs or not self.measuring:
            return
        self.n_conflicts += len(jobs)
        if early:
            self.n_conflicts_early += len(jobs)
        for job in jobs:
            if job.edge >= 0:
                self.edge_conflicts[job.edge] += 1

    def start_conflict(self, reviewer: Reviewer, job: ConflictJob) -> None:
        """Resolve a conflict: bisect the unit to find the change (``bisect_step_days`` per
        test merge, ceil(log2 unit size) of them), then fix it (``conflict_fix_days``,
        ``cross_team_factor`` slower when the fixer is not the change's own team)."""
        days = self.bisect_step_days * bisect_steps(job.unit_size)
        if self.conflict_fix_days:
            days += self.random.expovariate(1.0 / self.conflict_fix_days) * (
                self.cross_team_factor if job.foreign else 1.0
            )
        if self.now >= self.warmup_days:
            self.n_conflict_jobs += 1
        self.start_job(reviewer, JobKind.CONFLICT, job, days)

    def finish_conflict(self, team: Team, job: ConflictJob) -> None:
        if job.pull is not None:
            job.pull.pending_conflicts -= 1
            self._maybe_land_pull(team, job.pull)

    def _maybe_land_pull(self, team: Team, pull: Pull) -> None:
        """Once merged and its conflicts resolved, the unit lands in ``team``'s tree."""
        if not pull.job_done or pull.pending_conflicts:
            return
        arrivals = self.arrivals[team.node]
        for origin, count in pull.counts.items():
            arrivals[origin] += count
        self.seen_at_parent[pull.child] = arrivals.copy()
        if team.node == self.root:
            for change in pull.changes:
                self.land_top(change)
            for origin, count in pull.counts.items():
                self.open_by_origin[origin] -= count
        else:
            team.tree.extend(pull.changes)
            for origin, count in pull.counts.items():
                team.tree_counts[origin] = team.tree_counts.get(origin, 0) + count

    def test_merge(self) -> None:
        """CI automation (linux-next, 0-day): test-merge all trees daily.

        Pairs (change merged in a team's tree today) × (change of a linked team not yet in
        the mainline) are checked; a conflict is found with ``ci_detection_prob`` while
        the unit is one day's changes, and fixed by the change's own team.
        """
        new, open_ = self.new_by_origin, self.open_by_origin
        if not new.any() or self.edges.size == 0:
            new[:] = 0
            return
        a, b = self.edges[:, 0], self.edges[:, 1]
        pairs = new[a] * open_[b] + open_[a] * new[b] - new[a] * new[b]
        prob = self.conflict_prob * self.ci_detection_prob * self.edge_badness
        found = draw_conflicts(self.rng, pairs, prob)
        jobs = []
        for e in np.flatnonzero(found).tolist():
            fixer = int(a[e]) if new[a[e]] > 0 else int(b[e])
            for _ in range(int(found[e])):
                jobs.append((fixer, ConflictJob(None, int(new[fixer]), False, e)))
        self._count_conflicts([job for _, job in jobs], early=True)
        for fixer, job in jobs:
            self.teams[fixer].urgent.append(job)
            self._wake(self.teams[fixer])
        new[:] = 0

    # ------------------------------------------------------------------ daily tick
    def daily_tick(self, _: object = None) -> None:
        """Once a day: CI test-merge, Brooks sync, and one row of the daily series."""
        if self.ci_automation:
            self.test_merge()
        else:
            self.new_by_origin[:] = 0
        for team in self.teams:
            self.sync_team(team)
        self.time = self.now
        self._collect_day()
        self.events.push(self.now + 1.0, self.daily_tick, None)

    def _collect_day(self) -> None:
        """Record the day's backlog, landings, lead time and cost by kind (for the app)."""
        self.day = round(self.time)
        self.backlog_now = self.n_submitted - self.n_landed_all
        self.throughput_day = float(self._day_landed)
        self.lead_time_day = float(np.mean(self._day_lead)) if self._day_lead else float("nan")
        for kind in JobKind:
            setattr(self, f"cost_{kind.name.lower()}_day", self._day_cost[kind])
        self.integration_cost_day = sum(self._day_cost[k] for k in INTEGRATION_KINDS)
        self._day_landed = 0
        self._day_lead = []
        self._day_cost = dict.fromkeys(JobKind, 0.0)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ results
    def metrics(self) -> dict[str, float]:
        """Everything measured after warm-up, as a flat ``dict[str, float]``.

        See :mod:`model.metrics` for each metric's definition and units.
        """
        from model.metrics import compute_metrics

        return compute_metrics(self)

    def step(self) -> None:
        """Not used: the model is event-driven; ``model.step()`` advances one day."""


SERIES_COLUMNS = (
    "day",
    "backlog_now",
    "throughput_day",
    "lead_time_day",
    "integration_cost_day",
    "cost_review_day",
    "cost_negotiation_day",
    "cost_sync_day",
    "cost_pull_day",
    "cost_conflict_day",
)
