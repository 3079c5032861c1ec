"""Where a split overtakes one core team: the crossover N* and its CI band.

Two panels against N: busy person-days per landed change and median lead time, for one
core team and the seed's hierarchy (automation off and on). The shaded band is N*'s 95%
bootstrap CI (where the curves cross); no band means the curves do not cross in the
sampled N. The bar along the top of each panel is N* over the plausible ranges of the
assumed parameters (the sensitivity sweep's ``nstar_spread``): thin from the 5% to the 95%
quantile of sample points, thick from 25% to 75%, a tick at the median; a quantile that is
censored (N* below the sweep's smaller N or above its larger N, or never) is drawn just
outside that N with an arrowhead pointing away.

Reads:  RESULTS_DIR/paper_numbers.json (curves, crossovers, sensitivity.nstar_spread).
Writes: OUT/crossover_nstar.{png,pdf}
Usage:  python paper/scripts/crossover_nstar.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib.pyplot as plt

NAME = "crossover_nstar"
CENSORED_STEP = 1.5  # how far outside n_lo / n_hi a censored quantile is drawn (factor)


def spread_bar(ax: plt.Axes, spread: dict, y: float = 0.96) -> None:
    """N*'s quantiles over the plausible space as a bar at height ``y`` (axes fraction): thin
    5–95%, thick 25–75%, a tick at the median, an arrow where a quantile is censored (the
    caption says so; a label inside the panel would run over the curves)."""
    n_lo, n_hi = spread["n_lo"], spread["n_hi"]
    q = {round(100 * x["q"]): x for x in spread["quantiles"]}
    if not all(k in q for k in (5, 25, 50, 75, 95)):
        return

    def pos(k: int) -> float:
        c = q[k].get("censored")
        if c == "<":
            return n_lo / CENSORED_STEP
        if c == ">":
            return n_hi * CENSORED_STEP
        return float(q[k]["value"])

    def span(a: int, b: int) -> list[float]:
        """From quantile a to b; a run of censored quantiles starts at the N it lies beyond."""
        left = n_hi if q[a].get("censored") == ">" else pos(a)
        right = n_lo if q[b].get("censored") == "<" else pos(b)
        return [left, right]

    tr = ax.get_xaxis_transform()
    color = "#0072B2"
    ax.plot(span(5, 95), [y, y], color=color, lw=1.2, transform=tr, clip_on=False)
    ax.plot(span(25, 75), [y, y], color=color, lw=4, transform=tr, clip_on=False)
    ax.plot([pos(50)], [y], marker="|", ms=10, color="black", transform=tr, clip_on=False)
    for k, side in ((5, "<"), (95, ">")):
        if q[k].get("censored") == side:
            marker = "<" if side == "<" else ">"
            ax.plot([pos(k)], [y], marker=marker, ms=6, color=color, transform=tr, clip_on=False)


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    curves, cross = numbers["curves"], numbers["crossovers"]
    spread = (numbers.get("sensitivity") or {}).get("nstar_spread", {})
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
        if metric in spread:
            spread_bar(ax, spread[metric])
        ax.set_xlabel("teams N")
        ax.set_ylabel(ylabel)
        _common.log_ticks(ax, ns)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=7)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
