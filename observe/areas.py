"""Code areas of changed files: by path depth, by a MAINTAINERS file or by a CODEOWNERS file.

An area map is a callable ``path -> area or None`` (``None``: the file is in no area). A
change's area is the area holding most of its files (:func:`change_areas`); the others it
touches become ``touched`` events, from which co-change coupling is computed.

- :class:`DepthAreas`: the first K directory components of the path ("nova/compute" for
  ``nova/compute/manager.py`` at K = 2); a file at the top level is in area "(top)".
- :class:`MaintainersAreas`: the Linux kernel's MAINTAINERS format — an entry is a title line
  followed by ``X: value`` lines (lines starting with "#" are comments, as
  scripts/get_maintainer.pl reads them); ``F:`` patterns are the entry's files (a trailing "/" means
  everything below; ``*`` and ``?`` do not cross "/"), ``X:`` patterns exclude files. The area
  is the entry's title; of several matching entries the most specific pattern wins (most
  directory levels, then the longest pattern, then the earlier entry).
- :class:`CodeownersAreas`: GitHub's CODEOWNERS — ``pattern owner…`` lines in gitignore syntax;
  the LAST matching pattern wins and the area is its owners joined by a space.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from observe.history import ObserveError

AreaMap = Callable[[str], str | None]

TOP_LEVEL_AREA = "(top)"


@dataclass(frozen=True)
class DepthAreas:
    """Area = the first ``depth`` directory components of a path (files at the top: "(top)")."""

    depth: int

    def __post_init__(self) -> None:
        if self.depth < 1:
            raise ObserveError(f"areas depth {self.depth}: expected a whole number ≥ 1")

    def __call__(self, path: str) -> str | None:
        parts = path.split("/")
        if len(parts) == 1:
            return TOP_LEVEL_AREA
        return "/".join(parts[: min(self.depth, len(parts) - 1)])


def _glob_regex(pattern: str) -> str:
    """A glob as a regex fragment: ``**`` any path, ``*`` and ``?`` within one component."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            if pattern.startswith("/", i):  # "**/x" also matches "x" at the top
                out[-1] = "(?:.*/)?"
                i += 1
            continue
        out.append("[^/]*" if char == "*" else "[^/]" if char == "?" else re.escape(char))
        i += 1
    return "".join(out)


def _maintainers_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        return re.compile(_glob_regex(pattern) + ".*")
    last = pattern.rsplit("/", 1)[-1]
    below = "" if any(c in last for c in "*?[") else "(?:/.*)?"  # a directory named bare
    return re.compile(_glob_regex(pattern) + below)


def _specificity(pattern: str) -> tuple[int, int]:
    literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    return (literal.count("/"), len(pattern))


@dataclass(frozen=True)
class MaintainersEntry:
    """One MAINTAINERS entry: its title, file patterns (``F:``), exclusions (``X:``),
    maintainers (``M:`` values as written, e.g. "Name <address>") and trees (``T:``)."""

    title: str
    files: tuple[str, ...]
    excluded: tuple[str, ...] = ()
    maintainers: tuple[str, ...] = ()
    trees: tuple[str, ...] = ()


