"""Merge conflicts: which pairs of changes meet, how many conflict, what finding one costs.

Assumption (documented in the paper): two changes can conflict only when they first meet in
one tree, and with probability ``conflict_prob × w`` if their teams share an API link of
badness ``w`` (``unlinked_conflict_prob`` otherwise). Each pair is drawn as an independent
Bernoulli trial; the functions below draw the binomial counts per link, which is the same
distribution without looping over pairs.
"""

from __future__ import annotations

import math

import numpy as np


def linked_pair_counts(
    unit_counts: dict[int, int],
    recent: np.ndarray,
    neighbours: list[np.ndarray],
    edge_ids: list[np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (unit change, recent change) whose origin teams are linked, per link.

    Parameters
    ----------
    unit_counts : changes in the integration unit, by origin team.
    recent : changes that reached the receiving tree since the unit's team last merged,
        indexed by origin team.
    neighbours, edge_ids : for each team, its neighbours and the ids of those links.

    Returns
    -------
    (edge ids, pair counts), both 1-D arrays of equal length.
    """
    ids, pairs = [], []
    for origin, count in unit_counts.items():
        nb = neighbours[origin]
        if nb.size == 0:
            continue
        ids.append(edge_ids[origin])
        pairs.append(count * recent[nb])
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(ids), np.concatenate(pairs).astype(np.int64)


def draw_conflicts(
    rng: np.random.Generator, pairs: np.ndarray, prob: np.ndarray | float
) -> np.ndarray:
    """Number of conflicting pairs for each entry of ``pairs`` (binomial draws)."""
    if pairs.size == 0:
        return np.zeros(0, dtype=np.int64)
    prob = np.minimum(prob, 1.0)
    return rng.binomial(pairs, prob)


def bisect_steps(unit_size: int) -> int:
    """Test merges a bisection needs to find the conflicting change among ``unit_size``.

    ceil(log2(unit_size)), at least 1: the bigger the integration unit, the longer it takes
    to find which change broke the merge (Dague: "the integration units get much bigger").
    """
    return max(1, math.ceil(math.log2(max(unit_size, 1))))
