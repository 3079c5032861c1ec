"""What recording the event log costs: a run with ``record_events=True`` against the same run
without it.

For each organisation (one core and the two-level hierarchy by default, their default
parameters) the same seed is run with and without recording, interleaved, best of
``--repeats`` (15: the two arms differ by about 0.03 s, and with 5–7 pairs the best of
each still moves by 2–3 points from one call to the next); the time is the process's
CPU time, so other processes on a shared machine
disturb it less than wall time. The two runs must give identical metrics (recording draws
no random numbers); the script stops with an error if they do not. Building the Arrow table
from the recorded events is timed separately (it happens once, when the log is written).
Target: recording costs ≤ 10% of a run's time.

Reads nothing, writes nothing. Usage:
``python benchmarks/bench_eventlog.py [--days 365] [--repeats 15]
[--topologies single_core,hierarchical]``
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from common import load_average, machine, table, verdict

from model import OrgModel

TARGET_OVERHEAD = 1.10  # a run with recording ≤ 1.10 × the same run without


def timed_run(topology: str, days: float, record: bool, seed: int) -> tuple[float, OrgModel]:
    """CPU seconds of one run (construction included) and the model it leaves."""
    start = time.process_time()
    model = OrgModel(topology=topology, rng=seed, record_events=record)
    model.run_for(days)
    return time.process_time() - start, model


def same_metrics(a: dict[str, float], b: dict[str, float]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--topologies", default="single_core,hierarchical")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}; load {load_average()}")
    rows, worst = [], 0.0
    for topology in args.topologies.split(","):
        best = {False: math.inf, True: math.inf}
        models: dict[bool, OrgModel] = {}
        for _ in range(args.repeats):
            for record in (False, True):
                seconds, models[record] = timed_run(topology, args.days, record, args.seed)
                best[record] = min(best[record], seconds)
        if not same_metrics(models[False].metrics(), models[True].metrics()):
            print(f"error: {topology}: recording changed the run's metrics", file=sys.stderr)
            return 1
        start = time.process_time()
        events = models[True].event_table()
        table_s = time.process_time() - start
        ratio = best[True] / best[False]
        worst = max(worst, ratio)
        rows.append(
            [
                topology,
                f"{events.num_rows:,}",
                f"{best[False]:.3f}",
                f"{best[True]:.3f}",
                f"{ratio:.3f}",
                f"{table_s:.3f}",
            ]
        )
    print(
        table(
            ["topology", "events", "run s", "run + recording s", "ratio", "table s"],
            rows,
        )
    )
    print(f"recording / plain run (worst): {worst:.3f}")
    verdict_word = verdict(worst, TARGET_OVERHEAD, at_most=True)
    print(f"{verdict_word}: recording ≤ {TARGET_OVERHEAD:.2f} × a plain run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
