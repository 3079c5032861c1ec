"""``orgscale run``: prints metrics as a table or JSON; bad input exits 2 with one line."""

import json
import subprocess
import sys

import pytest

from sweeps.cli import main


def test_run_prints_every_metric_as_json(capsys):
    assert main(["run", "--n-teams", "4", "--days", "120", "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["links"] == 5  # top - drivers-core - 4 drivers
    assert out["throughput"] > 0


def test_run_prints_a_table_with_units(capsys):
    assert main(["run", "--topology", "flat", "--n-teams", "3", "--days", "100"]) == 0
    out = capsys.readouterr().out
    assert "flat, n_teams=3" in out
    assert "integration_cost" in out and "Person-days per day" in out


def test_set_overrides_parameters_with_typed_values(capsys):
    args = ["run", "--topology", "flat", "--n-teams", "6", "--days", "200", "--json"]
    assert main([*args, "--set", "ci_automation=true", "--set", "conflict_prob=0.01"]) == 0
    with_ci = json.loads(capsys.readouterr().out)
    assert with_ci["conflicts_caught_early"] > 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--set", "colour=red"], "--set: unknown parameter 'colour'; python -c 'import model"),
        (
            ["--set", "chnage_rate=1"],
            "unknown parameter 'chnage_rate' (did you mean 'change_rate'?)",
        ),
        (["--set", "rework_prob=1.2"], "rework_prob=1.2 is out of range"),
        (["--set", "change_rate=-1"], "change_rate=-1.0 is out of range"),
        (
            ["--set", "ci_automation=maybe"],
            "ci_automation='maybe' is invalid: must be true or false",
        ),
        (["--topology", "ring"], "topology='ring' is invalid: must be one of"),
        (["--topology", "hierarchcal"], "'modular' (did you mean 'hierarchical'?)"),
        (["--set", "review_time_dist=lognormall"], "(did you mean 'lognormal'?)"),
        (["--n-teams", "0"], "n_teams=0 is out of range: must be an integer in [1,"),
        (["--days", "30"], "--days=30 is invalid: must exceed warmup_days=60"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_parameter(argv, message, capsys):
    assert main(["run", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


def test_console_script_runs_end_to_end():
    result = subprocess.run(
        [sys.executable, "-m", "sweeps.cli", "run", "--n-teams", "2", "--days", "90", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "lead_time_mean" in json.loads(result.stdout)


def test_console_script_exits_with_the_commands_status():
    result = subprocess.run(
        [sys.executable, "-m", "sweeps.cli", "run", "--days", "30"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--days=30 is invalid" in result.stderr
