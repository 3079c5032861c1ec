"""Staffing: how many reviewers each team of an organisation has (pure functions).

Two policies (parameter ``staffing``):

``fixed_core``
    The question as the seed asks it: the single core keeps ``core_reviewers`` people
    whatever N is; every split team with contributors has ``reviewers_per_team``.
``equal_headcount``
    The fair comparison: every topology over N areas has the same
    H = round(``reviewers_per_area`` × N) reviewers. The single core has all H in one team;
    a flat split spreads H equally over its N teams; a hierarchy staffs its maintainer teams
    first and spreads the rest equally over its leaves (earlier leaves get the remainder).

Under both policies a maintainer team (drivers-core, a sub-maintainer, the top) has
ceil(children / ``maintainer_span``) reviewers, at least one: it grows with the number of
teams whose trees it merges, as maintainer teams do, instead of staying at a fixed size
while its load grows with N.
"""

from __future__ import annotations

import math

import networkx as nx

STAFFING_POLICIES = ("equal_headcount", "fixed_core")


def maintainer_team_size(n_children: int, maintainer_span: int) -> int:
    """Reviewers of a maintainer team that merges ``n_children`` child trees (at least 1)."""
    return max(1, math.ceil(n_children / maintainer_span))


def total_headcount(n_areas: int, reviewers_per_area: float) -> int:
    """H, the reviewers every organisation over ``n_areas`` has under ``equal_headcount``."""
    return max(1, round(reviewers_per_area * n_areas))


def team_sizes(
    graph: nx.Graph,
    *,
    staffing: str,
    core_reviewers: int,
    reviewers_per_team: int,
    reviewers_per_area: float,
    maintainer_span: int,
) -> list[int]:
    """Reviewers of each team (indexed by node id) under the ``staffing`` policy.

    Raises ``ValueError`` when ``equal_headcount`` leaves fewer reviewers than the teams
    that need at least one (a hierarchy of N leaves needs N plus its maintainers).
    """
    if staffing not in STAFFING_POLICIES:
        raise ValueError(
            f"staffing={staffing!r} is unknown: must be one of {', '.join(STAFFING_POLICIES)}"
        )
    nodes = sorted(graph.nodes)
    n_areas = sum(graph.nodes[v]["areas"] for v in nodes if graph.nodes[v]["has_contributors"])
    children = dict.fromkeys(nodes, 0)
    for v in nodes:
        parent = graph.nodes[v]["parent"]
        if parent is not None:
            children[parent] += 1
    sizes = dict.fromkeys(nodes, 0)
    workers = [v for v in nodes if graph.nodes[v]["has_contributors"]]
    for v in nodes:
        if not graph.nodes[v]["has_contributors"]:
            sizes[v] = maintainer_team_size(children[v], maintainer_span)
    if staffing == "fixed_core":
        each = core_reviewers if graph.nodes[nodes[0]]["kind"] == "core" else reviewers_per_team
        for v in workers:
            sizes[v] = each
        return [sizes[v] for v in nodes]
    total = total_headcount(n_areas, reviewers_per_area)
    rest = total - sum(sizes.values())
    if rest < len(workers):
        raise ValueError(
            f"staffing='equal_headcount' gives H={total} reviewers "
            f"(reviewers_per_area={reviewers_per_area:g} × {n_areas} areas), too few for "
            f"{len(workers)} teams plus {sum(sizes.values())} maintainers: raise "
            "reviewers_per_area or maintainer_span"
        )
    base, extra = divmod(rest, len(workers))
    for i, v in enumerate(workers):
        sizes[v] = base + (1 if i < extra else 0)
    return [sizes[v] for v in nodes]
