"""``orgscale paper``: the whole paper from nothing: sweep, fits, figures, ``paper/paper.md``.

1. Runs the paper sweep (default ``sweeps/specs/paper.toml``) into its results folder
   (default ``results/<name>/``); it is resumable, so finished runs are reused and a second
   call only fits and draws. Progress is shown while it runs.
2. Fits the scaling laws and writes ``fits.json`` and ``fits.csv`` into the results folder.
3. Draws every figure (``paper/scripts/*.py``) into ``paper/figures/``.
4. Writes ``paper/paper.md`` from ``paper/paper_template.md``; it fails, naming the number,
   if a number the paper needs is missing.

Exit status: 0 on success; 1 if some runs failed (the paper is still written from the runs
that succeeded) or the paper cannot be built; 2 for bad input (invalid spec, a results folder
of another spec: ``--fresh`` moves it aside); 130 when interrupted (finished runs are kept;
run it again to resume).

Usage: ``orgscale paper [--spec sweeps/specs/paper.toml] [--results DIR] [--jobs N] [--fresh]
[--quiet]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sweeps.commands import positive_int, print_spec_warnings
from sweeps.commands.figures import ROOT, load_paper_build

DEFAULT_SPEC = ROOT / "sweeps" / "specs" / "paper.toml"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "paper",
        help="run the paper sweep (resumable), fit, draw every figure and write paper/paper.md",
        description=(
            "Build the design paper from nothing: run the paper sweep (reusing finished runs), "
            "fit scaling laws, draw every figure and write paper/paper.md."
        ),
    )
    parser.add_argument(
        "--spec",
        default=str(DEFAULT_SPEC),
        metavar="SPEC",
        help="sweep spec (default sweeps/specs/paper.toml)",
    )
    parser.add_argument(
        "--results", metavar="DIR", default=None, help="results folder (default results/<name>)"
    )
    parser.add_argument("--jobs", type=positive_int, metavar="N", help="worker processes")
    parser.add_argument(
        "--backend",
        default="loky",
        choices=("loky", "sequential", "dask"),
        help="where runs execute (default loky)",
    )
    parser.add_argument(
        "--out", metavar="FILE", default=None, help="paper (default paper/paper.md)"
    )
    parser.add_argument(
        "--figures", metavar="DIR", default=None, help="figure folder (default paper/figures)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples for the fits' CIs (default 1000)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="move an existing results folder aside (DIR.old-<time>) and run the sweep again",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output from the sweep")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(
            "orgscale paper: interrupted; finished runs are saved, run the same command to resume",
            file=sys.stderr,
        )
        return 130


def _run(args: argparse.Namespace) -> int:
    from sweeps.runner import run_sweep
    from sweeps.spec import SpecError, load_spec
    from sweeps.store import ResultsConflictError

    start = time.monotonic()
    try:
        build = load_paper_build()
        spec = load_spec(args.spec)
        print_spec_warnings("orgscale paper", spec)
        results = Path(args.results) if args.results else ROOT / "results" / spec.name
        if args.bootstrap < 0:
            raise ValueError(f"--bootstrap {args.bootstrap} is invalid: must be >= 0")
        print(f"orgscale paper: 1/3 sweep {spec.name} into {results}", flush=True)
        table = run_sweep(
            spec,
            out=results,
            backend=args.backend,
            jobs=args.jobs,
            quiet=args.quiet,
            fresh=args.fresh,
            columns=["status"],
        )
    except (SpecError, ResultsConflictError, ValueError, OSError) as err:
        print(f"orgscale paper: {err}", file=sys.stderr)
        return 2
    failed = int((table["status"] != "ok").sum())
    print(
        f"orgscale paper: {len(table)} runs, {failed} failed "
        f"({time.monotonic() - start:.0f} s so far)",
        flush=True,
    )
    print("orgscale paper: 2/3 fits and figures, 3/3 paper", flush=True)
    try:
        paper = build.build(
            results,
            out=args.out or build.DEFAULT_OUT,
            figures_dir=args.figures or build.DEFAULT_FIGURES,
            n_boot=args.bootstrap,
            log=lambda msg: print(f"  {msg}", flush=True),
        )
    except (build.MissingNumberError, FileNotFoundError, ValueError) as err:
        print(f"orgscale paper: cannot build the paper: {err}", file=sys.stderr)
        return 1
    print(f"orgscale paper: wrote {paper} in {time.monotonic() - start:.0f} s")
    return 1 if failed else 0
