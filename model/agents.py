"""Agent classes: teams, contributors and reviewers. Behaviour lives in the model's mechanisms."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from model.work import Change, ConflictJob, Pull, ReviewTask


class Team(mesa.Agent):
    """A team: a node of the topology owning a tree (its branch of the code).

    Holds the team's FIFO review queue, its urgent queue (pulls and conflicts, served first),
    the changes merged into its tree but not yet pulled upward, and counts of arrivals by
    origin team (used to find which changes meet for the first time at a merge).
    """

    def __init__(self, model: mesa.Model, node: int, kind: str, parent: int | None) -> None:
        super().__init__(model)
        self.node = node
        self.kind = kind
        self.parent = parent
        self.reviewers: list[Reviewer] = []
        self.n_contributors = 0
        self.queue: deque[ReviewTask] = deque()
        self.urgent: deque[Pull | ConflictJob] = deque()
        self.idle: deque[Reviewer] = deque()
        self.tree: list[Change] = []
        self.tree_counts: dict[int, int] = {}

    @property
    def backlog(self) -> int:
        """Requests waiting in this team's queues (review tasks and integration jobs)."""
        return len(self.queue) + len(self.urgent)


class Contributor(mesa.Agent):
    """Submits changes to one code area as a Poisson process (see ``OrgModel.submit_change``)."""

    def __init__(self, model: mesa.Model, team: Team, area: int) -> None:
        super().__init__(model)
        self.team = team
        self.area = area


class Reviewer(mesa.Agent):
    """A maintainer / core member: serves its team's queues one job at a time.

    ``experts`` is the set of code areas the reviewer knows (single core), or ``None`` when
    the reviewer knows exactly its own team's area (split topologies).
    """

    def __init__(self, model: mesa.Model, team: Team, experts: frozenset[int] | None) -> None:
        super().__init__(model)
        self.team = team
        self.experts = experts
        self.busy = False
        self.busy_until = 0.0
        self.sync_debt = 0.0  # sync time owed, paid when the current job ends (days)
        self.free_from = 0.0  # busy keeping in sync until then (days)
        self.job: object = None
        self.job_kind = 0
