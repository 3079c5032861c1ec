"""A git repository's commits as small typed records, read with the git CLI in one pass.

:func:`open_repository` checks that a path is a complete repository (work tree or bare) and
returns its HEAD; :func:`iter_commits` yields one :class:`Commit` a commit from one whole-history
``git log``; :func:`first_parent_line` and :func:`assign_to_mainline` find the mainline (HEAD's
first-parent line) and the mainline merge that brought in every other commit, in time linear
in the number of commits.
"""

from __future__ import annotations

import codecs
import os
import subprocess
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from observe.history import ObserveError

# One record a commit: \x1e, NUL-separated fields, \x1f, then (with --name-only) file lines.
# The Change-Id trailer comes last: a trailer may continue over several lines.
_FORMAT = (
    "%x1e%H%x00%P%x00%ae%x00%at%x00%ct%x00%s%x00"
    "%(trailers:key=Change-Id,valueonly,separator=%x2C)%x1f"
)


@dataclass(frozen=True, slots=True)
class Commit:
    """One commit: its sha, parents (first parent first), author email, author and committer
    times (Unix seconds), whether it carries a ``Change-Id:`` trailer, subject and the files
    it changes against its first parent (empty for merges, or when files were not read)."""

    sha: str
    parents: tuple[str, ...]
    author_email: str
    author_time: int
    committer_time: int
    has_change_id: bool
    subject: str
    files: tuple[str, ...]

    @property
    def is_merge(self) -> bool:
        """Whether the commit has two or more parents."""
        return len(self.parents) > 1


@dataclass(frozen=True, slots=True)
class Landing:
    """How a non-mainline commit reached the mainline: the mainline merge that brought it in
    (``mainline_merge``) and the innermost merge whose non-first parent led to it
    (``carrier``; the mainline merge itself at nesting level 0)."""

    mainline_merge: str
    carrier: str
    level: int


def _git(path: Path, *args: str, stdout=subprocess.PIPE) -> subprocess.Popen:
    env = {
        **os.environ,
        # A directory inside someone else's work tree is not a repository of its own.
        "GIT_CEILING_DIRECTORIES": str(path.resolve().parent),
        "LC_ALL": "C",
    }
    try:
        return subprocess.Popen(
            ["git", "-C", str(path), "-c", "core.quotePath=false", *args],
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
        )
    except FileNotFoundError:
        raise ObserveError("git: command not found (install git to read a repository)") from None


def _run(path: Path, *args: str) -> tuple[int, str, str]:
    proc = _git(path, *args)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def open_repository(path: str | Path) -> str:
    """Check that ``path`` is a complete git repository and return its HEAD commit's sha.

    Raises
    ------
    ObserveError
        ``path`` is not a repository (or only a directory inside one), has no commits, or is
        a shallow clone (its history is cut off).
    """
    path = Path(path)
    if not path.is_dir():
        raise ObserveError(f"{path}: not a directory")
    code, out, err = _run(path, "rev-parse", "--is-shallow-repository", "--verify", "HEAD")
    if code != 0:
        if "not a git repository" in err:
            raise ObserveError(f"{path}: not a git repository")
        if "dubious ownership" in err:
            raise ObserveError(f"{path}: git refuses to read it ({_first_line(err)})")
        raise ObserveError(f"{path}: no commit at HEAD, nothing to read ({_first_line(err)})")
    shallow, head = out.split()
    if shallow == "true":
        raise ObserveError(
            f"{path}: a shallow clone (git rev-parse --is-shallow-repository: true), its "
            "history is cut off; run `git fetch --unshallow` or clone without --depth"
        )
    return head


def branch_name(path: str | Path) -> str:
    """HEAD's branch name ("HEAD" when detached)."""
    code, out, _ = _run(Path(path), "rev-parse", "--abbrev-ref", "HEAD")
    return out.strip() if code == 0 else "HEAD"


def iter_commits(
    path: str | Path,
    *,
    with_files: bool,
    progress: Callable[[str], None] | None = None,
) -> Iterator[Commit]:
    """Every commit reachable from HEAD, newest first, from one ``git log`` call.

    Parameters
    ----------
    path
        The repository (work tree or bare).
    with_files
        Also read each non-merge commit's changed files (``--name-only`` against its parent;
        about twice the time); merges get no files.
    progress
        Called with a message every 10,000 commits.
    """
    path = Path(path)
    args = ["log", f"--format={_FORMAT}", "HEAD"]
    if with_files:
        args[2:2] = ["--name-only", "--no-renames"]
    proc = _git(path, *args)
    assert proc.stdout is not None
    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # chunks may split a character
    buffer = ""
    count = 0
    for chunk in iter(lambda: proc.stdout.read(1 << 22), b""):
        buffer += decoder.decode(chunk)
        records = buffer.split("\x1e")
        buffer = records.pop()  # possibly incomplete
        for record in records:
            if record:
                yield _parse(record)
                count += 1
                if progress is not None and count % 10_000 == 0:
                    progress(f"git log: {count:,} commits read")
    buffer += decoder.decode(b"", final=True)
    if buffer:
        yield _parse(buffer)
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.wait() != 0:
        raise ObserveError(f"{path}: git log failed ({_first_line(err)})")


def _parse(record: str) -> Commit:
    header, _, rest = record.partition("\x1f")
    sha, parents, email, author_time, committer_time, subject, change_id = header.split("\x00")
    return Commit(
        sha=sha,
        parents=tuple(parents.split()),
        author_email=email,
        author_time=int(author_time),
        committer_time=int(committer_time),
        has_change_id=bool(change_id.strip()),
        subject=subject,
        files=tuple(line for line in rest.split("\n") if line),
    )


def first_parent_line(commits: Mapping[str, Commit], head: str) -> list[str]:
    """HEAD's first-parent line (the mainline), oldest first."""
    line = []
    sha: str | None = head
    while sha is not None:
        line.append(sha)
        parents = commits[sha].parents
        sha = parents[0] if parents and parents[0] in commits else None
    line.reverse()
    return line


def assign_to_mainline(commits: Mapping[str, Commit], mainline: list[str]) -> dict[str, Landing]:
    """For every commit off the mainline, the mainline merge that brought it in.

    Walks the mainline oldest to newest and, from each merge's non-first parents, visits the
    commits not seen before, so each commit is visited once (a 0-1 breadth-first search:
    a commit reachable at several levels gets the shallowest). A commit reached
    through the non-first parent of a merge inside a side branch is one nesting level deeper
    and has that merge as its carrier.
    """
    seen = set(mainline)
    landings: dict[str, Landing] = {}
    for merge in mainline:
        queue = deque(
            (parent, merge, 0) for parent in commits[merge].parents[1:] if parent not in seen
        )
        while queue:
            sha, carrier, level = queue.popleft()
            if sha in seen or sha not in commits:
                continue
            seen.add(sha)
            landings[sha] = Landing(merge, carrier, level)
            parents = commits[sha].parents
            if parents:  # first parent: same level, visited first (a 0-1 breadth-first search)
                queue.appendleft((parents[0], carrier, level))
                queue.extend((p, sha, level + 1) for p in parents[1:])
    return landings
