"""What CI automation removes and what it only moves, per split organisation.

At the largest N where the organisation is unsaturated with automation both off and on:
(left) conflicts a run: late (found at a real merge) without automation, late and caught
early (by the daily test-merge) with it; (middle) person-days of work per conflict off and
on; (right) integration person-days per landed change by part, off and on. Bars are means
over replicates with 95% bootstrap CIs.

Reads:  RESULTS_DIR/paper_numbers.json (automation).
Writes: OUT/automation_effect.{png,pdf}
Usage:  python paper/scripts/automation_effect.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "automation_effect"
PARTS = {
    "cost_coordination": ("coordination", "#E69F00"),
    "cost_negotiation": ("negotiation", "#0072B2"),
    "cost_merges": ("merges", "#009E73"),
    "cost_conflicts": ("conflicts", "#CC79A7"),
    "cost_rebase": ("rebases", "#D55E00"),
}


def _bar(ax, x, est, color, label=None, hatch=None):
    v = est["value"] if est["value"] is not None else np.nan
    lo = est["low"] if est["low"] is not None else v
    hi = est["high"] if est["high"] is not None else v
    ax.bar(x, v, width=0.25, color=color, label=label, hatch=hatch, edgecolor="black", lw=0.5)
    ax.errorbar(x, v, yerr=[[max(v - lo, 0)], [max(hi - v, 0)]], color="black", capsize=2, lw=1)


#: Names short enough for four groups of bars side by side (the caption and tables give the
#: full ones).
SHORT_LABELS = {
    "flat": "flat",
    "hierarchical": "hierarchy",
    "tree4": "tree\n(fan-out 4)",
    "modular": "modular\n(0.5)",
    "modular_l0": "modular\n(0)",
    "modular_l1": "modular\n(1)",
}


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    auto = _common.load_numbers(results_dir)["automation"]
    orgs = [o for o in _common.ORG_ORDER if o in auto]
    fig, axes = plt.subplots(3, 1, figsize=(9, 9.5), sharex=True)
    if not orgs:
        for ax in axes:
            _common.no_data(ax, "no organisation unsaturated with automation off and on")
        return _common.save(fig, out_dir, NAME)
    x = np.arange(len(orgs))
    labels = [f"{SHORT_LABELS.get(o, _common.ORG_LABELS[o])}\nN = {auto[o]['n']}" for o in orgs]
    for i, org in enumerate(orgs):
        r = auto[org]
        first = i == 0

        def lab(text: str, first: bool = first) -> str | None:
            return text if first else None

        _bar(axes[0], i - 0.27, r["conflicts_late_off"], "#999999", lab("late, automation off"))
        _bar(axes[0], i, r["conflicts_late_on"], "#0072B2", lab("late, automation on"))
        _bar(axes[0], i + 0.27, r["conflicts_early_on"], "#56B4E9", lab("caught early, on"), "//")
        _bar(axes[1], i - 0.14, r["work_per_conflict_off"], "#999999", lab("off"))
        _bar(axes[1], i + 0.14, r["work_per_conflict_on"], "#0072B2", lab("on"))
        for j, (suffix, dx) in enumerate((("off", -0.14), ("on", 0.14))):
            bottom = 0.0
            for part, (plabel, color) in PARTS.items():
                v = r[f"{part}_per_change_{suffix}"]["value"] or 0.0
                axes[2].bar(
                    i + dx,
                    v,
                    bottom=bottom,
                    width=0.25,
                    color=color,
                    hatch="//" if j else None,
                    edgecolor="black",
                    lw=0.5,
                    label=f"{plabel}" if first and j == 0 else None,
                )
                bottom += v
    axes[0].set_ylabel("conflicts a run (measured window)")
    axes[1].set_ylabel("person-days per conflict")
    axes[2].set_ylabel("integration person-days\nper landed change\n(left off, right on, hatched)")
    axes[-1].set_xticks(x, labels, fontsize=7)
    for ax in axes:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
