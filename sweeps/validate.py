"""Validation: run a preset over several seeds and compare every pattern with what was observed.

:func:`validation_table` returns one row a pattern: observed value or interval, simulated
median and 90% interval over the seeds, whether the median lies within the pattern's
tolerance, and whether the pattern was used for calibration (in-sample) or held out. The
paper includes this table for each preset; ``orgscale validate`` prints it.
"""

from __future__ import annotations

import contextlib
import math
import sys
import tomllib
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from model.params import validate_params
from model.presets import Preset, PresetError, load_preset
from observe.patterns import Window
from observe.simulated import run_patterns
from sweeps.design import run_seed
from sweeps.workers import forked_pool

DEFAULT_SEEDS = 10
ROOT_SEED = 20131114


def calibrated_config(path: str | Path) -> dict[str, Any]:
    """The ``[config]`` table of a ``calibrated.toml`` written by ``orgscale calibrate``."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PresetError(
            str(path), "(file)", "a calibrated.toml from orgscale calibrate"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise PresetError(str(path), "(syntax)", f"valid TOML ({err})") from None
    config = raw.get("config")
    if not isinstance(config, dict):
        raise PresetError(str(path), "config", "a [config] table of parameter = value")
    return config


def simulate(
    preset: Preset,
    *,
    seeds: int = DEFAULT_SEEDS,
    days: float | None = None,
    overrides: dict[str, Any] | None = None,
    jobs: int = 1,
    root_seed: int = ROOT_SEED,
    quiet: bool = True,
    stream: TextIO | None = None,
) -> pd.DataFrame:
    """Run ``preset`` (with ``overrides``) once per seed; one row of metrics a seed.

    Seeds come from :func:`sweeps.design.run_seed` (``root_seed``, replicate), so the same
    call gives the same table whatever ``jobs``.
    """
    params = validate_params(preset.params(overrides))
    days = preset.days if days is None else float(days)
    if days <= params["warmup_days"]:
        raise ValueError(
            f"--days={days:g} is invalid: must exceed warmup_days={params['warmup_days']:g}"
        )
    run_seeds = [run_seed(root_seed, r, params) for r in range(seeds)]
    stream = sys.stderr if stream is None else stream
    names = tuple(p.metric for p in preset.patterns if p.window is None)
    windows = {p.id: (p.metric, Window(*p.window)) for p in preset.patterns if p.window}
    tasks = [(params, s, days, names, windows) for s in run_seeds]
    with contextlib.ExitStack() as stack:
        if jobs > 1 and seeds > 1:  # forked workers start with the model imported
            rows = stack.enter_context(forked_pool(min(jobs, seeds))).imap(_run, tasks)
        else:
            rows = map(_run, tasks)
        if not quiet:
            from tqdm import tqdm

            rows = tqdm(rows, total=seeds, desc=f"validate {preset.name}", unit="run", file=stream)
        frame = pd.DataFrame(list(rows))
    frame.insert(0, "seed", run_seeds)
    return frame


def _run(task: tuple[dict[str, Any], int, float, tuple[str, ...], dict]) -> dict[str, float]:
    return run_patterns(*task)


def validation_table(
    preset: Preset | str,
    *,
    seeds: int = DEFAULT_SEEDS,
    days: float | None = None,
    overrides: dict[str, Any] | None = None,
    jobs: int = 1,
    root_seed: int = ROOT_SEED,
    quiet: bool = True,
    runs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row a pattern of ``preset``: observed vs simulated over ``seeds`` runs.

    Columns: ``preset``, ``pattern``, ``metric``, ``observed``, ``tolerance`` (upper margin,
    metric's unit), ``tolerance_label`` (``±0.5`` or ``×÷1.25``), ``sim_median``,
    ``sim_p05``, ``sim_p95`` (over the seeds; nan values ignored), ``sim_nan`` (runs that
    gave nan), ``reproduced`` (the median lies within tolerance of the observed value or
    interval), ``role`` (``in-sample``, ``check``, ``held-out``, or ``held-out (in time)``
    for a trajectory's periods after its ``in_sample_until``), ``source``. ``runs`` reuses an
    existing :func:`simulate` table instead of running the model.
    """
    if not isinstance(preset, Preset):
        preset = load_preset(preset)
    if runs is None:
        runs = simulate(
            preset,
            seeds=seeds,
            days=days,
            overrides=overrides,
            jobs=jobs,
            root_seed=root_seed,
            quiet=quiet,
        )
    rows = []
    for p in preset.patterns:
        column = p.id if p.window is not None else p.metric
        values = runs[column].to_numpy(float) if column in runs else np.full(len(runs), np.nan)
        finite = values[np.isfinite(values)]
        q05, q50, q95 = np.quantile(finite, [0.05, 0.5, 0.95]) if len(finite) else (math.nan,) * 3
        rows.append(
            {
                "preset": preset.name,
                "pattern": p.id,
                "metric": p.metric,
                "observed": p.observed,
                "tolerance": p.tolerance(),
                "tolerance_label": p.tolerance_label,
                "sim_median": float(q50),
                "sim_p05": float(q05),
                "sim_p95": float(q95),
                "sim_nan": int(len(values) - len(finite)),
                "reproduced": bool(p.reproduced(float(q50))),
                "role": p.role_label,
                "source": p.source,
            }
        )
    return pd.DataFrame(rows)


def format_table(table: pd.DataFrame) -> str:
    """The validation table as aligned plain text."""
    header = ("pattern", "observed", "simulated median [90%]", "within tolerance", "role")
    body = []
    for row in table.itertuples():
        sim = (
            "nan"
            if math.isnan(row.sim_median)
            else (f"{row.sim_median:.4g} [{row.sim_p05:.4g}, {row.sim_p95:.4g}]")
        )
        if row.sim_nan:
            sim += f" ({row.sim_nan} nan)"
        within = "yes" if row.reproduced else "no"
        body.append((row.pattern, f"{row.observed} {row.tolerance_label}", sim, within, row.role))
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def missed_in_sample(table: pd.DataFrame) -> list[str]:
    """Patterns used for calibration whose simulated median is outside tolerance."""
    misses = table[table["role"].isin(["in-sample", "check"]) & ~table["reproduced"]]
    return misses["pattern"].tolist()
