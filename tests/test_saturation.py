"""Saturation and lead time: changes lost to waiting flag a run; abandonment is a
competing risk for the lead-time median, not censoring."""

import math

import numpy as np
import pytest

from model import OrgModel
from model.metrics import (
    backlog_slope,
    cumulative_incidence_median,
    kaplan_meier_median,
    max_team_utilization,
    resolved_landed_share,
)


def test_cumulative_incidence_median_treats_abandonment_as_a_competing_risk():
    # three changes abandoned early, then three land: only half of all ever land, at 4
    durations = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0])
    landed = np.array([False, False, False, True, True, True])
    abandoned = ~landed
    assert cumulative_incidence_median(durations, landed, abandoned) == 4.0
    # Kaplan–Meier, abandonment censored, counts the abandoned as if they would land like
    # the others, and puts the median earlier
    assert kaplan_meier_median(durations, landed) == 3.0


def test_cumulative_incidence_median_without_competing_events_is_the_plain_median():
    durations = np.array([5.0, 1.0, 3.0, 2.0, 4.0, 6.0])
    every = np.ones(6, dtype=bool)
    assert cumulative_incidence_median(durations, every, ~every) == 3.0
    # open changes (neither landed nor abandoned) are censored
    landed = np.array([True, True, True, False, False, False])
    assert cumulative_incidence_median(durations, landed, np.zeros(6, dtype=bool)) == 5.0


def test_cumulative_incidence_median_is_nan_when_half_never_land():
    durations = np.array([1.0, 2.0, 3.0, 4.0])
    landed = np.array([True, False, False, False])
    assert math.isnan(cumulative_incidence_median(durations, landed, ~landed))
    assert math.isnan(cumulative_incidence_median(np.array([]), landed[:0], landed[:0]))


def test_a_run_losing_changes_to_waiting_is_saturated_though_its_backlog_is_flat():
    # one core of 64 areas behind one serial gate: impatient authors keep the backlog
    # bounded and the reviewers are mostly idle, yet far fewer changes land than patience
    # alone would cost
    org = OrgModel(topology="single_core", n_teams=64, patience_days=10.0, warmup_days=100, rng=1)
    org.run_for(400)
    m = org.metrics()
    assert backlog_slope(org) <= 0
    assert max_team_utilization(org) < 0.9
    assert resolved_landed_share(org) < m["landed_share_patience"] - 0.1
    assert m["saturated"] == 1.0
    assert math.isnan(m["lead_time_cif_p50"]) or m["lead_time_cif_p50"] > m["lead_time_p50"]


def test_patience_alone_loses_few_changes_in_a_light_run():
    m = OrgModel(topology="single_core", n_teams=8, rng=2)
    m.run_for(300)
    r = m.metrics()
    assert r["saturated"] == 0.0
    assert r["landed_share_patience"] == pytest.approx(resolved_landed_share(m), abs=0.05)
    assert r["lead_time_cif_p50"] == pytest.approx(r["lead_time_km_p50"], rel=0.1)


def test_backlog_slope_is_the_least_squares_slope_in_the_same_bits_in_any_order():
    from model.metrics import least_squares_slope

    rng = np.random.default_rng(3)
    t = np.arange(400, dtype=float) * 0.5 + 60.0
    b = 3.0 + 0.21 * t + rng.normal(0.0, 40.0, t.size)
    slope = least_squares_slope(list(t), list(b))
    assert slope == pytest.approx(np.polyfit(t, b, 1)[0], rel=1e-12)
    order = rng.permutation(t.size)
    assert least_squares_slope(list(t[order]), list(b[order])) == slope  # bit for bit
    assert math.isnan(least_squares_slope([1.0, 1.0], [2.0, 3.0]))
