"""Topologies: exact link counts, tree shape, and the tunable modular family."""

import networkx as nx
import numpy as np
import pytest

from model.topologies import (
    build_topology,
    expected_tree_depth,
    flat,
    hierarchical,
    modular,
    single_core,
    tree_depth,
)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 256])
def test_single_core_is_one_team_over_n_areas_with_no_links(n):
    graph = single_core(n)
    assert graph.number_of_nodes() == 1
    assert graph.number_of_edges() == 0
    assert graph.nodes[0]["areas"] == n


@pytest.mark.parametrize("n", [1, 2, 3, 10, 64, 256])
def test_flat_split_has_n_choose_2_links(n):
    assert flat(n).number_of_edges() == n * (n - 1) // 2


@pytest.mark.parametrize("n", [1, 2, 5, 64, 256])
def test_drivers_core_hierarchy_has_one_link_per_driver_plus_core_link(n):
    graph = hierarchical(n)
    assert graph.number_of_nodes() == n + 2
    assert graph.number_of_edges() == n + 1
    assert nx.is_tree(graph)
    drivers = [v for v, kind in graph.nodes(data="kind") if kind == "leaf"]
    assert len(drivers) == n
    assert all(graph.nodes[d]["parent"] == 1 for d in drivers)
    assert graph.nodes[1]["parent"] == 0


@pytest.mark.parametrize(
    ("n", "k", "nodes"),
    [
        (16, 4, 16 + 4 + 1),
        (5, 2, 5 + 3 + 2 + 1),
        (64, 8, 64 + 8 + 1),
        (1, 3, 1),
        (10, 3, 10 + 4 + 2 + 1),
    ],
)
def test_maintainer_tree_has_one_link_per_non_root_team(n, k, nodes):
    graph = hierarchical(n, branching=k)
    assert graph.number_of_nodes() == nodes
    assert graph.number_of_edges() == nodes - 1
    assert nx.is_tree(graph)
    assert tree_depth(graph) == expected_tree_depth(n, k)


@pytest.mark.parametrize(
    ("n", "k", "depth"), [(1, 2, 0), (2, 2, 1), (4, 4, 1), (5, 4, 2), (256, 4, 4), (257, 4, 5)]
)
def test_tree_depth_is_ceil_log_k_of_n(n, k, depth):
    assert expected_tree_depth(n, k) == depth
    assert tree_depth(hierarchical(n, branching=k)) == depth


def test_maintainer_tree_keeps_every_teams_links_bounded_by_fan_out():
    graph = hierarchical(1000, branching=4)
    assert max(d for _, d in graph.degree) <= 4 + 1


def test_parents_point_up_the_tree_towards_the_root():
    graphs = (
        flat(6),
        hierarchical(9),
        hierarchical(9, branching=2),
        modular(9, locality=0.3, rng=1),
    )
    for graph in graphs:
        root = graph.graph["root"]
        for node in graph.nodes:
            hops, current = 0, node
            while graph.nodes[current]["parent"] is not None:
                current = graph.nodes[current]["parent"]
                hops += 1
                assert hops <= graph.number_of_nodes()
            assert current == root


def test_modular_with_full_locality_is_the_maintainer_tree():
    tree = hierarchical(40, branching=4)
    local = modular(40, branching=4, locality=1.0, rng=3)
    assert sorted(local.edges) == sorted(tree.edges)


def test_modular_with_no_locality_links_every_pair_of_leaves():
    n = 20
    graph = modular(n, branching=4, locality=0.0, rng=3)
    tree_links = hierarchical(n, branching=4).number_of_edges()
    assert graph.number_of_edges() == tree_links + n * (n - 1) // 2


def test_modular_link_count_grows_between_linear_and_quadratic():
    def mean_links(n):
        graphs = [modular(n, branching=4, locality=0.5, rng=s) for s in range(5)]
        return np.mean([g.number_of_edges() for g in graphs])

    exponent = np.log(mean_links(256) / mean_links(64)) / np.log(4)
    # theory: 2 + log_4(0.5) = 1.5 (plus the linear tree)
    assert 1.2 < exponent < 1.8


def test_modular_is_reproducible_from_its_seed():
    a = modular(50, locality=0.4, rng=11)
    b = modular(50, locality=0.4, rng=11)
    c = modular(50, locality=0.4, rng=12)
    assert sorted(a.edges) == sorted(b.edges)
    assert sorted(a.edges) != sorted(c.edges)


def test_unknown_topology_names_the_valid_ones():
    with pytest.raises(ValueError, match="topology='star' is unknown: must be one of single_core"):
        build_topology("star", 4)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_team_count_is_rejected(bad):
    with pytest.raises(ValueError, match=r"n_teams=.* must be an integer >= 1"):
        flat(bad)


def test_bad_branching_and_locality_are_rejected():
    with pytest.raises(ValueError, match="branching=1 is invalid"):
        hierarchical(4, branching=1)
    with pytest.raises(ValueError, match=r"locality=1\.5 is out of range"):
        modular(4, locality=1.5)
