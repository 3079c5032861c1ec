"""Tasks → results: plan a sweep, run its missing runs and append them to its results folder.

:func:`plan_sweep` expands a spec into runs and reads what its folder already holds;
:func:`run_sweep` runs what is missing on a backend (:mod:`sweeps.backends`), one run at a
time through :func:`sweeps.one_run.execute`, and keeps the folder (:mod:`sweeps.store`):

* Results go straight to Parquet part files as they arrive, so memory stays flat and a
  killed sweep loses at most the last second of results; the manifest's counts follow.
* A run that raises becomes a ``failed`` row; a run still going after the time limit
  (``timeout_s`` in the spec's ``[run]`` table, or ``run_sweep(timeout_s=...)``) a
  ``failed`` row whose error starts with ``timeout:``; the others go on, on every backend.
* A worker that dies costs only its own run a retry (see :mod:`sweeps.backends`).
* Runs are dispatched largest ``n_teams`` first, so the slowest runs do not trail at the end;
  the order changes nothing in the results (each run's seed is its own).
* A spec whose runs include every run of the folder's earlier spec extends it
  (:mod:`sweeps.extension`): only the new runs run.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sweeps.backends import (
    BACKENDS,
    LOKY_START_ENV,
    dask_client,
    default_jobs,
    execute_all,
    loky_start_method,
)
from sweeps.design import Task, design_hash, design_tasks
from sweeps.extension import extension_check
from sweeps.one_run import FAULTS, Result, execute, make_row, row_params, run_one
from sweeps.progress import Progress, format_duration
from sweeps.provenance import model_hash, portable_path
from sweeps.spec import SweepSpec, load_spec
from sweeps.store import (
    SPEC_FILE,
    FolderState,
    ResultsConflictError,
    ResultStore,
    StaleResultsError,
    count_results,
    environment,
    inspect_folder,
    is_results_folder,
    load_results,
    move_aside,
    utc_now,
)


class ModelMismatchError(ValueError):
    """A worker returned a run made by other model code than this process's."""


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
    return _plan(spec, out, design_tasks(spec))


def _plan(spec: SweepSpec, out: Path, tasks: list[Task]) -> SweepPlan:
    """:func:`plan_sweep` of the spec's design ``tasks`` (expanded once per sweep)."""
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
    columns: list[str] | None = None,
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
    columns : the columns of the returned table, in this order (default: all). Only these
        are read back from the folder, so a caller that needs a few (e.g. ``run_id``,
        ``status`` and ``error`` to report failures) does not hold the whole table.
    _fault : test hook, ``{run_id: "raise" | "kill" | "hang"}``: make that run raise, kill
        the worker process running it (with ``backend="sequential"`` that is this process),
        or never end.

    Returns
    -------
    pandas.DataFrame
        :func:`sweeps.load_results` of the folder (its ``columns``): one row per run of
        this spec, sorted by ``run_id``.

    Raises
    ------
    SpecError
        The spec is invalid (nothing is written).
    ResultsConflictError
        The folder holds another spec's runs (that this spec does not extend), is being
        written by another sweep, or is not a results folder (nothing is written).
    ValueError
        A bad ``backend``, ``jobs``, ``timeout_s``, ``scheduler`` or ``out`` (a path that
        is not valid UTF-8), a bad
        ``ORGSCALE_LOKY_START``, or a dask cluster whose package versions or model code
        differ from this process's (nothing is written); :class:`ModelMismatchError` when a
        worker returns a run of other model code (the sweep stops, finished runs are kept).
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
    try:
        str(out.absolute()).encode("utf-8")
    except UnicodeEncodeError:  # pyarrow takes paths as UTF-8 only: refuse before writing
        raise ValueError(
            f"out={os.fsencode(out)!r} is invalid: the results folder's path must be valid "
            "UTF-8 (Parquet files cannot be written there); choose another name"
        ) from None

    plan = plan_sweep(spec, out)
    if fresh and plan.state.exists:
        if not is_results_folder(out):
            raise ResultsConflictError(
                f"{out} is not a results folder; --fresh only moves results folders aside"
            )
        log(f"moved the old results aside to {move_aside(out)}")
    elif plan.state.problem:
        error = StaleResultsError if plan.state.stale else ResultsConflictError
        raise error(plan.state.problem)

    n_jobs = 1 if backend == "sequential" else (jobs or default_jobs())
    with contextlib.ExitStack() as stack:
        dask_cluster = None
        if backend == "dask" and plan.todo:  # connect before writing anything
            dask_cluster = stack.enter_context(
                dask_client(jobs if scheduler else n_jobs, scheduler, log)
            )
            n_jobs = dask_cluster.window
        store = stack.enter_context(ResultStore(out, flush_seconds=flush_seconds))
        plan = _plan(spec, out, plan.tasks)  # the folder again, now that it is locked
        if plan.state.problem:
            error = StaleResultsError if plan.state.stale else ResultsConflictError
            raise error(plan.state.problem)
        todo = plan.todo
        skipped = len(plan.tasks) - len(todo)
        previous = store.read_manifest()
        manifest = {
            **environment(),
            "model": plan.state.model,  # of the folder's runs (None: unknown, nothing to run)
            "spec": {
                "name": spec.name,
                "file": SPEC_FILE,
                "source": portable_path(spec.source),
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

        ours = model_hash()

        def record(result: Result) -> None:
            theirs = result.get("model_hash")
            if theirs is not None and theirs != ours:  # e.g. a Dask worker of another checkout
                raise ModelMismatchError(
                    f"a worker ran run {result['run_id']} with other model code: model "
                    f"{theirs[:12]}, not {ours[:12]} as here; its result is not recorded. "
                    "Give every worker the same checkout (finished runs are kept)"
                )
            ok = result["status"] == "ok"
            tally["run"] += 1
            tally["ok" if ok else "failed"] += 1
            store.add(make_row(by_id[result["run_id"]], result))
            progress.update(failed=not ok)

        complete = False
        try:
            if todo:
                execute_all(
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
            run_ids = {t.run_id for t in plan.tasks}
            manifest.update(
                finished=utc_now(),
                complete=complete,
                counts={**counts(), **count_results(out, run_ids)},
            )
            store.write_manifest(manifest)
    read = None if columns is None else list(dict.fromkeys([*columns, "run_id"]))
    table = load_results(out, read)
    table = table[table["run_id"].isin(run_ids)]
    if columns is not None:
        table = table[list(columns)]
    return table.reset_index(drop=True)


def _history(previous: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Earlier invocations on this folder (without their own history), oldest first."""
    if not previous:
        return []
    keep = ("orgscale_version", "git", "backend", "jobs", "started", "finished", "complete")
    earlier = {k: previous.get(k) for k in keep} | {"counts": previous.get("counts")}
    earlier["model_hash"] = (previous.get("model") or {}).get("hash")
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


__all__ = [
    "BACKENDS",
    "LOKY_START_ENV",
    "SweepPlan",
    "default_jobs",
    "execute",
    "format_duration",
    "loky_start_method",
    "make_row",
    "plan_sweep",
    "row_params",
    "run_one",
    "run_sweep",
]
