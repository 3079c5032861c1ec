"""Read a git repository (work tree or bare clone) into an event log.

Three whole-history passes, each linear in the number of commits: one ``git log`` reads every
commit (:mod:`observe.gitlog`); the mainline (HEAD's first-parent line) is walked oldest to
newest to assign every other commit to the merge that brought it in; the workflow found on
the mainline turns commits into changes (:mod:`observe.gitworkflows`). The git CLI is used
rather than pygit2: it reads Nova's 62k commits several times faster (benchmarks/README.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from observe.areas import AreaMap
from observe.gitlog import (
    assign_to_mainline,
    branch_name,
    first_parent_line,
    iter_commits,
    open_repository,
)
from observe.gitworkflows import BUILDERS, add_change_events, detect_workflow
from observe.history import EventRows, History, ObserveError, in_window, window_text


def _day(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date().isoformat()


def read_git(
    path: str | Path,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    area_of: AreaMap | None = None,
    progress: Callable[[str], None] | None = None,
) -> History:
    """The changes of a git repository's mainline as an event log.

    Parameters
    ----------
    path
        A work tree or a bare repository (not a shallow clone).
    since, until
        Keep the changes that landed on the mainline in [since, until) (UTC dates; ``None``:
        open), with all their events.
    area_of
        Maps a file path to its area (:mod:`observe.areas`); ``None``: areas are "" and the
        files are not read (about twice as fast).
    progress
        Called with a message at each stage and every 10,000 commits read.

    Raises
    ------
    ObserveError
        Not a complete repository, no gerrit/github/pull pattern on the mainline, or no
        change landed in the window.
    """
    path = Path(path)
    head = open_repository(path)
    commits = {
        c.sha: c for c in iter_commits(path, with_files=area_of is not None, progress=progress)
    }
    mainline = first_parent_line(commits, head)
    if progress is not None:
        progress(f"{len(commits):,} commits, {len(mainline):,} on the mainline; assigning merges")
    workflow, notes = detect_workflow(commits, mainline)
    if workflow is None:
        raise ObserveError(
            f"{path}: unknown workflow, no gerrit/github/pull pattern found on the "
            f"{len(mainline):,} first-parent commits (no 'Merge \"…\"', 'Merge pull request "
            "#…', 'Merge branch/tag …' merges or Change-Id trailers)"
        )
    landings = assign_to_mainline(commits, mainline)
    changes = BUILDERS[workflow](commits, mainline, landings)
    kept = [c for c in changes if in_window(c.landed, since, until)]
    if not kept:
        landed = [c.landed for c in changes]
        span = f"{_day(min(landed))} to {_day(max(landed))}" if landed else "none"
        raise ObserveError(
            f"{path}: empty window, no change landed from {window_text(since, until)} "
            f"({len(changes):,} changes landed, {span})"
        )
    rows = EventRows()
    for change in kept:
        add_change_events(rows, change, area_of)
    origin = rows.origin(since)
    source = f"git {path} ({branch_name(path)})"
    notes += (f"{len(kept):,} changes landed in the window, {len(rows):,} events",)
    return History(
        table=rows.table(source=source, origin=origin),
        workflow=workflow,
        source=source,
        commit=head,
        origin=origin.isoformat(),
        notes=notes,
    )
