"""The model's event log: recording changes nothing, and the log observed back gives the run's
own metrics through the shared pattern definitions."""

from __future__ import annotations

import math

import pyarrow.parquet as pq
import pytest

from model import OrgModel
from model.eventlog import (
    KINDS,
    SCHEMA_VERSION,
    EventLogError,
    log_info,
    read_events,
    write_events,
)
from observe.patterns import PATTERNS, Window, change_table, compute

DAYS = 200.0


def run(topology: str, record: bool, **params) -> OrgModel:
    model = OrgModel(topology=topology, n_teams=8, rng=3, record_events=record, **params)
    model.run_for(DAYS)
    return model


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


@pytest.fixture(scope="module", params=["single_core", "hierarchical", "flat"])
def recorded(request) -> OrgModel:
    return run(request.param, True)


def test_recording_changes_no_metric(recorded):
    plain = run(recorded.topology, False)
    assert same(plain.metrics(), recorded.metrics())


def test_model_without_recording_has_no_log():
    model = OrgModel(rng=1)
    assert model.event_log is None
    with pytest.raises(RuntimeError, match="record_events=True"):
        model.event_table()


def test_log_has_schema_metadata_and_time_order(recorded):
    table = recorded.event_table()
    info = log_info(table)
    assert info["schema"] == str(SCHEMA_VERSION)
    assert info["measured"].split() == [repr(recorded.warmup_days), repr(DAYS)]
    times = table.column("time").to_numpy()
    assert (times[1:] >= times[:-1]).all()
    assert set(table.column("kind").to_pylist()) <= set(KINDS)


def test_every_change_is_created_once_and_ends_at_most_once(recorded):
    frame = recorded.event_table().to_pandas()
    kind = frame["kind"].astype(str)
    created = frame[kind == "created"]["change"]
    assert created.is_unique
    assert len(created) == recorded.n_changes_made == recorded.n_submitted
    ends = frame[kind.isin(["landed", "abandoned"])]
    assert ends["change"].is_unique  # conservation: landed or abandoned, never both
    n_landed = int((kind == "landed").sum())
    n_abandoned = int((kind == "abandoned").sum())
    assert n_landed == recorded.n_landed_all
    assert n_abandoned == recorded.abandonment.n_abandoned_all
    assert n_landed + n_abandoned + recorded.wip == recorded.n_submitted


def test_patterns_from_the_log_equal_the_runs_own_metrics(recorded):
    """One definition: the pattern functions on the run's log give its metrics exactly."""
    metrics = recorded.metrics()
    changes = change_table(recorded.event_table())
    values = compute(changes, Window(recorded.warmup_days, DAYS))
    # the mean sums in another order: equal to rounding
    assert values["lead_time_mean"] == pytest.approx(metrics["lead_time_mean"], rel=1e-12)
    for name in (
        "merged_per_day",
        "submitted_per_day",
        "abandoned_per_day",
        "lead_time_p50",
        "reviews_per_day",
        "top_direct_landed_share",
        "tree_depth",
    ):
        assert values[name] == metrics[name], name
    assert values["merged_per_day"] == metrics["throughput"]


def test_patch_set_events_match_the_models_count(recorded):
    """Every patch set the model counts is one upload in the log."""
    frame = recorded.event_table().to_pandas()
    kind = frame["kind"].astype(str)
    uploads = frame[kind.isin(["created", "patch_set"])].groupby("change").size()
    landed = frame[kind == "landed"]["change"]
    measured = frame[(kind == "landed") & (frame["time"] >= recorded.warmup_days)]["change"]
    assert len(landed)
    counted = uploads.reindex(measured).to_numpy()
    assert sorted(counted) == sorted(recorded.landed_patch_sets)


def test_hierarchy_logs_merges_into_each_tree_and_single_core_none():
    tree = run("hierarchical", True)
    core = run("single_core", True)
    frame = tree.event_table().to_pandas()
    merged = frame[frame["kind"].astype(str) == "merged"]
    assert set(merged["detail"].astype(str)) == {"home", "parent"}
    core_kinds = set(core.event_table().column("kind").to_pylist())
    assert "merged" not in core_kinds and "landed" in core_kinds


def test_write_and_read_round_trip(tmp_path, recorded):
    path = tmp_path / "events.parquet"
    write_events(recorded.event_table(), path)
    back = read_events(path)
    assert back.equals(recorded.event_table())
    assert not list(tmp_path.glob(".*tmp*"))


def test_reading_a_file_that_is_not_an_event_log_says_so(tmp_path):
    import pyarrow as pa

    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), other)
    with pytest.raises(EventLogError, match="not an orgscale event log"):
        read_events(other)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(EventLogError, match="not a Parquet event log"):
        read_events(junk)


def test_every_pattern_is_documented():
    for name, fn in PATTERNS.items():
        assert fn.__doc__ and len(fn.__doc__.split()) >= 8, name
