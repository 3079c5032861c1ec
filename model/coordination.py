"""Coordination (Brooks): sync time caused by work, not booked by the calendar.

Rule. When a reviewer finishes a job, it spends ``sync_days_per_contact`` days with each
*other* member of its team who worked on the same *code* in the last ``sync_window_days``
days (reading their reviews, agreeing who does what), before its next job. The time is
booked to the coordination account when the job that caused it ends.

One rule for every team. The code a job is on (its *sync key*, :func:`sync_key`) is

* a review or a negotiation: the change's code area;
* a pull or a conflict found in it: the child tree the unit comes from, which for a child
  of one area (a driver, a peer) is that area;
* a conflict found early by CI: the fixing team's own tree;
* a change that is on no area (a maintainer team's API change): its team's tree.

So a core reviewer syncs with the teammates who reviewed the same area and a maintainer
syncs with the teammates who merged the same child tree: the same rule, per area or per
child tree, whatever the team's kind. (Before, maintainer teams synced team-wide on every
pull and conflict while the core synced per area: the 64-person drivers-core at N = 256
spent 31% of its time syncing, and the comparison measured the rule.) The rule is per
area rather than team-wide because Brooks' cost is the cost of shared work: people who
touch different code need not agree on it.

Consequences, each an outcome rather than an input:

* zero work gives zero coordination;
* when everyone on an area is active within the window, a team pays
  ``sync_days_per_contact × (m − 1)`` per job, so twice the work costs about twice the sync;
* growth in team size m is set by how many teammates actually touch the same code: it is
  m − 1 at most, and less when routing keeps areas with their experts or when load is
  light. Where a team's output stops growing with m (H7) therefore moves with its load and
  its routing.

State. :class:`Coordination` (held by :class:`model.OrgModel` as ``model.coordination``)
owns who worked on which code of which team recently. It reads the model's clock and
books sync time through the model's ``book``.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from model.work import ConflictJob, JobKind, Pull, ReviewTask

if TYPE_CHECKING:
    from model.agents import Reviewer, Team
    from model.work import Change

SYNC = JobKind.SYNC


def tree_key(node: int, area: int) -> int:
    """Sync key of team ``node``'s tree: its area if it has exactly one, else −2 − node
    (never an area number)."""
    return area if area >= 0 else -2 - node


def change_key(change: Change) -> int:
    """Sync key of a change: its code area, or its team's tree if it is on no area."""
    return change.area if change.area >= 0 else -2 - change.origin


def sync_key(team: Team, job: object, child_area: list[int] | None = None) -> int:
    """The code ``job`` done by ``team`` is on (see the module docstring).

    ``child_area[c]`` is the area of child team ``c`` (−1 if it has several or none).
    """
    if isinstance(job, ReviewTask):
        return change_key(job.change)
    if isinstance(job, ConflictJob) and job.pull is not None:
        job = job.pull
    if isinstance(job, Pull):
        area = child_area[job.child] if child_area is not None else -1
        return tree_key(job.child, area)
    return tree_key(team.node, team.area)


class AreaActivity:
    """Who worked on one code key of one team recently: a time-ordered log and counts."""

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


class Coordination:
    """Sync time after each job (see the module docstring).

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock (``now``) it reads and whose ``book``
        it books sync time with.
    days_per_contact : ``sync_days_per_contact`` (days per teammate per job).
    window_days : ``sync_window_days`` (days).
    child_area : area of each team by node (−1 for teams of several or no areas).
    """

    def __init__(
        self, model, *, days_per_contact: float, window_days: float, child_area: list[int]
    ) -> None:
        self.model = model
        self.days_per_contact = days_per_contact
        self.window_days = window_days
        self.child_area = child_area
        self.activity: dict[tuple[int, int], AreaActivity] = {}  # (team node, key)

    def after_job(self, reviewer: Reviewer, job: object) -> float:
        """``reviewer`` finished ``job``: it syncs with teammates recently active on the
        same code; returns the sync days booked (called only when ``days_per_contact`` >
        0)."""
        team = reviewer.team
        key = (team.node, sync_key(team, job, self.child_area))
        activity = self.activity.get(key)
        if activity is None:
            activity = self.activity[key] = AreaActivity()
        now = self.model.now
        contacts = activity.others_active(now, now - self.window_days, reviewer.unique_id)
        if not contacts:
            return 0.0
        days = self.days_per_contact * contacts
        free_from = reviewer.free_from
        start = free_from if free_from >= now else now
        availability = self.model.availability
        if availability is None:
            reviewer.free_from = start + days
        else:  # done in its review hours, like every reviewer job (model.availability)
            reviewer.free_from = availability.finish(reviewer.unique_id, start, days)
        self.model.book(SYNC, days, team)
        return days
