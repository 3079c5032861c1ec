"""Scaling-law fits: which law y(N) describes a metric measured at N teams, and how sure we are.

Pure functions on arrays (and one on a results DataFrame) returning small frozen dataclasses.
No file I/O: the ``orgscale fit`` command (:mod:`sweeps.commands.fit`) reads results and
writes ``fits.csv`` and ``fits.json``.

Candidate laws (N = number of teams, ln = natural logarithm)
------------------------------------------------------------
===========  ==========================  ==========================================
law          y(N)                        stands for
===========  ==========================  ==========================================
constant     a                           no growth with N
linear       a·N                         local, hierarchical links: Θ(N) (seed, H3)
nlogn        a·N·ln N                    tree-like integration with depth ~ log N
quadratic    a·N(N−1)/2 + b·N            all-to-all links, N(N−1)/2 contracts (H2)
power        a·N^b                       free exponent b (the "scaling exponent")
===========  ==========================  ==========================================

Public functions
----------------
:func:`summarise`, :func:`fit_laws`, :func:`power_exponent`, :func:`local_slopes`,
:func:`fit_scaling` (all three for one group), :func:`find_crossover` (two groups),
:func:`akaike_weights`; on a results table :func:`fit_groups`, :func:`fits_frame` (the
``fits.csv`` rows), :func:`fits_json` (the ``fits.json`` document) and :func:`fit_table`
(``fit_groups`` then ``fits_frame``).

Method
------
1. **Per-N summary.** At each distinct N: the mean of the replicates and its standard error
   (SEM = sample sd with ddof=1 / √r for r replicates).
2. **Weights.** Each law is fitted to the per-N means with ``scipy.optimize.curve_fit``,
   ``sigma`` = SEM and ``absolute_sigma=True``. Guards, in order:

   * an N with a single replicate has no SEM; it gets the median *relative* SEM of the
     other N times its own mean;
   * a zero SEM (all replicates equal, e.g. a deterministic count) is raised to a floor of
     1e-3 × the median positive SEM of the group, or, if every SEM is zero, 1e-9 × the
     largest |mean| (the data are then exact and the exact law wins outright);
   * if no N has two or more replicates there is no SEM at all (``weighting="relative"``):
     the error is taken as proportional to the mean, σᵢ = s·|ȳᵢ| (|ȳᵢ| floored at 1e-3 × the
     median |ȳ|), as suits metrics spanning orders of magnitude; the scale s is estimated
     from the residuals (so ``curve_fit`` runs with ``absolute_sigma=False``), counts as one
     more parameter in the AICc, and no bootstrap CI is possible.
3. **Model choice.** With Gaussian errors of known σᵢ, −2 ln L = χ² + Σ ln(2πσᵢ²) (with
   σᵢ = s·|ȳᵢ| and s² = χ²/n at its maximum: n ln(2πs²) + n + Σ ln ȳᵢ²), and
   AICc = −2 ln L + 2k + 2k(k+1)/(n−k−1) for k parameters and n distinct N. When
   n − k − 1 ≤ 0 the correction is undefined (the law can interpolate the data); such a law
   gets AICc = +inf and Akaike weight 0, and is reported but never chosen. With the minimum
   of 3 distinct N this leaves the one-parameter laws. Akaike weights are
   exp(−Δᵢ/2) / Σ exp(−Δⱼ/2) with Δ = AICc − min AICc. The chosen ("best") law is the one
   with the fewest parameters among those with Δ ≤ 2 (laws the data cannot tell apart;
   Burnham & Anderson 2002, §2.6), ties broken by AICc: linear data otherwise often "prefer"
   the power law with b ≈ 1 or the quadratic with a ≈ 0, which contain it.
   Also reported: χ²/dof = χ²/(n−k) and the weighted R² = 1 − χ²/Σwᵢ(ȳᵢ − ȳ_w)² with
   wᵢ = 1/σᵢ² (0 for ``constant`` by construction).
4. **Exponent.** The exponent b of the ``power`` law is always reported, with a percentile
   bootstrap CI: replicates are resampled with replacement within each N, the per-N means
   and SEMs recomputed, and a·N^b refitted (vectorised over resamples: a is profiled out in
   closed form and b found by golden-section search within ±4 of the estimate; a resample
   whose optimum sits on that bracket edge counts as failed and is dropped).
5. **Local slopes.** d ln y / d ln N at each N from the per-N means: central differences on
   the log scale (``numpy.gradient``; second-order accurate for unevenly spaced N),
   one-sided at the two ends; bootstrap CI from the same resamples.
6. **Crossover N\\*.** Where two groups' mean curves cross: the first sign change of
   d(N) = ln ȳ_A − ln ȳ_B (or ȳ_A − ȳ_B if a mean is not positive) over the N both groups
   share, interpolated linearly in ln N (exact for two power laws). Exact ties are skipped.
   Bootstrap CI from resampling replicates within each N in both groups; a resample without
   a crossing in range places N\\* beyond the range on the side its ordering implies, so a
   CI bound of ``None`` means "beyond the sampled N".

Errors
------
``ValueError`` for unknown or non-numeric columns, arrays of different lengths, NaN or
infinite values among the runs used, N ≤ 0, fewer than 3 distinct N in a group ("group X
has only 2 distinct N values; need at least 3") and, for the log laws (``power``, the
exponent and the local slopes), a per-N mean ≤ 0 (the message names the group and the N;
exclude such N, e.g. N = 1 for a cost that is zero with one team).
Bootstrap resamples whose mean is ≤ 0 somewhere are dropped from the local-slope CI only.

``fits.json`` (from :func:`fits_json`; keys are stable)
-------------------------------------------------------
::

    {
      "schema_version": 1,
      "metric": str, "n_col": str, "by": [str, ...],
      "level": 0.95, "n_bootstrap": int,
      "n_excluded_failed": int,                    # all groups together
      "groups": [
        {
          "key": {<by column>: value, ...},        # {} when by is empty
          "label": "topology=flat, ci_automation=True",   # or "all rows"
          "n_runs": int,                           # rows used
          "n_excluded_failed": int,                # rows with status != "ok"
          "weighting": "sem" | "relative",
          "n": [N, ...],                           # distinct N, ascending
          "mean": [...], "sem": [...], "n_replicates": [...],   # per N
          "laws": {
            "<law>": {"params": {"a": .., "b": ..}, "stderr": {"a": .., "b": ..},
                      "aicc": .., "delta_aicc": .., "weight": .., "chi2_dof": .., "r2": ..,
                      "best": bool, "note": str},
            ...                                    # constant, linear, nlogn, quadratic, power
          },
          "best_law": str, "best_weight": float,
          "exponent": {"estimate": .., "stderr": .., "ci_low": .., "ci_high": ..,
                       "level": .., "n_boot": .., "n_boot_failed": ..},
          "local_slopes": [{"n": N, "slope": .., "ci_low": .., "ci_high": ..}, ...]
        },
        ...
      ]
    }

Non-finite numbers (an AICc of +inf, an undefined χ²/dof) are written as ``null``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

LAWS = ("constant", "linear", "nlogn", "quadratic", "power")
"""Names of the candidate laws, in the order they are reported."""

LOG_LAWS = frozenset({"power"})
"""Laws that need a positive metric (they are fitted or started on a log scale)."""

FORMULAS = {
    "constant": "a",
    "linear": "a*N",
    "nlogn": "a*N*ln(N)",
    "quadratic": "a*N*(N-1)/2 + b*N",
    "power": "a*N^b",
}
PARAM_NAMES = {
    "constant": ("a",),
    "linear": ("a",),
    "nlogn": ("a",),
    "quadratic": ("a", "b"),
    "power": ("a", "b"),
}
MIN_DISTINCT_N = 3
DEFAULT_N_BOOT = 1000
DEFAULT_LEVEL = 0.95
POWER_BRACKET = 4.0  # bootstrap exponent searched within estimate ± this
_ZERO_SEM_REL_FLOOR = 1e-3  # × median positive SEM
_EXACT_REL_FLOOR = 1e-9  # × max |mean| when every SEM is zero


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PerN:
    """Replicates summarised at each distinct N.

    Attributes
    ----------
    n, mean, sem, count
        Distinct N (ascending), mean of the metric, its standard error (NaN with a single
        replicate) and the number of replicates.
    sigma
        Standard error used as ``sigma`` in the fits, after the guards of the module
        docstring (|mean|, up to a fitted scale, when ``weighting="relative"``).
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


