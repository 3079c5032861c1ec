"""Crossover N*: where the mean curves of two groups cross, with a bootstrap CI
(step 6 of ``docs/fits.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sweeps.fit.summary import (
    DEFAULT_LEVEL,
    DEFAULT_N_BOOT,
    check_bootstrap,
    format_value,
    resample,
    summarise,
)


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
    check_bootstrap(n_boot, level)
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
    span = f"N = {format_value(common[0])}..{format_value(common[-1])}"

    boot_fraction = math.nan
    boot_log = None
    if n_boot:
        generator = np.random.default_rng(rng)
        means_a, _ = resample(per_a, generator, n_boot)
        means_b, _ = resample(per_b, generator, n_boot)
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
