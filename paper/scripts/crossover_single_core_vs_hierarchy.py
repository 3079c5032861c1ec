"""The crossover N* between one core team and the drivers-core hierarchy.

Three panels, single core vs hierarchical at baseline (every other swept parameter at its
default, CI automation off): integration cost (person-days/day), reviewer effort per landed
change (integration + own reviews, person-days per change landed) and mean lead time, each
against N. The vertical line marks N*
where the two mean curves cross (``fits.json`` → ``crossovers``), the shaded span its
bootstrap CI; a panel without a crossing in the sampled range says so.

Reads:  runs of RESULTS_DIR and RESULTS_DIR/fits.json (fitted in memory if absent).
Writes: OUT/crossover_single_core_vs_hierarchy.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/crossover_single_core_vs_hierarchy.py results/paper
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import _fits
import matplotlib.pyplot as plt

NAME = "crossover_single_core_vs_hierarchy"
PANELS = (
    ("integration_cost", "integration cost (person-days/day)"),
    ("effort_per_change", "reviewer effort per landed change (person-days)"),
    ("lead_time_mean", "mean lead time (days)"),
)


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    df = c.load_results(results_dir)
    crossovers = c.load_fits(results_dir, df)["crossovers"]
    base = _fits.with_derived(c.baseline(df))
    fig, axes = plt.subplots(1, 3, figsize=(12.8, 4.0), sharex=True)
    for ax, (metric, ylabel) in zip(axes, PANELS, strict=True):
        runs = base[base["topology"].isin(["single_core", "hierarchical"])]
        if runs.empty:
            c.no_data(ax, "no single-core or hierarchical runs")
            continue
        for topo in ("single_core", "hierarchical"):
            c.band(ax, runs[runs["topology"] == topo], metric, **c.topology_style(topo))
        cross = crossovers.get(metric, {})
        if cross.get("nstar") is not None:
            nstar = cross["nstar"]
            ax.axvline(nstar, color="k", linewidth=1)
            lo = cross["ci_low"] if cross["ci_low"] is not None else runs["n_teams"].min()
            hi = cross["ci_high"] if cross["ci_high"] is not None else runs["n_teams"].max()
            ax.axvspan(lo, hi, color="k", alpha=0.08, linewidth=0)
            ax.set_title(f"N* = {nstar:.1f}")
        else:
            ax.set_title("no crossover in the sampled N")
        ax.set_xscale("log")
        c.log_ticks(ax, runs["n_teams"].unique())
        ax.set_ylim(bottom=0)
        ax.set_xlabel("teams N")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize="small")
    fig.suptitle("One core team vs the hierarchy: where do they cross?")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
