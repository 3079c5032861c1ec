"""The gate: approved changes are tested before they merge into their tree (Zuul).

Every tree has its own gate (a tree is a team's branch of the code: the single core's, a
peer's, a leaf's). An approved change of a code area enters the gate of its home tree;
a team's change to its own API that is on no code area (a maintainer team's) and a unit
pulled from a child tree are not gated. Modes (``gate``):

* ``none``: an approved change merges at once.
* ``independent``: each approved change runs its own gate run of ``gate_days``, in
  parallel with every other (a gate with unlimited capacity).
* ``serial``: Zuul's dependent pipeline. Approved changes queue in one line per tree and
  are tested speculatively in runs of up to ``gate_window`` changes from the head of the
  line, each tested on top of those ahead of it; a run takes ``gate_days``. When the run
  ends the changes are taken in order: a change passes and merges unless it fails, and
  the first failure ejects that change; every change behind it was tested on top of a
  failing change, so its result is void and it goes back to the head of the line to be
  tested again (a *gate reset*). Changes approved during a run wait for the next run; a
  change made stale while it waited in line fails as the run is put together (Zuul's
  merger finds the conflict before any test runs).

Why a change fails a run (both modes):

* a real conflict: a coupled change merged into the tree since its approval (it is stale,
  :mod:`model.coupling`), including a change ahead of it in the same run; the author
  rebases and the new patch set is reviewed again;
* a nondeterministic (flaky) failure with the tree's flaky probability (below); the change
  keeps its approvals and is sent through the gate again at the back of the line (a
  "recheck"/"reverify"), at no reviewer's cost.

Flaky probability and the code under test. ``gate_flaky_prob`` is the probability that
one gate run of a tree the size of Nova's (:data:`REFERENCE_AREAS` = 16 areas, the Nova
preset) fails for no fault of the change. OpenStack's gate reports put each tempest job's
failure rate at 5–10% in Nov 2013 ("Gate Math", openstack-dev 2013-11/019042), with a few
such bugs enough to wedge the gate (2013-11, "Unwedging the gate": "a patch that fails 10%
of the time can slip through"); the gate ran near worst case with a queue 130 deep, and
79 deep in Jan 2014 (2014-01/025344). The default, 5%, is the low end of those rates for
one run. A gate run tests the whole tree, and each area brings its own tests with their
own races, independently of the others' (the gate math of the same message: failure
probabilities of independent jobs add up). So a tree of ``a`` areas fails a run
spuriously with probability ``1 − (1 − gate_flaky_prob) ** ((a / 16) ** gate_flaky_growth)``;
with the default growth 1 (independent areas): 5% for Nova's 16 areas, 19% for 64, 56% for
256, 0.3% for a driver's tree of one area. A tree's areas are those merged into it: its own
and its descendants' (a driver's 1, a single core's N, the mainline's N, which gates only
changes sent to it directly or, in a flat split, its own team's). Growth 0 is a suite
whose flakiness does not grow with the code (flaky tests fixed as fast as they come, or
tests that do not grow). This is how the gate's cost grows with the code it guards, and
the one-core organisation's limit under a serial gate moves with it: both numbers are
assumptions with plausible ranges the sensitivity analysis samples, not measurements.

State. :class:`Gates` (held by :class:`model.OrgModel` as ``model.gates``) owns one
:class:`TreeGate` per tree (its line, its run in progress and its flaky probability) and
the gate's counters. It reads the model's clock (``now``, ``warmup_days``), random
stream, event queue and event log, and calls ``model.integration.merge_home`` (a change
passed) and ``model.review.send_back`` (a stale change goes back to its author).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from model.eventlog import GATE

if TYPE_CHECKING:
    from model.work import Change

GATE_MODES = ("none", "independent", "serial")

#: Areas of the tree whose flaky probability ``gate_flaky_prob`` is (Nova's, the preset's).
REFERENCE_AREAS = 16
#: Highest flaky probability of a tree's gate run, however large the tree.
MAX_FLAKY_PROB = 0.99


def tree_flaky_prob(flaky_prob: float, areas: int, growth: float = 1.0) -> float:
    """Probability that one gate run of a tree of ``areas`` code areas fails spuriously.

    ``1 − (1 − flaky_prob) ** ((areas / 16) ** growth)``: ``flaky_prob`` at Nova's 16
    areas; with ``growth`` 1 each area's tests fail independently of the others', so the
    chance that none fails falls geometrically with the code under test; with 0 the suite
    (or its flakiness) does not grow with the code. At most :data:`MAX_FLAKY_PROB`: a
    gate that never passes would hold its line for ever (and with ``gate_days`` 0 stop the
    clock).
    """
    return min(1.0 - (1.0 - flaky_prob) ** ((areas / REFERENCE_AREAS) ** growth), MAX_FLAKY_PROB)


class GateEntry:
    """An approved change in a gate: when it entered (days) and how often it ran."""

    __slots__ = ("change", "entered_at", "runs")

    def __init__(self, change: Change, entered_at: float) -> None:
        self.change = change
        self.entered_at = entered_at
        self.runs = 0


class TreeGate:
    """One tree's serial gate: its line, the run in progress and its flaky probability."""

    __slots__ = ("flaky_prob", "line", "node", "running")

    def __init__(self, node: int, flaky_prob: float) -> None:
        self.node = node
        self.flaky_prob = flaky_prob
        self.line: deque[GateEntry] = deque()  # waiting, head first
        self.running: list[GateEntry] = []  # the run in progress, head first


