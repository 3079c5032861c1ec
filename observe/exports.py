"""What the Gerrit and GitHub export readers share: reading JSON objects from a file (JSON
lines or one array, with or without Gerrit's ``)]}'`` prefix), parsing timestamps into Unix
seconds, and finishing the :class:`~observe.history.History`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from observe.history import EventRows, History, ObserveError, window_text

GERRIT_PREFIX = ")]}'"

Located = tuple[str, dict]  # (where in the file: "line 12" or "item 3", the object)


def read_export_objects(path: str | Path) -> list[Located]:
    """The JSON objects of an export file, each with where it is in the file.

    Accepts JSON lines (an object, or an array of objects, a line; blank lines and Gerrit's
    ``)]}'`` lines skipped) and one JSON array over the whole file.

    Raises
    ------
    ObserveError
        A line (or the file) is not valid JSON, or holds something other than objects.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ObserveError(f"{path}: not a UTF-8 text export ({err.reason})") from None
    body = text.lstrip()
    if body.startswith(GERRIT_PREFIX):
        body = body[len(GERRIT_PREFIX) :].lstrip()
    if body.startswith("["):
        try:
            whole = json.loads(body)
        except json.JSONDecodeError as err:
            if err.msg != "Extra data":  # "Extra data": arrays a line, read below
                raise ObserveError(
                    f"{path}: malformed JSON array ({err.msg} at line {err.lineno})"
                ) from None
        else:
            return _objects(path, [(f"item {i + 1}", obj) for i, obj in enumerate(whole)])
    located: list[tuple[str, object]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().lstrip("\ufeff")
        if not line or line == GERRIT_PREFIX:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise ObserveError(
                f"{path}: line {number}: malformed JSON ({err.msg} at column {err.colno})"
            ) from None
        items = value if isinstance(value, list) else [value]
        located.extend((f"line {number}", item) for item in items)
    return _objects(path, located)


def _objects(path: Path, located: Sequence[tuple[str, object]]) -> list[Located]:
    for where, obj in located:
        if not isinstance(obj, dict):
            raise ObserveError(
                f"{path}: {where}: expected a JSON object, found {type(obj).__name__}"
            )
    return list(located)  # type: ignore[arg-type]


@contextmanager
def malformed(path: Path, where: str) -> Iterator[None]:
    """Turn a reader's KeyError, TypeError, ValueError or AttributeError on one exported
    object (a field of the wrong type or shape) into an ObserveError naming its line."""
    try:
        yield
    except ObserveError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ObserveError(
            f"{path}: {where}: malformed object ({type(err).__name__}: {err})"
        ) from None


def required(obj: dict, key: str, path: Path, where: str) -> object:
    """``obj[key]``, or an ObserveError naming the line and the missing field."""
    try:
        return obj[key]
    except KeyError:
        raise ObserveError(f"{path}: {where}: no '{key}' field") from None


def gerrit_seconds(value: object, path: Path, where: str) -> float:
    """Unix seconds of a Gerrit timestamp ("2013-11-14 10:20:30.000000000", UTC)."""
    try:
        stamp = str(value)
        base = dt.datetime.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        fraction = stamp[19:].lstrip(".")
        return base.timestamp() + (float(f"0.{fraction}") if fraction else 0.0)
    except ValueError:
        raise ObserveError(
            f"{path}: {where}: bad time {value!r} (expected 'YYYY-MM-DD hh:mm:ss.fffffffff')"
        ) from None


def iso_seconds(value: object, path: Path, where: str) -> float:
    """Unix seconds of an ISO 8601 timestamp ("2020-01-02T03:04:05Z"; no zone means UTC)."""
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ObserveError(
            f"{path}: {where}: bad time {value!r} (expected ISO 8601, '2020-01-02T03:04:05Z')"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def export_history(
    rows: EventRows,
    *,
    path: Path,
    sha256: str,
    workflow: str,
    created: Sequence[float],
    since: dt.date | None,
    until: dt.date | None,
    notes: tuple[str, ...],
) -> History:
    """The History of an export's events; ``created`` are the creation times (Unix seconds)
    of all its changes, for the message when none falls in the window."""
    if not len(rows):
        span = "none"
        if created:
            first, last = (
                dt.datetime.fromtimestamp(t, tz=dt.UTC).date() for t in (min(created), max(created))
            )
            span = f"{first} to {last}"
        raise ObserveError(
            f"{path}: empty window, no change created from {window_text(since, until)} "
            f"({len(created):,} changes created, {span})"
        )
    origin = rows.origin(since)
    source = f"{workflow} {path}"
    return History(
        table=rows.table(source=source, origin=origin),
        workflow=workflow,
        source=source,
        commit=sha256,
        origin=origin.isoformat(),
        notes=notes,
    )
