"""Link structure: the fitted scaling exponent of integration cost and of links vs locality
(modular topology) and vs branching (hierarchical topology).

Each point is the exponent b of a·N^b fitted over N (``fits.json`` → ``links_structure`` and
``integration_cost_structure``), with its bootstrap CI. Left: modular, against the share of
links kept local; the dotted line is the expected link exponent 2 + log_k(1 − locality),
clipped to [1, 2], for fan-out k. Right: hierarchical, against the maintainer tree's fan-out
(0: the two-level drivers-core hierarchy). Reference lines at 1 (linear) and 2 (all-to-all).

Reads:  runs of RESULTS_DIR and RESULTS_DIR/fits.json (fitted in memory if absent).
Writes: OUT/link_structure_exponent.png and .pdf (default OUT: paper/figures).
Usage:  python paper/scripts/link_structure_exponent.py results/paper --out paper/figures
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common as c
import matplotlib.pyplot as plt
import numpy as np

from model.topologies import DEFAULT_MODULAR_BRANCHING

NAME = "link_structure_exponent"
SERIES = (
    ("links_structure", "links", "o", None),
    ("integration_cost_structure", "integration cost", "s", None),
)


def _points(fit: dict, topology: str, x_col: str) -> list[tuple[float, float, float, float]]:
    """(x, exponent, CI low, CI high) for every fitted group of ``topology``."""
    out = []
    for group in fit.get("groups", []):
        if group["key"].get("topology") != topology:
            continue
        exp = group["exponent"]
        lo = exp["ci_low"] if exp["ci_low"] is not None else exp["estimate"]
        hi = exp["ci_high"] if exp["ci_high"] is not None else exp["estimate"]
        out.append((float(group["key"][x_col]), exp["estimate"], lo, hi))
    return sorted(out)


def main(results_dir: str | Path = c.DEFAULT_RESULTS, out_dir: str | Path = c.DEFAULT_FIGURES):
    """Draw the figure from ``results_dir`` into ``out_dir``; return the files written."""
    c.set_theme()
    fits = c.load_fits(results_dir)["fits"]
    fig, axes = plt.subplots(1, 2, figsize=(9.6, 4.0), sharey=True)
    panels = (
        (axes[0], "modular", "locality", "share of links kept local (locality)"),
        (axes[1], "hierarchical", "branching", "maintainer fan-out (0: drivers-core)"),
    )
    colors = dict(zip([s[0] for s in SERIES], c.sns.color_palette("dark", 2), strict=True))
    for ax, topo, x_col, xlabel in panels:
        series = [
            (name, label, marker, _points(fits.get(name, {}), topo, x_col))
            for name, label, marker, _ in SERIES
        ]
        xs = sorted({p[0] for *_, pts in series for p in pts})
        if not xs:
            c.no_data(ax, f"no {topo} group with 3 or more N to fit")
            continue
        span = (xs[-1] - xs[0]) or (1.0 if x_col == "locality" else 4.0)
        for i, (fit_name, label, marker, pts) in enumerate(series):
            if not pts:
                continue
            x, y, lo, hi = (np.array(v, dtype=float) for v in zip(*pts, strict=True))
            ax.errorbar(
                x + (i - 0.5) * 0.02 * span,  # side by side, not on top of each other
                y,
                yerr=[np.clip(y - lo, 0, None), np.clip(hi - y, 0, None)],
                marker=marker,
                color=colors[fit_name],
                capsize=3,
                label=f"{label} exponent",
                linestyle="-" if x.size > 1 else "",
            )
        if x_col == "locality":
            ax.set_xlim(-0.05, 1.05)
        else:
            ax.set_xlim(xs[0] - 0.1 * span - 0.5, xs[-1] + 0.1 * span + 0.5)
            ax.set_xticks(xs, [f"{x:g}" + (" (drivers-core)" if x == 0 else "") for x in xs])
        if topo == "modular":
            loc = np.linspace(0, 0.999, 200)
            k = DEFAULT_MODULAR_BRANCHING
            expected = np.clip(2 + np.log(1 - loc) / np.log(k), 1, 2)
            ax.plot(loc, expected, ":", color="grey", label=f"expected links, k={k}")
        ax.axhline(1, color="k", linewidth=0.8, linestyle="--")
        ax.axhline(2, color="k", linewidth=0.8, linestyle="-.")
        ax.set_xlabel(xlabel)
        ax.set_title(c.TOPOLOGY_LABELS[topo])
    axes[0].set_ylabel("fitted exponent b (y ∝ N^b)")
    legend = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    if legend:
        fig.legend(
            legend.values(), legend.keys(), loc="outside lower center", ncols=3, fontsize="small"
        )
    fig.suptitle("How the link structure sets the scaling exponent")
    return c.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(c.cli(main, __doc__))