class Gates:
    """Every tree's gate and the gate's counters (see the module docstring).

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock, random stream, event queue and event
        log the gates use, and whose ``integration.merge_home`` / ``review.send_back`` they call.
    mode : ``none``, ``independent`` or ``serial``.
    gate_days : duration of one gate run (days).
    window : ``serial``: most changes tested in one run.
    flaky_prob : ``gate_flaky_prob``, a run's spurious failure probability at 16 areas.
    flaky_growth : ``gate_flaky_growth``, how it grows with a tree's areas.
    tree_areas : code areas of each tree, by team node.
    """

    def __init__(
        self,
        model,
        *,
        mode: str,
        gate_days: float,
        window: int,
        flaky_prob: float,
        tree_areas: list[int],
        flaky_growth: float = 1.0,
    ) -> None:
        self.model = model
        self.mode = mode
        self.gate_days = gate_days
        self.window = window
        self.trees = [
            TreeGate(node, tree_flaky_prob(flaky_prob, areas, flaky_growth))
            for node, areas in enumerate(tree_areas)
        ]
        # counters, after warm-up
        self.n_runs = 0  # gate runs ended (serial: one per run of up to ``window`` changes)
        self.n_conflict_failures = 0  # changes failed because they were stale
        self.n_flaky_failures = 0  # changes failed spuriously
        self.n_resets = 0  # serial: failures that voided the results of changes behind
        self.n_retests = 0  # serial: changes sent back to the head of the line by a reset
        self.queue_days: list[float] = []  # entry to merge of each change merged

    # ------------------------------------------------------------------ entry
    def gated(self, change: Change) -> bool:
        """Does ``change`` pass a gate before it merges (a mode other than ``none``, and
        a change on a code area)?"""
        return self.mode != "none" and change.area >= 0

    def submit(self, change: Change) -> None:
        """An approved change enters its home tree's gate."""
        entry = GateEntry(change, self.model.now)
        if self.mode == "independent":
            self._start_single(entry)
            return
        tree = self.trees[change.home]
        tree.line.append(entry)
        if not tree.running:
            self._start_run(tree)

    # ------------------------------------------------------------------ independent
    def _start_single(self, entry: GateEntry) -> None:
        entry.runs += 1
        self.model.events.push(self.model.now + self.gate_days, self.finish_single, entry)

    def finish_single(self, entry: GateEntry) -> None:
        """``independent``: one change's own gate run ends."""
        change = entry.change
        if change.abandoned:
            return
        if self.model.measuring:
            self.n_runs += 1
        verdict = self._verdict(self.trees[change.home], change)
        self._record(change, "pass" if verdict is None else "fail")
        if verdict is None:
            self._merge(entry)
        elif verdict == "flaky":
            self._start_single(entry)
        else:
            self.model.review.send_back(change, rework=False)

    # ------------------------------------------------------------------ serial
    def _start_run(self, tree: TreeGate) -> None:
        """Test up to ``window`` changes from the head of ``tree``'s line."""
        line, running = tree.line, tree.running
        while line and len(running) < self.window:
            entry = line.popleft()
            change = entry.change
            if change.abandoned:
                continue
            if change.stale:
                # a coupled change merged while it waited: the merge fails before any test
                # runs (Zuul's merger), and the author rebases
                if self.model.measuring:
                    self.n_conflict_failures += 1
                self._record(change, "fail")
                self.model.review.send_back(change, rework=False)
                continue
            entry.runs += 1
            running.append(entry)
        if running:
            self.model.events.push(self.model.now + self.gate_days, self.finish_run, tree)

    def finish_run(self, tree: TreeGate) -> None:
        """``serial``: a run ends; changes merge in order up to the first failure, which
        is ejected; the changes behind it go back to the head of the line."""
        model = self.model
        measuring = model.measuring
        if measuring:
            self.n_runs += 1
        batch, tree.running = tree.running, []
        behind: list[GateEntry] = []
        for i, entry in enumerate(batch):
            change = entry.change
            if change.abandoned:
                # the author abandoned it during the run: Zuul dequeues it and restarts
                # the changes behind it
                behind = [e for e in batch[i + 1 :] if not e.change.abandoned]
                break
            verdict = self._verdict(tree, change)
            self._record(change, "pass" if verdict is None else "fail")
            if verdict is None:
                self._merge(entry)  # may make changes behind it stale (tested on top of it)
                continue
            behind = [e for e in batch[i + 1 :] if not e.change.abandoned]
            if verdict == "flaky":
                tree.line.append(entry)  # recheck: back of the line, approvals kept
            else:
                model.review.send_back(change, rework=False)
            break
        if behind:
            if measuring:
                self.n_resets += 1
                self.n_retests += len(behind)
            for entry in behind:
                self._record(entry.change, "fail")  # its run was void: tested again
            tree.line.extendleft(reversed(behind))
        self._start_run(tree)

    # ------------------------------------------------------------------ shared
    def _verdict(self, tree: TreeGate, change: Change) -> str | None:
        """Why ``change`` fails this run (``"conflict"``, ``"flaky"``) or None: it passes.

        A stale change fails on its conflict (no random draw); otherwise one draw decides
        a flaky failure.
        """
        measuring = self.model.measuring
        if change.stale:
            if measuring:
                self.n_conflict_failures += 1
            return "conflict"
        if tree.flaky_prob > 0 and self.model.random.random() < tree.flaky_prob:
            if measuring:
                self.n_flaky_failures += 1
            return "flaky"
        return None

    def _merge(self, entry: GateEntry) -> None:
        spent = self.model.now - entry.entered_at
        if self.model.measuring:
            self.queue_days.append(spent)
        # beyond the one run it needed, its time in the gate was congestion
        entry.change.queued_days += max(spent - self.gate_days, 0.0)
        self.model.integration.merge_home(entry.change)

    def _record(self, change: Change, outcome: str) -> None:
        log = self.model.event_log
        if log is not None:
            log.append((self.model.now, GATE, change.id, change.home, -1, outcome))
