"""``orgscale observe SOURCE``: a real history (or a model run's event log) read into the event
log, and its patterns.

SOURCE is a git repository (work tree, bare clone or mirror), a Gerrit REST export (JSON
lines), a GitHub pull-request export (JSON), or an event log written by
``orgscale run --events``. Prints the patterns (``--json``: one object); ``--out`` writes them
with per-area counts and co-change coupling as TOML, ``--events`` the event log as Parquet.
Both files are written only once everything has been read and computed, each atomically.

Usage: ``orgscale observe SOURCE [--since DATE] [--until DATE] [--areas-depth K | --areas FILE]
[--json] [--out patterns.toml] [--events FILE.parquet]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from model.eventlog import EventLogError, log_info, read_events, write_events
from observe.patterns import change_table
from observe.summary import (
    WindowError,
    parse_bound,
    resolve_window,
    summarize,
    summarize_periods,
)
from sweeps.atomic import atomic_write_text

UNITS = {
    "submitted_per_day": "changes/day",
    "merged_per_day": "changes/day",
    "abandoned_per_day": "changes/day",
    "authors": "people",
    "reviews_per_day": "votes/day",
    "reviews_per_active_reviewer_day": "votes/reviewer/day",
    "patch_sets_per_change": "patch sets",
    "top_direct_landed_share": "share",
    "tree_depth": "merge hops",
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "observe",
        help="read a project's history (or a model run's event log) and print its patterns",
        description=(
            "Read a git repository, a Gerrit or GitHub export, or a model run's event log "
            "into one event-log schema and print the patterns computed from it."
        ),
    )
    parser.add_argument("source", help="git repository, Gerrit/GitHub export, or event log")
    parser.add_argument("--since", default=None, metavar="DATE", help="window start (YYYY-MM-DD)")
    parser.add_argument(
        "--until", default=None, metavar="DATE", help="window end, exclusive (YYYY-MM-DD)"
    )
    areas = parser.add_mutually_exclusive_group()
    areas.add_argument(
        "--areas-depth",
        type=int,
        default=None,
        metavar="K",
        help="a change's area: the first K directories of its files (default: no areas)",
    )
    areas.add_argument(
        "--areas", default=None, metavar="FILE", help="areas from a MAINTAINERS or CODEOWNERS file"
    )
    parser.add_argument(
        "--every",
        default=None,
        choices=("month", "quarter", "year"),
        help="also the patterns of each calendar month, quarter or year of the window",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--out", default=None, metavar="FILE", help="write the patterns, areas and coupling (TOML)"
    )
    parser.add_argument(
        "--events", default=None, metavar="FILE", help="write the event log (Parquet)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress messages")
    parser.set_defaults(handler=run)


def fail(message: str) -> int:
    print(f"orgscale observe: error: {message}", file=sys.stderr)
    return 2


def check_output(path: str | None, option: str) -> str | None:
    """An output path's folder must exist and be writable: said before any work is done."""
    if path is None:
        return None
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        return f"{option} {path}: folder {folder} does not exist"
    if Path(path).is_dir():
        return f"{option} {path}: is a folder, give a file name"
    import os

    if not os.access(folder, os.W_OK):
        return f"{option} {path}: folder {folder} is not writable"
    return None


def read(args: argparse.Namespace) -> tuple[Any, str, str | None, list[str]]:
    """(event log, workflow, commit or file hash, notes) of ``args.source``."""
    source = Path(args.source)
    if source.suffix == ".parquet":
        log = read_events(source)
        info = log_info(log)
        return log, info.get("workflow", "model"), info.get("commit"), []
    from observe.sources import read_source

    since = parse_bound(args.since, dated=True, what="--since")
    until = parse_bound(args.until, dated=True, what="--until")
    progress = None if args.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    history = read_source(
        source,
        since=since,
        until=until,
        areas_depth=args.areas_depth,
        areas_file=Path(args.areas) if args.areas else None,
        progress=progress,
    )
    return history.table, history.workflow, history.commit, list(history.notes)


