"""From a repository's commits to changes: which workflow a history follows (Gerrit, GitHub
pull requests, or kernel-style pulls between maintainer trees) and what each change is.

A :class:`GitChange` is a change with its times (Unix seconds), author, files and the trees it
was merged into on its way to the mainline; :func:`add_change_events` writes its events.

- *gerrit*: mainline merges ``Merge "<subject>"`` (Zuul's) or commits with a ``Change-Id:``
  trailer. Each non-merge commit a mainline merge brings in is one change (a series brings
  several); a non-merge commit on the mainline is a fast-forwarded change (or, without a
  Change-Id, a direct commit). created = the commit's author date (kept through rebases and
  patch sets), landed = the mainline merge's (or the commit's own) committer date.
- *github*: mainline merges ``Merge pull request #N from …``; one change a pull request
  (id N; created = the earliest author date of its commits, actor = that commit's author,
  landed = the merge's committer date). A commit on the mainline is a change too: a
  squash-merged pull request when its subject ends in "(#N)" (id N; its author date is
  usually the squash's, so its lead time is near 0), else pushed directly (landed "direct").
- *pull*: mainline merges ``Merge branch/tag '…' [of <url>]`` (or the older ``Merge <url>``).
  Each non-merge commit brought in is a change: ``merged`` (detail "home") into the tree named
  by the innermost merge that carried it, at the commit's committer date; one ``merged`` (detail
  "parent") per further nesting level, into the next tree out, at the nested merge's committer
  date; ``landed`` at the mainline merge's committer date. A commit directly on the mainline
  lands "direct". Only a merge that names a remote (``… of <url>``, ``Merge <url>``) brings
  in another maintainer's tree: a merge of a local branch (``Merge branch 'next'``,
  ``Merge patch series "…"``) is its merger's own work and adds no hop, so a commit that
  reaches the mainline through local branches only lands "direct" (the top maintainer
  applied it), as kernel documentation counts the patches Linus applies himself.

Tree names: the last two components of the merge's URL ("netdev/net-next"), else the branch
or tag named ("for-linus"); the mainline is "mainline".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from observe.areas import AreaMap, change_areas
from observe.gitlog import Commit, Landing
from observe.history import EventRows

GERRIT_MERGE = re.compile(r'^Merge "')
GITHUB_MERGE = re.compile(r"^Merge pull request #(\d+) from ")
PULL_MERGE = re.compile(  # "Merge branch/tag 'x' [of URL]", or the older "Merge URL"
    r"^Merge (?:(?:remote-tracking )?(?:branch|tag|branches|tags) '([^']+)'(?:.*? of (\S+))?"
    r"|(\S*:\S*/\S+))"
)
SQUASHED_PR = re.compile(r"\(#(\d+)\)\s*$")
MAINLINE = "mainline"
UNNAMED_TREE = "(unnamed)"


@dataclass(slots=True)
class GitChange:
    """One change read from a repository; times are Unix seconds (UTC)."""

    id: int
    created: int
    landed: int
    actor: str
    files: set[str]
    team: str = ""
    landed_team: str = ""
    landed_detail: str = ""
    merges: list[tuple[str, int, str]] = field(default_factory=list)  # (tree, time, detail)


def detect_workflow(
    commits: Mapping[str, Commit], mainline: list[str]
) -> tuple[str | None, tuple[str, ...]]:
    """The dominant workflow of the mainline ("gerrit", "github", "pull"; ``None`` when no
    pattern is found) and notes on what was counted."""
    n_gerrit = n_change_id = n_github = n_squash = n_pull = n_other_merges = n_plain = 0
    for sha in mainline:
        commit = commits[sha]
        subject = commit.subject
        if commit.is_merge:
            if GERRIT_MERGE.match(subject):
                n_gerrit += 1
            elif GITHUB_MERGE.match(subject):
                n_github += 1
            elif PULL_MERGE.match(subject):
                n_pull += 1
            else:
                n_other_merges += 1
        elif commit.has_change_id:
            n_change_id += 1
        elif SQUASHED_PR.search(subject):
            n_squash += 1
        else:
            n_plain += 1
    found = {
        "gerrit": (
            n_gerrit + n_change_id,
            f"gerrit workflow: {n_gerrit:,} merge commits 'Merge \"…\"', {n_change_id:,} "
            "fast-forwarded changes with Change-Id",
        ),
        "github": (
            n_github + n_squash,
            f"github workflow: {n_github:,} merge commits 'Merge pull request #…', "
            f"{n_squash:,} squash-merged commits '… (#N)'",
        ),
        "pull": (
            n_pull,
            f"pull workflow: {n_pull:,} merge commits 'Merge branch/tag …' into the mainline",
        ),
    }
    ranked = sorted((n, name) for name, (n, _) in found.items() if n > 0)
    if not ranked:
        return None, ()
    workflow = ranked[-1][1]
    notes = [found[workflow][1]]
    for n, name in reversed(ranked[:-1]):
        notes.append(
            f"also {found[name][1].split(': ', 1)[1]} ({name} pattern, {n:,} against "
            f"{ranked[-1][0]:,}: {workflow} is dominant and used)"
        )
    notes.append(
        f"also on the mainline: {n_other_merges:,} merges of no pattern and {n_plain:,} "
        "commits without Change-Id or '(#N)'; the commits they bring are changes too"
    )
    return workflow, tuple(notes)


def is_remote_pull(subject: str) -> bool:
    """Whether a merge brings in another maintainer's tree: its subject names a remote
    (``… of URL`` or ``Merge URL``). A merge of a local branch (``Merge branch 'next'``,
    ``Merge patch series "…"``) is the merging maintainer's own work, not a tree."""
    match = PULL_MERGE.match(subject)
    return match is not None and bool(match.group(2) or match.group(3))


