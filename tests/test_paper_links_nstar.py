"""The paper's per-link pain step and N*'s spread over the plausible space, on synthetic
input whose answer is known (the build-level checks are in tests/test_paper.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from model import OrgModel
from model.work import JobKind
from sweeps.commands.figures import load_paper_build

build = load_paper_build()  # puts paper/ and paper/scripts/ on sys.path
import _common  # noqa: E402
import analysis  # noqa: E402
import link_pain  # noqa: E402

# ----------------------------------------------------------------------------- link pain


def test_top_share_takes_the_ceiling_of_a_tenth_of_the_values():
    assert analysis.top_share([10] + [1] * 9) == pytest.approx(10 / 19)
    # 11 values: the worst ⌈1.1⌉ = 2 of them
    assert analysis.top_share([5, 4] + [1] * 9) == pytest.approx(9 / 18)
    assert analysis.top_share([1] * 20) == pytest.approx(0.1)
    assert math.isnan(analysis.top_share([0, 0]))


def test_gini_is_zero_when_even_and_n_minus_1_over_n_when_one_holds_all():
    assert analysis.gini([2, 2, 2, 2]) == pytest.approx(0.0)
    assert analysis.gini([0, 0, 0, 7]) == pytest.approx(0.75)
    assert analysis.gini([1, 3]) == pytest.approx(0.25)


def test_worst_first_curve_starts_at_zero_and_reads_the_top_share():
    x, y = _common.worst_first_curve([1, 3])
    assert x.tolist() == [0, 0.5, 1] and y.tolist() == [0, 0.75, 1]
    x, y = _common.worst_first_curve([10] + [1] * 9)
    assert y[1] == pytest.approx(analysis.top_share([10] + [1] * 9))
    x, y = _common.worst_first_curve([0, 0, 0])
    assert np.allclose(x, y)


def _links(org: str, badness: np.ndarray, pain: np.ndarray, run: str) -> pd.DataFrame:
    n = len(badness)
    return pd.DataFrame(
        {
            "org": org,
            "n_teams": 16,
            "run_id": run,
            "link": np.arange(n),
            "badness": badness,
            "pain_events": pain.round(),
            "pain_days": pain,
        }
    )


def test_pain_that_follows_badness_is_as_concentrated_as_badness():
    rng = np.random.default_rng(1)
    frames = []
    for run in ("a", "b", "c"):
        bad = rng.lognormal(-0.5, 1.0, 200)
        frames.append(_links("flat", bad, 3.0 * bad, run))
        # pain on the worst link only: everything on the worst 10%
        frames.append(_links("modular", bad, np.where(bad == bad.max(), 5.0, 0.0), run))
    doc = analysis.link_pain_concentration(pd.concat(frames, ignore_index=True))
    flat, mod = doc["flat"], doc["modular"]
    assert flat["runs"] == 3 and flat["links"] == 200 and flat["n_teams"] == 16
    assert flat["top"]["pain_days"]["value"] == pytest.approx(flat["top"]["badness"]["value"])
    assert flat["gini"]["pain_days"]["value"] == pytest.approx(flat["gini"]["badness"]["value"])
    assert flat["pain_on_worst_badness"]["value"] == pytest.approx(flat["top"]["badness"]["value"])
    assert mod["top"]["pain_days"]["value"] == pytest.approx(1.0)
    assert mod["pain_on_worst_badness"]["value"] == pytest.approx(1.0)
    assert mod["gini"]["pain_days"]["value"] == pytest.approx(199 / 200)


def test_link_days_model_changes_nothing_and_books_every_negotiation_day_on_its_link():
    params = {"topology": "flat", "n_teams": 4, "warmup_days": 20}
    plain = OrgModel(**params, rng=3)
    plain.run_for(80)
    tracked = link_pain.LinkDaysModel(**params, rng=3)
    tracked.run_for(80)
    a, b = plain.metrics(), tracked.metrics()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])), k
    assert tracked.edge_negotiation_days.sum() == pytest.approx(tracked.cost[JobKind.NEGOTIATION])
    assert tracked.edge_negotiation_days.sum() > 0
    assert tracked.edge_conflict_days.sum() <= tracked.cost[JobKind.CONFLICT] + 1e-9
    assert (tracked.edge_negotiation_days[tracked.links.edge_negotiations == 0] == 0).all()


# ----------------------------------------------------------------------------- N* spread


def test_nstar_interpolation_is_linear_in_log_n():
    d_lo = np.array([1.0, 1.0, 0.0, -1.0, 1.0, np.nan])
    d_hi = np.array([-1.0, -3.0, -2.0, -2.0, 2.0, -1.0])
    got = analysis.nstar_interpolate(d_lo, d_hi, 8, 32)
    assert got[0] == pytest.approx(16.0)  # halfway in log N between 8 and 32
    assert got[1] == pytest.approx(8 * 4**0.25)
    assert got[2] == pytest.approx(8.0)  # equal at n_lo, lower at n_hi
    assert np.isnan(got[3:]).all()  # already lower, never lower, missing


def test_nstar_spread_recovers_known_crossings_and_censored_shares():
    """Differences exactly linear in log N: d(N) = s · log(N*/N) with known N* per point."""
    n_lo, n_hi = 8, 32
    true = np.array([9.0, 10.0, 12.0, 16.0, 20.0, 24.0, 30.0, 31.0])  # cross in between
    below = np.array([2.0, 4.0])  # split already lower at 8
    above = np.array([64.0, 100.0, 1000.0, 50.0])  # not yet lower at 32
    nstar = np.concatenate([true, below, above])
    slope = np.linspace(0.5, 3.0, nstar.size)
    core = np.full(nstar.size, 10.0)
    split_lo = core + slope * np.log(nstar / n_lo)
    split_hi = core + slope * np.log(nstar / n_hi)
    # one reversed point: lower at 8, not at 32
    core = np.append(core, 10.0)
    split_lo = np.append(split_lo, 9.0)
    split_hi = np.append(split_hi, 11.0)
    # one crossing whose core median is beyond the window at n_hi: not interpolable
    core_hi = np.append(core, np.nan)
    core_lo = np.append(core, 10.0)
    split_lo = np.append(split_lo, 12.0)
    split_hi = np.append(split_hi, 30.0)
    sp = analysis.nstar_spread(core_lo, split_lo, core_hi, split_hi, n_lo, n_hi)

    assert sp["n"] == 16
    interp = sp["interpolated"]
    assert interp["n"] == true.size
    assert interp["min"] == pytest.approx(true.min()) and interp["max"] == pytest.approx(31.0)
    for q in interp["quantiles"]:
        assert q["value"] == pytest.approx(np.quantile(true, q["q"]))
    c = sp["censored"]
    assert c["below"]["value"] == pytest.approx(2 / 16)
    assert c["above"]["value"] == pytest.approx(4 / 16)
    assert c["reversed"]["value"] == pytest.approx(1 / 16)
    assert c["not_interpolable"]["value"] == pytest.approx(1 / 16)
    # all 15 placed points: 2 below, 8 crossings, 5 above (4 above + 1 reversed)
    q = {round(100 * x["q"]): x for x in sp["quantiles"]}
    assert q[5]["censored"] == "<" and q[5]["value"] is None
    assert q[50]["censored"] is None and q[50]["value"] == pytest.approx(24.0)  # 8th of 15
    assert q[95]["censored"] == ">"
    assert q[25]["value"] == pytest.approx(10.0)  # the 4th of 15 (inverted CDF)


def test_nstar_spread_with_no_crossing_is_all_censored():
    core = np.full(5, 1.0)
    sp = analysis.nstar_spread(core, core + 1, core, core + 2, 8, 32)
    assert sp["interpolated"]["n"] == 0
    assert all(q["censored"] == ">" for q in sp["quantiles"])
    assert sp["censored"]["above"]["value"] == 1.0


def test_nstar_spread_text_shows_censored_quantiles_as_such():
    core = np.full(5, 1.0)
    sp = analysis.nstar_spread(core, core + 1, core, core + 2, 8, 32)
    text = build.nstar_spread_summary({"busy_per_change": sp}, 5)
    assert "median N\\* > 32 (5–95%: both > 32" in text and "> 32 or never at 100%" in text
    table = build.nstar_spread_table({"busy_per_change": sp})
    assert "| busy person-days per landed change | > 32 | > 32 |" in table


# ---------------------------------------------------------------- crossovers that noise makes


def _runs(means: dict[int, float], sd: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {"n_teams": n, "y": m + sd * rng.standard_normal()}
        for n, m in means.items()
        for _ in range(6)
    ]
    return pd.DataFrame(rows)


def test_a_crossing_the_replicates_resolve_is_kept_and_one_in_noise_is_not():
    ns = [2, 4, 8, 16, 32]
    core = _runs({n: 10.0 for n in ns}, 0.1, 1)
    crossing = _runs({n: 10.0 + (n - 6) for n in ns}, 0.1, 2)  # lower at 2, 4; higher above
    signs = analysis.resolved_signs(core, crossing, "y")
    assert signs == {2: -1, 4: -1, 8: 1, 16: 1, 32: 1}
    c = analysis.crossover(core, crossing, "y", ("test", False))
    assert c["nstar"] is not None and analysis._is_resolved(c, signs)

    same = _runs({n: 10.0 for n in ns}, 0.1, 3)  # the same curve, replicate noise only
    signs = analysis.resolved_signs(core, same, "y")
    fake = {"nstar": 6.0, "below": "core"}  # whatever crossing noise would produce
    assert not analysis._is_resolved(fake, signs)
    assert "no resolved crossover" in analysis._unresolved_reason(signs)
