"""Agent classes: teams, contributors and reviewers. Behaviour lives in the model's mechanisms."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from model.work import ConflictJob, Pull, ReviewTask


class Team(mesa.Agent):
    """A team: a node of the topology owning a tree (its branch of the code).

    Holds what several mechanisms share and the view shows: the team's review queue (and
    one queue per code area when reviewers route by expertise over several areas; served
    by :mod:`model.review`, which negotiations of :mod:`model.links` join), its urgent
    queue (pulls and conflicts from :mod:`model.integration`, taking turns with the review
    queue) and its idle reviewers. What one mechanism alone needs about a team's tree is
    that mechanism's: the changes merged into it and not yet pulled upward
    (:class:`model.integration.Integration`), its open changes, which a landing change can
    make stale (:class:`model.coupling.Coupling`), its gate (:class:`model.gate.Gates`).
    ``area`` is the team's code area (−1 for the single core and maintainer teams).
    """

    def __init__(
        self, model: mesa.Model, node: int, kind: str, parent: int | None, area: int
    ) -> None:
        super().__init__(model)
        self.node = node
        self.kind = kind
        self.parent = parent
        self.area = area
        self.reviewers: list[Reviewer] = []
        self.n_contributors = 0
        self.approval_slots = 1
        self.queue: deque[ReviewTask] = deque()
        self.area_queues: dict[int, deque[ReviewTask]] | None = None
        self.urgent: deque[Pull | ConflictJob] = deque()
        self.urgent_turn = True  # integration jobs and reviews take turns (pick_work)
        self.idle: deque[tuple[int, Reviewer]] = deque()  # (token, reviewer), see set_idle
        self.idle_experts: dict[int, deque[tuple[int, Reviewer]]] | None = None
        self.busy_days = 0.0  # reviewer-days booked after warm-up

    @property
    def backlog(self) -> int:
        """Requests waiting in this team's queues (review tasks and integration jobs)."""
        return sum(not t.closed for t in self.queue) + len(self.urgent)


class Contributor(mesa.Agent):
    """Submits changes to one code area as a Poisson process
    (:meth:`model.review.Review.submit_change`)."""

    def __init__(self, model: mesa.Model, team: Team, area: int) -> None:
        super().__init__(model)
        self.team = team
        self.area = area


class Reviewer(mesa.Agent):
    """A maintainer / core member: serves its team's queues one job at a time.

    ``experts`` is the set of code areas the reviewer knows (single core), or ``None`` when
    the reviewer knows everything its team reviews (split topologies).
    """

    def __init__(self, model: mesa.Model, team: Team, experts: frozenset[int] | None) -> None:
        super().__init__(model)
        self.team = team
        self.experts = experts
        self.busy = False
        self.busy_until = 0.0
        self.free_from = 0.0  # busy keeping in sync until then (days; in its review hours)
        self.job: object = None
        self.job_kind = 0
        self.is_idle = False
        self.idle_token = 0  # entries in the idle queues with another token are stale
        self.active = True  # False once the reviewer has left its team (staffing 'earned')
