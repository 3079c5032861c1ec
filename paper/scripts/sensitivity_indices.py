"""Sobol first- and total-order indices of the headline outputs over the plausible ranges.

One panel per output (the hierarchy over one core team on busy person-days per landed
change and on lead time; automation on over off on integration cost per landed change),
bars per assumed parameter with their 95% confidence half-widths.

Reads:  RESULTS_DIR/paper_numbers.json (sensitivity).
Writes: OUT/sensitivity_indices.{png,pdf}
Usage:  python paper/scripts/sensitivity_indices.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt
import numpy as np

NAME = "sensitivity_indices"
OUTPUTS = {
    "log_busy_ratio": "ln(busy per change, hierarchy / core)",
    "log_lead_ratio": "ln(lead time, hierarchy / core)\n(medians beyond the window set to it)",
    "log_automation_ratio": "ln(integration per change, on / off)",
}


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    sens = _common.load_numbers(results_dir).get("sensitivity", {})
    fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(13, 5), sharey=True)
    for ax, (name, title) in zip(axes, OUTPUTS.items(), strict=True):
        idx = sens.get("indices", {}).get(name)
        if not idx or "parameter" not in idx:
            _common.no_data(ax, (idx or {}).get("skipped", "no sensitivity runs"))
            continue
        names = idx["parameter"]
        y = np.arange(len(names))
        ax.barh(
            y - 0.2,
            idx["S1"],
            height=0.4,
            xerr=idx["S1_conf"],
            color="#0072B2",
            label="first order S1",
        )
        ax.barh(
            y + 0.2,
            idx["ST"],
            height=0.4,
            xerr=idx["ST_conf"],
            color="#E69F00",
            label="total order ST",
        )
        ax.set_yticks(y, names, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.axvline(0, color="grey", lw=0.5)
    axes[0].legend(fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
