"""The effect of CI automation (a daily test-merge of every tree): conflict cost and late
conflicts, on vs off, vs N.

Left: person-days per day spent finding and fixing merge conflicts. Right: conflicts found
only when a tree was merged upward (count over the measured window), i.e. not caught early
by the daily test-merge. Split topologies only (a single core team merges nothing). Runs at
baseline for every other swept parameter; solid lines: automation off, dashed: on; bands
span the replicates. The y axes are symmetric-log: linear near 0, logarithmic above.

Reads:  runs of RESULTS_DIR.
Writes: OUT/ci_automation_effect.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/ci_automation_effect.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import _fits
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D

NAME = "ci_automation_effect"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    df = c.baseline(c.load_results(results_dir), vary=("n_teams", "ci_automation"))
    df = df[df["topology"].isin(_fits.SPLIT_TOPOLOGIES)]
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharex=True)
    panels = (
        (axes[0], "cost_conflicts", "conflict cost (person-days/day)", 0.01),
        (axes[1], "conflicts_late", "late conflicts (count)", 1.0),
    )
    for ax, metric, ylabel, linthresh in panels:
        if df.empty:
            c.no_data(ax, "no split-topology runs")
            continue
        for topo in c.topologies(df):
            style = c.topology_style(topo)
            for ci, linestyle in ((False, "-"), (True, "--")):
                runs = df[(df["topology"] == topo) & (df["ci_automation"] == ci)]
                if runs.empty:
                    continue
                label = f"{style['label']}, CI {'on' if ci else 'off'}"
                c.band(ax, runs, metric, linestyle=linestyle, **{**style, "label": label})
        ax.set_xscale("log")
        c.log_ticks(ax, df["n_teams"].unique())
        ax.set_yscale("symlog", linthresh=linthresh)  # log above linthresh, linear to 0
        ax.set_ylim(bottom=0)
        ax.set_xlabel("teams N")
        ax.set_ylabel(ylabel)
    axes[0].set_title("Conflict cost")
    axes[1].set_title("Conflicts found only at a real merge")
    handles = [
        Line2D([], [], color="k", linestyle="-", label="CI automation off"),
        Line2D([], [], color="k", linestyle="--", label="CI automation on"),
    ]
    handles += [
        Line2D([], [], **{k: v for k, v in c.topology_style(t).items()}, linestyle="")
        for t in c.topologies(df)
    ]
    axes[0].legend(handles=handles, fontsize="small")
    fig.suptitle("CI automation: conflicts caught early and small?")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
