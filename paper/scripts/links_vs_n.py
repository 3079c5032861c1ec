"""API links against N per organisation, with the N(N−1)/2 and the hierarchy's N + 1 lines.

Reads:  RESULTS_DIR/paper_numbers.json (curves: links).
Writes: OUT/links_vs_n.{png,pdf}
Usage:  python paper/scripts/links_vs_n.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "links_vs_n"


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    curves = _common.load_numbers(results_dir)["curves"]
    fig, ax = plt.subplots(figsize=(6, 4.2))
    ns: set[float] = set()
    for org in _common.ORG_ORDER[1:]:
        key = f"{org}.off"
        if key in curves:
            _common.plot_curve(ax, curves[key], "links", org=org)
            ns.update(curves[key]["n"])
    if ns:
        n = np.array(sorted(ns), float)
        ax.plot(n, n * (n - 1) / 2, color="grey", lw=1, linestyle=":", label="N(N−1)/2")
        ax.plot(n, n + 1, color="grey", lw=1, linestyle="--", label="N + 1 (the hierarchy)")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("teams N")
    ax.set_ylabel("API links")
    _common.log_ticks(ax, ns)
    ax.legend(fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
