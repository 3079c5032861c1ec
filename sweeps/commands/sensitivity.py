"""``orgscale sensitivity SPEC``: Sobol or Morris indices over a spec's ``[sample]`` ranges.

Runs the spec through the ordinary runner (parallel, resumable, results in
``results/<name>/``), then writes ``sensitivity.csv`` beside the results and prints the
indices. Usage: ``orgscale sensitivity sweeps/specs/sensitivity.toml --metric lead_time_mean``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from sweeps.commands import positive_int
from sweeps.runner import run_sweep
from sweeps.sensitivity import SensitivityError, analyse, check_spec, to_frame
from sweeps.spec import SpecError, load_spec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sensitivity",
        help="Sobol / Morris sensitivity indices over a spec's [sample] ranges",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
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
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(handler=run)


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def run(args: argparse.Namespace) -> int:
    metrics = [m.strip() for m in args.metric.split(",") if m.strip()]
    try:
        spec = load_spec(args.spec)
        check_spec(spec)
        from model import METRICS

        unknown = [m for m in metrics if m not in METRICS]
        if not metrics or unknown:
            raise SensitivityError(
                f"--metric {','.join(unknown) or repr(args.metric)}: unknown metric; "
                f"valid metrics are {', '.join(METRICS)}"
            )
    except (SpecError, SensitivityError, OSError) as err:
        print(f"orgscale sensitivity: error: {err}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path("results") / spec.name
    table = run_sweep(spec, out=out, backend=args.backend, jobs=args.jobs, quiet=args.quiet)
    try:
        results = [r for metric in metrics for r in analyse(spec, table, metric)]
    except SensitivityError as err:
        print(f"orgscale sensitivity: error: {err}", file=sys.stderr)
        return 1
    frame = to_frame(results)
    _write_atomic(out / "sensitivity.csv", frame.to_csv(index=False))
    for r in results:
        print(f"{r.method} indices of {r.metric} at {r.base or 'the fixed point'}:")
        print(r.table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {out / 'sensitivity.csv'}")
    return 0
