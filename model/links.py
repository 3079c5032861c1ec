"""API links: contracts between teams, negotiated when a change touches them.

Seed: "an Internal API is a contract between two teams ... If someone wants to change this
API they have to negotiate between the two (or more) teams." Each link has an API badness
(lognormal, mean 1): a bad API is touched more often and conflicts more. A team's change
touches one of its links with ``link_change_prob`` × the mean badness of the team's links
(at most 1), that link chosen in proportion to badness; so a driver with one link to
drivers-core is in negotiation more often when that link is bad, and badness acts in
every topology with links. H5: the teams at the ends of the worst links can fix them
(``fixed_link_share``).

State. :class:`Links` (held by :class:`model.OrgModel` as ``model.links``) owns the links
(their index, badness and each team's neighbours) and the pain counted on each link
(negotiations held, conflicts found). It reads the model's clock (``now``), random
streams, event queue and teams; a new API change is admitted by the model (``admit``),
its patch set and the negotiation tasks go to review (``model.review``).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

from model.work import Change

if TYPE_CHECKING:
    from model.agents import Team
    from model.model import OrgModel
    from model.work import ReviewTask


class Links:
    """API links between teams: set-up, API changes and negotiation (see the module
    docstring).

    Links are numbered in sorted order of their (lower node, higher node) pairs:
    ``edges[i]`` is link i's pair, and every per-link array is in that order.

    Parameters
    ----------
    model : the :class:`model.OrgModel` whose clock, random streams (``rng`` for the
        badness, drawn here; ``random``), event queue, ``teams``, ``admit`` and ``review``
        it uses.
    graph : the topology (team nodes and their links).
    api_badness_sigma : sigma of the lognormal badness of a link's API (mean 1).
    fixed_link_share : share of the worst links fixed to the median badness (H5).
    link_change_prob : probability that a change touches one of its team's links, per
        unit of the mean badness of those links (at most 1).
    conflict_prob : probability that changes of two linked teams conflict, per unit of
        their link's badness (on top of the code's coupling, :mod:`model.coupling`).
    api_change_rate : API changes a linked team makes per day.
    warmup_days : negotiations held from then on are counted (days).
    """

    def __init__(
        self,
        model: OrgModel,
        graph: nx.Graph,
        *,
        api_badness_sigma: float,
        fixed_link_share: float,
        link_change_prob: float,
        conflict_prob: float,
        api_change_rate: float,
        warmup_days: float,
    ) -> None:
        self.model = model
        self.api_change_rate = api_change_rate
        self.warmup_days = warmup_days
        n_nodes = graph.number_of_nodes()
        edges = sorted((min(a, b), max(a, b)) for a, b in graph.edges)
        self.edges = np.array(edges, dtype=np.int64).reshape(-1, 2)
        self.edge_index = {pair: i for i, pair in enumerate(edges)}
        sigma = api_badness_sigma
        # lognormal with mean 1: a typical link has badness ~1, a few are much worse
        self.edge_badness = model.rng.lognormal(-sigma * sigma / 2, sigma, len(edges))
        self._fix_worst_links(fixed_link_share)
        # pain on each link after warm-up: negotiations held, conflicts found
        self.edge_negotiations = np.zeros(len(edges), dtype=np.int64)
        self.edge_conflicts = np.zeros(len(edges), dtype=np.int64)
        # by team node: its neighbours, its links (ids) and their cumulative badness
        self.neighbours: list[np.ndarray] = []
        self.incident: list[np.ndarray] = []
        self._touch_cumweight: list[list[float]] = []
        for node in range(n_nodes):
            nb = sorted(graph.neighbors(node))
            ids = [self.edge_index[(min(node, b), max(node, b))] for b in nb]
            self.neighbours.append(np.array(nb, dtype=np.int64))
            self.incident.append(np.array(ids, dtype=np.int64))
            self._touch_cumweight.append(np.cumsum(self.edge_badness[ids]).tolist())
        # a bad API is in the way more often: a team's change touches one of its links with
        # link_change_prob × the mean badness of its links (at most 1), so badness and fixed
        # links act in every topology with links, a team of one link (a driver) included
        self.touch_prob = [
            min(1.0, link_change_prob * float(self.edge_badness[ids].mean())) if ids.size else 0.0
            for ids in self.incident
        ]
        #: (nodes, nodes) probability that changes of two linked teams conflict
        #: (``conflict_prob`` × the link's badness; 0 for teams with no link)
        self.conflict_probs = np.zeros((n_nodes, n_nodes))
        if self.edges.size:
            a, b = self.edges[:, 0], self.edges[:, 1]
            p = np.minimum(conflict_prob * self.edge_badness, 1.0)
            self.conflict_probs[a, b] = p
            self.conflict_probs[b, a] = p

    def _fix_worst_links(self, fixed_link_share: float) -> None:
        """H5: the teams at the ends of the most painful APIs fix them.

        The ``fixed_link_share`` of links with the highest badness get the median link's
        badness (seed: "The greater the link pain ... the greater the pressure on the teams
        either end to fix it").
        """
        n_fixed = round(fixed_link_share * self.edge_badness.size)
        if n_fixed == 0:
            return
        worst = np.argsort(self.edge_badness, kind="stable")[::-1][:n_fixed]
        self.edge_badness[worst] = np.median(self.edge_badness)

    def edge_of(self, a: int, b: int) -> int:
        """Index of the link between teams ``a`` and ``b``."""
        return self.edge_index[(min(a, b), max(a, b))]

    def count_conflict(self, edge: int) -> None:
        """A conflict was found on link ``edge`` after warm-up (link pain)."""
        self.edge_conflicts[edge] += 1

    def start(self) -> None:
        """Schedule the first API change of every team with a link."""
        if self.api_change_rate <= 0:
            return
        model = self.model
        for team in model.teams:
            if self.neighbours[team.node].size:
                model.events.push(
                    model.random.expovariate(self.api_change_rate), self.change_api, team
                )

    def change_api(self, team: Team) -> None:
        """A team changes its own API (``api_change_rate`` per day per linked team).

        The change needs agreement from every linked team, so the work per API change
        follows the team's degree in the graph.
        """
        model = self.model
        now = model.now
        change = Change(team.node, team.area, now, is_api=True)
        model.admit(change)
        self.touch_links(change, team, all_links=True)
        model.review.submit_patch_set(change)
        delay = model.random.expovariate(self.api_change_rate)
        model.events.push(now + delay, self.change_api, team)

    def touch_links(self, change: Change, team: Team, *, all_links: bool) -> None:
        """Ask the team at the other end of one (or every) API link of ``team`` to agree.

        Each agreement is a negotiation task in that team's queue, served by its reviewers
        at ``cross_team_factor`` times the review time (cross-team work, Herbsleb & Mockus).
        One link is chosen in proportion to its badness.
        """
        neighbours = self.neighbours[team.node]
        if neighbours.size == 0:
            return
        model = self.model
        edges = self.incident[team.node]
        if all_links:
            picks = range(neighbours.size)
        else:
            cum = self._touch_cumweight[team.node]
            picks = (bisect.bisect_right(cum, model.random.random() * cum[-1]),)
        teams = model.teams
        for i in picks:
            change.pending_agreements += 1
            model.review.enqueue_negotiation(teams[int(neighbours[i])], change, int(edges[i]))

    def finish_negotiation(self, task: ReviewTask) -> None:
        """The other end agrees to the change on its link (link pain is counted)."""
        change = task.change
        if change.abandoned:
            return
        change.pending_agreements -= 1
        if self.model.now >= self.warmup_days:
            self.edge_negotiations[task.edge] += 1
        self.model.review.try_merge(change)
