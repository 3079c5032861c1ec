"""The hypothesis tests of the paper: science only, no rendering, no file I/O.

Each hypothesis H1–H7 of ``shared/SCIENCE.md`` has one stated test with an effect size, a
threshold the effect must pass, and a noise floor (a bootstrap CI on the effect and, where
the effect counts events, a minimum number of events). A verdict is one of four words:

* ``supported``: the whole CI lies on the claimed side of the threshold (so it also
  excludes the null, which lies beyond the threshold) and there were enough events;
* ``not supported``: the whole CI lies on the other side of the threshold: the effect the
  claim needs is credibly absent (an effect smaller than the threshold counts as absent,
  even when its CI excludes the null);
* ``inconclusive``: anything else: the CI straddles the threshold, too few events, or no
  runs to test on. Noise alone gives this;
* ``by construction``: the effect is what an input or an accounting rule of the model sets
  (the measured value is within noise of what the rule gives), so the runs restate the
  set-up instead of finding something. The verdict names the input or rule
  (:attr:`Verdict.because`) and its reason keeps what the test alone would say. A verdict
  function decides this from its inputs (e.g. H4: the measured early-detection share is
  within its CI of ``ci_detection_prob``), never from a fixed label.

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
BY_CONSTRUCTION = "by construction"
STATUSES = (SUPPORTED, NOT_SUPPORTED, INCONCLUSIVE, BY_CONSTRUCTION)

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
    # H5: the Spearman rank correlation between a link's API badness and its pain (person-
    # days) must exceed this: Cohen's conventional "medium" correlation (0.1 small, 0.3
    # medium, 0.5 large), the smallest that says pain marks the bad links rather than
    # hardly at all ...
    "h5_rho": 0.3,
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
        "the Spearman rank correlation, over the links of each run at the largest N, between "
        "a link's API badness (the model's input) and its pain (person-days of negotiation and "
        "conflict work on it), averaged over runs, with a bootstrap CI over runs and links: CI "
        f"above {THRESHOLDS['h5_rho']:g} (pain falls on the bad links); and, where the sweep "
        "fixes links, integration cost per landed change with the worst 20% of links fixed "
        f"over unfixed: CI below {THRESHOLDS['h5_fix']:g}; both must hold"
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
        One plain sentence saying why, with the numbers (defaults to ``because``).
    parts
        The sub-tests a combined verdict was made of (empty for a single test).
    because
        For ``by construction``: the input or accounting rule that sets the effect (e.g.
        ``"ci_detection_prob = 0.9 sets the early share"``); required then, empty else.
    tested
        For ``by construction``: what the test alone would say on these numbers (one of
        supported / not supported / inconclusive), empty when not stated.
    """

    status: str
    reason: str = ""
    parts: tuple[Verdict, ...] = ()
    because: str = ""
    tested: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r}: expected one of {STATUSES}")
        if self.status == BY_CONSTRUCTION and not self.because:
            raise ValueError("a 'by construction' verdict must name the input or rule (because)")
        if self.status != BY_CONSTRUCTION and self.because:
            raise ValueError(f"only a 'by construction' verdict has a because, not {self.status!r}")
        if not self.reason:
            object.__setattr__(self, "reason", self.because)

    def to_dict(self) -> dict[str, Any]:
        """The verdict as the numbers document stores it."""
        out: dict[str, Any] = {"status": self.status, "reason": self.reason}
        if self.because:
            out["because"] = self.because
        if self.tested:
            out["tested"] = self.tested
        return out


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


def difference_estimate(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    *,
    rng: np.random.Generator | int | None = 0,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
) -> Estimate:
    """Difference of two means, mean(a) − mean(b), with a bootstrap CI (the two samples
    resampled independently, as in :func:`ratio_estimate`)."""
    x, y = _clean(a), _clean(b)
    if x.size == 0 or y.size == 0:
        return Estimate.missing()
    value = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return Estimate(value, math.nan, math.nan, level, int(min(x.size, y.size)))
    gen = np.random.default_rng(rng)
    mx = x[gen.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    my = y[gen.integers(0, y.size, size=(n_boot, y.size))].mean(axis=1)
    low, high = _quantiles(mx - my, level)
    return Estimate(value, low, high, level, int(min(x.size, y.size)))


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
            f"{what}: not estimable from these runs (too few unsaturated N to fit, or a "
            "median lead time beyond the measured window)",
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
            f"{what}: not estimable from these runs (too few unsaturated N to fit, or a "
            "median lead time beyond the measured window)",
        )
    if lo <= effect.low and effect.high <= hi:
        return Verdict(SUPPORTED, f"{what} is {_ci(effect)}, inside {band}")
    if effect.high < lo or effect.low > hi:
        return Verdict(NOT_SUPPORTED, f"{what} is {_ci(effect)}, wholly outside {band}")
    return Verdict(INCONCLUSIVE, f"{what} is {_ci(effect)}, partly outside {band}")


