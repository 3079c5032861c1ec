"""One run's cost against N: events per second, wall time and peak memory of ``OrgModel``.

For each topology and N (teams) in 4, 16, 64, 256, 1024, one run at the default per-team
load (``contributors_per_team × change_rate`` changes per day per area, the same for every
N) is timed in a fresh subprocess, best of ``--repeats`` interleaved runs (a run shorter
than 0.5 s is repeated inside its subprocess and the fastest kept). The events it
executes are counted in a separate, untimed run with the same seed (the count is
deterministic) and the peak of Python allocations (``tracemalloc``) in a third; the
timed run reports its process's peak resident memory (``getrusage``) and the share of its
time spent in Python's cyclic garbage collector.

Target: time per event at N = 1024 within 2× of N = 16 for every topology, i.e. a run's
cost is linear in the events it simulates, not in agents × days. The verdict uses the
run's CPU time (``time.process_time``), which other processes on a shared machine disturb
less than wall time; both are printed.

Reads nothing, writes nothing. Usage:
``python benchmarks/bench_model.py [--days 120] [--max-n 1024] [--repeats 3] [--quick]``
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc

from common import count_model_events, load_average, machine, table, verdict

from model import TOPOLOGIES, OrgModel

N_VALUES = (4, 16, 64, 256, 1024)
TARGET_RATIO = 2.0  # time per event at the largest N ÷ at N = 16
REFERENCE_N = 16
MIN_TIMED_S = 0.5  # a worker repeats runs shorter than this and keeps the fastest


class GcClock:
    """A ``gc.callbacks`` hook adding up the seconds spent in cyclic garbage collection."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


