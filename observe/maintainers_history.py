"""A project's maintainer team over time, read from its top-level MAINTAINERS file's history.

For each date, the file as it stood on the mainline at 00:00 UTC that day (the last commit of
``ref``'s first-parent line committed at or before then: ``git rev-list -1 --first-parent
--before=DATE ref``, then ``git show REV:MAINTAINERS``) is parsed with
:func:`observe.areas.parse_maintainers` (entries that name files with ``F:``) and summarised
as a :class:`MaintainersSnapshot`: entries, distinct maintainers, maintainers per entry,
maintainers per tree (the ``T:`` locations the entries name: a maintainer-tree project's
trees), and who joined and left since the date before.

A maintainer is an ``M:`` line's e-mail address, compared case-insensitively (the text
between ``<`` and ``>``; a bare address; else the whole value). A person who changes address
is counted as one leaving and one joining; ``readdressed`` says how many of the joins were
such changes (a joining address whose name, compared case-insensitively, left in the same
interval under another address), and ``joined_with_entry`` how many joined only entries whose
titles are new (a maintainer who came with an area of its own rather than into a team).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from observe.areas import parse_maintainers
from observe.gitlog import _first_line, _run, open_repository
from observe.history import ObserveError

#: Steps of :func:`dates_between`, in months.
STEPS = {"month": 1, "quarter": 3, "half-year": 6, "year": 12}

_ADDRESS = re.compile(r"<([^<>]+)>")


def maintainer_id(value: str) -> str:
    """The identity of an ``M:`` value: its e-mail address, lower-cased ("Ann <A@x.org>" →
    "a@x.org"); a bare address or, without one, the whole value, lower-cased."""
    match = _ADDRESS.search(value)
    if match:
        return match.group(1).strip().lower()
    words = [w for w in value.split() if "@" in w]
    return (words[0] if words else " ".join(value.split())).lower()


def tree_id(value: str) -> str:
    """The tree a ``T:`` value names: its location (last word), lower-cased, without a
    trailing "/" or ".git" ("git https://x.org/u-boot-usb.git" → "https://x.org/u-boot-usb")."""
    words = value.split()
    location = (words[-1] if words else "").lower().rstrip("/")
    return location.removesuffix(".git")


def maintainer_name(value: str) -> str:
    """The name of an ``M:`` value (the text before ``<``), lower-cased, spaces collapsed;
    "" when there is none."""
    if "<" not in value:
        return ""
    return " ".join(value.split("<", 1)[0].replace('"', " ").split()).casefold()


@dataclass(frozen=True)
class MaintainersSnapshot:
    """The maintainer team at one date.

    Attributes
    ----------
    date, commit
        The date asked for and the mainline commit read (the last at or before 00:00 UTC).
    entries
        Entries naming files (``F:``), the file's areas.
    maintainers
        Distinct maintainers (``M:`` addresses) over those entries.
    per_entry_median, per_entry_mean
        Distinct maintainers of an entry, over the entries (an entry without ``M:``: 0).
    single_share
        Share of the entries with exactly one maintainer.
    orphans
        Entries without any ``M:`` line.
    trees, per_tree_median, per_tree_mean
        Distinct trees the entries name (``T:``), and the distinct maintainers of the
        entries naming each tree, over the trees (``None`` when no entry names one).
    joined, left
        Addresses present now and not at the date before, and the reverse (``None`` at the
        first date).
    readdressed
        Of ``joined``, the addresses whose name left under another address in the same
        interval (``None`` at the first date).
    joined_with_entry
        Of ``joined``, the addresses all of whose entries have titles absent at the date
        before (``None`` at the first date).
    people
        The maintainers' addresses.
    """

    date: dt.date
    commit: str
    entries: int
    maintainers: int
    per_entry_median: float
    per_entry_mean: float
    single_share: float
    orphans: int
    trees: int = 0
    per_tree_median: float | None = None
    per_tree_mean: float | None = None
    joined: int | None = None
    left: int | None = None
    readdressed: int | None = None
    joined_with_entry: int | None = None
    people: frozenset[str] = field(default=frozenset(), repr=False)
    names: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    titles: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    entry_titles: frozenset[str] = field(default=frozenset(), repr=False)

    def row(self) -> dict[str, object]:
        """The numbers as one flat dict (date as ISO text, commit, counts and shares)."""
        return {
            "date": self.date.isoformat(),
            "commit": self.commit,
            "entries": self.entries,
            "maintainers": self.maintainers,
            "per_entry_median": self.per_entry_median,
            "per_entry_mean": self.per_entry_mean,
            "single_share": self.single_share,
            "orphans": self.orphans,
            "trees": self.trees,
            "per_tree_median": self.per_tree_median,
            "per_tree_mean": self.per_tree_mean,
            "joined": self.joined,
            "left": self.left,
            "readdressed": self.readdressed,
            "joined_with_entry": self.joined_with_entry,
        }


def summarize_maintainers(text: str, date: dt.date, commit: str) -> MaintainersSnapshot:
    """The snapshot of one MAINTAINERS text (``joined``/``left`` not yet set).

    Raises
    ------
    ObserveError
        The text has no entry naming files (not the title + ``X: value`` format).
    """
    entries = parse_maintainers(text)
    if not entries:
        raise ObserveError(
            f"MAINTAINERS at {date.isoformat()} (commit {commit[:12]}): no entry with F: "
            "patterns, not the 'title line, then X: value lines' format"
        )
    names: dict[str, str] = {}
    titles: dict[str, set[str]] = {}
    counts = []
    trees: dict[str, set[str]] = {}
    for entry in entries:
        ids = {maintainer_id(value) for value in entry.maintainers}
        counts.append(len(ids))
        for value in entry.trees:
            trees.setdefault(tree_id(value), set()).update(ids)
        for value in entry.maintainers:
            name = maintainer_name(value)
            if name:
                names.setdefault(maintainer_id(value), name)
            titles.setdefault(maintainer_id(value), set()).add(entry.title)
    people = frozenset(maintainer_id(v) for entry in entries for v in entry.maintainers)
    per_tree = [len(ids) for ids in trees.values()]
    return MaintainersSnapshot(
        date=date,
        commit=commit,
        entries=len(entries),
        maintainers=len(people),
        per_entry_median=float(statistics.median(counts)),
        per_entry_mean=sum(counts) / len(counts),
        single_share=sum(1 for n in counts if n == 1) / len(counts),
        orphans=sum(1 for n in counts if n == 0),
        trees=len(trees),
        per_tree_median=float(statistics.median(per_tree)) if per_tree else None,
        per_tree_mean=sum(per_tree) / len(per_tree) if per_tree else None,
        people=people,
        names=names,
        titles={person: frozenset(ts) for person, ts in titles.items()},
        entry_titles=frozenset(entry.title for entry in entries),
    )


def with_changes(snapshots: Sequence[MaintainersSnapshot]) -> list[MaintainersSnapshot]:
    """The snapshots (in date order) with ``joined``, ``left``, ``readdressed`` and
    ``joined_with_entry`` set against the one before."""
    out = list(snapshots[:1])
    for before, now in itertools.pairwise(snapshots):
        joined = now.people - before.people
        left = before.people - now.people
        left_names = {before.names[p] for p in left if p in before.names}
        readdressed = sum(1 for p in joined if now.names.get(p) in left_names)
        with_entry = sum(1 for p in joined if not now.titles[p] & before.entry_titles)
        out.append(
            replace(
                now,
                joined=len(joined),
                left=len(left),
                readdressed=readdressed,
                joined_with_entry=with_entry,
            )
        )
    return out


def dates_between(start: dt.date, end: dt.date, every: str) -> list[dt.date]:
    """``start``, then every month, quarter, half-year or year after it, up to ``end``
    (inclusive). Raises ``ObserveError`` for an unknown step or an end before the start."""
    if every not in STEPS:
        raise ObserveError(f"every {every!r}: expected one of {', '.join(STEPS)}")
    if end < start:
        raise ObserveError(f"{end.isoformat()} is before {start.isoformat()}")
    if start.day > 28:
        raise ObserveError(f"{start.isoformat()}: start on day 1-28 of a month")
    dates = []
    months = 0
    while True:
        total = start.month - 1 + months
        day = dt.date(start.year + total // 12, total % 12 + 1, start.day)
        if day > end:
            return dates
        dates.append(day)
        months += STEPS[every]


def revision_at(path: str | Path, date: dt.date, ref: str = "HEAD") -> str | None:
    """The last commit of ``ref``'s first-parent line committed at or before 00:00 UTC on
    ``date`` (``None`` when there is none)."""
    code, out, err = _run(
        Path(path),
        "rev-list",
        "-1",
        "--first-parent",
        f"--before={date.isoformat()}T00:00:00+00:00",
        ref,
        "--",
    )
    if code != 0:
        raise ObserveError(f"{path}: git rev-list {ref} failed ({_first_line(err)})")
    return out.strip() or None


def maintainers_at(path: str | Path, date: dt.date, ref: str = "HEAD") -> MaintainersSnapshot:
    """The snapshot of the top-level MAINTAINERS file at ``date`` (see the module docstring).

    Raises
    ------
    ObserveError
        No commit at or before the date, no MAINTAINERS in it, or a file in another format.
    """
    commit = revision_at(path, date, ref)
    if commit is None:
        raise ObserveError(f"{path}: no commit on {ref} at or before {date.isoformat()}")
    code, out, _ = _run(Path(path), "show", f"{commit}:MAINTAINERS")
    if code != 0:
        raise ObserveError(
            f"{path}: no MAINTAINERS file at the top level at {date.isoformat()} "
            f"(commit {commit[:12]})"
        )
    try:
        return summarize_maintainers(out, date, commit)
    except ObserveError as err:
        raise ObserveError(f"{path}: {err}") from None


def maintainers_history(
    path: str | Path, dates: Iterable[dt.date], ref: str = "HEAD"
) -> list[MaintainersSnapshot]:
    """One snapshot a date (sorted), with joins and departures between consecutive dates.

    Raises
    ------
    ObserveError
        ``path`` is not a git repository, or a date has no MAINTAINERS file in the format.
    """
    open_repository(path)
    dates = sorted(set(dates))
    if not dates:
        raise ObserveError("no date to read MAINTAINERS at")
    return with_changes([maintainers_at(path, date, ref) for date in dates])
