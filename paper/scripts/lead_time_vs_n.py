"""Lead time vs N per topology: the single core team's hockey stick.

Mean days from submission to landing in the mainline (left) and the 95th percentile
(right), at baseline (every other swept parameter at its default, CI automation off).
Lines are replicate means, bands span the replicates. N is on a log axis, lead time on a
linear one so that a queue approaching saturation shows as a hockey stick.

Reads:  runs of RESULTS_DIR.
Writes: OUT/lead_time_vs_n.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/lead_time_vs_n.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import matplotlib.pyplot as plt

NAME = "lead_time_vs_n"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    base = c.baseline(c.load_results(results_dir))
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharex=True)
    for ax, metric, title in (
        (axes[0], "lead_time_mean", "mean lead time"),
        (axes[1], "lead_time_p95", "95th-percentile lead time"),
    ):
        for topo in c.topologies(base):
            c.band(ax, base[base["topology"] == topo], metric, **c.topology_style(topo))
        ax.set_xscale("log")
        c.log_ticks(ax, base["n_teams"].unique())
        ax.set_ylim(bottom=0)
        ax.set_xlabel("teams N")
        ax.set_ylabel(f"{title} (days)")
        ax.set_title(title.capitalize())
    axes[0].legend(fontsize="small")
    fig.suptitle("Lead time vs N: submission to mainline")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
