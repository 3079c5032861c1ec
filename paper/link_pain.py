"""Per-link pain where each split still keeps up: a small, cached step of the paper build.

The sweep keeps three summaries of each run's per-link pain (top-decile share, Gini, CV),
not every link's, so the paper cannot draw a Lorenz curve from it. This step replays a few
runs of the paper sweep itself: for each split organisation of ``paper/analysis.py``
(flat, hierarchical, tree4, modular), automation off, every other parameter at the spec's
values, at the largest N of its unsaturated range in the sweep's results
(:func:`analysis.point_saturated`; at a saturated N the pain booked on a link is the work
the queues got round to, not what its API asked for), the first ``seeds`` replicates (the
very tasks of the sweep's design: same parameters, same seeds, so each replay is that sweep
run). It
writes one row per link and run to ``RESULTS_DIR/link_pain_links.parquet``:

``org, n_teams, replicate, seed, run_id, link, team_a, team_b, badness, negotiations,
conflicts, pain_events, conflict_days, pain_days``

* ``badness``: the link's API badness as the model drew it (``links.edge_badness``, lognormal
  with mean 1, after ``fixed_link_share``, which is 0 here);
* ``pain_events``: the model's own per-link pain (``model.metrics.link_pain``: negotiations
  held plus conflicts found on the link after warm-up);
* ``pain_days``: the person-days of that work: negotiation jobs on the link plus the
  resolution of conflicts found on it (bisection and fix), started after warm-up and
  booked exactly as the model books its cost accounts (``conflict_days`` is the conflict
  part; the rest is negotiation). The model keeps counts per link,
  not days; :class:`LinkDaysModel` adds them by observing each job as it starts, without
  changing what the model does (its metrics are those of the plain model, tested).

Cached: the file stores the parameters of every replayed run (and the schema) in its
Parquet metadata; :func:`ensure` reuses it when they equal what the spec asks for now and
redoes it, saying why, when they differ. Finished runs are kept as parts in
``link_pain_links.parts/`` until the file is written, so an interrupted step resumes.

Cost: 4 splits × 3 seeds, each at its own largest N that kept up (N ≤ 8 in the default
sweep): about 1 s in one process, a file of a few kB. A split that kept up to N = 256 would
cost more: the flat one there (32,640 links) took about 35 s a seed.

Usage:  python paper/link_pain.py results/paper [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PAPER_DIR = Path(__file__).resolve().parent
for _p in (PAPER_DIR, PAPER_DIR / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import _common  # noqa: E402
import analysis  # noqa: E402

from model import OrgModel  # noqa: E402
from model.work import JobKind  # noqa: E402

FILE = "link_pain_links.parquet"
PARTS = "link_pain_links.parts"
SEEDS = 3
SCHEMA = "orgscale-link-pain/1"
META_KEY = b"orgscale.link_pain"
ORGS = analysis.SPLITS
COLUMNS = (
    "org",
    "n_teams",
    "replicate",
    "seed",
    "run_id",
    "link",
    "team_a",
    "team_b",
    "badness",
    "negotiations",
    "conflicts",
    "pain_events",
    "conflict_days",
    "pain_days",
)


class LinkDaysModel(OrgModel):
    """:class:`model.OrgModel` that also adds up person-days per link.

    Every negotiation job and every conflict resolution found on a link adds its days to
    the link when it starts after warm-up (the rule of ``OrgModel.book``). It only reads
    what the model does: same events, same random draws, same metrics.
    """

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)  # building the model starts no job
        self.edge_negotiation_days = np.zeros(len(self.links.edges), dtype=float)
        self.edge_conflict_days = np.zeros(len(self.links.edges), dtype=float)

    def start_job(self, reviewer: Any, kind: JobKind, job: object, days: float) -> None:
        super().start_job(reviewer, kind, job, days)
        edge = getattr(job, "edge", -1)
        if edge < 0 or self.now < self.warmup_days:
            return
        if kind == JobKind.NEGOTIATION:
            self.edge_negotiation_days[edge] += days
        elif kind == JobKind.CONFLICT:
            self.edge_conflict_days[edge] += days


# ----------------------------------------------------------------------------- what to run


def replay_n(runs: pd.DataFrame) -> int | None:
    """The N at which to replay one organisation's links: the largest N of its unsaturated
    range (:func:`analysis.fitted_until`: unsaturated points from the smallest N on),
    ``None`` when that N is below :data:`analysis.SPLIT_MIN_N` (no split to speak of) or
    even the smallest N is saturated. Where queues never empty, the pain a
    link is booked is the work the queues got round to, not the demand its API made."""
    curve = analysis.curve(runs, "links", metrics=())
    n = curve["fitted_until"]
    return n if n is not None and n >= analysis.SPLIT_MIN_N else None


def link_tasks(spec: Any, results: pd.DataFrame, seeds: int = SEEDS) -> list[tuple[str, Any]]:
    """``(org, task)`` to replay: each split at the largest unsaturated N of the sweep's
    ``results`` (:func:`replay_n`), automation off, the first ``seeds``
    replicates, as the spec's own design has them. An organisation saturated at every N,
    or not in ``results``, is left out."""
    from sweeps.design import design_tasks

    tasks = design_tasks(spec)
    table = pd.DataFrame([t.params for t in tasks])
    table["_i"] = range(len(tasks))
    table["_replicate"] = [t.replicate for t in tasks]
    out = []
    for org in ORGS:
        runs = analysis.org_runs(table, org, False)
        done = analysis.org_runs(results, org, False)
        if runs.empty or done.empty:
            continue
        n = replay_n(done)
        if n is None:
            continue
        top = runs[runs["n_teams"] == n]
        top = top[top["_replicate"] < seeds].sort_values("_replicate")
        out += [(org, tasks[int(i)]) for i in top["_i"]]
    return out


def plan(spec: Any, results: pd.DataFrame, seeds: int = SEEDS) -> dict[str, Any]:
    """The parameters of the step (stored with the file; a mismatch means redo)."""
    return {
        "schema": SCHEMA,
        "columns": list(COLUMNS),
        "seeds": seeds,
        "runs": [_run_record(org, t) for org, t in link_tasks(spec, results, seeds)],
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


# ----------------------------------------------------------------------------- one run


def run_links(org: str, task: Any) -> pd.DataFrame:
    """Replay one sweep run and return its per-link rows."""
    model = LinkDaysModel(**task.params, rng=task.seed)
    model.run_for(task.days)
    neg = model.links.edge_negotiations.astype(np.int64)
    con = model.links.edge_conflicts.astype(np.int64)
    nd, cd = model.edge_negotiation_days, model.edge_conflict_days
    n = len(model.links.edges)
    return pd.DataFrame(
        {
            "org": [org] * n,
            "n_teams": np.full(n, int(task.params["n_teams"]), dtype=np.int64),
            "replicate": np.full(n, task.replicate, dtype=np.int64),
            "seed": np.full(n, task.seed, dtype=np.int64),
            "run_id": [task.run_id] * n,
            "link": np.arange(n, dtype=np.int64),
            "team_a": model.links.edges[:, 0].astype(np.int64),
            "team_b": model.links.edges[:, 1].astype(np.int64),
            "badness": model.links.edge_badness.astype(float),
            "negotiations": neg,
            "conflicts": con,
            "pain_events": neg + con,
            "conflict_days": cd,
            "pain_days": nd + cd,
        },
        columns=list(COLUMNS),
    )


# ----------------------------------------------------------------------------- the file


def _write(path: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), META_KEY: _canonical(meta).encode()}
    )
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def stored_plan(path: Path) -> dict[str, Any] | None:
    """The parameters a link file (or part) was made with, or None if it has none."""
    try:
        meta = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    raw = meta.get(META_KEY)
    return json.loads(raw) if raw else None


def load(results_dir: str | Path) -> pd.DataFrame | None:
    """The per-link rows of ``results_dir`` (None when the step has not run there)."""
    path = Path(results_dir) / FILE
    if not path.is_file():
        return None
    return pd.read_parquet(path)


def ensure(
    results_dir: str | Path,
    *,
    spec_path: str | Path | None = None,
    seeds: int = SEEDS,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Write ``RESULTS_DIR/link_pain_links.parquet`` unless it holds exactly these runs.

    ``spec_path`` defaults to the folder's ``spec.toml`` (the paper spec, whose design the
    build has checked). Returns the file's path. A file made with other parameters (another
    spec, another number of seeds, another schema) is redone, and the log says so.
    """
    from sweeps.spec import load_spec

    say = log or (lambda _m: None)
    results_dir = Path(results_dir)
    spec = load_spec(spec_path or results_dir / "spec.toml")
    results = _common.load_results(results_dir)
    want = plan(spec, results, seeds)
    key = _canonical(want)
    path = results_dir / FILE
    if path.is_file():
        have = stored_plan(path)
        if have is not None and _canonical(have) == key:
            return path
        say(f"{FILE} was made with other parameters than the spec now gives: redoing it")
    if not want["runs"]:
        raise ValueError(
            f"{results_dir}: none of {', '.join(ORGS)} keeps up at any N the spec runs, "
            "so no link can be replayed where its pain is demand's"
        )
    parts = results_dir / PARTS
    parts.mkdir(parents=True, exist_ok=True)
    frames = []
    start = time.monotonic()
    for i, (org, task) in enumerate(link_tasks(spec, results, seeds), 1):
        run_meta = {"schema": SCHEMA, "columns": list(COLUMNS), "run": _run_record(org, task)}
        part = parts / f"{task.run_id}.parquet"
        have = stored_plan(part) if part.is_file() else None
        if have is not None and _canonical(have) == _canonical(run_meta):
            frames.append(pd.read_parquet(part))
            continue
        t0 = time.monotonic()
        frame = run_links(org, task)
        _write(part, frame, run_meta)
        frames.append(frame)
        say(
            f"link pain {i}/{len(want['runs'])}: {org} N = {task.params['n_teams']} "
            f"replicate {task.replicate} ({time.monotonic() - t0:.0f} s)"
        )
    _write(path, pd.concat(frames, ignore_index=True), want)
    shutil.rmtree(parts, ignore_errors=True)
    say(f"wrote {path} ({time.monotonic() - start:.0f} s)")
    return path


def _run_record(org: str, task: Any) -> dict[str, Any]:
    return {
        "org": org,
        "run_id": task.run_id,
        "replicate": task.replicate,
        "seed": task.seed,
        "days": task.days,
        "params": task.params,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", nargs="?", default=str(PAPER_DIR.parent / "results/paper"))
    parser.add_argument("--spec", default=None, help="spec (default RESULTS_DIR/spec.toml)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"replicates (default {SEEDS})")
    args = parser.parse_args(argv)
    ensure(args.results_dir, spec_path=args.spec, seeds=args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
