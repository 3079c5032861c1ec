"""The model's event core: a binary-heap future-event list.

Mesa 3.5's own ``EventList`` costs about 8× a bare ``heapq`` loop per event (measured in
``benchmarks/bench_queue.py``), which would dominate a model whose every change makes a
dozen events. :class:`EventQueue` keeps Mesa's semantics (time-ordered, FIFO among equal
times, callbacks are plain callables) at heapq speed; :class:`model.OrgModel` drives it
from Mesa's ``run_for`` / ``run_until`` / ``step`` so the Mesa API is unchanged.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from heapq import heappush
from typing import Any


class EventQueue:
    """Future events as ``(time, seq, callback, argument)``; ties run in insertion order."""

    __slots__ = ("_counter", "heap")

    def __init__(self) -> None:
        self.heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._counter = itertools.count()

    def push(self, time: float, callback: Callable[[Any], None], argument: Any = None) -> None:
        """Schedule ``callback(argument)`` at absolute ``time`` (days)."""
        heappush(self.heap, (time, next(self._counter), callback, argument))

    def next_time(self) -> float:
        """Time of the earliest pending event, or +inf when there is none."""
        return self.heap[0][0] if self.heap else float("inf")

    def __len__(self) -> int:
        return len(self.heap)
