"""How concentrated link pain is: the worst 10% of links' share of it, against N.

The dotted line is an even spread (10%). The sweep keeps three summaries of the per-link
distribution (top-decile share, Gini, CV), not every link's pain; the top-decile share is
one point of the Lorenz curve, which ``link_pain_lorenz`` draws whole at the largest N
(from the per-link rows of a few replayed runs), against the input badness.

Reads:  RESULTS_DIR/paper_numbers.json (curves: link_pain_top_decile_share).
Writes: OUT/link_pain_vs_n.{png,pdf}
Usage:  python paper/scripts/link_pain_vs_n.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt

NAME = "link_pain_vs_n"


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    curves = _common.load_numbers(results_dir)["curves"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ns: set[float] = set()
    for org in ("flat", "hierarchical", "tree4", "modular"):
        key = f"{org}.off"
        if key in curves:
            _common.plot_curve(ax, curves[key], "link_pain_top_decile_share", org=org)
            ns.update(curves[key]["n"])
    ax.axhline(0.1, color="grey", linestyle=":", lw=1, label="even spread (10%)")
    ax.set_xscale("log")
    ax.set_xlabel("teams N")
    ax.set_ylabel("share of link pain on the worst 10% of links")
    _common.log_ticks(ax, ns)
    ax.legend(fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
