"""The numbers of ``orgscale advise``'s report, from ``comparison.parquet``: pure functions.

:func:`summary_table` gives each organisation's median and 90% interval (over posterior
draws × seeds) of every metric at every horizon point; :func:`limit_year` when the
organisation as it is reaches its limit; :func:`best_alternative` which organisation keeps
lead time lowest at the horizon and by how much, as a paired difference (the same draw and
seed in both organisations).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: The busiest team at this utilisation is at capacity (the model's own ``saturated`` rule).
AT_CAPACITY = 0.98
#: ... and at this one near its limit (M/M/1: waits 9× the service time at 0.9).
NEAR_LIMIT = 0.85
#: An organisation whose runs saturate this often is not a steady state to rank.
SATURATED_SHARE = 0.5

KEYS = ["organisation", "ci_automation", "year"]


def _q(values: pd.Series, q: float) -> float:
    v = values.to_numpy(float)
    v = v[np.isfinite(v)]
    return float(np.quantile(v, q)) if v.size else math.nan


def summary_table(table: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Per organisation × automation × year: ``<metric>_p50`` and the 90% interval
    ``<metric>_lo``/``_hi``, the share of runs ``saturated`` and of failed runs."""
    ok = table[table["error"] == ""]
    rows = []
    for key, group in ok.groupby(KEYS, sort=True):
        row = dict(zip(KEYS, key, strict=True))
        row["runs"] = len(group)
        for m in metrics:
            row[f"{m}_p50"] = _q(group[m], 0.5)
            row[f"{m}_lo"] = _q(group[m], 0.05)
            row[f"{m}_hi"] = _q(group[m], 0.95)
        row["saturated_share"] = float(np.nanmean(group["saturated"]))
        rows.append(row)
    out = pd.DataFrame(rows)
    failed = table[table["error"] != ""].groupby(KEYS).size()
    out["failed"] = [int(failed.get(tuple(r[k] for k in KEYS), 0)) for _, r in out.iterrows()]
    return out


def limit_year(summary: pd.DataFrame, organisation: str = "as_is") -> float:
    """Years until ``organisation`` (without automation) is at capacity: where its median
    busiest-team utilisation crosses :data:`AT_CAPACITY` or half its runs saturate, by
    linear interpolation between horizon points; 0 if already; ``inf`` if not within the
    horizon."""
    rows = summary[(summary["organisation"] == organisation) & ~summary["ci_automation"]]
    rows = rows.sort_values("year")
    years = rows["year"].to_numpy(float)
    util = rows["max_team_utilization_p50"].to_numpy(float)
    sat = rows["saturated_share"].to_numpy(float)
    for i, year in enumerate(years):
        if util[i] >= AT_CAPACITY or sat[i] >= SATURATED_SHARE:
            if i == 0:
                return 0.0
            u0, u1 = util[i - 1], util[i]
            frac = (AT_CAPACITY - u0) / (u1 - u0) if u1 > u0 and util[i] >= AT_CAPACITY else 1.0
            return float(years[i - 1] + min(max(frac, 0.0), 1.0) * (year - years[i - 1]))
    return math.inf


@dataclass(frozen=True)
class Difference:
    """A paired difference (alternative − as it is) of one metric: median and 90% interval."""

    median: float
    lo: float
    hi: float
    relative: float  # median difference over the as-is median


def paired_difference(
    table: pd.DataFrame, organisation: str, ci: bool, year: float, metric: str
) -> Difference:
    """Alternative − as it is (no automation) at ``year``, paired by draw and seed."""
    ok = table[(table["error"] == "") & (table["year"] == year)]
    base = ok[(ok["organisation"] == "as_is") & ~ok["ci_automation"]]
    alt = ok[(ok["organisation"] == organisation) & (ok["ci_automation"] == ci)]
    joined = alt.merge(base, on=["draw", "replicate"], suffixes=("", "_base"))
    diff = (joined[metric] - joined[f"{metric}_base"]).to_numpy(float)
    diff = diff[np.isfinite(diff)]
    if not diff.size:
        return Difference(math.nan, math.nan, math.nan, math.nan)
    base_median = _q(base[metric], 0.5)
    median = float(np.median(diff))
    return Difference(
        median,
        float(np.quantile(diff, 0.05)),
        float(np.quantile(diff, 0.95)),
        median / base_median if base_median else math.nan,
    )


def best_alternative(summary: pd.DataFrame, year: float) -> pd.Series | None:
    """The organisation with the lowest median lead time at ``year`` among those that are
    not saturated (ties: lower reviewer-days per change); ``None`` if all saturate."""
    rows = summary[(summary["year"] == year) & (summary["saturated_share"] < SATURATED_SHARE)]
    rows = rows.dropna(subset=["lead_time_p50_p50"])
    if not len(rows):
        return None
    rows = rows.sort_values(["lead_time_p50_p50", "paid_reviewer_days_per_change_p50"])
    return rows.iloc[0]


def cheapest(summary: pd.DataFrame, year: float) -> pd.Series | None:
    """The non-saturated organisation with the fewest paid reviewer-days per change."""
    rows = summary[(summary["year"] == year) & (summary["saturated_share"] < SATURATED_SHARE)]
    rows = rows.dropna(subset=["paid_reviewer_days_per_change_p50"])
    if not len(rows):
        return None
    return rows.sort_values("paid_reviewer_days_per_change_p50").iloc[0]
