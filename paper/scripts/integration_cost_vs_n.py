"""Integration cost vs N per topology (log–log), replicate bands, the chosen law drawn over it.

Integration cost is every person-day reviewers spend on anything but reviewing their own
team's changes (coordination, negotiation, conflicts, merges), per day. Runs at baseline
(every other swept parameter at its default, CI automation off); the band spans the
replicates; the dashed line is the law chosen by AICc in ``fits.json`` (``integration_cost``).

Reads:  runs of RESULTS_DIR and RESULTS_DIR/fits.json (fitted in memory if absent).
Writes: OUT/integration_cost_vs_n.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/integration_cost_vs_n.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import matplotlib.pyplot as plt
import numpy as np

NAME = "integration_cost_vs_n"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    df = c.load_results(results_dir)
    fits = c.load_fits(results_dir, df)["fits"]["integration_cost"]
    base = c.baseline(df)
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for topo in c.topologies(base):
        style = c.topology_style(topo)
        group = c.find_group(fits, topology=topo, ci_automation=False)
        label = style["label"]
        if group is not None:
            law = group["best_law"]
            b = group["exponent"]["estimate"]
            label += f": {c.LAW_LABELS[law]} (w={group['best_weight']:.2f}), b={b:.2f}"
        c.band(
            ax,
            base[base["topology"] == topo],
            "integration_cost",
            positive=True,
            **{**style, "label": label},
        )
        if group is not None:
            n = np.geomspace(min(group["n"]), max(group["n"]), 100)
            y = c.law_curve(group["best_law"], group["laws"][group["best_law"]]["params"], n)
            ok = y > 0
            ax.plot(n[ok], y[ok], "--", color=style["color"], linewidth=1.2)
    ax.set_xscale("log")
    ax.set_yscale("log")
    c.log_ticks(ax, base["n_teams"].unique())
    ax.set_xlabel("teams N")
    ax.set_ylabel("integration cost (person-days/day)")
    ax.set_title("Integration cost vs N (dashed: chosen law)")
    ax.legend(fontsize="small")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
