"""Tasks → results: run a sweep's missing runs in parallel and append them to its results folder.

:func:`run_one` is the one function that runs the model once; everything else here decides
which runs to do, where, and what happens when one fails:

* Results stream back in completion order (joblib ``return_as="generator_unordered"``, or
  ``dask.distributed.as_completed``) and go straight to Parquet part files, so memory stays
  flat and a killed sweep loses at most the last second of results.
* A run that raises becomes a ``failed`` row (``error`` = ``"ExcType: message"``); the
  others go on.
* A run still going after the time limit (``timeout_s`` in the spec's ``[run]`` table, or
  ``run_sweep(timeout_s=...)``) is stopped and becomes a ``failed`` row whose error starts
  with ``timeout:`` (:mod:`sweeps.timeout`); the others go on, on every backend.
* A worker process that dies (``TerminatedWorkerError`` from loky, ``KilledWorker`` from
  dask) does not stop the sweep. Only the run that worker held is to blame: loky's workers
  announce the run they hold (:mod:`sweeps.tracker`), dask names it. That run is retried
  once at the end, alone in a fresh process so that it cannot take others down with it, and
  recorded as ``failed`` if its worker dies again; the other runs that loky's broken pool
  lost go back to the queue and run in parallel (a run lost in two broken pools is retried
  alone too, in case it killed its worker before announcing itself).
* Runs are dispatched largest ``n_teams`` first, so the slowest runs do not trail at the end;
  the order changes nothing in the results (each run's seed is its own).

Backends: ``loky`` (default; ``jobs`` processes), ``sequential`` (in this process), ``dask``
(an existing ``dask.distributed`` scheduler given by address, or a ``LocalCluster`` of
``jobs`` single-threaded worker processes on 127.0.0.1). Dask is driven with ``client.submit``
and ``as_completed`` rather than joblib's dask backend, which waits forever for the result
of a task whose worker was killed.

On Linux loky's workers are forked from the sweep process (see :func:`loky_start_method`):
a fresh worker interpreter spends about a second importing Mesa (which pulls in pandas,
scipy and networkx) before its first run, a forked one starts with everything imported.
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model import METRICS, PARAMETERS, OrgModel
from sweeps.design import Task, design_hash, design_tasks
from sweeps.extension import extension_check
from sweeps.progress import Progress, format_duration
from sweeps.spec import SweepSpec, load_spec
from sweeps.store import (
    PACKAGES,
    SPEC_FILE,
    FolderState,
    ResultsConflictError,
    ResultStore,
    environment,
    inspect_folder,
    is_results_folder,
    load_results,
    move_aside,
    utc_now,
)
from sweeps.timeout import RunTimeout, time_limit
from sweeps.tracker import WorkerTracker, announce, tracking_available

BACKENDS = ("loky", "sequential", "dask")
LOKY_START_ENV = "ORGSCALE_LOKY_START"
LOKY_START_METHODS = ("fork", "loky", "spawn", "forkserver")
FAULTS = ("raise", "kill", "hang")
Result = dict[str, Any]


def run_one(params: dict[str, Any], seed: int, days: float) -> dict[str, float]:
    """Run the model once and return its metrics.

    Parameters
    ----------
    params : keyword parameters of :class:`model.OrgModel` (missing ones take defaults).
    seed : the run's seed (``rng=`` of the model).
    days : simulated days, warm-up included.

    Returns
    -------
    dict[str, float]
        :meth:`model.OrgModel.metrics`, keyed by the names in :data:`model.METRICS`.
    """
    model = OrgModel(**params, rng=seed)
    model.run_for(days)
    return model.metrics()


def row_params(row: Mapping[str, Any]) -> dict[str, Any]:
    """The model parameters of a results row as plain Python values, ready for :func:`run_one`.

    ``run_one(row_params(row), int(row["seed"]), float(row["days"]))`` replays the row.
    """
    params = {}
    for name, spec in PARAMETERS.items():
        value = row[name]
        params[name] = spec.kind(value.item() if hasattr(value, "item") else value)
    return params


def execute(task: Task, fault: str | None = None, timeout_s: float | None = None) -> Result:
    """Run ``task`` with :func:`run_one`, timing it and catching any exception it raises.

    Returns ``{"run_id", "status", "error", "wall_s", "metrics"}``. A run still going after
    ``timeout_s`` seconds (``None``: no limit) is stopped and ``failed`` with an error that
    starts with ``timeout:``. ``fault`` is a test hook (see ``run_sweep(_fault=...)``):
    ``"raise"`` raises inside the run, ``"kill"`` kills the process running it with SIGKILL,
    ``"hang"`` never ends.
    """
    start = time.perf_counter()
    try:
        with time_limit(timeout_s):
            if fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if fault == "raise":
                raise RuntimeError(f"injected fault in run {task.run_id}")
            while fault == "hang":
                time.sleep(0.01)
            metrics = run_one(task.params, task.seed, task.days)
        status, error = "ok", None
    except RunTimeout:
        metrics, status = {}, "failed"
        error = f"timeout: still running after {timeout_s:g} s (the limit timeout_s)"
    except Exception as err:
        metrics, status, error = {}, "failed", _describe(err)
    return {
        "run_id": task.run_id,
        "status": status,
        "error": error,
        "wall_s": time.perf_counter() - start,
        "metrics": metrics,
    }


def execute_in_worker(
    task: Task,
    fault: str | None = None,
    timeout_s: float | None = None,
    tracker: str | None = None,
) -> Result:
    """:func:`execute` in a worker process that exits when the sweep process dies.

    A worker whose parent is killed (e.g. SIGKILL on the sweep) would otherwise finish its
    run and then wait, idle, forever; a daemon thread checks once a second that the parent
    is still there and ends the worker when it is not. ``tracker`` is the address of the
    sweep's :class:`sweeps.tracker.WorkerTracker`, told which run this worker holds.
    """
    _watch_parent()
    announce(tracker, "start", task.run_id)
    result = execute(task, fault, timeout_s)
    announce(tracker, "end", task.run_id)
    return result


_WATCHED_PARENT: int | None = None
PARENT_CHECK_SECONDS = 1.0


def _watch_parent() -> None:
    global _WATCHED_PARENT
    if _WATCHED_PARENT is not None:
        return
    _WATCHED_PARENT = os.getppid()

    def watch() -> None:
        while os.getppid() == _WATCHED_PARENT:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="orgscale-parent-watch", daemon=True).start()


def make_row(task: Task, result: Result) -> dict[str, Any]:
    """The results row of ``task`` from what :func:`execute` returned."""
    metrics = result.get("metrics") or {}
    row: dict[str, Any] = {
        "run_id": task.run_id,
        "replicate": task.replicate,
        "seed": task.seed,
        "days": task.days,
    }
    row.update(task.params)
    for name in METRICS:
        value = metrics.get(name, math.nan)
        row[name] = math.nan if value is None else float(value)
    row.update(status=result["status"], error=result["error"], wall_s=result["wall_s"])
    return row


def loky_start_method() -> str:
    """How the ``loky`` backend starts its worker processes.

    ``"fork"`` on Linux: the workers are copies of the sweep process, which has already
    imported the model, so they start at once instead of spending a second each importing
    Mesa. Forking a process that has threads is safe only if the child touches nothing those
    threads may have locked. The threads here are OpenBLAS's pool (numpy's; it stops and
    restarts around ``fork`` itself), tqdm's monitor (on a terminal) and, for a replacement
    worker, loky's management thread; a worker only unpickles a task, runs the model and
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
    chosen = os.environ.get(LOKY_START_ENV, "").strip()
    if chosen:
        if chosen not in LOKY_START_METHODS:
            raise ValueError(
                f"{LOKY_START_ENV}={chosen!r} is invalid: must be one of "
                f"{', '.join(LOKY_START_METHODS)}"
            )
        return chosen
    return "fork" if sys.platform.startswith("linux") else "loky"


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


