"""Run identity and seeds: stable, order-free, and common across points unless asked otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from model import defaults
from sweeps.design import design_tasks, run_id, run_seed
from sweeps.runner import run_one
from sweeps.spec import parse_spec

HEADER = 'name = "t"\nroot_seed = 11\nreplicates = 3\ndays = 90\n[fixed]\nwarmup_days = 30\n'


def tasks_of(text: str) -> dict[tuple, object]:
    spec = parse_spec(text)
    return {(t.params["topology"], t.params["n_teams"], t.replicate): t for t in design_tasks(spec)}


def test_adding_a_grid_value_leaves_existing_run_ids_and_seeds_unchanged():
    before = tasks_of(HEADER + '[grid]\ntopology = ["flat"]\nn_teams = [2, 4]\n')
    after = tasks_of(
        HEADER
        + '[[grid]]\ntopology = ["flat"]\nn_teams = [2, 3, 4]\n'
        + '[[grid]]\ntopology = ["hierarchical"]\nn_teams = [4]\n'
    )
    assert len(after) == len(before) + 2 * 3  # flat N=3 and hierarchical N=4, 3 replicates
    for key, task in before.items():
        assert after[key].run_id == task.run_id
        assert after[key].seed == task.seed


def test_common_random_numbers_give_replicate_r_one_seed_at_every_point():
    tasks = tasks_of(HEADER + '[grid]\ntopology = ["flat", "modular"]\nn_teams = [2, 4]\n')
    for r in range(3):
        seeds = {t.seed for (_, _, rep), t in tasks.items() if rep == r}
        assert len(seeds) == 1
    assert len({t.seed for t in tasks.values()}) == 3


def test_without_common_random_numbers_every_run_has_its_own_stable_seed():
    text = HEADER.replace("days = 90", "days = 90\ncommon_random_numbers = false")
    text += '[grid]\ntopology = ["flat", "modular"]\nn_teams = [2, 4]\n'
    tasks = tasks_of(text)
    assert len({t.seed for t in tasks.values()}) == len(tasks)
    assert tasks_of(text) == tasks
    crn = tasks_of(HEADER + '[grid]\ntopology = ["flat", "modular"]\nn_teams = [2, 4]\n')
    assert all(crn[k].run_id != t.run_id for k, t in tasks.items())  # the seed is in the id


def test_seeds_are_non_negative_int64_and_derived_from_seed_sequence():
    params = defaults()
    seed = run_seed(11, 2, params)
    assert 0 <= seed < 2**63
    expected = np.random.SeedSequence(11, spawn_key=(2,)).generate_state(1, np.uint64)[0] >> 1
    assert seed == int(expected)


@pytest.mark.parametrize(
    "change",
    [
        {"replicate": 1},
        {"root_seed": 12},
        {"days": 91.0},
        {"params": {**defaults(), "n_teams": 17}},
        {"params": {**defaults(), "ci_automation": True}},
    ],
)
def test_run_id_changes_with_each_part_of_the_identity(change):
    base = {"params": defaults(), "replicate": 0, "root_seed": 11, "days": 90.0, "seed": 5}
    assert len(run_id(**base)) == 16
    assert run_id(**{**base, **change}) != run_id(**base)


def test_run_id_does_not_depend_on_parameter_order():
    params = defaults()
    reordered = dict(reversed(list(params.items())))
    assert run_id(params, 0, 1, 90.0, 5) == run_id(reordered, 0, 1, 90.0, 5)


# Results folders are resumed and extended by run id, so a run's id and seed may never
# change: these were computed when run ids were defined as the sha256 of
# canonical_json({"days", "params", "replicate", "root_seed", "seed"}).
PINNED_PARAMS = {
    "topology": "flat",
    "n_teams": 8,
    "change_rate": 0.1299,
    "ci_automation": True,
    "tags": [1, 2.5, "x"],
    "tiny": 1e-07,
    "big": 12345678901234,
    "neg": -0.5,
}


def test_run_ids_and_seeds_are_those_of_every_earlier_version():
    common = run_seed(20140911, 3, PINNED_PARAMS)
    own = run_seed(20140911, 3, PINNED_PARAMS, common=False)
    assert (common, own) == (2116884584423603631, 6112245441224883927)
    assert run_id(PINNED_PARAMS, 3, 20140911, 365.0, common) == "31ed5a983fbfddb4"
    assert run_id(PINNED_PARAMS, 0, 7, 2, own) == "cd17b6216d2dea58"


@pytest.mark.parametrize("crn", [True, False])
def test_a_design_gives_each_run_the_id_and_seed_of_its_definition(crn):
    spec = parse_spec(
        f"common_random_numbers = {str(crn).lower()}\n"
        + HEADER
        + '[grid]\ntopology = ["flat", "hierarchical"]\nn_teams = [2, 4]\n'
    )
    tasks = design_tasks(spec)
    assert len(tasks) == 12
    for t in tasks:
        assert t.seed == run_seed(spec.root_seed, t.replicate, t.params, common=crn)
        assert t.run_id == run_id(t.params, t.replicate, spec.root_seed, spec.days, t.seed)


def test_run_one_is_a_pure_function_of_params_seed_and_days():
    (task, *_) = design_tasks(parse_spec(HEADER + '[grid]\ntopology = ["flat"]\nn_teams = [4]\n'))
    first = run_one(task.params, task.seed, task.days)
    again = run_one(task.params, task.seed, task.days)
    assert first == pytest.approx(again, nan_ok=True)
    assert first["throughput"] > 0
