"""API links: contracts between teams, negotiated when a change touches them.

Seed: "an Internal API is a contract between two teams ... If someone wants to change this
API they have to negotiate between the two (or more) teams." Each link has an API badness
(lognormal, mean 1): a bad API is touched more often and conflicts more. A team's change
touches one of its links with ``link_change_prob`` × the mean badness of the team's links
(at most 1), that link chosen in proportion to badness; so a driver with one link to
drivers-core is in negotiation more often when that link is bad, and badness acts in
every topology with links. H5: the teams at the ends of the worst links can fix them
(``fixed_link_share``).
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import numpy as np

from model.work import Change, JobKind, ReviewTask

if TYPE_CHECKING:
    from model.agents import Team


class LinkMechanism:
    """Mixin for :class:`model.OrgModel`: link set-up, negotiation and API changes."""

    def build_links(self) -> None:
        """Index links, give each an API badness, and store per-team neighbour arrays."""
        n_nodes = self.graph.number_of_nodes()
        edges = sorted((min(a, b), max(a, b)) for a, b in self.graph.edges)
        self.edges = np.array(edges, dtype=np.int64).reshape(-1, 2)
        self.edge_index = {pair: i for i, pair in enumerate(edges)}
        sigma = self.api_badness_sigma
        # lognormal with mean 1: a typical link has badness ~1, a few are much worse
        self.edge_badness = self.rng.lognormal(-sigma * sigma / 2, sigma, len(edges))
        self.fix_worst_links()
        self.edge_negotiations = np.zeros(len(edges), dtype=np.int64)
        self.edge_conflicts = np.zeros(len(edges), dtype=np.int64)
        self.neighbours: list[np.ndarray] = []
        self.incident: list[np.ndarray] = []
        self._touch_cumweight: list[list[float]] = []
        for node in range(n_nodes):
            nb = sorted(self.graph.neighbors(node))
            ids = [self.edge_index[(min(node, b), max(node, b))] for b in nb]
            self.neighbours.append(np.array(nb, dtype=np.int64))
            self.incident.append(np.array(ids, dtype=np.int64))
            self._touch_cumweight.append(np.cumsum(self.edge_badness[ids]).tolist())
        # a bad API is in the way more often: a team's change touches one of its links with
        # link_change_prob × the mean badness of its links (at most 1), so badness and fixed
        # links act in every topology with links, a team of one link (a driver) included
        self.touch_prob = [
            min(1.0, self.link_change_prob * float(self.edge_badness[ids].mean()))
            if ids.size
            else 0.0
            for ids in self.incident
        ]

    def link_conflict_matrix(self) -> np.ndarray:
        """(nodes, nodes) probability that changes of two linked teams conflict
        (``conflict_prob`` × the link's badness; 0 for teams with no link)."""
        n_nodes = self.graph.number_of_nodes()
        prob = np.zeros((n_nodes, n_nodes))
        if self.edges.size:
            a, b = self.edges[:, 0], self.edges[:, 1]
            p = np.minimum(self.conflict_prob * self.edge_badness, 1.0)
            prob[a, b] = p
            prob[b, a] = p
        return prob

    def fix_worst_links(self) -> None:
        """H5: the teams at the ends of the most painful APIs fix them.

        The ``fixed_link_share`` of links with the highest badness get the median link's
        badness (seed: "The greater the link pain ... the greater the pressure on the teams
        either end to fix it").
        """
        n_fixed = round(self.fixed_link_share * self.edge_badness.size)
        if n_fixed == 0:
            return
        worst = np.argsort(self.edge_badness, kind="stable")[::-1][:n_fixed]
        self.edge_badness[worst] = np.median(self.edge_badness)

    def change_api(self, team: Team) -> None:
        """A team changes its own API (``api_change_rate`` per day per linked team).

        The change needs agreement from every linked team, so the work per API change
        follows the team's degree in the graph.
        """
        now = self.now
        change = Change(team.node, team.area, now, is_api=True)
        self.admit(change)
        self.touch_links(change, team, all_links=True)
        self.submit_patch_set(change)
        self.events.push(now + self.random.expovariate(self.api_change_rate), self.change_api, team)

    def touch_links(self, change: Change, team: Team, *, all_links: bool) -> None:
        """Ask the team at the other end of one (or every) API link of ``team`` to agree.

        Each agreement is a negotiation task in that team's queue, served by its reviewers
        at ``cross_team_factor`` times the review time (cross-team work, Herbsleb & Mockus).
        One link is chosen in proportion to its badness.
        """
        neighbours = self.neighbours[team.node]
        if neighbours.size == 0:
            return
        edges = self.incident[team.node]
        if all_links:
            picks = range(neighbours.size)
        else:
            cum = self._touch_cumweight[team.node]
            picks = (bisect.bisect_right(cum, self.random.random() * cum[-1]),)
        now = self.now
        for i in picks:
            change.pending_agreements += 1
            other = self.teams[int(neighbours[i])]
            task = ReviewTask(JobKind.NEGOTIATION, change, 1, now, int(edges[i]))
            other.queue.append(task)
            self.wake(other)

    def finish_negotiation(self, task: ReviewTask) -> None:
        """The other end agrees to the change on its link (link pain is counted)."""
        change = task.change
        if change.abandoned:
            return
        change.pending_agreements -= 1
        if self.measuring:
            self.edge_negotiations[task.edge] += 1
        self.try_merge(change)