@dataclass
class MaintainersAreas:
    """Area = title of the MAINTAINERS entry whose ``F:`` pattern matches most specifically."""

    entries: tuple[MaintainersEntry, ...]
    _rules: list = field(init=False, repr=False)
    _cache: dict[str, str | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        rules = []
        for index, entry in enumerate(self.entries):
            excluded = [_maintainers_regex(x) for x in entry.excluded]
            for pattern in entry.files:
                rank = (*_specificity(pattern.lstrip("/")), -index)
                rules.append((rank, _maintainers_regex(pattern), excluded, entry.title))
        rules.sort(key=lambda rule: rule[0], reverse=True)
        self._rules = rules

    def __call__(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = self._match(path)
        return self._cache[path]

    def _match(self, path: str) -> str | None:
        for _, regex, excluded, title in self._rules:
            if regex.fullmatch(path) and not any(x.fullmatch(path) for x in excluded):
                return title
        return None


_FIELD = re.compile(r"^([A-Z]):\s*(.*?)\s*$")


def parse_maintainers(text: str) -> tuple[MaintainersEntry, ...]:
    """The entries of a MAINTAINERS file that name files (title line, then ``X: value`` lines
    with at least one ``F:``; text before the first entry, lines starting with whitespace and
    comment lines starting with "#" are ignored)."""
    entries = []
    title: str | None = None
    files: list[str] = []
    excluded: list[str] = []
    maintainers: list[str] = []
    trees: list[str] = []

    def close() -> None:
        if title is not None and files:
            entries.append(
                MaintainersEntry(
                    title, tuple(files), tuple(excluded), tuple(maintainers), tuple(trees)
                )
            )

    for line in text.splitlines():
        if not line.strip() or line[0].isspace() or line.startswith("#"):
            continue
        match = _FIELD.match(line)
        if match is None:
            close()
            title, files, excluded, maintainers, trees = line.strip(), [], [], [], []
        elif title is not None:
            field_lines = {"F": files, "X": excluded, "M": maintainers, "T": trees}.get(
                match.group(1)
            )
            if field_lines is not None:
                field_lines.append(match.group(2))
    close()
    return tuple(entries)


def _codeowners_regex(pattern: str) -> re.Pattern[str]:
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    prefix = "" if anchored else "(?:.*/)?"
    if pattern.endswith("/"):
        suffix = "/.*"
    elif body.endswith("/*"):  # "docs/*": files directly in docs/, not below
        suffix = ""
    else:
        suffix = "(?:/.*)?"  # a file, or a directory and everything below it
    return re.compile(prefix + _glob_regex(body) + suffix)


@dataclass
class CodeownersAreas:
    """Area = owners (joined by a space) of the last CODEOWNERS pattern matching the path."""

    rules: tuple[tuple[str, str], ...]  # (pattern, owners), in file order
    _compiled: list = field(init=False, repr=False)
    _cache: dict[str, str | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._compiled = [(_codeowners_regex(p), owners) for p, owners in reversed(self.rules)]

    def __call__(self, path: str) -> str | None:
        if path not in self._cache:
            self._cache[path] = next(
                (owners or None for regex, owners in self._compiled if regex.fullmatch(path)),
                None,
            )
        return self._cache[path]


def parse_codeowners(text: str) -> tuple[tuple[str, str], ...]:
    """The (pattern, owners) rules of a CODEOWNERS file, in file order."""
    rules = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        rules.append((pattern, " ".join(owners)))
    return tuple(rules)


def load_areas(path: str | Path) -> AreaMap:
    """The area map of a MAINTAINERS or CODEOWNERS file (told apart by its ``F:`` lines).

    Raises
    ------
    ObserveError
        The file is missing, or has neither ``F:`` entries nor ``pattern @owner`` lines.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ObserveError(f"areas file {path}: cannot be read ({err.strerror})") from None
    if re.search(r"^F:", text, flags=re.MULTILINE):
        entries = parse_maintainers(text)
        if entries:
            return MaintainersAreas(entries)
    rules = parse_codeowners(text)
    if rules and any("@" in owners for _, owners in rules):
        return CodeownersAreas(rules)
    raise ObserveError(
        f"areas file {path}: neither a MAINTAINERS file (title lines with F: patterns) "
        "nor a CODEOWNERS file (lines 'pattern @owner')"
    )


def change_areas(files: Iterable[str], area_of: AreaMap) -> tuple[str, tuple[str, ...]]:
    """A change's area (the one with most of its files; ties: alphabetical) and the further
    areas it touches (alphabetical). ("", ()) when no file is in an area."""
    counts = Counter(a for a in map(area_of, files) if a is not None)
    if not counts:
        return "", ()
    main = min(counts, key=lambda area: (-counts[area], area))
    return main, tuple(sorted(a for a in counts if a != main))
