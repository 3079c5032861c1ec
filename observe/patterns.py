"""Patterns: named functions of an event log and a window, the one definition of each.

Every pattern here is computed by the same code on a real history (read by
:func:`observe.sources.read_source`) and on a simulated run (``OrgModel(record_events=True)``):
``orgscale observe`` prints them for a history, ``orgscale validate`` and ``orgscale calibrate``
compute them from the model's event log. Each function's docstring says exactly what it
counts, and which source counted it that way.

A log is reduced once to one row per change (:func:`change_table`); a pattern is a function
``(changes, window) -> float`` registered in :data:`PATTERNS` under its name. Times are days
in the log's clock; a :class:`Window` is ``[start, end)``. ``nan`` means there was nothing to
count (no change landed in the window, or the source does not record the events a pattern
needs: a git history has no reviews).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa


@dataclass(frozen=True)
class Window:
    """A half-open interval of the log's clock, ``[start, end)``, in days."""

    start: float
    end: float

    def __post_init__(self) -> None:
        if not self.end > self.start:
            raise ValueError(f"empty window: end {self.end:g} ≤ start {self.start:g}")

    @property
    def days(self) -> float:
        return self.end - self.start

    def holds(self, times: pd.Series | np.ndarray) -> np.ndarray:
        """True where ``times`` fall in the window (NaN never does)."""
        t = np.asarray(times, dtype=float)
        return (t >= self.start) & (t < self.end)


@dataclass(frozen=True)
class Changes:
    """A log reduced to one row a change (``table``), and the events that patterns count
    directly (``uploads``: every patch set's time and change; ``votes``: every review vote
    with its time, change, reviewer and value). ``has_reviews`` is False for sources that
    record no review; ``has_unlanded`` is False for sources that record only changes that
    landed (a git history: what never merged is not in it)."""

    table: pd.DataFrame
    uploads: pd.DataFrame
    votes: pd.DataFrame
    touched: pd.DataFrame
    has_reviews: bool
    has_unlanded: bool


def change_table(log: pa.Table | pd.DataFrame) -> Changes:
    """Reduce an event log to one row per change.

    Columns of ``table`` (index: change id): ``created`` (time of the first patch set),
    ``landed`` (time it reached the mainline, NaN if not), ``abandoned`` (NaN if not),
    ``abandoned_by`` ("author" / "rejected" / ""), ``area``, ``team``, ``author``,
    ``direct`` (landed without passing through another tree), ``trees`` (number of trees it
    was merged into before the mainline), ``first_vote`` (time of the first review vote by
    someone other than its author), ``approved`` (time of its first approval),
    ``last_upload`` (time of its latest patch set, NaN before ``created``).
    """
    frame = log.to_pandas() if isinstance(log, pa.Table) else log
    kind = frame["kind"].astype(str)
    change = frame["change"].to_numpy()

    def first(name: str) -> pd.DataFrame:
        rows = frame[(kind == name).to_numpy() & (change >= 0)]
        return rows.drop_duplicates("change", keep="first").set_index("change")

    created = first("created")
    table = pd.DataFrame(
        {
            "created": created["time"].astype(float),
            "area": created["area"].astype(str),
            "team": created["team"].astype(str),
            "author": created["actor"].astype(str),
        }
    )
    landed = first("landed")
    table["landed"] = landed["time"].reindex(table.index).astype(float)
    table["direct"] = (landed["detail"].astype(str) == "direct").reindex(table.index)
    table["direct"] = table["direct"].fillna(False).astype(bool)
    abandoned = first("abandoned")
    table["abandoned"] = abandoned["time"].reindex(table.index).astype(float)
    table["abandoned_by"] = abandoned["detail"].astype(str).reindex(table.index).fillna("")
    merged = frame[(kind == "merged").to_numpy()]
    table["trees"] = merged.groupby("change").size().reindex(table.index).fillna(0).astype(int)
    approved = first("approved")
    table["approved"] = approved["time"].reindex(table.index).astype(float)

    votes = frame[(kind == "review_finished").to_numpy()][["time", "change", "actor", "detail"]]
    votes = votes.rename(columns={"actor": "reviewer", "detail": "vote"})
    votes = votes.astype({"reviewer": str, "vote": str})
    authors = table["author"].reindex(votes["change"]).to_numpy()
    by_others = votes[votes["reviewer"].to_numpy() != authors]
    table["first_vote"] = by_others.groupby("change")["time"].min().reindex(table.index)

    uploads = pd.concat(
        [
            created[["time"]].reset_index(),
            frame[(kind == "patch_set").to_numpy()][["time", "change"]],
        ],
        ignore_index=True,
    )
    table["last_upload"] = uploads.groupby("change")["time"].max().reindex(table.index)
    touched = frame[(kind == "touched").to_numpy()][["change", "area"]].astype({"area": str})
    has_reviews = bool(len(votes)) or bool((kind == "review_started").any())
    has_unlanded = has_reviews or bool(table["landed"].isna().any())
    return Changes(table, uploads, votes, touched, has_reviews, has_unlanded)


