"""U-Boot 2024–2025: observed against simulated, throughput, lead times and direct share.

Three panels: changes landed per day; the lead-time quantiles (p25, p50, p75, p90, days,
log scale); the share of changes the top maintainer applies directly. Black markers are
what ``orgscale observe`` counted in u-boot/u-boot's history (the preset ``u-boot``);
coloured markers and bars are the model, the median and the 90% band over its runs (the
calibration's posterior predictive draws, each on a fresh seed, or the preset's own
configuration when uncalibrated: the title says which). Each pattern's tick label says its
role: fitted (in-sample), held out, or a check fixed by the configuration.

Reads:  RESULTS_DIR/paper_numbers.json (case_studies.uboot: paper/case_studies.py uboot_case).
Writes: OUT/case_uboot.{png,pdf}
Usage:  python paper/scripts/case_uboot.py results/paper [--out paper/figures]
"""

from __future__ import annotations

import sys
from pathlib import Path

import _common
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

NAME = "case_uboot"
KEY = "uboot"
PANELS = (
    (("merged_per_day",), "changes landed per day", False),
    (
        ("lead_time_p25", "lead_time_p50", "lead_time_p75", "lead_time_p90"),
        "lead time, days",
        True,
    ),
    (("top_direct_landed_share",), "share landed directly by the top", False),
)
ROLE_SHORT = {"in_sample": "fitted", "held_out": "held out", "check": "check"}
SIM_COLOR = "#0072B2"


def _nan(x) -> float:
    return np.nan if x is None else float(x)


def title(case: dict) -> str:
    if not case.get("calibrated"):
        return "model uncalibrated (preset configuration)"
    state = "converged" if case.get("converged") else "not converged"
    return f"model calibrated ({state}), {case['n_runs']} predictive runs"


def draw_patterns(axes, case: dict) -> None:
    rows = {r["metric"]: r for r in case["patterns"] if not r.get("since")}
    for ax, (metrics, ylabel, log) in zip(axes, PANELS, strict=True):
        present = [m for m in metrics if m in rows]
        if not present:
            _common.no_data(ax, "not observed")
            continue
        x = np.arange(len(present))
        r = [rows[m] for m in present]
        med = np.array([_nan(v["sim_median"]) for v in r])
        lo = np.array([_nan(v["sim_p05"]) for v in r])
        hi = np.array([_nan(v["sim_p95"]) for v in r])
        ax.errorbar(
            x + 0.08,
            med,
            yerr=[np.clip(med - lo, 0, None), np.clip(hi - med, 0, None)],
            fmt="s",
            color=SIM_COLOR,
            ms=5,
            capsize=3,
            label="simulated: median, 90% band",
        )
        ax.plot(x - 0.08, [_nan(v["observed"]) for v in r], "o", color="black", label="observed")
        labels = [
            f"{m.removeprefix('lead_time_')}\n({ROLE_SHORT.get(v['role'], v['role'])})"
            for m, v in zip(present, r, strict=True)
        ]
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_xlim(-0.6, len(present) - 0.4)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        else:
            ax.set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    axes[0].figure.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=7)


def main(results_dir: str | Path, out_dir: str | Path) -> list[Path]:
    _common.set_theme()
    numbers = _common.load_numbers(results_dir)
    case = (numbers.get("case_studies") or {}).get(KEY)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8), gridspec_kw={"width_ratios": (1, 2.6, 1)})
    if not case or not case.get("patterns"):
        for ax in axes:
            _common.no_data(ax, "no U-Boot case study\nin these numbers")
        return _common.save(fig, out_dir, NAME)
    draw_patterns(axes, case)
    fig.suptitle(f"U-Boot 2024–2025: {title(case)}", fontsize=9)
    return _common.save(fig, out_dir, NAME)


if __name__ == "__main__":
    sys.exit(_common.cli(main, __doc__))
