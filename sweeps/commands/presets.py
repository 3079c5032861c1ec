"""``orgscale presets [NAME]``: list the presets with their sources, or show one in full.

Reads ``model/presets/*.toml``; writes nothing. Usage: ``orgscale presets`` or
``orgscale presets nova-2013``.
"""

from __future__ import annotations

import argparse
import sys

from model.presets import PresetError, load_preset, preset_names


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "presets",
        help="list the presets (observed systems) and their sources",
        description="List the presets of model/presets/ with their sources, or show one.",
    )
    parser.add_argument("name", nargs="?", default=None, help="a preset name or TOML file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    names = [args.name] if args.name else preset_names()
    status = 0
    for i, name in enumerate(names):
        try:
            preset = load_preset(name)
        except PresetError as err:
            print(f"orgscale presets: error: {err}", file=sys.stderr)
            status = 2
            continue
        if i:
            print()
        n_in, n_out = len(preset.in_sample()), len(preset.held_out())
        print(f"{preset.name}: {preset.description}")
        print(f"  {n_in} in-sample and {n_out} held-out patterns; {preset.days:g} days a run")
        if args.name:
            for key, value in preset.config:
                print(f"  config  {key} = {value!r}")
            for key, low, high in preset.priors:
                print(f"  prior   {key} in [{low:g}, {high:g}]")
        for pattern in preset.patterns:
            role = pattern.role_label
            print(f"  {role:<9}  {pattern.id} = {pattern.observed}  ({pattern.source})")
            if args.name and not pattern.in_sample:
                print(f"             why held out: {pattern.why}")
    return status