def tree_name(subject: str) -> str:
    """The tree a merge brings in, from its subject (see the module docstring)."""
    match = PULL_MERGE.match(subject)
    if match is None:
        return UNNAMED_TREE
    branch, url, bare_url = match.groups()
    url = url or bare_url
    if url:
        parts = [p for p in re.split(r"[/:]", url.rstrip("/")) if p]
        if parts:
            parts[-1] = parts[-1].removesuffix(".git")
            return "/".join(parts[-2:])
    return branch


def _introduced(mainline: list[str], landings: Mapping[str, Landing]) -> dict[str, list[str]]:
    """The commits each mainline merge brought in, in visiting order."""
    introduced: dict[str, list[str]] = {sha: [] for sha in mainline}
    for sha, landing in landings.items():
        introduced[landing.mainline_merge].append(sha)
    return introduced


def gerrit_changes(
    commits: Mapping[str, Commit], mainline: list[str], landings: Mapping[str, Landing]
) -> list[GitChange]:
    """One change per non-merge commit (see the module docstring), in landing order."""
    changes: list[GitChange] = []
    introduced = _introduced(mainline, landings)
    for sha in mainline:
        merge = commits[sha]
        members = [commits[s] for s in introduced[sha]] if merge.is_merge else [merge]
        for commit in sorted(members, key=lambda c: c.author_time):
            if not commit.is_merge:
                changes.append(
                    GitChange(
                        id=len(changes) + 1,
                        created=commit.author_time,
                        landed=merge.committer_time,
                        actor=commit.author_email,
                        files=set(commit.files),
                    )
                )
    return changes


def github_changes(
    commits: Mapping[str, Commit], mainline: list[str], landings: Mapping[str, Landing]
) -> list[GitChange]:
    """One change per pull request, and per commit pushed to the mainline or brought in by
    another merge; ids are pull-request numbers, then numbers above the largest."""
    introduced = _introduced(mainline, landings)
    numbered: list[tuple[int | None, GitChange]] = []
    for sha in mainline:
        merge = commits[sha]
        members = sorted(
            (commits[s] for s in introduced[sha] if not commits[s].is_merge),
            key=lambda c: c.author_time,
        )
        pr = GITHUB_MERGE.match(merge.subject) if merge.is_merge else None
        if pr is not None and members:
            change = GitChange(
                id=0,
                created=members[0].author_time,
                landed=merge.committer_time,
                actor=members[0].author_email,
                files=set().union(*(c.files for c in members)),
            )
            numbered.append((int(pr.group(1)), change))
            continue
        if not merge.is_merge:
            squash = SQUASHED_PR.search(merge.subject)
            number = int(squash.group(1)) if squash else None
            detail = "" if squash else "direct"
            members = [merge]
        else:
            number, detail = None, ""
        for commit in members:
            change = GitChange(
                id=0,
                created=commit.author_time,
                landed=merge.committer_time,
                actor=commit.author_email,
                files=set(commit.files),
                landed_detail=detail,
            )
            numbered.append((number, change))
    used = {n for n, _ in numbered if n is not None}
    next_id = max(used, default=0) + 1
    taken: set[int] = set()
    for number, change in numbered:
        if number is None or number in taken:  # a PR number seen twice keeps the first
            number, next_id = next_id, next_id + 1
        taken.add(number)
        change.id = number
    return [change for _, change in numbered]


