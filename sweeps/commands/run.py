"""``orgscale run``: one model run with chosen parameters; prints its metrics.

Usage: ``orgscale run [--preset NAME] --topology hierarchical --n-teams 16 --days 365 --seed 1
[--set key=value]... [--json] [--events FILE.parquet]``

With ``--preset NAME`` (see ``orgscale presets``) the run starts from that preset's
configuration and run length; ``--topology``, ``--n-teams``, ``--days`` and ``--set`` given
explicitly override it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from typing import Any

from model import METRICS, PARAMETERS, OrgModel, validate_params
from sweeps.commands import nonnegative_int
from sweeps.spec import did_you_mean, unknown_name

PARAMETERS_LISTED = "python -c 'import model; print(model.describe())' lists them"


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``key=value`` into a model parameter name and a value of the right type.

    Raises ``ValueError`` naming the key and what was expected.
    """
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise ValueError(f"--set {text!r} is invalid: expected key=value")
    if key not in PARAMETERS:
        raise ValueError(f"--set: {unknown_name('parameter', key, PARAMETERS, PARAMETERS_LISTED)}")
    spec = PARAMETERS[key]
    raw = raw.strip()
    try:
        if spec.kind is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError
            value: Any = lowered in ("true", "1", "yes", "on")
        elif spec.kind is int:
            value = int(raw)
        elif spec.kind is float:
            value = float(raw)
        else:
            value = raw
    except ValueError:
        raise ValueError(f"--set {key}={raw!r} is invalid: must be {spec.valid_range()}") from None
    return key, value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run the model once and print its metrics",
        description="Run OrgModel once and print the metrics measured after warm-up.",
    )
    parser.add_argument(
        "--preset",
        default=None,
        metavar="NAME",
        help="start from a preset's configuration (orgscale presets lists them)",
    )
    parser.add_argument("--topology", default=None, help="default: the preset's, or 'hierarchical'")
    parser.add_argument("--n-teams", type=int, default=None, help="default: the preset's, or 16")
    parser.add_argument(
        "--days", type=float, default=None, help="simulated days (default: the preset's, or 365)"
    )
    parser.add_argument("--seed", type=nonnegative_int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other model parameter, e.g. --set ci_automation=true (repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--events",
        default=None,
        metavar="FILE",
        help="also write the run's event log (Parquet; read it with orgscale observe FILE)",
    )
    parser.set_defaults(handler=run)


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):d}"
    return f"{value:.4g}"


def run(args: argparse.Namespace) -> int:
    try:
        params: dict[str, Any] = {}
        days = 365.0
        if args.preset is not None:
            from model.presets import load_preset

            preset = load_preset(args.preset)
            params, days = preset.params(), preset.days
        for key in ("topology", "n_teams"):
            if getattr(args, key) is not None:
                params[key] = getattr(args, key)
        args.days = days if args.days is None else args.days
        for assignment in args.set:
            key, value = parse_assignment(assignment)
            params[key] = value
        for name, value in params.items():  # a misspelled choice gets a suggestion
            choices = PARAMETERS[name].choices
            if choices and isinstance(value, str) and value not in choices:
                raise ValueError(
                    f"{name}={value!r} is invalid: must be {PARAMETERS[name].valid_range()}"
                    + did_you_mean(value, choices)
                )
        params = validate_params(params)
        if not (args.days > 0 and math.isfinite(args.days)):
            raise ValueError(f"--days={args.days!r} is invalid: must be a number > 0")
        if args.days <= params["warmup_days"]:
            raise ValueError(
                f"--days={args.days:g} is invalid: must exceed warmup_days="
                f"{params['warmup_days']:g} (nothing would be measured)"
            )
        if args.events is not None:
            from sweeps.commands.observe import check_output

            problem = check_output(args.events, "--events")
            if problem:
                raise ValueError(problem)
    except ValueError as err:
        print(f"orgscale run: error: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    org = OrgModel(**params, rng=args.seed, record_events=args.events is not None)
    org.run_for(args.days)
    metrics = org.metrics()
    wall = time.perf_counter() - started
    if args.events is not None:
        from model.eventlog import write_events

        write_events(org.event_table(), args.events)
    if args.json:
        print(json.dumps({k: (None if math.isnan(v) else v) for k, v in metrics.items()}))
        return 0
    print(
        f"{params['topology']}, n_teams={params['n_teams']}, {args.days:g} days "
        f"(warm-up {params['warmup_days']:g}), seed {args.seed}: {wall:.2f} s"
    )
    width = max(len(name) for name in metrics)
    for name, value in metrics.items():
        doc = " ".join((METRICS[name].__doc__ or "").split("\n\n")[0].split())
        print(f"  {name:<{width}}  {_format_value(value):>10}  {doc}")
    return 0
