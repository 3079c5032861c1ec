"""Code coupling: which changes invalidate which, whatever the organisation.

The code has N areas grouped ``coupling_branching`` at a time into modules, modules into
larger modules, and so on (the same structure under every topology, so organisations are
compared on the same code). Two changes *conflict* (one must be rebased onto the other)
with a probability set by how close their areas are:

* same area: ``coupling_same_area_prob``;
* sibling areas (same smallest module): ``coupling_sibling_prob``;
* areas whose smallest common module is h levels up: ``coupling_sibling_prob`` ×
  ``coupling_decay`` ** (h − 1).

API links add ``conflict_prob`` × badness on top for changes of linked teams
(see :mod:`model.links`). How the organisation pays for a conflict depends on where the two
changes meet: in one tree (the single core, or inside any team) a landing change makes
coupled open changes stale, and their authors rebase (:class:`RebaseMechanism`); across
trees the pair meets at an upward merge or a CI test-merge (:mod:`model.integration`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.eventlog import REBASED
from model.work import JobKind

if TYPE_CHECKING:
    from model.agents import Team
    from model.work import Change


def module_height(n_areas: int, branching: int) -> np.ndarray:
    """(n, n) integers: 0 for the same area, else the height of the areas' smallest common
    module (1 for siblings) in a tree of fan-out ``branching`` over ``n_areas`` areas."""
    index = np.arange(n_areas)
    gi, gj = index[:, None], index[None, :]
    height = np.zeros((n_areas, n_areas), dtype=np.int64)
    differ = gi != gj
    while differ.any():
        height[differ] += 1
        gi, gj = gi // branching, gj // branching
        differ = gi != gj
    return height


def area_coupling(
    n_areas: int, *, branching: int, same_area_prob: float, sibling_prob: float, decay: float
) -> np.ndarray:
    """(n, n) probabilities that two changes in areas i, j conflict when they meet."""
    height = module_height(n_areas, branching)
    prob = sibling_prob * np.power(decay, np.maximum(height - 1, 0).astype(float))
    prob[height == 0] = same_area_prob
    return prob


class RebaseMechanism:
    """Mixin for :class:`model.OrgModel`: conflicts inside one tree become rebases.

    Every team that reviews changes keeps its open changes (submitted, not yet merged
    into its tree) by area. When a change merges into the team's tree, each open change
    coupled to it becomes stale with the coupling probability of their areas. A stale
    change is found when its review round ends or in its tree's gate (:mod:`model.gate`):
    its author rebases it (``rebase_days`` of author time) and the new patch set is
    reviewed again (approvals are lost); the rebase and the review of a patch set made only
    by a rebase are both booked to the ``cost_rebase`` account. This is the single tree's
    share of "paying the integration cost somewhere".
    """

    def open_change(self, team: Team, change: Change) -> None:
        """Track ``change`` as open in ``team``'s tree (it can be made stale); called only
        when the code is coupled."""
        area = change.area
        if area < 0:
            return
        bucket = team.open_by_area.setdefault(area, [])
        change.open_slot = len(bucket)
        bucket.append(change)
        team.open_counts[self.area_slot(team, area)] += 1

    def close_change(self, team: Team, change: Change) -> None:
        """Stop tracking ``change`` (merged into ``team``'s tree or abandoned)."""
        area = change.area
        if area < 0 or change.open_slot < 0:
            return
        bucket = team.open_by_area[area]
        last = bucket.pop()
        if last is not change:
            bucket[change.open_slot] = last
            last.open_slot = change.open_slot
        change.open_slot = -1
        team.open_counts[self.area_slot(team, area)] -= 1

    def area_slot(self, team: Team, area: int) -> int:
        """Index of ``area`` in ``team.open_counts`` (one slot for one-area teams)."""
        return area if team.open_counts.size > 1 else 0

    def invalidate_coupled(self, team: Team, change: Change) -> None:
        """``change`` merged into ``team``'s tree: coupled open changes become stale."""
        area = change.area
        if area < 0:
            return
        counts = team.open_counts
        if counts.size == 1:
            n_open = int(counts[0])
            if n_open == 0:  # a binomial draw with n = 0 uses no random numbers
                return
            k = int(self.rng.binomial(n_open, self.area_coupling[area, area]))
            hits = [(area, k)] if k else []
        else:
            drawn = self.rng.binomial(counts, self.area_coupling[area])
            if not np.count_nonzero(drawn):  # the usual case: nothing made stale
                return
            idx = np.flatnonzero(drawn)
            hits = zip(idx.tolist(), drawn[idx].tolist(), strict=True)
        for hit_area, k in hits:
            bucket = team.open_by_area[hit_area]
            for victim in self.random.sample(bucket, min(k, len(bucket))):
                if not victim.stale:
                    victim.stale = True
                    if self.measuring:
                        self.n_stale += 1

    def rebase(self, change: Change) -> float:
        """The author rebases a stale change: books ``rebase_days`` and returns the delay
        (the caller counts the new patch set the rebase makes)."""
        change.stale = False
        if self.event_log is not None:
            self.event_log.append((self.now, REBASED, change.id, change.home, change.author, ""))
        if self.measuring:
            self.n_rebases += 1
        self.book(JobKind.REBASE, self.rebase_days, None)
        return self.rebase_days
