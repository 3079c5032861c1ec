"""observe.simulated.run_patterns: patterns over a trajectory's windows come from the one run's
event log, by the same definitions as the measured window."""

import math

import pytest

from model import OrgModel
from observe.patterns import Window, change_table, compute
from observe.simulated import run_patterns

PARAMS = {
    "topology": "single_core",
    "staffing": "fixed_core",
    "n_teams": 3,
    "contributors_per_team": 4,
    "core_reviewers": 3,
    "warmup_days": 10.0,
    "change_rate": 0.3,
}
DAYS = 70.0


def test_windowed_patterns_are_the_patterns_of_the_runs_log_over_each_window():
    windows = {
        "merged_per_day@a": ("merged_per_day", Window(10.0, 40.0)),
        "merged_per_day@b": ("merged_per_day", Window(40.0, 70.0)),
        "lead_time_p50@a": ("lead_time_p50", Window(10.0, 40.0)),
    }
    values = run_patterns(PARAMS, 3, DAYS, ["merged_per_day"], windows)
    model = OrgModel(**PARAMS, rng=3, record_events=True)
    model.run_for(DAYS)
    changes = change_table(model.event_table())
    for key, (name, window) in windows.items():
        assert values[key] == pytest.approx(compute(changes, window, [name])[name])
    # the two halves of the measured window average to the whole
    whole = values["merged_per_day"]
    assert (values["merged_per_day@a"] + values["merged_per_day@b"]) / 2 == pytest.approx(whole)
    assert values["merged_per_day@a"] != values["merged_per_day@b"]
    assert math.isfinite(values["lead_time_p50@a"])


def test_a_window_past_the_run_or_an_unknown_pattern_is_refused():
    with pytest.raises(ValueError, match="not within the run's 70 days"):
        run_patterns(PARAMS, 1, DAYS, (), {"x": ("merged_per_day", Window(60.0, 80.0))})
    with pytest.raises(ValueError, match="unknown pattern 'merged'"):
        run_patterns(PARAMS, 1, DAYS, (), {"x": ("merged", Window(10.0, 20.0))})
