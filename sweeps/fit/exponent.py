"""The power-law exponent b of y = a·N^b and the local log–log slope d ln y / d ln N at each
N, each with a percentile bootstrap CI (steps 4 and 5 of ``docs/fits.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.fit.laws import POWER_BRACKET, LawFit, compare_laws, profile_power
from sweeps.fit.summary import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    PerN,
    check_bootstrap,
    require_positive,
    resample,
    summarise,
)


@dataclass(frozen=True)
class ExponentFit:
    """Exponent b of y = a·N^b with its bootstrap confidence interval.

    Attributes
    ----------
    estimate, stderr
        b from the weighted fit and its asymptotic standard error.
    ci_low, ci_high, level
        Percentile bootstrap interval at ``level`` (NaN without bootstrap).
    n_boot, n_boot_failed
        Resamples drawn, and those dropped because their optimum hit the search bracket.
    """

    estimate: float
    stderr: float
    ci_low: float
    ci_high: float
    level: float
    n_boot: int
    n_boot_failed: int


@dataclass(frozen=True)
class LocalSlopes:
    """Local log–log slope d ln y / d ln N at each N, with bootstrap CIs (NaN without)."""

    n: tuple[float, ...]
    slope: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    level: float


# ----------------------------------------------------------------------------- exponent


def exponent_from_resamples(
    per_n: PerN,
    power: LawFit,
    boot: tuple[np.ndarray, np.ndarray] | None,
    level: float,
) -> ExponentFit:
    """The exponent of a fitted power law, with its CI from bootstrap resamples.

    Parameters
    ----------
    per_n
        The group's per-N summary.
    power
        The ``power`` law fitted to it.
    boot
        Resampled per-N means and sigmas (:func:`~sweeps.fit.summary.resample`), or None:
        no CI.
    level
        Confidence level of the interval.

    Returns
    -------
    ExponentFit
    """
    b_hat = power.param("b")
    if boot is None or per_n.count.max() < 2 or not math.isfinite(b_hat):
        n_boot = 0 if boot is None else boot[0].shape[0]
        return ExponentFit(b_hat, power.stderr("b"), math.nan, math.nan, level, n_boot, 0)
    means, sigmas = boot
    rows = means.shape[0]
    lo = np.full(rows, b_hat - POWER_BRACKET)
    hi = np.full(rows, b_hat + POWER_BRACKET)
    b, _ = profile_power(np.log(per_n.n), means, 1.0 / sigmas**2, lo, hi)
    edge = 1e-6 * POWER_BRACKET
    ok = np.isfinite(b) & (b > lo + edge) & (b < hi - edge)
    tail = 100 * (1 - level) / 2
    if ok.any():
        ci_low, ci_high = np.percentile(b[ok], [tail, 100 - tail])
    else:
        ci_low = ci_high = math.nan
    return ExponentFit(
        estimate=b_hat,
        stderr=power.stderr("b"),
        ci_low=float(ci_low),
        ci_high=float(ci_high),
        level=level,
        n_boot=rows,
        n_boot_failed=int((~ok).sum()),
    )


def power_exponent(
    n: Any,
    y: Any,
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    group: str = "data",
) -> ExponentFit:
    """Exponent b of y = a·N^b with a percentile bootstrap CI.

    Parameters
    ----------
    n, y
        Team count and metric of each observation (metric mean > 0 at every N).
    rng
        Generator (or seed) for the bootstrap.
    n_boot
        Bootstrap resamples (0: no CI).
    level
        Confidence level of the interval.
    group
        Name used in error messages.

    Returns
    -------
    ExponentFit

    Raises
    ------
    ValueError
        On bad input, or a per-N mean <= 0.
    """
    check_bootstrap(n_boot, level)
    per_n = summarise(n, y, group=group)
    power = compare_laws(per_n, ("power",), group)["power"]
    boot = resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return exponent_from_resamples(per_n, power, boot, level)


# ----------------------------------------------------------------------------- local slopes


def slopes_from_resamples(
    per_n: PerN, boot: tuple[np.ndarray, np.ndarray] | None, level: float
) -> LocalSlopes:
    """Local log–log slopes of a per-N summary, with CIs from bootstrap resamples (or none).

    Resamples with a mean <= 0 at some N are left out of the CIs.
    """
    logn = np.log(per_n.n)
    slope = np.gradient(np.log(per_n.mean), logn, edge_order=1)
    ci_low = ci_high = np.full(per_n.n.size, np.nan)
    if boot is not None and per_n.count.max() > 1:
        means = boot[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_means = np.where(means > 0, np.log(np.where(means > 0, means, 1.0)), np.nan)
        valid = np.all(np.isfinite(log_means), axis=1)
        if valid.any():
            boot_slopes = np.gradient(log_means[valid], logn, axis=1, edge_order=1)
            tail = 100 * (1 - level) / 2
            ci_low, ci_high = np.percentile(boot_slopes, [tail, 100 - tail], axis=0)
    return LocalSlopes(
        n=tuple(float(v) for v in per_n.n),
        slope=tuple(float(v) for v in slope),
        ci_low=tuple(float(v) for v in ci_low),
        ci_high=tuple(float(v) for v in ci_high),
        level=level,
    )


def local_slopes(
    n: Any,
    y: Any,
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    group: str = "data",
) -> LocalSlopes:
    """Local log–log slope d ln y / d ln N at each distinct N, from the per-N means.

    Central differences on the log scale, one-sided at the ends; a power law a·N^b has slope
    b everywhere, N ln N has 1 + 1/ln N.

    Parameters
    ----------
    n, y
        Team count and metric of each observation (metric mean > 0 at every N).
    rng, n_boot, level
        Bootstrap for the per-N intervals (``n_boot=0``: none).
    group
        Name used in error messages.

    Returns
    -------
    LocalSlopes

    Raises
    ------
    ValueError
        On bad input, or a per-N mean <= 0.
    """
    check_bootstrap(n_boot, level)
    per_n = summarise(n, y, group=group)
    require_positive(per_n, group, "the local log-log slope")
    boot = resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return slopes_from_resamples(per_n, boot, level)
