"""Sweep throughput: ``orgscale sweep`` with 1 and 2 jobs against ``mesa.batch_run``.

One grid (topologies × N ∈ {4, 16, 64} × 4 replicates, the same days for every run, by
default the paper sweep's 365) is run four ways, each as a fresh process timed from outside
(interpreter start-up and imports included, as a user would wait for it), best of
``--repeats`` interleaved rounds:

* (a) ``orgscale sweep SPEC --jobs 1 --backend loky --out DIR --quiet``
* (b) ``orgscale sweep SPEC --jobs 2 --backend loky --out DIR --quiet`` (Parquet results,
  manifest, resumable)
* (c) ``mesa.batch_run(..., number_processes=2, data_collection_period=-1)`` on the same
  ``OrgModel``, the same parameter points and the same seeds, with end-of-run metrics.
* (d) a reference, not a product: the same runs (``sweeps.runner.execute``) on a bare
  ``fork`` process pool of 2, written to one Parquet file; no manifest, no resume, no
  command line. On Linux (b)'s loky workers are forked too, so (d) shows what the
  command, its bookkeeping and loky cost on top of the runs.

``batch_run`` loops ``while model.running and model.steps < max_steps: model.step()``. For
``OrgModel`` ``step()`` advances one day, but ``model.steps`` only counts Mesa's default
schedule, which the event-driven model stops, so the loop would never end. The thin
subclass :class:`BatchRunOrgModel` counts one step per day and, on the last day, collects
every metric of :data:`model.METRICS` once with a ``DataCollector`` (what ``batch_run``
returns with ``data_collection_period=-1``). Its runs are checked to give the same
metrics as the sweep's, so both do the same work.

Afterwards (b) is run again on its finished folder to show that it resumes (runs nothing).
With ``--paper SPEC`` the paper sweep's wall time on two cores is also estimated: one
replicate of each of its parameter points is timed in this process and scaled to all
replicates (see :func:`estimate_paper`); ``--paper-full SPEC`` runs it with 2 jobs and
times it.

The machine may be shared: for each candidate the CPU that other processes used while it
ran is measured (``/proc/stat`` minus the candidate's own CPU time) and printed, with a
warning when it was large; ``--wait-idle S`` waits up to S seconds for two free cores
before each candidate. A 2-process candidate cannot be faster than the cores it gets.

Targets: (b)'s sweep call ("inside") within 5% of a perfect split of (a)'s runs over two
cores (:func:`perfect_split_inside`); (b) faster than (c) (wall). Writes only to a
temporary folder. Usage:
``python benchmarks/bench_sweep.py [--days 365] [--repeats 3] [--wait-idle 120]
[--paper sweeps/specs/paper.toml] [--paper-full sweeps/specs/paper.toml]``
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

import mesa
import pandas as pd
from common import available_cores, busy_cpu_seconds, load_average, machine, table, verdict

from model import METRICS, OrgModel

TARGET_SPLIT = 1.05  # (b) inside ÷ a perfect split of (a)'s runs, at most
TARGET_VS_BATCH_RUN = 1.0  # (c) wall ÷ (b) wall, more than
TARGET_PAPER_MINUTES = 15.0
TOPOLOGIES = ("single_core", "flat", "hierarchical")
N_VALUES = (4, 16, 64)
REPLICATES = 4
ROOT_SEED = 20140911


class BatchRunOrgModel(OrgModel):
    """``OrgModel`` as ``mesa.batch_run`` drives it: one ``step()`` is one day.

    ``steps`` counts the days (Mesa's default schedule, which would count them, is stopped
    by the event-driven model); at ``days`` the run stops and every registered metric is
    collected once, so ``data_collection_period=-1`` returns the end-of-run metrics.
    """

    def __init__(self, *, days: float, **params) -> None:
        super().__init__(**params)
        self.days = days

    def _wrapped_step(self) -> None:
        self._advance_time(self.time + 1.0)
        self.steps += 1
        if self.time >= self.days:
            self.running = False
            self.datacollector = mesa.DataCollector(model_reporters=dict(METRICS))
            self.datacollector.collect(self)


def write_spec(path: Path, days: float, topologies: tuple[str, ...]) -> None:
    """The benchmark grid as a sweep spec."""
    path.write_text(
        "# bench_sweep.py grid\n"
        'name = "bench_sweep"\n'
        f"root_seed = {ROOT_SEED}\n"
        f"replicates = {REPLICATES}\n"
        f"days = {days!r}\n\n"
        "[grid]\n"
        f"topology = {json.dumps(list(topologies))}\n"
        f"n_teams = {json.dumps(list(N_VALUES))}\n",
        encoding="utf-8",
    )


# ---------------------------------------------------------------------- workers
def batch_run_worker(spec_path: str, processes: int, out: str) -> float:
    """Run the spec's grid with ``mesa.batch_run``; return the call's seconds.

    The rows are written to ``out`` (CSV) after the timing, for the same-runs check.
    """
    from sweeps import plan_sweep

    plan = plan_sweep(spec_path)
    seeds = sorted({(t.replicate, t.seed) for t in plan.tasks})
    topologies = sorted({t.params["topology"] for t in plan.tasks})
    ns = sorted({t.params["n_teams"] for t in plan.tasks})
    started = time.perf_counter()
    rows = mesa.batch_run(
        BatchRunOrgModel,
        parameters={"topology": topologies, "n_teams": ns, "days": plan.spec.days},
        rng=[seed for _, seed in seeds],
        number_processes=processes,
        data_collection_period=-1,
        max_steps=math.ceil(plan.spec.days),
        display_progress=False,
    )
    results = pd.DataFrame(rows)
    call_s = time.perf_counter() - started
    results.to_csv(out, index=False)
    return call_s


def fork_pool_worker(spec_path: str, processes: int, out: str) -> float:
    """Reference: the sweep's runs on a ``fork`` process pool, results to one Parquet file.

    The least a runner could cost: workers that inherit the imported model, and nothing
    but one Parquet file written (Linux only; no manifest, no resume, no fault isolation).
    Returns the seconds from creating the pool to having written the file.
    """
    import multiprocessing

    from sweeps import plan_sweep
    from sweeps.runner import execute, make_row

    plan = plan_sweep(spec_path)
    todo = plan.todo  # largest N first, as the runner dispatches them
    by_id = {t.run_id: t for t in todo}
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        rows = [make_row(by_id[r["run_id"]], r) for r in pool.imap_unordered(execute, todo)]
    pd.DataFrame(rows).to_parquet(out)
    return time.perf_counter() - started


def ideal_two_job_wall(sequential: dict[str, float]) -> float:
    """The wall time of a perfect 2-job sweep, from the 1-job sweep's measurements.

    The process start-up, imports and exit (``outside``) are paid once whatever the job
    count; the sweep call (``inside``) is halved, as if the runs split evenly over two
    cores with no pool start-up, no dispatch and no contention between the cores. No
    runner that pays ``orgscale``'s start-up can beat it, so a target beyond the ratios it
    gives cannot be met on this grid by any change to the runner.
    """
    outside = sequential["wall_s"] - sequential["inner_s"]
    return outside + sequential["inner_s"] / 2


def perfect_split_inside(inside_s: float, run_s: list[float]) -> float:
    """(b)'s sweep call if (a)'s runs were split perfectly over two cores, in seconds.

    Parameters
    ----------
    inside_s
        Seconds of (a)'s sweep call (``manifest.json``'s ``wall_s``).
    run_s
        Seconds of each of (a)'s runs (the ``wall_s`` column of its results).

    Returns
    -------
    float
        (a)'s time outside its runs (plan, manifest, writing), paid once, plus the shortest
        time any 2-core schedule could take for the runs: half their sum, or the longest
        run if that is more. No pool start-up, dispatch or contention between the cores.
    """
    if not run_s:
        raise ValueError("run_s is empty: (a) ran no runs")
    total = sum(run_s)
    return inside_s - total + max(total / 2, max(run_s))


WORKERS = {"c": batch_run_worker, "d": fork_pool_worker}


def run_candidate(name: str, spec: Path, out: Path) -> dict[str, float]:
    """Run candidate ``name`` in a fresh process.

    Returns its wall seconds as seen from here, the seconds of the sweep call inside it,
    the CPU seconds (user + system) of its whole process tree (worker processes are
    joined before it exits, so their time is included) and ``others``, the cores that
    other processes on the machine used meanwhile, on average.
    """
    if name in WORKERS:
        suffix = ".csv" if name == "c" else ".parquet"
        cmd = [sys.executable, __file__, "--worker", name, str(spec), "2", str(out) + suffix]
    else:
        jobs = "1" if name == "a" else "2"
        cmd = [sys.executable, "-m", "sweeps.cli", "sweep", str(spec), "--jobs", jobs]
        cmd += ["--backend", "loky", "--out", str(out), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before = busy_cpu_seconds()
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    busy = busy_cpu_seconds() - busy_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"candidate {name} failed ({proc.returncode}):\n{proc.stderr}")
    if name in WORKERS:
        inner = json.loads(proc.stdout.strip().splitlines()[-1])["call_s"]
    else:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        inner = manifest["counts"]["wall_s"]
    others = max(busy - cpu, 0.0) / wall  # cores used by other processes meanwhile
    result = {"wall_s": wall, "inner_s": inner, "cpu_s": cpu, "others": others}
    if name not in WORKERS:
        from sweeps import load_results

        result["run_s"] = load_results(out)["wall_s"].tolist()
    return result


def same_runs(sweep_out: Path, batch_csv: Path) -> str:
    """Check that batch_run's runs and the sweep's gave the same metrics."""
    from sweeps import load_results

    sweep = load_results(sweep_out)
    batch = pd.read_csv(batch_csv).rename(columns={"rng": "seed"})
    keys = ["topology", "n_teams", "seed"]
    merged = sweep.merge(batch, on=keys, suffixes=("_sweep", "_batch"))
    if len(merged) != len(sweep) or len(sweep) != len(batch):
        return f"FAIL: {len(sweep)} sweep rows, {len(batch)} batch_run rows, {len(merged)} matched"
    worst = 0.0
    for name in METRICS:
        a, b = merged[f"{name}_sweep"].astype(float), merged[f"{name}_batch"].astype(float)
        both_nan = a.isna() & b.isna()
        diff = ((a - b).abs() / b.abs().clip(lower=1e-12))[~both_nan]
        worst = max(worst, float(diff.max()) if len(diff) else 0.0)
    word = "same" if worst < 1e-9 else "DIFFERENT"
    return f"{word} metrics in all {len(merged)} runs (worst relative difference {worst:.1e})"


# ---------------------------------------------------------------------- paper estimate
def estimate_paper(spec_path: str, per_point: int, speedup: float, overhead_s: float) -> None:
    """Estimate a sweep's wall time on this machine with 2 jobs.

    ``per_point`` replicates of every parameter point are run here, one after another (the
    replicates of a point cost about the same) and scaled to all replicates: the serial
    time S. On two free cores the sweep takes about S / 2 plus ``overhead_s``, the 2-job
    pool's start-up measured on the grid; at the speed-up measured on the grid (which
    counts the other work on a shared machine, and the start-up of a small sweep) it
    takes S / ``speedup``.
    """
    from sweeps import plan_sweep, run_one

    plan = plan_sweep(spec_path)
    tasks = plan.tasks
    points: dict[str, list] = {}
    for task in tasks:
        points.setdefault(json.dumps(task.params, sort_keys=True), []).append(task)
    total_s = 0.0
    n_timed = 0
    slowest = (0.0, "")
    for point_tasks in points.values():
        picked = sorted(point_tasks, key=lambda t: t.replicate)[:per_point]
        spent = 0.0
        for task in picked:
            started = time.perf_counter()
            run_one(task.params, task.seed, task.days)
            spent += time.perf_counter() - started
        total_s += spent * len(point_tasks) / len(picked)
        n_timed += len(picked)
        params = picked[0].params
        slowest = max(slowest, (spent / len(picked), f"{params['topology']} N={params['n_teams']}"))
    idle_min = (total_s / 2 + overhead_s) / 60
    print()
    print(
        f"sweep {plan.spec.name}: {len(tasks)} runs of {plan.spec.days:g} days at "
        f"{len(points)} points; {n_timed} runs timed here ({per_point} per point)"
    )
    print(f"  slowest run: {slowest[1]}, {slowest[0]:.1f} s")
    print(
        f"  serial time S ≈ {total_s / 60:.1f} min; on 2 free cores ≈ S/2 + "
        f"{overhead_s:.1f} s start-up = {idle_min:.1f} min "
        f"(target ≤ {TARGET_PAPER_MINUTES:g}) {paper_verdict(idle_min)}"
    )
    print(
        f"  at the 2-job speed-up measured on the grid ({speedup:.2f}×): "
        f"{total_s / speedup / 60:.1f} min"
    )


def paper_verdict(minutes: float) -> str:
    return verdict(minutes, TARGET_PAPER_MINUTES, at_most=True)


def run_paper(spec_path: str, work: Path) -> None:
    """Run a sweep with ``orgscale sweep --jobs 2`` from scratch and time it."""
    out = work / "paper-full"
    cores = available_cores()
    cmd = [sys.executable, "-m", "sweeps.cli", "sweep", spec_path, "--jobs", "2"]
    cmd += ["--backend", "loky", "--out", str(out), "--quiet"]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    counts = manifest["counts"]
    minutes = wall / 60
    print()
    print(
        f"full run of {spec_path} with --jobs 2: {minutes:.1f} min wall for {counts['total']} "
        f"runs ({counts['ok']} ok, exit {proc.returncode}; {cores:.2f} cores free at the start) "
        f"(target ≤ {TARGET_PAPER_MINUTES:g}) {paper_verdict(minutes)}"
    )


def wait_for_cores(max_wait_s: float, wanted: float = 1.9) -> float:
    """Wait up to ``max_wait_s`` for ``wanted`` free cores; return the cores free now."""
    deadline = time.monotonic() + max_wait_s
    cores = available_cores()
    while cores < wanted and time.monotonic() < deadline:
        time.sleep(2.0)
        cores = available_cores()
    return cores


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        kind, spec_path, processes, out = sys.argv[2:6]
        call_s = WORKERS[kind](spec_path, int(processes), out)
        print(json.dumps({"call_s": call_s}))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=365.0, help="days per run (default 365)")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds (default 3)")
    parser.add_argument(
        "--topologies", default=",".join(TOPOLOGIES), help="comma-separated (3 by default)"
    )
    parser.add_argument("--paper", metavar="SPEC", help="also estimate this sweep's wall time")
    parser.add_argument(
        "--paper-replicates", type=int, default=1, help="replicates timed per point (default 1)"
    )
    parser.add_argument(
        "--paper-full", metavar="SPEC", help="also run this sweep with 2 jobs and time it"
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="S",
        help="wait up to S seconds for 2 free cores before each candidate (default 0)",
    )
    parser.add_argument("--keep", metavar="DIR", help="keep the results here (default: discard)")
    args = parser.parse_args(argv)
    topologies = tuple(t.strip() for t in args.topologies.split(",") if t.strip())

    print(f"machine: {machine()}; load average {load_average()}")
    n_runs = len(topologies) * len(N_VALUES) * REPLICATES
    print(
        f"grid: {', '.join(topologies)} × N {list(N_VALUES)} × {REPLICATES} replicates = "
        f"{n_runs} runs of {args.days:g} days"
    )
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_sweep-"))
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "bench_sweep.toml"
    write_spec(spec, args.days, topologies)
    names = {
        "a": "(a) orgscale sweep --jobs 1",
        "b": "(b) orgscale sweep --jobs 2",
        "c": "(c) mesa.batch_run, 2 processes",
        "d": "(d) reference: fork pool, 2 processes",
    }
    best: dict[str, dict[str, float]] = {}
    try:
        for rep in range(args.repeats):
            for key in names:
                wait_for_cores(args.wait_idle)
                result = run_candidate(key, spec, work / f"{key}{rep}")
                if key not in best or result["wall_s"] < best[key]["wall_s"]:
                    best[key] = result
                print(
                    f"  [{rep + 1}/{args.repeats}] {names[key]}: {result['wall_s']:.2f} s "
                    f"(inside: {result['inner_s']:.2f} s, CPU {result['cpu_s']:.2f} s; "
                    f"other processes used {result['others']:.2f} cores meanwhile)",
                    file=sys.stderr,
                    flush=True,
                )
        last = args.repeats - 1
        check = same_runs(work / f"b{last}", work / f"c{last}.csv")
        resumed = run_candidate("b", spec, work / f"b{last}")
        manifest = json.loads((work / f"b{last}" / "manifest.json").read_text(encoding="utf-8"))
        parquet = sorted(p.name for p in (work / f"b{last}").glob("*.parquet"))

        rows = [
            (
                names[k],
                best[k]["wall_s"],
                best[k]["inner_s"],
                best[k]["wall_s"] - best[k]["inner_s"],
                best[k]["cpu_s"],
                n_runs / best[k]["wall_s"],
                round(best[k]["others"], 2),
            )
            for k in names
        ]
        print()
        print(
            table(
                ["candidate", "wall s", "inside s", "outside s", "CPU s", "runs/s", "others"],
                rows,
            )
        )
        print()
        print("Each candidate's fastest round. wall: the whole process as a user waits for it;")
        print("inside: the sweep call alone (run_sweep incl. its worker pool, or batch_run incl.")
        print("its spawn pool); outside: interpreter start, imports and exit; CPU: user + system")
        print("time of all its processes; others: cores other processes used meanwhile (of 2).")
        print()
        speedup = best["a"]["wall_s"] / best["b"]["wall_s"]
        speedup_in = best["a"]["inner_s"] / best["b"]["inner_s"]
        vs_batch = best["c"]["wall_s"] / best["b"]["wall_s"]
        vs_batch_in = best["c"]["inner_s"] / best["b"]["inner_s"]
        split = perfect_split_inside(best["a"]["inner_s"], best["a"]["run_s"])
        print(
            f"(b) inside ÷ a perfect split of (a)'s runs: {best['b']['inner_s']:.2f} s ÷ "
            f"{split:.2f} s = {best['b']['inner_s'] / split:.3f} (target ≤ {TARGET_SPLIT:g}) "
            f"{verdict(best['b']['inner_s'] / split, TARGET_SPLIT, at_most=True)}"
        )
        print(
            f"(b) faster than (c):   {vs_batch:.2f}× wall, {vs_batch_in:.2f}× inside "
            f"(target > {TARGET_VS_BATCH_RUN:g}, wall) "
            f"{'PASS' if vs_batch > TARGET_VS_BATCH_RUN else 'FAIL'}"
        )
        print(f"(b) speed-up over (a): {speedup:.2f}× wall, {speedup_in:.2f}× inside")
        print(
            f"reference (d) speed-up over (a): {best['a']['wall_s'] / best['d']['wall_s']:.2f}× "
            f"wall, {best['a']['inner_s'] / best['d']['inner_s']:.2f}× inside; faster than "
            f"(c): {best['c']['wall_s'] / best['d']['wall_s']:.2f}× wall, "
            f"{best['c']['inner_s'] / best['d']['inner_s']:.2f}× inside"
        )
        ideal = ideal_two_job_wall(best["a"])
        print(
            f"ideal (b), (a)'s start-up plus its runs split perfectly over 2 cores: {ideal:.2f} s,"
            f" speed-up {best['a']['wall_s'] / ideal:.2f}×, {best['c']['wall_s'] / ideal:.2f}× "
            "faster than (c)"
        )
        print(f"same runs: {check}")
        disturbed = max(best[k]["others"] for k in names)
        if disturbed > 0.2:
            print(
                f"WARNING: other processes used up to {disturbed:.2f} cores in the rounds kept:"
                " these ratios understate a free machine (try --wait-idle 300)"
            )
        print(
            f"resume of finished (b): {resumed['wall_s']:.2f} s, ran "
            f"{manifest['counts']['run']} of {manifest['counts']['total']} runs "
            f"(skipped {manifest['counts']['skipped']}); Parquet files: {', '.join(parquet)}"
        )
        if args.paper:
            overhead = max(best["b"]["inner_s"] - best["a"]["inner_s"] / 2, 0.0)
            estimate_paper(args.paper, args.paper_replicates, speedup_in, overhead)
        if args.paper_full:
            run_paper(args.paper_full, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
