"""``orgscale sweep``: run a sweep spec's missing runs in parallel into ``results/<name>/``.

Exit status: 0 when every run is ok, 1 when some failed (the summary lists them), 2 for bad
input or environment (an invalid spec, a results folder that holds another spec's runs, an
unreachable dask scheduler), 130 when interrupted (what finished is kept; run the same
command again to resume).

Usage: ``orgscale sweep SPEC [--out DIR] [--jobs N] [--backend loky|sequential|dask]
[--scheduler ADDR] [--timeout SECONDS] [--fresh] [--allow-large] [--dry-run] [--quiet]``
"""

from __future__ import annotations

import argparse
import sys
import time

from sweeps.commands import positive_int, positive_seconds, print_spec_warnings
from sweeps.progress import format_duration
from sweeps.runner import BACKENDS, default_jobs, default_out, plan_sweep, run_sweep
from sweeps.spec import LARGE_DESIGN_RUNS, SpecError, SweepSpec, load_spec
from sweeps.store import ResultsConflictError, is_results_folder

MAX_FAILURES_SHOWN = 10
SAY_SIZE_FIRST_RUNS = 10_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a sweep spec (parallel, resumable) into results/<name>/",
        description=(
            "Run every run of a sweep spec that is not already in its results folder, in "
            "parallel, appending Parquet files as runs finish. Running it again resumes."
        ),
    )
    parser.add_argument("spec", metavar="SPEC", help="sweep spec, e.g. sweeps/specs/smoke.toml")
    parser.add_argument("--out", metavar="DIR", help="results folder (default results/<name>)")
    parser.add_argument(
        "--jobs",
        type=positive_int,
        metavar="N",
        help=f"worker processes (default: all cores, here {default_jobs()})",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, default="loky", help="where runs execute (default loky)"
    )
    parser.add_argument(
        "--scheduler", metavar="ADDR", help="running dask scheduler (with --backend dask)"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="stop a run after this many seconds and record it as failed (reason timeout); "
        "overrides the spec's [run] timeout_s",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="move an existing results folder aside (DIR.old-<time>) and start over",
    )
    parser.add_argument(
        "--allow-large",
        action="store_true",
        help=f"accept a design of more than {LARGE_DESIGN_RUNS:,} runs",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the run count and what is done; run nothing"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or progress lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.scheduler and args.backend != "dask":
        print("orgscale sweep: --scheduler needs --backend dask", file=sys.stderr)
        return 2
    try:
        spec = load_spec(args.spec, allow_large=args.allow_large)
        print_spec_warnings("orgscale sweep", spec)
        if args.dry_run:
            return _dry_run(spec, args)
        start = time.monotonic()
        table = run_sweep(
            spec,
            out=args.out,
            backend=args.backend,
            jobs=args.jobs,
            scheduler=args.scheduler,
            fresh=args.fresh,
            quiet=args.quiet,
            timeout_s=args.timeout,
            columns=["run_id", "replicate", "status", "error"],
        )
    except (SpecError, ResultsConflictError, ValueError) as err:
        print(f"orgscale sweep: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. an unreachable dask scheduler, a full disk
        print(f"orgscale sweep: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "orgscale sweep: interrupted; finished runs are saved, run the same command to resume",
            file=sys.stderr,
        )
        return 130
    out = args.out or default_out(spec)
    failed = table[table["status"] != "ok"]
    print(
        f"sweep {spec.name}: {len(table)} runs, {len(table) - len(failed)} ok, "
        f"{len(failed)} failed ({format_duration(time.monotonic() - start)}); results in {out}"
    )
    for row in failed.head(MAX_FAILURES_SHOWN).itertuples():
        print(f"  failed {row.run_id} (replicate {row.replicate}): {row.error}")
    if len(failed) > MAX_FAILURES_SHOWN:
        print(f"  ... and {len(failed) - MAX_FAILURES_SHOWN} more (status 'failed' in the table)")
    return 1 if len(failed) else 0


def _dry_run(spec: SweepSpec, args: argparse.Namespace) -> int:
    from sweeps.design import design_size

    size = design_size(spec)
    if size > SAY_SIZE_FIRST_RUNS:  # expanding a large design takes a while: say why
        print(f"sweep {spec.name}: up to {size:,} runs; expanding the design ...", flush=True)
    plan = plan_sweep(spec, args.out)
    if args.fresh and plan.state.exists:
        if not is_results_folder(plan.out):
            print(f"orgscale sweep: {plan.out} is not a results folder", file=sys.stderr)
            return 2
        print(
            f"sweep {plan.spec.name}: {len(plan.tasks)} runs; --fresh would move {plan.out} "
            f"aside and run all of them"
        )
        return 0
    print(plan.describe())
    return 2 if plan.state.problem else 0