@dataclass(frozen=True)
class LawFit:
    """One candidate law fitted to the per-N means.

    Attributes
    ----------
    law, formula
        Law name (one of :data:`LAWS`) and its formula in N.
    names, estimates, stderrs
        Parameter names, estimates and standard errors (NaN if the fit failed or the
        covariance could not be estimated).
    aicc, delta_aicc, weight
        AICc (+inf when n − k − 1 ≤ 0 or the fit failed), its difference from the smallest
        AICc among the laws, and the Akaike weight.
    chi2, chi2_dof, r2
        Weighted χ², χ²/(n − k) (NaN if n ≤ k or the scale is fitted) and weighted R².
    n_points, n_params
        Distinct N used and parameters fitted (the error scale counts as one when fitted).
    note
        Empty, or why the law could not be compared.
    """

    law: str
    formula: str
    names: tuple[str, ...]
    estimates: tuple[float, ...]
    stderrs: tuple[float, ...]
    aicc: float
    delta_aicc: float
    weight: float
    chi2: float
    chi2_dof: float
    r2: float
    n_points: int
    n_params: int
    note: str = ""

    def param(self, name: str) -> float:
        """Return the estimate of parameter ``name`` (``"a"`` or ``"b"``)."""
        return self.estimates[self.names.index(name)]

    def stderr(self, name: str) -> float:
        """Return the standard error of parameter ``name``."""
        return self.stderrs[self.names.index(name)]