def _combined(status: str, parts: Sequence[Verdict]) -> Verdict:
    because = "; ".join(p.because for p in parts if p.because) if status == BY_CONSTRUCTION else ""
    return Verdict(status, "; ".join(p.reason for p in parts), tuple(parts), because)


def all_of(*parts: Verdict) -> Verdict:
    """A claim made of parts that must all hold: not supported if any part is not, else
    inconclusive if any part is, else by construction if any part restates an input (the
    claim then rests on it), else supported (every part is)."""
    statuses = [p.status for p in parts]
    if not statuses:
        status = INCONCLUSIVE
    elif NOT_SUPPORTED in statuses:
        status = NOT_SUPPORTED
    elif INCONCLUSIVE in statuses:
        status = INCONCLUSIVE
    elif BY_CONSTRUCTION in statuses:
        status = BY_CONSTRUCTION
    else:
        status = SUPPORTED
    return _combined(status, parts)


def any_of(*parts: Verdict) -> Verdict:
    """A claim any one of whose parts suffices: supported if some part is, else by
    construction if some part restates an input, else not supported if every part is not,
    else inconclusive."""
    statuses = [p.status for p in parts]
    if SUPPORTED in statuses:
        status = SUPPORTED
    elif BY_CONSTRUCTION in statuses:
        status = BY_CONSTRUCTION
    elif statuses and all(s == NOT_SUPPORTED for s in statuses):
        status = NOT_SUPPORTED
    else:
        status = INCONCLUSIVE
    return _combined(status, parts)


def within_noise(effect: Estimate, value: float) -> bool:
    """Whether ``value`` lies inside the effect's CI: the runs cannot tell the effect from
    it. False when the effect or ``value`` is not finite. The bounds are widened by a
    relative 1e-9, so that a ratio of equal sums added in another order (0.9999999999999999)
    is not told apart from 1 by rounding alone."""
    if not (effect.defined and math.isfinite(value)):
        return False
    slack = 1e-9 * max(abs(value), abs(effect.low), abs(effect.high), 1e-300)
    return effect.low - slack <= value <= effect.high + slack


def follows_rule(effect: Estimate, implied: float, threshold: float | None = None) -> bool:
    """Whether the measured effect is what a rule gives (``implied``) rather than a finding:
    ``implied`` lies inside the effect's CI (:func:`within_noise`), or, given the claim's
    ``threshold``, the whole CI lies nearer ``implied`` than the threshold (beyond their
    midpoint, on the rule's side): whatever the model adds to the rule is smaller than
    the margin by which the rule alone decides the test."""
    if within_noise(effect, implied):
        return True
    if threshold is None or not effect.defined or not math.isfinite(implied):
        return False
    mid = (implied + threshold) / 2
    if implied > threshold:
        return effect.low > mid
    if implied < threshold:
        return effect.high < mid
    return False


def by_construction(test: Verdict, because: str) -> Verdict:
    """``test`` relabelled: its effect is what ``because`` (an input or accounting rule)
    sets. The reason keeps what the test alone says."""
    return Verdict(
        BY_CONSTRUCTION,
        f"{because}: {test.reason} (the test alone: {test.status})",
        test.parts,
        because,
        test.status,
    )


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


def h2(retrograde: Estimate, negotiation_share: Estimate | None = None) -> Verdict:
    """H2: the all-to-all split gains nothing: at the largest N it lands less than one core
    with the same people and demand.

    ``negotiation_share`` is the split's negotiation work as a share of its busy effort
    (review + integration) at that N. The flat split negotiates every API change on all
    N − 1 of its links (its rule), so that work grows with N by the rule itself; when it
    is most of the split's effort (CI above ½) the shortfall is that rule's arithmetic and
    the verdict is by construction."""
    test = directional(
        retrograde,
        claim="<",
        threshold=THRESHOLDS["h2_gain"],
        what="the all-to-all split's landings per day at the largest N over one core's",
    )
    if negotiation_share is not None and negotiation_share.defined and negotiation_share.low > 0.5:
        return by_construction(
            test,
            "the flat split negotiates every API change on all N − 1 links (its link rule), "
            f"and that negotiation is {_ci(negotiation_share)} of its busy effort",
        )
    return test


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


