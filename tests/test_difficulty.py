"""Per-change difficulty (model/difficulty.py): trivial fixes and hard changes."""

import random

import numpy as np
import pytest

from model import OrgModel
from model.difficulty import Difficulty, odds
from model.params import validate_params


def test_odds_of_difficulty_one_are_the_base_probability():
    assert odds(0.3, 1.0) == 0.3
    assert odds(0.3, 2.0) == pytest.approx(1 - 0.7**2)
    assert odds(0.3, 0.0) == 0.0
    # harder changes fail more often, never beyond certainty
    values = [odds(0.3, d) for d in (0.1, 0.5, 1.0, 3.0, 30.0)]
    assert values == sorted(values)
    assert values[-1] < 1.0


def test_no_spread_draws_nothing_from_the_random_stream():
    stream = random.Random(7)
    before = stream.getstate()
    assert Difficulty(0.0, stream).draw() == 1.0
    assert stream.getstate() == before


def test_difficulty_is_lognormal_with_mean_one():
    sigma = 1.0
    stream = random.Random(3)
    difficulty = Difficulty(sigma, stream)
    draws = np.array([difficulty.draw() for _ in range(100_000)])
    assert draws.mean() == pytest.approx(1.0, abs=0.02)
    assert np.log(draws).std() == pytest.approx(sigma, abs=0.01)
    assert np.median(draws) == pytest.approx(np.exp(-(sigma**2) / 2), rel=0.02)


def test_a_negative_spread_is_refused_naming_the_parameter():
    with pytest.raises(ValueError, match="difficulty_sigma"):
        validate_params({"difficulty_sigma": -0.5})
    with pytest.raises(ValueError, match="difficulty_sigma"):
        Difficulty(float("nan"), random.Random(1))


def _patch_sets(difficulty_sigma: float) -> np.ndarray:
    org = OrgModel(difficulty_sigma=difficulty_sigma, rework_prob=0.3, rng=11)
    org.run_for(240.0)
    merged = [c.patch_sets for c in org.measured_changes if c.ended_at >= 0 and not c.abandoned]
    assert len(merged) > 500
    return np.array(merged)


def test_a_spread_of_difficulty_spreads_the_rounds_changes_need():
    alike, spread = _patch_sets(0.0), _patch_sets(2.0)
    # more changes pass in one patch set, and the hard tail needs more rounds
    assert (spread == 1).mean() > (alike == 1).mean() + 0.1
    assert np.quantile(spread, 0.99) > np.quantile(alike, 0.99)


def test_changes_keep_their_difficulty_and_every_one_is_drawn():
    org = OrgModel(difficulty_sigma=1.5, rng=5)
    org.run_for(120.0)
    drawn = np.array([c.difficulty for c in org.measured_changes if not c.is_api])
    assert len(drawn) > 200
    assert len(np.unique(drawn)) == len(drawn)  # one draw a change
    alike = OrgModel(rng=5)
    alike.run_for(120.0)
    assert {c.difficulty for c in alike.measured_changes} == {1.0}
