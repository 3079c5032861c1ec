"""One area's output against its m reviewers (H7), with the fitted m^b and the claimed m^½.

Reads:  RESULTS_DIR/paper_numbers.json (hypotheses._h7).
Writes: OUT/team_size_output.{png,pdf}
Usage:  python paper/scripts/team_size_output.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "team_size_output"


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    h7 = _common.load_numbers(results_dir)["hypotheses"].get("_h7", {})
    fig, ax = plt.subplots(figsize=(6, 4.2))
    if "m" not in h7:
        _common.no_data(ax, h7.get("skipped", "no team-size runs"))
        return _common.save(fig, out_dir, NAME)
    m = np.asarray(h7["m"], float)
    y = np.asarray(h7["merged_per_day_means"], float)
    b = h7["merged_per_day"]["value"]
    ax.plot(m, y, "o", color="#000000", label="landed changes per day (mean)")
    ok = y > 0
    if ok.any():
        a = np.exp(np.mean(np.log(y[ok]) - b * np.log(m[ok])))
        a_half = np.exp(np.mean(np.log(y[ok]) - 0.5 * np.log(m[ok])))
        ax.plot(m, a * m**b, color="#0072B2", label=f"fitted {a:.3g}·m^{b:.2f}")
        ax.plot(m, a_half * m**0.5, color="#E69F00", linestyle="--", label="claimed ∝ m^½")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("reviewers m on one area")
    ax.set_ylabel("changes landed per day")
    _common.log_ticks(ax, m)
    ax.legend(fontsize=8)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