def h4(
    late_ratio: Estimate,
    late_events_off: float,
    total_ratio: Estimate,
    *,
    early_share: Estimate | None = None,
    detection_prob: float | None = None,
    conflict_work_ratio: Estimate | None = None,
    conflict_work_by_rule: float | None = None,
) -> Verdict:
    """H4: automation makes integration cheap: late conflicts cut AND total cost cut.

    Each half is by construction when the runs only restate an input or an accounting rule:

    * the late-conflict half, when the measured share of conflicts found early
      (``early_share``) follows the input ``detection_prob`` (``ci_detection_prob``: each
      conflict is found early with that probability, so late conflicts fall to 1 − it by
      the rule): :func:`follows_rule` with the early share the claim needs,
      1 − the late threshold;
    * the total-cost half, when the work per conflict with automation over without
      (``conflict_work_ratio``) is within its CI of ``conflict_work_by_rule``: what the
      cost accounting gives (an early conflict is one fix by its own team, a late one a
      bisection of the pull plus a fix ``cross_team_factor`` slower by a foreign team).
    """
    late = directional(
        late_ratio,
        claim="<",
        threshold=THRESHOLDS["h4_late"],
        what="late conflicts with automation over without",
        events=late_events_off,
        min_events=THRESHOLDS["h4_min_conflicts"],
    )
    if (
        early_share is not None
        and detection_prob is not None
        and follows_rule(early_share, detection_prob, 1 - THRESHOLDS["h4_late"])
    ):
        late = by_construction(
            late,
            f"ci_detection_prob = {detection_prob:g} sets the early share (measured "
            f"{_ci(early_share)})",
        )
    total = directional(
        total_ratio,
        claim="<",
        threshold=THRESHOLDS["h4_total"],
        what="total integration cost per landed change with automation over without",
    )
    if (
        conflict_work_ratio is not None
        and conflict_work_by_rule is not None
        and within_noise(conflict_work_ratio, conflict_work_by_rule)
    ):
        total = by_construction(
            total,
            "the conflict accounting (bisection steps of the pull and a cross_team_factor "
            f"slower foreign fixer for a late conflict) gives work per conflict on/off "
            f"{_fmt(conflict_work_by_rule)} (measured {_ci(conflict_work_ratio)})",
        )
    return all_of(late, total)


def conflict_work_by_rule(
    detection_prob: float,
    work_per_conflict_off: float,
    fix_days: float,
) -> float:
    """Work per conflict with automation over without, by the model's accounting: a share
    ``detection_prob`` of conflicts is found early and costs one fix by its own team
    (``fix_days``: no bisection, no foreign factor); the rest cost what a conflict costs
    without automation (``work_per_conflict_off``, measured). NaN when that is not
    positive."""
    if not work_per_conflict_off > 0:
        return math.nan
    on = detection_prob * fix_days + (1 - detection_prob) * work_per_conflict_off
    return on / work_per_conflict_off


