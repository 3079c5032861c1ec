"""The observe stage of ``orgscale advise``: one project's history reduced to what the model needs.

:func:`observe_project` takes the event log of a history (:func:`observe.sources.read_source`)
and returns plain values ready for TOML (``observed.toml``): the window, the patterns of the
last year (the calibration window), its areas and the load on each, the growth per year of
demand (per area and overall) and of contributors, co-change coupling between areas, the
organisation the workflow shows (one team reviewing everything, or maintainer trees with
their direct share and depth), the review waits where the source records reviews, and the
groupings of areas a split could follow (:mod:`sweeps.advise.groupings`). Pure: no I/O.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from observe.patterns import Changes, Window, change_table, co_change, compute
from observe.summary import summarize
from sweeps.advise.groupings import cochange_communities, cross_share, top_directory

#: A history needs this much to calibrate the model against it.
MIN_DAYS = 90
MIN_LANDED = 100
#: Length of the calibration window (the last days of the history), days.
CALIBRATION_DAYS = 365
#: Years of history the growth rates are fitted over (the last ones).
GROWTH_YEARS = 3
#: Whole months of history a growth rate needs.
MIN_MONTHS = 6
#: Areas kept as the model's areas: at least this share of the window's changes, at most
#: MAX_AREAS of them; the rest are pooled as OTHER, itself a model area if it holds at
#: least MIN_AREA_SHARE of the changes (else its changes count in the demand only).
MIN_AREA_SHARE = 0.02
MAX_AREAS = 24
OTHER = "(other)"
#: Workflows whose changes all go through one review team.
ONE_TEAM_WORKFLOWS = ("gerrit", "github", "gerrit-export", "github-export")


class TooLittleHistory(ValueError):
    """The history is too short or too small to calibrate (the message says which)."""


def observe_project(
    table,
    *,
    workflow: str,
    source: str,
    commit: str | None,
    directories: pa.Table | None = None,
) -> dict[str, Any]:
    """Everything ``advise`` observes about one history (see the module docstring).

    ``directories``: the same history read with top-level directories as areas, when
    ``table``'s areas are MAINTAINERS entries; it gives the split by top-level directory.

    Raises :class:`TooLittleHistory` when the calibration window holds fewer than
    :data:`MIN_LANDED` landed changes or the history spans fewer than :data:`MIN_DAYS` days.
    """
    from model.eventlog import log_info

    origin = log_info(table).get("origin")
    changes = change_table(table)
    landed = changes.table["landed"].to_numpy(float)
    if not np.isfinite(landed).any():
        raise TooLittleHistory("the history holds no landed change: nothing to calibrate")
    first = float(np.nanmin(landed))
    end = float(np.floor(np.nanmax(landed)) + 1)
    span = end - max(first, 0.0)
    if span < MIN_DAYS:
        raise TooLittleHistory(
            f"the history spans {span:.0f} days: at least {MIN_DAYS} are needed to calibrate "
            "(give an earlier --since or a longer history)"
        )
    start = max(end - CALIBRATION_DAYS, first, 0.0)
    window = Window(start, end)
    n_landed = int(window.holds(landed).sum())
    if n_landed < MIN_LANDED:
        raise TooLittleHistory(
            f"{n_landed} changes landed in the last {window.days:.0f} days: at least "
            f"{MIN_LANDED} are needed to calibrate"
        )
    areas, area_map = keep_areas(changes, window)
    changes = remap_areas(changes, area_map)
    summary = summarize(table, changes, window, workflow=workflow)
    late = Window(end - window.days / 4, end)
    late_values = compute(changes, late, ["merged_per_day", "lead_time_p50"])
    growth_window = Window(max(first, end - 365.25 * GROWTH_YEARS, 0.0), end)
    area_growth = demand_growth(changes, growth_window, by_area=True)
    groupings = {"per_area": {a: a for a in areas}}
    top = top_directory(areas)
    if 1 < len(set(top.values())) < len(areas):
        groupings["top_directory"] = top
    if directories is not None:
        groupings["top_directory"] = directory_grouping(directories, window)
    pairs = co_change(changes, window)
    groupings["cochange"] = cochange_communities(areas, pairs)
    shares = {
        name: g.pop("_cross_share") if "_cross_share" in g else cross_share(changes, window, g)
        for name, g in groupings.items()
    }
    reviewers = (
        int(changes.votes[window.holds(changes.votes["time"])]["reviewer"].nunique())
        if changes.has_reviews
        else 0
    )
    multi = cross_share(changes, window, {a: a for a in areas})
    patterns = {
        k: v
        for k, v in summary.items()
        if k not in ("workflow", "changes", "window", "areas", "co_change")
    }
    return {
        "source": {"path": source, "commit": commit or "", "workflow": workflow},
        "history": {
            "origin": origin or "",
            "first_day": first,
            "end_day": end,
            "span_days": span,
            "landed": int(np.isfinite(landed).sum()),
        },
        "window": {
            **summary["window"],
            "landed": n_landed,
            "late_start_days": late.start,
        },
        "patterns": patterns,
        "late": {k: _plain(v) for k, v in late_values.items()},
        "growth": {
            "years_fitted": growth_window.days / 365.25,
            "demand_per_year": demand_growth(changes, growth_window)["all"],
            "contributors_per_year": contributor_growth(changes, growth_window),
        },
        "organisation": organisation(workflow, summary),
        "reviewers_active": reviewers,
        "multi_area_share": multi,
        "areas": [
            {
                "area": row["area"],
                "landed": row["landed"],
                "share": row["landed"] / n_landed,
                "lead_time_p50": row["lead_time_p50"],
                "growth_per_year": area_growth.get(row["area"], 0.0),
            }
            for row in summary["areas"]
            if row["area"] in areas
        ],
        "co_change": summary["co_change"],
        "groupings": {
            name: {"groups": _groups(g), "cross_share": shares[name]}
            for name, g in groupings.items()
        },
    }


def directory_grouping(table: pa.Table, window: Window) -> dict[str, Any]:
    """One group per top-level directory kept (:func:`keep_areas`) of a history read with
    ``areas_depth=1``, with the share of its changes touching more than one
    (``_cross_share``)."""
    changes = change_table(table)
    kept, area_map = keep_areas(changes, window)
    changes = remap_areas(changes, area_map)
    grouping: dict[str, Any] = {a: a for a in kept}
    share = cross_share(changes, window, dict(grouping))
    grouping["_cross_share"] = share
    return grouping


def keep_areas(changes: Changes, window: Window) -> tuple[list[str], dict[str, str]]:
    """The areas the model gets (busiest first) and the map of every observed area to one."""
    table = changes.table
    counts = table[window.holds(table["landed"])]["area"].value_counts()
    counts = counts[counts.index != ""]
    total = max(int(counts.sum()), 1)
    big = [a for a, n in counts.items() if n / total >= MIN_AREA_SHARE][:MAX_AREAS]
    if len(big) < len(counts) and len(big) == MAX_AREAS:
        big = big[: MAX_AREAS - 1]
    names = set(table["area"]) | set(changes.touched["area"])
    area_map = {a: (a if a in big else OTHER) for a in names}
    pooled = int(counts[[a for a in counts.index if a not in big]].sum())
    kept = big + ([OTHER] if pooled / total >= MIN_AREA_SHARE else [])
    return kept, area_map


def remap_areas(changes: Changes, area_map: dict[str, str]) -> Changes:
    """``changes`` with every area replaced by its kept area (:func:`keep_areas`)."""
    table = changes.table.copy()
    table["area"] = table["area"].map(area_map).fillna(OTHER)
    touched = changes.touched.copy()
    touched["area"] = touched["area"].map(area_map).fillna(OTHER)
    touched = touched.drop_duplicates()
    return Changes(
        table, changes.uploads, changes.votes, touched, changes.has_reviews, changes.has_unlanded
    )


def _growth_rate(times: np.ndarray, window: Window) -> float:
    """Fractional growth per year of the rate of events at ``times``: a Poisson regression
    of monthly counts on time (log-linear), ``exp(slope × 365.25) − 1``; 0 with fewer than
    :data:`MIN_MONTHS` whole months or no events."""
    edges = np.arange(window.start, window.end + 1e-9, 30.4375)
    if len(edges) <= MIN_MONTHS or not len(times):
        return 0.0
    counts, _ = np.histogram(times, bins=edges)
    mid = (edges[:-1] + edges[1:]) / 2
    slope = _poisson_slope(mid / 365.25, counts.astype(float))
    return float(math.expm1(slope))


def _poisson_slope(x: np.ndarray, y: np.ndarray) -> float:
    """Slope of log E[y] = a + b·x by Newton's method (Poisson regression), in units of x."""
    if y.sum() <= 0:
        return 0.0
    xc = x - x.mean()
    a, b = math.log(y.mean()), 0.0
    for _ in range(50):
        mu = np.exp(np.clip(a + b * xc, -50, 50))
        grad = np.array([(y - mu).sum(), ((y - mu) * xc).sum()])
        hess = np.array([[mu.sum(), (mu * xc).sum()], [(mu * xc).sum(), (mu * xc * xc).sum()]])
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        a, b = a + step[0], b + step[1]
        if np.abs(step).max() < 1e-10:
            break
    return float(np.clip(b, -3.0, 3.0))


