"""Cost by part against N, one panel per organisation (automation off).

Person-days per day spent on review, coordination, negotiation, merges, conflicts and
rebases; log–log. The vertical line is where the fitted range ends (the largest N before
the organisation saturates); saturated points are red crosses. Each panel's title names the
law chosen for its integration cost with the law's own fitted parameters and χ²/dof.

Reads:  RESULTS_DIR/paper_numbers.json (curves, fits).
Writes: OUT/cost_by_part.{png,pdf}
Usage:  python paper/scripts/cost_by_part.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "cost_by_part"
ORGS = ("single_core", "flat", "hierarchical", "tree4", "modular")
PARTS = {
    "cost_review": ("review", "#000000", "o"),
    "cost_coordination": ("coordination", "#E69F00", "s"),
    "cost_negotiation": ("negotiation", "#0072B2", "^"),
    "cost_merges": ("merges", "#009E73", "v"),
    "cost_conflicts": ("conflicts", "#CC79A7", "D"),
    "cost_rebase": ("rebases", "#D55E00", "P"),
}


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    curves, fits = numbers["curves"], numbers["fits"]
    orgs = [o for o in ORGS if f"{o}.off" in curves]
    # at most three panels a row: the figure prints at the text width, its type >= 7 pt
    ncols = min(3, len(orgs))
    nrows = -(-len(orgs) // ncols)
    fig, grid = plt.subplots(
        nrows, ncols, figsize=(3.3 * ncols, 3.4 * nrows), sharey=True, squeeze=False
    )
    axes = [list(grid.flat[: len(orgs)])]
    for ax in grid.flat[len(orgs) :]:
        ax.set_visible(False)
    for ax, org in zip(axes[0], orgs, strict=True):
        c = curves[f"{org}.off"]
        n = np.asarray(c["n"], float)
        sat = np.asarray(c["saturated_n"], bool)
        for part, (label, color, marker) in PARTS.items():
            y = _common.values(c[part])
            ok = y > 0
            if not ok.any():
                continue
            ax.plot(n[ok], y[ok], color=color, marker=marker, ms=3, label=label)
            ax.scatter(n[ok & sat], y[ok & sat], marker="x", color="#D55E00", s=40, zorder=5)
        until = fits.get(org, {}).get("fitted_until")
        if until:
            ax.axvline(until, color="grey", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("teams N")
        _common.log_ticks(ax, n)
        law = fits.get(org, {}).get("parts", {}).get("integration_cost", {}).get("law")
        title = _common.ORG_LABELS[org]
        if law:
            title += "\n" + textwrap.fill("integration ≈ " + _common.law_label(law), 34)
        ax.set_title(title, fontsize=8)
    axes[0][0].set_ylabel("person-days per day")
    handles, labels = axes[0][0].get_legend_handles_labels()
    for ax in axes[0][1:]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
