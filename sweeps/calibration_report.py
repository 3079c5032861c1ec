"""Calibration outputs: posterior summaries, pattern table, ``calibrated.toml`` and the figure.

Pure presentation of a finished pyabc history (:func:`summarise`); :mod:`sweeps.calibrate`
runs the calibration. Writes into the calibration folder with atomic renames.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from model.params import PARAMETERS
from model.presets import Pattern, Preset
from sweeps.atomic import atomic_write_bytes
from sweeps.progress import format_duration

QUANTILES = (0.05, 0.5, 0.95)


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` wrote (``out``) and its main tables."""

    out: Path
    posterior: pd.DataFrame
    intervals: pd.DataFrame
    patterns: pd.DataFrame
    n_simulations: int
    generations: int
    epsilon: float
    wall_s: float


def last_epsilon(history) -> float:
    """ε of the last stored generation (t >= 0) of a pyabc history; inf if none."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return float(pops["epsilon"].iloc[-1]) if len(pops) else math.inf


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs=QUANTILES) -> np.ndarray:
    """Quantiles ``qs`` of ``values`` under ``weights`` (finite values only; nan if none)."""
    values, weights = np.asarray(values, float), np.asarray(weights, float)
    keep = np.isfinite(values)
    values, weights = values[keep], weights[keep]
    if not len(values) or weights.sum() <= 0:
        return np.full(len(qs), math.nan)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cdf = (np.cumsum(weights) - 0.5 * weights) / weights.sum()
    return np.interp(qs, cdf, values)


def summarise(preset: Preset, history, out: Path, started: float) -> CalibrationResult:
    """Write the posterior, intervals, pattern table and ``calibrated.toml`` from ``history``."""
    t = history.max_t
    frame, weights = history.get_distribution(m=0, t=t)
    names = [name for name, _, _ in preset.priors]
    posterior = frame[names].reset_index(drop=True).astype(float)
    posterior["weight"] = np.asarray(weights, float)
    posterior["generation"] = t
    _write_parquet(out / "posterior.parquet", posterior)

    rows = []
    for name, low, high in preset.priors:
        q05, q50, q95 = weighted_quantiles(posterior[name], posterior["weight"])
        mean = float(np.average(posterior[name], weights=posterior["weight"]))
        rows.append(
            dict(parameter=name, prior_low=low, prior_high=high, mean=mean, median=q50)
            | dict(ci90_low=q05, ci90_high=q95)
        )
    intervals = pd.DataFrame(rows)
    _write_csv(out / "intervals.csv", intervals)

    sim_weights, stats = history.get_weighted_sum_stats(t=t)
    simulated = pd.DataFrame(stats).astype(float)
    simulated["weight"] = np.asarray(sim_weights, float)
    _write_parquet(out / "simulated.parquet", simulated)
    patterns = pattern_table(preset.patterns, simulated)
    _write_csv(out / "patterns.csv", patterns)

    lines = [
        f"# Posterior medians of the calibration of {preset.name} (generation {t}).",
        "# Paste into the preset's [config] to make them its configuration.",
        "[config]",
    ]
    for row in rows:
        value = row["median"]
        text = str(round(value)) if PARAMETERS[row["parameter"]].kind is int else f"{value:.4g}"
        lines.append(
            f"{row['parameter']} = {text}    # 90% CI [{row['ci90_low']:.4g}, "
            f"{row['ci90_high']:.4g}]"
        )
    atomic_write_bytes(out / "calibrated.toml", ("\n".join(lines) + "\n").encode())
    return CalibrationResult(
        out=out,
        posterior=posterior,
        intervals=intervals,
        patterns=patterns,
        n_simulations=int(history.total_nr_simulations),
        generations=t + 1,
        epsilon=last_epsilon(history),
        wall_s=time.perf_counter() - started,
    )


def pattern_table(patterns: tuple[Pattern, ...], simulated: pd.DataFrame) -> pd.DataFrame:
    """Per pattern: observed, simulated median and 90% interval, distance, share reproduced."""
    w = simulated["weight"].to_numpy(float) if "weight" in simulated else None
    rows = []
    for p in patterns:
        values = simulated[p.id].to_numpy(float)
        weights = np.ones_like(values) if w is None else w
        q05, q50, q95 = weighted_quantiles(values, weights)
        inside = np.array([p.reproduced(v) for v in values])
        rows.append(
            {
                "pattern": p.id,
                "metric": p.metric,
                "in_sample": p.in_sample,
                "observed": p.observed,
                "tolerance": p.tolerance(),
                "sim_median": q50,
                "sim_ci90_low": q05,
                "sim_ci90_high": q95,
                "distance": p.distance(q50),
                "share_reproduced": float(np.sum(weights * inside) / np.sum(weights)),
                "reproduced": bool(p.reproduced(q50)),
            }
        )
    return pd.DataFrame(rows)


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(path, buffer.getvalue())


def _write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_bytes(path, frame.to_csv(index=False, float_format="%.6g").encode())


def plot_calibration(preset: Preset, result: CalibrationResult, path: Path) -> None:
    """Priors vs posteriors (top row) and each pattern's simulated distribution vs observed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    simulated = pd.read_parquet(result.out / "simulated.parquet")
    n_top, n_bottom = len(preset.priors), len(preset.patterns)
    cols = max(n_top, min(n_bottom, 4))
    rows_bottom = math.ceil(n_bottom / cols)
    fig, axes = plt.subplots(
        1 + rows_bottom, cols, figsize=(3.2 * cols, 2.6 * (1 + rows_bottom)), squeeze=False
    )
    for ax in axes.flat:
        ax.set_visible(False)
    post = result.posterior
    for i, (name, low, high) in enumerate(preset.priors):
        ax = axes[0, i]
        ax.set_visible(True)
        ax.hist(
            post[name],
            bins=20,
            range=(low, high),
            weights=post["weight"],
            density=True,
            color="C0",
            alpha=0.7,
            label="posterior",
        )
        ax.hlines(1 / (high - low), low, high, color="k", linestyle="--", label="prior")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
        if i == 0:
            ax.legend(fontsize=7)
    for j, pattern in enumerate(preset.patterns):
        ax = axes[1 + j // cols, j % cols]
        ax.set_visible(True)
        values = simulated[pattern.id].to_numpy(float)
        finite = np.isfinite(values)
        if finite.any():
            ax.hist(values[finite], bins=20, weights=simulated["weight"][finite], color="C1")
        lo, hi = pattern.accepted_range()
        high = pattern.high if math.isfinite(pattern.high) else ax.get_xlim()[1]
        ax.axvspan(lo, hi if math.isfinite(hi) else high, color="C2", alpha=0.15)
        ax.axvspan(pattern.low, high, color="C2", alpha=0.35) if pattern.low < high else (
            ax.axvline(pattern.low, color="C2", lw=2)
        )
        role = "in-sample" if pattern.in_sample else "held-out"
        ax.set_title(f"{pattern.id} ({role})", fontsize=9)
        ax.set_yticks([])
    fig.suptitle(
        f"{preset.name}: priors vs posteriors (top); simulated patterns vs observed "
        "(green: observed, pale: within tolerance)",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_summary(result: CalibrationResult) -> str:
    """A plain-text summary: intervals, pattern table and cost."""
    lines = [
        f"{result.generations} generations, {result.n_simulations} simulations, "
        f"final ε = {result.epsilon:.3g} tolerance units, {format_duration(result.wall_s)}",
        "",
        "parameter               median   90% credible interval   prior",
    ]
    for row in result.intervals.itertuples():
        lines.append(
            f"{row.parameter:<22} {row.median:>8.4g}   [{row.ci90_low:.4g}, {row.ci90_high:.4g}]"
            f"{'':<6}[{row.prior_low:g}, {row.prior_high:g}]"
        )
    lines += ["", "pattern                  observed      simulated (90%)            reproduced"]
    for row in result.patterns.itertuples():
        role = "" if row.in_sample else " (held out)"
        lines.append(
            f"{row.pattern:<24} {row.observed:<12} {row.sim_median:>8.4g} "
            f"[{row.sim_ci90_low:.4g}, {row.sim_ci90_high:.4g}]"
            f"{'':<4}{'yes' if row.reproduced else 'no'}{role}"
        )
    lines.append(f"\nwritten to {result.out}/")
    return "\n".join(lines)
