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
from model.params import STOP_BACKLOG_DAYS


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


# ----------------------------------------------------------------------------- early stop


def _metrics_equal(a: dict[str, float], b: dict[str, float]) -> list[str]:
    """Names of the metrics that differ, bit for bit (nan equals nan)."""
    out = []
    for name in a:
        x, y = a[name], b[name]
        if math.isnan(x) and math.isnan(y):
            continue
        if x != y:
            out.append(name)
    return out


def test_a_run_whose_backlog_runs_away_stops_flagged_saturated():
    # flat at N = 32: almost nothing lands, the backlog grows by ~25 changes a day
    model = OrgModel(
        topology="flat", n_teams=32, warmup_days=60, stop_backlog_days=STOP_BACKLOG_DAYS, rng=3
    )
    model.run_for(300)
    m = model.metrics()
    assert model.stopped and m["saturated"] == 1.0
    day = m["stopped_at_day"]
    assert 60 <= day < 300 and model.time == day
    demand = model.n_areas * model.contributors_per_team * model.change_rate
    assert model.wip > model.stop_backlog_days * demand
    assert model.release_cycle_days == 0
    # the backlog series ends at the stop, and a further run_for does nothing
    assert model.backlog_series[-1][0] == day
    model.run_for(10)
    assert model.time == day and model.metrics()["stopped_at_day"] == day


def test_a_light_run_never_stops_and_the_bound_changes_nothing_in_it():
    runs = {}
    for bound in (0.0, STOP_BACKLOG_DAYS, 30.0):
        model = OrgModel(topology="hierarchical", n_teams=8, stop_backlog_days=bound, rng=5)
        model.run_for(240)
        assert not model.stopped and model.time == 240
        runs[bound] = model.metrics()
    assert math.isnan(runs[60.0]["stopped_at_day"]) and runs[60.0]["saturated"] == 0.0
    assert _metrics_equal(runs[0.0], runs[60.0]) == []
    assert _metrics_equal(runs[0.0], runs[30.0]) == []


def test_stopping_is_the_same_run_up_to_the_stop():
    # the stopped run and the same run without a bound agree on everything measured up to
    # the stop day: stopping only ends the run, it changes nothing before
    stopped = OrgModel(topology="modular", n_teams=32, stop_backlog_days=STOP_BACKLOG_DAYS, rng=11)
    stopped.run_for(300)
    assert stopped.stopped
    day = stopped.stopped_at_day
    free = OrgModel(topology="modular", n_teams=32, stop_backlog_days=0.0, rng=11)
    free.run_for(day)
    a, b = stopped.metrics(), free.metrics()
    assert b["saturated"] == 1.0 and math.isnan(b["stopped_at_day"])
    diff = _metrics_equal(a, b)
    # only the flag and what the daily tick of the stop day itself records may differ
    assert set(diff) <= {"stopped_at_day", "saturated"}, diff


def test_a_bound_of_zero_the_default_never_stops():
    model = OrgModel(topology="flat", n_teams=32, rng=3)
    assert model.stop_backlog_days == 0.0
    model.run_for(200)
    assert not model.stopped and model.time == 200


def test_a_release_cycle_holding_changes_back_is_not_stopped():
    # a top that takes pulls once in 70 days holds back ~70 days of demand by design
    model = OrgModel(
        topology="hierarchical",
        n_teams=8,
        release_cycle_days=70.0,
        stop_backlog_days=STOP_BACKLOG_DAYS,
        rng=3,
    )
    model.run_for(365)
    assert not model.stopped and model.metrics()["saturated"] == 0.0