# --------------------------------------------------------------------------- planning
@dataclass
class SweepPlan:
    """A sweep's runs and what its results folder already holds."""

    spec: SweepSpec
    out: Path
    tasks: list[Task]
    state: FolderState
    design_hash: str

    @property
    def todo(self) -> list[Task]:
        """Runs still to do (failed ones are tried again), largest ``n_teams`` first."""
        todo = [t for t in self.tasks if t.run_id not in self.state.ok]
        return sorted(todo, key=lambda t: (-t.params["n_teams"], t.run_id))

    def describe(self) -> str:
        """One paragraph for ``--dry-run``: counts and what is already done."""
        n_points = len(self.tasks) // self.spec.replicates
        lines = [
            f"sweep {self.spec.name}: {len(self.tasks)} runs "
            f"({n_points} parameter points × {self.spec.replicates} replicates, "
            f"{self.spec.days:g} days each)",
            f"results: {self.out}",
        ]
        if self.state.problem:
            lines.append(f"refused: {self.state.problem}")
        elif not self.state.exists:
            lines.append("nothing done yet (the folder does not exist)")
        else:
            if self.state.extends is not None:
                changed = ", ".join(_changed(self.state.extends.get("canonical", {}), self.spec))
                lines.append(
                    f"extends the folder's earlier spec (changed: {changed}): its runs are "
                    "kept, only the new ones run"
                )
            lines.append(
                f"already done: {len(self.state.ok)} ok, {len(self.state.failed)} failed "
                f"(failed runs are tried again); to run: {len(self.todo)}"
            )
        return "\n".join(lines)


