"""A preset's ``[trajectory]``: patterns observed period by period, held out in time.

See :mod:`model.presets` for the format. :func:`parse_trajectory` turns the table into a
:class:`Trajectory` and one :class:`model.presets.Pattern` per period and pattern name, each
with its window in model days (``warmup_days`` at ``start``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from model.presets import (
    TOLERANCE_KEYS,
    TRAJECTORY_KEYS,
    Pattern,
    PresetError,
    _hint,
    _keys,
    _observed,
    _str,
    _table,
    _tolerance,
)


@dataclass(frozen=True)
class Trajectory:
    """A preset's ``[trajectory]``: patterns observed period by period from one history."""

    start: dt.date
    in_sample_until: dt.date
    names: tuple[str, ...]
    periods: tuple[tuple[dt.date, dt.date], ...]
    observe: str
    repo: str
    commit: str
    counted: str

    def day(self, date: dt.date, warmup_days: float) -> float:
        """Model day of ``date``: ``warmup_days`` at ``start``."""
        return float(warmup_days) + (date - self.start).days

    @property
    def span_days(self) -> int:
        """Days from ``start`` to the end of the last period."""
        return (max(until for _, until in self.periods) - self.start).days


def _date(source: str, key: str, value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise PresetError(source, key, "an ISO date (2012-01-01)", value)


def parse_trajectory(
    source: str, raw: Any, warmup_days: float
) -> tuple[Trajectory, tuple[Pattern, ...]]:
    """Parse ``[trajectory]``: the trajectory and one pattern per period and name."""
    from observe.patterns import PATTERNS

    raw = _table(source, "trajectory", raw)
    _keys(source, "trajectory.", raw, TRAJECTORY_KEYS)
    for key in TRAJECTORY_KEYS:
        if key not in raw:
            raise PresetError(source, f"trajectory.{key}", "this required key")
    start = _date(source, "trajectory.start", raw["start"])
    until_in = _date(source, "trajectory.in_sample_until", raw["in_sample_until"])
    names = raw["patterns"]
    if not isinstance(names, list) or not names:
        raise PresetError(source, "trajectory.patterns", "a non-empty list of pattern names", names)
    for name in names:
        if name not in PATTERNS:
            raise PresetError(
                source,
                "trajectory.patterns",
                "names of observe.patterns.PATTERNS (computed over a window)"
                + _hint(str(name), PATTERNS),
                name,
            )
    text = {k: _str(source, f"trajectory.{k}", raw[k]) for k in ("observe", "repo", "commit")}
    counted = _str(source, "trajectory.counted", raw["counted"])
    if not text["observe"].startswith("orgscale observe "):
        raise PresetError(source, "trajectory.observe", "an 'orgscale observe ...' command")
    tol_raw = _table(source, "trajectory.tolerance", raw["tolerance"])
    if set(tol_raw) <= set(TOLERANCE_KEYS):
        tolerances = {n: _tolerance(source, "trajectory.tolerance", tol_raw) for n in names}
    else:
        tolerances = {}
        for name in names:
            if name not in tol_raw:
                raise PresetError(
                    source, f"trajectory.tolerance.{name}", "a tolerance for every pattern"
                )
            tolerances[name] = _tolerance(source, f"trajectory.tolerance.{name}", tol_raw[name])
        _keys(source, "trajectory.tolerance.", tol_raw, tuple(names))
    rows = raw["period"]
    if not isinstance(rows, list) or not rows:
        raise PresetError(source, "trajectory.period", "one or more [[trajectory.period]] rows")
    periods, patterns, previous = [], [], start
    for i, row in enumerate(rows):
        where = f"trajectory.period[{i}]"
        row = _table(source, where, row)
        _keys(source, f"{where}.", row, ("since", "until", *names))
        for key in ("since", "until"):
            if key not in row:
                raise PresetError(source, f"{where}.{key}", "this required key")
        since = _date(source, f"{where}.since", row["since"])
        until = _date(source, f"{where}.until", row["until"])
        if not until > since:
            raise PresetError(source, f"{where}.until", f"a date after since={since}", str(until))
        if since < previous:
            raise PresetError(
                source,
                f"{where}.since",
                f"periods in order, not overlapping, from start={start} ({previous} or later)",
                str(since),
            )
        previous = until
        periods.append((since, until))
        window = (
            float(warmup_days) + (since - start).days,
            float(warmup_days) + (until - start).days,
        )
        in_sample = since < until_in
        for name in names:
            if name not in row:
                continue
            rel, abs_, factor = tolerances[name]
            low, high = _observed(source, f"{where}.{name}", row[name], factor)
            patterns.append(
                Pattern(
                    id=f"{name}@{since.isoformat()}",
                    metric=name,
                    low=low,
                    high=high,
                    rel_tol=rel,
                    abs_tol=abs_,
                    factor=factor,
                    in_sample=in_sample,
                    ref=f"{text['repo']} at {text['commit'][:12]}, by {text['observe']}",
                    date=f"{since.isoformat()} – {until.isoformat()}",
                    counted=counted,
                    command=text["observe"],
                    why=""
                    if in_sample
                    else f"held out in time: the period starts on or after {until_in.isoformat()}",
                    window=window,
                    period=(since.isoformat(), until.isoformat()),
                )
            )
    if not patterns:
        raise PresetError(source, "trajectory.period", "observed values of the named patterns")
    trajectory = Trajectory(
        start=start,
        in_sample_until=until_in,
        names=tuple(names),
        periods=tuple(periods),
        counted=counted,
        **text,
    )
    return trajectory, tuple(patterns)