@dataclass(frozen=True)
class LawComparison:
    """Every candidate law fitted to one group, ranked by AICc.

    Attributes
    ----------
    fits
        One :class:`LawFit` per law, in the order asked for.
    best, best_weight
        Law with the smallest AICc and its Akaike weight.
    weighting
        ``"sem"`` or ``"relative"``.
    """

    fits: tuple[LawFit, ...]
    best: str
    best_weight: float
    weighting: str

    def __getitem__(self, law: str) -> LawFit:
        for fit in self.fits:
            if fit.law == law:
                return fit
        raise KeyError(f"law {law!r} was not fitted; fitted laws: {[f.law for f in self.fits]}")


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


@dataclass(frozen=True)
class Crossover:
    """Where two mean curves cross.

    Attributes
    ----------
    nstar
        Crossover N* (``None`` if the curves do not cross within the shared N range).
    ci_low, ci_high, level
        Percentile bootstrap interval; ``None`` for a bound beyond the sampled N range (or
        when there is no crossover).
    below
        Label of the group with the smaller mean just below N* (``None`` if no crossover).
    n_crossings
        Sign changes of the difference in range (more than one: N* is the first).
    boot_fraction
        Fraction of bootstrap resamples that cross within range.
    reason
        Empty, or why there is no crossover.
    """

    nstar: float | None
    ci_low: float | None
    ci_high: float | None
    level: float
    below: str | None
    n_crossings: int
    boot_fraction: float
    reason: str = ""


@dataclass(frozen=True)
class ScalingFit:
    """Everything fitted for one group: laws, exponent and local slopes."""

    group: str
    per_n: PerN
    laws: LawComparison
    exponent: ExponentFit
    slopes: LocalSlopes


@dataclass(frozen=True)
class GroupFit:
    """A :class:`ScalingFit` for one group of a results table, with its bookkeeping."""

    key: tuple[Any, ...]
    label: str
    n_runs: int
    n_excluded_failed: int
    fit: ScalingFit


@dataclass(frozen=True)
class TableFit:
    """Fits of one metric for every group of a results table (see :func:`fit_groups`)."""

    metric: str
    n_col: str
    by: tuple[str, ...]
    level: float
    n_boot: int
    groups: tuple[GroupFit, ...]

    @property
    def n_excluded_failed(self) -> int:
        """Rows excluded because their ``status`` was not ``"ok"``, over all groups."""
        return sum(g.n_excluded_failed for g in self.groups)


# ----------------------------------------------------------------------------- checks


def _as_arrays(n: Any, y: Any, group: str) -> tuple[np.ndarray, np.ndarray]:
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
        where = ", ".join(_fmt(v) for v in np.unique(n_arr[bad_y]))
        raise ValueError(
            f"group {group}: the metric has {int(bad_y.sum())} NaN or infinite value(s) "
            f"(at N = {where}); drop or fix those runs"
        )
    if (n_arr <= 0).any():
        raise ValueError(
            f"group {group}: N must be positive, got {_fmt(n_arr.min())}; "
            "the laws are defined for N >= 1"
        )
    distinct = np.unique(n_arr)
    if distinct.size < MIN_DISTINCT_N:
        found = f" (found N = {', '.join(_fmt(v) for v in distinct)})" if distinct.size else ""
        raise ValueError(
            f"group {group} has only {distinct.size} distinct N values; "
            f"need at least {MIN_DISTINCT_N}{found}"
        )
    return n_arr, y_arr


def _require_positive(per_n: PerN, group: str, what: str) -> None:
    bad = per_n.mean <= 0
    if bad.any():
        where = ", ".join(
            f"N = {_fmt(n)} (mean {_fmt(m)})"
            for n, m in zip(per_n.n[bad], per_n.mean[bad], strict=True)
        )
        raise ValueError(
            f"group {group}: {what} needs a positive metric, but the mean is <= 0 at {where}; "
            "exclude those N or choose a positive metric"
        )


def _fmt(value: float) -> str:
    return f"{value:.6g}"


# ----------------------------------------------------------------------------- per N


def summarise(n: Any, y: Any, *, group: str = "data") -> PerN:
    """Summarise replicates at each distinct N (mean, SEM, count) and set the fit weights.

    Parameters
    ----------
    n, y
        Team count and metric of each observation (same length, finite, N > 0, at least
        three distinct N).
    group
        Name used in error messages.

    Returns
    -------
    PerN
    """
    n_arr, y_arr = _as_arrays(n, y, group)
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
    """Fit sigma from SEM along the last axis, with the guards of the module docstring."""
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


