"""Case studies for the paper: real projects observed, and the model simulating them.

One function a project, each returning a JSON-safe dict the paper build stores in its
numbers document under ``case_studies.<project>``:

* :func:`nova_case` – OpenStack Nova 2012–2015 by quarter (preset ``nova-trajectory``):
  calibrated on 2012–2013, the quarters of 2014–2015 held out in time.
* :func:`uboot_case` – U-Boot 2024–2025 (preset ``u-boot``): the whole-span patterns, the
  lead-time median fitted, its spread held out.

Both are :func:`case_study`: the simulated side is the calibration's posterior predictive
runs (``results/calibration/<preset>/ppc.parquet``: draws from the last ABC population,
each run once on a fresh seed, written by ``orgscale calibrate``), summarised by
:func:`sweeps.validate.validation_table`, so no model is run here when the calibration is
there. Without a calibration (or without its predictive runs) the preset's own
configuration is run over ``seeds`` seeds by :func:`sweeps.validate.simulate` and the dict
says ``calibrated: false``, which the paper's text can print.

The errors (:func:`error_summary`) are per metric and per role, in-sample against held-out:
the median over the patterns (a trajectory's periods) of the absolute log error
``|ln(simulated median / observed)|`` (the observed value's centre for an interval), and the
share of patterns whose simulated median lies within the pattern's tolerance.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.presets import Pattern, Preset, load_preset
from sweeps.validate import simulate, validation_table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CALIBRATION = ROOT / "results" / "calibration"
DEFAULT_SEEDS = 10
IN_SAMPLE, HELD_OUT = "in_sample", "held_out"

__all__ = [
    "DEFAULT_CALIBRATION",
    "abs_log_error",
    "case_study",
    "error_summary",
    "nova_case",
    "pattern_rows",
    "uboot_case",
]


def nova_case(
    results_calibration_dir: str | Path = DEFAULT_CALIBRATION, *, seeds: int = DEFAULT_SEEDS
) -> dict[str, Any]:
    """Nova 2012–2015 by quarter: observed against the calibrated model (see :func:`case_study`)."""
    return case_study("nova-trajectory", results_calibration_dir, seeds=seeds)


def uboot_case(
    results_calibration_dir: str | Path = DEFAULT_CALIBRATION, *, seeds: int = DEFAULT_SEEDS
) -> dict[str, Any]:
    """U-Boot 2024–2025: observed against the model (see :func:`case_study`)."""
    return case_study("u-boot", results_calibration_dir, seeds=seeds)


# --------------------------------------------------------------------------- errors
def abs_log_error(pattern: Pattern, value: float) -> float:
    """``|ln(value / observed)|`` (observed: the value or the interval's centre); nan if
    either is not a positive finite number."""
    centre = pattern.center
    if not (math.isfinite(value) and math.isfinite(centre)) or value <= 0 or centre <= 0:
        return math.nan
    return abs(math.log(value / centre))


def _group(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    errors = np.array([r["abs_log_error"] for r in rows], float)
    finite = errors[np.isfinite(errors)]
    return {
        "n": len(rows),
        "median_abs_log_error": float(np.median(finite)) if finite.size else math.nan,
        "share_within_tolerance": (
            float(np.mean([bool(r["reproduced"]) for r in rows])) if rows else math.nan
        ),
    }


def error_summary(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Errors by metric and role, and over all metrics: ``{metric | "all": {role: group}}``.

    ``rows`` are :func:`pattern_rows`' (``metric``, ``role`` — checks are left out —,
    ``abs_log_error``, ``reproduced``); role is ``in_sample`` or ``held_out``. A group is
    ``{"n", "median_abs_log_error", "share_within_tolerance"}``; a role a metric lacks is
    absent.
    """
    rows = [r for r in rows if r["role"] in (IN_SAMPLE, HELD_OUT)]
    out: dict[str, Any] = {}
    for metric in dict.fromkeys(r["metric"] for r in rows):
        out[metric] = {
            role: _group(r for r in rows if r["metric"] == metric and r["role"] == role)
            for role in (IN_SAMPLE, HELD_OUT)
            if any(r["metric"] == metric and r["role"] == role for r in rows)
        }
    out["all"] = {
        role: _group(r for r in rows if r["role"] == role)
        for role in (IN_SAMPLE, HELD_OUT)
        if any(r["role"] == role for r in rows)
    }
    return out


def _role(pattern: Pattern) -> str:
    if pattern.check:
        return "check"
    return IN_SAMPLE if pattern.in_sample else HELD_OUT


def pattern_rows(preset: Preset, runs: pd.DataFrame) -> list[dict[str, Any]]:
    """One row a pattern: observed against the simulated median and 90% band over ``runs``
    (:func:`sweeps.validate.validation_table`), with its period, role and log error."""
    table = validation_table(preset, runs=runs).set_index("pattern")
    rows = []
    for p in preset.patterns:
        t = table.loc[p.id]
        median = float(t["sim_median"])
        rows.append(
            {
                "pattern": p.id,
                "metric": p.metric,
                "since": str(p.period[0]) if p.period else None,
                "until": str(p.period[1]) if p.period else None,
                "role": _role(p),
                "role_label": p.role_label,
                "observed": p.center,
                "observed_low": p.low,
                "observed_high": p.high,
                "tolerance": p.tolerance(),
                "tolerance_label": p.tolerance_label,
                "factor": p.factor,
                "sim_median": median,
                "sim_p05": float(t["sim_p05"]),
                "sim_p95": float(t["sim_p95"]),
                "sim_nan": int(t["sim_nan"]),
                "reproduced": bool(t["reproduced"]),
                "abs_log_error": abs_log_error(p, median),
            }
        )
    return rows


# --------------------------------------------------------------------------- one case
def _calibration(folder: Path) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    """The calibration's manifest and posterior predictive runs, or ``None`` for each."""
    manifest = runs = None
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest is not None and (folder / "ppc.parquet").is_file():
        runs = pd.read_parquet(folder / "ppc.parquet")
    return manifest, runs


def _posterior(folder: Path) -> dict[str, Any]:
    path = folder / "intervals.csv"
    if not path.is_file():
        return {}
    frame = pd.read_csv(path)
    return {
        str(row.pop("parameter")): {
            k: v if isinstance(v, str) else float(v) for k, v in row.items()
        }
        for row in frame.to_dict("records")
    }


def _code_current(manifest: Mapping[str, Any]) -> bool | None:
    from sweeps.calibrate import model_code_hashes

    code = manifest.get("model_code")
    return None if not isinstance(code, dict) else code == model_code_hashes()


def _preset_current(preset: Preset, manifest: Mapping[str, Any]) -> bool | None:
    """Whether the calibration was made for this preset's configuration, priors and
    patterns (None when the manifest does not say)."""
    from sweeps.calibrate import fingerprint_parts

    old, settings = manifest.get("fingerprint_parts"), manifest.get("settings")
    if not isinstance(old, Mapping) or not isinstance(settings, Mapping):
        return None
    new = fingerprint_parts(preset, dict(settings))
    return all(old.get(k) == new[k] for k in ("configuration", "priors", "patterns"))


def case_study(
    preset: str | Path | Preset,
    results_calibration_dir: str | Path = DEFAULT_CALIBRATION,
    *,
    seeds: int = DEFAULT_SEEDS,
) -> dict[str, Any]:
    """Observed against simulated for ``preset``, pattern by pattern, with the errors.

    Keys: ``preset``, ``description``, ``calibrated`` (a calibration with posterior
    predictive runs was found), ``converged`` and ``converged_reason`` (the manifest's; None
    when uncalibrated), ``calibration`` (settings, generations, simulations, wall time,
    ε and fit distance, whether the model code is the one calibrated, the posterior's
    intervals), ``simulated_from`` (what the simulated side is), ``n_runs``,
    ``in_sample_until`` (a trajectory's boundary, ISO date, else None), ``fitted`` (the ids
    the calibration's distance used), ``patterns`` (:func:`pattern_rows`) and ``errors``
    (:func:`error_summary`).
    """
    if not isinstance(preset, Preset):
        preset = load_preset(preset)
    folder = Path(results_calibration_dir) / preset.name
    manifest, runs = _calibration(folder)
    calibrated = runs is not None and len(runs) > 0
    if calibrated:
        simulated_from = (
            f"posterior predictive: {len(runs)} draws from the calibration's last population, "
            "each run once on a fresh seed"
        )
    else:
        runs = simulate(preset, seeds=seeds)
        simulated_from = f"the preset's configuration (uncalibrated), {seeds} seeds"
    rows = pattern_rows(preset, runs)
    trajectory = preset.trajectory
    calibration = None
    if manifest is not None:
        calibration = {
            "settings": manifest.get("settings"),
            "generations": manifest.get("generations"),
            "n_simulations": manifest.get("n_simulations"),
            "epsilon": manifest.get("epsilon"),
            "fit_distance": manifest.get("fit_distance"),
            "jobs": manifest.get("jobs"),
            "wall_s_last_invocation": manifest.get("wall_s_this_invocation"),
            "model_code_current": _code_current(manifest),
            "preset_current": _preset_current(preset, manifest),
            "posterior": _posterior(folder),
            "folder": f"results/calibration/{preset.name}",
        }
    return _json_safe(
        {
            "preset": preset.name,
            "description": preset.description,
            "calibrated": bool(calibrated),
            "converged": (manifest or {}).get("converged") if calibrated else None,
            "converged_reason": (manifest or {}).get("converged_reason") if calibrated else None,
            "calibration": calibration if calibrated else None,
            "simulated_from": simulated_from,
            "n_runs": len(runs),
            "in_sample_until": (
                str(trajectory.in_sample_until) if trajectory is not None else None
            ),
            "fitted": list((manifest or {}).get("fitted") or [p.id for p in preset.fitted()]),
            "patterns": rows,
            "errors": error_summary(rows),
        }
    )


def _json_safe(x: Any) -> Any:
    """``x`` with every non-finite float as ``None`` and numpy scalars as Python's."""
    if isinstance(x, Mapping):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