Pattern = Callable[[Changes, Window], float]
PATTERNS: dict[str, Pattern] = {}
REVIEW_PATTERNS: set[str] = set()  # patterns only sources with reviews can give
UNLANDED_PATTERNS: set[str] = set()  # patterns that need the changes that never landed


def pattern(*, needs_reviews: bool = False, needs_unlanded: bool = False) -> Callable:
    """Register a pattern under its function's name, with what a source must record."""

    def register(fn: Pattern) -> Pattern:
        PATTERNS[fn.__name__] = fn
        if needs_reviews:
            REVIEW_PATTERNS.add(fn.__name__)
        if needs_unlanded:
            UNLANDED_PATTERNS.add(fn.__name__)
        return fn

    return register


def available(changes: Changes, name: str) -> bool:
    """Whether the source of ``changes`` records what pattern ``name`` counts."""
    if name in REVIEW_PATTERNS and not changes.has_reviews:
        return False
    return not (name in UNLANDED_PATTERNS and not changes.has_unlanded)


def _landed_in(changes: Changes, window: Window) -> pd.DataFrame:
    table = changes.table
    return table[window.holds(table["landed"])]


def _lead_times(changes: Changes, window: Window) -> np.ndarray:
    landed = _landed_in(changes, window)
    return (landed["landed"] - landed["created"]).to_numpy(float)


def _quantile(values: np.ndarray, q: float) -> float:
    """``np.percentile`` (linear interpolation), the rule the model's metrics use."""
    return float(np.percentile(values, q)) if values.size else math.nan


# ---------------------------------------------------------------- flow (every source)
@pattern(needs_unlanded=True)
def submitted_per_day(changes: Changes, window: Window) -> float:
    """Changes created in the window, per day (a change's creation: its first patch set).
    A git history holds only the changes that landed: ``nan`` there."""
    return float(window.holds(changes.table["created"]).sum()) / window.days


@pattern()
def merged_per_day(changes: Changes, window: Window) -> float:
    """Changes that reached the mainline in the window, per day (Gerrit/Zuul: the
    ``Merge "…"`` commits on master's first-parent line, or a change's own commit there;
    model: landings in the top tree)."""
    return float(len(_landed_in(changes, window))) / window.days


@pattern()
def authors(changes: Changes, window: Window) -> float:
    """Distinct authors of the changes that landed in the window (people)."""
    landed = _landed_in(changes, window)
    names = landed["author"]
    return float(names[names != ""].nunique())


@pattern()
def lead_time_mean(changes: Changes, window: Window) -> float:
    """Mean lead time (days) of changes landed in the window: creation → mainline."""
    values = _lead_times(changes, window)
    return float(values.mean()) if values.size else math.nan


@pattern()
def lead_time_p25(changes: Changes, window: Window) -> float:
    """First quartile of the lead time (days) of changes landed in the window."""
    return _quantile(_lead_times(changes, window), 25)


