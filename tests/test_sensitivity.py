"""``orgscale sensitivity``: Sobol and Morris indices through the ordinary sweep runner."""

import json

import pandas as pd
import pytest

from sweeps import load_spec, run_sweep
from sweeps.cli import main
from sweeps.sensitivity import analyse

SPEC = """
name = "sens-test"
root_seed = 3
replicates = 1
days = 80

[fixed]
topology = "single_core"
n_teams = 2
warmup_days = 20

[sample]
method = "{method}"
n = {n}
{extra}

[sample.ranges]
change_rate = [0.05, 0.2]
review_time_sigma = [0.5, 2.0]
"""


def write_spec(tmp_path, method, n, extra=""):
    path = tmp_path / f"{method}.toml"
    path.write_text(SPEC.format(method=method, n=n, extra=extra), encoding="utf-8")
    return path


def test_sobol_indices_are_zero_for_an_ignored_parameter_and_large_for_demand(tmp_path):
    # review_time_sigma only matters for lognormal reviews; the default is exponential.
    # 16 base points: with 8, change_rate's ST ranged 0.47-0.93 over root seeds 3-5
    path = write_spec(tmp_path, "sobol", 16, "second_order = false")
    spec = load_spec(path)
    table = run_sweep(spec, out=tmp_path / "out", backend="sequential", quiet=True)
    (result,) = analyse(spec, table, "throughput")
    indices = result.table.set_index("parameter")
    assert indices.loc["review_time_sigma", "ST"] == 0
    assert indices.loc["review_time_sigma", "S1"] == 0
    assert indices.loc["change_rate", "ST"] > 0.5


def test_morris_effects_through_the_command_line(tmp_path, capsys):
    path = write_spec(tmp_path, "morris", 4)
    out = tmp_path / "morris-out"
    assert main(["sensitivity", str(path), "--metric", "throughput", "--out", str(out),
                 "--backend", "sequential", "--quiet"]) == 0  # fmt: skip
    written = pd.read_csv(out / "sensitivity.csv").set_index("parameter")
    assert written.loc["review_time_sigma", "mu_star"] == 0
    assert written.loc["change_rate", "mu_star"] > 0
    assert "morris indices of throughput" in capsys.readouterr().out


def test_a_second_call_reuses_the_finished_runs(tmp_path):
    path = write_spec(tmp_path, "morris", 2)
    out = tmp_path / "again"
    args = ["sensitivity", str(path), "--out", str(out), "--backend", "sequential", "--quiet"]
    assert main(args) == 0
    first = json.loads((out / "manifest.json").read_text())["counts"]
    assert first["run"] == first["total"] > 0
    parquet = {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")}
    assert main(args) == 0
    again = json.loads((out / "manifest.json").read_text())["counts"]
    assert (again["run"], again["skipped"]) == (0, first["total"])
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.parquet")} == parquet


def test_a_folder_of_another_spec_exits_2_without_a_traceback_and_fresh_moves_it(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["--out", str(out), "--backend", "sequential", "--quiet", "--metric", "throughput"]
    assert main(["sensitivity", str(write_spec(tmp_path, "morris", 2)), *args]) == 0
    changed = write_spec(tmp_path, "morris", 2).read_text().replace("days = 80", "days = 90")
    (tmp_path / "changed.toml").write_text(changed)
    capsys.readouterr()
    assert main(["sensitivity", str(tmp_path / "changed.toml"), *args]) == 2
    err = capsys.readouterr().err
    assert "holds runs of a different spec (changed: days)" in err and "--fresh" in err
    assert "Traceback" not in err
    assert main(["sensitivity", str(tmp_path / "changed.toml"), *args, "--fresh"]) == 0
    assert len(list(tmp_path.glob("out.old-*"))) == 1


def test_ctrl_c_exits_130_without_a_traceback(tmp_path, capsys, monkeypatch):
    from sweeps.commands import sensitivity as command

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(command, "run_sweep", interrupted)
    path = write_spec(tmp_path, "morris", 2)
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; finished runs are saved" in err and "Traceback" not in err


def test_sobol_n_not_a_power_of_two_gives_one_clear_warning_line(tmp_path, capsys):
    path = write_spec(tmp_path, "sobol", 6, "second_order = false")
    args = ["sensitivity", str(path), "--out", str(tmp_path / "o"), "--backend", "sequential"]
    assert main([*args, "--quiet", "--metric", "throughput"]) == 0
    err = capsys.readouterr().err
    assert err == (
        "orgscale sensitivity: warning: sample.n = 6 is not a power of two: Sobol indices "
        "converge as designed only for n = 2^k (e.g. 4 or 8)\n"
    )


@pytest.mark.parametrize(
    ("method", "extra", "metric", "message"),
    [
        ("lhs", "", "throughput", "sample.method: expected 'sobol' or 'morris'"),
        ("sobol", "", "happiness", "--metric: unknown metric 'happiness'"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, method, extra, metric, message):
    path = write_spec(tmp_path, method, 4, extra)
    out = tmp_path / "never"
    assert main(["sensitivity", str(path), "--metric", metric, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_sobol_confidence_intervals_are_the_same_on_every_call(tmp_path):
    """SALib leaves its bootstrap unseeded for a seed of 0; the default seed must not be."""
    import numpy as np

    from sweeps.sensitivity import sample_points, sobol_indices

    spec = load_spec(write_spec(tmp_path, "sobol", 16))
    y = np.random.default_rng(1).standard_normal(len(sample_points(spec.sample)))
    first, second = sobol_indices(spec, y), sobol_indices(spec, y)
    pd.testing.assert_frame_equal(first, second)
    assert (first["S1_conf"] > 0).all()
