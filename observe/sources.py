"""One entry point for every source of an event log: :func:`read_source`.

A directory (work tree) or bare git directory is read as a git repository
(:mod:`observe.git`); a ``.parquet`` file as a model's event log
(:func:`model.eventlog.read_events`); any other file as an export, JSON lines (or a JSON
array) of Gerrit ChangeInfo objects (:mod:`observe.gerrit`) or of GitHub pull requests
(:mod:`observe.github`), told apart by their first object's fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from model.eventlog import EventLogError, log_info, read_events
from observe.areas import AreaMap, DepthAreas, load_areas
from observe.exports import read_export_objects
from observe.gerrit import is_gerrit_change, read_gerrit
from observe.git import read_git
from observe.github import is_github_pull, read_github
from observe.history import History, ObserveError

__all__ = ["History", "ObserveError", "read_source"]


def read_source(
    source: str | Path,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    areas_depth: int | None = None,
    areas_file: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> History:
    """Read a git repository, a Gerrit or GitHub export or a model's log as an event log.

    Parameters
    ----------
    source
        A git work tree or bare repository; a ``.parquet`` event log; a Gerrit REST export
        (JSON lines of ChangeInfo, ``o=ALL_REVISIONS&o=DETAILED_LABELS&o=MESSAGES``) or a
        GitHub pull-request export (a JSON array or JSON lines of PR objects).
    since, until
        UTC dates; keep the changes that landed (git) or were created (exports) in
        [since, until), with all their events. Time 0 is ``since`` when given, else the date
        of the earliest event kept. Ignored for a model's log.
    areas_depth
        A change's area from the first ``areas_depth`` directory components of its files.
    areas_file
        A MAINTAINERS or CODEOWNERS file mapping files to areas (overrides ``areas_depth``).
    progress
        Called with a progress message during long reads.

    Raises
    ------
    ObserveError
        With one line naming the source and the problem.
    """
    path = Path(source)
    if since is not None and until is not None and until <= since:
        raise ObserveError(f"window {since} to {until}: until must be after since")
    area_of: AreaMap | None = None
    if areas_file is not None:
        area_of = load_areas(areas_file)
    elif areas_depth is not None:
        area_of = DepthAreas(areas_depth)
    if not path.exists():
        raise ObserveError(f"{path}: no such file or directory")
    if path.is_dir():
        return read_git(path, since=since, until=until, area_of=area_of, progress=progress)
    if path.suffix == ".parquet":
        return _read_model_log(path)
    digest = _sha256(path)
    objects = read_export_objects(path)
    first = next((obj for _, obj in objects), None)
    if first is None:
        raise ObserveError(f"{path}: an empty export (no JSON object in it)")
    if is_gerrit_change(first):
        reader = read_gerrit
    elif is_github_pull(first):
        reader = read_github
    else:
        raise ObserveError(
            f"{path}: neither a Gerrit ChangeInfo (_number, created) nor a GitHub pull "
            f"request (number, created_at); first object has keys {sorted(first)[:8]}"
        )
    return reader(objects, path=path, sha256=digest, since=since, until=until, area_of=area_of)


def _read_model_log(path: Path) -> History:
    try:
        table = read_events(path)
    except EventLogError as err:
        raise ObserveError(str(err)) from None
    info = log_info(table)
    return History(
        table=table,
        workflow="model",
        source=info.get("source", str(path)),
        commit=None,
        origin=info.get("origin"),
        notes=(f"model event log {path}: {table.num_rows:,} events",),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
