"""``orgscale advise SOURCE``: observe one project, calibrate the model to it, compare
organisations for it over a horizon of growth, and write a report.

SOURCE is as for ``observe`` (a git repository, a Gerrit or GitHub export). Every stage
writes into ``--out`` (default ``results/advise/<source name>``) and is skipped when its
output is there and matches its inputs; a killed run continues with the stages done.
Exit status 2 for bad input or a history too short or too small to calibrate (nothing
written), 130 when interrupted.

Usage: ``orgscale advise SOURCE [--since DATE] [--until DATE] [--areas-depth K | --areas FILE]
[--horizon-years Y] [--budget-minutes M] [--jobs N] [--out DIR]``
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
from pathlib import Path

from sweeps.commands import positive_int

PROG = "orgscale advise"
_MAIN_PID = [0]  # the process that runs the command (forked workers differ)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a number > 0")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "advise",
        help="how should this project organise its review? observe, calibrate, compare, report",
        description=__doc__.split("\n\n")[0].replace("\n", " "),
    )
    parser.add_argument("source", help="git repository or Gerrit/GitHub export")
    parser.add_argument("--since", default=None, metavar="DATE", help="history start (YYYY-MM-DD)")
    parser.add_argument(
        "--until",
        default=None,
        metavar="DATE",
        help="history end, exclusive (YYYY-MM-DD): advice as of that date",
    )
    areas = parser.add_mutually_exclusive_group()
    areas.add_argument(
        "--areas-depth",
        type=int,
        default=None,
        metavar="K",
        help="a change's area: the first K directories of its files (default 1)",
    )
    areas.add_argument(
        "--areas", default=None, metavar="FILE", help="areas from a MAINTAINERS or CODEOWNERS file"
    )
    parser.add_argument(
        "--horizon-years", type=_positive, default=3.0, metavar="Y", help="years ahead (default 3)"
    )
    parser.add_argument(
        "--budget-minutes",
        type=_positive,
        default=30.0,
        metavar="M",
        help="wall-clock budget for calibration and comparison (default 30)",
    )
    parser.add_argument(
        "--jobs", type=positive_int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument("--out", default=None, metavar="DIR", help="default results/advise/<name>")
    parser.set_defaults(handler=run)


def child_pids(pid: int | None = None) -> list[int]:
    """This process's descendants (Linux ``/proc``; none elsewhere), deepest first."""
    pid = os.getpid() if pid is None else pid
    out: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(c) for c in tasks.read_text().split()]
        except OSError:
            continue
        for child in children:
            out += [*child_pids(child), child]
    return out


def _on_interrupt(signum, frame) -> None:
    """Ctrl-C: stop this command's worker processes and exit 130 at once.

    Every file a stage writes is renamed into place whole, the calibration keeps its
    finished generations and the comparison its finished runs, so nothing is lost that a
    rerun needs; waiting for a worker pool to drain its queue would only delay the exit.
    A forked worker (which inherits this handler) just exits.
    """
    if os.getpid() != _MAIN_PID[0]:
        os._exit(130)
    print(
        f"{PROG}: interrupted; finished stages and runs are kept, run the same command to resume",
        file=sys.stderr,
        flush=True,
    )
    for pid in child_pids():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    os._exit(130)


def fail(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from sweeps.advise import AdviseError, Options, advise
    from sweeps.advise.compare import stderr_progress

    if args.areas_depth is not None and args.areas_depth < 1:
        return fail(f"--areas-depth {args.areas_depth} is invalid: must be an integer ≥ 1")
    source = Path(args.source)
    if not source.exists():
        return fail(f"{source}: no such file or directory")
    if args.areas is not None and not Path(args.areas).is_file():
        return fail(f"--areas {args.areas}: no such file")
    out = Path(args.out) if args.out else Path("results") / "advise" / source.resolve().name
    opts = Options(
        source=source,
        out=out,
        since=args.since,
        until=args.until,
        areas_depth=args.areas_depth if args.areas is None else None,
        areas_file=Path(args.areas) if args.areas else None,
        horizon_years=args.horizon_years,
        budget_minutes=args.budget_minutes,
        jobs=args.jobs or os.cpu_count() or 1,
    )
    _MAIN_PID[0] = os.getpid()
    previous = signal.signal(signal.SIGINT, _on_interrupt)
    try:
        report = advise(opts, progress=stderr_progress(PROG))
    except AdviseError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted; finished stages are kept, run the same command to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
    print(report)
    return 0
