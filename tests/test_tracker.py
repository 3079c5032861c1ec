"""The worker tracker: which run each worker held, and which died first."""

from __future__ import annotations

import socket

import pytest

from sweeps import tracker as tracking
from sweeps.tracker import WorkerTracker

pytestmark = pytest.mark.skipif(not tracking.tracking_available(), reason="needs Unix sockets")


def worker(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(address)
    return sock


def test_the_first_worker_to_die_is_named_with_the_run_it_held():
    with WorkerTracker() as tracker:
        a, b = worker(tracker.address), worker(tracker.address)
        a.sendall(b"start run-a1\nend run-a1\nstart run-a2\n")
        b.sendall(b"start run-b1\n")
        a.close()  # dies holding run-a2
        assert tracker.first_deaths() == ["run-a2"]
        b.close()  # killed afterwards: not the first
        assert tracker.first_deaths() == ["run-a2"]
        tracker.reset()
        assert tracker.first_deaths(wait_s=0.1) == []


def test_a_worker_that_exits_between_runs_is_no_suspect():
    with WorkerTracker() as tracker:
        idle, busy = worker(tracker.address), worker(tracker.address)
        idle.sendall(b"start run-1\nend run-1\n")
        busy.sendall(b"start run-2\n")
        idle.close()
        assert tracker.first_deaths(wait_s=0.3) == []
        busy.close()
        assert tracker.first_deaths() == ["run-2"]


def test_announce_reaches_the_tracker_and_survives_its_absence(monkeypatch):
    monkeypatch.setattr(tracking, "_CONNECTION", None)
    with WorkerTracker() as tracker:
        tracking.announce(tracker.address, "start", "run-x")
        tracking._CONNECTION[1].close()
        assert tracker.first_deaths() == ["run-x"]
    tracking.announce("/nonexistent/socket", "start", "run-y")  # ignored
    tracking.announce(None, "start", "run-z")
