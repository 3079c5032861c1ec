"""Sobol first- and total-order indices of the headline outputs over the plausible ranges.

One panel per output (the hierarchy over one core team on busy person-days per landed
change and on lead time; automation on over off on integration cost per landed change),
bars per assumed parameter with their 95% confidence half-widths, for the :data:`TOP`
parameters with the largest total-order index in any output.

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
    "log_busy_ratio": "ln(busy per change,\nhierarchy / core)",
    "log_lead_ratio": "ln(lead time,\nhierarchy / core)",
    "log_automation_ratio": "ln(integration per change,\nautomation on / off)",
}


#: Parameters shown: those with the largest total-order index in any output. Forty bars a
#: panel would print too small to read; every index is in paper_numbers.json.
TOP = 15


def shown_parameters(indices: dict[str, dict], top: int = TOP) -> list[str]:
    """The ``top`` parameters by their largest total-order index over the outputs, largest
    first (a parameter with no finite index in any output last)."""
    best: dict[str, float] = {}
    for idx in indices.values():
        for name, st in zip(idx["parameter"], idx["ST"], strict=True):
            st = float(st) if st is not None else float("nan")
            if np.isfinite(st):
                best[name] = max(best.get(name, -np.inf), st)
            else:
                best.setdefault(name, -np.inf)
    return sorted(best, key=lambda n: -best[n])[:top]


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    sens = _common.load_numbers(results_dir).get("sensitivity", {})
    found = {
        name: idx
        for name in OUTPUTS
        if (idx := sens.get("indices", {}).get(name)) and "parameter" in idx
    }
    names = shown_parameters(found)
    fig, axes = plt.subplots(1, len(OUTPUTS), figsize=(13, 6), sharey=True)
    y = np.arange(len(names))[::-1]  # the largest at the top
    for ax, (output, title) in zip(axes, OUTPUTS.items(), strict=True):
        idx = found.get(output)
        if idx is None:
            skipped = (sens.get("indices", {}).get(output) or {}).get("skipped")
            _common.no_data(ax, skipped or "no sensitivity runs")
            continue
        row = {n: i for i, n in enumerate(idx["parameter"])}

        def pick(key: str, idx: dict = idx, row: dict = row) -> list[float]:
            return [
                float(idx[key][row[n]]) if n in row and idx[key][row[n]] is not None else np.nan
                for n in names
            ]

        ax.barh(
            y + 0.2,
            pick("S1"),
            height=0.4,
            xerr=pick("S1_conf"),
            color="#0072B2",
            label="first order S1",
        )
        ax.barh(
            y - 0.2,
            pick("ST"),
            height=0.4,
            xerr=pick("ST_conf"),
            color="#E69F00",
            label="total order ST",
        )
        ax.set_yticks(y, names, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.axvline(0, color="grey", lw=0.5)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