def _resample(per_n: PerN, rng: np.random.Generator, n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap per-N means and fit sigmas, resampling replicates within each N.

    Returns arrays of shape (n_boot, number of distinct N).
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


# ----------------------------------------------------------------------------- laws


def _model(law: str) -> Callable[..., np.ndarray]:
    if law == "constant":
        return lambda n, a: a * np.ones_like(n)
    if law == "linear":
        return lambda n, a: a * n
    if law == "nlogn":
        return lambda n, a: a * n * np.log(n)
    if law == "quadratic":
        return lambda n, a, b: a * n * (n - 1) / 2 + b * n
    if law == "power":
        return lambda n, a, b: a * np.power(n, b)
    raise ValueError(f"unknown law {law!r}; valid laws: {', '.join(LAWS)}")


def _design(law: str, n: np.ndarray) -> np.ndarray:
    """Columns of the laws that are linear in their parameters."""
    columns = {
        "constant": [np.ones_like(n)],
        "linear": [n],
        "nlogn": [n * np.log(n)],
        "quadratic": [n * (n - 1) / 2, n],
    }[law]
    return np.column_stack(columns)


def _profile_power(
    logn: np.ndarray, y: np.ndarray, w: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fit y = a·N^b row by row (vectorised): a in closed form, b by golden section.

    ``y`` and ``w`` (= 1/σ²) have shape (rows, K); ``lo`` and ``hi`` (rows,) bracket b.
    Returns b and a, each of shape (rows,).
    """

    def chi2(b: np.ndarray) -> np.ndarray:
        g = np.exp(b[:, None] * logn[None, :])
        a = (w * y * g).sum(axis=1) / (w * g * g).sum(axis=1)
        return (w * (y - a[:, None] * g) ** 2).sum(axis=1)

    inv_phi = (math.sqrt(5.0) - 1.0) / 2.0
    lo, hi = lo.astype(float).copy(), hi.astype(float).copy()
    for _ in range(80):
        c = hi - inv_phi * (hi - lo)
        d = lo + inv_phi * (hi - lo)
        left = chi2(c) < chi2(d)
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
    b = (lo + hi) / 2
    g = np.exp(b[:, None] * logn[None, :])
    a = (w * y * g).sum(axis=1) / (w * g * g).sum(axis=1)
    return b, a


def _start(law: str, per_n: PerN) -> np.ndarray:
    """Starting values: exact weighted least squares, or for ``power`` a log-log regression
    refined by a profile search."""
    n, y, w = per_n.n, per_n.mean, 1.0 / per_n.sigma**2
    if law != "power":
        design = _design(law, n) * np.sqrt(w)[:, None]
        coef, *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
        return coef
    slope, _ = np.polyfit(np.log(n), np.log(y), 1)
    b, a = _profile_power(
        np.log(n),
        y[None, :],
        w[None, :],
        np.array([slope - POWER_BRACKET]),
        np.array([slope + POWER_BRACKET]),
    )
    return np.array([a[0], b[0]])


def _fit_one(law: str, per_n: PerN) -> LawFit:
    """Fit one law by ``curve_fit``; AICc, χ²/dof and R² as in the module docstring."""
    # Imported here, not at the top: every orgscale command imports this module (for the
    # fit command's defaults) and scipy.optimize adds 0.07 s to their start-up.
    from scipy.optimize import OptimizeWarning, curve_fit

    names = PARAM_NAMES[law]
    n, y, sigma = per_n.n, per_n.mean, per_n.sigma
    weighted = per_n.weighting == "sem"
    k_curve = len(names)
    k = k_curve if weighted else k_curve + 1
    n_points = int(n.size)
    model = _model(law)
    nan_fit = LawFit(
        law=law,
        formula=FORMULAS[law],
        names=names,
        estimates=(math.nan,) * k_curve,
        stderrs=(math.nan,) * k_curve,
        aicc=math.inf,
        delta_aicc=math.inf,
        weight=0.0,
        chi2=math.nan,
        chi2_dof=math.nan,
        r2=math.nan,
        n_points=n_points,
        n_params=k,
    )
    try:
        p0 = _start(law, per_n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(
                model,
                n,
                y,
                p0=p0,
                sigma=sigma,
                absolute_sigma=weighted,
                maxfev=20000,
            )
    except (RuntimeError, ValueError, np.linalg.LinAlgError) as err:
        return replace(nan_fit, note=f"fit failed: {err}")
    resid = y - model(n, *popt)
    if not np.all(np.isfinite(resid)):
        return replace(nan_fit, note="fit failed: non-finite prediction")
    w = 1.0 / sigma**2
    chi2 = float(np.sum(w * resid**2))
    log_det = float(np.sum(np.log(sigma**2)))
    if weighted:
        minus_2_log_l = chi2 + n_points * math.log(2 * math.pi) + log_det
    else:  # σᵢ = s·sigmaᵢ with s² = χ²/n at the maximum (floored: an exact fit is not -inf)
        s2 = max(chi2 / n_points, 1e-24)
        minus_2_log_l = n_points * (math.log(2 * math.pi * s2) + 1) + log_det
    note = ""
    if n_points - k - 1 > 0:
        aicc = minus_2_log_l + 2 * k + 2 * k * (k + 1) / (n_points - k - 1)
    else:
        aicc = math.inf
        note = f"AICc undefined with {n_points} distinct N for {k} parameters (weight 0)"
    y_bar = float(np.sum(w * y) / np.sum(w))
    ss_tot = float(np.sum(w * (y - y_bar) ** 2))
    r2 = 1.0 - chi2 / ss_tot if ss_tot > 0 else math.nan
    dof = n_points - k_curve
    chi2_dof = chi2 / dof if weighted and dof > 0 else math.nan
    perr = np.sqrt(np.diag(pcov)) if np.all(np.isfinite(pcov)) else np.full(k_curve, np.nan)
    return LawFit(
        law=law,
        formula=FORMULAS[law],
        names=names,
        estimates=tuple(float(v) for v in popt),
        stderrs=tuple(float(v) for v in perr),
        aicc=float(aicc),
        delta_aicc=math.nan,
        weight=math.nan,
        chi2=chi2,
        chi2_dof=float(chi2_dof),
        r2=float(r2),
        n_points=n_points,
        n_params=k,
        note=note,
    )


PARSIMONY_DELTA = 2.0


def akaike_weights(aicc: Sequence[float]) -> np.ndarray:
    """Akaike weights exp(−Δᵢ/2)/Σexp(−Δⱼ/2) from AICc values; +inf gets weight 0.

    Parameters
    ----------
    aicc
        AICc of each candidate.

    Returns
    -------
    numpy.ndarray
        Weights summing to 1 (all NaN if no AICc is finite).
    """
    values = np.asarray(aicc, dtype=float)
    finite = np.isfinite(values)
    if not finite.any():
        return np.full(values.shape, np.nan)
    delta = np.where(finite, values - values[finite].min(), np.inf)
    raw = np.exp(-delta / 2)
    return raw / raw.sum()


def _compare(per_n: PerN, laws: Sequence[str], group: str) -> LawComparison:
    unknown = [law for law in laws if law not in LAWS]
    if unknown:
        raise ValueError(f"unknown law(s) {unknown}; valid laws: {', '.join(LAWS)}")
    if LOG_LAWS.intersection(laws):
        _require_positive(per_n, group, "the power law")
    fits = [_fit_one(law, per_n) for law in laws]
    weights = akaike_weights([f.aicc for f in fits])
    finite = [f.aicc for f in fits if math.isfinite(f.aicc)]
    best_aicc = min(finite) if finite else math.nan
    fits = [
        replace(f, weight=float(wt), delta_aicc=f.aicc - best_aicc if finite else math.nan)
        for f, wt in zip(fits, weights, strict=True)
    ]
    if not finite:
        raise ValueError(f"group {group}: no law could be fitted ({fits[0].note})")
    # parsimony: among laws within PARSIMONY_DELTA of the minimum AICc, which the data cannot
    # tell apart, take the one with the fewest parameters (then the lowest AICc)
    contenders = [f for f in fits if math.isfinite(f.aicc) and f.delta_aicc <= PARSIMONY_DELTA]
    best = min(contenders, key=lambda f: (f.n_params, f.aicc))
    return LawComparison(
        fits=tuple(fits), best=best.law, best_weight=best.weight, weighting=per_n.weighting
    )


def fit_laws(n: Any, y: Any, *, laws: Sequence[str] = LAWS, group: str = "data") -> LawComparison:
    """Fit each candidate law to the per-N means and rank them by AICc.

    Parameters
    ----------
    n, y
        Team count and metric of each observation (replicates share an N).
    laws
        Laws to compare (default: all of :data:`LAWS`).
    group
        Name used in error messages.

    Returns
    -------
    LawComparison

    Raises
    ------
    ValueError
        On bad input (see the module docstring), or if ``power`` is among ``laws`` and a
        per-N mean is not positive.
    """
    return _compare(summarise(n, y, group=group), laws, group)


# ----------------------------------------------------------------------------- exponent


def _exponent(
    per_n: PerN,
    power: LawFit,
    boot: tuple[np.ndarray, np.ndarray] | None,
    level: float,
) -> ExponentFit:
    b_hat = power.param("b")
    if boot is None or per_n.count.max() < 2 or not math.isfinite(b_hat):
        n_boot = 0 if boot is None else boot[0].shape[0]
        return ExponentFit(b_hat, power.stderr("b"), math.nan, math.nan, level, n_boot, 0)
    means, sigmas = boot
    rows = means.shape[0]
    lo = np.full(rows, b_hat - POWER_BRACKET)
    hi = np.full(rows, b_hat + POWER_BRACKET)
    b, _ = _profile_power(np.log(per_n.n), means, 1.0 / sigmas**2, lo, hi)
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


def _check_boot(n_boot: int, level: float) -> None:
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 0:
        raise ValueError(f"n_boot={n_boot!r} is invalid: must be an integer >= 0")
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} is invalid: must be between 0 and 1, e.g. 0.95")


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
    """
    _check_boot(n_boot, level)
    per_n = summarise(n, y, group=group)
    power = _compare(per_n, ("power",), group)["power"]
    boot = _resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return _exponent(per_n, power, boot, level)


# ----------------------------------------------------------------------------- local slopes


def _slopes(per_n: PerN, boot: tuple[np.ndarray, np.ndarray] | None, level: float) -> LocalSlopes:
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
    """
    _check_boot(n_boot, level)
    per_n = summarise(n, y, group=group)
    _require_positive(per_n, group, "the local log-log slope")
    boot = _resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return _slopes(per_n, boot, level)


# ----------------------------------------------------------------------------- one group


def fit_scaling(
    n: Any,
    y: Any,
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    laws: Sequence[str] = LAWS,
    group: str = "data",
) -> ScalingFit:
    """Fit one group: compare the laws, estimate the exponent and the local slopes.

    The exponent CI and the local-slope CIs come from the same bootstrap resamples.

    Parameters
    ----------
    n, y
        Team count and metric of each observation.
    rng
        Generator (or seed) for the bootstrap.
    n_boot, level
        Bootstrap resamples (0: no CIs) and confidence level.
    laws
        Laws to compare; ``power`` is always fitted for the exponent.
    group
        Name used in error messages.

    Returns
    -------
    ScalingFit

    Raises
    ------
    ValueError
        On bad input, or a per-N mean <= 0 (the exponent is a log law).
    """
    _check_boot(n_boot, level)
    per_n = summarise(n, y, group=group)
    comparison = _compare(per_n, laws, group)
    power = comparison["power"] if "power" in laws else _compare(per_n, ("power",), group).fits[0]
    boot = _resample(per_n, np.random.default_rng(rng), n_boot) if n_boot else None
    return ScalingFit(
        group=group,
        per_n=per_n,
        laws=comparison,
        exponent=_exponent(per_n, power, boot, level),
        slopes=_slopes(per_n, boot, level),
    )


# ----------------------------------------------------------------------------- crossover


def _first_crossing(d: np.ndarray, logn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First strict sign change of each row of ``d`` (ties skipped), interpolated in ln N.

    Returns ln N* (NaN where none), the index of the last nonzero point before it, and the
    number of sign changes per row.
    """
    rows, k = d.shape
    nonzero = (d != 0) & np.isfinite(d)
    index = np.where(nonzero, np.arange(k)[None, :], -1)
    last = np.maximum.accumulate(index, axis=1)
    prev = np.concatenate([np.full((rows, 1), -1), last[:, :-1]], axis=1)
    sign = np.sign(np.where(np.isfinite(d), d, 0))
    prev_sign = np.take_along_axis(sign, np.clip(prev, 0, None), axis=1)
    event = nonzero & (prev >= 0) & (sign != prev_sign)
    has = event.any(axis=1)
    j = np.argmax(event, axis=1)
    i = np.take_along_axis(prev, j[:, None], axis=1)[:, 0]
    i = np.where(has, i, 0)
    d_i = np.take_along_axis(d, i[:, None], axis=1)[:, 0]
    d_j = np.take_along_axis(d, j[:, None], axis=1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = d_i / (d_i - d_j)
        log_nstar = np.where(has, logn[i] + (logn[j] - logn[i]) * frac, np.nan)
    return log_nstar, i, event.sum(axis=1)


def find_crossover(
    n_a: Any,
    y_a: Any,
    n_b: Any,
    y_b: Any,
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
    labels: tuple[str, str] = ("a", "b"),
) -> Crossover:
    """Crossover N* where the mean curves of groups A and B cross, with a bootstrap CI.

    Parameters
    ----------
    n_a, y_a, n_b, y_b
        Team count and metric of each observation of group A and of group B.
    rng, n_boot, level
        Bootstrap (replicates resampled within each N in both groups; ``n_boot=0``: no CI).
    labels
        Names of the two groups, used in messages and in :attr:`Crossover.below`.

    Returns
    -------
    Crossover
        ``nstar=None`` with a ``reason`` when the curves do not cross within the N range
        the two groups share.
    """
    _check_boot(n_boot, level)
    per_a = summarise(n_a, y_a, group=labels[0])
    per_b = summarise(n_b, y_b, group=labels[1])
    common = np.intersect1d(per_a.n, per_b.n)
    if common.size < 2:
        raise ValueError(
            f"groups {labels[0]} and {labels[1]} share {common.size} N value(s); "
            "need at least 2 to look for a crossover"
        )
    in_a = np.isin(per_a.n, common)
    in_b = np.isin(per_b.n, common)
    logn = np.log(common)
    use_log = bool((per_a.mean[in_a] > 0).all() and (per_b.mean[in_b] > 0).all())

    def difference(mean_a: np.ndarray, mean_b: np.ndarray) -> np.ndarray:
        if not use_log:
            return mean_a - mean_b
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = (mean_a > 0) & (mean_b > 0)
            safe_a = np.where(ok, mean_a, 1.0)
            safe_b = np.where(ok, mean_b, 1.0)
            return np.where(ok, np.log(safe_a) - np.log(safe_b), np.nan)

    d = difference(per_a.mean[in_a], per_b.mean[in_b])[None, :]
    log_nstar, i, crossings = _first_crossing(d, logn)
    span = f"N = {_fmt(common[0])}..{_fmt(common[-1])}"

    boot_fraction = math.nan
    boot_log = None
    if n_boot:
        generator = np.random.default_rng(rng)
        means_a, _ = _resample(per_a, generator, n_boot)
        means_b, _ = _resample(per_b, generator, n_boot)
        d_boot = difference(means_a[:, in_a], means_b[:, in_b])
        boot_log, _, _ = _first_crossing(d_boot, logn)
        boot_fraction = float(np.isfinite(boot_log).mean())

    if not np.isfinite(log_nstar[0]):
        nonzero = d[0][d[0] != 0]
        if nonzero.size == 0:
            reason = f"no crossover in range {span}: {labels[0]} and {labels[1]} are equal"
        else:
            above = labels[0] if nonzero[0] > 0 else labels[1]
            other = labels[1] if above == labels[0] else labels[0]
            reason = f"no crossover in range {span}: {above} is above {other} at every N"
        return Crossover(None, None, None, level, None, 0, boot_fraction, reason)

    d_before = d[0, i[0]]
    below = labels[0] if d_before < 0 else labels[1]
    ci_low: float | None = None
    ci_high: float | None = None
    if boot_log is not None:
        # A resample without a crossing has N* beyond the range: below it if it already has
        # the ordering found above N*, above it if it keeps the ordering found below N*.
        sign_before = np.sign(d_before)
        first = np.sign(np.nan_to_num(d_boot, nan=0.0))
        lead = np.take_along_axis(first, np.argmax(first != 0, axis=1)[:, None], axis=1)[:, 0]
        beyond = np.where(lead == sign_before, np.inf, -np.inf)
        defined = np.isfinite(d_boot).all(axis=1)
        filled = np.where(np.isfinite(boot_log), boot_log, beyond)[defined]
        if filled.size:
            # Order statistics (no interpolation: some values may be infinite).
            tail = (1 - level) / 2
            lo = np.quantile(filled, tail, method="lower")
            hi = np.quantile(filled, 1 - tail, method="higher")
            ci_low = float(np.exp(lo)) if np.isfinite(lo) else None
            ci_high = float(np.exp(hi)) if np.isfinite(hi) else None
    return Crossover(
        nstar=float(np.exp(log_nstar[0])),
        ci_low=ci_low,
        ci_high=ci_high,
        level=level,
        below=below,
        n_crossings=int(crossings[0]),
        boot_fraction=boot_fraction,
    )


# ----------------------------------------------------------------------------- tables


def _label(by: Sequence[str], key: tuple[Any, ...]) -> str:
    if not by:
        return "all rows"
    return ", ".join(f"{col}={val}" for col, val in zip(by, key, strict=True))


def fit_groups(
    df: pd.DataFrame,
    metric: str,
    by: Sequence[str],
    n_col: str = "n_teams",
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
) -> TableFit:
    """Fit ``metric`` against ``n_col`` in every group of a results table.

    Rows whose ``status`` column (if present) is not ``"ok"`` are excluded and counted.
    Groups are fitted in sorted order, each with its own generator spawned from ``rng``
    (``Generator.spawn``), so results are reproducible for a given seed and table.

    Parameters
    ----------
    df
        Results, one row per run.
    metric
        Column to fit.
    by
        Columns whose combinations define the groups (empty: one group of all rows).
    n_col
        Column holding N.
    rng, n_boot, level
        Bootstrap generator (or seed), resamples and confidence level.

    Returns
    -------
    TableFit

    Raises
    ------
    ValueError
        Unknown columns, or a group with bad data (message names the group).
    """
    by = list(by)
    missing = [c for c in [metric, n_col, *by] if c not in df.columns]
    if missing:
        raise ValueError(
            f"unknown column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns are: {', '.join(map(str, df.columns))}"
        )
    if len(set(by)) != len(by) or metric in by or n_col in by or metric == n_col:
        raise ValueError(
            f"metric {metric!r}, N column {n_col!r} and group columns {by} must all differ"
        )
    for col in (metric, n_col):
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise ValueError(
                f"column {col!r} is not numeric (dtype {df[col].dtype}); "
                "the metric and N must be numbers"
            )
    _check_boot(n_boot, level)
    if "status" in df.columns:
        ok = (df["status"] == "ok").to_numpy()
    else:
        ok = np.ones(len(df), dtype=bool)
    if by:
        grouped = [
            (key if isinstance(key, tuple) else (key,), idx)
            for key, idx in df.groupby(by, dropna=False, sort=True).indices.items()
        ]
    else:
        grouped = [((), np.arange(len(df)))]
    if not grouped:
        raise ValueError("the results table has no rows")
    generators = np.random.default_rng(rng).spawn(len(grouped))
    groups = []
    for (key, idx), generator in zip(grouped, generators, strict=True):
        key = tuple(v.item() if isinstance(v, np.generic) else v for v in key)
        label = _label(by, key)
        used = idx[ok[idx]]
        excluded = int(idx.size - used.size)
        sub = df.iloc[used]
        try:
            fit = fit_scaling(
                sub[n_col].to_numpy(dtype=float, na_value=np.nan),
                sub[metric].to_numpy(dtype=float, na_value=np.nan),
                rng=generator,
                n_boot=n_boot,
                level=level,
                group=label,
            )
        except ValueError as err:
            note = f" ({excluded} failed runs excluded)" if excluded else ""
            raise ValueError(f"{err}{note}") from err
        groups.append(GroupFit(key, label, int(used.size), excluded, fit))
    return TableFit(
        metric=metric,
        n_col=n_col,
        by=tuple(by),
        level=level,
        n_boot=int(n_boot),
        groups=tuple(groups),
    )


def fits_frame(table: TableFit) -> pd.DataFrame:
    """One row per (group, law): the ``fits.csv`` table.

    Columns: the group columns, ``law``, ``formula``, ``a``, ``a_se``, ``b``, ``b_se`` (NaN
    for one-parameter laws), ``aicc``, ``delta_aicc``, ``weight``, ``chi2_dof``, ``r2``,
    ``best``, ``exponent``, ``exponent_ci_low``, ``exponent_ci_high`` (on ``power`` rows
    only), ``n_points``, ``n_runs``, ``n_excluded_failed``, ``metric``, ``note``.
    """
    rows = []
    for g in table.groups:
        for law in g.fit.laws.fits:
            row: dict[str, Any] = dict(zip(table.by, g.key, strict=True))
            row["law"] = law.law
            row["formula"] = law.formula
            for name in ("a", "b"):
                has = name in law.names
                row[name] = law.param(name) if has else math.nan
                row[f"{name}_se"] = law.stderr(name) if has else math.nan
            is_power = law.law == "power"
            exp = g.fit.exponent
            row.update(
                aicc=law.aicc,
                delta_aicc=law.delta_aicc,
                weight=law.weight,
                chi2_dof=law.chi2_dof,
                r2=law.r2,
                best=law.law == g.fit.laws.best,
                exponent=exp.estimate if is_power else math.nan,
                exponent_ci_low=exp.ci_low if is_power else math.nan,
                exponent_ci_high=exp.ci_high if is_power else math.nan,
                n_points=law.n_points,
                n_runs=g.n_runs,
                n_excluded_failed=g.n_excluded_failed,
                metric=table.metric,
                note=law.note,
            )
            rows.append(row)
    return pd.DataFrame(rows)


def fit_table(
    df: pd.DataFrame,
    metric: str,
    by: Sequence[str],
    n_col: str = "n_teams",
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
) -> pd.DataFrame:
    """Fit ``metric`` in every group of ``df`` and return one row per (group, law).

    Shorthand for ``fits_frame(fit_groups(df, metric, by, n_col, rng=rng, n_boot=n_boot))``;
    see those for the columns and the errors.
    """
    return fits_frame(fit_groups(df, metric, by, n_col, rng=rng, n_boot=n_boot))


def _num(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def fits_json(table: TableFit) -> dict[str, Any]:
    """JSON-serialisable summary of a :class:`TableFit` (schema in the module docstring)."""
    groups = []
    for g in table.groups:
        fit = g.fit
        laws = {}
        for law in fit.laws.fits:
            laws[law.law] = {
                "params": {k: _num(v) for k, v in zip(law.names, law.estimates, strict=True)},
                "stderr": {k: _num(v) for k, v in zip(law.names, law.stderrs, strict=True)},
                "aicc": _num(law.aicc),
                "delta_aicc": _num(law.delta_aicc),
                "weight": _num(law.weight),
                "chi2_dof": _num(law.chi2_dof),
                "r2": _num(law.r2),
                "best": law.law == fit.laws.best,
                "note": law.note,
            }
        exp = fit.exponent
        slopes = fit.slopes
        groups.append(
            {
                "key": {col: _plain(v) for col, v in zip(table.by, g.key, strict=True)},
                "label": g.label,
                "n_runs": g.n_runs,
                "n_excluded_failed": g.n_excluded_failed,
                "weighting": fit.per_n.weighting,
                "n": [_num(v) for v in fit.per_n.n],
                "mean": [_num(v) for v in fit.per_n.mean],
                "sem": [_num(v) for v in fit.per_n.sem],
                "n_replicates": [int(v) for v in fit.per_n.count],
                "laws": laws,
                "best_law": fit.laws.best,
                "best_weight": _num(fit.laws.best_weight),
                "exponent": {
                    "estimate": _num(exp.estimate),
                    "stderr": _num(exp.stderr),
                    "ci_low": _num(exp.ci_low),
                    "ci_high": _num(exp.ci_high),
                    "level": exp.level,
                    "n_boot": exp.n_boot,
                    "n_boot_failed": exp.n_boot_failed,
                },
                "local_slopes": [
                    {"n": _num(n), "slope": _num(s), "ci_low": _num(lo), "ci_high": _num(hi)}
                    for n, s, lo, hi in zip(
                        slopes.n, slopes.slope, slopes.ci_low, slopes.ci_high, strict=True
                    )
                ],
            }
        )
    return {
        "schema_version": 1,
        "metric": table.metric,
        "n_col": table.n_col,
        "by": list(table.by),
        "level": table.level,
        "n_bootstrap": table.n_boot,
        "n_excluded_failed": table.n_excluded_failed,
        "groups": groups,
    }
