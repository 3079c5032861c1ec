"""Sweep progress: a tqdm bar on a terminal, plain periodic log lines otherwise, or silence."""

from __future__ import annotations

import sys
import time
from typing import TextIO

LOG_EVERY_SECONDS = 10.0
LOG_STEPS = 10  # a line every tenth of the runs


def format_duration(seconds: float) -> str:
    """``3m12s``-style duration (``1h02m``, ``45s``)."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Progress:
    """Report runs done out of ``total`` (``done`` of them before this invocation), and failures.

    On a terminal (``stream.isatty()``) it draws a tqdm bar with done/total, failures and
    ETA; otherwise it writes a line such as ``sweep paper: 120/540 done, 0 failed, ETA
    3m12s`` every ``LOG_EVERY_SECONDS`` or every tenth of the runs; ``quiet`` silences both.
    The ETA extrapolates from runs finished by this invocation only.
    """

    def __init__(
        self, name: str, total: int, done: int, *, quiet: bool = False, stream: TextIO | None = None
    ) -> None:
        self.name, self.total, self.done = name, total, done
        self.failed = 0
        self.stream = sys.stderr if stream is None else stream
        self.quiet = quiet
        self._start_done = done
        self._start = time.monotonic()
        self._last_log = self._start
        self._last_fraction_step = done * LOG_STEPS // total if total else 0
        self._bar = None
        if not quiet and _isatty(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                initial=done,
                desc=f"sweep {name}",
                unit="run",
                file=self.stream,
                dynamic_ncols=True,
                postfix={"failed": 0},
            )

    def update(self, *, failed: bool) -> None:
        """Count one more finished run."""
        self.done += 1
        self.failed += int(failed)
        if self._bar is not None:
            self._bar.update(1)
            if failed:
                self._bar.set_postfix(failed=self.failed)
            return
        if self.quiet:
            return
        now = time.monotonic()
        step = self.done * LOG_STEPS // self.total if self.total else 0
        if now - self._last_log >= LOG_EVERY_SECONDS or step > self._last_fraction_step:
            self._last_log, self._last_fraction_step = now, step
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def eta(self) -> float | None:
        """Seconds left, extrapolated from this invocation's rate; ``None`` before any run."""
        finished = self.done - self._start_done
        if finished <= 0:
            return None
        rate = finished / (time.monotonic() - self._start)
        return (self.total - self.done) / rate if rate > 0 else None

    def line(self) -> str:
        """The plain progress line."""
        eta = self.eta()
        return f"sweep {self.name}: {self.done}/{self.total} done, {self.failed} failed, ETA " + (
            "?" if eta is None else format_duration(eta)
        )

    def close(self) -> None:
        """Finish the bar (a no-op for log lines)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
