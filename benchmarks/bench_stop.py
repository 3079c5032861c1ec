"""What stopping saturated runs buys: a paper sweep's runs with its ``stop_backlog_days``
against the same runs without (``stop_backlog_days = 0``), and the sweep's cost from it.

Takes one replicate of every run of the spec (the first by default: same parameters and
seeds as the sweep's own runs) and runs each once as the spec says and, where the spec sets
a bound, once more without it, one after the other in this process; the time is CPU time
(other processes on a shared machine disturb it less than wall time). A run that does not
stop must give the same metrics both ways (the check draws no random numbers); the script
stops with an error if one does not (``backlog_slope`` to 1e-12 relative: LAPACK's least
squares can differ in the last bits between calls). It prints, per organisation block and
N, the CPU of the runs with and without the bound and how many stopped, then the whole
replicate's CPU both ways and the spec's estimated cost: replicates × the replicate's CPU,
and that over two cores in minutes (a perfect split, the sweep's overhead not counted).
Target: the bound makes the spec's runs at least 1.5× cheaper (the ratio of CPU without to
with, over the runs the spec bounds).

Reads the spec, writes nothing. Usage:
``python benchmarks/bench_stop.py [--spec sweeps/specs/paper.toml] [--replicate 0]
[--min-n 1] [--max-n 100000]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import load_average, machine, table, verdict

from model import PARAMETERS, OrgModel
from sweeps.design import design_tasks
from sweeps.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5  # CPU without the bound ÷ CPU with it, over the runs the spec bounds


def _run(params: dict, seed: int, days: float) -> tuple[float, dict[str, float]]:
    start = time.process_time()
    model = OrgModel(**params, rng=seed)
    model.run_for(days)
    metrics = model.metrics()
    return time.process_time() - start, metrics


def _same(a: dict[str, float], b: dict[str, float]) -> list[str]:
    out = []
    for name, x in a.items():
        y = b[name]
        if (math.isnan(x) and math.isnan(y)) or x == y:
            continue
        if name == "backlog_slope" and math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15):
            continue
        out.append(name)
    return out


def _label(params: dict) -> str:
    """The block's organisation: topology and staffing, and what else differs from the
    defaults (N and the bound left out)."""
    parts = [params["topology"], params["staffing"]]
    for name, value in params.items():
        if name in ("topology", "staffing", "n_teams", "stop_backlog_days"):
            continue
        if value != PARAMETERS[name].default:
            parts.append(f"{name}={value}")
    return " ".join(str(p) for p in parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", default=str(ROOT / "sweeps" / "specs" / "paper.toml"))
    parser.add_argument("--replicate", type=int, default=0)
    parser.add_argument("--min-n", type=int, default=1)
    parser.add_argument("--max-n", type=int, default=100_000)
    args = parser.parse_args(argv)

    spec = load_spec(args.spec)
    tasks = [
        t
        for t in design_tasks(spec)
        if t.replicate == args.replicate and args.min_n <= t.params["n_teams"] <= args.max_n
    ]
    print(f"{machine()}; load average {load_average()}", file=sys.stderr)
    print(f"{spec.name}: {len(tasks)} runs of replicate {args.replicate}", file=sys.stderr)
    rows: dict[tuple[str, int], list[float]] = defaultdict(lambda: [0.0, 0.0, 0, 0])
    total_with = total_without = bounded_with = bounded_without = 0.0
    for k, task in enumerate(tasks):
        params = dict(task.params)
        cpu, metrics = _run(params, task.seed, task.days)
        row = rows[(_label(params), params["n_teams"])]
        row[0] += cpu
        row[3] += 1
        total_with += cpu
        if params.get("stop_backlog_days", 0.0) > 0:
            free_cpu, free = _run({**params, "stop_backlog_days": 0.0}, task.seed, task.days)
            stopped = not math.isnan(metrics["stopped_at_day"])
            if not stopped and _same(metrics, free):
                sys.exit(
                    f"run {task.run_id}: metrics differ without the bound: {_same(metrics, free)}"
                )
            row[2] += stopped
            bounded_with += cpu
            bounded_without += free_cpu
        else:
            free_cpu = cpu
        row[1] += free_cpu
        total_without += free_cpu
        print(f"  {k + 1}/{len(tasks)} {cpu:.2f} s / {free_cpu:.2f} s", file=sys.stderr)
    print(
        table(
            ["block", "N", "runs", "stopped", "CPU s (bound)", "CPU s (none)", "ratio"],
            [
                [label, n, r[3], r[2], r[0], r[1], r[1] / r[0] if r[0] else math.nan]
                for (label, n), r in sorted(rows.items(), key=lambda kv: (kv[0][0], kv[0][1]))
            ],
        )
    )
    ratio = bounded_without / bounded_with if bounded_with else math.nan
    reps = spec.replicates
    print()
    print(
        f"replicate CPU: {total_with:.1f} s with the bound, {total_without:.1f} s without; "
        f"the bounded runs {ratio:.2f}× cheaper with it"
    )
    print(
        f"estimated sweep ({reps} replicates): {reps * total_with:.0f} CPU-s = "
        f"{reps * total_with / 2 / 60:.1f} min on 2 cores with the bound, "
        f"{reps * total_without / 2 / 60:.1f} min without"
    )
    print(f"stopping saturated runs ≥ {TARGET}× cheaper: {verdict(ratio, TARGET, at_most=False)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