@pattern()
def lead_time_p50(changes: Changes, window: Window) -> float:
    """Median lead time (days) of changes landed in the window: creation → mainline."""
    return _quantile(_lead_times(changes, window), 50)


@pattern()
def lead_time_p75(changes: Changes, window: Window) -> float:
    """Third quartile of the lead time (days) of changes landed in the window."""
    return _quantile(_lead_times(changes, window), 75)


@pattern()
def lead_time_p90(changes: Changes, window: Window) -> float:
    """90th percentile of the lead time (days) of changes landed in the window."""
    return _quantile(_lead_times(changes, window), 90)


@pattern()
def top_direct_landed_share(changes: Changes, window: Window) -> float:
    """Share of the changes landed in the window that reached the mainline without passing
    through another tree (kernel: patches the top maintainer applied himself, ≈1.3%)."""
    landed = _landed_in(changes, window)
    return float(landed["direct"].mean()) if len(landed) else math.nan


@pattern()
def tree_depth(changes: Changes, window: Window) -> float:
    """Merge hops on the longest path a change landed in the window took to the mainline:
    the trees it was merged into before it (a change of one core: 0; a patch applied in a
    subsystem tree that the top pulls: 1; through a sub-subsystem tree: 2)."""
    landed = _landed_in(changes, window)
    return float(landed["trees"].max()) if len(landed) else math.nan


@pattern(needs_unlanded=True)
def abandoned_per_day(changes: Changes, window: Window) -> float:
    """Changes abandoned in the window, per day (by their authors or rejected).
    A git history records no abandoned change: ``nan`` there."""
    return float(window.holds(changes.table["abandoned"]).sum()) / window.days


# ---------------------------------------------------------------- review (Gerrit, model)
@pattern(needs_reviews=True)
def first_review_wait_p50(changes: Changes, window: Window) -> float:
    """Median days from a change's creation to the first review vote by someone other than
    its author, over changes created in the window that got one."""
    table = changes.table
    rows = table[window.holds(table["created"])]
    waits = (rows["first_vote"] - rows["created"]).dropna().to_numpy(float)
    return _quantile(waits, 50)


@pattern(needs_reviews=True)
def approval_wait_p50(changes: Changes, window: Window) -> float:
    """Median days from upload to approval of changes approved in the window (J. Gordon,
    openstack-dev 2014-10: "time to approval", upload → the approving vote)."""
    table = changes.table
    rows = table[window.holds(table["approved"])]
    return _quantile((rows["approved"] - rows["created"]).to_numpy(float), 50)


@pattern(needs_reviews=True)
def approval_wait_mean(changes: Changes, window: Window) -> float:
    """Mean days from upload to approval of changes approved in the window."""
    table = changes.table
    rows = table[window.holds(table["approved"])]
    waits = (rows["approved"] - rows["created"]).to_numpy(float)
    return float(waits.mean()) if waits.size else math.nan


def waiting_ages(changes: Changes, at: float, *, since: str = "latest") -> np.ndarray:
    """Ages (days) at time ``at`` of the changes waiting for review, as reviewstats'
    ``openreviews.py`` counted them (openstack/reviewstats, 2013): changes open at ``at``
    (created, neither landed nor abandoned), not approved, whose latest patch set has no
    negative vote. ``since="latest"``: age of the latest patch set; ``"first"``: age of the
    change (its first patch set)."""
    table = changes.table
    open_now = (
        (table["created"] <= at)
        & ~(table["landed"] <= at)
        & ~(table["abandoned"] <= at)
        & ~(table["approved"] <= at)
    )
    rows = table[open_now]
    uploads = changes.uploads[changes.uploads["time"] <= at]
    latest = uploads.groupby("change")["time"].max().reindex(rows.index)
    votes = changes.votes
    votes = votes[(votes["time"] <= at) & votes["vote"].str.startswith("-")]
    last_negative = votes.groupby("change")["time"].max().reindex(rows.index)
    unblocked = ~(last_negative >= latest)
    start = latest if since == "latest" else rows["created"]
    return (at - start[unblocked]).to_numpy(float)