def run(args: argparse.Namespace) -> int:
    from observe.sources import ObserveError

    if args.areas_depth is not None and args.areas_depth < 1:
        return fail(f"--areas-depth {args.areas_depth} is invalid: must be an integer ≥ 1")
    for path, option in ((args.out, "--out"), (args.events, "--events")):
        problem = check_output(path, option)
        if problem:
            return fail(problem)
    try:
        log, workflow, commit, notes = read(args)
        changes = change_table(log)
        if not len(changes.table):
            raise WindowError("the source holds no change")
        window = resolve_window(log, changes, args.since, args.until)
        summary = summarize(log, changes, window, workflow=workflow)
        if args.every:
            summary["periods"] = summarize_periods(
                log, changes, window, workflow=workflow, every=args.every
            )
    except (ObserveError, EventLogError, WindowError) as err:
        return fail(str(err))
    if summary["changes"] == 0:
        return fail("no change landed in the window: choose a wider --since/--until")
    summary["source"] = {
        "path": Path(args.source).name,
        "commit": commit,
        "command": "orgscale observe " + shlex.join(_command_args(args)),
        "observed_on": dt.date.today().isoformat(),
        "notes": notes,
    }
    if not args.quiet:
        for note in notes:
            print(note, file=sys.stderr)
    if args.events:
        meta = dict(log.schema.metadata or {})
        meta[b"orgscale.workflow"] = workflow.encode()
        if commit:
            meta[b"orgscale.commit"] = commit.encode()
        write_events(log.replace_schema_metadata(meta), args.events)
    if args.out:
        import tomli_w

        atomic_write_text(args.out, tomli_w.dumps(_toml_ready(summary)))
    try:
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(render(summary))
    except BrokenPipeError:  # e.g. piped into head
        sys.stderr.close()
    return 0


def _command_args(args: argparse.Namespace) -> list[str]:
    """The arguments that define what was observed (not where the output went)."""
    out = [Path(args.source).name]
    for option in ("since", "until", "areas_depth", "areas", "every"):
        value = getattr(args, option)
        if value is not None:
            out += [f"--{option.replace('_', '-')}", str(value)]
    return out


def _toml_ready(value: Any) -> Any:
    """TOML has no null: drop keys whose value is ``None``."""
    if isinstance(value, dict):
        return {k: _toml_ready(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_toml_ready(v) for v in value]
    return value


def render(summary: dict[str, Any]) -> str:
    """The summary as a short text report."""
    window = summary["window"]
    span = (
        f"{window['since']} to {window['until']}"
        if "since" in window
        else f"days {window['start_days']:g} to {window['end_days']:g}"
    )
    lines = [
        f"{summary['source']['path']}: {summary['workflow']} workflow, {span} "
        f"({window['days']:g} days), {summary['changes']:,} changes landed",
    ]
    skip = {"workflow", "changes", "window", "areas", "co_change", "source", "periods"}
    width = max(len(k) for k in summary if k not in skip)
    for key, value in summary.items():
        if key in skip:
            continue
        unit = UNITS.get(key, "days")
        text = "—" if value is None else f"{value:.4g}"
        lines.append(f"  {key:<{width}}  {text:>10}  {unit}")
    top = summary["areas"][:5]
    if top:
        lines.append("  busiest areas: " + ", ".join(f"{a['area']} ({a['landed']})" for a in top))
    periods = summary.get("periods") or []
    if periods:
        lines.append("")
        lines.append(render_periods(periods))
    return "\n".join(lines)


PERIOD_COLUMNS = (
    "merged_per_day",
    "authors",
    "lead_time_p25",
    "lead_time_p50",
    "lead_time_p75",
    "lead_time_p90",
)


def render_periods(periods: list[dict[str, Any]]) -> str:
    """One line a period: its start and the flow and lead-time patterns."""
    header = ["period", "landed", *PERIOD_COLUMNS]
    rows = []
    for p in periods:
        window = p["window"]
        start = window.get("since", f"{window['start_days']:g}")
        values = ["—" if p[c] is None else f"{p[c]:.3g}" for c in PERIOD_COLUMNS]
        rows.append([start, str(p["changes"]), *values])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  " + "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
        for r in [header, *rows]
    )
