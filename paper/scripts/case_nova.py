"""Nova 2012–2015 by quarter: observed against simulated, merged per day and lead times.

Two panels on the same quarters: changes merged per day, and the lead-time quartiles
(p25, p50, p75, p90, days, log scale). Markers are what ``orgscale observe`` counted in
openstack/nova's history (the preset ``nova-trajectory``); lines and bands are the model,
the median and the 90% band over its runs (the calibration's posterior predictive draws,
each on a fresh seed, or the preset's own configuration when uncalibrated: the title says
which). The dashed vertical line is the end of the in-sample quarters: those right of it
were held out in time.

Reads:  RESULTS_DIR/paper_numbers.json (case_studies.nova: paper/case_studies.py nova_case).
Writes: OUT/case_nova.{png,pdf}
Usage:  python paper/scripts/case_nova.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import _common
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

NAME = "case_nova"
KEY = "nova"
LEAD = ("lead_time_p25", "lead_time_p50", "lead_time_p75", "lead_time_p90")
LEAD_COLORS = dict(zip(LEAD, ("#56B4E9", "#0072B2", "#E69F00", "#D55E00"), strict=True))


def _nan(x) -> float:
    return np.nan if x is None else float(x)


def _series(rows: list[dict], metric: str) -> dict[str, np.ndarray]:
    """A metric's periods in time order: mid-dates, observed, simulated median and band."""
    rows = sorted((r for r in rows if r["metric"] == metric), key=lambda r: r["since"])
    since = [dt.date.fromisoformat(r["since"]) for r in rows]
    until = [dt.date.fromisoformat(r["until"]) for r in rows]
    mid = [a + (b - a) / 2 for a, b in zip(since, until, strict=True)]
    return {
        "x": np.array(mid, dtype="datetime64[D]"),
        **{k: np.array([_nan(r[k]) for r in rows]) for k in ("observed", "sim_median")},
        **{k: np.array([_nan(r[k]) for r in rows]) for k in ("sim_p05", "sim_p95")},
    }


def title(case: dict) -> str:
    if not case.get("calibrated"):
        return "model uncalibrated (preset configuration)"
    state = "converged" if case.get("converged") else "not converged"
    return f"model calibrated on the in-sample quarters ({state}), {case['n_runs']} predictive runs"


def draw_trajectory(axes, case: dict) -> None:
    """Merged per day on ``axes[0]``, lead-time quantiles on ``axes[1]``."""
    rows = [r for r in case["patterns"] if r.get("since")]
    panels = ((axes[0], ("merged_per_day",)), (axes[1], LEAD))
    for ax, metrics in panels:
        for metric in metrics:
            s = _series(rows, metric)
            if not len(s["x"]):
                continue
            color = LEAD_COLORS.get(metric, "#000000")
            label = "merged per day" if metric == "merged_per_day" else metric[len("lead_time_") :]
            ax.fill_between(s["x"], s["sim_p05"], s["sim_p95"], color=color, alpha=0.15, lw=0)
            ax.plot(
                s["x"],
                s["sim_median"],
                color=color,
                lw=1.5,
                label=f"{label}: simulated median, 90% band",
            )
            ax.plot(
                s["x"],
                s["observed"],
                color=color,
                marker="o",
                ms=4,
                lw=0.8,
                linestyle=":",
                label=f"{label} observed",
            )
    if case.get("in_sample_until"):
        boundary = np.datetime64(case["in_sample_until"], "D")
        for ax in axes:
            ax.axvline(boundary, color="grey", linestyle="--", lw=1)
            ax.text(
                boundary,
                0.98,
                " held out →",
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                color="grey",
                va="top",
                ha="left",
            )
            ax.text(
                boundary,
                0.98,
                "← in-sample ",
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                color="grey",
                va="top",
                ha="right",
            )
    axes[0].set_ylabel("changes merged per day")
    axes[0].set_ylim(bottom=0)
    axes[1].set_yscale("log")
    axes[1].yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    axes[1].yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes[1].set_ylabel("lead time, days (p25, p50, p75, p90)")
    axes[1].set_xlabel("period (observed and simulated over the same dates)")
    axes[0].legend(fontsize=7, loc="lower left")
    handles = [
        Line2D([], [], color="grey", lw=1.5, label="simulated: median, 90% band"),
        Line2D([], [], color="grey", lw=0.8, ls=":", marker="o", ms=4, label="observed"),
    ] + [Patch(color=c, label=m[len("lead_time_") :]) for m, c in LEAD_COLORS.items()]
    axes[1].legend(handles=handles, fontsize=7, ncol=3, loc="lower right")


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    case = (numbers.get("case_studies") or {}).get(KEY)
    fig, axes = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    if not case or not case.get("patterns"):
        for ax in axes:
            _common.no_data(ax, "no Nova case study in these numbers (paper/case_studies.py)")
        return _common.save(fig, out_dir, NAME)
    draw_trajectory(axes, case)
    fig.suptitle(f"OpenStack Nova 2012–2015 by quarter: {title(case)}", fontsize=9)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
