"""One module per ``orgscale`` sub-command.

Each defines ``add_parser(subparsers)`` and ``run(args)``.
"""

import argparse
import math
import os
import sys
from pathlib import Path


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (e.g. ``--jobs``), else a clear usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected an integer >= 1")
    return value


def nonnegative_int(text: str) -> int:
    """argparse type: an integer >= 0 (e.g. ``--seed``), else a clear usage error."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected an integer >= 0")
    return value


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds > 0 (e.g. ``--timeout``), else a clear usage error."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected a number of seconds > 0")
    return value


def check_writable(path: Path, option: str) -> None:
    """Raise ``ValueError`` (one line) unless a file could be written at ``path``.

    Checked before a command spends its time (e.g. ``validate --csv`` after all its runs):
    ``path`` must not be a folder, and its nearest existing parent must be a writable
    folder (missing folders below it are created when the file is written).
    """
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; expected a file name")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{option} {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValueError(f"{option} {path}: not writable here")


def print_spec_warnings(prog: str, spec) -> None:
    """Print a spec's one-line warnings (:attr:`sweeps.spec.SweepSpec.warnings`) on stderr."""
    for warning in spec.warnings:
        print(f"{prog}: warning: {warning}", file=sys.stderr)
