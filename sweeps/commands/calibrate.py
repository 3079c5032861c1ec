"""``orgscale calibrate TARGETS``: ABC-SMC of a preset's priors against its in-sample patterns.

TARGETS is a preset name (``nova-2013``) or a preset TOML file. Writes
``results/calibration/<name>/`` (see :mod:`sweeps.calibrate`); rerunning the same command
resumes or, if finished, only rewrites the summaries. Exit status: 0 when done (converged or
not: the summary and ``manifest.json`` say which), 2 for bad targets or a folder holding
another calibration (another preset, settings or model code) or being written by another
process, 130 when interrupted (finished generations are kept; run the same command to
resume). Usage: ``orgscale calibrate nova-2013 --jobs 2``
"""

from __future__ import annotations

import argparse
import os
import sys

from model.presets import PresetError, load_preset
from sweeps.calibrate import CalibrationError, calibrate, check_preset
from sweeps.calibration_report import format_summary
from sweeps.commands import nonnegative_int, positive_int


def _share(text: str) -> float:
    value = _non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a number in [0, 1]")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a number >= 0")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calibrate",
        help="calibrate a preset's unknown parameters against its observed patterns (ABC-SMC)",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("targets", metavar="TARGETS", help="a preset name or preset TOML file")
    parser.add_argument("--out", metavar="DIR", help="default results/calibration/<name>")
    parser.add_argument("--population", type=positive_int, help="particles per generation")
    parser.add_argument("--generations", type=positive_int, help="most generations")
    parser.add_argument("--min-epsilon", type=_non_negative, help="stop below this distance")
    parser.add_argument("--seed", type=nonnegative_int, help="root seed (default: the preset's)")
    parser.add_argument("--days", type=_non_negative, help="simulated days per run")
    parser.add_argument(
        "--seeds-per-particle", type=positive_int, help="runs averaged per parameter point"
    )
    parser.add_argument(
        "--distance", choices=("adaptive", "tolerance"), help="ABC distance (default adaptive)"
    )
    parser.add_argument(
        "--min-acceptance-rate", type=_share, help="stop when a generation's rate falls below"
    )
    parser.add_argument(
        "--min-ess", type=_share, help="effective sample size floor, share of the population"
    )
    parser.add_argument(
        "--ppc-draws", type=int, help="posterior predictive runs on fresh seeds (0: none)"
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument("--fresh", action="store_true", help="move an old output folder aside")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        preset = load_preset(args.targets)
        check_preset(preset)
        if args.seed is not None and args.seed < 0:
            raise CalibrationError(f"--seed={args.seed} is invalid: expected an integer >= 0")
        if args.ppc_draws is not None and args.ppc_draws < 0:
            raise CalibrationError(f"--ppc-draws={args.ppc_draws} is invalid: expected >= 0")
        result = calibrate(
            preset,
            out=args.out,
            population=args.population,
            generations=args.generations,
            min_epsilon=args.min_epsilon,
            seed=args.seed,
            days=args.days,
            seeds_per_particle=args.seeds_per_particle,
            distance=args.distance,
            min_acceptance_rate=args.min_acceptance_rate,
            min_ess=args.min_ess,
            ppc_draws=args.ppc_draws,
            jobs=args.jobs or os.cpu_count() or 1,
            fresh=args.fresh,
            quiet=args.quiet,
        )
    except (PresetError, CalibrationError) as err:
        print(f"orgscale calibrate: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "orgscale calibrate: interrupted; finished generations are saved, run the same "
            "command to resume",
            file=sys.stderr,
        )
        return 130
    print(format_summary(result))
    return 0
