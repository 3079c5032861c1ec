"""One module per ``orgscale`` sub-command.

Each defines ``add_parser(subparsers)`` and ``run(args)``.
"""

import argparse


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (e.g. ``--jobs``), else a clear usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: expected an integer >= 1")
    return value
