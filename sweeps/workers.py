"""A pool of forked worker processes that Ctrl-C stops instead of hanging.

``validate --jobs N`` and ``calibrate --jobs N`` map runs over a ``multiprocessing`` pool
forked from this process (the workers start with the model imported). Ctrl-C on a terminal
sends SIGINT to the whole process group: a worker that took it died mid-task, and
``Pool.join()`` then waited forever for a task no worker would finish. Here the workers
ignore SIGINT (the parent alone handles it) and a block left by an exception terminates the
pool instead of waiting for it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Iterator
from multiprocessing.pool import Pool


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def forked_pool(processes: int) -> Iterator[Pool]:
    """A pool of ``processes`` workers forked from this process, for a ``with`` block.

    The workers ignore SIGINT. Leaving the block normally closes the pool and waits for its
    workers; leaving it by an exception (``KeyboardInterrupt`` from Ctrl-C included)
    terminates them at once.
    """
    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_ignore_sigint)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()


__all__ = ["forked_pool"]
