"""Ways to split a project's areas into teams, and how much work would cross between them.

A grouping maps each area to a team name. :func:`top_directory` groups areas by their first
path component; :func:`cochange_communities` groups them by modularity communities of the
co-change graph (networkx), so areas changed together stay in one team;
:func:`cross_share` is the share of changes that would touch more than one team, which
becomes the split's ``link_change_prob``. Pure functions.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd

from observe.patterns import Changes, Window


def top_directory(areas: list[str]) -> dict[str, str]:
    """Each area's first path component (``nova/virt`` → ``nova``)."""
    return {area: area.split("/")[0] for area in areas}


def cochange_graph(areas: list[str], pairs: pd.DataFrame) -> nx.Graph:
    """Areas as nodes; an edge of weight ``share`` between two areas changed together."""
    graph = nx.Graph()
    graph.add_nodes_from(areas)
    for row in pairs.itertuples():
        if row.area_a in graph and row.area_b in graph and row.share > 0:
            graph.add_edge(row.area_a, row.area_b, weight=float(row.share))
    return graph


def cochange_communities(areas: list[str], pairs: pd.DataFrame) -> dict[str, str]:
    """Areas grouped by greedy modularity communities of the co-change graph (Clauset,
    Newman & Moore 2004, deterministic); each group is named after its busiest area
    (``areas`` is busiest first). Areas with no co-change form groups of one."""
    graph = cochange_graph(areas, pairs)
    if graph.number_of_edges() == 0:
        return {a: a for a in areas}
    communities = nx.community.greedy_modularity_communities(graph, weight="weight")
    rank = {a: i for i, a in enumerate(areas)}
    out = {}
    for community in communities:
        name = min(community, key=rank.__getitem__)
        for area in community:
            out[area] = name
    return {a: out.get(a, a) for a in areas}


def cross_share(changes: Changes, window: Window, grouping: dict[str, str]) -> float:
    """Share of the changes landed in ``window`` whose areas (own and ``touched``) fall in
    more than one group of ``grouping`` (areas it does not name are left out)."""
    table = changes.table
    landed = table[window.holds(table["landed"])]
    if not len(landed):
        return 0.0
    own = pd.DataFrame({"change": landed.index, "area": landed["area"].to_numpy()})
    extra = changes.touched[changes.touched["change"].isin(landed.index)]
    rows = pd.concat([own, extra], ignore_index=True)
    rows = rows[rows["area"] != ""]
    rows = rows[rows["area"].isin(list(grouping))]
    rows = rows.assign(group=rows["area"].map(grouping))
    groups = rows.groupby("change")["group"].nunique()
    return float((groups > 1).sum()) / len(landed)
