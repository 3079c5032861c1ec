"""Throughput vs N per topology, against ideal linear scaling.

Changes landed in the mainline per day (left, log–log) and as a share of the demand
N × contributors × change rate, which ideal scaling would land (right). Runs at baseline
(every other swept parameter at its default, CI automation off); lines are replicate means,
bands span the replicates; the dashed black line is the demand.

Reads:  runs of RESULTS_DIR.
Writes: OUT/throughput_vs_n.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/throughput_vs_n.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import _fits
import matplotlib.pyplot as plt

NAME = "throughput_vs_n"


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    base = _fits.with_derived(c.baseline(c.load_results(results_dir)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 4.0), sharex=True)
    for topo in c.topologies(base):
        runs = base[base["topology"] == topo]
        style = c.topology_style(topo)
        c.band(left, runs, "throughput", positive=True, **style)
        c.band(right, runs, "efficiency", **style)
    ideal = base.groupby("n_teams")["ideal_throughput"].mean().sort_index()
    ideal = ideal[ideal > 0]
    left.plot(ideal.index, ideal.to_numpy(), "k--", linewidth=1, label="ideal: demand")
    right.axhline(1.0, color="k", linestyle="--", linewidth=1, label="ideal")
    for ax in (left, right):
        ax.set_xscale("log")
        c.log_ticks(ax, base["n_teams"].unique())
        ax.set_xlabel("teams N")
    left.set_yscale("log")
    left.set_ylabel("throughput (changes/day)")
    left.set_title("Changes landed per day")
    right.set_ylabel("throughput / demand")
    right.set_ylim(0, max(1.1, float(base["efficiency"].max(skipna=True) or 1) * 1.05))
    right.set_title("Share of the demand landed")
    left.legend(fontsize="small")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
