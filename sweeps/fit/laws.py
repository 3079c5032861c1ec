"""The candidate laws y(N), each fitted to the per-N means, and their comparison by AICc.

=========  ===================  ==================================================
law        y(N)                 stands for
=========  ===================  ==================================================
constant   a                    no growth with N
affine     a + b·N              a fixed part plus Θ(N)
linear     a·N                  local, hierarchical links: Θ(N)
nlogn      a·N·ln N             tree-like integration with depth ~ log N
quadratic  a·N(N−1)/2 + b·N     all-to-all links, N(N−1)/2 contracts
power      a·N^b                free exponent b (the "scaling exponent")
usl        g·N/(1 + α(N−1)      Gunther's Universal Scalability Law for a throughput:
           + β·N(N−1))          contention α and coherency β ≥ 0; peak at √((1−α)/β)
=========  ===================  ==================================================

The USL cannot grow faster than linearly, so it is a candidate for throughputs (changes
landed per day), not for costs; ask for it with ``laws=`` where it belongs
(:data:`COST_LAWS` and :data:`THROUGHPUT_LAWS` are the two usual sets).

A law "fits" when its χ² is consistent with the replicate noise: the p-value of χ² on
n − k degrees of freedom is at least :data:`FIT_P_MIN` (:attr:`LawFit.fits`). When the
chosen law does not fit, the comparison still names the least bad law, and
:attr:`LawComparison.any_fits` says so.

Weights, likelihood, AICc and the rule that chooses the law: step 3 of ``docs/fits.md``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sweeps.fit.summary import PerN, require_positive, summarise

LAWS = ("constant", "affine", "linear", "nlogn", "quadratic", "power", "usl")
"""Names of the candidate laws, in the order they are reported."""
COST_LAWS = ("constant", "affine", "linear", "nlogn", "quadratic", "power")
"""The candidates for a cost (every law that can grow with N)."""
THROUGHPUT_LAWS = ("constant", "affine", "linear", "power", "usl")
"""The candidates for a throughput (the USL and the laws it nests or competes with)."""
FIT_P_MIN = 0.01
"""A law whose χ² p-value is below this does not fit the data (replicate noise cannot
explain its residuals)."""

LOG_LAWS = frozenset({"power"})
"""Laws that need a positive metric (they are fitted or started on a log scale)."""

FORMULAS = {
    "constant": "a",
    "affine": "a + b*N",
    "linear": "a*N",
    "nlogn": "a*N*ln(N)",
    "quadratic": "a*N*(N-1)/2 + b*N",
    "power": "a*N^b",
    "usl": "g*N/(1 + alpha*(N-1) + beta*N*(N-1))",
}
PARAM_NAMES = {
    "constant": ("a",),
    "affine": ("a", "b"),
    "linear": ("a",),
    "nlogn": ("a",),
    "quadratic": ("a", "b"),
    "power": ("a", "b"),
    "usl": ("g", "alpha", "beta"),
}
POWER_BRACKET = 4.0
"""The power-law exponent b is searched within its starting estimate ± this."""
PARSIMONY_DELTA = 2.0
"""AICc units within which laws are taken as indistinguishable (the simplest is chosen)."""


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
    p_value
        Probability of a χ² at least this large on n − k degrees of freedom if the law were
        true and the per-N errors were the replicate SEMs (NaN when χ²/dof is NaN).
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
    p_value: float = math.nan

    @property
    def fits(self) -> bool:
        """Whether the law fits: its χ² p-value is at least :data:`FIT_P_MIN`.

        False when the p-value is NaN (the fit failed or the scale was fitted)."""
        return bool(self.p_value >= FIT_P_MIN)

    def param(self, name: str) -> float:
        """Return the estimate of parameter ``name`` (``"a"`` or ``"b"``)."""
        return self.estimates[self.names.index(name)]

    def stderr(self, name: str) -> float:
        """Return the standard error of parameter ``name``."""
        return self.stderrs[self.names.index(name)]


@dataclass(frozen=True)
class LawComparison:
    """Every candidate law fitted to one group, compared by AICc.

    Attributes
    ----------
    fits
        One :class:`LawFit` per law, in the order asked for.
    best
        The chosen law: among the laws with a finite AICc within :data:`PARSIMONY_DELTA`
        (2) of the smallest, the one with the fewest parameters (``n_params``), ties broken
        by the smaller AICc. It is not always the law with the smallest AICc: a law nesting
        a simpler one (power with b ≈ 1, quadratic with a ≈ 0 for linear data) can edge
        ahead by less than the data can tell apart.
    best_weight
        The Akaike weight of ``best`` (not always the largest weight, for the same reason).
    weighting
        ``"sem"`` or ``"relative"`` (see :class:`~sweeps.fit.summary.PerN`).
    """

    fits: tuple[LawFit, ...]
    best: str
    best_weight: float
    weighting: str

    @property
    def chosen(self) -> LawFit:
        """The :class:`LawFit` of :attr:`best`."""
        return self[self.best]

    @property
    def any_fits(self) -> bool:
        """Whether at least one candidate fits (:attr:`LawFit.fits`): if not, no law here
        describes the data within its noise, whatever AICc prefers."""
        return any(f.fits for f in self.fits)

    def __getitem__(self, law: str) -> LawFit:
        for fit in self.fits:
            if fit.law == law:
                return fit
        raise KeyError(f"law {law!r} was not fitted; fitted laws: {[f.law for f in self.fits]}")


# ----------------------------------------------------------------------------- laws


def _model(law: str) -> Callable[..., np.ndarray]:
    """y(N, *params) of a law, as ``curve_fit`` takes it."""
    if law == "constant":
        return lambda n, a: a * np.ones_like(n)
    if law == "affine":
        return lambda n, a, b: a + b * n
    if law == "usl":
        return lambda n, g, alpha, beta: g * n / (1 + alpha * (n - 1) + beta * n * (n - 1))
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
        "affine": [np.ones_like(n), n],
        "linear": [n],
        "nlogn": [n * np.log(n)],
        "quadratic": [n * (n - 1) / 2, n],
    }[law]
    return np.column_stack(columns)


def profile_power(
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
    if law == "usl":
        return _usl_start(n, y, w)
    if law != "power":
        design = _design(law, n) * np.sqrt(w)[:, None]
        coef, *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
        return coef
    slope, _ = np.polyfit(np.log(n), np.log(y), 1)
    b, a = profile_power(
        np.log(n),
        y[None, :],
        w[None, :],
        np.array([slope - POWER_BRACKET]),
        np.array([slope + POWER_BRACKET]),
    )
    return np.array([a[0], b[0]])


def _usl_start(n: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """USL starting values: g from the smallest N, then N/y·g − 1 = α(N−1) + βN(N−1) by
    non-negative least squares (the linearisation of Gunther's method)."""
    from scipy.optimize import nnls

    i0 = int(np.argmin(n))
    g = float(y[i0] / n[i0]) if y[i0] > 0 else float(np.max(np.abs(y)) / np.max(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(y > 0, n * g / y - 1.0, np.nan)
    ok = np.isfinite(z) & (n > 1)
    if ok.sum() >= 2 and g > 0:
        design = np.column_stack([n[ok] - 1, n[ok] * (n[ok] - 1)])
        (alpha, beta), _ = nnls(design, z[ok])
    else:
        alpha, beta = 0.0, 0.0
    return np.array([g, alpha, beta])


def _fit_one(law: str, per_n: PerN) -> LawFit:
    """Fit one law by ``curve_fit``; AICc, χ²/dof and R² as in ``docs/fits.md`` (step 3)."""
    # Imported here, not at the top: every orgscale command imports this package (for the
    # fit command's defaults) and scipy.optimize adds 0.07 s to their start-up.
    from scipy.optimize import OptimizeWarning, curve_fit
    from scipy.stats import chi2 as chi2_dist

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
        # the USL's α and β are shares of work lost to contention and coherency: ≥ 0
        bounds = ([-np.inf, 0.0, 0.0], [np.inf, np.inf, np.inf]) if law == "usl" else None
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
                **({"bounds": bounds} if bounds else {}),
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
    p_value = float(chi2_dist.sf(chi2, dof)) if math.isfinite(chi2_dof) else math.nan
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
        p_value=p_value,
    )


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


def compare_laws(per_n: PerN, laws: Sequence[str], group: str) -> LawComparison:
    """Fit ``laws`` to a per-N summary, weight them and choose one (:class:`LawComparison`).

    Raises
    ------
    ValueError
        An unknown law, a per-N mean <= 0 when a log law is asked for, or no law fitted.
    """
    unknown = [law for law in laws if law not in LAWS]
    if unknown:
        raise ValueError(f"unknown law(s) {unknown}; valid laws: {', '.join(LAWS)}")
    if LOG_LAWS.intersection(laws):
        require_positive(per_n, group, "the power law")
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
    """Fit each candidate law to the per-N means, compare them by AICc and choose one.

    The rule that chooses is stated under :attr:`LawComparison.best`.

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
        On bad input (see ``docs/fits.md``), or if ``power`` is among ``laws`` and a
        per-N mean is not positive.
    """
    return compare_laws(summarise(n, y, group=group), laws, group)
