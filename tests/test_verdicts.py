"""Specifications of the paper's hypothesis tests (paper/verdicts.py).

Every verdict is shown to come out "supported", "not supported" and "inconclusive" on
synthetic replicates whose answer is known: a real effect, a credibly absent effect, and
noise only (too few replicates or too much spread to tell); and "by construction" where
the synthetic effect is what an input or accounting rule sets, decided from the inputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "paper"))

import verdicts as v

RNG = np.random.default_rng(2014)


def reps(mean, rel_sd, n=8, seed=0):
    """``n`` replicates of ``mean`` with relative Gaussian noise ``rel_sd``."""
    rng = np.random.default_rng(seed)
    return mean * (1 + rel_sd * rng.standard_normal(n))


def ratio(a_mean, b_mean, rel_sd, n=8, seed=0):
    return v.ratio_estimate(reps(a_mean, rel_sd, n, seed), reps(b_mean, rel_sd, n, seed + 1))


# ----------------------------------------------------------------------------- estimates


def test_ratio_estimate_ci_covers_the_true_ratio_and_excludes_one_for_a_real_effect():
    e = ratio(5.0, 10.0, 0.05)
    assert e.low < 0.5 < e.high
    assert e.high < 1.0
    assert e.value == pytest.approx(0.5, rel=0.05)


def test_mean_estimate_of_one_value_has_no_ci():
    e = v.mean_estimate([3.0])
    assert e.value == 3.0
    assert not e.defined


def test_bootstrap_estimates_are_reproducible_from_their_seed():
    a, b = reps(2.0, 0.2), reps(3.0, 0.2, seed=5)
    assert v.ratio_estimate(a, b, rng=7) == v.ratio_estimate(a, b, rng=7)


# ----------------------------------------------------------------------------- primitives


def test_an_effect_smaller_than_its_threshold_is_not_supported_even_when_it_excludes_the_null():
    # 8.75 -> 8.74 cut with tiny noise: the CI excludes 1 at most barely, far above 0.9
    e = ratio(8.74, 8.75, 0.001)
    verdict = v.directional(e, claim="<", threshold=0.9, what="cost ratio")
    assert verdict.status == v.NOT_SUPPORTED


def test_too_few_events_make_any_effect_inconclusive():
    e = ratio(0.1, 1.0, 0.01)
    verdict = v.directional(e, claim="<", threshold=0.5, what="x", events=10, min_events=20)
    assert verdict.status == v.INCONCLUSIVE
    assert "10" in verdict.reason


def test_directional_rejects_an_unknown_claim():
    with pytest.raises(ValueError, match="claim"):
        v.directional(v.Estimate(1, 0, 2), claim="=", threshold=1, what="x")


def test_a_verdict_with_an_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status"):
        v.Verdict("probably", "x")


def test_all_of_needs_every_part_and_any_of_needs_one():
    s, n, i = (v.Verdict(x, x) for x in (v.SUPPORTED, v.NOT_SUPPORTED, v.INCONCLUSIVE))
    assert v.all_of(s, s).status == v.SUPPORTED
    assert v.all_of(s, i).status == v.INCONCLUSIVE
    assert v.all_of(s, n, i).status == v.NOT_SUPPORTED
    assert v.any_of(n, s).status == v.SUPPORTED
    assert v.any_of(n, n).status == v.NOT_SUPPORTED
    assert v.any_of(n, i).status == v.INCONCLUSIVE


# ----------------------------------------------------------------------------- hypotheses

NOISE_ONLY = {"rel_sd": 0.6, "n": 3}  # three very noisy replicates: nothing can be told


@pytest.mark.parametrize(
    ("lead_at_max", "sat_share", "sat_n", "noise", "expected"),
    [
        (5.0, 0.0, None, {"rel_sd": 0.05}, v.SUPPORTED),  # a hockey stick
        (1.0, 1.0, 64, {"rel_sd": 0.05}, v.SUPPORTED),  # saturation alone
        (1.05, 0.0, None, {"rel_sd": 0.05}, v.NOT_SUPPORTED),  # flat lead time, never saturated
        (2.0, 0.0, None, NOISE_ONLY, v.INCONCLUSIVE),
    ],
)
def test_h1(lead_at_max, sat_share, sat_n, noise, expected):
    e = ratio(lead_at_max, 1.0, **noise)
    assert v.h1(e, sat_share, sat_n).status == expected


@pytest.mark.parametrize(
    ("at_max", "noise", "expected"),
    [
        (0.1, {"rel_sd": 0.05}, v.SUPPORTED),
        (1.5, {"rel_sd": 0.05}, v.NOT_SUPPORTED),
        (1.0, NOISE_ONLY, v.INCONCLUSIVE),
    ],
)
def test_h2(at_max, noise, expected):
    assert v.h2(ratio(at_max, 1.0, **noise)).status == expected


@pytest.mark.parametrize(
    ("exponent", "sd", "expected"),
    [(1.0, 0.03, v.SUPPORTED), (2.0, 0.03, v.NOT_SUPPORTED), (1.25, 0.4, v.INCONCLUSIVE)],
)
def test_h3(exponent, sd, expected):
    # bootstrap replicates of an exponent estimate around its true value
    e = v.mean_estimate(exponent + sd * RNG.standard_normal(8))
    assert v.h3(e).status == expected


def test_h3_a_hierarchy_that_saturates_where_one_core_does_not_does_not_scale():
    e = v.mean_estimate(1.0 + 0.03 * RNG.standard_normal(8))  # near-linear below the limit
    verdict = v.h3(e, limit_n=64)
    assert verdict.status == v.NOT_SUPPORTED
    assert "N = 64" in verdict.reason


@pytest.mark.parametrize(
    ("late_on", "late_events", "total_on", "noise", "expected"),
    [
        (0.1, 200, 0.5, {"rel_sd": 0.05}, v.SUPPORTED),
        (0.1, 200, 1.02, {"rel_sd": 0.05}, v.NOT_SUPPORTED),  # conflicts cut, total cost not
        (1.0, 200, 0.5, {"rel_sd": 0.05}, v.NOT_SUPPORTED),  # late conflicts not cut
        (0.1, 5, 0.5, {"rel_sd": 0.05}, v.INCONCLUSIVE),  # too few conflicts to tell
        (0.5, 200, 0.9, NOISE_ONLY, v.INCONCLUSIVE),
    ],
)
def test_h4_judges_total_integration_cost_as_well_as_late_conflicts(
    late_on, late_events, total_on, noise, expected
):
    verdict = v.h4(ratio(late_on, 1.0, **noise), late_events, ratio(total_on, 1.0, **noise, seed=9))
    assert verdict.status == expected


def link_runs(follows: bool, runs=3, links=400, seed=0):
    """Synthetic per-link tables, one a run: lognormal badness; pain either grows with the
    link's badness (plus noise) or is drawn independently of it."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(runs):
        bad = rng.lognormal(0.0, 0.8, links)
        noise = rng.lognormal(0.0, 0.5, links)
        pain = bad * noise if follows else rng.lognormal(0.0, 0.8, links) * noise
        pain[rng.random(links) < 0.3] = 0.0  # links without any pain: ties
        out.append((bad, pain))
    return out


