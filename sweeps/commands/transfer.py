"""``orgscale transfer``: one project's calibrated behaviour predicting another's patterns.

Takes the behaviour parameters from a calibration folder's posterior and the load (authors,
demand, core size) from the target's own history, simulates the target period by period
over posterior draws × seeds without refitting, and prints per pattern the observed value,
the simulated median and 90% band, the relative and log errors, and whether the observed
value is inside the band; then the median absolute log error and the share inside. Exit
status 0, or 2 for bad input. Usage: ``orgscale transfer results/calibration/nova-2013
REPO --since 2013-01-01 --until 2014-01-01 --every quarter [--core 8] [--out DIR]``
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
from pathlib import Path

from sweeps.commands import positive_int
from sweeps.transfer import DEFAULT_DRAWS, DEFAULT_SEEDS, ROOT_SEED

PROG = "orgscale transfer"


def positive_float(text: str) -> float:
    """argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a number > 0")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "transfer",
        help="predict another project's patterns with one project's calibrated behaviour",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    parser.add_argument("calibration", help="a calibration folder (orgscale calibrate's output)")
    parser.add_argument(
        "target", help="the target: a git repository or export, or an 'observe --json' file"
    )
    parser.add_argument("--since", default=None, metavar="DATE", help="window start (YYYY-MM-DD)")
    parser.add_argument(
        "--until", default=None, metavar="DATE", help="window end, exclusive (YYYY-MM-DD)"
    )
    parser.add_argument(
        "--every", default=None, choices=("month", "quarter", "year"), help="one run a period"
    )
    parser.add_argument("--draws", type=positive_int, default=DEFAULT_DRAWS, help="posterior draws")
    parser.add_argument("--seeds", type=positive_int, default=DEFAULT_SEEDS, help="runs a draw")
    parser.add_argument("--jobs", type=positive_int, default=1, help="worker processes")
    parser.add_argument(
        "--core",
        type=positive_int,
        default=None,
        metavar="N",
        help="the target's core team size (default: the source's core scaled by demand)",
    )
    parser.add_argument(
        "--submitted-per-merged",
        type=positive_float,
        default=None,
        metavar="R",
        help="new changes per landed change, when the target records only what landed "
        "(default: the source preset's observed ratio)",
    )
    parser.add_argument(
        "--name", default=None, help="the target's name in the output (default: its file name)"
    )
    parser.add_argument("--seed", type=positive_int, default=ROOT_SEED, help="root seed")
    parser.add_argument("--out", default=None, metavar="DIR", help="write transfer.csv/.json")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def check_out(folder: str | None) -> str | None:
    """``--out``: a folder, existing or creatable, writable; checked before any run."""
    if folder is None:
        return None
    path = Path(folder)
    if path.exists() and not path.is_dir():
        return f"--out {folder}: is a file; expected a folder"
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        return f"--out {folder}: not writable here"
    return None


def run(args: argparse.Namespace) -> int:
    from sweeps.atomic import atomic_write_json, atomic_write_text
    from sweeps.transfer import (
        TransferError,
        draw_behaviour,
        error_summary,
        format_summary,
        format_table,
        load_source,
        load_target,
        periods_of,
        simulate_transfer,
        target_load,
        transfer_table,
    )

    problem = check_out(args.out)
    if problem:
        return fail(problem)
    started = time.perf_counter()
    progress = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        source = load_source(args.calibration)
        if not source.behaviour:
            raise TransferError(f"{args.calibration}: its posterior has no behaviour parameter")
        target = load_target(
            args.target, since=args.since, until=args.until, every=args.every, progress=progress
        )
        periods = periods_of(target)
        loads = [
            target_load(p, source, core=args.core, submitted_per_merged=args.submitted_per_merged)
            for p in periods
        ]
        behaviours = draw_behaviour(source, args.draws, args.seed)
        if progress:
            progress(
                f"{source.name} → {Path(args.target).name}: {len(periods)} period(s) × "
                f"{args.draws} draws × {args.seeds} seeds; behaviour: {', '.join(source.behaviour)}"
            )
        runs = simulate_transfer(
            source,
            loads,
            behaviours,
            seeds=args.seeds,
            jobs=args.jobs,
            root_seed=args.seed,
            quiet=args.quiet,
        )
    except (TransferError, ValueError) as err:
        return fail(str(err))
    table = transfer_table(periods, loads, runs)
    name = args.name or Path(args.target).name
    summary = error_summary(table)
    wall = time.perf_counter() - started
    converged = {True: "converged", False: "NOT converged", None: "convergence not recorded"}
    print(
        f"{source.name} ({converged[source.converged]}) → {name}: "
        f"behaviour {', '.join(source.behaviour)} from {args.draws} posterior draws × "
        f"{args.seeds} seeds; load from the target"
    )
    for load in loads:
        i = load["info"]
        print(
            f"  {i['period']}: {i['authors']} authors → {i['contributors']} contributors, "
            f"demand {i['demand_per_day']:.3g}/day ({i['demand_rule']}), core {i['core']} "
            f"({i['core_rule']})"
        )
    print()
    print(format_table(table))
    print()
    print(format_summary(summary))
    if args.out:
        out = Path(args.out)
        record = {
            "source": {
                "folder": str(source.folder),
                "preset": source.name,
                "fingerprint": source.fingerprint,
                "converged": source.converged,
                "converged_reason": source.converged_reason,
                "behaviour": list(source.behaviour),
            },
            "target": {
                "name": name,
                "commit": (target.get("source") or {}).get("commit"),
                "since": args.since,
                "until": args.until,
                "every": args.every,
            },
            "command": _command(args),
            "settings": {
                "draws": args.draws,
                "seeds": args.seeds,
                "seed": args.seed,
                "core": args.core,
                "submitted_per_merged": args.submitted_per_merged,
            },
            "loads": [{**load["info"], "parameters": load["load"]} for load in loads],
            "summary": summary,
            "wall_s": wall,
        }
        try:
            out.mkdir(parents=True, exist_ok=True)
            atomic_write_text(out / "transfer.csv", table.to_csv(index=False))
            atomic_write_json(out / "transfer.json", _plain(record))
        except OSError as err:
            return fail(f"--out {args.out}: {err}")
    if progress:
        progress(f"{len(runs)} runs in {wall:.0f} s")
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command that defines the result (not where it was written, nor how fast)."""
    words = ["orgscale", "transfer", str(args.calibration), str(args.target)]
    for option in ("since", "until", "every", "draws", "seeds", "core", "seed"):
        value = getattr(args, option)
        if value is not None:
            words += [f"--{option}", str(value)]
    if args.submitted_per_merged is not None:
        words += ["--submitted-per-merged", f"{args.submitted_per_merged:g}"]
    return shlex.join(words)


def _plain(value):
    """JSON-ready: nan → None."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