def pull_changes(
    commits: Mapping[str, Commit], mainline: list[str], landings: Mapping[str, Landing]
) -> list[GitChange]:
    """One change per non-merge commit, with the trees it passed through (see the module
    docstring), in landing order."""
    changes: list[GitChange] = []
    introduced = _introduced(mainline, landings)
    trees: dict[str, str] = {}

    def tree(sha: str) -> str:
        if sha not in trees:
            trees[sha] = tree_name(commits[sha].subject)
        return trees[sha]

    remote: dict[str, bool] = {}

    def pulled(sha: str) -> bool:
        if sha not in remote:
            remote[sha] = is_remote_pull(commits[sha].subject)
        return remote[sha]

    for sha in mainline:
        merge = commits[sha]
        if not merge.is_merge:
            changes.append(
                GitChange(
                    id=len(changes) + 1,
                    created=merge.author_time,
                    landed=merge.committer_time,
                    actor=merge.author_email,
                    files=set(merge.files),
                    team=MAINLINE,
                    landed_team=MAINLINE,
                    landed_detail="direct",
                )
            )
            continue
        members = sorted(
            (commits[s] for s in introduced[sha] if not commits[s].is_merge),
            key=lambda c: c.author_time,
        )
        for commit in members:
            chain = [landings[commit.sha].carrier]
            while chain[-1] != sha:
                chain.append(landings[chain[-1]].carrier)
            # hop k: the tree merge chain[k] brings in, entered when the commit was applied
            # (k = 0) or when the inner merge chain[k-1] was made; only merges of another
            # maintainer's tree are hops (a local branch is its merger's own work)
            hops = [(chain[0], commit.committer_time)]
            hops += [(outer, commits[inner].committer_time) for inner, outer in pairwise(chain)]
            hops = [(m, t) for m, t in hops if pulled(m)]
            merges = [(tree(m), t, "home" if k == 0 else "parent") for k, (m, t) in enumerate(hops)]
            changes.append(
                GitChange(
                    id=len(changes) + 1,
                    created=commit.author_time,
                    landed=merge.committer_time,
                    actor=commit.author_email,
                    files=set(commit.files),
                    team=merges[0][0] if merges else MAINLINE,
                    landed_team=MAINLINE,
                    landed_detail="" if merges else "direct",
                    merges=merges,
                )
            )
    return changes


BUILDERS: dict[
    str,
    Callable[[Mapping[str, Commit], list[str], Mapping[str, Landing]], list[GitChange]],
] = {"gerrit": gerrit_changes, "github": github_changes, "pull": pull_changes}


def add_change_events(rows: EventRows, change: GitChange, area_of: AreaMap | None) -> None:
    """Write a change's events: created, touched (one per further area), merged…, landed."""
    area, others = change_areas(change.files, area_of) if area_of is not None else ("", ())
    rows.add(change.created, "created", change.id, area=area, team=change.team, actor=change.actor)
    for other in others:
        rows.add(change.created, "touched", change.id, area=other, team=change.team)
    for tree, seconds, detail in change.merges:
        rows.add(seconds, "merged", change.id, area=area, team=tree, detail=detail)
    rows.add(
        change.landed,
        "landed",
        change.id,
        area=area,
        team=change.landed_team,
        detail=change.landed_detail,
    )
