"""A run's time limit: raised inside the block that overran, never later, never swallowed."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from sweeps.timeout import RunTimeout, time_limit


def test_a_block_past_its_limit_is_stopped_even_if_it_catches_exceptions():
    stopped_at = []
    with pytest.raises(RunTimeout), time_limit(0.2):
        for i in range(10**9):
            with contextlib.suppress(Exception):  # as the model's own error handling might
                time.sleep(0.01)
            stopped_at.append(i)
    assert stopped_at


def test_a_block_within_its_limit_is_left_alone_afterwards():
    with time_limit(1.0):
        total = sum(range(100))
    time.sleep(1.5)  # past the limit: nothing may arrive once the block has ended
    assert total == 4950


def test_the_limit_works_in_a_thread_that_is_not_the_main_one():
    outcome = []

    def run() -> None:
        try:
            with time_limit(0.2):
                while True:
                    time.sleep(0.01)
        except RunTimeout:
            outcome.append("timeout")

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert outcome == ["timeout"]


def test_no_limit_means_none():
    with time_limit(None):
        time.sleep(0.05)
