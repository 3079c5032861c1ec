"""Simulation-based calibration of the whole pipeline: do 90% intervals cover the truth 90%?

At the Nova-like configuration of ``sweeps/nova_like.py`` with all five calibrated parameters
unknown: each replicate draws a true parameter point from the prior, runs the model once
at it on a fresh seed (one realisation, as a real project gives), takes the seven
patterns of that run as the observed values, calibrates against them with
``orgscale calibrate``'s pipeline (the preset's tolerances, the chosen distance, the
stopping rule) and records whether each true value lies inside its 90% interval and its
rank (the posterior's weighted share below it; uniform over replicates when the posterior
is calibrated; Talts et al. 2018). A replicate whose run produced no value of a pattern
(nan) is skipped and counted.

Prints, per parameter: coverage of the 90% intervals over the replicates with its 95%
Wilson interval, the mean interval width as a share of the prior, and the mean and spread
of the ranks; and how many calibrations said they converged. Verdict: PASS when the 95%
interval of every parameter's coverage contains 0.9 or lies above it (ABC intervals at a
finite ε are wider than the exact posterior's, so over-coverage is expected; under-coverage
is the failure).

Reads nothing, writes only temporary folders. Usage:
``.venv/bin/python benchmarks/bench_sbc.py [--replicates 10] [--population 40]
[--generations 3] [--jobs 2] [--distance adaptive]``
"""

from __future__ import annotations

import argparse
import json
import math
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

NOMINAL = 0.9


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a binomial share ``k / n``."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def replicate(r: int, args, tmp: Path) -> dict | None:
    rng = np.random.default_rng(np.random.SeedSequence([args.seed, r]))
    truth = {name: float(rng.uniform(lo, hi)) for name, (lo, hi) in nova_like.PRIORS.items()}
    observed = nova_like.observe(truth, [int(rng.integers(2**31 - 1))])
    if not all(math.isfinite(v) and v > 0 for v in observed.values()):
        return None
    text = nova_like.preset_text(
        observed,
        distance=args.distance,
        seeds_per_particle=args.seeds_per_particle,
        min_epsilon=args.min_epsilon,
    )
    preset = parse_preset(text, source="nova-like.toml")
    out = tmp / f"r{r}"
    result = calibrate(
        preset,
        out=out,
        population=args.population,
        generations=args.generations,
        seed=args.seed + r,
        ppc_draws=0,
        jobs=args.jobs,
        quiet=True,
        plot=False,
    )
    manifest = json.loads((out / "manifest.json").read_text())
    post = result.posterior
    iv = result.intervals.set_index("parameter")
    row = {"truth": truth, "converged": manifest["converged"], "n": result.n_simulations}
    for name, true in truth.items():
        w = post["weight"].to_numpy(float)
        row[name] = {
            "inside": bool(iv.loc[name, "ci90_low"] <= true <= iv.loc[name, "ci90_high"]),
            "rank": float(np.sum(w[post[name].to_numpy(float) < true]) / np.sum(w)),
            "width": float(
                (iv.loc[name, "ci90_high"] - iv.loc[name, "ci90_low"])
                / (nova_like.PRIORS[name][1] - nova_like.PRIORS[name][0])
            ),
        }
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--population", type=int, default=40)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--min-epsilon", type=float, default=0.5)
    parser.add_argument("--seeds-per-particle", type=int, default=1)
    parser.add_argument("--distance", choices=("adaptive", "tolerance"), default="adaptive")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    print(f"Machine: {machine()}; load average {load_average()} at start")
    print(
        f"\nSBC at a Nova-like core: 5 parameters, 7 patterns, {args.replicates} replicates, "
        f"population {args.population}, ≤ {args.generations} generations, {args.distance} "
        f"distance, {args.seeds_per_particle} seed(s) per particle\n"
    )
    t0 = time.perf_counter()
    rows, skipped = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.replicates):
            row = replicate(r, args, Path(tmp))
            if row is None:
                skipped += 1
                print(f"replicate {r}: skipped (a pattern was nan or 0 in the observed run)")
                continue
            rows.append(row)
            inside = " ".join(
                f"{n}={'in' if row[n]['inside'] else 'OUT'}" for n in nova_like.PRIORS
            )
            print(
                f"replicate {r}: {row['n']} runs, converged={row['converged']}: {inside}",
                flush=True,
            )
    n = len(rows)
    print(
        "\n| parameter | 90% coverage | 95% Wilson interval | mean width / prior "
        "| mean rank | rank sd (uniform: 0.29) |"
    )
    print("|---|---|---|---|---|---|")
    ok = n > 0
    for name in nova_like.PRIORS:
        k = sum(row[name]["inside"] for row in rows)
        lo, hi = wilson(k, n)
        ranks = [row[name]["rank"] for row in rows]
        widths = [row[name]["width"] for row in rows]
        ok = ok and hi >= NOMINAL
        print(
            f"| {name} | {k}/{n} = {k / max(n, 1):.0%} | [{lo:.2f}, {hi:.2f}] | "
            f"{np.mean(widths):.2f} | {np.mean(ranks):.2f} | {np.std(ranks):.2f} |"
        )
    converged = sum(row["converged"] for row in rows)
    print(
        f"\n{n} replicates ({skipped} skipped), {converged} converged; "
        f"{time.perf_counter() - t0:.0f} s"
    )
    verdict = "PASS" if ok else "FAIL"
    print(
        f"\n**{verdict}** every parameter's 90% interval coverage is consistent with ≥ 90% "
        "(its 95% Wilson interval reaches 0.9)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
