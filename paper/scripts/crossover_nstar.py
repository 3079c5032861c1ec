"""Where a split overtakes one core team: the crossover N* and its CI band.

Two panels against N: busy person-days per landed change and median lead time, for one
core team and the seed's hierarchy (automation off and on). The shaded band is N*'s 95%
bootstrap CI (where the curves cross); no band means the curves do not cross in the
sampled N.

Reads:  RESULTS_DIR/paper_numbers.json (curves, crossovers).
Writes: OUT/crossover_nstar.{png,pdf}
Usage:  python paper/scripts/crossover_nstar.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt

NAME = "crossover_nstar"


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    curves, cross = numbers["curves"], numbers["crossovers"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    panels = (
        ("busy_per_change", "busy person-days per landed change"),
        ("lead_time_km_p50", "median lead time, days"),
    )
    ns = set()
    for ax, (metric, ylabel) in zip(axes, panels, strict=True):
        if "single_core.off" in curves:
            _common.plot_curve(ax, curves["single_core.off"], metric, org="single_core")
            ns.update(curves["single_core.off"]["n"])
        for ci in (False, True):
            key = f"hierarchical.{'on' if ci else 'off'}"
            if key not in curves:
                continue
            _common.plot_curve(ax, curves[key], metric, org="hierarchical", ci=ci)
            c = cross.get(key, {}).get(metric, {})
            if c.get("nstar"):
                lo = c.get("low") or min(curves[key]["n"])
                hi = c.get("high") or max(curves[key]["n"])
                color = _common.org_style("hierarchical", ci)["color"]
                ax.axvspan(lo, hi, color=color, alpha=0.12 if ci else 0.2, lw=0)
                ax.axvline(c["nstar"], color=color, linestyle="--" if ci else "-", lw=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("teams N")
        ax.set_ylabel(ylabel)
        _common.log_ticks(ax, ns)
    axes[0].legend(fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
