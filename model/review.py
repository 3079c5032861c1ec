"""Arrivals and review: changes are submitted, queued, reviewed, reworked and gated.

* Arrivals: each contributor submits changes as a Poisson process (``change_rate`` per
  day); a share ``top_direct_share`` of them goes straight to the top team (in a
  hierarchy, whose top has no contributors of its own; elsewhere the share is 0), and a
  change touches one API link of its team with ``link_change_prob`` × the mean badness
  of the team's links (:mod:`model.links`).
* Checks: a patch set first passes automated checks (and non-core reviewers); with
  ``check_fail_prob`` it fails them and the author uploads a new one after a rework time,
  at no core reviewer's cost (Nova: ≈4.1 patch sets per change, far more than its cores
  reviewed). A change's difficulty (:mod:`model.difficulty`, drawn at submission) scales
  its odds of failing checks and of being asked for rework.
* Review: a patch set needs ``approvals_needed`` distinct reviewers of its home team (all
  of them if the team is smaller). With ``approval_order = 'sequential'`` (the default) the
  first review is one task; once it approves, the next approval is a task of its own, put
  at the front of the queue and routed again (idle experts first), as reviewers look for
  changes that need a final +2; with ``'parallel'`` all approvals are taken at once. Each
  review asks for rework with ``rework_prob`` (the author answers after ``rework_days``
  with a new patch set) or rejects the change with ``reject_prob`` (a −2: the change is
  abandoned, "rejected", apart from authors giving up, :mod:`model.abandonment`; a
  team's own API change is never rejected).
* Availability: reviewers start and do their jobs in their review hours only
  (:mod:`model.availability`); a review's wait runs to the moment its reviewer starts it.
* Routing (``review_routing``): ``fifo`` takes the oldest task a reviewer can take;
  ``expertise`` takes the oldest waiting review in one of the reviewer's areas if there is
  one, else the oldest overall. A single-core reviewer outside its ``expert_areas`` is
  ``nonexpert_slowdown`` times slower; a negotiation is ``cross_team_factor`` slower.
* Gate: an approved change goes through its home tree's gate (:mod:`model.gate`) unless
  ``gate`` is ``none``.

State. :class:`Review` (held by :class:`model.OrgModel` as ``model.review``) owns the
review counters and the waits measured before first reviews and negotiations. The queues
it serves belong to the teams (:class:`model.agents.Team`: the review queue, the area
queues, the urgent queue of pulls and conflicts and the idle reviewers), because other
mechanisms put work in them too (negotiations, :mod:`model.links`; pulls and conflicts,
:mod:`model.integration`) and the view shows them. Review reads the model's clock
(``now``), random stream, event queue, event log, teams, contributors and review hours
(``availability``); it admits changes (``model.admit``) and starts reviewers' jobs
(``model.start_job``); it calls on the links (a change touching one), the coupling (a
stale change's rebase), abandonment (a rejection), the gates, staffing (approvals for
promotion) and integration (pulls, conflicts, an approved change's merge).
"""

from __future__ import annotations

import math
from collections import deque
from math import log
from typing import TYPE_CHECKING

from model.difficulty import Difficulty, odds
from model.eventlog import APPROVED, CHECK, PATCH_SET, REVIEW_FINISHED, REVIEW_STARTED
from model.work import Change, JobKind, Pull, ReviewTask

REVIEW, NEGOTIATION, REBASE = JobKind.REVIEW, JobKind.NEGOTIATION, JobKind.REBASE

if TYPE_CHECKING:
    from model.agents import Contributor, Reviewer, Team
    from model.model import OrgModel


