"""The hypothesis tests of the paper: science only, no rendering, no file I/O.

Each hypothesis H1–H7 of ``shared/SCIENCE.md`` has one stated test with an effect size, a
threshold the effect must pass, and a noise floor (a bootstrap CI on the effect and, where
the effect counts events, a minimum number of events). A verdict is one of three words:

* ``supported``: the whole CI lies on the claimed side of the threshold (so it also
  excludes the null, which lies beyond the threshold) and there were enough events;
* ``not supported``: the whole CI lies on the other side of the threshold: the effect the
  claim needs is credibly absent (an effect smaller than the threshold counts as absent,
  even when its CI excludes the null);
* ``inconclusive``: anything else: the CI straddles the threshold, too few events, or no
  runs to test on. Noise alone gives this.

A claim of the form "y ∝ m^½" is an equivalence test: supported when the CI lies inside
target ± margin, not supported when it lies wholly outside, else inconclusive.

Every number here is an :class:`Estimate` (value, CI) computed once from replicates by a
bootstrap (:func:`ratio_estimate`, :func:`mean_estimate`); the paper quotes those same
estimates wherever they appear. :data:`TESTS` states each test and its threshold in words
that the paper prints.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
STATUSES = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE)

LEVEL = 0.95
"""Confidence level of every CI in the paper."""
N_BOOT = 2000
"""Bootstrap resamples of every estimate."""

#: Thresholds: the effect each claim needs before it counts as supported.
THRESHOLDS: dict[str, float] = {
    # H1: the single core's median lead time at the largest N at least this many times that
    # at the smallest N (a hockey stick), or the single core saturated at some N
    "h1_lead_ratio": 2.0,
    # H2: the all-to-all split's landings per day at the largest N over one core's (same
    # people, same demand): below this, the split gains nothing
    "h2_gain": 1.0,
    # H3: the hierarchy's integration cost grows with an exponent below this (near-linear)
    "h3_exponent": 1.25,
    # H4: CI automation cuts late conflicts to at most this share ...
    "h4_late": 0.5,
    # ... and total integration cost per landed change to at most this share
    "h4_total": 0.9,
    # minimum number of late conflicts (summed over replicates, automation off) to judge H4
    "h4_min_conflicts": 20,
    # H5: the worst 10% of links carry at least this many times an even share of link pain ...
    "h5_tail": 2.0,
    # ... and fixing the worst 20% of links cuts integration cost per landed change to at
    # most this share
    "h5_fix": 0.9,
    # H6: splitting leaves total busy effort per landed change at least this share of the
    # single core's (cost moved, not removed)
    "h6_moved": 0.9,
    # H7: the exponent of area output in team size within this margin of ½
    "h7_margin": 0.1,
}

TESTS: dict[str, str] = {
    "H1": (
        "one core team's median lead time (Kaplan–Meier) at the largest N, divided by that at "
        f"the smallest N: supported if its CI lies above ×{THRESHOLDS['h1_lead_ratio']:g} or "
        "the core saturates (most replicates flagged) at some N; not supported if the CI lies "
        "below "
        f"×{THRESHOLDS['h1_lead_ratio']:g} and no N saturates"
    ),
    "H2": (
        "the all-to-all split's contributions landed per day at the largest N over one core's "
        f"with the same people and demand: supported if the CI lies below "
        f"{THRESHOLDS['h2_gain']:g} (it lands less), not supported if above (it gains)"
    ),
    "H3": (
        "the exponent b of the hierarchy's integration cost (power law over the unsaturated N): "
        f"supported if its CI lies below {THRESHOLDS['h3_exponent']:g}, not supported if above "
        "or if the hierarchy saturates at an N where one core with the same people does not"
    ),
    "H4": (
        "with CI automation on vs off, at the largest N where both are unsaturated: late "
        f"conflicts on/off with CI below {THRESHOLDS['h4_late']:g} (and at least "
        f"{THRESHOLDS['h4_min_conflicts']:g} late conflicts without automation) and total "
        f"integration cost per landed change on/off with CI below {THRESHOLDS['h4_total']:g}; "
        "supported only if both hold, not supported if either CI lies above its threshold"
    ),
    "H5": (
        "the worst 10% of links' share of link pain over an even 10%: CI above "
        f"×{THRESHOLDS['h5_tail']:g}; and integration cost per landed change with the worst "
        f"20% of links fixed over unfixed: CI below {THRESHOLDS['h5_fix']:g}; both must hold"
    ),
    "H6": (
        "the split's total busy person-days per landed change (review + integration) over the "
        "single core's, at the largest N where both are unsaturated: supported if its CI lies "
        f"above {THRESHOLDS['h6_moved']:g} (the work is moved, not removed), not supported if "
        "below"
    ),
    "H7": (
        "the exponent of one area's landed changes per day in its m reviewers (power law): "
        f"supported if its CI lies within ½ ± {THRESHOLDS['h7_margin']:g}, not supported if it "
        "lies wholly outside"
    ),
}


@dataclass(frozen=True)
class Estimate:
    """One number of the paper with its bootstrap CI.

    Attributes
    ----------
    value
        Point estimate (from the full data).
    low, high
        Percentile bootstrap CI at :attr:`level` (NaN if it could not be computed).
    level
        Confidence level.
    n
        Observations behind it (replicates, or sample points).
    """

    value: float
    low: float
    high: float
    level: float = LEVEL
    n: int = 0

    @property
    def defined(self) -> bool:
        """Whether the value and both CI bounds are finite."""
        return all(math.isfinite(v) for v in (self.value, self.low, self.high))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Estimate:
        return cls(**{k: (math.nan if d[k] is None else d[k]) for k in d})

    @classmethod
    def missing(cls) -> Estimate:
        return cls(math.nan, math.nan, math.nan, LEVEL, 0)


@dataclass(frozen=True)
class Verdict:
    """A hypothesis test's outcome.

    Attributes
    ----------
    status
        One of :data:`STATUSES`.
    reason
        One plain sentence saying why, with the numbers.
    parts
        The sub-tests a combined verdict was made of (empty for a single test).
    """

    status: str
    reason: str
    parts: tuple[Verdict, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}: expected one of {STATUSES}")


# ----------------------------------------------------------------------------- estimates


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    return x[np.isfinite(x)]


def _quantiles(draws: np.ndarray, level: float) -> tuple[float, float]:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2
    return float(np.quantile(draws, tail)), float(np.quantile(draws, 1 - tail))


def mean_estimate(
    values: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator | int | None = 0,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
) -> Estimate:
    """Mean of replicates with a percentile bootstrap CI (NaN values are dropped)."""
    x = _clean(values)
    if x.size == 0:
        return Estimate.missing()
    gen = np.random.default_rng(rng)
    if x.size == 1:
        return Estimate(float(x[0]), math.nan, math.nan, level, 1)
    draws = x[gen.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    low, high = _quantiles(draws, level)
    return Estimate(float(x.mean()), low, high, level, int(x.size))


def ratio_estimate(
    numerator: Sequence[float] | np.ndarray,
    denominator: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator | int | None = 0,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
) -> Estimate:
    """Ratio of two means, mean(numerator) / mean(denominator), with a bootstrap CI.

    The two samples are resampled independently (replicates of two configurations).
    Resamples whose denominator mean is 0 are dropped from the CI.
    """
    a, b = _clean(numerator), _clean(denominator)
    if a.size == 0 or b.size == 0 or b.mean() == 0:
        return Estimate.missing()
    gen = np.random.default_rng(rng)
    value = float(a.mean() / b.mean())
    if a.size < 2 or b.size < 2:
        return Estimate(value, math.nan, math.nan, level, int(min(a.size, b.size)))
    ma = a[gen.integers(0, a.size, size=(n_boot, a.size))].mean(axis=1)
    mb = b[gen.integers(0, b.size, size=(n_boot, b.size))].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = np.where(mb != 0, ma / mb, np.nan)
    low, high = _quantiles(draws, level)
    return Estimate(value, low, high, level, int(min(a.size, b.size)))


# ----------------------------------------------------------------------------- tests


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}"


def _ci(e: Estimate) -> str:
    return f"{_fmt(e.value)} ({round(100 * e.level)}% CI {_fmt(e.low)}–{_fmt(e.high)})"


def directional(
    effect: Estimate,
    *,
    claim: str,
    threshold: float,
    what: str,
    events: float | None = None,
    min_events: float | None = None,
) -> Verdict:
    """Judge a directional claim "effect is above (``claim=">"``) or below (``"<"``) the
    threshold" by where the effect's CI lies.

    Parameters
    ----------
    effect
        The effect with its CI.
    claim
        ``">"`` or ``"<"``: the side of ``threshold`` the claim needs.
    threshold
        The effect size the claim needs (the null lies on the other side of it).
    what
        The effect in words, for the reason.
    events, min_events
        Events behind the effect and the minimum needed (both or neither).

    Returns
    -------
    Verdict
    """
    if claim not in (">", "<"):
        raise ValueError(f"claim {claim!r}: expected '>' or '<'")
    if events is not None and min_events is not None and events < min_events:
        return Verdict(
            INCONCLUSIVE,
            f"{what}: only {_fmt(events)} events, fewer than the {_fmt(min_events)} needed",
        )
    if not effect.defined:
        return Verdict(
            INCONCLUSIVE,
            f"{what}: not estimable from these runs (e.g. a median lead time beyond the "
            "measured window)",
        )
    side = "above" if claim == ">" else "below"
    other = "below" if claim == ">" else "above"
    beyond = effect.low > threshold if claim == ">" else effect.high < threshold
    short = effect.high < threshold if claim == ">" else effect.low > threshold
    if beyond:
        return Verdict(SUPPORTED, f"{what} is {_ci(effect)}, wholly {side} {_fmt(threshold)}")
    if short:
        return Verdict(NOT_SUPPORTED, f"{what} is {_ci(effect)}, wholly {other} {_fmt(threshold)}")
    return Verdict(INCONCLUSIVE, f"{what} is {_ci(effect)}, which straddles {_fmt(threshold)}")


def equivalence(effect: Estimate, *, target: float, margin: float, what: str) -> Verdict:
    """Judge "effect equals target" by an equivalence test: the CI inside target ± margin
    supports it, a CI wholly outside refutes it, anything else is inconclusive."""
    lo, hi = target - margin, target + margin
    band = f"{_fmt(lo)}–{_fmt(hi)}"
    if not effect.defined:
        return Verdict(
            INCONCLUSIVE,
            f"{what}: not estimable from these runs (e.g. a median lead time beyond the "
            "measured window)",
        )
    if lo <= effect.low and effect.high <= hi:
        return Verdict(SUPPORTED, f"{what} is {_ci(effect)}, inside {band}")
    if effect.high < lo or effect.low > hi:
        return Verdict(NOT_SUPPORTED, f"{what} is {_ci(effect)}, wholly outside {band}")
    return Verdict(INCONCLUSIVE, f"{what} is {_ci(effect)}, partly outside {band}")


def all_of(*parts: Verdict) -> Verdict:
    """A claim made of parts that must all hold: supported if every part is, not supported
    if any part is not, else inconclusive."""
    statuses = [p.status for p in parts]
    if statuses and all(s == SUPPORTED for s in statuses):
        status = SUPPORTED
    elif NOT_SUPPORTED in statuses:
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    return Verdict(status, "; ".join(p.reason for p in parts), tuple(parts))


def any_of(*parts: Verdict) -> Verdict:
    """A claim any one of whose parts suffices: supported if some part is, not supported if
    every part is not, else inconclusive."""
    statuses = [p.status for p in parts]
    if SUPPORTED in statuses:
        status = SUPPORTED
    elif statuses and all(s == NOT_SUPPORTED for s in statuses):
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    return Verdict(status, "; ".join(p.reason for p in parts), tuple(parts))


# ----------------------------------------------------------------------------- hypotheses


def saturation_verdict(saturated_share: float, n: int | None, *, what: str) -> Verdict:
    """Saturation as evidence of a limit: supported when most replicates at some N were
    flagged saturated (``saturated_share`` > ½ at ``n``), else not supported (``n`` None:
    no N saturated)."""
    if n is None or not saturated_share > 0.5:
        return Verdict(NOT_SUPPORTED, f"{what} never saturates in the sampled N")
    return Verdict(
        SUPPORTED,
        f"{what} saturates from N = {n:g} ({round(100 * saturated_share)}% of replicates)",
    )


def h1(lead_ratio: Estimate, saturated_share: float, saturated_n: int | None) -> Verdict:
    """H1: one core team has a scaling limit: saturation, or a lead-time hockey stick."""
    return any_of(
        saturation_verdict(saturated_share, saturated_n, what="one core team"),
        directional(
            lead_ratio,
            claim=">",
            threshold=THRESHOLDS["h1_lead_ratio"],
            what="its median lead time at the largest N over the smallest",
        ),
    )


def h2(retrograde: Estimate) -> Verdict:
    """H2: the all-to-all split gains nothing: at the largest N it lands less than one core
    with the same people and demand."""
    return directional(
        retrograde,
        claim="<",
        threshold=THRESHOLDS["h2_gain"],
        what="the all-to-all split's landings per day at the largest N over one core's",
    )


def h3(exponent: Estimate, limit_n: int | None = None) -> Verdict:
    """H3: a hierarchical split scales: integration cost near-linear in N, and no limit of
    its own: ``limit_n`` is the smallest N at which the hierarchy saturates while one core
    with the same people does not (``None``: there is none), which refutes the claim
    whatever the exponent below it."""
    if limit_n is not None:
        below = directional(
            exponent,
            claim="<",
            threshold=THRESHOLDS["h3_exponent"],
            what="its integration-cost exponent below that",
        )
        return Verdict(
            NOT_SUPPORTED,
            f"the hierarchy saturates from N = {limit_n}, where one core with the same people "
            f"does not: a limit of its own ({below.reason})",
        )
    return directional(
        exponent,
        claim="<",
        threshold=THRESHOLDS["h3_exponent"],
        what="the hierarchy's integration-cost exponent",
    )


def h4(late_ratio: Estimate, late_events_off: float, total_ratio: Estimate) -> Verdict:
    """H4: automation makes integration cheap: late conflicts cut AND total cost cut."""
    return all_of(
        directional(
            late_ratio,
            claim="<",
            threshold=THRESHOLDS["h4_late"],
            what="late conflicts with automation over without",
            events=late_events_off,
            min_events=THRESHOLDS["h4_min_conflicts"],
        ),
        directional(
            total_ratio,
            claim="<",
            threshold=THRESHOLDS["h4_total"],
            what="total integration cost per landed change with automation over without",
        ),
    )


def h5(tail_factor: Estimate, fix_ratio: Estimate) -> Verdict:
    """H5: link pain is heavy-tailed AND fixing the worst links cuts cost."""
    return all_of(
        directional(
            tail_factor,
            claim=">",
            threshold=THRESHOLDS["h5_tail"],
            what="the worst 10% of links' share of link pain over an even share",
        ),
        directional(
            fix_ratio,
            claim="<",
            threshold=THRESHOLDS["h5_fix"],
            what="integration cost per landed change with the worst 20% of links fixed over "
            "unfixed",
        ),
    )


def h6(moved_ratio: Estimate) -> Verdict:
    """H6: splitting moves cost rather than removing it."""
    return directional(
        moved_ratio,
        claim=">",
        threshold=THRESHOLDS["h6_moved"],
        what="the split's total busy effort per landed change over the single core's",
    )


def h7(exponent: Estimate) -> Verdict:
    """H7: an area's output grows as m^½ in its m reviewers."""
    return equivalence(
        exponent,
        target=0.5,
        margin=THRESHOLDS["h7_margin"],
        what="the exponent of one area's landings per day in its reviewers",
    )
