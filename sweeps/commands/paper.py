"""``orgscale paper``: the whole paper from nothing: sweeps, numbers, figures, ``paper/paper.md``.

1. Runs the paper sweep (default ``sweeps/specs/paper.toml``) into its results folder
   (default ``results/<name>/``) and the sensitivity sweep
   (``sweeps/specs/paper_sensitivity.toml``, into ``results/<its name>/``; ``--no-sensitivity``
   skips it); both are resumable, so finished runs are reused and a second call only
   computes and draws. Progress is shown while they run.
2. Writes the validation table of the presets (``validation.csv`` in the results folder)
   when the presets and ``sweeps.validate`` are there and the table is not yet written.
3. Computes every number once (``paper_numbers.json``, its own file: ``orgscale fit`` never
   overwrites it), draws every figure (``paper/scripts/*.py``) into ``paper/figures/``.
4. Writes ``paper/paper.md`` from ``paper/paper_template.md``; it fails, naming the number,
   if a number the paper needs is missing.

Exit status: 0 on success; 1 if some runs failed (the paper is still written from the runs
that succeeded) or the paper cannot be built; 2 for bad input (invalid spec, a results folder
of another spec: ``--fresh`` moves it aside); 130 when interrupted (finished runs are kept;
run it again to resume).

Usage: ``orgscale paper [--spec sweeps/specs/paper.toml] [--results DIR] [--jobs N] [--fresh]
[--sensitivity-spec SPEC | --no-sensitivity] [--quiet]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sweeps.commands import positive_int, print_spec_warnings
from sweeps.commands.figures import ROOT, load_paper_build

DEFAULT_SPEC = ROOT / "sweeps" / "specs" / "paper.toml"
DEFAULT_SENSITIVITY_SPEC = ROOT / "sweeps" / "specs" / "paper_sensitivity.toml"
VALIDATION_PRESETS = ("nova-2013", "linux")
VALIDATION_SEEDS = 5


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
        "--sensitivity-spec",
        default=str(DEFAULT_SENSITIVITY_SPEC),
        metavar="SPEC",
        help="the robustness sweep (default sweeps/specs/paper_sensitivity.toml)",
    )
    parser.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity sweep")
    parser.add_argument(
        "--no-validation", action="store_true", help="skip the presets' validation table"
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


def _sweep_current(run_sweep, spec, *, out: Path, **options):
    """Run a paper sweep; results made by another model are moved aside and rebuilt.

    The paper states what the current code gives: a folder of the same spec whose runs
    another model made (its code or its defaults changed) cannot be resumed, so it is moved
    aside (``<out>.old-<time>``, nothing deleted) with one line saying so, and the sweep
    runs again. Any other conflict (another spec, a folder that is not ours) still stops.
    """
    from sweeps.store import StaleResultsError

    try:
        return run_sweep(spec, out=out, **options)
    except StaleResultsError as err:
        print(f"orgscale paper: {err}; rebuilding it for the current model", flush=True)
        return run_sweep(spec, out=out, **{**options, "fresh": True})


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
        sens_spec = None if args.no_sensitivity else load_spec(args.sensitivity_spec)
        sens_out = None
        if sens_spec is not None:
            print_spec_warnings("orgscale paper", sens_spec)
            sens_out = results.parent / sens_spec.name
        print(f"orgscale paper: 1/4 sweep {spec.name} into {results}", flush=True)
        table = _sweep_current(
            run_sweep,
            spec,
            out=results,
            backend=args.backend,
            jobs=args.jobs,
            quiet=args.quiet,
            fresh=args.fresh,
            columns=["status"],
        )
        failed = int((table["status"] != "ok").sum())
        if sens_spec is not None:
            print(f"orgscale paper: 2/4 sweep {sens_spec.name} into {sens_out}", flush=True)
            sens = _sweep_current(
                run_sweep,
                sens_spec,
                out=sens_out,
                backend=args.backend,
                jobs=args.jobs,
                quiet=args.quiet,
                fresh=args.fresh,
            )
            failed += int((sens["status"] != "ok").sum())
    except (SpecError, ResultsConflictError, ValueError, OSError) as err:
        print(f"orgscale paper: {err}", file=sys.stderr)
        return 2
    print(
        f"orgscale paper: {len(table)} runs, {failed} failed "
        f"({time.monotonic() - start:.0f} s so far)",
        flush=True,
    )
    if not args.no_validation:
        _validation(results, jobs=args.jobs or 1)
    print("orgscale paper: 3/4 numbers and figures, 4/4 paper", flush=True)
    try:
        paper = build.build(
            results,
            out=args.out or build.DEFAULT_OUT,
            figures_dir=args.figures or build.DEFAULT_FIGURES,
            spec=args.spec,
            sensitivity=sens_out,
            log=lambda msg: print(f"  {msg}", flush=True),
        )
    except (build.MissingNumberError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"orgscale paper: cannot build the paper: {err}", file=sys.stderr)
        return 1
    print(f"orgscale paper: wrote {paper} in {time.monotonic() - start:.0f} s")
    return 1 if failed else 0


def _validation(results: Path, *, jobs: int) -> None:
    """Write ``results/validation.csv``: the presets' validation tables (observed against
    simulated, in-sample and held out), unless it is there for the same presets, posteriors
    and model defaults (``validation.key``: their hash) or the presets are not."""
    path = results / "validation.csv"
    key_path = results / "validation.key"
    key = _validation_key()
    if path.is_file() and key_path.is_file() and key_path.read_text().strip() == key:
        return
    try:
        from sweeps.validate import validation_table
    except ImportError:
        print("orgscale paper: no presets to validate (sweeps.validate missing)", flush=True)
        return
    import pandas as pd

    from sweeps.atomic import atomic_write_text

    print(f"orgscale paper: validation of {', '.join(VALIDATION_PRESETS)}", flush=True)
    from sweeps.validate import calibrated_config

    frames = []
    for name in VALIDATION_PRESETS:
        # the calibration's posterior when it has been run (orgscale calibrate), else the preset
        calibrated = ROOT / "results" / "calibration" / name / "calibrated.toml"
        overrides = calibrated_config(calibrated) if calibrated.is_file() else None
        frame = validation_table(name, seeds=VALIDATION_SEEDS, jobs=jobs, overrides=overrides)
        if "preset" not in frame.columns:
            frame.insert(0, "preset", name)
        frame["configuration"] = "calibrated" if overrides else "preset"
        frames.append(frame)
    atomic_write_text(path, pd.concat(frames, ignore_index=True).to_csv(index=False))
    atomic_write_text(key_path, key + "\n")


def _validation_key() -> str:
    """sha256 of what the validation table depends on: each preset's file, its calibration's
    posterior medians (if any) and the model's parameter table (defaults and sources)."""
    import hashlib

    from model import describe
    from model.presets import resolve

    digest = hashlib.sha256(describe().encode())
    for name in VALIDATION_PRESETS:
        digest.update(resolve(name).read_bytes())
        calibrated = ROOT / "results" / "calibration" / name / "calibrated.toml"
        if calibrated.is_file():
            digest.update(calibrated.read_bytes())
    return digest.hexdigest()