class Review:
    """Arrivals, review queues, routing and review (see the module docstring).

    Routing by expertise applies to the teams that have area queues: the model gives a
    team over several areas its ``area_queues`` and ``idle_experts`` when it builds it
    with ``review_routing = 'expertise'``; every other team is served first in, first out.

    Parameters
    ----------
    model : the :class:`model.OrgModel` it belongs to (see the module docstring for what
        it reads and calls there). Its random stream, event queue, event log, teams and
        ``availability`` are bound once here: the model builds them before its
        mechanisms and never replaces them.
    top : node of the top team (changes sent straight to the top are homed there).
    change_rate : changes a contributor submits per day (Poisson).
    direct_share : share of contributions sent straight to the top team.
    check_fail_prob : probability that a patch set of a change of difficulty 1 fails the
        automated checks.
    rework_days : mean time an author takes to answer with a new patch set (days).
    rework_prob : probability that a review of a change of difficulty 1 asks for rework.
    reject_prob : probability that a review rejects the change (a −2).
    difficulty_sigma : spread of changes' difficulty (:mod:`model.difficulty`; 0: alike).
    approval_order : ``sequential`` (each further approval a task of its own) or
        ``parallel``.
    review_rate : reviews an expert completes per day of work (1 / mean review days).
    review_time_dist : ``exponential`` or ``lognormal`` review times.
    review_time_sigma : sigma of lognormal review times.
    cross_team_factor : how much slower a negotiation is than a review.
    nonexpert_slowdown : how much slower a reviewer outside its areas is.
    warmup_days : reviews and waits from then on are counted (days).
    """

    def __init__(
        self,
        model: OrgModel,
        *,
        top: int,
        change_rate: float,
        direct_share: float,
        check_fail_prob: float,
        rework_days: float,
        rework_prob: float,
        reject_prob: float,
        difficulty_sigma: float,
        approval_order: str,
        review_rate: float,
        review_time_dist: str,
        review_time_sigma: float,
        cross_team_factor: float,
        nonexpert_slowdown: float,
        warmup_days: float,
    ) -> None:
        self.model = model
        self.top = top
        self.change_rate = change_rate
        self.direct_share = direct_share
        self.check_fail_prob = check_fail_prob
        self.rework_days = rework_days
        self.rework_prob = rework_prob
        self.reject_prob = reject_prob
        self.difficulty = Difficulty(difficulty_sigma, model.random)
        self.sequential = approval_order == "sequential"
        self.review_rate = review_rate
        self.exponential = review_time_dist == "exponential"
        self.review_time_sigma = review_time_sigma
        self.cross_team_factor = cross_team_factor
        self.nonexpert_slowdown = nonexpert_slowdown
        self.warmup_days = warmup_days
        # the model's parts used on every event, bound once (see Parameters)
        self.random = model.random
        self.events = model.events
        self.event_log = model.event_log
        self.teams = model.teams
        self.availability = model.availability
        # measured after warm-up
        self.review_waits: list[float] = []  # queue entry to first review, days
        self.negotiation_waits: list[float] = []  # queue entry to negotiation, days
        self.n_reviews_started = 0
        self.n_expert_reviews = 0  # reviews started by an expert in the change's area
        self.n_reviews_done = 0

    # ------------------------------------------------------------------ arrivals
    def start(self) -> None:
        """Schedule every contributor's first change."""
        if self.change_rate > 0:
            rand = self.random
            for contributor in self.model.contributors:
                self.events.push(
                    rand.expovariate(self.change_rate), self.submit_change, contributor
                )

    def submit_change(self, contributor: Contributor) -> None:
        """A contributor submits a change (Poisson process, ``change_rate`` per day)."""
        model = self.model
        now = model.now
        rand = self.random
        team = contributor.team
        home = team
        if self.direct_share > 0 and rand.random() < self.direct_share:
            home = self.teams[self.top]
        change = Change(
            team.node, contributor.area, now, home=home.node, author=contributor.unique_id
        )
        if self.difficulty.varies:
            change.difficulty = self.difficulty.draw()
        model.admit(change)
        links = model.links
        touch_prob = links.touch_prob[team.node]
        if touch_prob > 0 and home is team and rand.random() < touch_prob:
            links.touch_links(change, team, all_links=False)
        self.submit_patch_set(change)
        # the next arrival: an exponential draw, written out as random.expovariate does it
        # (same numbers, one call fewer on the model's most frequent event)
        delay = -log(1.0 - rand.random()) / self.change_rate
        self.events.push(now + delay, self.submit_change, contributor)

    def submit_patch_set(self, change: Change) -> None:
        """A patch set is uploaded: automated checks (and non-core reviewers) run first.

        With ``check_fail_prob`` it fails them, and the author uploads a new patch set after
        a rework time (mean ``rework_days``) without any core reviewer's time being spent;
        otherwise it enters its home team's review queue.
        """
        log = self.event_log
        now = self.model.now
        if self.check_fail_prob > 0 and self.random.random() < odds(
            self.check_fail_prob, change.difficulty
        ):
            if log is not None:
                log.append((now, CHECK, change.id, change.home, -1, "fail"))
            delay = self.random.expovariate(1.0 / self.rework_days) if self.rework_days else 0.0
            self.new_patch_set(change, now + delay)
            self.events.push(now + delay, self.resubmit, change)
            return
        if log is not None:
            log.append((now, CHECK, change.id, change.home, -1, "pass"))
        self.enqueue_review(self.teams[change.home], change)

    def new_patch_set(self, change: Change, at: float) -> None:
        """The author will upload a new patch set of ``change`` at time ``at`` (days)."""
        change.patch_sets += 1
        if self.event_log is not None:
            self.event_log.append((at, PATCH_SET, change.id, change.home, change.author, ""))

    # ------------------------------------------------------------------ queues
    def enqueue_review(self, team: Team, change: Change) -> None:
        """Put a patch set at the back of ``team``'s queue (and of its area's queue)."""
        slots = 1 if self.sequential else team.approval_slots
        task = ReviewTask(REVIEW, change, slots, self.model.now)
        if change.rebase_only:  # reviewed again only because it was rebased
            task.account = REBASE
            change.rebase_only = False
        team.queue.append(task)
        if team.area_queues is not None:
            queue = team.area_queues.get(change.area)
            if queue is None:
                queue = team.area_queues[change.area] = deque()
            queue.append(task)
            self.wake_expert(team, change.area)
        self.wake(team)

    def enqueue_negotiation(self, team: Team, change: Change, edge: int) -> None:
        """Put a negotiation of ``change`` over link ``edge`` at the back of ``team``'s
        queue (``team`` is at the other end of the link)."""
        team.queue.append(ReviewTask(NEGOTIATION, change, 1, self.model.now, edge))
        self.wake(team)

    # ------------------------------------------------------------------ reviewers
    def wake(self, team: Team) -> None:
        """Let idle reviewers of ``team`` (longest idle first) pick up work."""
        idle, queue = team.idle, team.queue
        for _ in range(len(idle)):
            while queue and (queue[0].closed or queue[0].change.abandoned):
                queue.popleft()
            if not (queue or team.urgent):
                return
            reviewer = pop_idle(idle)
            if reviewer is None:
                return
            if not self.pick_work(reviewer):
                self.set_idle(reviewer)  # e.g. it already reviewed every queued patch set

    def wake_expert(self, team: Team, area: int) -> None:
        """``expertise`` routing: a review arrived in ``area``; idle experts take it first
        (one for each approval it needs)."""
        for _ in range(team.approval_slots):
            reviewer = pop_idle(team.idle_experts[area])
            if reviewer is None:
                return
            if not self.pick_work(reviewer):
                self.set_idle(reviewer)
                return

    def set_idle(self, reviewer: Reviewer) -> None:
        """``reviewer`` has nothing to do: it waits in its team's idle queues."""
        reviewer.is_idle = True
        reviewer.idle_token += 1
        entry = (reviewer.idle_token, reviewer)
        team = reviewer.team
        team.idle.append(entry)
        if team.idle_experts is not None:
            limit = 4 * len(team.reviewers) + 16
            for area in reviewer.experts:
                waiting = team.idle_experts[area]
                waiting.append(entry)
                if len(waiting) > limit:  # drop entries of reviewers no longer idle
                    team.idle_experts[area] = deque(
                        (t, r) for t, r in waiting if r.is_idle and r.idle_token == t
                    )

    def pick_work(self, reviewer: Reviewer) -> bool:
        """Start the reviewer's next job. Integration jobs (pulls, conflicts) and the review
        queue (reviews, negotiations) take turns: when both have work, a team's reviewers
        alternate between them (round-robin), so neither starves the other; within the
        review queue, by routing."""
        team = reviewer.team
        if team.urgent and team.urgent_turn:
            self.start_urgent(reviewer)
            return True
        task = self.expert_task(reviewer) if team.area_queues is not None else None
        if task is None:
            task = first_open(team.queue, reviewer.unique_id)
        if task is not None:
            team.urgent_turn = True
            self.take(reviewer, task)
            return True
        if team.urgent:
            self.start_urgent(reviewer)
            return True
        return False

    def start_urgent(self, reviewer: Reviewer) -> None:
        """Start the oldest integration job of the reviewer's team (its turn is used)."""
        team = reviewer.team
        team.urgent_turn = False
        job = team.urgent.popleft()
        if isinstance(job, Pull):
            self.model.integration.start_pull(reviewer, job)
        else:
            self.model.integration.start_conflict(reviewer, job)

    def expert_task(self, reviewer: Reviewer) -> ReviewTask | None:
        """The oldest open review in one of the reviewer's areas (``expertise`` routing)."""
        if reviewer.experts is None:
            return None
        queues = reviewer.team.area_queues
        best = None
        for area in reviewer.experts:
            queue = queues.get(area)
            if queue:
                task = first_open(queue, reviewer.unique_id)
                if task is not None and (best is None or task.enqueued_at < best.enqueued_at):
                    best = task
        return best

    def starts(self, reviewer: Reviewer, now: float) -> float:
        """When ``reviewer``, taking a job at ``now``, starts it: once the sync it owes is
        done (``free_from``, :mod:`model.coordination`), in a review block."""
        free_from = reviewer.free_from
        starts = free_from if free_from > now else now
        if self.availability is None:
            return starts
        return self.availability.next_available(reviewer.unique_id, starts)

    def take(self, reviewer: Reviewer, task: ReviewTask) -> None:
        """``reviewer`` takes one slot of ``task`` and starts reviewing (or negotiating) it;
        the wait for the task's first review is recorded (days, after warm-up only)."""
        takers = task.takers
        uid = reviewer.unique_id
        takers.append(uid)
        now = self.model.now
        # self.starts(reviewer, now), written out: this runs for every review
        free_from = reviewer.free_from
        starts = free_from if free_from > now else now
        if self.availability is not None:
            starts = self.availability.next_available(uid, starts)
        kind = task.kind
        change = task.change
        n_takers = len(takers)
        if n_takers == task.slots:
            task.closed = True
            if kind == REVIEW:  # the patch set waited for reviewers until they start
                change.queued_days += starts - task.enqueued_at
        measuring = now >= self.warmup_days
        if n_takers == 1 and measuring:
            waits = self.review_waits if kind == REVIEW else self.negotiation_waits
            waits.append(starts - task.enqueued_at)
        event_log = self.event_log
        if kind == REVIEW and event_log is not None:
            event_log.append((starts, REVIEW_STARTED, change.id, change.home, uid, ""))
        mean = 1.0 / self.review_rate
        if kind == NEGOTIATION:
            mean *= self.cross_team_factor
        else:
            experts = reviewer.experts
            expert = experts is None or change.area in experts
            if not expert:
                mean *= self.nonexpert_slowdown
            if measuring:
                self.n_reviews_started += 1
                self.n_expert_reviews += expert
        if self.exponential:  # self.review_days(mean), written out (same numbers)
            days = -log(1.0 - self.random.random()) / (1.0 / mean)
        else:
            days = self.review_days(mean)
        self.model.start_job(reviewer, kind, task, days)

    def review_days(self, mean: float) -> float:
        """One review's duration (days): exponential or lognormal with the given mean."""
        if self.exponential:
            # random.expovariate(1.0 / mean), written out (same numbers, one call fewer)
            return -log(1.0 - self.random.random()) / (1.0 / mean)
        sigma = self.review_time_sigma
        return self.random.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)

    def finish_review(self, task: ReviewTask, reviewer_id: int = -1) -> None:
        """A review by ``reviewer_id`` ends: rework with ``rework_prob`` (at the change's
        difficulty, :func:`model.difficulty.odds`), rejection with ``reject_prob`` (which
        takes precedence where a hard change's odds of rework reach into it); once all
        reviews of the task are in, the change goes back for rework (and a rebase if it is
        stale), waits for its next approval (a task of its own, ``approval_order =
        'sequential'``) or is approved."""
        model = self.model
        now = model.now
        task.done += 1
        if now >= self.warmup_days:
            self.n_reviews_done += 1
        change = task.change
        draw = self.random.random()  # one draw: rework below its odds, reject at the top
        rejects = draw >= 1.0 - self.reject_prob and not change_is_api(task)
        asks_rework = not rejects and draw < odds(self.rework_prob, change.difficulty)
        if asks_rework:
            task.rework = True
        log = self.event_log
        if log is not None:
            vote = "-1" if asks_rework else "-2" if rejects else "+2"
            log.append((now, REVIEW_FINISHED, change.id, change.home, reviewer_id, vote))
        if rejects and not change.abandoned:
            model.abandonment.abandon(change, reviewer_id, "rejected")
        if task.done < task.slots or change.abandoned:
            return
        if task.rework or change.stale:
            self.send_back(change, rework=task.rework)
        elif task.slots < self.teams[change.home].approval_slots:
            self.ask_next_approval(task)
        else:
            change.approved = True
            if log is not None:
                log.append((now, APPROVED, change.id, change.home, reviewer_id, ""))
            if model.staff.earned:
                model.staff.approved(change, task.takers)
            self.try_merge(change)

    def ask_next_approval(self, task: ReviewTask) -> None:
        """The change has ``task.slots`` approvals and needs another: a review task of its
        own, which those approvers cannot take, at the front of the home team's queue (and
        of its area's), offered to idle experts first."""
        change = task.change
        team = self.teams[change.home]
        follow = ReviewTask(REVIEW, change, task.slots + 1, task.enqueued_at)
        follow.takers = list(task.takers)
        follow.done = task.done
        team.queue.appendleft(follow)
        if team.area_queues is not None:
            queue = team.area_queues.get(change.area)
            if queue is None:
                queue = team.area_queues[change.area] = deque()
            queue.appendleft(follow)
            self.wake_expert(team, change.area)
        self.wake(team)

    def send_back(self, change: Change, *, rework: bool) -> None:
        """The author reworks and/or rebases the change; a new patch set follows."""
        change.approved = False
        # a patch set made only to rebase: its review is booked as rebase cost
        change.rebase_only = change.stale and not rework
        model = self.model
        delay = 0.0
        if rework and self.rework_days:
            delay += self.random.expovariate(1.0 / self.rework_days)
        if change.stale:
            delay += model.coupling.rebase(change)  # rework and rebase make one new patch set
        if change.stale or rework:
            self.new_patch_set(change, model.now + delay)
        self.events.push(model.now + delay, self.resubmit, change)

    def resubmit(self, change: Change) -> None:
        """The author's new patch set re-enters its home team's queue."""
        if change.abandoned:
            return
        if change.stale:  # made stale again while the author was reworking
            model = self.model
            at = model.now + model.coupling.rebase(change)
            self.new_patch_set(change, at)
            self.events.push(at, self.resubmit, change)
            return
        self.submit_patch_set(change)

    def try_merge(self, change: Change) -> None:
        """An approved, agreed change goes through the gate (if on) into its home tree."""
        if not change.approved or change.pending_agreements or change.abandoned:
            return
        if change.stale:  # the merge itself shows the conflict
            self.send_back(change, rework=False)
        elif self.model.gates.gated(change):
            self.model.gates.submit(change)
        else:
            self.model.integration.merge_home(change)


def change_is_api(task: ReviewTask) -> bool:
    """True for a team's own API change (the team wrote it: its review never rejects it)."""
    return task.change.is_api


def pop_idle(waiting: deque[tuple[int, Reviewer]]) -> Reviewer | None:
    """The longest-idle reviewer still idle in ``waiting`` (stale entries are dropped)."""
    while waiting:
        token, reviewer = waiting.popleft()
        if reviewer.is_idle and reviewer.idle_token == token:
            reviewer.is_idle = False
            return reviewer
    return None


def first_open(queue: deque[ReviewTask], uid: int) -> ReviewTask | None:
    """The oldest task in ``queue`` that reviewer ``uid`` can take (closed tasks at the
    head are dropped on the way)."""
    while queue and (queue[0].closed or queue[0].change.abandoned):
        queue.popleft()
    for task in queue:
        if task.closed or uid in task.takers:
            continue
        if task.change.abandoned:
            task.closed = True
            continue
        return task
    return None
