"""A time limit on one run, in whatever thread or process runs it.

:func:`time_limit` starts a timer thread; when the limit passes before the block ends, it
raises :class:`RunTimeout` in the thread running the block (CPython's
``PyThreadState_SetAsyncExc``). That works the same in the sweep process (the sequential
backend), in a loky worker process and in a Dask worker's thread, where a signal (which only
reaches a process's main thread) would not. The model is pure Python, so the exception
arrives within one bytecode of the limit; code stuck inside one call into compiled code is
interrupted only when that call returns.

:class:`RunTimeout` derives from ``BaseException`` so that an ``except Exception`` inside the
model cannot swallow it. Why not a plain ``signal.alarm``: it reaches only a process's main
thread, and a Dask worker runs its tasks in another (``tests/test_timeout.py``:
``test_the_limit_works_in_a_thread_that_is_not_the_main_one``); the sequential backend
runs in the sweep process itself, which a limit enforced by killing the worker process
would kill.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections.abc import Iterator

# How long to wait for an exception already sent to arrive (it comes at the thread's next
# bytecode boundary, which a thread leaving the block reaches at once).
ARRIVAL_WAIT_S = 1.0


class RunTimeout(BaseException):
    """A run went on longer than its time limit."""


def _raise_in(thread_id: int) -> None:
    """Make ``RunTimeout`` the next thing the thread ``thread_id`` raises."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(RunTimeout)
    )


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`RunTimeout` out of the block if it runs longer than ``seconds``.

    ``None`` means no limit. The exception is raised only inside the block (or as it
    leaves it), never later in the caller's code.
    """
    if seconds is None:
        yield
        return
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def fire() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _raise_in(target)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    raised: BaseException | None = None
    try:
        yield
    except BaseException as err:
        raised = err
        raise
    finally:
        with lock:
            state["done"] = True
            fired = state["fired"]
        timer.cancel()
        if fired and not isinstance(raised, RunTimeout):
            _receive_pending()


def _receive_pending() -> None:
    """Let an exception sent to this thread arrive here, not in the caller's later code."""
    deadline = time.monotonic() + ARRIVAL_WAIT_S
    while time.monotonic() < deadline:
        time.sleep(0.001)
    raise RunTimeout  # it was swallowed inside the block: the limit still passed


__all__ = ["RunTimeout", "time_limit"]