def _changed(old: dict[str, Any], spec: SweepSpec) -> list[str]:
    new = spec.canonical()
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) or ["nothing"]


def _as_spec(spec_or_path: SweepSpec | str | Path) -> SweepSpec:
    return spec_or_path if isinstance(spec_or_path, SweepSpec) else load_spec(spec_or_path)


def default_out(spec: SweepSpec) -> Path:
    """``results/<name>`` under the current directory."""
    return Path("results") / spec.name


def plan_sweep(spec_or_path: SweepSpec | str | Path, out: str | Path | None = None) -> SweepPlan:
    """Expand the spec and read its results folder; writes nothing.

    A folder holding the runs of an earlier spec that this one extends (every earlier run
    is also a run of this spec: more N values, more replicates, new grid blocks) is
    accepted; see :mod:`sweeps.extension`. Raises :class:`sweeps.spec.SpecError` for a
    bad spec.
    """
    spec = _as_spec(spec_or_path)
    out = Path(out) if out is not None else default_out(spec)
    tasks = design_tasks(spec)
    dhash = design_hash(tasks)
    run_ids = {t.run_id for t in tasks}
    state = inspect_folder(
        out,
        spec_hash=spec.spec_hash,
        design_hash=dhash,
        run_ids=run_ids,
        canonical=spec.canonical(),
        extension=extension_check(spec, run_ids),
    )
    return SweepPlan(spec=spec, out=out, tasks=tasks, state=state, design_hash=dhash)