@pattern(needs_reviews=True)
def review_wait_snapshot_p50(changes: Changes, window: Window) -> float:
    """Median age (days) of the changes waiting for review at the window's end, by
    reviewstats' definition (:func:`waiting_ages`, latest patch set): the "3.8 days" Nova
    reported in October 2013 was this snapshot, not a completed wait."""
    return _quantile(waiting_ages(changes, window.end), 50)


@pattern(needs_reviews=True)
def review_wait_snapshot_p75(changes: Changes, window: Window) -> float:
    """Third quartile of the ages (days) of the changes waiting for review at the window's
    end, by reviewstats' definition (:func:`waiting_ages`, latest patch set)."""
    return _quantile(waiting_ages(changes, window.end), 75)


@pattern(needs_reviews=True)
def patch_sets_per_change(changes: Changes, window: Window) -> float:
    """Patch sets uploaded in the window over the changes with an upload in the window
    (reviewstats' definition: 83 patch sets a day over ≈20 changes a day = 4.1 in Nov 2013)."""
    uploads = changes.uploads[window.holds(changes.uploads["time"])]
    n_changes = uploads["change"].nunique()
    return float(len(uploads)) / n_changes if n_changes else math.nan


@pattern(needs_reviews=True)
def reviews_per_day(changes: Changes, window: Window) -> float:
    """Review votes cast in the window, per day (every reviewer)."""
    return float(window.holds(changes.votes["time"]).sum()) / window.days


@pattern(needs_reviews=True)
def reviews_per_active_reviewer_day(changes: Changes, window: Window) -> float:
    """Review votes cast in the window per reviewer who voted in it, per day (a history
    knows only the reviewers who voted; the model's ``reviews_per_reviewer_day`` divides by
    every reviewer it employs, so the two differ where some reviewers never vote)."""
    votes = changes.votes[window.holds(changes.votes["time"])]
    n_reviewers = votes["reviewer"].nunique()
    return float(len(votes)) / n_reviewers / window.days if n_reviewers else math.nan


# ---------------------------------------------------------------- evaluation
def compute(
    changes: Changes, window: Window, names: list[str] | tuple[str, ...] | None = None
) -> dict[str, float]:
    """Every pattern (or those named) over ``window``; a pattern the source cannot give
    (:func:`available`) is ``nan``."""
    out = {}
    for name in names or PATTERNS:
        if name not in PATTERNS:
            raise KeyError(f"unknown pattern {name!r}; valid: {', '.join(PATTERNS)}")
        if not available(changes, name):
            out[name] = math.nan
        else:
            out[name] = PATTERNS[name](changes, window)
    return out


def per_area(changes: Changes, window: Window) -> pd.DataFrame:
    """Per code area: changes landed in the window and their lead-time median (days)."""
    landed = _landed_in(changes, window)
    lead = landed["landed"] - landed["created"]
    grouped = lead.groupby(landed["area"])
    return pd.DataFrame({"landed": grouped.size(), "lead_time_p50": grouped.median()}).sort_values(
        "landed", ascending=False
    )


def co_change(changes: Changes, window: Window) -> pd.DataFrame:
    """Co-change coupling between areas: for each pair of areas (a < b), the share of the
    changes landed in the window that touch both (from ``touched`` rows; a change touches
    its own area and those its ``touched`` rows name)."""
    landed = _landed_in(changes, window)
    own = pd.DataFrame({"change": landed.index, "area": landed["area"].to_numpy()})
    extra = changes.touched[changes.touched["change"].isin(landed.index)]
    pairs = pd.concat([own, extra], ignore_index=True).drop_duplicates()
    pairs = pairs[pairs["area"] != ""]
    joined = pairs.merge(pairs, on="change")
    joined = joined[joined["area_x"] < joined["area_y"]]
    counts = joined.groupby(["area_x", "area_y"]).size()
    share = counts / max(len(landed), 1)
    return (
        share.rename("share")
        .reset_index()
        .rename(columns={"area_x": "area_a", "area_y": "area_b"})
        .sort_values("share", ascending=False, ignore_index=True)
    )
