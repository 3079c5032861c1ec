"""Per-N summaries: the replicates at each team count reduced to a mean, its standard error
and the weight (``sigma``) that N gets in the fits; the input checks and the bootstrap every
fit shares.

Method (steps 1 and 2 of ``docs/fits.md``): SEM = sample sd (ddof=1) / √r for r replicates;
a single replicate, a zero SEM, or no SEM at all are handled by the guards listed there.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_DISTINCT_N = 3
"""Fewest distinct N a group needs to be fitted."""
DEFAULT_N_BOOT = 1000
"""Bootstrap resamples unless asked otherwise."""
DEFAULT_LEVEL = 0.95
"""Confidence level of every interval unless asked otherwise."""
_ZERO_SEM_REL_FLOOR = 1e-3  # × median positive SEM
_EXACT_REL_FLOOR = 1e-9  # × max |mean| when every SEM is zero


@dataclass(frozen=True)
class PerN:
    """Replicates summarised at each distinct N.

    Attributes
    ----------
    n, mean, sem, count
        Distinct N (ascending), mean of the metric, its standard error (NaN with a single
        replicate) and the number of replicates.
    sigma
        Standard error used as ``sigma`` in the fits, after the guards of ``docs/fits.md``
        (|mean|, up to a fitted scale, when ``weighting="relative"``).
    weighting
        ``"sem"``, or ``"relative"`` when no N has two replicates.
    values
        The replicates at each N, in input order.
    """

    n: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    count: np.ndarray
    sigma: np.ndarray
    weighting: str
    values: tuple[np.ndarray, ...]


# ----------------------------------------------------------------------------- checks


def format_value(value: float) -> str:
    """A number as it appears in error messages and reasons (6 significant digits)."""
    return f"{value:.6g}"


def check_observations(n: Any, y: Any, group: str) -> tuple[np.ndarray, np.ndarray]:
    """Team counts and metric as float arrays, or a ``ValueError`` naming the group.

    Both must be 1-D, of one length and finite, with N > 0 and at least
    :data:`MIN_DISTINCT_N` distinct N.
    """
    n_arr = np.asarray(n, dtype=float)
    y_arr = np.asarray(y, dtype=float)
    if n_arr.ndim != 1 or y_arr.ndim != 1:
        raise ValueError(
            f"group {group}: n and y must be 1-D arrays, got shapes {n_arr.shape} and {y_arr.shape}"
        )
    if n_arr.shape != y_arr.shape:
        raise ValueError(
            f"group {group}: n and y have different lengths ({n_arr.size} and {y_arr.size}); "
            "give one N per observation"
        )
    bad_n = ~np.isfinite(n_arr)
    if bad_n.any():
        raise ValueError(f"group {group}: N has {int(bad_n.sum())} NaN or infinite value(s)")
    bad_y = ~np.isfinite(y_arr)
    if bad_y.any():
        where = ", ".join(format_value(v) for v in np.unique(n_arr[bad_y]))
        raise ValueError(
            f"group {group}: the metric has {int(bad_y.sum())} NaN or infinite value(s) "
            f"(at N = {where}); drop or fix those runs"
        )
    if (n_arr <= 0).any():
        raise ValueError(
            f"group {group}: N must be positive, got {format_value(n_arr.min())}; "
            "the laws are defined for N >= 1"
        )
    distinct = np.unique(n_arr)
    if distinct.size < MIN_DISTINCT_N:
        found = (
            f" (found N = {', '.join(format_value(v) for v in distinct)})" if distinct.size else ""
        )
        raise ValueError(
            f"group {group} has only {distinct.size} distinct N values; "
            f"need at least {MIN_DISTINCT_N}{found}"
        )
    return n_arr, y_arr


def require_positive(per_n: PerN, group: str, what: str) -> None:
    """Raise ``ValueError`` naming ``group``, ``what`` and every N whose mean is <= 0."""
    bad = per_n.mean <= 0
    if bad.any():
        where = ", ".join(
            f"N = {format_value(n)} (mean {format_value(m)})"
            for n, m in zip(per_n.n[bad], per_n.mean[bad], strict=True)
        )
        raise ValueError(
            f"group {group}: {what} needs a positive metric, but the mean is <= 0 at {where}; "
            "exclude those N or choose a positive metric"
        )


def check_bootstrap(n_boot: int, level: float) -> None:
    """Raise ``ValueError`` unless ``n_boot`` is an integer >= 0 and 0 < ``level`` < 1."""
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot={n_boot!r} is invalid: must be an integer >= 0")
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} is invalid: must be between 0 and 1, e.g. 0.95")


# ----------------------------------------------------------------------------- per N


def summarise(n: Any, y: Any, *, group: str = "data") -> PerN:
    """Summarise replicates at each distinct N (mean, SEM, count) and set the fit weights.

    Parameters
    ----------
    n, y
        Team count and metric of each observation (same length, finite, N > 0, at least
        three distinct N). The metric in its own units; SEM and sigma are in the same units.
    group
        Name used in error messages.

    Returns
    -------
    PerN

    Raises
    ------
    ValueError
        On bad input (see :func:`check_observations`).
    """
    n_arr, y_arr = check_observations(n, y, group)
    distinct, inverse = np.unique(n_arr, return_inverse=True)
    values = tuple(y_arr[inverse == k] for k in range(distinct.size))
    count = np.array([v.size for v in values])
    mean = np.array([v.mean() for v in values])
    sem = np.array([v.std(ddof=1) / math.sqrt(v.size) if v.size > 1 else np.nan for v in values])
    weighted = bool((count > 1).any())
    sigma = _sigma(mean, sem) if weighted else _relative_sigma(mean)
    return PerN(
        n=distinct,
        mean=mean,
        sem=sem,
        count=count,
        sigma=sigma,
        weighting="sem" if weighted else "relative",
        values=values,
    )


def _sigma(mean: np.ndarray, sem: np.ndarray) -> np.ndarray:
    """Fit sigma from SEM along the last axis, with the guards of ``docs/fits.md``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN medians are handled below
        sem = np.array(sem, dtype=float)
        single = np.isnan(sem)
        if single.any():
            scale = np.abs(np.where(mean != 0, mean, 1.0))
            rel = np.where(~single & (mean != 0), sem / scale, np.nan)
            med_rel = np.nanmedian(rel, axis=-1, keepdims=True)
            sem = np.where(single, med_rel * np.abs(mean), sem)
        positive = np.where(sem > 0, sem, np.nan)
        floor = _ZERO_SEM_REL_FLOOR * np.nanmedian(positive, axis=-1, keepdims=True)
        exact = _EXACT_REL_FLOOR * np.max(np.abs(mean), axis=-1, keepdims=True)
        floor = np.where(np.isfinite(floor), floor, exact)
        floor = np.where(floor > 0, floor, 1.0)
        return np.where(np.isfinite(sem) & (sem > floor), sem, np.broadcast_to(floor, sem.shape))