def test_h5_pain_that_follows_badness_is_supported_and_independent_pain_is_not():
    follows = v.rank_correlation_estimate(link_runs(True), n_boot=400)
    independent = v.rank_correlation_estimate(link_runs(False), n_boot=400)
    assert follows.low > v.THRESHOLDS["h5_rho"]
    assert abs(independent.value) < 0.1 and independent.high < v.THRESHOLDS["h5_rho"]
    assert v.h5(follows).status == v.SUPPORTED
    assert v.h5(independent).status == v.NOT_SUPPORTED


def test_h5_with_few_links_is_inconclusive_and_needs_the_fix_as_well():
    few = v.rank_correlation_estimate(link_runs(True, runs=2, links=12, seed=4), n_boot=400)
    assert few.n == 2 and few.low < v.THRESHOLDS["h5_rho"] < few.high
    assert v.h5(few).status == v.INCONCLUSIVE
    follows = v.rank_correlation_estimate(link_runs(True), n_boot=400)
    assert v.h5(follows, ratio(0.5, 1.0, 0.05)).status == v.SUPPORTED
    assert v.h5(follows, ratio(0.999, 1.0, 0.001)).status == v.NOT_SUPPORTED


def test_rank_correlation_ci_covers_the_true_correlation_of_a_known_population():
    rng = np.random.default_rng(5)
    groups = []
    for _ in range(4):  # Gaussian pairs with Pearson 0.6: Spearman (6/π)·asin(0.3) = 0.582
        x = rng.standard_normal(500)
        groups.append((x, 0.6 * x + 0.8 * rng.standard_normal(500)))
    e = v.rank_correlation_estimate(groups, n_boot=400)
    truth = 6 / np.pi * np.arcsin(0.3)
    assert e.low < truth < e.high and e.high - e.low < 0.15


