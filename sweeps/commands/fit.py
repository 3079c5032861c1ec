"""``orgscale fit``: fit scaling laws y(N) to a results table; write ``fits.csv`` and ``fits.json``.

Reads SOURCE, either a results folder (through :func:`sweeps.load_results`: ``runs.parquet``
and any part files, one row per run even when both hold it) or one CSV or Parquet file. Rows
whose ``status`` is not ``"ok"`` are excluded and counted. For each group of ``--by`` columns
it compares the laws of :mod:`sweeps.fit` by AICc and estimates the power-law exponent with a
bootstrap CI, then writes ``fits.csv`` (one row per group and law, with the group's
``n_runs``) and ``fits.json`` (schema in ``docs/fits.md``) into ``--out`` (default: the
folder, or the file's directory), each atomically, and prints one line per group. Bad input
(missing file, unknown column, too few N, a non-positive metric) prints one line on stderr,
writes nothing and exits with status 2.

Usage: ``orgscale fit results/paper --metric integration_cost --by topology,ci_automation``
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from sweeps.atomic import atomic_write_text
from sweeps.commands import nonnegative_int
from sweeps.fit import DEFAULT_N_BOOT, TableFit, fit_groups, fits_frame, fits_json
from sweeps.store import PARTS_DIR, RUNS_FILE, load_results

DEFAULT_METRIC = "integration_cost"
DEFAULT_BY = "topology,ci_automation"
DEFAULT_N_COL = "n_teams"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit",
        help="fit scaling laws y(N) to sweep results",
        description=(
            "Fit constant, linear, N log N, quadratic and power laws to a metric against N "
            "for each group of runs; write fits.csv and fits.json."
        ),
    )
    parser.add_argument(
        "source", help="results folder (runs.parquet and parts) or a .csv/.parquet file"
    )
    parser.add_argument(
        "--metric", default=DEFAULT_METRIC, help=f"column to fit (default {DEFAULT_METRIC})"
    )
    parser.add_argument(
        "--by",
        default=DEFAULT_BY,
        help=f"comma-separated group columns, '' for none (default {DEFAULT_BY})",
    )
    parser.add_argument(
        "--n-col", default=DEFAULT_N_COL, help=f"column holding N (default {DEFAULT_N_COL})"
    )
    parser.add_argument(
        "--out", default=None, help="output folder (default: beside SOURCE; created if missing)"
    )
    parser.add_argument(
        "--seed", type=nonnegative_int, default=0, help="bootstrap seed (default 0)"
    )
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=DEFAULT_N_BOOT,
        help=f"bootstrap resamples, 0 for none (default {DEFAULT_N_BOOT})",
    )
    parser.set_defaults(handler=run)


def load_table(source: Path) -> pd.DataFrame:
    """Read a results folder or one ``.csv``/``.parquet`` file, one row per run.

    A folder is read by :func:`sweeps.load_results`, which counts a run once even when both
    ``runs.parquet`` and a part file hold it (a sweep killed while compacting, or resumed);
    globbing the Parquet files would count it twice and narrow every CI.

    Raises
    ------
    FileNotFoundError
        SOURCE does not exist, or a folder holds no runs.
    ValueError
        SOURCE is a file of another type, or a folder whose tables lack ``run_id`` or
        ``status``.
    """
    if source.is_dir():
        try:
            df = load_results(source)
        except KeyError as err:
            raise ValueError(
                f"{source} is not a results folder: its tables need run_id and status columns "
                f"({err.args[0] if err.args else err})"
            ) from err
        if df.empty:
            raise FileNotFoundError(
                f"{source} holds no runs (no {RUNS_FILE} or {PARTS_DIR}/part-*.parquet)"
            )
        return df
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist")
    suffix = source.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(source)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(source)
    raise ValueError(f"{source}: unsupported file type {suffix!r}; give a folder, .csv or .parquet")


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def summary_table(table: TableFit) -> pd.DataFrame:
    """One row per group: runs used, failed runs, best law, its weight, exponent and CI."""
    level = round(100 * table.level)
    rows = []
    for g in table.groups:
        exp = g.fit.exponent
        row = dict(zip(table.by, g.key, strict=True)) if table.by else {"group": g.label}
        row.update(
            {
                "runs": g.n_runs,
                "failed": g.n_excluded_failed,
                "best law": g.fit.laws.best,
                "weight": _fmt(g.fit.laws.best_weight, 2),
                "exponent": _fmt(exp.estimate),
                f"{level}% CI": f"[{_fmt(exp.ci_low)}, {_fmt(exp.ci_high)}]",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def run(args: argparse.Namespace) -> int:
    source = Path(args.source)
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    try:
        if args.bootstrap < 0:
            raise ValueError(f"--bootstrap {args.bootstrap} is invalid: must be >= 0")
        df = load_table(source)
        table = fit_groups(df, args.metric, by, args.n_col, rng=args.seed, n_boot=args.bootstrap)
        frame = fits_frame(table)
        doc = fits_json(table)
        doc["source"] = str(source)
        doc["seed"] = args.seed
        out = Path(args.out) if args.out else (source if source.is_dir() else source.parent)
        if out.exists() and not out.is_dir():
            raise ValueError(f"--out {out} is a file, not a folder")
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        print(f"orgscale fit: error: {err}", file=sys.stderr)
        return 2

    csv_path, json_path = out / "fits.csv", out / "fits.json"
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(csv_path, frame.to_csv(index=False))
        atomic_write_text(json_path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    except OSError as err:
        print(f"orgscale fit: error: cannot write results: {err}", file=sys.stderr)
        return 1

    print(
        f"{table.metric} vs {table.n_col}: {len(table.groups)} group(s), "
        f"{sum(g.n_runs for g in table.groups)} runs fitted, "
        f"{table.n_excluded_failed} failed runs excluded"
    )
    print(summary_table(table).to_string(index=False))
    print(f"wrote {csv_path} and {json_path}")
    return 0