def _relative_sigma(mean: np.ndarray) -> np.ndarray:
    """Error proportional to |mean| (up to a fitted scale), floored at 1e-3 × median |mean|."""
    size = np.abs(mean)
    floor = 1e-3 * np.median(size, axis=-1, keepdims=True)
    floor = np.where(floor > 0, floor, 1.0)
    return np.maximum(size, floor)


def resample(per_n: PerN, rng: np.random.Generator, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap per-N means and fit sigmas, resampling replicates within each N.

    Parameters
    ----------
    per_n
        The summary whose replicates are resampled.
    rng
        Generator for the draws.
    n_boot
        Resamples.

    Returns
    -------
    means, sigmas : numpy.ndarray
        Shape (n_boot, number of distinct N), in the metric's units.
    """
    k = per_n.n.size
    means = np.empty((n_boot, k))
    sems = np.full((n_boot, k), np.nan)
    for j, vals in enumerate(per_n.values):
        draw = vals[rng.integers(0, vals.size, size=(n_boot, vals.size))]
        means[:, j] = draw.mean(axis=1)
        if vals.size > 1:
            sems[:, j] = draw.std(axis=1, ddof=1) / math.sqrt(vals.size)
    sigmas = _sigma(means, sems) if per_n.weighting == "sem" else _relative_sigma(means)
    return means, sigmas
