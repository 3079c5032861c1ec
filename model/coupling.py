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
coupled open changes stale, and their authors rebase (:class:`Coupling`); across trees the
pair meets at an upward merge or a CI test-merge (:mod:`model.integration`).

State. :class:`Coupling` (held by :class:`model.OrgModel` as ``model.coupling``) owns the
areas' coupling probabilities, every tree's open changes by area and the stale and rebase
counts. It reads the model's clock (``now``), both random streams and event log, and books
authors' rebase time through the model's ``book``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.eventlog import REBASED
from model.work import JobKind

if TYPE_CHECKING:
    from model.model import OrgModel
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


class Coupling:
    """Conflicts inside one tree become rebases.

    Every tree that reviews changes keeps its open changes (submitted, not yet merged into
    it) by area. When a change merges into the tree, each open change coupled to it
    becomes stale with the coupling probability of their areas. A stale change is found
    when its review round ends or in its tree's gate (:mod:`model.gate`): its author
    rebases it (``rebase_days`` of author time) and the new patch set is reviewed again
    (approvals are lost); the rebase and the review of a patch set made only by a rebase
    are both booked to the ``cost_rebase`` account. This is the single tree's share of
    "paying the integration cost somewhere".

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock (``now``), random streams
        (``rng``, ``random``) and event log it uses and whose ``book`` it books rebases with.
    n_areas : code areas (N).
    branching, same_area_prob, sibling_prob, decay : the code's module tree and coupling
        (``coupling_branching``, ``coupling_same_area_prob``, ``coupling_sibling_prob``,
        ``coupling_decay``; see the module docstring).
    rebase_days : author time one rebase takes (days).
    warmup_days : stale changes and rebases from then on are counted (days).
    several_areas : for each tree (by team node), whether changes of several areas open in
        it (the single core, a split team over several areas, a top that takes changes
        directly) rather than of its team's one area.
    """

    def __init__(
        self,
        model: OrgModel,
        *,
        n_areas: int,
        branching: int,
        same_area_prob: float,
        sibling_prob: float,
        decay: float,
        rebase_days: float,
        warmup_days: float,
        several_areas: list[bool],
    ) -> None:
        self.model = model
        self.rebase_days = rebase_days
        self.warmup_days = warmup_days
        #: (n_areas, n_areas) probability that changes in two areas conflict when they meet
        self.area_coupling = area_coupling(
            n_areas,
            branching=branching,
            same_area_prob=same_area_prob,
            sibling_prob=sibling_prob,
            decay=decay,
        )
        #: False when no two changes can conflict through the code (nothing to track)
        self.is_coupled = bool(self.area_coupling.any())
        # each tree's open changes: by area, and counted by area slot (one slot for a tree
        # of one area)
        self.open_by_area: list[dict[int, list[Change]]] = [{} for _ in several_areas]
        self.open_counts: list[np.ndarray] = [
            np.zeros(n_areas if several else 1, dtype=np.int64) for several in several_areas
        ]
        self.n_stale = 0  # changes made stale, after warm-up
        self.n_rebases = 0  # rebases, after warm-up

    def between_teams(self, node_area: np.ndarray) -> np.ndarray:
        """(nodes, nodes) probability that changes of two teams conflict through the code,
        from each team's area ``node_area`` (0 for a team of several or no areas)."""
        has_area = node_area >= 0
        idx = np.where(has_area, node_area, 0)
        return self.area_coupling[np.ix_(idx, idx)] * np.outer(has_area, has_area)

    def open_change(self, change: Change) -> None:
        """Track ``change`` as open in its home tree (it can be made stale); called only
        when the code is coupled."""
        area = change.area
        if area < 0:
            return
        bucket = self.open_by_area[change.home].setdefault(area, [])
        change.open_slot = len(bucket)
        bucket.append(change)
        counts = self.open_counts[change.home]
        counts[area if counts.size > 1 else 0] += 1

    def close_change(self, change: Change) -> None:
        """Stop tracking ``change`` (merged into its home tree or abandoned)."""
        area = change.area
        if area < 0 or change.open_slot < 0:
            return
        bucket = self.open_by_area[change.home][area]
        last = bucket.pop()
        if last is not change:
            bucket[change.open_slot] = last
            last.open_slot = change.open_slot
        change.open_slot = -1
        counts = self.open_counts[change.home]
        counts[area if counts.size > 1 else 0] -= 1

    def invalidate_coupled(self, change: Change) -> None:
        """``change`` merged into its home tree: coupled open changes become stale."""
        area = change.area
        if area < 0:
            return
        model = self.model
        counts = self.open_counts[change.home]
        if counts.size == 1:
            n_open = int(counts[0])
            if n_open == 0:  # a binomial draw with n = 0 uses no random numbers
                return
            k = int(model.rng.binomial(n_open, self.area_coupling[area, area]))
            hits = [(area, k)] if k else []
        else:
            drawn = model.rng.binomial(counts, self.area_coupling[area])
            if not np.count_nonzero(drawn):  # the usual case: nothing made stale
                return
            idx = np.flatnonzero(drawn)
            hits = zip(idx.tolist(), drawn[idx].tolist(), strict=True)
        open_by_area = self.open_by_area[change.home]
        measuring = model.now >= self.warmup_days
        for hit_area, k in hits:
            bucket = open_by_area[hit_area]
            for victim in model.random.sample(bucket, min(k, len(bucket))):
                if not victim.stale:
                    victim.stale = True
                    if measuring:
                        self.n_stale += 1

    def rebase(self, change: Change) -> float:
        """The author rebases a stale change: books ``rebase_days`` and returns the delay
        (the caller counts the new patch set the rebase makes)."""
        model = self.model
        change.stale = False
        if model.event_log is not None:
            model.event_log.append((model.now, REBASED, change.id, change.home, change.author, ""))
        if model.now >= self.warmup_days:
            self.n_rebases += 1
        model.book(JobKind.REBASE, self.rebase_days, None)
        return self.rebase_days
