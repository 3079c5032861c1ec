"""Validation: a table of observed vs simulated per pattern for each preset; exit 0 always,
1 with --check when an in-sample pattern misses, 2 for bad input."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from model.presets import load_preset, parse_preset, preset_names
from sweeps.cli import main
from sweeps.validate import format_table, missed_in_sample, simulate, validation_table

SHORT = {"warmup_days": 10.0}  # 25 measured days: a short run
SHIPPED = preset_names()

TINY = textwrap.dedent(
    """
    name = "tiny"
    description = "a small single core"
    days = 80
    [config]
    topology = "single_core"
    staffing = "fixed_core"
    n_teams = 3
    contributors_per_team = 4
    core_reviewers = 3
    change_rate = 0.2
    warmup_days = 20
    [[pattern]]
    metric = "submitted_per_day"
    observed = 2.4
    tolerance = { rel = 0.2 }
    in_sample = true
    source = { ref = "3 areas × 4 contributors × 0.2 a day", date = "-", counted = "-" }
    [[pattern]]
    metric = "n_reviewers"
    observed = 99
    tolerance = { abs = 1 }
    in_sample = false
    why = "a pattern the configuration cannot reproduce"
    source = { ref = "made up", date = "-", counted = "-" }
    """
)


@pytest.mark.parametrize("name", SHIPPED)
def test_validation_table_has_a_row_per_pattern_for_each_preset(name):
    preset = load_preset(name)
    # a trajectory's periods fix its run length; other presets run 25 measured days
    days = None if preset.trajectory is not None else 35.0
    table = validation_table(preset, seeds=2, days=days, overrides=SHORT)
    assert list(table["pattern"]) == [p.id for p in preset.patterns]
    roles = set(table["role"])
    assert roles == {p.role_label for p in preset.patterns}
    assert "in-sample" in roles and roles & {"held-out", "held-out (in time)"}
    finite = table.dropna(subset=["sim_median"])
    assert (finite["sim_p05"] <= finite["sim_median"]).all()
    assert (finite["sim_median"] <= finite["sim_p95"]).all()
    assert (table["sim_nan"] < 2).sum() >= len(table) - 1  # at most one pattern unmeasured
    assert all(p.id in format_table(table) for p in preset.patterns)


def test_reproduced_means_the_median_is_within_tolerance(tmp_path):
    preset = parse_preset(TINY, source="tiny.toml")
    table = validation_table(preset, seeds=3).set_index("pattern")
    assert table.loc["submitted_per_day", "reproduced"]
    assert table.loc["n_reviewers", "sim_median"] == 3
    assert not table.loc["n_reviewers", "reproduced"]
    assert missed_in_sample(table.reset_index()) == []


def test_simulate_gives_the_same_runs_for_any_job_count():
    preset = parse_preset(TINY, source="tiny.toml")
    one = simulate(preset, seeds=3, jobs=1)
    two = simulate(preset, seeds=3, jobs=2)
    assert one.equals(two)
    assert one["seed"].nunique() == 3


def test_validate_exits_0_and_with_check_1_when_an_in_sample_pattern_misses(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    assert main(["validate", "--preset", str(path), "--seeds", "2", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "submitted_per_day" in out and "held-out" in out and "within tolerance" in out
    argv = ["validate", "--preset", str(path), "--seeds", "2", "--quiet", "--check"]
    assert main(argv) == 0
    miss = tmp_path / "miss.toml"
    miss.write_text(TINY.replace("observed = 2.4", "observed = 24"))
    assert main(["validate", "--preset", str(miss), "--seeds", "2", "--quiet"]) == 0
    assert main(["validate", "--preset", str(miss), "--seeds", "2", "--quiet", "--check"]) == 1
    assert "in-sample patterns missed: tiny/submitted_per_day" in capsys.readouterr().out


def test_validate_writes_the_table_as_csv(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    csv = tmp_path / "table.csv"
    assert (
        main(["validate", "--preset", str(path), "--seeds", "2", "--quiet", "--csv", str(csv)]) == 0
    )
    assert "sim_median" in csv.read_text().splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "colour=red"], "--set: unknown parameter 'colour'"),
        (["--days", "10"], "--days=10 is invalid: must exceed warmup_days=20"),
    ],
)
def test_bad_input_gives_one_line_and_exit_2(tmp_path, capsys, argv, message):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    assert main(["validate", "--preset", str(path), "--quiet", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_ctrl_c_stops_validate_with_two_jobs_with_exit_130():
    command = [sys.executable, "-m", "sweeps.cli", "validate", "--preset", "nova-2013"]
    command += ["--seeds", "2", "--jobs", "2", "--days", "100000", "--quiet"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(children(proc.pid)) < 2:  # both workers forked and running
            assert proc.poll() is None and time.monotonic() < deadline, "no workers started"
            time.sleep(0.05)
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert stderr.strip().splitlines()[-1] == "orgscale validate: interrupted"


@pytest.mark.parametrize("where", ["under-a-file", "a-folder"])
def test_an_unwritable_csv_is_refused_before_any_run(tmp_path, capsys, monkeypatch, where):
    import sweeps.commands.validate as command

    def no_runs(*args, **kwargs):
        raise AssertionError("ran the model before checking --csv")

    monkeypatch.setattr(command, "validation_table", no_runs)
    (tmp_path / "file").write_text("")
    csv = tmp_path / "file" / "out.csv" if where == "under-a-file" else tmp_path
    assert main(["validate", "--preset", "nova-2013", "--seeds", "1", "--csv", str(csv)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"orgscale validate: error: --csv {csv}: ")


def test_a_trajectory_is_validated_period_by_period_and_the_later_periods_are_held_out_in_time():
    from pathlib import Path

    preset = load_preset(Path(__file__).parent / "data" / "trajectory-synthetic.toml")
    table = validation_table(preset, seeds=2).set_index("pattern")
    assert list(table.index) == [p.id for p in preset.patterns]
    assert table.loc["merged_per_day@2012-01-01", "role"] == "in-sample"
    assert table.loc["merged_per_day@2012-04-01", "role"] == "held-out (in time)"
    assert table["sim_median"].notna().all()
    assert (
        table.loc["merged_per_day@2012-01-01", "sim_median"]
        != table.loc["merged_per_day@2012-02-01", "sim_median"]
    )
