"""One run: run the model once, time it, catch what it raises, stop it at its time limit.

:func:`run_one` is the one function that runs the model once: what every backend maps,
what tests call, and how any results row is replayed (:func:`row_params`). :func:`execute`
wraps it for a sweep: a run that raises becomes a ``failed`` result (``error`` =
``"ExcType: message"``), a run past its time limit a ``failed`` result whose error starts
with ``timeout:`` (:mod:`sweeps.timeout`). :func:`execute_in_worker` is the same in a worker
process: it ends with the sweep process and tells the sweep's tracker which run it holds.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Mapping
from typing import Any

from model import METRICS, PARAMETERS, OrgModel
from sweeps.design import Task
from sweeps.provenance import model_hash
from sweeps.timeout import RunTimeout, time_limit
from sweeps.tracker import announce

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

    Returns ``{"run_id", "status", "error", "wall_s", "metrics", "model_hash"}`` (the hash
    of the model code in this process, :func:`sweeps.provenance.model_hash`). A run still
    going after ``timeout_s`` seconds (``None``: no limit) is stopped and ``failed`` with an
    error that starts with ``timeout:``. ``fault`` is a test hook (see
    ``run_sweep(_fault=...)``): ``"raise"`` raises inside the run, ``"kill"`` kills the
    process running it with SIGKILL, ``"hang"`` never ends.
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
        metrics, status, error = {}, "failed", describe_error(err)
    return {
        "run_id": task.run_id,
        "status": status,
        "error": error,
        "wall_s": time.perf_counter() - start,
        "metrics": metrics,
        "model_hash": model_hash(),
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
    row["model_hash"] = result.get("model_hash")
    return row


def describe_error(err: BaseException) -> str:
    """``"ExcType: first line of the message"``: the ``error`` of a failed row."""
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".rstrip(": ")


__all__ = ["FAULTS", "execute", "execute_in_worker", "make_row", "row_params", "run_one"]
