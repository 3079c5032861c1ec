"""Calibration cost: ABC-SMC against rejection ABC at the same budget, and a preset's full run.

(a) A synthetic two-parameter problem (a small single core; ``change_rate`` and
``review_rate`` to be recovered from ``throughput`` and ``review_wait_mean`` that the model
produced at known values): ABC-SMC (``sweeps.calibrate``) against rejection ABC over a
scrambled Sobol design of the prior with the same number of simulations, keeping the same
number of closest runs. Reported: simulations, wall time, each parameter's 90% interval
width as a share of its prior range, and whether the truth lies inside. Target: SMC's
intervals narrower than rejection's at equal cost.

(b) With ``--preset NAME``: the preset's own calibration (its ``[calibration]`` settings,
or ``--population``/``--generations``) with ``--jobs`` workers into a temporary folder,
timed. Target: ≤ 60 minutes on 2 cores.

Reads nothing, writes only temporary folders. Usage:
``.venv/bin/python benchmarks/bench_calibrate.py [--preset nova-2013] [--jobs 2]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_average, machine

from model.presets import load_preset, parse_preset
from sweeps.calibrate import (
    PatternDistance,
    Simulator,
    calibrate,
    particle_seed,
)
from sweeps.calibration_report import weighted_quantiles

CONFIG = (
    'topology = "single_core"\nstaffing = "fixed_core"\nn_teams = 3\n'
    "contributors_per_team = 4\ncore_reviewers = 3\nwarmup_days = 20\n"
)
TRUTH = {"change_rate": 0.2, "review_rate": 6.0}
PRIORS = {"change_rate": (0.05, 0.4), "review_rate": (2.0, 12.0)}
DAYS = 150.0
BUDGET_MINUTES = 60.0


def synthetic_preset(jobs: int):
    """The synthetic problem as a preset, observed values from five runs at TRUTH."""
    from sweeps.one_run import run_one

    base = parse_preset(_text(throughput=1.0, wait=1.0), source="synthetic.toml")
    runs = [run_one(base.params(TRUTH), seed, DAYS) for seed in range(5)]
    thr = float(np.median([r["throughput"] for r in runs]))
    wait = float(np.median([r["review_wait_mean"] for r in runs]))
    return parse_preset(_text(throughput=thr, wait=wait), source="synthetic.toml")


def _text(*, throughput: float, wait: float) -> str:
    priors = "\n".join(f"{k} = [{lo}, {hi}]" for k, (lo, hi) in PRIORS.items())
    pattern = textwrap.dedent(
        """
        [[pattern]]
        metric = "{metric}"
        observed = {value!r}
        tolerance = {{ rel = {tol} }}
        in_sample = true
        source = {{ ref = "the model", date = "-", counted = "-" }}
        """
    )
    return (
        f'name = "synthetic"\ndescription = "recovery"\ndays = {DAYS}\n[config]\n{CONFIG}'
        f"[priors]\n{priors}\n"
        + pattern.format(metric="throughput", value=throughput, tol=0.1)
        + pattern.format(metric="review_wait_mean", value=wait, tol=0.3)
    )


def _rejection_one(args):
    simulator, theta, seed = args
    np.random.seed(seed)
    return simulator(theta)


def rejection(preset, n_sims: int, keep: int, jobs: int, seed: int):
    """Rejection ABC: ``n_sims`` runs over a scrambled Sobol design, keep the ``keep`` closest."""
    import multiprocessing

    from scipy.stats import qmc

    names = [name for name, _, _ in preset.priors]
    lows = np.array([lo for _, lo, _ in preset.priors])
    highs = np.array([hi for _, _, hi in preset.priors])
    unit = qmc.Sobol(len(names), scramble=True, seed=seed).random(n_sims)
    points = lows + unit * (highs - lows)
    simulator = Simulator(preset.params(), preset.days, preset.patterns)
    tasks = [
        (simulator, dict(zip(names, p, strict=True)), particle_seed(seed, 0, i))
        for i, p in enumerate(points)
    ]
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        stats = pool.map(_rejection_one, tasks)
    distance = PatternDistance(preset.patterns)
    d = np.array([distance(s) for s in stats])
    best = np.argsort(d, kind="stable")[:keep]
    return {name: points[best, i] for i, name in enumerate(names)}


def compare(population: int, generations: int, jobs: int) -> list[str]:
    preset = synthetic_preset(jobs)
    rows = [
        "| method | simulations | wall s | "
        + " | ".join(f"{n}: 90% width / prior, truth inside" for n in TRUTH)
        + " |",
        "|---|---|---|" + "---|" * len(TRUTH),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        smc = calibrate(
            preset,
            out=Path(tmp) / "smc",
            population=population,
            generations=generations,
            jobs=jobs,
            seed=11,
            quiet=True,
            plot=False,
            min_epsilon=0.0,
            distance="tolerance",  # the distance rejection ranks by: a like-for-like comparison
            ppc_draws=0,
        )
        smc_wall = time.perf_counter() - t0
    widths = {}
    cells = []
    for name, true in TRUTH.items():
        row = smc.intervals.set_index("parameter").loc[name]
        lo, hi = PRIORS[name]
        widths["smc", name] = (row.ci90_high - row.ci90_low) / (hi - lo)
        cells.append(f"{widths['smc', name]:.2f}, {row.ci90_low <= true <= row.ci90_high}")
    rows.append(f"| ABC-SMC | {smc.n_simulations} | {smc_wall:.1f} | " + " | ".join(cells) + " |")
    t0 = time.perf_counter()
    kept = rejection(preset, smc.n_simulations, population, jobs, seed=11)
    rej_wall = time.perf_counter() - t0
    cells = []
    for name, true in TRUTH.items():
        q05, _, q95 = weighted_quantiles(kept[name], np.ones(len(kept[name])))
        lo, hi = PRIORS[name]
        widths["rej", name] = (q95 - q05) / (hi - lo)
        cells.append(f"{widths['rej', name]:.2f}, {q05 <= true <= q95}")
    rows.append(
        f"| rejection (Sobol) | {smc.n_simulations} | {rej_wall:.1f} | " + " | ".join(cells) + " |"
    )
    ratio = np.mean([widths["smc", n] / widths["rej", n] for n in TRUTH])
    verdict = "PASS" if ratio < 1 else "FAIL"
    rows.append("")
    rows.append(
        f"**{verdict}** ABC-SMC / rejection 90% interval width at equal cost: {ratio:.2f} "
        "(target < 1)"
    )
    return rows


def full(name: str, population: int | None, generations: int | None, jobs: int) -> list[str]:
    preset = load_preset(name)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = calibrate(
            preset,
            out=Path(tmp) / name,
            population=population,
            generations=generations,
            jobs=jobs,
            quiet=False,
            plot=False,
        )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    settings = preset.settings()
    verdict = "PASS" if wall <= BUDGET_MINUTES * 60 else "FAIL"
    return [
        "| preset | population | generations | simulations | final ε | wall | worker CPU "
        "| CPU s / run |",
        "|---|---|---|---|---|---|---|---|",
        f"| {name} | {population or settings['population']} | {result.generations} | "
        f"{result.n_simulations} | {result.epsilon:.3g} | {wall / 60:.1f} min | "
        f"{cpu / 60:.1f} min | {cpu / max(result.n_simulations, 1):.2f} |",
        "",
        f"**{verdict}** {name} calibration with {jobs} jobs: {wall / 60:.1f} min "
        f"(target ≤ {BUDGET_MINUTES:g} min)",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", type=int, default=100, help="(a): particles")
    parser.add_argument("--generations", type=int, default=5, help="(a): generations")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--preset", help="(b): also time this preset's full calibration")
    parser.add_argument("--preset-population", type=int, help="(b): override the preset's")
    parser.add_argument("--preset-generations", type=int, help="(b): override the preset's")
    parser.add_argument("--skip-compare", action="store_true", help="only (b)")
    args = parser.parse_args()
    print(f"Machine: {machine()}; load average {load_average()} at start")
    if not args.skip_compare:
        print("\n(a) synthetic recovery, ABC-SMC vs rejection at the same number of runs\n")
        print("\n".join(compare(args.population, args.generations, args.jobs)))
    if args.preset:
        print(f"\n(b) calibrate {args.preset}\n")
        print(
            "\n".join(full(args.preset, args.preset_population, args.preset_generations, args.jobs))
        )
    print(f"\nload average {load_average()} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
