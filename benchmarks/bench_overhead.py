"""The runner's cost per run, and the sweep process's peak memory as sweeps grow.

**Cost per run.** 5,000 very short runs (``single_core`` and ``flat`` × N ∈ {1, 2} × 1,250
replicates, 2 simulated days, ~1 ms of model work each) are run four ways, each in a fresh
process, best of ``--repeats`` interleaved rounds:

* ``run_sweep(backend="loky", jobs=2)``
* ``run_sweep(backend="sequential")``
* ``run_sweep(backend="dask", jobs=2)`` (a ``LocalCluster`` of 2 single-threaded workers,
  started and closed inside the call)
* ``mesa.batch_run(..., number_processes=2)`` on the same points and seeds (the thin
  ``BatchRunOrgModel`` of ``bench_sweep.py``).

The model's own work is measured in the same run: the sequential sweep times every run
(its ``wall_s`` column), in one process without contention, and their sum is W. A
candidate with p processes and a call of T seconds costs (T − W/p) / n per run beyond the
model's work: pool start-up, dispatch, results handling, writing (see
:func:`cost_per_run_ms`). Targets: each runner backend below ``batch_run``'s cost per run,
and under 5 ms a run. With two sizes or more (``--runs 5000,20000``) each candidate's cost
is also split into a fixed part in seconds (start-up: pools, clusters, imports) and a part
per run in ms (dispatch, results, writing), from the smallest and largest sweeps
(:func:`fixed_and_per_run`); the verdict is given at each size.

**Peak memory.** ``run_sweep(backend="loky", jobs=2)`` on the same kind of runs at 1,000 and
20,000 runs (``--memory-runs``), each in a fresh process that reports its own peak resident
set (``ru_maxrss`` of the sweep process, not its workers) and the resident set just before
the call. Target: the peak at 20,000 runs within 20% of the peak at 1,000. Like
``orgscale sweep``, which asks for the columns it reports, each candidate has ``run_sweep``
return only the columns it uses (``status`` and ``wall_s``).

The machine may be shared: each candidate's line says how many cores other processes used
meanwhile (``/proc/stat``; the script adopts each candidate's orphaned descendants, such as
Dask's forkserver and the workers it forked, so their CPU time counts as the candidate's);
``--wait-idle S`` waits up to S seconds for two free cores before each. Writes only to a
temporary folder. Usage:
``python benchmarks/bench_overhead.py [--runs 5000[,20000]] [--repeats 2] [--wait-idle 120]
[--memory-runs 1000,20000]``
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    adopt_orphans,
    available_cores,
    busy_cpu_seconds,
    load_average,
    machine,
    reap_orphans,
    table,
    verdict,
)

TARGET_COST_MS = 5.0
TARGET_MEMORY_GROWTH = 1.2  # peak at the largest sweep ÷ peak at the smallest
TOPOLOGIES = ("single_core", "flat")
N_VALUES = (1, 2)
DAYS = 2.0
ROOT_SEED = 20140911
CANDIDATES = {
    "loky": ("run_sweep, loky, 2 jobs", 2),
    "sequential": ("run_sweep, sequential", 1),
    "dask": ("run_sweep, dask LocalCluster, 2 workers", 2),
    "batch_run": ("mesa.batch_run, 2 processes", 2),
}


def write_spec(path: Path, n_runs: int) -> int:
    """A spec of about ``n_runs`` very short runs; returns its exact number of runs."""
    points = len(TOPOLOGIES) * len(N_VALUES)
    replicates = max(1, round(n_runs / points))
    path.write_text(
        "# bench_overhead.py: very short runs\n"
        'name = "bench_overhead"\n'
        f"root_seed = {ROOT_SEED}\n"
        f"replicates = {replicates}\n"
        f"days = {DAYS!r}\n\n"
        "[fixed]\n"
        "warmup_days = 0.0\n\n"
        "[grid]\n"
        f"topology = {json.dumps(list(TOPOLOGIES))}\n"
        f"n_teams = {json.dumps(list(N_VALUES))}\n",
        encoding="utf-8",
    )
    return points * replicates


def cost_per_run_ms(call_s: float, model_s: float, processes: int, n_runs: int) -> float:
    """What a candidate spends per run beyond the model's own work, in milliseconds.

    Parameters
    ----------
    call_s
        Seconds of the candidate's call (the sweep or ``batch_run``), pool start-up
        included.
    model_s
        Seconds of model work for all the runs, measured one after another in one process.
    processes
        Processes the candidate runs the model in; its share of the model work is
        ``model_s / processes``, as if the runs split perfectly over them.
    n_runs
        Runs in the sweep.

    Returns
    -------
    float
        ``(call_s − model_s / processes) / n_runs × 1000``, in ms per run.
    """
    if n_runs < 1 or processes < 1:
        raise ValueError(f"n_runs={n_runs} and processes={processes} must both be >= 1")
    return (call_s - model_s / processes) / n_runs * 1000.0


def fixed_and_per_run(costs_ms: dict[int, float]) -> tuple[float, float]:
    """A candidate's cost split into a fixed part (s) and a part per run (ms), from its cost
    per run at two sweep sizes (the smallest and the largest of ``costs_ms``).

    The cost of a sweep of n runs is taken to be ``fixed + n × per_run``; two sizes give
    both: ``per_run = (c₂n₂ − c₁n₁) / (n₂ − n₁)`` and ``fixed = c₁n₁ − per_run × n₁``.
    Start-up (pools, clusters, imports) is fixed; dispatch, results and writing are per run.
    """
    if len(costs_ms) < 2:
        raise ValueError(f"need costs at two sweep sizes at least, got {sorted(costs_ms)}")
    n1, n2 = min(costs_ms), max(costs_ms)
    total1, total2 = costs_ms[n1] * n1, costs_ms[n2] * n2  # ms
    per_run = (total2 - total1) / (n2 - n1)
    return (total1 - per_run * n1) / 1000.0, per_run


def memory_growth(peaks_mb: dict[int, float]) -> float:
    """Peak memory of the largest sweep ÷ that of the smallest (1.0: flat)."""
    if len(peaks_mb) < 2:
        raise ValueError(f"need peaks at two sweep sizes at least, got {sorted(peaks_mb)}")
    return peaks_mb[max(peaks_mb)] / peaks_mb[min(peaks_mb)]


# ---------------------------------------------------------------------- workers
def worker(kind: str, spec_path: str, out: str) -> dict[str, float]:
    """Run one candidate in this (fresh) process; return its timings and memory."""
    from bench_sweep import batch_run_worker

    from sweeps import run_sweep

    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # after imports
    if kind == "batch_run":
        call_s = batch_run_worker(spec_path, 2, out + ".csv")
        model_s = math.nan
    else:
        backend, jobs = (kind, 2) if kind in ("loky", "dask") else ("sequential", None)
        started = time.perf_counter()
        # the columns it needs, as `orgscale sweep` reads only those it reports
        table_ = run_sweep(
            spec_path,
            out=out,
            backend=backend,
            jobs=jobs,
            quiet=True,
            columns=["status", "wall_s"],
        )
        call_s = time.perf_counter() - started
        if (table_["status"] != "ok").any():
            raise RuntimeError(f"{kind}: {(table_['status'] != 'ok').sum()} runs failed")
        model_s = float(table_["wall_s"].sum())
    return {
        "call_s": call_s,
        "model_s": model_s,
        "rss_before_mb": rss_before_mb,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_candidate(kind: str, spec: Path, out: Path) -> dict[str, float]:
    """Run candidate ``kind`` in a fresh process; add the cores others used meanwhile."""
    cmd = [sys.executable, __file__, "--worker", kind, str(spec), str(out)]
    busy_before = busy_cpu_seconds()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if not reap_orphans():  # the candidate's forkserver and its workers (adopt_orphans)
        print(f"WARNING: {kind} left processes running after 10 s", file=sys.stderr)
    wall = time.perf_counter() - started  # the same window as the machine's busy time
    busy_after = busy_cpu_seconds()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"candidate {kind} failed ({proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result["others"] = max(busy_after - busy_before - cpu, 0.0) / wall
    return result


def wait_for_cores(max_wait_s: float, wanted: float = 1.9) -> None:
    deadline = time.monotonic() + max_wait_s
    while available_cores() < wanted and time.monotonic() < deadline:
        time.sleep(2.0)


def measure_cost(work: Path, n_wanted: int, repeats: int, wait_idle: float) -> dict[str, float]:
    """Time every candidate on about ``n_wanted`` runs; print the table and verdicts; return
    each candidate's cost per run (ms)."""
    spec = work / f"overhead{n_wanted}.toml"
    n_runs = write_spec(spec, n_wanted)
    print(f"cost per run: {n_runs} runs of {DAYS:g} days ({', '.join(TOPOLOGIES)} × N {N_VALUES})")
    best: dict[str, dict[str, float]] = {}
    for rep in range(repeats):
        for kind in CANDIDATES:
            wait_for_cores(wait_idle)
            result = run_candidate(kind, spec, work / f"{kind}{n_runs}-{rep}")
            if kind not in best or result["call_s"] < best[kind]["call_s"]:
                best[kind] = result
            print(
                f"  [{rep + 1}/{repeats}] {CANDIDATES[kind][0]}: {result['call_s']:.2f} s "
                f"(other processes used {result['others']:.2f} cores meanwhile)",
                file=sys.stderr,
                flush=True,
            )
    model_s = best["sequential"]["model_s"]
    costs = {
        kind: cost_per_run_ms(best[kind]["call_s"], model_s, CANDIDATES[kind][1], n_runs)
        for kind in CANDIDATES
    }
    rows = [
        (
            CANDIDATES[kind][0],
            CANDIDATES[kind][1],
            best[kind]["call_s"],
            best[kind]["call_s"] / n_runs * 1000,
            costs[kind],
            round(best[kind]["others"], 2),
        )
        for kind in CANDIDATES
    ]
    print()
    print(table(["candidate", "processes", "call s", "ms/run", "cost ms/run", "others"], rows))
    print()
    print(
        f"model work W: {model_s:.2f} s for {n_runs} runs ({model_s / n_runs * 1000:.3f} ms a "
        "run, the sequential sweep's wall_s column); cost ms/run = (call s − W/processes) / runs"
    )
    batch = costs["batch_run"]
    for kind in ("loky", "sequential", "dask"):
        ok = costs[kind] < batch and costs[kind] < TARGET_COST_MS
        print(
            f"{CANDIDATES[kind][0]}: {costs[kind]:.3f} ms a run (batch_run {batch:.3f}; target "
            f"below batch_run's and < {TARGET_COST_MS:g}) {'PASS' if ok else 'FAIL'}"
        )
    disturbed = max(b["others"] for b in best.values())
    if disturbed > 0.2:
        print(f"WARNING: other processes used up to {disturbed:.2f} cores in the rounds kept")
    return {"n_runs": n_runs, **costs}


