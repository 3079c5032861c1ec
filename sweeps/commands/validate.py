"""``orgscale validate``: each preset's patterns, observed vs simulated over several seeds.

Prints one table a preset: pattern, observed value (± tolerance, or ×÷ a factor), simulated
median and 90%
interval over the seeds, whether the median is within tolerance, in-sample or held-out.
Exit status 0 (it measures), or with ``--check`` 1 when an in-sample pattern misses; 2 for
bad input. Usage: ``orgscale validate --preset nova-2013 --seeds 10 [--calibrated]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from model.presets import PresetError, load_preset, preset_names
from sweeps.atomic import atomic_write_text
from sweeps.calibrate import DEFAULT_ROOT
from sweeps.commands import check_writable, positive_int
from sweeps.commands.run import parse_assignment
from sweeps.validate import (
    DEFAULT_SEEDS,
    calibrated_config,
    format_table,
    missed_in_sample,
    validation_table,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="compare each preset's observed patterns with simulations over several seeds",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("--preset", action="append", metavar="NAME", help="default: every preset")
    parser.add_argument("--seeds", type=positive_int, default=DEFAULT_SEEDS, help="runs a preset")
    parser.add_argument("--days", type=float, help="simulated days (default: the preset's)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a parameter"
    )
    parser.add_argument(
        "--calibrated",
        action="store_true",
        help="use results/calibration/<name>/calibrated.toml (posterior medians)",
    )
    parser.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    parser.add_argument("--csv", metavar="FILE", help="also write the table(s) as CSV")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if an in-sample pattern misses"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    try:
        presets = [load_preset(name) for name in (args.preset or preset_names())]
        overrides: dict[str, Any] = dict(parse_assignment(a) for a in args.set)
        per_preset = []
        for preset in presets:
            extra = dict(overrides)
            if args.calibrated:
                extra = {
                    **calibrated_config(DEFAULT_ROOT / preset.name / "calibrated.toml"),
                    **extra,
                }
            per_preset.append((preset, extra))
        if args.csv:
            check_writable(Path(args.csv), "--csv")
    except (PresetError, ValueError) as err:
        print(f"orgscale validate: error: {err}", file=sys.stderr)
        return 2
    tables, misses = [], []
    for preset, extra in per_preset:
        try:
            table = validation_table(
                preset,
                seeds=args.seeds,
                days=args.days,
                overrides=extra,
                jobs=args.jobs,
                quiet=args.quiet,
            )
        except ValueError as err:
            print(f"orgscale validate: error: {preset.name}: {err}", file=sys.stderr)
            return 2
        tables.append(table)
        days = preset.days if args.days is None else args.days
        print(f"{preset.name}: {args.seeds} seeds, {days:g} days — {preset.description}")
        print(format_table(table))
        print()
        misses += [f"{preset.name}/{p}" for p in missed_in_sample(table)]
    if args.csv:
        try:
            Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(args.csv), pd.concat(tables).to_csv(index=False))
        except OSError as err:  # e.g. a full disk
            print(f"orgscale validate: error: --csv {args.csv}: {err}", file=sys.stderr)
            return 2
    if misses:
        print(f"in-sample patterns missed: {', '.join(misses)}")
    return 1 if args.check and misses else 0