# ----------------------------------------------------------------------------- by construction


def test_a_by_construction_verdict_must_name_its_input_and_only_it_has_one():
    with pytest.raises(ValueError, match="because"):
        v.Verdict(v.BY_CONSTRUCTION, "the input says so")
    with pytest.raises(ValueError, match="because"):
        v.Verdict(v.SUPPORTED, "found", because="an input")
    verdict = v.Verdict(status=v.BY_CONSTRUCTION, because="ci_detection_prob = 0.9 sets it")
    assert verdict.reason == "ci_detection_prob = 0.9 sets it"
    assert verdict.to_dict()["because"] == "ci_detection_prob = 0.9 sets it"


def conflicts(p_early, runs=8, k=400, seed=0):
    """Early-found share of ``k`` conflicts a run, each found early with ``p_early``."""
    rng = np.random.default_rng(seed)
    return v.mean_estimate(rng.binomial(k, p_early, runs) / k)


def test_h4_is_by_construction_when_the_early_share_is_the_input_detection_probability():
    late, total = ratio(0.1, 1.0, 0.05), ratio(0.5, 1.0, 0.05, seed=9)
    verdict = v.h4(late, 200, total, early_share=conflicts(0.9), detection_prob=0.9)
    assert verdict.status == v.BY_CONSTRUCTION
    assert "ci_detection_prob = 0.9" in verdict.because
    assert verdict.parts[0].tested == v.SUPPORTED
    # a slightly lower share with a CI that excludes 0.9 still is the input's: it lies far
    # nearer 0.9 than the 0.5 the claim needs
    near = conflicts(0.885, runs=6, k=4000)
    assert near.high < 0.9
    assert v.h4(late, 200, total, early_share=near, detection_prob=0.9).status == (
        v.BY_CONSTRUCTION
    )
    # an early share the input does not give (some other mechanism): a finding
    found = v.h4(late, 200, total, early_share=conflicts(0.6), detection_prob=0.9)
    assert found.status == v.SUPPORTED and not found.because


def test_follows_rule_inside_the_ci_or_nearer_the_rule_than_the_threshold():
    e = v.Estimate(0.88, 0.87, 0.89)
    assert v.follows_rule(e, 0.88) and not v.follows_rule(e, 0.9)
    assert v.follows_rule(e, 0.9, 0.5)  # midpoint 0.7: the CI is on the rule's side
    assert not v.follows_rule(v.Estimate(0.6, 0.55, 0.65), 0.9, 0.5)
    assert v.follows_rule(v.Estimate(0.12, 0.11, 0.13), 0.1, 0.5)  # a ratio below
    assert not v.follows_rule(v.Estimate.missing(), 0.9, 0.5)


def test_h4_total_is_by_construction_when_conflict_work_is_the_accounting():
    late, total = ratio(0.1, 1.0, 0.05), ratio(0.5, 1.0, 0.05, seed=9)
    # off: a late conflict costs 3 days (bisection + foreign fix); on: 90% cost one 1-day fix
    rule = v.conflict_work_by_rule(0.9, 3.0, 1.0)
    assert rule == pytest.approx((0.9 * 1 + 0.1 * 3) / 3)
    as_rule = ratio(rule, 1.0, 0.03, seed=4)
    verdict = v.h4(late, 200, total, conflict_work_ratio=as_rule, conflict_work_by_rule=rule)
    assert verdict.status == v.BY_CONSTRUCTION
    assert [p.status for p in verdict.parts] == [v.SUPPORTED, v.BY_CONSTRUCTION]
    other = ratio(0.9, 1.0, 0.03, seed=4)
    verdict = v.h4(late, 200, total, conflict_work_ratio=other, conflict_work_by_rule=rule)
    assert verdict.status == v.SUPPORTED


def test_h2_is_by_construction_when_negotiation_on_all_links_is_most_of_the_work():
    loss = ratio(0.1, 1.0, 0.05)
    most = v.mean_estimate(reps(0.76, 0.05))
    little = v.mean_estimate(reps(0.2, 0.05))
    verdict = v.h2(loss, most)
    assert verdict.status == v.BY_CONSTRUCTION and "N − 1 links" in verdict.because
    assert verdict.tested == v.SUPPORTED
    assert v.h2(loss, little).status == v.SUPPORTED
    assert v.h2(ratio(1.5, 1.0, 0.05), little).status == v.NOT_SUPPORTED


