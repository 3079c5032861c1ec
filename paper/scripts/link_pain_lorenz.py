"""Does link pain concentrate beyond what the input badness implies? Lorenz curves at the
largest N.

One panel per split organisation at the largest N of the paper sweep (automation off):
the share of link pain (person-days of negotiation and conflict work on the link) carried
by the worst share of links, worst first, one line per seed; in grey dashed the same curve
for the links' API badness, the per-link input the model draws (lognormal, mean 1). Even
spread is the dotted diagonal; the vertical line marks the worst 10%, the top-decile share
of ``link_pain_vs_n``. The share of links is on a log axis so the few worst links show.

Reads:  RESULTS_DIR/link_pain_links.parquet (written by paper/link_pain.py in the build).
Writes: OUT/link_pain_lorenz.{png,pdf}
Usage:  python paper/scripts/link_pain_lorenz.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

NAME = "link_pain_lorenz"
ORGS = ("flat", "hierarchical", "tree4", "modular")


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    links = _common.load_links(results_dir)
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=False, sharey=True)
    for ax, org in zip(axes.flat, ORGS, strict=True):
        rows = None if links is None else links[links["org"] == org]
        if rows is None or rows.empty:
            why = "no link_pain_links.parquet" if links is None else f"no {org} runs"
            _common.no_data(ax, why + ":\nrun orgscale paper")
            ax.set_title(_common.ORG_LABELS[org], fontsize=9)
            continue
        style = _common.org_style(org)
        sizes = []
        for i, (_, run) in enumerate(rows.groupby("run_id", sort=False)):
            sizes.append(len(run))
            x, y = _common.worst_first_curve(run["pain_days"])
            ax.plot(
                x[1:],
                y[1:],
                color=style["color"],
                lw=1.2,
                alpha=0.85,
                label="pain, person-days (one line a seed)" if i == 0 else None,
            )
            x, y = _common.worst_first_curve(run["badness"])
            ax.plot(
                x[1:],
                y[1:],
                color="grey",
                linestyle="--",
                lw=1,
                label="API badness (input)" if i == 0 else None,
            )
        lo = min(1 / max(sizes), 0.1)  # a run of one link still gets an axis
        grid = np.geomspace(lo, 1, 200)
        ax.plot(grid, grid, color="grey", linestyle=":", lw=1, label="even spread")
        ax.axvline(0.1, color="black", lw=0.6, alpha=0.5)
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlim(lo, 1)
        ax.set_ylim(0, 1.02)
        n = int(rows["n_teams"].iloc[0])
        ax.set_title(f"{style['label']}, N = {n}, {int(np.median(sizes))} links", fontsize=9)
        ax.set_xlabel("share of links, worst first")
        ax.set_ylabel("share of the total")
        ax.legend(fontsize=7, loc="upper left")
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