def measure(topology: str, n: int, days: float, seed: int, mode: str) -> dict[str, float]:
    """Measure one configuration in this process.

    ``mode="time"``: a clean build and run, timed, and the process's peak RSS.
    ``mode="all"``: the same, then (untimed, after the peak RSS is read) the events executed
    in a second run (``EventQueue.push`` wrapped) and, in a third, the peak of Python
    allocations while the model is built and run (``tracemalloc``).
    """

    def build() -> OrgModel:
        return OrgModel(topology=topology, n_teams=n, rng=seed)

    timed = dict.fromkeys(("build_s", "run_s", "run_cpu_s", "gc_s"), float("inf"))
    spent = 0.0
    gc_clock = GcClock()
    while spent < MIN_TIMED_S:  # short runs are repeated: their minimum is less noisy
        gc.collect()
        started = time.perf_counter()
        org = build()
        built, built_cpu = time.perf_counter(), time.process_time()
        gc_clock.total = 0.0
        gc.callbacks.append(gc_clock)
        org.run_for(days)
        done, done_cpu = time.perf_counter(), time.process_time()
        gc.callbacks.remove(gc_clock)
        if done - built < timed["run_s"]:
            timed["gc_s"] = gc_clock.total
        timed["build_s"] = min(timed["build_s"], built - started)
        timed["run_s"] = min(timed["run_s"], done - built)
        timed["run_cpu_s"] = min(timed["run_cpu_s"], done_cpu - built_cpu)
        spent += done - started
        del org
    timed["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if mode == "time":
        return timed
    events = count_model_events(build, days)
    tracemalloc.start()
    org = build()
    org.run_for(days)
    metrics = org.metrics()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return timed | {
        "events": events,
        "traced_mb": peak / 2**20,
        "teams": metrics["n_teams_total"],
        "links": metrics["links"],
        "people": metrics["headcount"],
        "throughput": metrics["throughput"],
    }


def in_subprocess(topology: str, n: int, days: float, seed: int, mode: str) -> dict[str, float]:
    """Run :func:`measure` in a fresh interpreter (so peak RSS is this run's alone)."""
    cmd = [sys.executable, __file__, "--worker", topology, str(n), repr(days), str(seed), mode]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        topology, n, days, seed, mode = sys.argv[2:7]
        print(json.dumps(measure(topology, int(n), float(days), int(seed), mode)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=120.0, help="simulated days (default 120)")
    parser.add_argument("--max-n", type=int, default=N_VALUES[-1], help="largest N (default 1024)")
    parser.add_argument(
        "--topologies", default=",".join(TOPOLOGIES), help="comma-separated (default: all)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per configuration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="--max-n 256 --repeats 1: a minute, not ten"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.max_n, args.repeats = min(args.max_n, 256), 1
    topologies = [t.strip() for t in args.topologies.split(",") if t.strip()]
    unknown = sorted(set(topologies) - set(TOPOLOGIES))
    if unknown:
        parser.error(f"--topologies: unknown {unknown}; valid: {', '.join(TOPOLOGIES)}")
    ns = [n for n in N_VALUES if n <= args.max_n]
    configs = [(t, n) for t in topologies for n in ns]

    print(f"machine: {machine()}; load average {load_average()}")
    print(f"{args.days:g} days per run, default per-team load, seed {args.seed}")
    timed: dict[tuple[str, int], dict[str, float]] = {}
    counted: dict[tuple[str, int], dict[str, float]] = {}
    for rep in range(args.repeats):
        for config in configs:
            result = in_subprocess(*config, args.days, args.seed, "all" if rep == 0 else "time")
            if rep == 0:
                counted[config] = result
            best = timed.setdefault(config, result)
            if result["run_s"] < best["run_s"]:
                best["gc_s"] = result["gc_s"]
            for key in ("build_s", "run_s", "run_cpu_s"):
                best[key] = min(best[key], result[key])
            print(
                f"  [{rep + 1}/{args.repeats}] {config[0]} N={config[1]}: "
                f"build {result['build_s']:.2f} s, run {result['run_s']:.2f} s",
                file=sys.stderr,
                flush=True,
            )

    rows = []
    per_event: dict[tuple[str, int], float] = {}
    per_event_cpu: dict[tuple[str, int], float] = {}
    for config in configs:
        t, c = timed[config], counted[config]
        per_event[config] = t["run_s"] / c["events"]
        per_event_cpu[config] = t["run_cpu_s"] / c["events"]
        rows.append(
            (
                config[0],
                config[1],
                int(c["teams"]),
                int(c["links"]),
                int(c["events"]),
                t["build_s"],
                t["run_s"],
                c["events"] / t["run_s"],
                per_event[config] * 1e6,
                per_event_cpu[config] * 1e6,
                100 * t["gc_s"] / t["run_s"],
                t["rss_mb"],
                c["traced_mb"],
            )
        )
    print()
    print(
        table(
            [
                "topology",
                "N",
                "teams",
                "links",
                "events",
                "build s",
                "run s",
                "events/s",
                "µs/event",
                "CPU µs/event",
                "GC %",
                "peak RSS MB",
                "traced MB",
            ],
            rows,
        )
    )
    print()
    print("GC %: share of the run spent in Python's cyclic garbage collector (gc.callbacks);")
    print("peak RSS includes the interpreter and imports; traced MB is Python allocations")
    print("while building and running the model (tracemalloc peak).")
    largest = ns[-1]
    if REFERENCE_N not in ns or largest == REFERENCE_N:
        print(f"no ratio: need N = {REFERENCE_N} and a larger N")
        return 0
    print()
    print(f"time per event, N={largest} ÷ N={REFERENCE_N} (target ≤ {TARGET_RATIO:g}; verdict on")
    print("CPU time, which other processes on a shared machine disturb less than wall time):")
    for topology in topologies:
        big, ref = (topology, largest), (topology, REFERENCE_N)
        ratio = per_event_cpu[big] / per_event_cpu[ref]
        print(
            f"{topology:>12}: CPU {ratio:.2f}, wall {per_event[big] / per_event[ref]:.2f}  "
            f"{verdict(ratio, TARGET_RATIO, at_most=True)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
