"""Where runs execute: loky worker processes, this process, or a Dask cluster.

:func:`execute_all` runs a list of tasks on one backend and hands every result to a
callback as it arrives, in completion order (joblib ``return_as="generator_unordered"``, or
``dask.distributed.as_completed``), so memory stays flat:

* ``loky`` (default; ``jobs`` processes). On Linux the workers are forked from the sweep
  process (:func:`loky_start_method`): a fresh worker interpreter spends about a second
  importing Mesa (which pulls in pandas, scipy and networkx) before its first run, a forked
  one starts with everything imported.
* ``sequential``: in this process.
* ``dask``: an existing ``dask.distributed`` scheduler given by address, or a
  ``LocalCluster`` of ``jobs`` single-threaded worker processes on 127.0.0.1. Dask is driven
  with ``client.submit`` and ``as_completed`` rather than joblib's dask backend, which waits
  forever for the result of a task whose worker was killed.

A worker process that dies (``TerminatedWorkerError`` from loky, ``KilledWorker`` from
dask) does not stop the sweep. Only the run that worker held is to blame: loky's workers
announce the run they hold (:mod:`sweeps.tracker`), dask names it (very short runs go to
dask several to a task; a task of several whose worker died is split into one-run tasks,
so that the next death names the run). That run is retried once
at the end, alone in a fresh process so that it cannot take others down with it, and
recorded as ``failed`` if its worker dies again; the other runs that loky's broken pool
lost go back to the queue and run in parallel (a run lost in two broken pools is retried
alone too, in case it killed its worker before announcing itself).

What the tricks here buy, measured: a local cluster's workers forked from a preloaded
forkserver (:func:`dask_start_method`) made the 32-run smoke sweep on 2 workers take 5.5 s
instead of 10.7 s with Dask's own spawn start (load average 5); the tracker, see
:mod:`sweeps.tracker`. What they rely on upstream is pinned in ``tests/test_upstream.py``.
After a Dask sweep this process's environment is as it was (:func:`environment_kept`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweeps.design import Task
from sweeps.one_run import Result, describe_error, execute, execute_in_worker
from sweeps.provenance import environment, environment_difference
from sweeps.tracker import WorkerTracker, tracking_available

BACKENDS = ("loky", "sequential", "dask")
LOKY_START_ENV = "ORGSCALE_LOKY_START"
LOKY_START_METHODS = ("fork", "loky", "spawn", "forkserver")
DASK_START_ENV = "ORGSCALE_DASK_START"
DASK_START_METHODS = ("fork", "spawn", "forkserver")
# How loky is fed. Very short runs are sent in batches (joblib's "auto": batches sized for
# about 0.2 s of work, one run at a time for runs longer than that), and 2 batches per
# worker are handed out ahead, so a worker that finishes finds the next batch queued instead
# of idling while its results travel back and are recorded. Every run handed out and not yet
# returned is in flight (``_Feed``); when a worker dies, only the run it announced is blamed
# (``_blame``): the runs of its batch that had not started, or had finished but not yet been
# returned, and the other workers' runs go back to the queue.
LOKY_PRE_DISPATCH = "2*n_jobs"
LOKY_BATCH_SIZE: int | str = "auto"


def loky_start_method() -> str:
    """How the ``loky`` backend starts its worker processes.

    ``"fork"`` on Linux: the workers are copies of the sweep process, which has already
    imported the model, so they start at once instead of spending a second each importing
    Mesa. Forking a process that has threads is safe only if the child touches nothing those
    threads may have locked. The threads here are OpenBLAS's pool (numpy's; it stops and
    restarts around ``fork`` itself), tqdm's monitor (on a terminal), the worker tracker's
    (:mod:`sweeps.tracker`) and, for a replacement worker, loky's management thread; a
    worker only unpickles a task, runs the model, announces it on a socket of its own and
    sends back a dict, using none of them. Python and loky still warn about any fork with
    threads (a ``DeprecationWarning`` and a ``UserWarning``); both are silenced here, for
    these forks only. Elsewhere (macOS, whose system libraries are not fork-safe, and
    Windows, which cannot fork) loky's own start method: a fresh interpreter per worker.
    The environment variable ``ORGSCALE_LOKY_START`` overrides the choice (one of
    :data:`LOKY_START_METHODS`).

    Raises
    ------
    ValueError
        ``ORGSCALE_LOKY_START`` names no start method.
    """
    on_linux = sys.platform.startswith("linux")
    return _start_method(LOKY_START_ENV, LOKY_START_METHODS, default="fork" if on_linux else "loky")


def dask_start_method() -> str:
    """How a ``LocalCluster``'s worker processes start (``distributed.worker.
    multiprocessing-method``).

    ``"forkserver"`` on Linux: one fresh server process, which runs no Python thread,
    imports ``distributed`` and the model once (:func:`prestart_local_workers` starts it
    early, in the environment Dask gives its workers) and forks every worker from itself, so
    each starts with everything imported, and none is forked from the sweep process, whose
    threads (Dask's event loop, the nannies' watchers, a loky pool's) may hold locks at the
    fork. The server lives as long as the sweep process, so later clusters in it start their
    workers at once. Elsewhere Dask's default,
    ``"spawn"``: a fresh interpreter per worker, which imports ``distributed``, Mesa and the
    model (seconds per worker). ``ORGSCALE_DASK_START=fork`` forks the workers from the sweep
    process itself (the fastest start, but a forked worker can deadlock on a lock another
    thread held at the fork: seen once in a process that had run a loky pool before, the
    cluster never came up), an opt-in for short sweeps from a fresh process.
    ``ORGSCALE_DASK_START`` takes one of :data:`DASK_START_METHODS`; an existing scheduler's
    workers start however ``dask worker`` started them.

    Raises
    ------
    ValueError
        ``ORGSCALE_DASK_START`` names no start method.
    """
    on_linux = sys.platform.startswith("linux")
    return _start_method(
        DASK_START_ENV, DASK_START_METHODS, default="forkserver" if on_linux else "spawn"
    )


# What the forkserver of a LocalCluster's workers imports before it forks any: the main
# module (multiprocessing's own default, so that no worker imports it again), distributed
# (which preloads it too) and the model with the code that runs it.
FORKSERVER_PRELOAD = ("__main__", "distributed", "sweeps.backends")
# Dask's Nanny sets these in the environment just before it starts a worker process
# (``distributed.nanny.pre-spawn-environ``, and PYTHONHASHSEED=6640 unless one is set), so
# that numpy's BLAS starts one thread per worker. A forked worker's BLAS was started in the
# forkserver, at its numpy import: the forkserver must start with them.
DASK_HASH_SEED = "6640"


def dask_worker_environ() -> dict[str, str]:
    """The variables Dask's Nanny sets in the environment just before it starts a worker
    process: ``distributed.nanny.pre-spawn-environ`` (a variable already set in this
    process's environment keeps its value) and ``PYTHONHASHSEED``.

    Read without importing ``distributed`` (a third of a second) when it is not imported
    yet: its defaults then come from its own ``distributed.yaml``, under the configuration
    dask has read from the user's files and environment.
    """
    import dask

    key = "distributed.nanny.pre-spawn-environ"
    configured = dict(dask.config.get(key, default=None) or {})
    if "distributed.config" not in sys.modules:  # dask does not hold its defaults yet
        import importlib.util

        import yaml

        package = importlib.util.find_spec("distributed")
        text = (Path(package.submodule_search_locations[0]) / "distributed.yaml").read_text()
        defaults = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        configured = {**defaults["distributed"]["nanny"]["pre-spawn-environ"], **configured}
    environ = {
        name: os.environ.get(name, str(value))
        for name, value in configured.items()
        if value is not None
    }
    if environ.get("PYTHONHASHSEED") in (None, "0"):
        environ["PYTHONHASHSEED"] = DASK_HASH_SEED
    return environ


# Ctrl-C on a terminal reaches the whole process group: each local Dask worker that took it
# printed its traceback (some 80 lines in all) while the sweep stopped them anyway. The
# sweep alone handles it: the forkserver starts with SIGINT ignored, so every worker forked
# from it ignores it from birth, and workers started otherwise are told to ignore it as
# soon as they are up (:func:`ignore_sigint`).


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT in this process during the block (a process started in it, even a new
    interpreter, ignores it for good); a Ctrl-C meanwhile is lost, so keep it short. Only
    in the main thread, where signal handlers are set."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _SigintHeld:
    """Hold a Ctrl-C (SIGINT) back from the block until :meth:`release` (or the block's end).

    :meth:`release` gives SIGINT its handler back and raises ``KeyboardInterrupt`` if one
    came meanwhile. Only in the main thread, where signal handlers are set.
    """

    def __init__(self) -> None:
        self.caught = False
        self._previous: Any = None

    def __enter__(self) -> _SigintHeld:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._catch)
        return self

    def _catch(self, _signum: int, _frame: Any) -> None:
        self.caught = True

    def release(self) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if self.caught:
            raise KeyboardInterrupt

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


def ignore_sigint() -> None:
    """Ignore SIGINT in this (worker) process: run on every local worker by ``Client.run``,
    which calls it in the worker's main thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def prestart_local_workers() -> None:
    """Start the server that a ``LocalCluster``'s workers are forked from, now, if they are
    to be (:func:`dask_start_method` is ``"forkserver"``).

    Its imports (about 1.3 s) then overlap this process's import of ``distributed`` and the
    scheduler's start-up instead of following them. It starts in the environment Dask gives
    a worker process (:func:`dask_worker_environ`); this process's own is restored at once.
    Returns at once; a forkserver this process runs already (started by an earlier sweep, or
    by other code) is used as it is, for the rest of the process. A module of the preload
    that cannot be imported is skipped (the workers import it themselves); one that fails
    otherwise stops the forkserver, and the cluster then fails to start with an error.
    """
    if dask_start_method() != "forkserver":
        return
    import multiprocessing
    from multiprocessing import forkserver

    environ = dask_worker_environ()
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    try:
        multiprocessing.get_context("forkserver").set_forkserver_preload(list(FORKSERVER_PRELOAD))
        with _sigint_ignored():  # the forkserver, and so every worker, ignores Ctrl-C
            forkserver.ensure_running()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_method(env: str, methods: tuple[str, ...], *, default: str) -> str:
    """The start method named by the environment variable ``env`` (one of ``methods``), or
    ``default``."""
    chosen = os.environ.get(env, "").strip()
    if chosen:
        if chosen not in methods:
            raise ValueError(f"{env}={chosen!r} is invalid: must be one of {', '.join(methods)}")
        return chosen
    return default


@contextlib.contextmanager
def _loky_started_by(method: str) -> Iterator[None]:
    """Make loky start its workers with ``method`` for the duration of the block."""
    import warnings

    from joblib.externals.loky.backend import context

    sys.stdout.flush()  # a forked worker must not inherit (and later write) buffered output
    sys.stderr.flush()
    previous = context.get_start_method()
    context.set_start_method(method, force=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="`fork` start method", category=UserWarning)
            warnings.filterwarnings(
                "ignore", message=r"This process .* is multi-threaded", category=DeprecationWarning
            )
            yield
    finally:
        context.set_start_method(previous, force=True)


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- execution
def execute_all(
    tasks: list[Task],
    *,
    backend: str,
    start_method: str | None,
    jobs: int,
    dask: DaskCluster | None,
    fault: dict[str, str],
    timeout_s: float | None,
    record: Callable[[Result], None],
    log: Callable[[str], None],
) -> None:
    """Run ``tasks`` on ``backend`` and pass every result to ``record`` as it arrives."""
    if dask is not None:
        _run_dask(tasks, cluster=dask, fault=fault, timeout_s=timeout_s, record=record, log=log)
    else:
        _run_joblib(
            tasks,
            backend=backend,
            start_method=start_method,
            jobs=jobs,
            fault=fault,
            timeout_s=timeout_s,
            record=record,
            log=log,
        )


class _Feed:
    """The tasks as joblib's input, remembering which were handed out and not yet returned.

    joblib pulls from it (from its own threads) only as workers free up (``pre_dispatch``),
    so the handed-out, unreturned tasks are those in flight when a worker dies.
    """

    def __init__(self, tasks: list[Task], args: Callable[[Task], tuple], *, sequential: bool):
        from joblib import delayed

        self._delayed = delayed(execute if sequential else execute_in_worker)
        self._tasks = iter(tasks)
        self._args = args
        self._lock = threading.Lock()
        self._out: dict[str, Task] = {}

    def __iter__(self) -> _Feed:
        return self

    def __next__(self):
        with self._lock:
            task = next(self._tasks)
            self._out[task.run_id] = task
        return self._delayed(task, *self._args(task))

    def returned(self, run_id: str) -> None:
        with self._lock:
            self._out.pop(run_id, None)

    def stop(self) -> tuple[list[Task], list[Task]]:
        """Stop handing out tasks; return (in flight, never handed out)."""
        with self._lock:
            rest = list(self._tasks)
            self._tasks = iter(())
            return list(self._out.values()), rest


def _run_joblib(
    tasks: list[Task],
    *,
    backend: str,
    start_method: str | None,
    jobs: int,
    fault: dict[str, str],
    timeout_s: float | None,
    record: Callable[[Result], None],
    log: Callable[[str], None],
) -> None:
    from joblib import Parallel
    from joblib.externals.loky.process_executor import BrokenProcessPool

    sequential = backend == "sequential"
    workers = contextlib.nullcontext() if start_method is None else _loky_started_by(start_method)
    tracked = not sequential and tracking_available()
    pending, suspects = tasks, []
    lost_before: set[str] = set()
    with workers, WorkerTracker() if tracked else contextlib.nullcontext() as tracker:
        address = tracker.address if tracker is not None else None

        def args(task: Task) -> tuple:
            if sequential:
                return fault.get(task.run_id), timeout_s
            return fault.get(task.run_id), timeout_s, address

        while pending:
            if tracker is not None:
                tracker.reset()
            feed = _Feed(pending, args, sequential=sequential)
            parallel = Parallel(
                n_jobs=jobs,
                backend=backend,
                return_as="generator_unordered",
                batch_size=LOKY_BATCH_SIZE,
                pre_dispatch=LOKY_PRE_DISPATCH,
            )
            try:
                for result in parallel(feed):
                    feed.returned(result["run_id"])
                    record(result)
                pending = []
            except BrokenProcessPool as err:
                lost, rest = feed.stop()
                alone, back = _blame(lost, tracker, lost_before)
                lost_before |= {t.run_id for t in lost}
                suspects.extend(alone)
                pending = back + rest
                log(
                    f"a worker process died ({type(err).__name__}) running "
                    f"{', '.join(t.run_id for t in alone) or 'no announced run'}: retried alone "
                    f"at the end; {len(back)} other run(s) in flight go back to the queue"
                )
    for task in suspects:
        record(_retry_alone(task, fault.get(task.run_id), timeout_s))


def _blame(
    lost: list[Task], tracker: WorkerTracker | None, lost_before: set[str]
) -> tuple[list[Task], list[Task]]:
    """Split the runs a broken pool lost into (to retry alone, to run again in parallel).

    Alone: the runs held by the first worker(s) to die, as the tracker saw them (all lost
    runs when it saw none of them), and any run already lost in an earlier broken pool.
    """
    ids = {t.run_id for t in lost}
    blamed = set(tracker.first_deaths()) & ids if tracker is not None else set()
    if not blamed:
        blamed = ids
    alone = [t for t in lost if t.run_id in blamed or t.run_id in lost_before]
    return alone, [t for t in lost if t not in alone]


def _retry_alone(task: Task, fault: str | None, timeout_s: float | None) -> Result:
    """Run ``task`` in a fresh process of its own; a second worker death makes it failed."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    start = time.perf_counter()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(execute_in_worker, task, fault, timeout_s).result()
        except BrokenProcessPool as err:
            return _worker_died(task, err, time.perf_counter() - start)


def _worker_died(task: Task, err: BaseException, wall_s: float, deaths: int | None = 2) -> Result:
    """A failed result for a run whose worker died ``deaths`` times (``None``: unknown)."""
    if deaths == 2:
        times = "twice (it was retried once, alone)"
    else:
        times = (
            "more than once (as often as the scheduler allows)"
            if deaths is None
            else f"{deaths} times"
        )
    return {
        "run_id": task.run_id,
        "status": "failed",
        "error": f"{type(err).__name__}: the worker process died running this run, {times}",
        "wall_s": wall_s,
        "metrics": {},
    }


@dataclass
class DaskCluster:
    """A dask client, how many runs to keep in flight, and what the cluster is.

    ``allowed_failures``: how many worker deaths the scheduler allows a task before it
    gives up (``KilledWorker``); ``workers``: each worker's environment (for the manifest).
    """

    client: Any
    window: int
    allowed_failures: int | None
    workers: dict[str, Any]
    start_method: str | None = None  # a LocalCluster's; None for an existing scheduler's

    def describe(self) -> dict[str, Any]:
        """The manifest's record of the cluster."""
        return {
            "allowed_failures": self.allowed_failures,
            "start_method": self.start_method,
            "workers": self.workers,
        }


def worker_environment() -> dict[str, Any]:
    """A dask worker's versions and platform (:func:`sweeps.store.environment`) and host."""
    import socket

    return {**environment(), "host": socket.gethostname(), "pid": os.getpid()}


# How long to wait for the first worker of an existing scheduler before saying so.
WORKER_WAIT_SECONDS = 10.0


def _wait_for_a_worker(client: Any, scheduler: str, log: Callable[[str], None]) -> None:
    """Return once the scheduler has a worker; say so when none has come after a while."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        log(
            f"no Dask worker has joined the scheduler at {scheduler} after "
            f"{WORKER_WAIT_SECONDS:g} s; waiting for one (start one with `dask worker "
            f"{scheduler}`, or Ctrl-C to stop)"
        )
        client.wait_for_workers(1)


@contextlib.contextmanager
def environment_kept() -> Iterator[None]:
    """Give this process its environment variables back as they were, after the block.

    Dask's Nanny sets its workers' variables (``distributed.nanny.pre-spawn-environ``:
    one-thread BLAS, ``MALLOC_TRIM_THRESHOLD_``, and ``PYTHONHASHSEED``) in the environment
    of the process that starts them, this one, and leaves them there: after a Dask sweep,
    any process the caller starts would run with one BLAS thread.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        for name in [n for n in os.environ if n not in saved]:
            del os.environ[name]
        for name, value in saved.items():
            if os.environ.get(name) != value:
                os.environ[name] = value


@contextlib.contextmanager
def dask_client(
    jobs: int | None, scheduler: str | None, log: Callable[[str], None] = lambda _m: None
) -> Iterator[DaskCluster]:
    """:func:`_dask_client`, leaving this process's environment as it was
    (:func:`environment_kept`)."""
    with environment_kept(), _dask_client(jobs, scheduler, log) as cluster:
        yield cluster


@contextlib.contextmanager
def _dask_client(
    jobs: int | None, scheduler: str | None, log: Callable[[str], None]
) -> Iterator[DaskCluster]:
    """A ``dask.distributed`` client and how many runs to keep in flight on it.

    With ``scheduler``: a client of that scheduler (``jobs`` or all its threads in flight);
    every worker's model code and package versions must match this process's
    (:func:`refuse_other_workers`; a worker that joins later and runs other model code is
    caught by the ``model_hash`` of its results). The
    scheduler's ``allowed-failures`` is its own (a scheduler-wide setting that a client
    cannot change for its tasks alone): a run whose worker died more often than it allows
    is recorded as failed without a further retry. A scheduler without workers is waited
    for, and ``log`` told so after :data:`WORKER_WAIT_SECONDS`. Without: a
    ``LocalCluster`` of ``jobs`` single-threaded worker processes on 127.0.0.1, started by
    :func:`dask_start_method`, that allows no failure (the retry-once rule is applied
    here), closed on exit.
    """
    if scheduler is None:
        prestart_local_workers()  # its imports overlap this process's of distributed
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = Client(scheduler)
        try:
            _wait_for_a_worker(client, scheduler, log)
            workers = client.run(worker_environment)
            refuse_other_workers(workers, scheduler)
            try:
                allowed = client.run_on_scheduler(_allowed_failures)
            except Exception:  # e.g. a scheduler that refuses to run functions
                allowed = None
            window = jobs or max(sum(client.nthreads().values()), 1)
            yield DaskCluster(client, window, allowed, workers)
        finally:
            client.close()
        return
    import warnings

    method = dask_start_method()
    config = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.worker.multiprocessing-method": method,
        # The statistical profiler samples each worker's stack every 10 ms while a task
        # runs (taking the GIL from the run); nobody reads it here: there is no dashboard.
        "distributed.worker.profile.enabled": False,
    }
    sys.stdout.flush()  # a forked worker must not inherit (and later write) buffered output
    sys.stderr.flush()
    with contextlib.ExitStack() as stack:
        # a Ctrl-C while the cluster starts stops the sweep once it is up and closed cleanly
        held = stack.enter_context(_SigintHeld())
        stack.enter_context(dask.config.set(config))
        stack.enter_context(warnings.catch_warnings())
        warnings.filterwarnings(
            "ignore", message=r"This process .* is multi-threaded", category=DeprecationWarning
        )
        try:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=jobs or 1,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
        except RuntimeError as err:  # "Nanny failed to start."
            if method == "fork":
                raise
            raise RuntimeError(
                f"the local Dask cluster's workers did not start ({err}). Started by "
                f"{method!r}, they import this program's main module first: a script that "
                "calls run_sweep with backend='dask' must do so under "
                '`if __name__ == "__main__":`'
            ) from err
        client = stack.enter_context(Client(cluster))
        client.run(ignore_sigint)  # Ctrl-C is the sweep's to handle, not its workers'
        workers = client.run(worker_environment)
        held.release()
        yield DaskCluster(client, jobs or 1, 0, workers, method)


def refuse_other_workers(workers: dict[str, dict[str, Any]], scheduler: str) -> None:
    """Raise ``ValueError`` naming the first worker whose model code, Python or package
    versions differ from this process's (:func:`sweeps.provenance.environment_difference`).

    Compared here rather than by ``Client.get_versions(check=True)``, which only warns
    (distributed 2024 and later) and knows nothing of the model's code.
    """
    ours = environment()
    for address, theirs in sorted(workers.items()):
        why = environment_difference(theirs, ours)
        if why is not None:
            raise ValueError(
                f"the dask worker {address} of {scheduler} runs other code than this "
                f"process: {why}; give every worker the same checkout and environment"
            )


def _allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


# Runs per Dask task: enough for about this many seconds of work (from the runs timed so far;
# one run a task until some have come back), so that very short runs do not each pay the
# scheduler's round trip; at most a share of the runs left, to keep every worker busy.
DASK_CHUNK_SECONDS = 0.2
DASK_MAX_CHUNK = 1000


def execute_chunk(
    tasks: list[Task], faults: list[str | None], timeout_s: float | None
) -> list[Result]:
    """:func:`sweeps.one_run.execute` of several runs, one after another (one Dask task)."""
    return [execute(task, fault, timeout_s) for task, fault in zip(tasks, faults, strict=True)]


def _chunk_size(timed_s: float, timed: int, left: int, window: int) -> int:
    """Runs for the next Dask task: ~``DASK_CHUNK_SECONDS`` of work, a fair share of ``left``."""
    if timed == 0 or left <= 0:
        return 1
    mean = timed_s / timed
    wanted = DASK_MAX_CHUNK if mean <= 0 else int(DASK_CHUNK_SECONDS / mean)
    share = left // (2 * max(window, 1))
    return max(1, min(wanted, share, DASK_MAX_CHUNK))


def _run_dask(
    tasks: list[Task],
    *,
    cluster: DaskCluster,
    fault: dict[str, str],
    timeout_s: float | None,
    record: Callable[[Result], None],
    log: Callable[[str], None],
) -> None:
    """Run ``tasks`` on Dask, several very short runs per task (:func:`_chunk_size`).

    A task whose worker died (``KilledWorker``) names no run when it held several: its runs
    go back one per task, so that the next death names the run to blame, which is retried
    alone at the end like a one-run task whose worker died.
    """
    from collections import deque

    from distributed import KilledWorker, as_completed

    client, window = cluster.client, cluster.window
    queue: Iterator[Task] = iter(tasks)
    left = len(tasks)
    singles: deque[Task] = deque()  # runs of a task whose worker died, one per task now
    in_flight: dict[str, list[Task]] = {}
    done = as_completed()
    suspects = []
    attempt = 0
    timed = {"s": 0.0, "n": 0}

    def submit(chunk: list[Task]) -> Any:
        nonlocal attempt
        attempt += 1
        key = f"orgscale-{chunk[0].run_id}-{len(chunk)}-{attempt}"
        in_flight[key] = chunk
        faults = [fault.get(t.run_id) for t in chunk]
        return client.submit(execute_chunk, chunk, faults, timeout_s, key=key, pure=False)

    def next_chunk() -> list[Task]:
        nonlocal left
        if singles:
            return [singles.popleft()]
        chunk = _take(queue, _chunk_size(timed["s"], timed["n"], left, window))
        left -= len(chunk)
        return chunk

    def fill() -> None:  # keep 2 tasks a worker in flight
        while len(in_flight) < 2 * window:
            chunk = next_chunk()
            if not chunk:
                return
            done.add(submit(chunk))

    fill()
    for future in done:
        chunk = in_flight.pop(future.key)
        try:
            results = future.result()
        except KilledWorker as err:
            if len(chunk) > 1:
                singles.extend(chunk)
                log(
                    f"a worker died ({type(err).__name__}) running {len(chunk)} runs together; "
                    "they go back one per task"
                )
            elif cluster.allowed_failures == 0:
                suspects.append(chunk[0])
                log(f"a worker died ({type(err).__name__}); run {chunk[0].run_id} will be retried")
            else:  # the scheduler has retried it already
                deaths = None if cluster.allowed_failures is None else cluster.allowed_failures + 1
                record(_worker_died(chunk[0], err, math.nan, deaths=deaths))
        except Exception as err:  # e.g. a result that could not be sent back
            for task in chunk:
                record({**_worker_died(task, err, math.nan), "error": describe_error(err)})
        else:
            for result in results:
                if result["status"] == "ok" and math.isfinite(result.get("wall_s", math.nan)):
                    timed["s"] += result["wall_s"]
                    timed["n"] += 1
                record(result)
        future.release()
        fill()
    for task in suspects:  # one at a time, once the others are done
        start = time.perf_counter()
        future = submit([task])
        try:
            record(future.result()[0])
        except Exception as err:
            record(_worker_died(task, err, time.perf_counter() - start))
        in_flight.pop(future.key, None)


def _take(iterator: Iterator[Task], n: int) -> list[Task]:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


__all__ = [
    "BACKENDS",
    "DASK_START_ENV",
    "DASK_START_METHODS",
    "LOKY_START_ENV",
    "LOKY_START_METHODS",
    "DaskCluster",
    "dask_client",
    "dask_start_method",
    "default_jobs",
    "execute_all",
    "loky_start_method",
    "prestart_local_workers",
    "worker_environment",
]
