"""``orgscale run --events`` and ``orgscale observe`` on a model run's event log."""

from __future__ import annotations

import json
import tomllib

import pytest

from sweeps.cli import main


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "events.parquet"
    run = ["run", "--topology", "hierarchical", "--n-teams", "8", "--days", "150", "--json"]
    status = main([*run, "--events", str(path)])
    assert status == 0
    return path


def test_observe_json_gives_the_runs_throughput_and_median_lead(events, capsys):
    capsys.readouterr()
    assert (
        main(["run", "--topology", "hierarchical", "--n-teams", "8", "--days", "150", "--json"])
        == 0
    )
    metrics = json.loads(capsys.readouterr().out)
    assert main(["observe", str(events), "--json"]) == 0
    observed = json.loads(capsys.readouterr().out)
    assert observed["workflow"] == "model"
    assert observed["merged_per_day"] == metrics["throughput"]
    assert observed["lead_time_p50"] == metrics["lead_time_p50"]
    assert observed["tree_depth"] == 2.0
    for key in ("changes", "authors", "lead_time_p25", "lead_time_p75", "lead_time_p90"):
        assert observed[key] is not None


def test_observe_out_writes_toml_with_areas_and_the_command(events, tmp_path, capsys):
    out = tmp_path / "patterns.toml"
    assert main(["observe", str(events), "--since", "60", "--until", "120", "--out", str(out)]) == 0
    data = tomllib.loads(out.read_text())
    assert data["window"]["days"] == 60.0
    assert data["source"]["command"].startswith("orgscale observe events.parquet --since 60")
    assert {row["area"] for row in data["areas"]} >= {str(a) for a in range(8)}
    assert "merged_per_day" in data


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "2013-01-01"], "measured in days"),
        (["--since", "100", "--until", "50"], "window is empty"),
        (["--since", "149.9", "--until", "150"], "no change landed"),
        (["--areas-depth", "0"], "--areas-depth 0"),
        (["--out", "/nonexistent/dir/p.toml"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2_nothing_written(events, tmp_path, capsys, args, message):
    out = tmp_path / "p.toml"
    extra = [] if "--out" in args else ["--out", str(out)]
    assert main(["observe", str(events), *args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_observe_missing_file(tmp_path, capsys):
    assert main(["observe", str(tmp_path / "none.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_every_splits_the_window_into_periods_that_add_up(events, capsys):
    capsys.readouterr()
    assert main(["observe", str(events), "--every", "month", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    periods = summary["periods"]
    assert [p["window"]["days"] for p in periods] == [30.0, 30.0, 30.0]  # days 60-150
    assert sum(p["changes"] for p in periods) == summary["changes"]
    assert all(p["lead_time_p50"] is not None for p in periods)
    assert "areas" not in periods[0]
