"""``orgscale sensitivity SPEC``: Sobol or Morris indices over a spec's ``[sample]`` ranges.

Runs the spec through the ordinary runner (parallel, resumable, results in
``results/<name>/``), then writes ``sensitivity.csv`` beside the results and prints the
indices. Exit status: 0 on success; 1 if the indices cannot be computed (e.g. failed runs);
2 for bad input (invalid spec or metric, a results folder of another spec: ``--fresh``
moves it aside); 130 when interrupted (finished runs are kept; run it again to resume).

Usage: ``orgscale sensitivity sweeps/specs/sensitivity.toml --metric lead_time_mean
[--fresh] [--timeout SECONDS] [--allow-large]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sweeps.atomic import atomic_write_text
from sweeps.commands import positive_int, positive_seconds, print_spec_warnings
from sweeps.runner import run_sweep
from sweeps.sensitivity import SensitivityError, analyse, check_spec, to_frame
from sweeps.spec import LARGE_DESIGN_RUNS, SpecError, load_spec, unknown_name
from sweeps.store import ResultsConflictError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sensitivity",
        help="Sobol / Morris sensitivity indices over a spec's [sample] ranges",
        description=" ".join(__doc__.split("\n\n")[1].split()),
    )
    parser.add_argument("spec", metavar="SPEC", help="spec with a [sample] block (sobol/morris)")
    parser.add_argument(
        "--metric",
        default="integration_cost",
        help="comma-separated metrics to analyse (default integration_cost)",
    )
    parser.add_argument("--out", metavar="DIR", help="results folder (default results/<name>)")
    parser.add_argument("--jobs", type=positive_int, help="worker processes (default: all cores)")
    parser.add_argument(
        "--backend", choices=("loky", "sequential", "dask"), default="loky", help="default loky"
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        metavar="SECONDS",
        help="stop a run after this many seconds and record it as failed",
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
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(
            "orgscale sensitivity: interrupted; finished runs are saved, run the same command "
            "to resume",
            file=sys.stderr,
        )
        return 130


def _run(args: argparse.Namespace) -> int:
    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    try:
        spec = load_spec(args.spec, allow_large=args.allow_large)
        check_spec(spec)
        from model import METRICS

        unknown = [m for m in metrics if m not in METRICS]
        if not metrics:
            raise SensitivityError(f"--metric {args.metric!r}: expected metric names")
        if unknown:
            listed = "`orgscale run` prints every metric"
            raise SensitivityError(
                "--metric: "
                + "; ".join(unknown_name("metric", m, METRICS, listed) for m in unknown)
            )
        print_spec_warnings("orgscale sensitivity", spec)
        out = Path(args.out) if args.out else Path("results") / spec.name
        table = run_sweep(
            spec,
            out=out,
            backend=args.backend,
            jobs=args.jobs,
            quiet=args.quiet,
            fresh=args.fresh,
            timeout_s=args.timeout,
        )
    except (SpecError, SensitivityError, ResultsConflictError, ValueError, OSError) as err:
        print(f"orgscale sensitivity: error: {err}", file=sys.stderr)
        return 2
    try:
        results = [r for metric in metrics for r in analyse(spec, table, metric)]
    except SensitivityError as err:
        print(f"orgscale sensitivity: error: {err}", file=sys.stderr)
        return 1
    frame = to_frame(results)
    atomic_write_text(out / "sensitivity.csv", frame.to_csv(index=False))
    for r in results:
        print(f"{r.method} indices of {r.metric} at {r.base or 'the fixed point'}:")
        print(r.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {out / 'sensitivity.csv'}")
    return 0
