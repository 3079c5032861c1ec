"""Calibration outputs: posterior summaries, pattern table, ``calibrated.toml`` and the figure.

Pure presentation of a finished pyabc history (:func:`summarise`); :mod:`sweeps.calibrate`
runs the calibration. Writes into the calibration folder with atomic renames.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from model.params import PARAMETERS
from model.presets import Pattern, Preset
from sweeps.atomic import atomic_write_bytes
from sweeps.progress import format_duration

QUANTILES = (0.05, 0.5, 0.95)


INTERVAL_CREDIBLE = "90% credible interval"
INTERVAL_UNCONVERGED = "not converged: 90% posterior interval"


def interval_label(converged: bool) -> str:
    """What the 90% intervals may be called: credible only when the ABC converged."""
    return INTERVAL_CREDIBLE if converged else INTERVAL_UNCONVERGED


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibrate` wrote (``out``) and its main tables.

    ``converged`` decides what the intervals are called (:func:`interval_label`);
    ``checks`` are the patterns fixed by the configuration (``{id: why}``), compared but not
    fitted; ``ppc`` is the posterior predictive table (``ppc.csv``) and ``joint`` its joint
    coverage (share of draws reproducing every fitted / held-out pattern / check at once).
    """

    out: Path
    posterior: pd.DataFrame
    intervals: pd.DataFrame
    patterns: pd.DataFrame
    n_simulations: int
    generations: int
    epsilon: float
    wall_s: float
    converged: bool = False
    checks: dict[str, str] = field(default_factory=dict)
    ppc: pd.DataFrame | None = None
    joint: dict[str, float] = field(default_factory=dict)
    converged_reason: str = ""

    def with_ppc(
        self, ppc: pd.DataFrame | None, joint: dict[str, float], out: Path
    ) -> CalibrationResult:
        """This result with the posterior predictive check merged into ``patterns.csv``."""
        patterns = self.patterns
        if ppc is not None:
            cols = [
                "ppc_median",
                "ppc_p05",
                "ppc_p95",
                "observed_quantile",
                "share_reproduced",
                "median_distance",
            ]
            extra = ppc.set_index("pattern")[cols].rename(
                columns={"share_reproduced": "ppc_share_reproduced", "median_distance": "distance"}
            )
            patterns = patterns.drop(columns=["reproduced", "distance"]).join(extra, on="pattern")
            patterns["reproduced"] = patterns["distance"] <= 1.0
            patterns["reproduced_by"] = "posterior predictive median"
            write_frame(out / "patterns.csv", patterns)
        return replace(self, patterns=patterns, ppc=ppc, joint=joint)


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


def summarise(
    preset: Preset,
    history,
    out: Path,
    started: float,
    *,
    converged: bool = False,
    checks: dict[str, str] | None = None,
    fitted: list[str] | None = None,
) -> CalibrationResult:
    """Write the posterior, intervals, pattern table and ``calibrated.toml`` from ``history``.

    ``converged`` decides whether the intervals are called credible (:func:`interval_label`).
    """
    checks = dict(checks or {})
    label = interval_label(converged)
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
            | dict(ci90_low=q05, ci90_high=q95, interval=label)
        )
    intervals = pd.DataFrame(rows)
    _write_csv(out / "intervals.csv", intervals)

    sim_weights, stats = history.get_weighted_sum_stats(t=t)
    simulated = pd.DataFrame(stats).astype(float)
    simulated["weight"] = np.asarray(sim_weights, float)
    _write_parquet(out / "simulated.parquet", simulated)
    patterns = pattern_table(preset.patterns, simulated, checks)
    _write_csv(out / "patterns.csv", patterns)

    state = "converged" if converged else "NOT converged"
    lines = [
        f"# Posterior medians of the calibration of {preset.name} (generation {t}, {state}).",
        "# Paste into the preset's [config] to make them its configuration.",
        "[config]",
    ]
    short = "90% CI" if converged else "not converged: 90% posterior interval"
    for row in rows:
        value = row["median"]
        text = str(round(value)) if PARAMETERS[row["parameter"]].kind is int else f"{value:.4g}"
        lines.append(
            f"{row['parameter']} = {text}    # {short} [{row['ci90_low']:.4g}, "
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
        converged=converged,
        checks=checks,
    )


