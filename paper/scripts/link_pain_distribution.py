"""Link pain: how conflicts and negotiations spread across API links (a heavy tail?).

Link pain per link = negotiations held plus conflicts found on it. Per run the results hold
three summaries of its distribution across links; this figure shows two of them vs N per split
topology, at baseline (every other swept parameter at its default, CI automation off).
Left: the share of all pain carried by the worst 10% of links, with the share an even spread
would give (⌈0.1·L⌉/L for L links; dotted, same colour). Right: the Gini coefficient of link
pain (0: even). Lines are replicate means, bands span the replicates.

Reads:  runs of RESULTS_DIR.
Writes: OUT/link_pain_distribution.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/link_pain_distribution.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import _fits
import matplotlib.pyplot as plt

NAME = "link_pain_distribution"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    base = _fits.with_derived(c.baseline(c.load_results(results_dir)))
    base = base[base["topology"].isin(_fits.SPLIT_TOPOLOGIES)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 4.0), sharex=True)
    if base.empty:
        c.no_data(left, "no split-topology runs")
        c.no_data(right, "no split-topology runs")
        return c.save(fig, out_dir, NAME)
    for topo in c.topologies(base):
        runs = base[base["topology"] == topo]
        style = c.topology_style(topo)
        c.band(left, runs, "link_pain_top_decile_share", **style)
        even = runs.groupby("n_teams")["link_pain_even_share"].mean().dropna().sort_index()
        left.plot(even.index, even.to_numpy(), ":", color=style["color"], linewidth=1.2)
        c.band(right, runs, "link_pain_gini", **style)
    left.plot([], [], ":", color="grey", label="even spread")
    for ax in (left, right):
        ax.set_xscale("log")
        c.log_ticks(ax, base["n_teams"].unique())
        ax.set_xlabel("teams N")
        ax.set_ylim(0, 1.02)
    left.set_ylabel("share of link pain on the worst 10% of links")
    left.set_title("Top-decile share")
    right.set_ylabel("Gini coefficient of link pain")
    right.set_title("Concentration across links")
    left.legend(fontsize="small")
    fig.suptitle("Link pain: negotiations + conflicts per link")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