def demand_growth(changes: Changes, window: Window, *, by_area: bool = False) -> dict[str, float]:
    """Growth per year of landed changes (``"all"``), or of each area's."""
    table = changes.table
    rows = table[window.holds(table["landed"])]
    out = {"all": _growth_rate(rows["landed"].to_numpy(float), window)}
    if by_area:
        for area, group in rows.groupby("area"):
            out[str(area)] = _growth_rate(group["landed"].to_numpy(float), window)
    return out


def contributor_growth(changes: Changes, window: Window) -> float:
    """Growth per year of the distinct authors landing a change each month (log-linear
    least squares over the whole months of ``window``; 0 with fewer than
    :data:`MIN_MONTHS`)."""
    table = changes.table
    rows = table[window.holds(table["landed"]) & (table["author"] != "")]
    edges = np.arange(window.start, window.end + 1e-9, 30.4375)
    if len(edges) <= MIN_MONTHS:
        return 0.0
    month = np.digitize(rows["landed"].to_numpy(float), edges) - 1
    per_month = pd.Series(rows["author"].to_numpy()).groupby(month).nunique()
    counts = per_month.reindex(range(len(edges) - 1))
    counts = counts.fillna(0).to_numpy(float)
    mid = (edges[:-1] + edges[1:]) / 2 / 365.25
    keep = counts > 0
    if keep.sum() < MIN_MONTHS:
        return 0.0
    slope = np.polyfit(mid[keep], np.log(counts[keep]), 1)[0]
    return float(math.expm1(np.clip(slope, -3.0, 3.0)))


def organisation(workflow: str, summary: dict[str, Any]) -> dict[str, Any]:
    """The review organisation a workflow shows: ``one_team`` (Gerrit, GitHub: one team
    approves every change into one mainline) or ``maintainer_trees`` (pull: subsystem trees
    pulled by a top maintainer, with the share applied directly and the depth)."""
    if workflow == "pull":
        return {
            "kind": "maintainer_trees",
            "direct_share": _plain(summary.get("top_direct_landed_share")),
            "depth": _plain(summary.get("tree_depth")),
        }
    return {"kind": "one_team", "direct_share": 1.0, "depth": 0.0}


def _groups(grouping: dict[str, str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for area, group in grouping.items():
        groups.setdefault(group, []).append(area)
    return sorted((sorted(v) for v in groups.values()), key=lambda g: (-len(g), g))


def _plain(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)
