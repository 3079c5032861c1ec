"""What every reader returns: a :class:`History` (an event-log table and where it came from),
the one error they raise (:class:`ObserveError`) and :class:`EventRows`, the column builder
that turns events timed in Unix seconds into a table timed in days since an origin date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from model.eventlog import KINDS, make_table

SECONDS_PER_DAY = 86_400.0


class ObserveError(ValueError):
    """A source cannot be read; the one-line message names the source and the problem."""


@dataclass(frozen=True)
class History:
    """An observed (or simulated) history in the event-log schema.

    Attributes
    ----------
    table
        The events (:data:`model.eventlog.SCHEMA`); ``time`` in days since ``origin``.
    workflow
        "gerrit", "github" or "pull" for a git repository; "gerrit-export", "github-export"
        or "model" for the other sources.
    source
        A short description of what was read (path, and for a git repository the branch).
    commit
        The HEAD commit's sha of a git repository, the sha256 of an export file, ``None``
        for a model's log.
    origin
        ISO date (00:00 UTC) of time 0; ``None`` for a model's log.
    notes
        What the reader found, one finding a string (patterns counted, events skipped).
    """

    table: pa.Table
    workflow: str
    source: str
    commit: str | None
    origin: str | None
    notes: tuple[str, ...] = ()


def date_seconds(day: dt.date) -> float:
    """Unix seconds of 00:00 UTC on ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def in_window(seconds: float, since: dt.date | None, until: dt.date | None) -> bool:
    """Whether an instant (Unix seconds) falls in [since, until) (open where ``None``)."""
    if since is not None and seconds < date_seconds(since):
        return False
    return until is None or seconds < date_seconds(until)


def window_text(since: dt.date | None, until: dt.date | None) -> str:
    """The window as text for messages: "2013-01-01 to 2014-01-01 (exclusive)"."""
    start = since.isoformat() if since else "the beginning"
    end = f"{until.isoformat()} (exclusive)" if until else "the end"
    return f"{start} to {end}"


class EventRows:
    """Events collected column by column, timed in Unix seconds (UTC).

    Readers call :meth:`add` once an event and :meth:`table` once at the end, which picks the
    origin, converts times to days and builds the Arrow table.
    """

    __slots__ = ("actor", "area", "change", "detail", "kind", "seconds", "team")

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.kind: list[str] = []
        self.change: list[int] = []
        self.area: list[str] = []
        self.team: list[str] = []
        self.actor: list[str] = []
        self.detail: list[str] = []

    def add(
        self,
        seconds: float,
        kind: str,
        change: int,
        *,
        area: str = "",
        team: str = "",
        actor: str = "",
        detail: str = "",
    ) -> None:
        """Append one event at ``seconds`` (Unix time, UTC) of ``kind`` (one of KINDS)."""
        self.seconds.append(seconds)
        self.kind.append(kind)
        self.change.append(change)
        self.area.append(area)
        self.team.append(team)
        self.actor.append(actor)
        self.detail.append(detail)

    def __len__(self) -> int:
        return len(self.seconds)

    def origin(self, since: dt.date | None) -> dt.date:
        """Time 0: ``since`` when given, else the UTC date of the earliest event."""
        if since is not None:
            return since
        return dt.datetime.fromtimestamp(min(self.seconds), tz=dt.UTC).date()

    def table(self, *, source: str, origin: dt.date) -> pa.Table:
        """The events as an event-log table, in time order, ``time`` in days since ``origin``
        (00:00 UTC)."""
        unknown = set(self.kind) - set(KINDS)
        if unknown:  # a reader's bug, not the user's input
            raise AssertionError(f"event kinds {sorted(unknown)} are not in {KINDS}")
        seconds = np.asarray(self.seconds, dtype=float)
        order = np.argsort(seconds, kind="stable")
        days = (seconds[order] - date_seconds(origin)) / SECONDS_PER_DAY

        def ordered(values: list) -> list:
            return [values[i] for i in order]

        columns = {
            "time": days,
            "kind": ordered(self.kind),
            "change": np.asarray(self.change, dtype=np.int64)[order],
            "area": ordered(self.area),
            "team": ordered(self.team),
            "actor": ordered(self.actor),
            "detail": ordered(self.detail),
        }
        return make_table(columns, source=source, origin=origin.isoformat())
