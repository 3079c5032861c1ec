"""Headline figure: every organisation on one chart, automation off (solid) and on (dashed).

Panels against N (log): share of submitted changes landed, paid reviewer-days per landed
change, and median lead time (Kaplan–Meier; the dotted line is the measured window, beyond
which a median cannot be seen: those lead times are censored). Saturated points (any
replicate flagged) are red crosses. All organisations have the same people
(equal headcount), demand and code.

Reads:  RESULTS_DIR/paper_numbers.json (curves), RESULTS_DIR/spec.toml (days, warm-up).
Writes: OUT/headline_all_organisations.{png,pdf}
Usage:  python paper/scripts/headline_all_organisations.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "headline_all_organisations"
ORGS = ("single_core", "flat", "hierarchical", "tree4", "modular")


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    curves = numbers["curves"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 5.2))
    panels = (
        ("landed_share", "share of changes landed", False),
        ("paid_reviewer_days_per_change", "paid reviewer-days\nper landed change", True),
        ("lead_time_km_p50", "median lead time, days\n(Kaplan–Meier)", True),
    )
    ns: set[float] = set()
    for ax, (metric, ylabel, log) in zip(axes, panels, strict=True):
        for org in ORGS:
            for ci in (False, True):
                key = f"{org}.{'on' if ci else 'off'}"
                if key in curves:
                    _common.plot_curve(ax, curves[key], metric, org=org, ci=ci, label=ax is axes[0])
                    ns.update(curves[key]["n"])
        ax.set_xscale("log")
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("teams N")
        ax.set_ylabel(ylabel)
        _common.log_ticks(ax, ns)
    window = numbers.get("measured_days")
    if window:
        # a median not reached within the window is censored: drawn on the window line
        for org in ORGS:
            for ci in (False, True):
                c = curves.get(f"{org}.{'on' if ci else 'off'}")
                if not c:
                    continue
                lead = _common.values(c["lead_time_km_p50"])
                n = np.asarray(c["n"], float)[np.isnan(lead)]
                if n.size:
                    style = _common.org_style(org, ci)
                    axes[2].scatter(
                        n, np.full(n.size, window), marker="^", s=40, color=style["color"], zorder=6
                    )
        axes[2].scatter(
            [], [], marker="^", color="grey", label="median beyond the window (censored)"
        )
        axes[2].axhline(window, color="grey", linestyle=":", linewidth=1)
        axes[2].text(
            max(ns),
            window,
            "measured window ",
            va="bottom",
            ha="right",
            fontsize=8,
            color="grey",
        )
    axes[1].scatter([], [], marker="x", color="#D55E00", label="saturated")
    handles = axes[0].get_legend_handles_labels()
    extra = axes[1].get_legend_handles_labels()
    more = axes[2].get_legend_handles_labels()
    fig.legend(
        handles[0] + extra[0] + more[0],
        handles[1] + extra[1] + more[1],
        loc="outside lower center",
        ncol=3,
        fontsize=8,
    )
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
