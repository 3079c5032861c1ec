"""Team topologies: pure functions returning networkx graphs.

Each node is a team (integer id); each edge is an internal API link, a contract between the
two teams at its ends (seed: "an Internal API is a contract between two teams"). Node
attributes tell the model how the organisation works:

``kind``
    ``"core"`` (the one team of :func:`single_core`), ``"peer"`` (a team of :func:`flat`),
    ``"top"``, ``"maintainer"`` (drivers-core or a sub-maintainer) or ``"leaf"`` (a driver).
``parent``
    The team whose tree this team's tree is merged into (``None`` for the root, whose tree
    is the mainline). Integration runs leaf → maintainer → top along these parents.
``areas``
    Number of code areas the team owns (``n`` for the single core, 1 otherwise).
``has_contributors``
    Whether contributors submit changes to this team's area. Maintainer teams of a
    hierarchy only review, negotiate and integrate, so every topology with ``n`` teams
    carries the same demand: ``n`` areas of contributors.

``graph.graph["root"]`` is the root team. No function here does I/O or imports Mesa.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

TOPOLOGIES = ("single_core", "flat", "hierarchical", "modular")
DEFAULT_MODULAR_BRANCHING = 4


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n_teams={n!r} is invalid: must be an integer >= 1")


def single_core(n: int) -> nx.Graph:
    """One core review team over ``n`` code areas; no API links between teams.

    The code is still split in ``n`` areas (drivers) with their contributors, but a single
    team reviews everything (seed: "a single integration point").
    """
    _check_n(n)
    graph = nx.Graph(root=0, name=f"single_core({n})")
    graph.add_node(0, kind="core", parent=None, areas=int(n), has_contributors=True, depth=0)
    return graph


def flat(n: int) -> nx.Graph:
    """``n`` peer teams with every pair linked: n(n-1)/2 API links.

    The seed's star/all-to-all split ("everything touches everything else"). Team 0's tree
    is the mainline and every other team's tree is merged straight into it.
    """
    _check_n(n)
    graph = nx.complete_graph(int(n))
    graph.graph.update(root=0, name=f"flat({n})")
    for node in graph.nodes:
        graph.nodes[node].update(
            kind="peer",
            parent=None if node == 0 else 0,
            areas=1,
            has_contributors=True,
            depth=0 if node == 0 else 1,
        )
    return graph


def _maintainer_tree(n: int, branching: int) -> tuple[nx.Graph, list[int]]:
    """A tree of fan-out ``branching`` over ``n`` leaves; returns it and its leaves in order.

    Leaves are grouped ``branching`` at a time under a maintainer, maintainers likewise,
    until one root remains: depth ceil(log_k n). With n = 1 the single leaf is the root.
    Node ids are assigned top-down (root 0) so that parents have smaller ids than children.
    """
    sizes = [n]
    while sizes[-1] > 1:
        sizes.append(-(-sizes[-1] // branching))  # ceil division: maintainers one level up
    sizes.reverse()  # sizes[0] == 1 is the root level
    graph = nx.Graph(root=0)
    first_id = [sum(sizes[:depth]) for depth in range(len(sizes))]
    leaf_depth = len(sizes) - 1
    for depth, size in enumerate(sizes):
        kind = "leaf" if depth == leaf_depth else ("top" if depth == 0 else "maintainer")
        for pos in range(size):
            node = first_id[depth] + pos
            parent = None if depth == 0 else first_id[depth - 1] + pos // branching
            graph.add_node(
                node,
                kind=kind,
                parent=parent,
                areas=1,
                has_contributors=depth == leaf_depth,
                depth=depth,
            )
            if parent is not None:
                graph.add_edge(parent, node)
    leaves = list(range(first_id[leaf_depth], first_id[leaf_depth] + n))
    return graph, leaves


def hierarchical(n: int, branching: int | None = None) -> nx.Graph:
    """The seed's drivers-core hierarchy, or a maintainer tree of fan-out ``branching``.

    With ``branching=None``: top (nova core) ↔ drivers-core ↔ each of ``n`` drivers, i.e.
    ``n + 2`` teams and ``n + 1`` links (seed: "Separating individual drivers from driver
    core gives you one link per driver"). With ``branching=k >= 2``: a Linux-style
    maintainer tree of fan-out ``k`` over ``n`` leaf teams, depth ceil(log_k n).
    """
    _check_n(n)
    if branching is None:
        graph = nx.Graph(root=0, name=f"hierarchical({n})")
        graph.add_node(0, kind="top", parent=None, areas=1, has_contributors=False, depth=0)
        graph.add_node(1, kind="maintainer", parent=0, areas=1, has_contributors=False, depth=1)
        graph.add_edge(0, 1)
        for leaf in range(2, n + 2):
            graph.add_node(leaf, kind="leaf", parent=1, areas=1, has_contributors=True, depth=2)
            graph.add_edge(1, leaf)
        return graph
    if isinstance(branching, bool) or not isinstance(branching, int | np.integer) or branching < 2:
        raise ValueError(f"branching={branching!r} is invalid: must be an integer >= 2 (or None)")
    graph, _ = _maintainer_tree(int(n), int(branching))
    graph.graph["name"] = f"hierarchical({n}, branching={branching})"
    return graph


def modular(
    n: int,
    *,
    branching: int = DEFAULT_MODULAR_BRANCHING,
    locality: float = 0.5,
    rng: np.random.Generator | int | None = None,
) -> nx.Graph:
    """A tunable family between a local hierarchy and all-to-all links.

    Start from :func:`hierarchical` ``(n, branching)`` and add a link between each pair of
    leaf teams with probability ``(1 - locality) ** h``, where ``h`` is the height of their
    lowest common maintainer above the leaves (1 for siblings). ``locality=1`` gives the
    pure tree (Θ(n) links), ``locality=0`` links every pair of leaves (Θ(n²)). In between,
    the expected number of links grows like n^(2 + log_k(1 - locality)) (clipped to [1, 2]),
    so sweeping ``locality`` varies the link exponent continuously.

    Parameters
    ----------
    n : number of leaf teams (code areas).
    branching : fan-out k >= 2 of the maintainer tree.
    locality : in [0, 1]; the higher, the more links stay inside a module.
    rng : numpy Generator or seed for the random links.
    """
    _check_n(n)
    if isinstance(branching, bool) or not isinstance(branching, int | np.integer) or branching < 2:
        raise ValueError(f"branching={branching!r} is invalid: must be an integer >= 2")
    if not 0.0 <= float(locality) <= 1.0:
        raise ValueError(f"locality={locality!r} is out of range: must be in [0, 1]")
    rng = np.random.default_rng(rng)
    graph, leaves = _maintainer_tree(int(n), int(branching))
    graph.graph["name"] = f"modular({n}, branching={branching}, locality={locality})"
    if n < 2 or locality >= 1.0:
        return graph
    i, j = np.triu_indices(n, k=1)
    height = np.ones_like(i)
    group_i, group_j = i // branching, j // branching
    while np.any(group_i != group_j):
        differ = group_i != group_j
        height[differ] += 1
        group_i, group_j = group_i // branching, group_j // branching
    prob = (1.0 - float(locality)) ** height
    draw = rng.random(prob.size) < prob
    leaf_ids = np.asarray(leaves)
    for a, b in zip(leaf_ids[i[draw]].tolist(), leaf_ids[j[draw]].tolist(), strict=True):
        if not graph.has_edge(a, b):
            graph.add_edge(a, b)
    return graph


def build_topology(
    name: str,
    n: int,
    *,
    branching: int | None = None,
    locality: float = 1.0,
    rng: np.random.Generator | int | None = None,
) -> nx.Graph:
    """Build the topology called ``name`` with ``n`` teams (areas).

    ``branching`` of 0 or None means "no maintainer tree" for ``hierarchical`` and the
    default fan-out of 4 for ``modular``. Raises ``ValueError`` listing valid names.
    """
    if branching == 0:
        branching = None
    if name == "single_core":
        return single_core(n)
    if name == "flat":
        return flat(n)
    if name == "hierarchical":
        return hierarchical(n, branching=branching)
    if name == "modular":
        return modular(
            n,
            branching=DEFAULT_MODULAR_BRANCHING if branching is None else branching,
            locality=locality,
            rng=rng,
        )
    raise ValueError(f"topology={name!r} is unknown: must be one of {', '.join(TOPOLOGIES)}")


def tree_depth(graph: nx.Graph) -> int:
    """Number of integration hops from the deepest team to the root."""
    return max((d for _, d in graph.nodes(data="depth")), default=0)


def expected_tree_depth(n: int, branching: int) -> int:
    """ceil(log_k n) computed exactly in integers (0 for n = 1)."""
    depth, reach = 0, 1
    while reach < n:
        reach *= branching
        depth += 1
    return depth


__all__ = [
    "TOPOLOGIES",
    "build_topology",
    "expected_tree_depth",
    "flat",
    "hierarchical",
    "modular",
    "single_core",
    "tree_depth",
]
