"""Units of work that flow through the organisation: changes, review tasks and jobs.

Plain ``__slots__`` classes, not Mesa agents: a run makes hundreds of thousands of them.
"""

from __future__ import annotations

from enum import IntEnum


class JobKind(IntEnum):
    """What a reviewer spends a stretch of time on (the cost accounts)."""

    REVIEW = 0  # reviewing a change of one's own team (not integration cost)
    NEGOTIATION = 1  # agreeing a change that touches one's API link (seed: "negotiate")
    SYNC = 2  # keeping in sync with teammates (Brooks)
    PULL = 3  # merging a child team's tree (integration)
    CONFLICT = 4  # finding and fixing a merge conflict
    REBASE = 5  # an author rebasing a change made stale by a coupled change (author time)


class Change:
    """One change from submission to landing in the top tree (or abandonment).

    ``origin`` is the team whose part of the code the change belongs to (its arrivals are
    counted under it at merges); ``area`` is its code area, 0..N−1, or −1 for a maintainer
    team's API change. ``home`` is the team that reviews it and first merges it: ``origin``,
    except for changes sent straight to the top (``top_direct_share``).
    ``difficulty`` scales its odds of failing checks and of rework
    (:mod:`model.difficulty`; 1 for every change unless ``difficulty_sigma`` > 0).
    ``id`` numbers changes in order of submission; ``author`` is the contributor's
    ``unique_id`` (−1 for a team's API change). ``pending_agreements`` counts link
    negotiations still open; ``stale`` is set when a coupled change merged into the home
    tree first (a rebase is due); ``rebase_only`` marks a patch set made only by a rebase
    (no rework asked), whose review is booked as rebase cost. ``queued_days`` sums the
    days it waited for reviewers (until every approval slot of a patch set was taken) and
    in gate lines beyond one run: its congestion, as opposed to its service.
    """

    __slots__ = (
        "abandoned",
        "approved",
        "area",
        "author",
        "difficulty",
        "ended_at",
        "home",
        "home_at",
        "id",
        "in_home_tree",
        "is_api",
        "open_slot",
        "origin",
        "patch_sets",
        "pending_agreements",
        "queued_days",
        "rebase_only",
        "rejected",
        "stale",
        "submitted_at",
    )

    def __init__(
        self,
        origin: int,
        area: int,
        submitted_at: float,
        is_api: bool = False,
        home: int = -1,
        id: int = -1,
        author: int = -1,
    ) -> None:
        self.id = id  # numbered in order of submission (the event log's change id)
        self.author = author  # the contributor's unique_id (−1: a team's API change)
        self.origin = origin
        self.area = area
        self.home = origin if home < 0 else home
        self.submitted_at = submitted_at
        self.is_api = is_api
        self.approved = False
        self.pending_agreements = 0
        self.patch_sets = 1
        self.stale = False
        self.rebase_only = False
        self.home_at = -1.0  # when it merged into its home tree (its author's part ends)
        self.queued_days = 0.0  # days waited in review queues and gates (not in service)
        self.abandoned = False
        self.rejected = False  # abandoned because a review rejected it
        self.in_home_tree = False
        self.open_slot = -1
        self.ended_at = -1.0  # when it landed at the top or was abandoned (days)
        self.difficulty = 1.0  # how many rounds it tends to need (model.difficulty)


class ReviewTask:
    """A request in a team's review queue.

    A patch-set review needs ``slots`` distinct reviewers (``approvals_needed``, at most the
    team's size); a link negotiation needs one reviewer of the team at the other end of
    ``edge``. ``closed`` is set once every slot is taken (or the change is abandoned); queues
    drop closed tasks lazily. ``account`` is the cost account its reviewers' time is booked
    to: ``kind``, except the review of a patch set made only by a rebase (``REBASE``).
    """

    __slots__ = (
        "account",
        "change",
        "closed",
        "done",
        "edge",
        "enqueued_at",
        "kind",
        "rework",
        "slots",
        "takers",
    )

    def __init__(
        self, kind: JobKind, change: Change, slots: int, enqueued_at: float, edge: int = -1
    ) -> None:
        self.kind = kind
        self.account = kind
        self.change = change
        self.slots = slots
        self.enqueued_at = enqueued_at
        self.edge = edge
        self.takers: list[int] = []
        self.done = 0
        self.rework = False
        self.closed = False


class Pull:
    """A child team's tree offered to its parent for merging (an integration unit)."""

    __slots__ = (
        "changes",
        "checked",
        "checked_own",
        "child",
        "counts",
        "job_done",
        "pending_conflicts",
    )

    def __init__(self, child: int, changes: list[Change], counts: dict[int, int]) -> None:
        self.child = child
        self.changes = changes
        self.counts = counts  # changes per origin team
        self.job_done = False
        self.pending_conflicts = 0
        self.checked = None  # the receiving tree's arrivals the unit was checked against
        self.checked_own = None  # ... and of those, the ones from the same child tree


class ConflictJob:
    """A conflict to resolve: found while merging ``pull`` or by a daily test-merge."""

    __slots__ = ("edge", "foreign", "pull", "unit_size")

    def __init__(self, pull: Pull | None, unit_size: int, foreign: bool, edge: int) -> None:
        self.pull = pull
        self.unit_size = unit_size
        self.foreign = foreign
        self.edge = edge