def h5(rho: Estimate, fix_ratio: Estimate | None = None) -> Verdict:
    """H5: link pain marks bad APIs (pain falls on the links with bad APIs: the rank
    correlation ``rho`` between a link's badness and its pain, from
    :func:`rank_correlation_estimate`), and fixing the worst links cuts cost
    (``fix_ratio``; None where the sweep fixes no links: the first half alone is judged)."""
    marks = directional(
        rho,
        claim=">",
        threshold=THRESHOLDS["h5_rho"],
        what="the Spearman correlation between a link's API badness and its pain",
    )
    if fix_ratio is None:
        return marks
    return all_of(
        marks,
        directional(
            fix_ratio,
            claim="<",
            threshold=THRESHOLDS["h5_fix"],
            what="integration cost per landed change with the worst 20% of links fixed over "
            "unfixed",
        ),
    )


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def _weighted_pearson(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of (x, y) under each row of weights ``w`` (counts of a
    resample), vectorised over the rows."""
    n = w.sum(axis=1)
    sx, sy = w @ x, w @ y
    sxx, syy, sxy = w @ (x * x), w @ (y * y), w @ (x * y)
    cov = sxy - sx * sy / n
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((vx > 0) & (vy > 0), cov / np.sqrt(vx * vy), np.nan)


def rank_correlation_estimate(
    groups: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    rng: np.random.Generator | int | None = 0,
    n_boot: int = N_BOOT,
    level: float = LEVEL,
    chunk: int = 100,
) -> Estimate:
    """Spearman rank correlation of x and y within each group (a run's links), averaged
    over groups, with a two-stage bootstrap CI: resample groups with replacement, then
    the rows of each drawn group with replacement.

    Ranks are taken once per group (ties averaged) and each resample's correlation is the
    Pearson correlation of those ranks (the usual bootstrap of Spearman's ρ without
    re-ranking). A group with fewer than three rows or a constant x or y is dropped.
    ``n`` of the estimate is the number of groups used.
    """
    ranked = []
    for x, y in groups:
        x, y = np.asarray(x, float), np.asarray(y, float)
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        ranked.append((_ranks(x), _ranks(y)))
    if not ranked:
        return Estimate.missing()
    whole = [float(np.corrcoef(rx, ry)[0, 1]) for rx, ry in ranked]
    value = float(np.mean(whole))
    g = len(ranked)
    if g == 1 and ranked[0][0].size < 3:
        return Estimate(value, math.nan, math.nan, level, g)
    gen = np.random.default_rng(rng)
    picks = gen.integers(0, g, size=(n_boot, g))
    draws = np.zeros(n_boot)
    for i, (rx, ry) in enumerate(ranked):
        uses = (picks == i).sum(axis=1)  # how often each resample draws this group
        size = rx.size
        for start in range(0, n_boot, chunk):
            stop = min(start + chunk, n_boot)
            rows = stop - start
            idx = gen.integers(0, size, size=(rows, size)) + (np.arange(rows) * size)[:, None]
            w = np.bincount(idx.ravel(), minlength=rows * size).reshape(rows, size)
            r = _weighted_pearson(w.astype(float), rx, ry)
            draws[start:stop] += uses[start:stop] * np.nan_to_num(r)
    draws /= g
    low, high = _quantiles(draws, level)
    return Estimate(value, low, high, level, g)


def h6(moved_ratio: Estimate) -> Verdict:
    """H6: splitting moves cost rather than removing it."""
    return directional(
        moved_ratio,
        claim=">",
        threshold=THRESHOLDS["h6_moved"],
        what="the split's total busy effort per landed change over the single core's",
    )


def paid_days(paid_per_day_ratio: Estimate, per_change_ratio: Estimate, *, rule: str) -> Verdict:
    """Whether a split pays more reviewer-days per landed change than one core.

    Under equal headcount (``rule``: the staffing rule) both pay the same reviewer-days per
    day; when the measured ratio of paid reviewer-days per day (split over core) is within
    noise of 1, the per-change ratio is only the inverse of the landings ratio: by
    construction. Otherwise the per-change ratio is tested against 1 (claim: the split
    pays more)."""
    test = directional(
        per_change_ratio,
        claim=">",
        threshold=1.0,
        what="paid reviewer-days per landed change, split over one core",
    )
    if within_noise(paid_per_day_ratio, 1.0):
        return by_construction(
            test,
            f"{rule} gives both the same reviewers, so paid reviewer-days per day are equal "
            f"(ratio {_ci(paid_per_day_ratio)}) and per landed change differ only as landings do",
        )
    return test


def lead_time_floor(excess: Estimate, *, interval: float, levels: int) -> Verdict:
    """Whether the hierarchy is slower than one core beyond its pull schedule.

    ``excess`` is the hierarchy's median lead time minus one core's (days). A change waits
    for the next pull at each of ``levels`` levels, every ``interval`` days
    (``merge_interval_days``): an excess up to ``levels × interval`` is what that schedule
    gives (by construction, when the whole CI is within it). An excess beyond it is a
    finding (supported); a CI wholly at or below 0, no slower (not supported)."""
    floor = levels * interval
    test = directional(
        excess,
        claim=">",
        threshold=0.0,
        what="the hierarchy's median lead time minus one core's (days)",
    )
    if not excess.defined:
        return test
    if excess.low >= 0 and excess.high <= floor:
        return by_construction(
            test,
            f"merge_interval_days = {interval:g} at each of {levels} pull levels bounds the "
            f"lead time below: an excess up to {floor:g} days is the pull schedule",
        )
    if excess.low > floor:
        return Verdict(
            SUPPORTED,
            f"{test.reason}: beyond the {floor:g} days the pull schedule "
            f"({levels} levels × merge_interval_days = {interval:g}) explains",
        )
    return test


def h7(exponent: Estimate) -> Verdict:
    """H7: an area's output grows as m^½ in its m reviewers."""
    return equivalence(
        exponent,
        target=0.5,
        margin=THRESHOLDS["h7_margin"],
        what="the exponent of one area's landings per day in its reviewers",
    )
