"""Helpers shared by the benchmark scripts: interleaved best-of-k timing, event counts,
machine description and plain-text tables.

Not a benchmark itself; the scripts next to it import it (``benchmarks/`` is on
``sys.path`` when a script there is run).
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def machine() -> str:
    """One line describing this machine: cores, CPU model, Python and Mesa versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import mesa

        mesa_version = mesa.__version__
    except ImportError:  # pragma: no cover - mesa is a dependency
        mesa_version = "?"
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"Mesa {mesa_version}, {platform.system()} {platform.release()}"
    )


def load_average() -> str:
    """The 1-minute load average, to show how busy the machine was during a measurement."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:  # pragma: no cover - not on Linux/macOS
        return "?"


def _burn(seconds: float) -> float:
    """Spin for ``seconds`` of wall time; return the share of a core this process got."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall0 < seconds:
        sum(range(1000))
    return (time.process_time() - cpu0) / (time.perf_counter() - wall0)


def available_cores(n: int = 2, seconds: float = 0.3) -> float:
    """How many of ``n`` cores this process tree can get right now (0 … n).

    ``n`` forked processes spin for ``seconds`` at once; each reports the CPU time it got
    per second of wall time. On an idle machine the sum is ``n``; other processes on a
    shared machine lower it. A parallel speed-up cannot exceed this number.
    """
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(n) as pool:
        return float(sum(pool.map(_burn, [seconds] * n)))


PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def adopt_orphans() -> bool:
    """Make this process the reaper of its descendants whose parents exit first (Linux).

    A candidate's grandchildren, such as the forkserver that Dask's workers come from and
    the workers themselves, are then reparented here when the candidate exits, and
    :func:`reap_orphans` adds their CPU time to this process's ``RUSAGE_CHILDREN``, where
    it is counted as the candidate's, not as other processes'. False where unavailable.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_orphans(timeout_s: float = 10.0) -> bool:
    """Wait up to ``timeout_s`` seconds for every child of this process (the orphans
    :func:`adopt_orphans` brought here) to exit, collecting their CPU time; False if some
    are still running then.

    It reaps any child, so call it only where no other code waits for a child of this
    process (here: after ``subprocess.run`` has reaped its candidate).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return True  # no children left
        if pid == 0:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on this machine have used since boot (``/proc/stat``).

    The difference over an interval, minus the CPU time of one's own processes, is what
    other processes used meanwhile: how much a measurement was disturbed. NaN off Linux.
    """
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return float("nan")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy / os.sysconf("SC_CLK_TCK")


def best_of(
    candidates: dict[str, Callable[[], Any]], repeats: int, *, progress: bool = True
) -> dict[str, float]:
    """Time each candidate ``repeats`` times, interleaved, and keep each one's minimum (s).

    Interleaving (A B C A B C …) spreads a burst of load from other processes over all
    candidates instead of penalising whichever ran during it; the minimum is the run least
    disturbed by the machine's other work.
    """
    best = dict.fromkeys(candidates, float("inf"))
    for rep in range(repeats):
        for name, fn in candidates.items():
            started = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - started
            best[name] = min(best[name], elapsed)
            if progress:
                print(
                    f"  [{rep + 1}/{repeats}] {name}: {elapsed:.3f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return best


def count_model_events(build: Callable[[], Any], days: float) -> int:
    """Events an ``OrgModel`` executes in ``days``: pushes onto its event queue minus
    those still pending at the end.

    ``build()`` must return a fresh model. The count is deterministic for a given seed,
    so it is taken in this separate, untimed run: ``EventQueue.push`` is wrapped only here.
    Raises ``RuntimeError`` if the model stops scheduling through ``EventQueue.push``
    (more events pending than were counted), rather than report a wrong rate.
    """
    from model.events import EventQueue

    original = EventQueue.push
    pushes = 0

    def counting_push(self, *args, **kwargs):
        nonlocal pushes
        pushes += 1
        return original(self, *args, **kwargs)

    EventQueue.push = counting_push
    try:
        org = build()
        org.run_for(days)
    finally:
        EventQueue.push = original
    pending = len(org.events)
    mesa_pending = len(org._event_list._events) if hasattr(org, "_event_list") else 0
    if pushes < pending or mesa_pending:
        raise RuntimeError(
            f"event count is unreliable: {pushes} pushes counted, {pending} events pending "
            f"and {mesa_pending} in Mesa's own list; update count_model_events"
        )
    return pushes - pending


def verdict(value: float, target: float, *, at_most: bool) -> str:
    """``PASS`` or ``FAIL`` for ``value`` against ``target`` (``at_most``: value <= target)."""
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "FAIL"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A right-aligned plain-text table (Markdown pipe syntax, so it pastes into a README)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for k, row in enumerate(cells):
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if k == 0:
            lines.append("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # nan
            return "nan"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,d}"
    return str(value)
