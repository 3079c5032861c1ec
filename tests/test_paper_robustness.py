"""The paper's robustness shares over the plausible space: rows of one Saltelli base point
are one cluster, and the share's interval is a cluster bootstrap over base points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sweeps.commands.figures import load_paper_build
from sweeps.design import sample_points
from sweeps.spec import Sample

load_paper_build()  # puts paper/ on sys.path
import analysis  # noqa: E402

RANGES = (
    ("sync_days_per_contact", 0.0, 0.02),
    ("coupling_same_area_prob", 0.005, 0.08),
    ("merge_interval_days", 1.0, 14.0),
    ("rework_days", 0.5, 3.0),
)


@pytest.mark.parametrize("second_order", [False, True])
def test_saltelli_rows_come_in_one_block_per_base_point(second_order):
    """Each block of D + 2 (2D + 2) consecutive rows is A, AB_1 … AB_D, [BA_1 … BA_D,] B of
    one base point: AB_j is A with column j from B (and BA_j is B with column j from A)."""
    sample = Sample("sobol", 8, RANGES, seed=3, second_order=second_order)
    names = [r[0] for r in RANGES]
    rows = np.array([[p[k] for k in names] for p in sample_points(sample)])
    clusters = analysis.sample_clusters(sample)
    d = len(names)
    block = 2 * d + 2 if second_order else d + 2
    assert len(rows) == 8 * block and len(clusters) == len(rows)
    assert list(clusters) == [i // block for i in range(len(rows))]
    for b in range(8):
        rows_b = rows[clusters == b]
        a, bb = rows_b[0], rows_b[-1]
        assert not np.isclose(a, bb).any()  # A and B differ in every column
        for j in range(d):
            ab = rows_b[1 + j]
            assert ab[j] == bb[j] and all(ab[k] == a[k] for k in range(d) if k != j)
            if second_order:
                ba = rows_b[1 + d + j]
                assert ba[j] == a[j] and all(ba[k] == bb[k] for k in range(d) if k != j)


def test_lhs_rows_are_their_own_clusters():
    sample = Sample("lhs", 10, RANGES, seed=1)
    assert list(analysis.sample_clusters(sample)) == list(range(10))


def wilson_width(k, n):
    lo, hi = analysis._wilson(k, n)
    return hi - lo


def test_perfectly_correlated_clusters_give_the_interval_of_the_cluster_count():
    """16 base points of 28 rows, the flag the same in every row of a base point and set in
    4 of them: the rows carry only 16 observations, so the interval is about Wilson's for 4
    of 16, several times wider than Wilson's for the 112 of 448 rows taken as independent."""
    clusters = np.repeat(np.arange(16), 28)
    flags = np.repeat((np.arange(16) < 4).astype(float), 28)
    s = analysis.share(flags, clusters, key=("t",))
    rowwise = analysis.share(flags)
    assert s["value"] == pytest.approx(0.25) and s["n"] == 448 and s["clusters"] == 16
    width = s["high"] - s["low"]
    assert width == pytest.approx(wilson_width(4, 16), rel=0.25)
    assert width > 3 * (rowwise["high"] - rowwise["low"])
    assert rowwise["high"] - rowwise["low"] == pytest.approx(wilson_width(112, 448))


def test_independent_rows_within_clusters_give_a_row_wise_interval():
    rng = np.random.default_rng(0)
    clusters = np.repeat(np.arange(16), 28)
    flags = (rng.random(448) < 0.25).astype(float)
    s = analysis.share(flags, clusters, key=("t",))
    assert s["high"] - s["low"] == pytest.approx(wilson_width(int(flags.sum()), 448), rel=0.35)


def test_a_share_no_base_point_varies_gets_wilsons_interval_over_base_points():
    clusters = np.repeat(np.arange(16), 28)
    s = analysis.share(np.zeros(448), clusters)
    assert s["value"] == 0 and s["low"] == pytest.approx(0, abs=1e-12)
    assert s["high"] == pytest.approx(analysis._wilson(0, 16)[1])
    # NaN flags are left out, with their clusters
    flags = np.where(clusters < 8, np.nan, 1.0)
    s = analysis.share(flags, clusters)
    assert s["value"] == 1 and s["clusters"] == 8 and s["n"] == 224


# ----------------------------------------------------------------------------- H5 on links


def link_table(org, follows, runs=3, links=300, seed=0):
    """Per-link rows as paper/link_pain.py writes them: pain follows badness or not."""
    rng = np.random.default_rng(seed)
    frames = []
    for r in range(runs):
        bad = rng.lognormal(0.0, 0.8, links)
        pain = (bad if follows else rng.lognormal(0.0, 0.8, links)) * rng.lognormal(0, 0.5, links)
        frames.append(
            pd.DataFrame(
                {
                    "org": org,
                    "n_teams": 8,
                    "run_id": f"{org}-{r}",
                    "badness": bad,
                    "pain_days": pain,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_h5_from_link_rows_supports_pain_on_bad_links_only():
    links = pd.concat([link_table("flat", True), link_table("modular", False, seed=1)])
    follows = analysis.link_rank_correlation(links, "flat")
    independent = analysis.link_rank_correlation(links, "modular")
    assert follows.n == 3 and independent.n == 3
    assert analysis.vd.h5(follows).status == analysis.vd.SUPPORTED
    assert analysis.vd.h5(independent).status == analysis.vd.NOT_SUPPORTED
