"""Availability: reviewers review in their review hours on working days, not around the clock.

Rule. Each reviewer has a local clock, the model's clock plus a phase drawn once, uniform in
[0, 1) day (a team spread over time zones). In local time a reviewer works on
``review_days_per_week`` days of each 7-day week (days 0 .. ``review_days_per_week`` − 1
of the week: the rest is the weekend) and reviews in one block at the start of each of
those days, ``review_share`` of the 24-hour day long (0.125 = 3 hours). A reviewer takes
work only while in a block: outside them it is off duty and not among its team's idle
reviewers, so work arriving at night waits for whoever comes on duty first (somebody in
another time zone, or the experts next morning). A job taken near the end of a block
continues in the next one: every reviewer job (a review, a negotiation, a pull, a conflict
fix, and the sync time owed before it) is done only inside the blocks.

Units. A job's size is what it always was, in days of a reviewer's *capacity*: the mean
review takes 1/``review_rate`` of a day, and a busy reviewer completes ``review_rate``
reviews per calendar day averaged over a week, as Nova's "reviews per core per day"
counts them (that is what the calibration fitted). Availability does not change how much a
reviewer gets through in a week; it changes *when*: work is done at 7 / (share × days per
week) times the calendar rate inside the blocks and not at all outside them, so a change
arriving on a Friday evening waits for Monday's block. Costs are booked in capacity-days
as before, so utilisation stays busy time over paid time.

Neutral values (``review_share = 1``, ``review_days_per_week = 7``) make every reviewer
available all the time: :class:`model.OrgModel` then holds no ``Availability`` at all and
draws no phases, and the queueing oracles hold exactly as before.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

#: Days added to a local time before it is placed in a day and a block, so that a time
#: computed as a block's start or end (phase subtracted, then added back) falls on the
#: intended side of the boundary despite rounding: duty events never repeat at one time.
EPS = 1e-9

if TYPE_CHECKING:
    from model.agents import Reviewer
    from model.model import OrgModel


class Availability:
    """Review hours of every reviewer: their phases and the calendar they imply.

    Parameters
    ----------
    review_share : the share of each working day (24 h) spent on review, in (0, 1].
    review_days_per_week : working days in each 7-day week, 1..7.
    rand : the model's stdlib generator (``model.random``), for the phases.
    model : the model whose reviewers go on and off duty (their idle queues, their work).
    """

    def __init__(
        self,
        *,
        review_share: float,
        review_days_per_week: int,
        rand: random.Random,
        model: OrgModel | None = None,
    ):
        self.model = model
        self.share = review_share
        self.days_per_week = review_days_per_week
        #: available days in any 7-day stretch (the same wherever it starts)
        self.week_capacity = review_share * review_days_per_week
        #: capacity-days of work done per available day
        self.speed = 7.0 / self.week_capacity
        self.phase: dict[int, float] = {}  # reviewer unique_id -> phase (days)
        self._random = rand

    @staticmethod
    def neutral(review_share: float, review_days_per_week: int) -> bool:
        """True when the parameters make everyone available all the time."""
        return review_share >= 1.0 and review_days_per_week >= 7

    def add(self, uid: int) -> None:
        """A reviewer joins: draw its phase (uniform in [0, 1) day)."""
        self.phase[uid] = self._random.random()

    def on_duty(self, uid: int, at: float) -> bool:
        """True when reviewer ``uid`` is in a review block at time ``at`` (days)."""
        local = at + self.phase[uid] + EPS
        day = math.floor(local)
        return day % 7 < self.days_per_week and local - day < self.share

    def start(self, reviewer: Reviewer) -> bool:
        """Start ``reviewer``'s duty cycle; True when it is on duty now (the caller then
        makes it idle, ready for work)."""
        now = self.model.now
        if self.on_duty(reviewer.unique_id, now):
            self._schedule_off(reviewer)
            return True
        self.model.events.push(
            self.next_available(reviewer.unique_id, now), self.come_on_duty, reviewer
        )
        return False

    def _schedule_off(self, reviewer: Reviewer) -> None:
        phase = self.phase[reviewer.unique_id]
        day = math.floor(self.model.now + phase + EPS)
        self.model.events.push(day + self.share - phase, self.go_off_duty, reviewer)

    def come_on_duty(self, reviewer: Reviewer) -> None:
        """A review block begins: an idle reviewer takes work (a busy one carries on)."""
        if not reviewer.active:
            return
        model = self.model
        self._schedule_off(reviewer)
        if not reviewer.busy and not reviewer.is_idle and not model.review.pick_work(reviewer):
            model.review.set_idle(reviewer)

    def go_off_duty(self, reviewer: Reviewer) -> None:
        """A review block ends: an idle reviewer leaves the idle queues until the next."""
        if not reviewer.active:
            return
        if reviewer.is_idle:  # its entries in the idle queues go stale
            reviewer.is_idle = False
            reviewer.idle_token += 1
        model = self.model
        at = self.next_available(reviewer.unique_id, model.now)
        model.events.push(at, self.come_on_duty, reviewer)

    def work_between(self, uid: int, start: float, end: float) -> float:
        """Work (capacity-days) reviewer ``uid`` does in its blocks between ``start`` and
        ``end`` (days): what a job running to ``end`` still has to do at ``start``."""
        if end <= start:
            return 0.0
        phase = self.phase[uid]
        first, last = start + phase, end + phase
        total = 0.0
        day = math.floor(first)
        while day < last:
            if day % 7 < self.days_per_week:
                low = first if first > day else day
                high = min(last, day + self.share)
                if high > low:
                    total += high - low
            day += 1
        return total * self.speed

    def _next_local(self, local: float) -> float:
        """The first local time ≥ ``local`` inside a review block."""
        day = math.floor(local)
        while True:
            weekday = day % 7
            if weekday >= self.days_per_week:  # weekend: to the start of the next week
                day += 7 - weekday
                local = float(day)
                continue
            if local - day < self.share:
                return local
            day += 1
            local = float(day)

    def next_available(self, uid: int, at: float) -> float:
        """The first time ≥ ``at`` (days) when reviewer ``uid`` is in a review block."""
        phase = self.phase[uid]
        local = at + phase + EPS
        found = self._next_local(local)
        return at if found == local else found - phase

    def finish(self, uid: int, start: float, work_days: float) -> float:
        """When reviewer ``uid``, starting at ``start``, has done ``work_days`` of work
        (capacity-days) inside its review blocks (days)."""
        phase = self.phase[uid]
        need = work_days / self.speed  # available time the work takes
        local = start + phase
        weeks = math.floor(need / self.week_capacity) - 1
        if weeks > 0:  # any 7 days hold exactly week_capacity of review time
            local += 7.0 * weeks
            need -= weeks * self.week_capacity
        while True:
            local = self._next_local(local)
            day = math.floor(local)
            room = day + self.share - local
            if need <= room:
                return local + need - phase
            need -= room
            local = float(day + 1)