def tolerance_columns(pattern: Pattern) -> dict[str, object]:
    """A pattern's tolerance as table columns: its upper margin (metric's unit), its label
    (``±0.5`` or ``×÷1.25``) and the simulated values that reproduce it."""
    low, high = pattern.accepted_range()
    return {
        "tolerance": pattern.tolerance(),
        "tolerance_label": pattern.tolerance_label,
        "reproduced_low": low,
        "reproduced_high": high,
    }


def pattern_table(
    patterns: tuple[Pattern, ...], simulated: pd.DataFrame, checks: dict[str, str] | None = None
) -> pd.DataFrame:
    """Per pattern: role, observed, the accepted simulations' median and 90% interval.

    ``accepted_*`` and ``accepted_share_reproduced`` describe the last population's own
    simulations (what the ABC accepted, so they flatter the fit); whether a pattern is
    reproduced is decided by the posterior predictive check on fresh seeds when there is one
    (:meth:`CalibrationResult.with_ppc`), by the accepted median otherwise.
    """
    checks = checks or {}
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
                "role": "check" if p.id in checks else p.role_label,
                "in_sample": p.in_sample,
                "period": "" if p.period is None else f"{p.period[0]}/{p.period[1]}",
                "observed": p.observed,
                "observed_low": p.low,
                "observed_high": p.high,
                **tolerance_columns(p),
                "accepted_median": q50,
                "accepted_ci90_low": q05,
                "accepted_ci90_high": q95,
                "accepted_share_reproduced": float(np.sum(weights * inside) / np.sum(weights)),
                "distance": p.distance(q50),
                "reproduced": bool(p.reproduced(q50)),
                "reproduced_by": "accepted median",
            }
        )
    return pd.DataFrame(rows)


def write_frame(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` atomically as Parquet or CSV, by ``path``'s suffix."""
    if path.suffix == ".csv":
        _write_csv(path, frame)
    else:
        _write_parquet(path, frame)


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
        role = "check" if pattern.id in result.checks else pattern.role_label
        ax.set_title(f"{pattern.id} ({role})", fontsize=9)
        ax.set_yticks([])
    fig.suptitle(
        f"{preset.name}: priors vs posteriors (top; "
        f"{'converged' if result.converged else 'NOT converged'}); accepted simulations vs "
        "observed (green: observed, pale: within tolerance)",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_summary(result: CalibrationResult) -> str:
    """A plain-text summary: convergence, intervals, checks, pattern table, PPC and cost."""
    label = interval_label(result.converged)
    lines = [
        f"{result.generations} generations, {result.n_simulations} simulations, "
        f"final ε = {result.epsilon:.3g}, {format_duration(result.wall_s)}",
        ("converged: " if result.converged else "NOT converged: ") + result.converged_reason,
        "",
        f"parameter               median   {label:<24} prior",
    ]
    for row in result.intervals.itertuples():
        lines.append(
            f"{row.parameter:<22} {row.median:>8.4g}   [{row.ci90_low:.4g}, {row.ci90_high:.4g}]"
            f"{'':<6}[{row.prior_low:g}, {row.prior_high:g}]"
        )
    by = "posterior predictive, fresh seeds" if result.ppc is not None else "accepted runs"
    lines += [
        "",
        f"pattern                  observed      simulated median [90%] ({by})  reproduced",
    ]
    low, high = (
        ("ppc_p05", "ppc_p95")
        if result.ppc is not None
        else ("accepted_ci90_low", "accepted_ci90_high")
    )
    mid = "ppc_median" if result.ppc is not None else "accepted_median"
    for row in result.patterns.to_dict("records"):
        role = "" if row["role"] == "in-sample" else f" ({row['role']})"
        lines.append(
            f"{row['pattern']:<24} {row['observed']:<12} {row[mid]:>8.4g} "
            f"[{row[low]:.4g}, {row[high]:.4g}]"
            f"{'':<4}{'yes' if row['reproduced'] else 'no'}{role}"
        )
    if result.checks:
        lines += ["", "checks (fixed by the configuration; compared, not fitted):"]
        lines += [f"  {pid}: {why}" for pid, why in result.checks.items()]
    if result.joint:

        def share(v: float) -> str:
            return "-" if v is None or not math.isfinite(v) else f"{v:.0%}"

        lines += [
            "",
            "joint coverage (share of posterior predictive draws reproducing all at once): "
            f"in-sample {share(result.joint.get('in_sample'))}, held-out "
            f"{share(result.joint.get('held_out'))}, checks {share(result.joint.get('checks'))}",
        ]
    lines.append(f"\nwritten to {result.out}/")
    return "\n".join(lines)
