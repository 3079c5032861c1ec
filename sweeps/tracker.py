"""Which run each worker process holds, and which worker died first.

When one loky worker dies, loky kills every other worker of the pool, so all the runs in
flight are lost together, though only one of them is to blame. To tell which, each worker
announces on a Unix socket the run it starts and the run it finishes
(:func:`announce`); a thread of the sweep process (:class:`WorkerTracker`) reads the
announcements and notes the connections that close, in the order the kernel reports them.
The first worker to die is the one whose run killed it: the others are killed only after
loky has noticed that death. Several workers reported dead at once are all suspects; a
worker that dies before announcing its run is not seen here, which is why the runner also
treats a run lost in two pool failures as a suspect.

What it buys: without it every run lost with a broken pool is a suspect, retried alone
one after another; in ``test_a_killed_worker_is_survived_and_only_its_run_is_retried_alone``
that is 8 runs retried alone instead of the one that killed its worker (21.8 s instead
of 3.5 s).

POSIX only (Unix sockets); :func:`tracking_available` says whether it can be used.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import socket
import tempfile
import threading
import time

SETTLE_S = 2.0


def tracking_available() -> bool:
    """Whether worker tracking works here (it needs Unix sockets)."""
    return hasattr(socket, "AF_UNIX") and os.name == "posix"


class WorkerTracker:
    """A Unix socket server that records the run each connected worker holds.

    Use as a context manager; :attr:`address` goes to the workers with each task.
    """

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="orgscale-workers-")
        self.address = os.path.join(self._dir, "socket")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(self.address)
        self._server.listen(64)
        self._server.setblocking(False)
        self._wake_r, self._wake_w = os.pipe()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ)
        self._selector.register(self._wake_r, selectors.EVENT_READ)
        self._lock = threading.Lock()
        self._holding: dict[socket.socket, str | None] = {}
        self._epoch = 0  # bumped by reset(); a connection belongs to the epoch it came in
        self._epochs: dict[socket.socket, int] = {}
        self._pending: dict[socket.socket, bytes] = {}
        self._first_deaths: list[str] | None = None
        self._thread = threading.Thread(target=self._serve, name="orgscale-tracker", daemon=True)
        self._thread.start()

    def __enter__(self) -> WorkerTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the thread and remove the socket."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        for conn in list(self._holding):
            conn.close()
        self._server.close()
        self._selector.close()
        os.close(self._wake_r)
        os.close(self._wake_w)
        shutil.rmtree(self._dir, ignore_errors=True)

    def first_deaths(self, wait_s: float = SETTLE_S) -> list[str]:
        """Runs held by the first workers that died holding one since :meth:`reset`.

        Waits up to ``wait_s`` for the report of a death that the caller has already seen
        (e.g. as loky's ``TerminatedWorkerError``); empty if none came.
        """
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                if self._first_deaths is not None:
                    return list(self._first_deaths)
            if time.monotonic() >= deadline:
                return []
            time.sleep(0.01)

    def reset(self) -> None:
        """Forget the deaths seen so far: a new pool of workers starts.

        Workers connected before are of the old pool (loky killed them all when it broke);
        their deaths, even if reported later, are not counted against the new pool.
        """
        with self._lock:
            self._first_deaths = None
            self._epoch += 1

    # ------------------------------------------------------------------ the thread
    def _serve(self) -> None:
        while True:
            died: list[tuple[int, str]] = []
            for key, _ in self._selector.select():
                if key.fileobj == self._wake_r:
                    return
                if key.fileobj is self._server:
                    self._accept()
                elif not self._read(key.fileobj):
                    held = self._holding.pop(key.fileobj, None)
                    epoch = self._epochs.pop(key.fileobj)
                    if held is not None:  # a worker that exits between runs is no suspect
                        died.append((epoch, held))
                    self._selector.unregister(key.fileobj)
                    key.fileobj.close()
            if died:
                with self._lock:
                    now = [run for epoch, run in died if epoch == self._epoch]
                    if now and self._first_deaths is None:
                        self._first_deaths = now

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while True:
                conn, _ = self._server.accept()
                conn.setblocking(False)
                self._holding[conn] = None
                with self._lock:
                    self._epochs[conn] = self._epoch
                self._selector.register(conn, selectors.EVENT_READ)

    def _read(self, conn: socket.socket) -> bool:
        """Take every announcement waiting on ``conn``; ``False`` once its worker is gone."""
        data = self._pending.pop(conn, b"")
        alive = True
        while True:
            try:
                chunk = conn.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                alive = False
                break
            if not chunk:
                alive = False
                break
            data += chunk
        *lines, rest = data.split(b"\n")
        if rest:
            self._pending[conn] = rest
        for line in lines:
            verb, _, run_id = line.decode().partition(" ")
            self._holding[conn] = run_id if verb == "start" else None
        return alive


# ---------------------------------------------------------------------- the worker side
_CONNECTION: tuple[str, socket.socket] | None = None


def announce(address: str | None, verb: str, run_id: str) -> None:
    """From a worker: tell the tracker at ``address`` that it ``verb``s (start/end) a run.

    Connects on first use; a tracker that has gone away is ignored (the run goes on).
    """
    global _CONNECTION
    if address is None:
        return
    try:
        if _CONNECTION is None or _CONNECTION[0] != address:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(address)
            _CONNECTION = (address, sock)
        _CONNECTION[1].sendall(f"{verb} {run_id}\n".encode())
    except OSError:
        _CONNECTION = None


__all__ = ["WorkerTracker", "announce", "tracking_available"]
