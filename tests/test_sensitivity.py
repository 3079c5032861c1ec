"""``orgscale sensitivity``: Sobol and Morris indices through the ordinary sweep runner."""

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
    # review_time_sigma only matters for lognormal reviews; the default is exponential
    path = write_spec(tmp_path, "sobol", 8, "second_order = false")
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
    parts = sorted(p.name for p in out.rglob("*.parquet"))
    assert main(args) == 0
    assert sorted(p.name for p in out.rglob("*.parquet")) == parts


@pytest.mark.parametrize(
    ("method", "extra", "metric", "message"),
    [
        ("lhs", "", "throughput", "sample.method: expected 'sobol' or 'morris'"),
        ("sobol", "", "happiness", "--metric happiness: unknown metric"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, method, extra, metric, message):
    path = write_spec(tmp_path, method, 4, extra)
    out = tmp_path / "never"
    assert main(["sensitivity", str(path), "--metric", metric, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