# --------------------------------------------------------------------------- the sweep
def run_sweep(
    spec_or_path: SweepSpec | str | Path,
    *,
    out: str | Path | None = None,
    backend: str = "loky",
    jobs: int | None = None,
    scheduler: str | None = None,
    fresh: bool = False,
    quiet: bool = False,
    timeout_s: float | None = None,
    flush_seconds: float = 1.0,
    log: Callable[[str], None] | None = None,
    _fault: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Run every missing run of a sweep and return its whole results table.

    Parameters
    ----------
    spec_or_path : a :class:`SweepSpec` or the path of a TOML spec.
    out : results folder (default ``results/<name>`` under the current directory).
    backend : ``"loky"``, ``"sequential"`` or ``"dask"``.
    jobs : worker processes (default: all cores; for dask with ``scheduler``, the number of
        runs kept in flight, default all of the cluster's threads).
    scheduler : address of a running ``dask.distributed`` scheduler (dask only).
    fresh : move an existing results folder aside (``<out>.old-<UTC time>``) and start over.
    quiet : no progress bar or progress lines.
    timeout_s : wall-clock limit of one run in seconds; overrides the spec's
        ``[run] timeout_s`` (default: the spec's, else no limit). A run past it is stopped
        and recorded as failed (error ``timeout: ...``).
    flush_seconds : longest time a finished run waits in memory before it is written.
    log : where notes go (default: standard error, silenced by ``quiet``).
    _fault : test hook, ``{run_id: "raise" | "kill" | "hang"}``: make that run raise, kill
        the worker process running it (with ``backend="sequential"`` that is this process),
        or never end.

    Returns
    -------
    pandas.DataFrame
        :func:`sweeps.load_results` of the folder: one row per run, sorted by ``run_id``.

    Raises
    ------
    SpecError
        The spec is invalid (nothing is written).
    ResultsConflictError
        The folder holds another spec's runs (that this spec does not extend), is being
        written by another sweep, or is not a results folder (nothing is written).
    ValueError
        A bad ``backend``, ``jobs``, ``timeout_s`` or ``scheduler``, a bad
        ``ORGSCALE_LOKY_START``, or a dask cluster whose package versions differ from this
        process's (nothing is written).
    """
    spec = _as_spec(spec_or_path)
    if backend not in BACKENDS:
        raise ValueError(f"backend={backend!r} is invalid: must be one of {', '.join(BACKENDS)}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs={jobs!r} is invalid: must be an integer >= 1")
    if timeout_s is not None and (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, int | float)
        or not 0 < timeout_s < math.inf
    ):
        raise ValueError(f"timeout_s={timeout_s!r} is invalid: must be a number of seconds > 0")
    timeout_s = float(timeout_s) if timeout_s is not None else spec.timeout_s
    start_method = loky_start_method() if backend == "loky" else None
    if scheduler is not None and backend != "dask":
        raise ValueError("a scheduler address only makes sense with backend='dask'")
    for rid, fault in (_fault or {}).items():
        if fault not in FAULTS:
            raise ValueError(f"_fault[{rid!r}]={fault!r} is invalid: must be one of {FAULTS}")
    if log is None:
        log = (lambda _msg: None) if quiet else _stderr
    out = Path(out) if out is not None else default_out(spec)

    plan = plan_sweep(spec, out)
    if fresh and plan.state.exists:
        if not is_results_folder(out):
            raise ResultsConflictError(
                f"{out} is not a results folder; --fresh only moves results folders aside"
            )
        log(f"moved the old results aside to {move_aside(out)}")
    elif plan.state.problem:
        raise ResultsConflictError(plan.state.problem)

    n_jobs = 1 if backend == "sequential" else (jobs or default_jobs())
    with contextlib.ExitStack() as stack:
        dask_cluster = None
        if backend == "dask" and plan.todo:  # connect before writing anything
            dask_cluster = stack.enter_context(
                _dask_client(jobs if scheduler else n_jobs, scheduler)
            )
            n_jobs = dask_cluster.window
        store = stack.enter_context(ResultStore(out, flush_seconds=flush_seconds))
        plan = plan_sweep(spec, out)  # again, now that the folder is locked
        if plan.state.problem:
            raise ResultsConflictError(plan.state.problem)
        todo = plan.todo
        skipped = len(plan.tasks) - len(todo)
        previous = store.read_manifest()
        manifest = {
            **environment(),
            "spec": {
                "name": spec.name,
                "file": SPEC_FILE,
                "source": spec.source,
                "hash": spec.spec_hash,
                "design_hash": plan.design_hash,
                "canonical": spec.canonical(),
                "runs": len(plan.tasks),
                "extends": _extends(previous, plan.state.extends),
            },
            "backend": backend,
            "jobs": n_jobs,
            "scheduler": scheduler,
            "loky_start_method": start_method,
            "dask": dask_cluster.describe() if dask_cluster is not None else None,
            "timeout_s": timeout_s,
            "started": utc_now(),
            "finished": None,
            "complete": False,
            "counts": {"total": len(plan.tasks), "skipped": skipped, "run": 0},
            "history": _history(previous),
        }
        # The manifest first: a folder with any other file of ours then always has one, so
        # a sweep killed between the two writes resumes (and --fresh can move it aside).
        store.write_manifest(manifest)
        store.write_text(SPEC_FILE, spec.text or _toml_of(spec))

        by_id = {t.run_id: t for t in todo}
        progress = Progress(spec.name, len(plan.tasks), skipped, quiet=quiet)
        started = time.monotonic()
        tally = {"run": 0, "ok": 0, "failed": 0}

        def counts() -> dict[str, Any]:
            return {
                "total": len(plan.tasks),
                "ok": skipped + tally["ok"],
                "failed": tally["failed"],
                "skipped": skipped,
                "run": tally["run"],
                "wall_s": round(time.monotonic() - started, 3),
            }

        def part_written() -> None:  # keep the manifest's counts up to date
            manifest["counts"] = counts()
            store.write_manifest(manifest)

        store.on_part = part_written

        def record(result: Result) -> None:
            ok = result["status"] == "ok"
            tally["run"] += 1
            tally["ok" if ok else "failed"] += 1
            store.add(make_row(by_id[result["run_id"]], result))
            progress.update(failed=not ok)

        complete = False
        try:
            if todo:
                _execute_all(
                    todo,
                    backend=backend,
                    start_method=start_method,
                    jobs=n_jobs,
                    dask=dask_cluster,
                    fault=dict(_fault or {}),
                    timeout_s=timeout_s,
                    record=record,
                    log=log,
                )
            complete = True
        finally:
            progress.close()
            store.flush()
            if complete:
                store.compact()
            table = load_results(out)
            table = table[table["run_id"].isin({t.run_id for t in plan.tasks})]
            manifest.update(
                finished=utc_now(),
                complete=complete,
                counts={
                    **counts(),
                    "ok": int((table["status"] == "ok").sum()),
                    "failed": int((table["status"] != "ok").sum()),
                },
            )
            store.write_manifest(manifest)
    return table.reset_index(drop=True)


def _history(previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Earlier invocations on this folder (without their own history), oldest first."""
    if not previous:
        return []
    keep = ("orgscale_version", "git", "backend", "jobs", "started", "finished", "complete")
    earlier = {k: previous.get(k) for k in keep} | {"counts": previous.get("counts")}
    spec = previous.get("spec") or {}
    earlier["spec_hash"] = spec.get("hash")
    return [*previous.get("history", []), earlier]


def _extends(
    previous: dict[str, Any] | None, extended: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The earlier designs this folder's sweep grew from, oldest first (for the manifest)."""
    earlier = list(((previous or {}).get("spec") or {}).get("extends") or [])
    if extended is not None:
        keep = ("hash", "design_hash", "canonical", "runs")
        earlier.append({k: extended.get(k) for k in keep} | {"extended": utc_now()})
    return earlier


def _toml_of(spec: SweepSpec) -> str:
    """A spec built in Python has no file: record its canonical content instead."""
    import json

    return "# built in Python; canonical content:\n# " + json.dumps(spec.canonical()) + "\n"


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


# --------------------------------------------------------------------------- execution
def _execute_all(
    tasks: list[Task],
    *,
    backend: str,
    start_method: str | None,
    jobs: int,
    dask: _DaskCluster | None,
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
                batch_size=1,
                pre_dispatch="n_jobs",
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
class _DaskCluster:
    """A dask client, how many runs to keep in flight, and what the cluster is.

    ``allowed_failures``: how many worker deaths the scheduler allows a task before it
    gives up (``KilledWorker``); ``workers``: each worker's environment (for the manifest).
    """

    client: Any
    window: int
    allowed_failures: int | None
    workers: dict[str, Any]

    def describe(self) -> dict[str, Any]:
        """The manifest's record of the cluster."""
        return {"allowed_failures": self.allowed_failures, "workers": self.workers}


def worker_environment() -> dict[str, Any]:
    """A dask worker's versions and platform (:func:`sweeps.store.environment`) and host."""
    import socket

    return {**environment(), "host": socket.gethostname(), "pid": os.getpid()}


@contextlib.contextmanager
def _dask_client(jobs: int | None, scheduler: str | None) -> Iterator[_DaskCluster]:
    """A ``dask.distributed`` client and how many runs to keep in flight on it.

    With ``scheduler``: a client of that scheduler (``jobs`` or all its threads in flight);
    its package versions must match this process's (``get_versions(check=True)``). The
    scheduler's ``allowed-failures`` is its own (a scheduler-wide setting that a client
    cannot change for its tasks alone): a run whose worker died more often than it allows
    is recorded as failed without a further retry. Without: a ``LocalCluster`` of ``jobs``
    single-threaded worker processes on 127.0.0.1 that allows no failure (the retry-once
    rule is applied here), closed on exit.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = Client(scheduler)
        try:
            try:
                client.get_versions(check=True, packages=list(PACKAGES))
            except ValueError as err:
                raise ValueError(
                    f"the dask cluster at {scheduler} runs other package versions than this "
                    f"process: {' '.join(str(err).split())}"
                ) from None
            try:
                allowed = client.run_on_scheduler(_allowed_failures)
            except Exception:  # e.g. a scheduler that refuses to run functions
                allowed = None
            window = jobs or max(sum(client.nthreads().values()), 1)
            yield _DaskCluster(client, window, allowed, client.run(worker_environment))
        finally:
            client.close()
        return
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(
            n_workers=jobs or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    try:
        client = Client(cluster)
        try:
            yield _DaskCluster(client, jobs or 1, 0, client.run(worker_environment))
        finally:
            client.close()
    finally:
        cluster.close()


def _allowed_failures(dask_scheduler: Any) -> int:
    return int(dask_scheduler.allowed_failures)


def _run_dask(
    tasks: list[Task],
    *,
    cluster: _DaskCluster,
    fault: dict[str, str],
    timeout_s: float | None,
    record: Callable[[Result], None],
    log: Callable[[str], None],
) -> None:
    from distributed import KilledWorker, as_completed

    client, window = cluster.client, cluster.window
    queue: Iterator[Task] = iter(tasks)
    in_flight: dict[str, Task] = {}
    done = as_completed()
    suspects = []
    attempt = 0

    def submit(task: Task) -> Any:
        nonlocal attempt
        attempt += 1
        key = f"orgscale-{task.run_id}-{attempt}"
        in_flight[key] = task
        return client.submit(execute, task, fault.get(task.run_id), timeout_s, key=key, pure=False)

    for task in _take(queue, 2 * window):
        done.add(submit(task))
    for future in done:
        task = in_flight.pop(future.key)
        try:
            result = future.result()
        except KilledWorker as err:
            if cluster.allowed_failures == 0:
                suspects.append(task)
                log(f"a worker died ({type(err).__name__}); run {task.run_id} will be retried")
            else:  # the scheduler has retried it already
                deaths = None if cluster.allowed_failures is None else cluster.allowed_failures + 1
                record(_worker_died(task, err, math.nan, deaths=deaths))
        except Exception as err:  # e.g. a result that could not be sent back
            record({**_worker_died(task, err, math.nan), "error": _describe(err)})
        else:
            record(result)
        future.release()
        for nxt in _take(queue, 1):
            done.add(submit(nxt))
    for task in suspects:  # one at a time, once the others are done
        start = time.perf_counter()
        future = submit(task)
        try:
            record(future.result())
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
    "SweepPlan",
    "default_jobs",
    "execute",
    "format_duration",
    "make_row",
    "plan_sweep",
    "row_params",
    "run_one",
    "run_sweep",
]
