"""Checks of a calibration a statistician would ask for: convergence and the posterior predictive.

* :func:`convergence`: whether the ABC converged, and why (not). Converged means the
  posterior reproduces the fitted patterns to within ``min_epsilon`` tolerance units (the
  weighted median over the last population of the root-mean-square distance in tolerance
  units, whatever distance drove the sampling) with an effective sample size of at least
  ``min_ess`` × population. A run stopped by its generation budget or by an acceptance rate
  below ``min_acceptance_rate`` before that is not converged, and its intervals are 90%
  posterior intervals, not credible intervals.
* :func:`posterior_predictive`: draws from the last population, each run once on a fresh
  seed; :func:`ppc_table`: every pattern's simulated distribution against its observed
  value (the quantile of the observed value in it, the share of draws reproducing it) and
  :func:`joint_coverage`: the share of draws reproducing all fitted patterns together.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from model.presets import Pattern
from sweeps.calibration_abc import Simulator, fork_pool, particle_seed
from sweeps.calibration_report import tolerance_columns, weighted_quantiles

PPC_STREAM = -4  # particle_seed's generation index of the posterior predictive runs


def fit_distances(patterns: tuple[Pattern, ...], stats: pd.DataFrame) -> np.ndarray:
    """Each row's root-mean-square distance in tolerance units over ``patterns``."""
    d = np.array([[p.distance(float(v)) for v in stats[p.id].to_numpy(float)] for p in patterns])
    return np.sqrt(np.mean(d**2, axis=0)) if len(patterns) else np.zeros(len(stats))


def generation_record(
    t: int,
    epsilon: float,
    n_simulations: int,
    weights: np.ndarray,
    stats: pd.DataFrame,
    fitted: tuple[Pattern, ...],
) -> dict[str, Any]:
    """One generation's diagnostics: ε, fit distance, acceptance rate, effective sample size."""
    weights = np.asarray(weights, float) / np.sum(weights)
    fit = weighted_quantiles(fit_distances(fitted, stats), weights, (0.5,))[0]
    n = len(weights)
    return {
        "t": int(t),
        "epsilon": float(epsilon),
        "fit_distance": float(fit),
        "n_simulations": int(n_simulations),
        "acceptance_rate": n / n_simulations if n_simulations else math.nan,
        "ess": float(1.0 / np.sum(weights**2)),
        "population": n,
    }


def convergence(
    records: list[dict[str, Any]], settings: dict[str, Any], stopped: str | None = None
) -> tuple[bool, str]:
    """``(converged, reason)`` from the generations' records and the stopping settings.

    ``stopped`` says why sampling ended early (an acceptance rate below the minimum).
    """
    if not records:
        return False, "no generation finished"
    last = records[-1]
    target, floor = settings["min_epsilon"], settings["min_ess"] * last["population"]
    fit = last["fit_distance"]
    if fit > target:
        why = stopped or (
            f"generation budget spent ({len(records)} generations)"
            if len(records) >= settings["generations"]
            else f"stopped after {len(records)} generations"
        )
        return False, (
            f"{why} with the fit distance at {fit:.3g} tolerance units > target "
            f"{target:g}: the posterior does not reproduce the fitted patterns"
        )
    if last["ess"] < floor:
        return False, (
            f"effective sample size {last['ess']:.1f} < floor {floor:.1f} "
            f"({settings['min_ess']:g} × population)"
        )
    return True, (
        f"fit distance {fit:.3g} ≤ target {target:g} tolerance units after {len(records)} "
        f"generations, effective sample size {last['ess']:.1f} ≥ {floor:.1f}"
    )


# --------------------------------------------------------------------------- predictive
def _ppc_one(task: tuple[Simulator, dict[str, float], int]) -> dict[str, float]:
    simulator, theta, seed = task
    return simulator.run(theta, seed)


def posterior_predictive(
    simulator: Simulator,
    posterior: pd.DataFrame,
    names: list[str],
    draws: int,
    seed: int,
    jobs: int = 1,
) -> pd.DataFrame:
    """``draws`` particles drawn by weight from ``posterior``, each run once on a fresh seed.

    One row a draw: the parameters, ``seed`` and every pattern's value. The draws and seeds
    come from ``seed`` alone (``particle_seed(seed, PPC_STREAM, i)``), never from a seed
    the calibration used.
    """
    rng = np.random.default_rng(particle_seed(seed, PPC_STREAM, -1))
    weights = posterior["weight"].to_numpy(float)
    picks = rng.choice(len(posterior), size=draws, p=weights / weights.sum())
    tasks = []
    for i, k in enumerate(picks):
        theta = {name: float(posterior[name].iloc[k]) for name in names}
        tasks.append((simulator, theta, particle_seed(seed, PPC_STREAM, i) % (2**31 - 1)))
    if jobs > 1 and draws > 1:
        pool = fork_pool(min(jobs, draws))
        try:
            rows = pool.map(_ppc_one, tasks)
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
    else:
        rows = [_ppc_one(task) for task in tasks]
    frame = pd.DataFrame(rows)
    for name in reversed(names):
        frame.insert(0, name, [task[1][name] for task in tasks])
    frame.insert(len(names), "seed", [task[2] for task in tasks])
    return frame


def observed_quantile(pattern: Pattern, values: np.ndarray) -> float:
    """Where the observed value falls in the simulated ``values``: the share below it.

    For an interval, the share below its low end plus half the share inside it (0.5 when
    the simulations sit in the interval, near 0 or 1 when they miss it on one side).
    """
    values = values[np.isfinite(values)]
    if not values.size:
        return math.nan
    below = np.mean(values < pattern.low)
    inside = np.mean((values >= pattern.low) & (values <= pattern.high))
    return float(below + 0.5 * inside)


def ppc_table(
    patterns: tuple[Pattern, ...], runs: pd.DataFrame, roles: dict[str, str]
) -> pd.DataFrame:
    """Per pattern: its posterior predictive distribution against its observed value."""
    rows = []
    for p in patterns:
        values = runs[p.id].to_numpy(float)
        finite = values[np.isfinite(values)]
        q05, q50, q95 = np.quantile(finite, [0.05, 0.5, 0.95]) if finite.size else (math.nan,) * 3
        rows.append(
            {
                "pattern": p.id,
                "metric": p.metric,
                "role": roles[p.id],
                "period": "" if p.period is None else f"{p.period[0]}/{p.period[1]}",
                "observed": p.observed,
                **tolerance_columns(p),
                "ppc_median": float(q50),
                "ppc_p05": float(q05),
                "ppc_p95": float(q95),
                "ppc_nan": int(values.size - finite.size),
                "observed_quantile": observed_quantile(p, values),
                "share_reproduced": float(np.mean([p.reproduced(v) for v in values])),
                "median_distance": p.distance(float(q50)),
            }
        )
    return pd.DataFrame(rows)


def joint_coverage(patterns: list[Pattern], runs: pd.DataFrame) -> float:
    """Share of the draws that reproduce every one of ``patterns`` at once (nan if none)."""
    if not patterns or not len(runs):
        return math.nan
    ok = np.ones(len(runs), bool)
    for p in patterns:
        ok &= np.array([p.reproduced(v) for v in runs[p.id].to_numpy(float)])
    return float(ok.mean())
