"""Which ABC distance to calibrate with: adaptive (MAD-scaled) against the fixed tolerance RMS.

The recovery problem of ``sweeps/nova_like.py``: five unknown parameters (every one the Nova preset
calibrates) of a small Nova-like core, seven patterns the model produced at known values
(mean of five runs; a new set of runs each replicate). Each replicate calibrates the same
data twice with the same population, generations, seed and ``min_epsilon = 0`` (so both run
every generation): once with ``distance = "tolerance"`` (the root mean square of the
patterns' distances in tolerance units, the former distance) and once with ``"adaptive"``
(each pattern's distance over its median absolute deviation in the previous population).

``--tolerance 0.1`` gives every pattern the same relative tolerance, too tight for the
noisy ones (abandoned changes, waits: 15–25% from run to run): tolerances set by what a
source allows rather than by the model's noise, the case a scale-free distance is for.

Reported per replicate and distance: simulations, wall time, each parameter's 90% interval
width as a share of its prior and whether the truth lies inside, the final population's fit
distance (median RMS in tolerance units), and the posterior predictive joint coverage (the
share of fresh runs from the posterior reproducing all seven patterns at once), against the
same share for fresh runs at the true values (the most any posterior can reach). Verdict:
PASS when the adaptive distance's intervals are no wider on average and hold the truth at
least as often.

Reads nothing, writes only temporary folders. Usage:
``.venv/bin/python benchmarks/bench_calibrate_distance.py [--replicates 2] [--population 60]
[--generations 8] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import load_average, machine

from model.presets import parse_preset
from sweeps import nova_like
from sweeps.calibrate import calibrate

DISTANCES = ("tolerance", "adaptive")


def one(distance: str, observed: dict, args, replicate: int, tmp: Path) -> dict:
    preset = parse_preset(nova_like.preset_text(observed, args.tolerance), source="nova.toml")
    out = tmp / f"{distance}-{replicate}"
    t0 = time.perf_counter()
    result = calibrate(
        preset,
        out=out,
        population=args.population,
        generations=args.generations,
        min_epsilon=0.0,
        seed=1000 + replicate,
        distance=distance,
        ppc_draws=args.ppc_draws,
        jobs=args.jobs,
        quiet=True,
        plot=False,
    )
    wall = time.perf_counter() - t0
    manifest = json.loads((out / "manifest.json").read_text())
    iv = result.intervals.set_index("parameter")
    widths, inside = {}, {}
    for name, true in nova_like.TRUTH.items():
        lo, hi = nova_like.PRIORS[name]
        widths[name] = (iv.loc[name, "ci90_high"] - iv.loc[name, "ci90_low"]) / (hi - lo)
        inside[name] = bool(iv.loc[name, "ci90_low"] <= true <= iv.loc[name, "ci90_high"])
    return {
        "distance": distance,
        "replicate": replicate,
        "n_simulations": result.n_simulations,
        "wall": wall,
        "widths": widths,
        "inside": inside,
        "fit": manifest["fit_distance"],
        "joint": manifest["ppc"].get("joint", {}).get("in_sample", float("nan")),
    }


def joint_at_truth(observed: dict, runs: int, tolerance: float | None) -> float:
    """Share of ``runs`` fresh runs at the true values reproducing every pattern at once."""
    preset = parse_preset(nova_like.preset_text(observed, tolerance), source="nova.toml")
    hits = 0
    for k in range(runs):
        values = nova_like.observe(nova_like.TRUTH, [10_000 + k])
        hits += all(p.reproduced(values[p.metric]) for p in preset.patterns)
    return hits / max(runs, 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--population", type=int, default=60)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--ppc-draws", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--tolerance",
        type=float,
        help="one relative tolerance for every pattern (default: nova_like's, set to each "
        "pattern's run-to-run noise); e.g. 0.1 gives the noisy patterns too tight a one",
    )
    args = parser.parse_args()
    print(f"Machine: {machine()}; load average {load_average()} at start")
    tolerances = f"rel {args.tolerance:g} for all" if args.tolerance else "nova_like's"
    print(
        f"\nNova-like recovery, 5 parameters, 7 patterns; population {args.population}, "
        f"{args.generations} generations, {args.replicates} replicate(s), {args.jobs} jobs, "
        f"tolerances: {tolerances}\n"
    )
    names = list(nova_like.TRUTH)
    print(
        "| distance | replicate | simulations | wall s | "
        + " | ".join(f"{n} width, in" for n in names)
        + " | fit distance | PPC joint |"
    )
    print("|---|---|---|---|" + "---|" * len(names) + "---|---|")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.replicates):
            observed = nova_like.observe(nova_like.TRUTH, [100 * r + k for k in range(5)])
            for distance in DISTANCES:
                row = one(distance, observed, args, r, Path(tmp))
                rows.append(row)
                cells = " | ".join(
                    f"{row['widths'][n]:.2f}, {'yes' if row['inside'][n] else 'NO'}" for n in names
                )
                print(
                    f"| {distance} | {r} | {row['n_simulations']} | {row['wall']:.0f} | {cells} "
                    f"| {row['fit']:.2f} | {row['joint']:.0%} |",
                    flush=True,
                )
        truth_joint = joint_at_truth(observed, args.ppc_draws, args.tolerance)
    print(
        f"\nAt the true values, {truth_joint:.0%} of {args.ppc_draws} fresh runs reproduce all "
        "seven patterns at once (last replicate's data): the ceiling of the PPC joint coverage."
    )
    summary = {}
    for distance in DISTANCES:
        mine = [row for row in rows if row["distance"] == distance]
        summary[distance] = {
            "width": float(np.mean([np.mean(list(row["widths"].values())) for row in mine])),
            "inside": sum(sum(row["inside"].values()) for row in mine),
            "of": len(mine) * len(names),
            "sims": float(np.mean([row["n_simulations"] for row in mine])),
            "fit": float(np.mean([row["fit"] for row in mine])),
            "joint": float(np.nanmean([row["joint"] for row in mine])),
        }
    print(
        "\n| distance | mean 90% width / prior | truth inside | mean simulations | "
        "mean fit distance | mean PPC joint coverage |"
    )
    print("|---|---|---|---|---|---|")
    for distance, s in summary.items():
        print(
            f"| {distance} | {s['width']:.3f} | {s['inside']}/{s['of']} | {s['sims']:.0f} | "
            f"{s['fit']:.2f} | {s['joint']:.0%} |"
        )
    a, t = summary["adaptive"], summary["tolerance"]
    ratio = a["width"] / t["width"]
    verdict = "PASS" if ratio <= 1.0 and a["inside"] >= t["inside"] else "FAIL"
    print(
        f"\n**{verdict}** adaptive / tolerance mean 90% interval width: {ratio:.2f} (target ≤ 1), "
        f"truth inside {a['inside']}/{a['of']} against {t['inside']}/{t['of']} "
        "(target: at least as often)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
