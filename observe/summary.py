"""What ``orgscale observe`` reports about one history: its window and its patterns.

:func:`resolve_window` turns the user's ``--since``/``--until`` into a :class:`Window` of the
log's clock; :func:`summarize` computes every pattern the source can give over it, per-area
counts and co-change coupling, as plain values ready for JSON or TOML. No I/O here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pyarrow as pa

from model.eventlog import log_info
from observe.patterns import (
    PATTERNS,
    Changes,
    Window,
    available,
    co_change,
    compute,
    per_area,
)

# patterns that describe maintainer trees: reported for sources that have them
TREE_PATTERNS = ("top_direct_landed_share", "tree_depth")
TREE_WORKFLOWS = ("pull", "model")


class WindowError(ValueError):
    """The requested window is unusable (the message says why)."""


def parse_bound(text: str | None, *, dated: bool, what: str) -> dt.date | float | None:
    """``--since``/``--until``: an ISO date for a dated history, a number of days for a
    model run's log. Raises :class:`WindowError` naming the option and what is valid."""
    if text is None:
        return None
    if dated:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise WindowError(f"{what} {text!r} is not a date (YYYY-MM-DD)") from None
    try:
        value = float(text)
    except ValueError:
        raise WindowError(
            f"{what} {text!r}: a model run's log is measured in days, give a number"
        ) from None
    if not math.isfinite(value):
        raise WindowError(f"{what} {text!r}: must be a finite number of days")
    return value


def days_since(origin: str, day: dt.date) -> float:
    """Days from ``origin`` (ISO date, 00:00 UTC) to ``day`` (00:00 UTC)."""
    return float((day - dt.date.fromisoformat(origin)).days)


def resolve_window(log: pa.Table, changes: Changes, since: str | None, until: str | None) -> Window:
    """The window to measure: the user's bounds, else the log's own.

    A model run's default window is its measured window (after warm-up, from the log's
    metadata); a history's runs from its first creation to the day after its last landing.
    """
    info = log_info(log)
    origin = info.get("origin")
    lo = parse_bound(since, dated=origin is not None, what="--since")
    hi = parse_bound(until, dated=origin is not None, what="--until")
    if origin is not None:
        lo = days_since(origin, lo) if lo is not None else None
        hi = days_since(origin, hi) if hi is not None else None
    table = changes.table
    if "measured" in info:
        start, end = (float(v) for v in info["measured"].split())
    else:
        start = float(np.nanmin(table["created"])) if len(table) else 0.0
        landed = table["landed"].to_numpy(float)
        end = float(np.floor(np.nanmax(landed)) + 1) if np.isfinite(landed).any() else start + 1
    start = start if lo is None else lo
    end = end if hi is None else hi
    if not end > start:
        raise WindowError(f"the window is empty: --until must come after --since ({start}, {end})")
    return Window(start, end)


def window_dates(log: pa.Table, window: Window) -> tuple[str, str] | None:
    """The window as ISO dates for a dated history (``None`` for a model run)."""
    origin = log_info(log).get("origin")
    if origin is None:
        return None
    base = dt.date.fromisoformat(origin)
    return (
        (base + dt.timedelta(days=math.floor(window.start))).isoformat(),
        (base + dt.timedelta(days=math.ceil(window.end))).isoformat(),
    )


def summarize(
    log: pa.Table, changes: Changes, window: Window, *, workflow: str, detail: bool = True
) -> dict[str, Any]:
    """Every pattern the source gives over ``window``, plus per-area counts and coupling.

    Returns a dict: ``workflow``, ``changes`` (landed in the window), ``window`` (days, and
    dates for a history), one key per pattern (``None`` where nothing was counted), and,
    with ``detail``, ``areas`` / ``co_change`` (lists of rows).
    """
    names = [
        name
        for name in PATTERNS
        if available(changes, name) and (name not in TREE_PATTERNS or workflow in TREE_WORKFLOWS)
    ]
    values = compute(changes, window, names)
    landed = changes.table["landed"].to_numpy(float)
    out: dict[str, Any] = {
        "workflow": workflow,
        "changes": int(window.holds(landed).sum()),
        "window": {"start_days": window.start, "end_days": window.end, "days": window.days},
    }
    dates = window_dates(log, window)
    if dates is not None:
        out["window"].update({"since": dates[0], "until": dates[1]})
    out.update({name: _plain(value) for name, value in values.items()})
    if not detail:
        return out
    areas = per_area(changes, window)
    out["areas"] = [
        {"area": str(area), "landed": int(row.landed), "lead_time_p50": _plain(row.lead_time_p50)}
        for area, row in areas.iterrows()
    ]
    out["co_change"] = [
        {"area_a": row.area_a, "area_b": row.area_b, "share": float(row.share)}
        for row in co_change(changes, window).itertuples()
    ]
    return out


PERIODS = {"month": 1, "quarter": 3, "year": 12}


def split_window(log: pa.Table, window: Window, every: str) -> list[Window]:
    """``window`` cut into calendar months, quarters or years (a dated history) or into
    periods of 30, 91 or 365 days (a model run); the last period ends at the window's end
    and a period shorter than half its length is dropped."""
    if every not in PERIODS:
        raise WindowError(f"--every {every!r} is invalid: must be one of {', '.join(PERIODS)}")
    origin = log_info(log).get("origin")
    edges: list[float] = []
    if origin is None:
        step = {"month": 30.0, "quarter": 91.0, "year": 365.0}[every]
        edge = window.start
        while edge < window.end:
            edges.append(edge)
            edge += step
        full = step
    else:
        base = dt.date.fromisoformat(origin)
        first = base + dt.timedelta(days=math.floor(window.start))
        months = PERIODS[every]
        month0 = (first.month - 1) // months * months  # calendar-aligned
        day = dt.date(first.year, month0 + 1, 1)
        while days_since(origin, day) < window.end:
            edges.append(max(days_since(origin, day), window.start))
            month = day.month - 1 + months
            day = dt.date(day.year + month // 12, month % 12 + 1, 1)
        full = 30.4 * months
    bounds = [*edges, window.end]
    return [Window(lo, hi) for lo, hi in itertools.pairwise(bounds) if hi - lo >= full / 2]


def summarize_periods(
    log: pa.Table, changes: Changes, window: Window, *, workflow: str, every: str
) -> list[dict[str, Any]]:
    """:func:`summarize` for each period of ``window`` (no per-area rows or coupling)."""
    rows = []
    for period in split_window(log, window, every):
        summary = summarize(log, changes, period, workflow=workflow, detail=False)
        rows.append(summary)
    return rows


def _plain(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else value
