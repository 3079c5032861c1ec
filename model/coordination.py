"""Coordination (Brooks): sync time caused by work, not booked by the calendar.

Rule. When a reviewer finishes a job (a review, a negotiation, a pull, a conflict fix) on a
code area, it spends ``sync_days_per_contact`` days with each *other* member of its team
who worked on the same area in the last ``sync_window_days`` days (reading their reviews,
agreeing who does what), before its next job. The time is booked to the coordination
account when the job that caused it ends.

Consequences, each an outcome rather than an input:

* zero work gives zero coordination;
* when everyone on an area is active within the window, a team pays
  ``sync_days_per_contact × (m − 1)`` per job, so twice the work costs about twice the sync;
* growth in team size m is set by how many teammates actually touch the same area: it is
  m − 1 at most, and less when routing keeps areas with their experts
  (``review_routing = 'expertise'``) or when load is light. Where a team's output stops
  growing with m (H7) therefore moves with its load and its routing.

Jobs that are not on a code area (a maintainer team's pulls, conflicts and negotiations)
count as one shared area per team.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from model.work import JobKind

if TYPE_CHECKING:
    from model.agents import Reviewer

TEAM_WIDE = -1  # area key for jobs not on one code area
SYNC = JobKind.SYNC


class AreaActivity:
    """Who worked on one area of one team recently: a time-ordered log and live counts."""

    __slots__ = ("counts", "log")

    def __init__(self) -> None:
        self.log: deque[tuple[float, int]] = deque()
        self.counts: dict[int, int] = {}

    def others_active(self, now: float, since: float, uid: int) -> int:
        """Distinct reviewers other than ``uid`` active after ``since``; logs ``uid`` at now."""
        log, counts = self.log, self.counts
        while log and log[0][0] < since:
            _, old = log.popleft()
            left = counts[old] - 1
            if left:
                counts[old] = left
            else:
                del counts[old]
        n_others = len(counts) - (1 if uid in counts else 0)
        log.append((now, uid))
        counts[uid] = counts.get(uid, 0) + 1
        return n_others


class CoordinationMechanism:
    """Mixin for :class:`model.OrgModel`: sync time after each job (see module docstring)."""

    def sync_after_job(self, reviewer: Reviewer, area: int) -> None:
        """``reviewer`` finished a job on ``area``: it syncs with recently active teammates
        (called only when ``sync_days_per_contact`` > 0)."""
        team = reviewer.team
        activity = team.activity.get(area)
        if activity is None:
            activity = team.activity[area] = AreaActivity()
        now = self.now
        contacts = activity.others_active(now, now - self.sync_window_days, reviewer.unique_id)
        if contacts:
            days = self.sync_days_per_contact * contacts
            free_from = reviewer.free_from
            reviewer.free_from = (free_from if free_from >= now else now) + days
            self.book(SYNC, days, team)
