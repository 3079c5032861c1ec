"""The comparison stage of ``orgscale advise``: every organisation over the horizon, over
posterior draws × seeds, into ``comparison.parquet``.

A task is (organisation, automation, year, draw, replicate); its seed derives from
(root seed, draw, replicate) only, so every organisation meets the same random numbers
(common random numbers: differences between organisations are paired). Finished tasks are
written in parts to ``comparison.parts/`` as they arrive; a killed stage reruns only what is
missing, and the final table, sorted by task, does not depend on the number of workers.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sweeps.advise.organisations import Organisation, at_year
from sweeps.atomic import atomic_write

METRICS = (
    "lead_time_p50",
    "lead_time_mean",
    "lead_time_km_p50",
    "landed_share",
    "paid_reviewer_days_per_change",
    "max_team_utilization",
    "saturated",
    "merged_per_day",
    "submitted_per_day",
    "n_reviewers",
)


def posterior_draws(posterior: pd.DataFrame, n: int, seed: int) -> list[dict[str, float]]:
    """``n`` parameter points drawn from a weighted posterior (with replacement)."""
    names = [c for c in posterior.columns if c not in ("weight", "generation")]
    weights = posterior["weight"].to_numpy(float) if "weight" in posterior else None
    if weights is not None:
        weights = weights / weights.sum()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    rows = rng.choice(len(posterior), size=n, replace=True, p=weights)
    return [{k: float(posterior[k].iloc[i]) for k in names} for i in rows]


def horizon_years(horizon: float) -> list[float]:
    """Years at which organisations are compared: 0, then yearly (at most 6 points)."""
    if horizon <= 0:
        return [0.0]
    step = max(1.0, math.ceil(horizon / 5))
    years = list(np.arange(0.0, horizon + 1e-9, step))
    if years[-1] < horizon:
        years.append(float(horizon))
    return [float(y) for y in years]


def tasks(
    orgs: list[Organisation],
    draws: list[dict[str, float]],
    *,
    years: list[float],
    replicates: int,
    growth: dict[str, float],
    seed: int,
) -> list[dict[str, Any]]:
    """Every run of the comparison, each with its parameters, seed and id."""
    out = []
    for org in orgs:
        automations = (False,) if org.params["topology"] == "single_core" else (False, True)
        for ci in automations:
            for year in years:
                for d, behaviour in enumerate(draws):
                    for r in range(replicates):
                        params = at_year(
                            org,
                            behaviour,
                            year,
                            demand_growth=growth["demand_per_year"],
                            contributor_growth=growth["contributors_per_year"],
                            ci=ci,
                        )
                        run_seed = int(np.random.SeedSequence([seed, d, r]).generate_state(1)[0])
                        key = json.dumps([org.name, ci, year, d, r, params, run_seed], default=str)
                        out.append(
                            {
                                "task": hashlib.sha256(key.encode()).hexdigest()[:16],
                                "organisation": org.name,
                                "ci_automation": ci,
                                "year": year,
                                "draw": d,
                                "replicate": r,
                                "seed": run_seed,
                                "params": params,
                            }
                        )
    return out


def _run(task_and_days: tuple[dict[str, Any], float]) -> dict[str, Any]:
    from observe.simulated import run_patterns

    task, days = task_and_days
    started = time.perf_counter()
    try:
        metrics = run_patterns(task["params"], task["seed"], days)
        error = ""
    except Exception as err:  # a run that fails is recorded, the rest go on
        metrics, error = {}, f"{type(err).__name__}: {err}"
    row = {k: v for k, v in task.items() if k != "params"}
    row.update({m: float(metrics.get(m, math.nan)) for m in METRICS})
    row["error"] = error
    row["wall_s"] = time.perf_counter() - started
    return row


def run_comparison(
    all_tasks: list[dict[str, Any]],
    days: float,
    parts_dir: Path,
    *,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Run the tasks not yet in ``parts_dir`` and return the whole table, sorted by task."""
    parts_dir.mkdir(parents=True, exist_ok=True)
    done = load_parts(parts_dir)
    have = set(done["task"]) if len(done) else set()
    todo = [t for t in all_tasks if t["task"] not in have]
    say = progress or (lambda _m: None)
    say(f"comparison: {len(all_tasks)} runs, {len(all_tasks) - len(todo)} already done")
    batch: list[dict[str, Any]] = []
    part = len(list(parts_dir.glob("part-*.parquet")))
    finished, last = 0, time.monotonic()
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 and todo else None
    try:
        results = (
            pool.imap_unordered(_run, [(t, days) for t in todo], chunksize=1)
            if pool
            else (_run((t, days)) for t in todo)
        )
        for row in results:
            batch.append(row)
            finished += 1
            if time.monotonic() - last > 10 or finished == len(todo) or len(batch) >= 200:
                part = _write_part(parts_dir, part, batch)
                batch = []
                last = time.monotonic()
                say(f"comparison: {finished}/{len(todo)} runs")
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if batch:
            _write_part(parts_dir, part, batch)
    table = load_parts(parts_dir)
    order = {t["task"]: i for i, t in enumerate(all_tasks)}
    table = table[table["task"].isin(order)].drop_duplicates("task")
    table = table.assign(_order=table["task"].map(order)).sort_values("_order")
    return table.drop(columns="_order").reset_index(drop=True)


def _write_part(parts_dir: Path, index: int, rows: list[dict[str, Any]]) -> int:
    frame = pd.DataFrame(rows)
    atomic_write(parts_dir / f"part-{index:05d}.parquet", lambda p: frame.to_parquet(p))
    return index + 1


def load_parts(parts_dir: Path) -> pd.DataFrame:
    """Every finished run written so far (an empty table if none)."""
    files = sorted(parts_dir.glob("part-*.parquet")) if parts_dir.exists() else []
    if not files:
        return pd.DataFrame({"task": pd.Series(dtype=str)})
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def time_one_run(params: dict[str, Any], days: float, seed: int = 1) -> float:
    """Wall seconds of one run (the budget's unit)."""
    from observe.simulated import run_patterns

    started = time.perf_counter()
    run_patterns(params, seed, days, ["merged_per_day", "lead_time_p50"])
    return time.perf_counter() - started


def stderr_progress(prefix: str = "orgscale advise") -> Callable[[str], None]:
    """A progress callback printing one line a message on stderr."""

    def say(message: str) -> None:
        print(f"{prefix}: {message}", file=sys.stderr, flush=True)

    return say