def print_split(costs: list[dict[str, float]]) -> None:
    """Each candidate's fixed cost and cost per run, from the smallest and largest sweeps."""
    rows = []
    for kind in CANDIDATES:
        fixed_s, per_run_ms = fixed_and_per_run({c["n_runs"]: c[kind] for c in costs})
        rows.append((CANDIDATES[kind][0], fixed_s, per_run_ms))
    sizes = sorted(int(c["n_runs"]) for c in costs)
    print()
    print(f"cost split into a fixed part and a part per run (sweeps of {sizes[0]} and {sizes[-1]})")
    print(table(["candidate", "fixed s", "per run ms"], rows))


def measure_memory(work: Path, sizes: list[int], wait_idle: float) -> None:
    rows, peaks = [], {}
    for size in sizes:
        spec = work / f"memory{size}.toml"
        n_runs = write_spec(spec, size)
        wait_for_cores(wait_idle)
        result = run_candidate("loky", spec, work / f"memory{size}")
        peaks[n_runs] = result["peak_mb"]
        rows.append(
            (
                n_runs,
                result["call_s"],
                result["rss_before_mb"],
                result["peak_mb"],
                result["peak_mb"] - result["rss_before_mb"],
                round(result["others"], 2),
            )
        )
        print(f"  memory: {n_runs} runs done", file=sys.stderr, flush=True)
    print()
    print("peak memory of the sweep process (run_sweep, loky, 2 jobs; workers not counted)")
    print(
        table(
            ["runs", "call s", "RSS before MB", "peak RSS MB", "growth in call MB", "others"],
            rows,
        )
    )
    growth = memory_growth(peaks)
    print()
    print(
        f"peak at {max(peaks)} runs ÷ peak at {min(peaks)} runs: {growth:.2f} "
        f"(target ≤ {TARGET_MEMORY_GROWTH:g}) {verdict(growth, TARGET_MEMORY_GROWTH, at_most=True)}"
    )


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, spec_path, out = sys.argv[2:5]
        print(json.dumps(worker(kind, spec_path, out)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs",
        default="5000",
        help="comma-separated sweep sizes for the cost, '' to skip; with two or more, each "
        "candidate's cost is also split into a fixed part and a part per run (default 5000)",
    )
    parser.add_argument("--repeats", type=int, default=2, help="timed rounds (default 2)")
    parser.add_argument(
        "--memory-runs",
        default="1000,20000",
        help="comma-separated sweep sizes for the peak memory, '' to skip (default 1000,20000)",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="wait up to S seconds for 2 free cores before each candidate (default 0)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.memory_runs.split(",") if s.strip()]
    cost_sizes = [int(s) for s in args.runs.split(",") if s.strip()]
    adopt_orphans()
    print(f"machine: {machine()}; load average {load_average()}")
    work = Path(tempfile.mkdtemp(prefix="bench_overhead-"))
    try:
        costs = [measure_cost(work, n, args.repeats, args.wait_idle) for n in cost_sizes]
        if len(costs) >= 2:
            print_split(costs)
        if sizes:
            measure_memory(work, sizes, args.wait_idle)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