def test_paid_days_under_equal_headcount_are_by_construction():
    equal = ratio(1.0, 1.0, 0.0001)
    more_per_change = ratio(1.4, 1.0, 0.05)
    verdict = v.paid_days(equal, more_per_change, rule="staffing = equal_headcount")
    assert verdict.status == v.BY_CONSTRUCTION and "equal_headcount" in verdict.because
    unequal = ratio(1.5, 1.0, 0.01)  # more people paid: the per-change difference is tested
    assert v.paid_days(unequal, more_per_change, rule="x").status == v.SUPPORTED


@pytest.mark.parametrize(
    ("excess", "expected"),
    [(9.0, v.BY_CONSTRUCTION), (30.0, v.SUPPORTED), (-3.0, v.NOT_SUPPORTED)],
)
def test_lead_time_within_the_pull_schedule_is_by_construction(excess, expected):
    e = v.mean_estimate(excess + reps(1.0, 0.2) - 1.0)
    verdict = v.lead_time_floor(e, interval=7.0, levels=2)
    assert verdict.status == expected
    if expected == v.BY_CONSTRUCTION:
        assert "merge_interval_days = 7" in verdict.because


def test_combined_verdicts_carry_by_construction_below_a_refutation():
    made = v.Verdict(v.BY_CONSTRUCTION, because="an input")
    yes, no = v.Verdict(v.SUPPORTED, "y"), v.Verdict(v.NOT_SUPPORTED, "n")
    assert v.all_of(made, yes).status == v.BY_CONSTRUCTION
    assert v.all_of(made, yes).because == "an input"
    assert v.all_of(made, no).status == v.NOT_SUPPORTED
    assert v.any_of(made, no).status == v.BY_CONSTRUCTION
    assert v.any_of(made, yes).status == v.SUPPORTED


@pytest.mark.parametrize(
    ("split_over_core", "noise", "expected"),
    [
        (1.5, {"rel_sd": 0.05}, v.SUPPORTED),
        (0.5, {"rel_sd": 0.05}, v.NOT_SUPPORTED),
        (0.9, NOISE_ONLY, v.INCONCLUSIVE),
    ],
)
def test_h6(split_over_core, noise, expected):
    assert v.h6(ratio(split_over_core, 1.0, **noise)).status == expected


def h7_exponent(true_b, rel_sd, seed=0):
    """Fit output ∝ m^b to synthetic replicates; bootstrap the fitted exponent."""
    m = np.repeat([2, 4, 8, 16, 32, 64], 6).astype(float)
    rng = np.random.default_rng(seed)
    y = m**true_b * (1 + rel_sd * rng.standard_normal(m.size))
    boots = []
    for _ in range(400):
        idx = rng.integers(0, m.size, m.size)
        ok = y[idx] > 0
        boots.append(np.polyfit(np.log(m[idx][ok]), np.log(y[idx][ok]), 1)[0])
    b = np.polyfit(np.log(m), np.log(np.clip(y, 1e-9, None)), 1)[0]
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return v.Estimate(float(b), float(lo), float(hi))


@pytest.mark.parametrize(
    ("true_b", "rel_sd", "expected"),
    [(0.5, 0.05, v.SUPPORTED), (0.72, 0.05, v.NOT_SUPPORTED), (0.5, 0.9, v.INCONCLUSIVE)],
)
def test_h7_is_judged_against_one_half_as_claimed(true_b, rel_sd, expected):
    assert v.h7(h7_exponent(true_b, rel_sd)).status == expected


def test_every_hypothesis_states_its_test():
    assert set(v.TESTS) == {f"H{i}" for i in range(1, 8)}


def test_within_noise_does_not_tell_a_rounding_error_from_the_value():
    """Equal sums added in another order give a ratio of 0.9999999999999999 with a
    zero-width CI: that is 1 (equal headcount pays the same reviewers), not an effect."""
    rounded = v.Estimate(0.9999999999999999, 0.9999999999999997, 0.9999999999999999, 0.95, 6)
    assert v.within_noise(rounded, 1.0)
    assert not v.within_noise(v.Estimate(0.999, 0.998, 0.9995, 0.95, 6), 1.0)
    assert not v.within_noise(rounded, float("nan"))
