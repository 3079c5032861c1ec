"""``orgscale figures``: redraw every figure of the paper from a results folder; run nothing.

The folder must hold the runs of the paper's spec (``--spec``): a folder whose design hash
differs is refused (exit 2), never refitted silently. The paper's numbers
(``paper_numbers.json``) are read from the folder when current, else computed in memory:
nothing is written into the results folder, which may be read-only. Each figure script in
``paper/scripts/`` draws from them and writes ``<name>.png`` and ``<name>.pdf`` into
``--out``. No model is run. Exit status 2 for a missing folder, a folder without runs, runs
of another design, or an ``--out`` that cannot be written.

Usage: ``orgscale figures results/paper [--out paper/figures] [--spec SPEC]``
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
PAPER_BUILD = ROOT / "paper" / "build.py"


def load_paper_build() -> ModuleType:
    """Import ``paper/build.py`` of this source tree (it is not part of the installed package).

    Raises
    ------
    FileNotFoundError
        The source tree has no ``paper/build.py`` (an installed copy without the paper).
    """
    name = "orgscale_paper_build"
    if name in sys.modules:
        return sys.modules[name]
    if not PAPER_BUILD.is_file():
        raise FileNotFoundError(
            f"{PAPER_BUILD} not found: the paper commands need a source checkout of orgscale"
        )
    spec = importlib.util.spec_from_file_location(name, PAPER_BUILD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="redraw the paper's figures from a results folder (runs nothing)",
        description=(
            "Redraw every figure of the paper (one script each in paper/scripts/) from a "
            "results folder into PNG and PDF files. No simulation is run."
        ),
    )
    parser.add_argument("results", metavar="RESULTS_DIR", help="results folder, e.g. results/paper")
    parser.add_argument(
        "--out", metavar="DIR", default=None, help="output folder (default paper/figures)"
    )
    parser.add_argument(
        "--spec",
        metavar="SPEC",
        default=None,
        help="the spec the results must come from (default sweeps/specs/paper.toml)",
    )
    parser.add_argument(
        "--sensitivity",
        metavar="DIR",
        default=None,
        help="sensitivity results (default results/paper_sensitivity)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    results = Path(args.results)
    try:
        build = load_paper_build()
        out = Path(args.out) if args.out else build.DEFAULT_FIGURES
        if not results.is_dir():
            raise FileNotFoundError(f"results folder {results} does not exist")
        written = build.figures(
            results,
            out,
            spec=args.spec or build.DEFAULT_SPEC,
            sensitivity=args.sensitivity or build.DEFAULT_SENSITIVITY,
        )
    except (FileNotFoundError, build.DesignMismatchError) as err:
        print(f"orgscale figures: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. an --out folder that cannot be written
        print(f"orgscale figures: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print(f"{len(written)} files written to {out}")
    return 0
