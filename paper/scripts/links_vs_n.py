"""API links vs N per topology, with n(n−1)/2 (all-to-all) and n−1 (any tree) as references.

Each link is an internal API, a contract negotiated by the two teams at its ends. Runs at
baseline (every other swept parameter at its default); lines are replicate means, bands span
the replicates (only the modular topology's links are random). Log–log axes, so a topology
with no links (the single core team) or N with no links are not drawn; the legend says so.

Reads:  runs of RESULTS_DIR.
Writes: OUT/links_vs_n.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/links_vs_n.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import matplotlib.pyplot as plt
import numpy as np

NAME = "links_vs_n"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    base = c.baseline(c.load_results(results_dir))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for topo in c.topologies(base):
        runs = base[base["topology"] == topo]
        style = c.topology_style(topo)
        if not (runs["links"] > 0).any():
            style["label"] += " (no links)"
            ax.plot([], [], marker=style["marker"], color=style["color"], label=style["label"])
            continue
        c.band(ax, runs, "links", positive=True, **style)
    n_values = np.array(sorted(base["n_teams"].unique()), dtype=float)
    n = np.geomspace(max(2.0, n_values.min()), max(2.0, n_values.max()), 100)
    ax.plot(n, n * (n - 1) / 2, "k--", linewidth=1, label="n(n−1)/2 (all-to-all)")
    ax.plot(n, n - 1, "k:", linewidth=1.2, label="n−1 (any tree)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    c.log_ticks(ax, n_values)
    ax.set_xlabel("teams N")
    ax.set_ylabel("API links")
    ax.set_title("API links vs N")
    ax.legend(fontsize="small")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
