"""The ``orgscale`` program: usage errors in one line, quiet ends for a closed pipe and
Ctrl-C, and misspelled names answered with the close one rather than a list of all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sweeps.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep"], "orgscale sweep: error: the following arguments are required: SPEC"),
        (["run", "--seed", "-1"], "argument --seed: '-1' is invalid: expected an integer >= 0"),
        (["run", "--seed", "x"], "argument --seed: 'x' is invalid: expected an integer >= 0"),
        (["fit", "results/paper", "--seed", "-2"], "'-2' is invalid: expected an integer >= 0"),
        (["sweep", "s.toml", "--backend", "spark"], "argument --backend: invalid choice"),
        (["nonsense"], "orgscale: error: argument COMMAND: invalid choice"),
    ],
)
def test_a_usage_error_is_one_line_with_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert message in line and line.endswith("--help)")


def test_a_reader_that_stops_early_ends_run_quietly():
    command = [sys.executable, "-m", "sweeps.cli", "run", "--days", "90", "--n-teams", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` that has read what it wanted before run writes
    _, stderr = proc.communicate(timeout=120)
    assert stderr.decode() == ""
    assert proc.returncode == 141  # as a program killed by SIGPIPE


def test_fit_names_the_close_column_not_every_column(capsys):
    assert main(["fit", str(ROOT / "results" / "paper"), "--metric", "integraton_cost"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "unknown column 'integraton_cost' (did you mean 'integration_cost'?)" in line
    assert "lead_time_mean" not in line


def test_sensitivity_names_the_close_metric_not_every_metric(tmp_path, capsys):
    spec = ROOT / "sweeps" / "specs" / "sensitivity.toml"
    argv = ["sensitivity", str(spec), "--metric", "throughpt", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "unknown metric 'throughpt' (did you mean 'throughput'?)" in line
    assert "lead_time_mean" not in line
    assert not (tmp_path / "o").exists()
