"""Time ``observe.read_source`` on a git repository's whole history against the target of
60,000 commits in 60 s on one core, and compare the git CLI with pygit2 for reading commits.

Three candidates, timed best-of-k, interleaved (A B C A B C …):

* ``read_source`` – the whole reader (``git log`` of every commit with its files, mainline
  walk, workflow detection, changes, areas at ``--areas-depth``, the Arrow table);
* ``git log``     – only its first stage, :func:`observe.gitlog.iter_commits` (the same
  records with files), the part a pygit2 reader would replace;
* ``pygit2``      – the same records read with pygit2 (a revision walk, each non-merge
  commit's tree diffed against its first parent's), when pygit2 is installed.

One-core time is CPU time of this process plus its git subprocesses (``git log`` runs
alongside the parsing, so wall time may be less); the ratio is that time scaled to 60,000
commits over 60 s (≤ 1 passes). Also prints the history's changes landed and median lead
time (days) a year, as a sanity check of what was read.

Reads the repository (default: ``/work/.mirror/openstack+nova/repo``, a bare mirror of
openstack/nova; skipped with a message when absent); writes nothing. Usage:
``python benchmarks/bench_observe.py [REPO] [--repeats 3] [--areas-depth 2] [--no-pygit2]``
"""

from __future__ import annotations

import argparse
import calendar
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from common import load_average, machine, table, verdict

from observe.gitlog import Commit, iter_commits
from observe.sources import read_source

NOVA_MIRROR = Path("/work/.mirror/openstack+nova/repo")
TARGET_COMMITS = 60_000
TARGET_SECONDS = 60.0


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children, in seconds."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pygit2_commits(path: Path) -> dict[str, Commit]:
    """Every commit reachable from HEAD as :class:`observe.gitlog.Commit`, read with pygit2."""
    import pygit2

    repo = pygit2.Repository(str(path))
    commits = {}
    for commit in repo.walk(repo.head.target):
        parents = commit.parents
        files: tuple[str, ...] = ()
        if len(parents) == 1:
            diff = parents[0].tree.diff_to_tree(commit.tree)
            files = tuple(delta.new_file.path for delta in diff.deltas)
        elif not parents:  # the root commit: against the empty tree
            files = tuple(d.new_file.path for d in commit.tree.diff_to_tree(swap=True).deltas)
        message = commit.message
        commits[str(commit.id)] = Commit(
            sha=str(commit.id),
            parents=tuple(str(p) for p in commit.parent_ids),
            author_email=commit.author.email,
            author_time=commit.author.time,
            committer_time=commit.committer.time,
            has_change_id="Change-Id" in commit.message_trailers,
            subject=" ".join(
                line.strip() for line in message.strip().split("\n\n", 1)[0].split("\n")
            ),
            files=files,
        )
    return commits


def timed(
    candidates: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, float, object]]:
    """Each candidate's best wall and best CPU seconds over ``repeats`` interleaved calls
    (A B C A B C …, so a burst of load from other work is shared), and its last result."""
    best: dict[str, tuple[float, float, object]] = {}
    for rep in range(repeats):
        for name, fn in candidates.items():
            wall0, cpu0 = time.perf_counter(), cpu_seconds()
            result = fn()
            wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
            old_wall, old_cpu, _ = best.get(name, (float("inf"), float("inf"), None))
            best[name] = (min(old_wall, wall), min(old_cpu, cpu), result)
            print(
                f"  [{rep + 1}/{repeats}] {name}: {wall:.2f} s wall, {cpu:.2f} s CPU",
                file=sys.stderr,
                flush=True,
            )
    return best


def per_year(history) -> list[tuple[int, int, float, float]]:
    """(year, changes landed, per day, median lead time in days) from a History's table."""
    import pandas as pd

    table_ = history.table.to_pandas()
    created = table_[table_.kind == "created"].set_index("change").time
    landed = table_[table_.kind == "landed"].set_index("change").time
    origin = pd.Timestamp(history.origin)
    frame = pd.DataFrame(
        {"lead": landed - created.reindex(landed.index), "when": landed},
    )
    frame["year"] = (origin + pd.to_timedelta(frame.when, unit="D")).dt.year
    rows = []
    for year, group in frame.groupby("year"):
        days = 366 if calendar.isleap(int(year)) else 365
        rows.append((str(year), len(group), len(group) / days, float(group.lead.median())))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", nargs="?", type=Path, default=NOVA_MIRROR)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--areas-depth", type=int, default=2)
    parser.add_argument("--no-pygit2", action="store_true", help="skip the pygit2 candidate")
    args = parser.parse_args()
    if not args.repo.exists():
        print(f"skipped: no repository at {args.repo} (give one as the first argument)")
        return
    n_commits = int(
        subprocess.run(
            ["git", "-C", str(args.repo), "rev-list", "--count", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    print(f"{args.repo}: {n_commits:,} commits; {machine()}; load average {load_average()}")

    candidates: dict[str, Callable[[], object]] = {
        "read_source": lambda: read_source(args.repo, areas_depth=args.areas_depth),
        "git log": lambda: {c.sha: c for c in iter_commits(args.repo, with_files=True)},
    }
    try:
        import pygit2  # noqa: F401

        if not args.no_pygit2:
            candidates["pygit2"] = lambda: pygit2_commits(args.repo)
    except ImportError:
        print("pygit2 is not installed: git CLI only", file=sys.stderr)
    results = timed(candidates, args.repeats)

    rows = []
    for name, (wall, cpu, _) in results.items():
        at_target = cpu * TARGET_COMMITS / n_commits
        rows.append(
            (
                name,
                n_commits,
                wall,
                cpu,
                n_commits / max(cpu, 1e-9),
                at_target,
                at_target / TARGET_SECONDS,
            )
        )
    print()
    print(
        table(
            ["candidate", "commits", "wall s", "CPU s", "commits/s (CPU)", "s per 60k", "ratio"],
            rows,
        )
    )
    ratio = rows[0][-1]
    print(
        f"\nread_source: {ratio:.3f} of the 60 s target for 60,000 commits on one core: "
        f"{verdict(ratio, 1.0, at_most=True)}"
    )
    if "pygit2" in results:
        speedup = results["pygit2"][1] / max(results["git log"][1], 1e-9)
        print(f"git CLI reads commits {speedup:.1f}× faster than pygit2 (CPU time)")
        by_git, by_pygit2 = results["git log"][2], results["pygit2"][2]
        differing = sum(by_pygit2.get(sha) != commit for sha, commit in by_git.items())
        print(f"records differing between pygit2 and git log: {differing:,} of {len(by_git):,}")

    history = results["read_source"][2]
    print(f"\nworkflow {history.workflow}; " + "; ".join(history.notes))
    print(
        table(
            ["year", "changes landed", "per day", "median lead time (days)"],
            per_year(history),
        )
    )


if __name__ == "__main__":
    main()
