"""The benchmark scripts run end to end on tiny inputs and print their verdicts.

They measure, so they exit 0 whatever the verdict; these tests only check that each one
runs, prints its table and a PASS/FAIL line against its target.
"""

from __future__ import annotations

import json
import os
import re
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


@pytest.mark.slow
def test_bench_calibrate_distance_compares_the_two_distances_on_the_same_data():
    out = run_script(
        "bench_calibrate_distance.py",
        *("--replicates", "1", "--population", "8", "--generations", "1", "--ppc-draws", "4"),
    )
    assert "| tolerance | 0 |" in out and "| adaptive | 0 |" in out
    assert "adaptive / tolerance mean 90% interval width" in out
    assert "PASS" in out or "FAIL" in out


@pytest.mark.slow
def test_bench_sbc_prints_a_coverage_per_parameter():
    out = run_script(
        "bench_sbc.py", *("--replicates", "2", "--population", "8", "--generations", "1")
    )
    for name in ("change_rate", "review_rate", "rework_prob", "patience_days", "check_fail_prob"):
        assert f"| {name} |" in out
    assert "90% interval coverage" in out and ("PASS" in out or "FAIL" in out)


def test_a_perfect_split_halves_the_runs_and_keeps_the_rest_of_the_call(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_sweep import perfect_split_inside

    # 1 s of bookkeeping around 6 s of runs: 1 + 6 / 2
    assert perfect_split_inside(7.0, [1.0] * 6) == pytest.approx(4.0)
    # no schedule finishes before its longest run: 1 + max(6 / 2, 4)
    assert perfect_split_inside(7.0, [4.0, 1.0, 1.0]) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="ran no runs"):
        perfect_split_inside(1.0, [])


def test_cost_per_run_is_the_call_beyond_each_process_share_of_the_model_work(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_overhead import cost_per_run_ms

    # 2 processes, 10 s of model work: 6 s of a 11 s call is not the model's; over 1,000 runs
    assert cost_per_run_ms(11.0, 10.0, 2, 1000) == pytest.approx(6.0)
    assert cost_per_run_ms(11.0, 10.0, 1, 1000) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="must both be >= 1"):
        cost_per_run_ms(1.0, 1.0, 0, 10)


def test_a_cost_splits_into_start_up_and_a_part_per_run(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_overhead import fixed_and_per_run

    # 2 s of start-up and 0.3 ms a run: 0.7 ms a run over 5,000 runs, 0.4 over 20,000
    fixed_s, per_run_ms = fixed_and_per_run({20000: 0.4, 5000: 0.7, 10000: 123.0})
    assert fixed_s == pytest.approx(2.0)
    assert per_run_ms == pytest.approx(0.3)
    with pytest.raises(ValueError, match="two sweep sizes"):
        fixed_and_per_run({5000: 0.7})


ORPHANS = """\
import json, resource, subprocess, sys, time
from common import adopt_orphans, reap_orphans

burn = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.5: pass"
leave_a_grandchild = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {burn!r}])"
adopted = adopt_orphans()
before = resource.getrusage(resource.RUSAGE_CHILDREN)
subprocess.run([sys.executable, "-c", leave_a_grandchild], check=True)  # exits at once
reaped = reap_orphans()
after = resource.getrusage(resource.RUSAGE_CHILDREN)
sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
gave_up = not reap_orphans(timeout_s=0.3)
sleeper.kill()
sleeper.wait()
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"adopted": adopted, "reaped": reaped, "cpu": cpu, "gave_up": gave_up}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a subreaper is Linux's")
def test_a_candidates_orphans_are_adopted_and_their_cpu_counted():
    # The grandchild outlives its parent and burns 0.5 s of CPU: without adoption it would
    # go to init and its CPU time would count as "other processes".
    done = subprocess.run(
        [sys.executable, "-c", ORPHANS],
        capture_output=True,
        text=True,
        cwd=BENCHMARKS,
        env={**os.environ, "PYTHONPATH": str(BENCHMARKS)},
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["adopted"] and report["reaped"]
    assert report["cpu"] >= 0.45
    assert report["gave_up"]  # a child still running at the timeout is reported


def test_memory_growth_compares_the_largest_sweep_with_the_smallest(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_overhead import memory_growth

    assert memory_growth({20000: 240.0, 1000: 200.0, 5000: 210.0}) == pytest.approx(1.2)
    with pytest.raises(ValueError, match="two sweep sizes"):
        memory_growth({1000: 200.0})


def test_bench_overhead_spec_has_the_runs_asked_for(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from bench_overhead import write_spec

    from sweeps import plan_sweep

    spec = tmp_path / "overhead.toml"
    assert write_spec(spec, 5000) == 5000
    assert len(plan_sweep(spec, out=tmp_path / "out").tasks) == 5000


@pytest.mark.slow
def test_bench_overhead_prints_a_cost_per_backend_and_a_memory_verdict():
    out = run_script(
        "bench_overhead.py", "--runs", "8,40", "--repeats", "1", "--memory-runs", "8,40"
    )
    for backend in ("loky", "sequential", "dask LocalCluster"):
        # a verdict line at each of the two sizes, and a row of the fixed / per-run split
        assert sum(line.startswith(f"run_sweep, {backend}") for line in out.splitlines()) == 2
        rows = [line for line in out.splitlines() if re.match(rf"\|\s*run_sweep, {backend}", line)]
        assert len(rows) == 3
    assert "cost split into a fixed part and a part per run (sweeps of 8 and 40)" in out
    assert "mesa.batch_run, 2 processes" in out
    assert "peak at 40 runs ÷ peak at 8 runs" in out


def test_bench_stop_compares_the_paper_runs_with_and_without_the_bound():
    out = run_script("bench_stop.py", "--max-n", "2")
    assert "CPU s (bound)" in out and "estimated sweep" in out
    assert "PASS" in out or "FAIL" in out
