"""Read a GitHub pull-request export into an event log.

The export is a JSON array (or JSON lines) of pull-request objects as the REST API returns
them (``number``, ``created_at``, ``merged_at``, ``closed_at``, ``user.login``), optionally
with ``reviews`` (``user.login``, ``state``, ``submitted_at``), ``timeline`` events
(``head_ref_force_pushed``, ``committed``, ``closed`` with ``actor.login``) and ``files``
(names, or objects with ``filename``). Each pull request gives:

- ``created`` at ``created_at`` (actor: ``user.login``);
- ``patch_set`` for each force-push, and each commit whose committer date is after the
  pull request was opened;
- ``review_finished`` for each review by a person (detail: APPROVED "+2",
  CHANGES_REQUESTED "-1", COMMENTED "0"; dismissed and pending reviews, and reviews by
  ``[bot]`` accounts, are skipped), ``approved`` at the first APPROVED review;
- ``landed`` at ``merged_at``;
- ``abandoned`` at ``closed_at`` when closed unmerged (detail "author" when the timeline's
  ``closed`` event is by the author, "rejected" when by someone else, "" when the export does
  not say who closed it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from observe.areas import AreaMap, change_areas
from observe.exports import Located, export_history, iso_seconds, malformed, required
from observe.history import EventRows, History, in_window

REVIEW_VOTES = {"APPROVED": "+2", "CHANGES_REQUESTED": "-1", "COMMENTED": "0"}


def is_github_pull(obj: dict) -> bool:
    """Whether an exported object looks like a GitHub pull request."""
    return "number" in obj and "created_at" in obj


def login(obj: object, key: str = "user") -> str:
    """``obj[key].login`` ("" when absent)."""
    if not isinstance(obj, dict) or not isinstance(obj.get(key), dict):
        return ""
    return str(obj[key].get("login") or "")


def is_bot_login(name: str) -> bool:
    """Whether a login is a GitHub App or bot account ("dependabot[bot]")."""
    return name.endswith("[bot]")


def _file_names(files: object) -> set[str]:
    if not isinstance(files, list):
        return set()
    return {f["filename"] if isinstance(f, dict) else str(f) for f in files}


def read_github(
    objects: Sequence[Located],
    *,
    path: Path,
    sha256: str,
    since: dt.date | None = None,
    until: dt.date | None = None,
    area_of: AreaMap | None = None,
) -> History:
    """The pull requests of a GitHub export created in [since, until), as an event log.

    Parameters
    ----------
    objects
        The export's pull-request objects with where each is in the file.
    path, sha256
        The export file and its sha256 (for the History and messages).
    since, until
        UTC dates; keep the pull requests opened in [since, until), with all their events.
    area_of
        Maps a file to its area; ``None`` (or no files in the export): areas are "".

    Raises
    ------
    ObserveError
        A pull request lacks ``number``/``created_at`` or has a malformed time; none in
        the window.
    """
    rows = EventRows()
    created_all: list[float] = []
    counts = dict.fromkeys(("merged", "closed", "open", "reviews", "pushes", "unknown"), 0)

    def when(value: object, where: str) -> float:
        return iso_seconds(value, path, where)

    for where, pull in objects:
        with malformed(path, where):
            number = int(required(pull, "number", path, where))  # type: ignore[arg-type]
            created = when(required(pull, "created_at", path, where), where)
            created_all.append(created)
            if not in_window(created, since, until):
                continue
            author = login(pull)
            files = _file_names(pull.get("files"))
            area, others = change_areas(files, area_of) if area_of and files else ("", ())
            rows.add(created, "created", number, area=area, actor=author)
            for other in others:
                rows.add(created, "touched", number, area=other)
            closer: str | None = None
            for event in pull.get("timeline") or []:
                kind = event.get("event")
                if kind == "head_ref_force_pushed":
                    pushed = when(required(event, "created_at", path, where), where)
                    rows.add(pushed, "patch_set", number, area=area, actor=login(event, "actor"))
                    counts["pushes"] += 1
                elif kind == "committed":
                    stamp = (event.get("committer") or {}).get("date")
                    if stamp is not None and when(stamp, where) > created:
                        rows.add(when(stamp, where), "patch_set", number, area=area, actor=author)
                        counts["pushes"] += 1
                elif kind == "closed":
                    closer = login(event, "actor")
            approved = False
            for review in pull.get("reviews") or []:
                vote = REVIEW_VOTES.get(str(review.get("state")))
                reviewer = login(review)
                if vote is None or is_bot_login(reviewer) or not review.get("submitted_at"):
                    continue
                seconds = when(review["submitted_at"], where)
                rows.add(seconds, "review_finished", number, area=area, actor=reviewer, detail=vote)
                counts["reviews"] += 1
                if vote == "+2" and not approved:
                    rows.add(seconds, "approved", number, area=area, actor=reviewer)
                    approved = True
            if pull.get("merged_at"):
                rows.add(when(pull["merged_at"], where), "landed", number, area=area)
                counts["merged"] += 1
            elif pull.get("closed_at"):
                if closer is None:
                    closer = login(pull, "closed_by") or None
                detail = "" if closer is None else "author" if closer == author else "rejected"
                counts["unknown"] += closer is None
                rows.add(
                    when(pull["closed_at"], where),
                    "abandoned",
                    number,
                    area=area,
                    actor=closer or "",
                    detail=detail,
                )
                counts["closed"] += 1
            else:
                counts["open"] += 1
    notes = (
        f"github export: {counts['merged'] + counts['closed'] + counts['open']:,} pull requests "
        f"in the window ({counts['merged']:,} merged, {counts['closed']:,} closed unmerged, "
        f"{counts['open']:,} open), {counts['reviews']:,} reviews, {counts['pushes']:,} "
        "later pushes",
    )
    if counts["unknown"]:
        notes += (f"{counts['unknown']:,} closed unmerged without a known closer: detail ''",)
    return export_history(
        rows,
        path=path,
        sha256=sha256,
        workflow="github-export",
        created=created_all,
        since=since,
        until=until,
        notes=notes,
    )
