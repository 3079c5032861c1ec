"""Progress reports: a bar on a terminal, plain lines in a log, nothing when quiet."""

from __future__ import annotations

import io

import pytest

from sweeps.progress import Progress, format_duration


def test_progress_writes_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress("demo", total=20, done=10, stream=stream)
    for i in range(10):
        progress.update(failed=i == 3)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep demo: 12/20 done, 0 failed, ETA ")
    assert lines[-1].startswith("sweep demo: 20/20 done, 1 failed, ETA 0s")
    assert len(lines) == 5  # one line per tenth of the sweep


def test_quiet_progress_writes_nothing():
    stream = io.StringIO()
    progress = Progress("demo", total=5, done=0, quiet=True, stream=stream)
    for _ in range(5):
        progress.update(failed=False)
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0s"), (45, "45s"), (192, "3m12s"), (3725, "1h02m")]
)
def test_durations_read_like_3m12s(seconds, text):
    assert format_duration(seconds) == text
