"""OrgModel: review and integration of N teams under a topology, event-driven, in days.

``OrgModel`` builds the organisation (topology, teams, reviewers, contributors, code
areas) and wires the mechanisms, one module each. Each mechanism is an object the model
holds and calls, and keeps in its own fields the state it owns (queues of its own, wait
lists, counters, link and tree state):

=====================  ==================  =========================  ========================
mechanism              held as             module                     what it models
=====================  ==================  =========================  ========================
staffing               ``staff``           :mod:`model.staffing`      reviewers per team,
                                                                      promotion, attrition,
                                                                      expertise, newcomers
availability           ``availability``    :mod:`model.availability`  review hours
arrivals and review    ``review``          :mod:`model.review`        changes, queues, routing,
                                                                      rework
gate                   ``gates``           :mod:`model.gate`          each tree's gate
coordination           ``coordination``    :mod:`model.coordination`  sync time after each job
links                  ``links``           :mod:`model.links`         API contracts negotiated
                                                                      at the other end
coupling and rebases   ``coupling``        :mod:`model.coupling`      coupled changes in one
                                                                      tree: stale, rebase
integration, cadence   ``integration``     :mod:`model.integration`   upward merges, merge
                                                                      windows, conflicts, CI
abandonment            ``abandonment``     :mod:`model.abandonment`   authors giving up
=====================  ==================  =========================  ========================

What the mechanisms share stays on the model, and each mechanism's docstring says which
of it it reads or calls: the clock ``now`` and ``warmup_days``, the random streams
(``random``, ``rng``), the event queue ``events`` and the event log ``event_log``, the
agents (``teams``, ``contributors``; a team's review and urgent queues and idle reviewers
are the team's, :class:`model.agents.Team`), and the accounts: a change's admission
(``admit``), work in progress (``count_wip``), landing at the top (``land_top``) and the
cost accounts (``book``; ``start_job``, which runs a reviewer's job to its end and hands
its outcome to the mechanism the job belongs to in ``finish_job``).

Costs (person-days) are booked as the work that causes them happens; nothing is computed
from a formula in N.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections import deque
from typing import Any

import mesa
import networkx as nx
import numpy as np

from model.abandonment import Abandonment
from model.agents import Contributor, Reviewer, Team
from model.availability import Availability
from model.coordination import Coordination
from model.coupling import Coupling
from model.eventlog import LANDED, EventRecorder
from model.events import EventQueue
from model.gate import Gates
from model.integration import Integration
from model.links import Links
from model.params import PARAMETERS, defaults, validate_params
from model.review import Review
from model.series import DailySeries
from model.staffing import Staffing, dealt_areas, team_sizes
from model.topologies import build_topology
from model.work import Change, JobKind

_D = defaults()
INTEGRATION_KINDS = (
    JobKind.SYNC,
    JobKind.NEGOTIATION,
    JobKind.CONFLICT,
    JobKind.PULL,
    JobKind.REBASE,
)
# job kinds as module constants: an enum member lookup costs more than a global's
REVIEW, NEGOTIATION = JobKind.REVIEW, JobKind.NEGOTIATION
PULL, CONFLICT = JobKind.PULL, JobKind.CONFLICT
INTEGRATION_SLOTS = tuple(int(kind) for kind in INTEGRATION_KINDS)
# the daily series' cost columns, in JobKind order (``_day_cost`` is a list indexed by kind)
DAY_COST_COLUMNS = tuple(f"cost_{kind.name.lower()}_day" for kind in JobKind)


class OrgModel(mesa.Model):
    """Contributors and reviewers in teams joined by API links; time in days.

    All parameters are keyword-only; their units, ranges and sources are in
    :data:`model.params.PARAMETERS` (``python -c "import model; print(model.describe())"``).
    ``OrgModel()`` builds the default organisation; ``run_for(days)`` advances it;
    ``metrics()`` returns what was measured after ``warmup_days``.

    Parameters
    ----------
    rng : seed or numpy Generator; all randomness comes from it.
    record_events : keep an event log of every change (:mod:`model.eventlog`; read it with
        :meth:`event_table`). Off by default; recording draws no random numbers, so a run
        gives the same results with it on or off.
    """

    def __init__(
        self,
        *,
        topology: str = _D["topology"],
        n_teams: int = _D["n_teams"],
        staffing: str = _D["staffing"],
        contributors_per_team: int = _D["contributors_per_team"],
        reviewers_per_area: float = _D["reviewers_per_area"],
        reviewers_per_team: int = _D["reviewers_per_team"],
        core_reviewers: int = _D["core_reviewers"],
        maintainer_span: int = _D["maintainer_span"],
        promotion_reviews: int = _D["promotion_reviews"],
        promotion_endorsements: float = _D["promotion_endorsements"],
        reviewer_attrition: float = _D["reviewer_attrition"],
        contributor_growth: float = _D["contributor_growth"],
        change_rate: float = _D["change_rate"],
        review_rate: float = _D["review_rate"],
        review_time_dist: str = _D["review_time_dist"],
        review_time_sigma: float = _D["review_time_sigma"],
        review_routing: str = _D["review_routing"],
        approvals_needed: int = _D["approvals_needed"],
        approval_order: str = _D["approval_order"],
        review_share: float = _D["review_share"],
        review_days_per_week: int = _D["review_days_per_week"],
        reject_prob: float = _D["reject_prob"],
        rework_prob: float = _D["rework_prob"],
        rework_days: float = _D["rework_days"],
        check_fail_prob: float = _D["check_fail_prob"],
        difficulty_sigma: float = _D["difficulty_sigma"],
        patience_days: float = _D["patience_days"],
        link_change_prob: float = _D["link_change_prob"],
        api_change_rate: float = _D["api_change_rate"],
        cross_team_factor: float = _D["cross_team_factor"],
        expert_areas: int = _D["expert_areas"],
        nonexpert_slowdown: float = _D["nonexpert_slowdown"],
        sync_days_per_contact: float = _D["sync_days_per_contact"],
        sync_window_days: float = _D["sync_window_days"],
        coupling_same_area_prob: float = _D["coupling_same_area_prob"],
        coupling_sibling_prob: float = _D["coupling_sibling_prob"],
        coupling_decay: float = _D["coupling_decay"],
        coupling_branching: int = _D["coupling_branching"],
        rebase_days: float = _D["rebase_days"],
        gate: str = _D["gate"],
        gate_days: float = _D["gate_days"],
        gate_window: int = _D["gate_window"],
        gate_flaky_prob: float = _D["gate_flaky_prob"],
        gate_flaky_growth: float = _D["gate_flaky_growth"],
        merge_interval_days: float = _D["merge_interval_days"],
        release_cycle_days: float = _D["release_cycle_days"],
        merge_window_days: float = _D["merge_window_days"],
        top_direct_share: float = _D["top_direct_share"],
        conflict_prob: float = _D["conflict_prob"],
        api_badness_sigma: float = _D["api_badness_sigma"],
        fixed_link_share: float = _D["fixed_link_share"],
        bisect_step_days: float = _D["bisect_step_days"],
        conflict_fix_days: float = _D["conflict_fix_days"],
        pull_days: float = _D["pull_days"],
        pull_days_per_change: float = _D["pull_days_per_change"],
        ci_automation: bool = _D["ci_automation"],
        ci_detection_prob: float = _D["ci_detection_prob"],
        warmup_days: float = _D["warmup_days"],
        stop_backlog_days: float = _D["stop_backlog_days"],
        branching: int = _D["branching"],
        locality: float = _D["locality"],
        rng: Any = None,
        record_events: bool = False,
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
        # the event log (None when off: every recording site tests this one attribute)
        self.event_log: EventRecorder | None = EventRecorder() if record_events else None
        self.n_changes_made = 0  # changes numbered in order of submission

        # the organisation: topology, links, code areas, teams and their people
        self.graph: nx.Graph = build_topology(
            self.topology,
            self.n_teams,
            branching=self.branching,
            locality=self.locality,
            rng=self.rng,
        )
        self.root: int = self.graph.graph["root"]
        # changes go straight to the top only in a hierarchy (a top without contributors)
        root_kind = self.graph.nodes[self.root]["kind"]
        self.direct_share = self.top_direct_share if root_kind == "top" else 0.0
        # reviewers' review hours (None: available around the clock, the neutral values)
        self.availability: Availability | None = None
        if not Availability.neutral(self.review_share, self.review_days_per_week):
            self.availability = Availability(
                review_share=self.review_share,
                review_days_per_week=self.review_days_per_week,
                rand=self.random,
                model=self,
            )
        self.staff = Staffing(self)  # promotions, departures, newcomers, paid headcount
        self.links = Links(  # draws each link's badness
            self,
            self.graph,
            api_badness_sigma=self.api_badness_sigma,
            fixed_link_share=self.fixed_link_share,
            link_change_prob=self.link_change_prob,
            conflict_prob=self.conflict_prob,
            api_change_rate=self.api_change_rate,
            warmup_days=self.warmup_days,
        )
        self._number_areas()
        self._build_teams()

        # the mechanisms, each holding its own state (module docstring)
        self.coupling = Coupling(
            self,
            n_areas=self.n_areas,
            branching=self.coupling_branching,
            same_area_prob=self.coupling_same_area_prob,
            sibling_prob=self.coupling_sibling_prob,
            decay=self.coupling_decay,
            rebase_days=self.rebase_days,
            warmup_days=self.warmup_days,
            several_areas=[self._several_areas(team.node) for team in self.teams],
        )
        self.gates = Gates(
            self,
            mode=self.gate,
            gate_days=self.gate_days,
            window=self.gate_window,
            flaky_prob=self.gate_flaky_prob,
            flaky_growth=self.gate_flaky_growth,
            tree_areas=self._tree_areas(),
        )
        self.coordination = Coordination(
            self,
            days_per_contact=self.sync_days_per_contact,
            window_days=self.sync_window_days,
            child_area=self.node_area.tolist(),
        )
        self.abandonment = Abandonment(
            self, patience_days=self.patience_days, warmup_days=self.warmup_days
        )
        self.integration = Integration(
            self,
            top=self.root,
            code_conflict=self.coupling.between_teams(self.node_area),
            link_conflict=self.links.conflict_probs,
            merge_interval_days=self.merge_interval_days,
            release_cycle_days=self.release_cycle_days,
            merge_window_days=self.merge_window_days,
            pull_days=self.pull_days,
            pull_days_per_change=self.pull_days_per_change,
            bisect_step_days=self.bisect_step_days,
            conflict_fix_days=self.conflict_fix_days,
            cross_team_factor=self.cross_team_factor,
            ci_automation=self.ci_automation,
            ci_detection_prob=self.ci_detection_prob,
            warmup_days=self.warmup_days,
        )
        self.review = Review(
            self,
            top=self.root,
            change_rate=self.change_rate,
            direct_share=self.direct_share,
            check_fail_prob=self.check_fail_prob,
            rework_days=self.rework_days,
            rework_prob=self.rework_prob,
            reject_prob=self.reject_prob,
            difficulty_sigma=self.difficulty_sigma,
            approval_order=self.approval_order,
            review_rate=self.review_rate,
            review_time_dist=self.review_time_dist,
            review_time_sigma=self.review_time_sigma,
            cross_team_factor=self.cross_team_factor,
            nonexpert_slowdown=self.nonexpert_slowdown,
            warmup_days=self.warmup_days,
        )
        self._init_accounts()
        # the open backlog past which the run stops as saturated (stop_backlog_days of
        # demand beyond the release cycle's, checked once a day after warm-up; inf: never)
        # and the day it stopped
        demand = self.n_areas * self.contributors_per_team * self.change_rate
        held = self.stop_backlog_days + self.release_cycle_days
        self.stop_wip = held * demand if demand > 0 and self.stop_backlog_days > 0 else 0.0
        if self.stop_wip <= 0:
            self.stop_wip = math.inf
        self.stopped_at_day = math.nan

        # the organisation starts work
        for team in self.teams:
            for reviewer in team.reviewers:
                self.report_for_duty(reviewer)
        self._schedule_start()
        self.staff.start()
        self.datacollector = DailySeries(SERIES_COLUMNS)
        self._collect_day()

    # ------------------------------------------------------------------ set-up
    def _number_areas(self) -> None:
        """Number the code areas (``node_area``: each team's area, −1 for none or several).

        Areas are numbered in node order over the teams with contributors (the single
        core's N areas are 0..N−1), so every topology over N areas has the same code.
        """
        n_nodes = self.graph.number_of_nodes()
        self.node_area = np.full(n_nodes, -1, dtype=np.int64)
        area = 0
        for node in range(n_nodes):
            data = self.graph.nodes[node]
            if data["has_contributors"] and data["areas"] == 1:
                self.node_area[node] = area
                area += 1
        self.n_areas = self.n_teams

    def _several_areas(self, node: int) -> bool:
        """Do changes of several areas open in team ``node``'s tree: a team over several
        areas, or a top without contributors that takes changes directly?"""
        data = self.graph.nodes[node]
        return data["areas"] > 1 or (
            node == self.root and not data["has_contributors"] and self.direct_share > 0
        )

    def _build_teams(self) -> None:
        """Create one Team agent per node, its reviewers (by the staffing policy) and its
        contributors (``contributors_per_team`` per area)."""
        n_nodes = self.graph.number_of_nodes()
        sizes = team_sizes(
            self.graph,
            staffing=self.staffing,
            core_reviewers=self.core_reviewers,
            reviewers_per_team=self.reviewers_per_team,
            reviewers_per_area=self.reviewers_per_area,
            maintainer_span=self.maintainer_span,
        )
        self.teams: list[Team] = []
        self.contributors: list[Contributor] = []
        for node in range(n_nodes):
            data = self.graph.nodes[node]
            team = Team(self, node, data["kind"], data["parent"], int(self.node_area[node]))
            self.teams.append(team)
            if data["areas"] > 1:  # expertise by the dealt rule (model.staffing)
                for i in range(sizes[node]):
                    self.add_reviewer(team, dealt_areas(i, self.expert_areas, data["areas"]))
                if self.review_routing == "expertise":
                    team.area_queues = {}
                    team.idle_experts = {a: deque() for a in range(data["areas"])}
            else:
                for _ in range(sizes[node]):
                    self.add_reviewer(team, None)
            team.approval_slots = min(self.approvals_needed, len(team.reviewers))
            if data["has_contributors"]:
                areas = range(data["areas"]) if data["areas"] > 1 else (team.area,)
                for area in areas:
                    for _ in range(self.contributors_per_team):
                        self.contributors.append(Contributor(self, team, area))
                team.n_contributors = len(areas) * self.contributors_per_team
        self.n_reviewers = sum(len(t.reviewers) for t in self.teams)
        #: teams that own code areas (with contributors): the single core, split teams, leaves
        self.coding_teams = [t for t in self.teams if self.graph.nodes[t.node]["has_contributors"]]

    def _tree_areas(self) -> list[int]:
        """Code areas in each team's tree once its children's trees are merged into it:
        its own areas plus its descendants' (the code a gate run of that tree tests)."""
        areas = [
            data["areas"] if data["has_contributors"] else 0
            for _, data in sorted(self.graph.nodes(data=True))
        ]
        for node in sorted(self.graph.nodes, key=lambda n: -self.graph.nodes[n]["depth"]):
            parent = self.graph.nodes[node]["parent"]
            if parent is not None:
                areas[parent] += areas[node]
        return [max(a, 1) for a in areas]

    def report_for_duty(self, reviewer: Reviewer) -> None:
        """A new reviewer waits for work now, or from its first review block."""
        if self.availability is None or self.availability.start(reviewer):
            self.review.set_idle(reviewer)

    def add_reviewer(self, team: Team, experts: frozenset[int] | None) -> Reviewer:
        """A reviewer joins ``team`` knowing ``experts`` (None: all the team reviews)."""
        reviewer = Reviewer(self, team, experts)
        team.reviewers.append(reviewer)
        if self.availability is not None:
            self.availability.add(reviewer.unique_id)
        return reviewer

    def _init_accounts(self) -> None:
        """Counters from which :mod:`model.metrics` computes everything."""
        self.cost = dict.fromkeys(JobKind, 0.0)  # person-days, booked after warm-up
        self.busy_days = 0.0  # reviewer-days, after warm-up
        self.wip = 0  # changes submitted and neither landed at the top nor abandoned
        self.wip_area = 0.0  # ∫ wip dt after warm-up (change-days), for Little's law
        self._wip_since = 0.0
        self.n_submitted = 0  # whole run
        self.n_landed_all = 0  # whole run
        self.n_submitted_measured = 0  # after warm-up
        self.n_landed = 0  # after warm-up
        self.n_landed_contributions = 0  # after warm-up, API changes not counted
        self.n_landed_direct = 0  # after warm-up, homed in the mainline (no other tree)
        self.measured_changes: list[Change] = []  # submitted after warm-up
        self.lead_times: list[float] = []
        self.landed_patch_sets: list[int] = []
        self.backlog_series: list[tuple[float, int]] = []
        # daily series (whole run, for the app)
        self._day_landed = 0
        self._day_lead: list[float] = []
        self._day_cost = [0.0] * len(JobKind)  # person-days today, indexed by JobKind
        self.day = 0
        self.backlog_now = 0
        self.throughput_day = 0.0
        self.lead_time_day = float("nan")
        self.reviewers_now = 0
        self.reviewers_per_area_now = 0.0
        for column in DAY_COST_COLUMNS:
            setattr(self, column, 0.0)

    def _schedule_start(self) -> None:
        """First arrivals, API changes, daily ticks and each tree's merge phase."""
        self.review.start()
        self.links.start()
        self.events.push(1.0, self.daily_tick, None)
        self.integration.start()

    # ------------------------------------------------------------------ time
    def _advance_time(self, until: float) -> None:
        """Run every event up to ``until`` (days); Mesa's ``run_for``/``step`` call this.

        Events scheduled through Mesa's own ``schedule_event`` still run, interleaved in
        time order with the model's events.
        """
        # Changes, tasks and jobs made during a run hold no reference cycles, so reference
        # counting frees them; the cyclic collector would only rescan the growing backlog
        # (up to a third of a large run's time). It is paused while events run.
        if self.stopped:  # a stopped run stays at the day it stopped
            return
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run_events(until)
        finally:
            if collecting:
                gc.enable()
        self.time = self.now = self.stopped_at_day if self.stopped else until

    @property
    def stopped(self) -> bool:
        """True once the run has stopped early as saturated (``stop_backlog_days``)."""
        return self.stopped_at_day == self.stopped_at_day  # not nan

    def stop_saturated(self) -> None:
        """End the run now: its open backlog passed ``stop_backlog_days`` of demand after
        warm-up. Nothing more happens in it (pending events are dropped; later ``run_for``
        calls do nothing); its clock stays at this day, so every metric is measured over
        warm-up to now, ``saturated`` is 1 and ``stopped_at_day`` is this day."""
        self.stopped_at_day = self.now
        self.running = False
        self.events.heap.clear()

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
        if self.stopped:
            return
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

    # ------------------------------------------------------------------ bookkeeping
    def admit(self, change: Change) -> None:
        """A new change enters the system: numbered, work in progress, open in its home
        tree, and its author's patience starts."""
        now = self.now
        change.id = self.n_changes_made
        self.n_changes_made += 1
        if self.event_log is not None:
            self.event_log.created(now, change.id, change.area, change.home, change.author)
        # self.count_wip(+1), written out: this runs for every change
        since, warmup = self._wip_since, self.warmup_days
        start = warmup if warmup > since else since  # the later of the two
        if now > start:
            self.wip_area += self.wip * (now - start)
        self._wip_since = now
        self.wip += 1
        self.n_submitted += 1
        if now >= warmup:
            self.n_submitted_measured += 1
            self.measured_changes.append(change)
        if self.coupling.is_coupled:
            self.coupling.open_change(change)
        if self.patience_days > 0:
            self.abandonment.start_patience(change)

    def count_wip(self, delta: int) -> None:
        """Track changes in the system and their time integral after warm-up."""
        now = self.now
        since, warmup = self._wip_since, self.warmup_days
        start = warmup if warmup > since else since  # the later of the two
        if now > start:
            self.wip_area += self.wip * (now - start)
        self._wip_since = now
        self.wip += delta
        if delta > 0:
            self.n_submitted += delta

    def book(self, kind: JobKind, days: float, team: Team | None) -> None:
        """Add ``days`` person-days to the ``kind`` account (and to ``team``'s busy time
        when a reviewer of ``team`` does the work; authors' rebases have no team)."""
        self._day_cost[kind] += days
        if self.now >= self.warmup_days:
            self.cost[kind] += days
            if team is not None:
                self.busy_days += days
                team.busy_days += days

    def start_job(self, reviewer: Reviewer, kind: JobKind, job: object, days: float) -> None:
        """Keep ``reviewer`` busy for ``days`` on ``job`` (after any sync time it owes),
        booked to its kind's account (a review: its task's ``account``), inside its review
        hours (:mod:`model.availability`)."""
        account = job.account if kind == REVIEW else kind
        now, free_from = self.now, reviewer.free_from
        starts = free_from if free_from > now else now  # after the sync it owes
        if self.availability is None:
            end = starts + days
        else:
            end = self.availability.finish(reviewer.unique_id, starts, days)
        reviewer.busy = True
        reviewer.job = job
        reviewer.job_kind = kind
        reviewer.busy_until = end
        # book(account, days, reviewer.team), written out: this runs for every job
        self._day_cost[account] += days
        if now >= self.warmup_days:
            self.cost[account] += days
            self.busy_days += days
            reviewer.team.busy_days += days
        self.events.push(end, self.finish_job, reviewer)

    def finish_job(self, reviewer: Reviewer) -> None:
        """The reviewer's job is done: apply its outcome, sync with teammates, next job."""
        kind, job = reviewer.job_kind, reviewer.job
        reviewer.busy = False
        reviewer.job = None
        if self.sync_days_per_contact:
            self.coordination.after_job(reviewer, job)
        if kind == REVIEW:
            self.review.finish_review(job, reviewer.unique_id)
        else:
            if kind == NEGOTIATION:
                self.links.finish_negotiation(job)
            elif kind == PULL:
                self.integration.finish_pull(reviewer.team, job)
            elif kind == CONFLICT:
                self.integration.finish_conflict(reviewer.team, job)
        if not reviewer.active:  # it left during the job (model.staffing)
            return
        avail = self.availability
        if avail is not None and not avail.on_duty(reviewer.unique_id, self.now):
            return  # it ended its block on this job: it comes back on duty at the next
        review = self.review
        if not review.pick_work(reviewer):
            review.set_idle(reviewer)

    def land_top(self, change: Change) -> None:
        """The change reaches the top tree (mainline): lead time is measured."""
        now = self.now
        root = self.root
        change.ended_at = now
        if self.event_log is not None:
            direct = "direct" if change.home == root else ""
            self.event_log.append((now, LANDED, change.id, root, -1, direct))
        # self.count_wip(-1), written out: this runs for every change
        since, warmup = self._wip_since, self.warmup_days
        start = warmup if warmup > since else since  # the later of the two
        if now > start:
            self.wip_area += self.wip * (now - start)
        self._wip_since = now
        self.wip -= 1
        self.n_landed_all += 1
        self._day_landed += 1
        lead_time = now - change.submitted_at
        self._day_lead.append(lead_time)
        if now >= self.warmup_days:
            self.n_landed += 1
            self.n_landed_contributions += not change.is_api
            self.n_landed_direct += change.home == root
            self.lead_times.append(lead_time)
            self.landed_patch_sets.append(change.patch_sets)

    # ------------------------------------------------------------------ daily tick
    def daily_tick(self, _: object = None) -> None:
        """Once a day: one row of the daily series."""
        self.time = self.now
        self._collect_day()
        if self.wip > self.stop_wip and self.now >= self.warmup_days:
            self.stop_saturated()
            return
        self.events.push(self.now + 1.0, self.daily_tick, None)

    def _collect_day(self) -> None:
        """Record the day's backlog, landings, lead time and cost by kind (for the app)."""
        now = self.time
        self.day = round(now)
        self.backlog_now = self.wip
        if now > self.warmup_days:
            self.backlog_series.append((now, self.wip))
        self.throughput_day = float(self._day_landed)
        lead = self._day_lead
        self.lead_time_day = sum(lead) / len(lead) if lead else math.nan
        day_cost = self._day_cost
        (  # the DAY_COST_COLUMNS, in JobKind order
            self.cost_review_day,
            self.cost_negotiation_day,
            self.cost_sync_day,
            self.cost_pull_day,
            self.cost_conflict_day,
            self.cost_rebase_day,
        ) = day_cost
        self.integration_cost_day = sum([day_cost[i] for i in INTEGRATION_SLOTS])
        self.reviewers_now = self.n_reviewers
        coding = sum(len(t.reviewers) for t in self.coding_teams)
        self.reviewers_per_area_now = coding / self.n_areas
        self._day_landed = 0
        self._day_lead = []
        self._day_cost = [0.0] * len(day_cost)
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ results
    def metrics(self) -> dict[str, float]:
        """Everything measured after warm-up, as a flat ``dict[str, float]``.

        See :mod:`model.metrics` for each metric's definition and units.
        """
        from model.metrics import compute_metrics

        return compute_metrics(self)

    def event_table(self, *, source: str = "orgscale model"):
        """The event log so far as an Arrow table (:mod:`model.eventlog`'s schema); its
        metadata names the measured window (warm-up to now, days).

        Raises ``RuntimeError`` when the model was built without ``record_events=True``.
        """
        if self.event_log is None:
            raise RuntimeError("this model records no events: build it with record_events=True")
        return self.event_log.table(source=source, measured=(self.warmup_days, self.now))

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
    "cost_rebase_day",
    "reviewers_now",
    "reviewers_per_area_now",
)
