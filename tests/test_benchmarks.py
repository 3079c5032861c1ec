"""The benchmark scripts run end to end on tiny inputs and print their verdicts.

They measure, so they exit 0 whatever the verdict; these tests only check that each one
runs, prints its table and a PASS/FAIL line against its target.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_script(name: str, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bench_queue_counts_events_and_matches_erlang_c_roughly():
    out = run_script("bench_queue.py", "--days", "2000", "--repeats", "1")
    assert "orgscale / heapq time per event" in out
    assert "PASS" in out or "FAIL" in out
    rows = [line for line in out.splitlines() if line.startswith("|") and "candidate" not in line]
    waits = {
        cells[0]: float(cells[-1])
        for cells in (
            [c.strip() for c in line.strip("|").split("|")] for line in rows if "---" not in line
        )
    }
    assert set(waits) == {"heapq", "mesa", "orgscale"}
    for ratio in waits.values():  # mean wait ÷ Erlang C, 2,000 days at rho = 0.8
        assert ratio == pytest.approx(1.0, abs=0.35)


def test_bench_model_prints_a_ratio_per_topology():
    out = run_script(
        "bench_model.py",
        "--max-n",
        "64",
        "--days",
        "30",
        "--repeats",
        "1",
        "--topologies",
        "hierarchical,flat",
    )
    assert "µs/event" in out
    assert out.count("N=64 ÷ N=16") == 1
    assert (
        sum(line.strip().startswith(("hierarchical:", "flat:")) for line in out.splitlines()) == 2
    )


@pytest.mark.slow
def test_bench_sweep_gives_batch_run_the_same_runs_and_resumes(tmp_path):
    out = run_script(
        "bench_sweep.py",
        "--days",
        "70",
        "--repeats",
        "1",
        "--topologies",
        "single_core",
        "--keep",
        str(tmp_path),
    )
    assert "same metrics in all 12 runs" in out
    assert "ran 0 of 12 runs (skipped 12)" in out
    assert "(b) speed-up over (a)" in out
    assert "ideal (b), (a)'s start-up plus its runs split perfectly" in out


def test_the_two_job_bound_halves_only_the_sweep_call(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_sweep import ideal_two_job_wall

    # 1 s of start-up and exit, 6 s of runs: 1 + 6 / 2
    assert ideal_two_job_wall({"wall_s": 7.0, "inner_s": 6.0}) == pytest.approx(4.0)


def test_bench_calibrate_compares_smc_with_rejection_at_equal_cost():
    out = run_script("bench_calibrate.py", "--population", "10", "--generations", "2")
    assert "| ABC-SMC |" in out and "| rejection (Sobol) |" in out
    assert "ABC-SMC / rejection 90% interval width at equal cost" in out
    assert "PASS" in out or "FAIL" in out
