"""The event log: one schema for simulated runs and real project histories.

A log is a table with one row per event. The model writes it (``OrgModel(record_events=True)``,
``orgscale run --events FILE``); :mod:`observe` reads git histories, Gerrit and GitHub
exports into the same rows; :mod:`observe.patterns` computes every pattern from such a
table, so a pattern is defined once for both sides.

Columns (schema version :data:`SCHEMA_VERSION`):

==========  ========  ==========================================================================
column      type      meaning
==========  ========  ==========================================================================
``time``    float64   days since the log's origin (model: the run's start; a history: the
                      ``origin`` date in the metadata, 00:00 UTC)
``kind``    string    what happened, one of :data:`KINDS`
``change``  int64     the change's id (unique within the log)
``area``    string    the change's code area ("" when unknown or not a change's event)
``team``    string    the team or tree the event happens in (``created``: the home team;
                      ``merged``: the tree merged into; ``landed``: the mainline)
``actor``   string    who acted: author (``created``, ``patch_set``, ``rebased``,
                      ``abandoned`` by the author), reviewer (``review_*``, ``approved``)
``detail``  string    the outcome: ``check``/``gate`` "pass"/"fail"; ``review_finished`` the
                      vote ("+2", "+1", "-1", "-2"); ``abandoned`` "author"/"rejected";
                      ``merged`` "home"/"parent"; ``landed`` "direct" when the change never
                      passed through another tree, else ""
==========  ========  ==========================================================================

Kinds (:data:`KINDS`): ``created`` (a change is submitted; its first patch set),
``patch_set`` (a later patch set is uploaded), ``check`` (automated checks report),
``review_started``, ``review_finished``, ``approved`` (the change has all the approvals
it needs), ``gate`` (a gate run ends: one row per change in the run, "fail" also for a
change behind the failing one in a serial gate, whose run was void and which is tested
again), ``merged`` (into a tree that is not the mainline),
``landed`` (into the mainline), ``rebased``, ``conflict`` (a merge conflict found where two
integration units meet; ``team`` is the tree where it was found, ``change`` is −1 since a
conflict belongs to a pair of units, not to one change), ``abandoned``, and ``touched``
(one row per further code area a change touches, for co-change coupling; a history's
changes may touch several areas, a model's change touches one).

The Parquet file's metadata holds ``orgscale.schema`` (the version), ``orgscale.source``
(what produced the log), ``orgscale.origin`` (the ISO date of time 0, histories only) and
``orgscale.measured`` (a model run's measured window, "start end" in days); a history's log
written by ``orgscale observe --events`` also ``orgscale.workflow`` and ``orgscale.commit``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa

SCHEMA_VERSION = 1

KINDS = (
    "created",
    "patch_set",
    "check",
    "review_started",
    "review_finished",
    "approved",
    "gate",
    "merged",
    "landed",
    "rebased",
    "conflict",
    "abandoned",
    "touched",
)

(
    CREATED,
    PATCH_SET,
    CHECK,
    REVIEW_STARTED,
    REVIEW_FINISHED,
    APPROVED,
    GATE,
    MERGED,
    LANDED,
    REBASED,
    CONFLICT,
    ABANDONED,
    TOUCHED,
) = range(len(KINDS))

COLUMNS = ("time", "kind", "change", "area", "team", "actor", "detail")

SCHEMA = pa.schema(
    [
        ("time", pa.float64()),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
        ("change", pa.int64()),
        ("area", pa.dictionary(pa.int32(), pa.string())),
        ("team", pa.dictionary(pa.int32(), pa.string())),
        ("actor", pa.dictionary(pa.int32(), pa.string())),
        ("detail", pa.dictionary(pa.int8(), pa.string())),
    ]
)

META_SCHEMA = b"orgscale.schema"
META_SOURCE = b"orgscale.source"
META_ORIGIN = b"orgscale.origin"
META_MEASURED = b"orgscale.measured"


class EventLogError(ValueError):
    """A file is not an event log of this schema (the message says what is wrong)."""


class EventRecorder(list):
    """The events of a running model: a list of ``(time, kind, change, team, actor,
    detail)`` tuples, one appended per event (a plain ``list.append``: recording must cost
    little beside the event it records).

    The model holds one when ``record_events`` is on and appends where each event happens;
    ``kind`` is an index into :data:`KINDS`; teams and actors are the model's integers
    (−1: none). A change's area never changes, so it is recorded once, by
    :meth:`created`, and filled into every row of the change in :meth:`table`, where the
    integers become strings.
    """

    __slots__ = ("areas",)

    def __init__(self) -> None:
        super().__init__()
        self.areas: list[int] = []  # area of change i (changes are numbered 0, 1, 2, …)

    def created(self, time: float, change: int, area: int, team: int, actor: int) -> None:
        """Record a new change (numbered in order: ``change`` == number recorded so far)."""
        self.areas.append(area)
        self.append((time, CREATED, change, team, actor, ""))

    def table(
        self, *, source: str = "orgscale model", measured: tuple[float, float] | None = None
    ) -> pa.Table:
        """The events so far as an Arrow table of :data:`SCHEMA`, in time order (events at
        the same time in the order they were recorded); ``measured`` is the run's measured
        window (days), kept in the metadata."""
        import numpy as np

        if self:
            time, kind, change, team, actor, detail = zip(*self, strict=True)
        else:
            time = kind = change = team = actor = detail = ()
        times = np.asarray(time, dtype=float)
        order = np.argsort(times, kind="stable")
        change_ids = np.asarray(change, dtype=np.int64)[order]
        areas = np.append(np.asarray(self.areas, dtype=np.int64), -1)  # index −1: no change
        kinds = np.asarray(kind, dtype=np.int8)[order]
        columns = {
            "time": times[order],
            "kind": pa.DictionaryArray.from_arrays(kinds, pa.array(KINDS)),
            "change": change_ids,
            "area": _int_labels(areas[change_ids]),
            "team": _int_labels(np.asarray(team, dtype=np.int64)[order]),
            "actor": _int_labels(np.asarray(actor, dtype=np.int64)[order]),
            "detail": pa.array(detail, pa.string()).take(order).dictionary_encode(),
        }
        return make_table(columns, source=source, measured=measured)


def _int_labels(values) -> pa.DictionaryArray:
    """Integers as dictionary-encoded strings; −1 becomes ""."""
    encoded = pa.array(values, pa.int64()).dictionary_encode()
    names = ["" if v < 0 else str(v) for v in encoded.dictionary.to_pylist()]
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(names, pa.string()))


def make_table(
    columns: Mapping[str, object],
    *,
    source: str,
    origin: str | None = None,
    measured: tuple[float, float] | None = None,
) -> pa.Table:
    """An event-log table from column arrays (strings are dictionary-encoded here).

    ``origin`` is the ISO date of time 0 for a real history (``None`` for a model run);
    ``measured`` a model run's measured window ``(warm-up end, run end)`` in days.
    """
    arrays = []
    for field in SCHEMA:
        values = columns[field.name]
        if isinstance(values, pa.Array | pa.ChunkedArray):
            array = values
        else:
            array = pa.array(values, type=field.type.value_type if _is_dict(field) else field.type)
        if _is_dict(field) and not pa.types.is_dictionary(array.type):
            array = array.dictionary_encode()
        arrays.append(array.cast(field.type))
    metadata = {META_SCHEMA: str(SCHEMA_VERSION).encode(), META_SOURCE: source.encode()}
    if origin is not None:
        metadata[META_ORIGIN] = origin.encode()
    if measured is not None:
        metadata[META_MEASURED] = f"{measured[0]!r} {measured[1]!r}".encode()
    return pa.Table.from_arrays(arrays, schema=SCHEMA.with_metadata(metadata))


def _is_dict(field: pa.Field) -> bool:
    return pa.types.is_dictionary(field.type)


def write_events(table: pa.Table, path: str | Path) -> None:
    """Write an event log to ``path`` (Parquet) atomically: a temporary file renamed into
    place, so an interrupted write leaves no half-written log."""
    import os
    import tempfile

    import pyarrow.parquet as pq

    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_events(path: str | Path) -> pa.Table:
    """Read an event log written by :func:`write_events`, checking its schema version."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        with path.open("rb") as handle:
            table = pq.read_table(handle)
    except FileNotFoundError:
        raise EventLogError(f"{path}: no such file") from None
    except (pa.ArrowInvalid, OSError) as err:
        raise EventLogError(f"{path}: not a Parquet event log ({err})") from None
    meta = table.schema.metadata or {}
    version = meta.get(META_SCHEMA)
    if version is None:
        raise EventLogError(f"{path}: not an orgscale event log (no {META_SCHEMA.decode()})")
    if int(version) != SCHEMA_VERSION:
        raise EventLogError(
            f"{path}: event-log schema {int(version)}, this orgscale reads {SCHEMA_VERSION}"
        )
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise EventLogError(f"{path}: missing column(s) {', '.join(missing)}")
    return table


def log_info(table: pa.Table) -> dict[str, str]:
    """The log's metadata (schema, source, origin) as plain strings."""
    meta = table.schema.metadata or {}
    return {
        key.decode().removeprefix("orgscale."): value.decode()
        for key, value in meta.items()
        if key.startswith(b"orgscale.")
    }


def describe_schema() -> str:
    """The schema as JSON (for ``--help`` texts and the README)."""
    return json.dumps({"version": SCHEMA_VERSION, "columns": COLUMNS, "kinds": KINDS})
