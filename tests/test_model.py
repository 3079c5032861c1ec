"""OrgModel: the parameter contract, determinism, mechanisms and direction checks."""

import inspect
import math

import mesa
import numpy as np
import pytest

from model import METRICS, PARAMETERS, OrgModel, defaults
from model.work import JobKind

REQUIRED_PARAMETERS = [
    *("topology", "n_teams", "contributors_per_team", "reviewers_per_team", "core_reviewers"),
    *("change_rate", "review_rate", "review_time_dist", "approvals_needed", "rework_prob"),
    *("link_change_prob", "api_change_rate", "sync_days_per_contact", "merge_interval_days"),
    *("ci_automation", "warmup_days", "branching", "locality"),
]
REQUIRED_METRICS = [
    *("links", "throughput", "lead_time_mean", "lead_time_p50", "lead_time_p95"),
    *("review_wait_mean", "integration_cost", "cost_coordination", "cost_negotiation"),
    *("cost_conflicts", "integration_cost_per_change", "backlog", "reviewer_utilization"),
    *("conflicts", "conflicts_caught_early"),
]


def run(days=365.0, **params):
    params.setdefault("rng", 1)
    org = OrgModel(**params)
    org.run_for(days)
    return org


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


def test_default_model_builds_and_advances_with_mesas_run_for():
    org = OrgModel()
    assert isinstance(org, mesa.Model)
    org.run_for(100)
    assert org.time == 100
    assert org.metrics()["throughput"] > 0


def test_signature_carries_every_parameter_keyword_only_with_the_documented_default():
    signature = inspect.signature(OrgModel.__init__)
    for name in REQUIRED_PARAMETERS:
        assert name in PARAMETERS
    for name, spec in PARAMETERS.items():
        param = signature.parameters[name]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        assert param.default == spec.default
    assert "rng" in signature.parameters


def test_every_parameter_is_stored_under_its_own_name():
    org = OrgModel(n_teams=5, change_rate=0.3)
    for name, value in defaults().items():
        expected = {"n_teams": 5, "change_rate": 0.3}.get(name, value)
        assert getattr(org, name) == expected


def test_metrics_is_a_flat_dict_of_floats_with_the_contracted_names():
    m = run(days=120, n_teams=4).metrics()
    for name in REQUIRED_METRICS:
        assert name in m
    assert list(m) == list(METRICS)
    assert all(isinstance(v, float) for v in m.values())


def test_step_advances_exactly_one_day():
    org = OrgModel(n_teams=3, rng=2)
    org.step()
    org.step()
    assert org.time == 2
    assert len(org.datacollector.get_model_vars_dataframe()) == 3  # day 0, 1, 2


def test_mesa_scheduled_events_still_run_in_time_order():
    org = OrgModel(n_teams=2, rng=2)
    seen = []

    class Probe:
        def fire(self):
            seen.append(org.time)

    probe = Probe()
    org.schedule_event(probe.fire, at=2.5)
    org.run_for(5)
    assert seen == [2.5]


def test_same_seed_gives_identical_metrics_and_another_seed_differs():
    for topology in ("single_core", "flat", "hierarchical", "modular"):
        a = run(days=200, topology=topology, n_teams=8, rng=42).metrics()
        b = run(days=200, topology=topology, n_teams=8, rng=42).metrics()
        c = run(days=200, topology=topology, n_teams=8, rng=43).metrics()
        assert same(a, b), topology
        assert not same(a, c), topology


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"topology": "star"}, r"topology='star' is invalid: must be one of 'single_core'"),
        ({"change_rate": -0.1}, r"change_rate=-0.1 is out of range: must be a number in \[0,"),
        ({"n_teams": 0}, r"n_teams=0 is out of range: must be an integer in \[1, "),
        ({"rework_prob": 1.5}, r"rework_prob=1.5 is out of range: must be a number in \[0, 0"),
        ({"link_change_prob": 2}, r"link_change_prob=2 is out of range: must be .* \[0, 1\]"),
        ({"n_teams": 2.5}, r"n_teams=2.5 is invalid: must be an integer"),
        ({"ci_automation": "yes"}, r"ci_automation='yes' is invalid: must be true or false"),
        (
            {"topology": "hierarchical", "reviewers_per_area": 1.0},
            r"staffing='equal_headcount' gives H=16 reviewers .* too few for 16 teams",
        ),
        ({"review_rate": 0}, r"review_rate=0 is out of range: must be a number in \(0, inf\)"),
    ],
)
def test_bad_input_raises_one_line_naming_the_parameter_and_its_range(params, message):
    with pytest.raises(ValueError, match=message) as err:
        OrgModel(**params)
    assert "\n" not in str(err.value)


def test_contributors_submit_at_their_poisson_rate():
    # 16 areas x 8 contributors x 0.1/day = 12.8 changes/day, all API changes off
    org = run(
        days=1000, topology="single_core", n_teams=16, api_change_rate=0.0, change_rate=0.1, rng=5
    )
    assert org.n_submitted / 1000 == pytest.approx(16 * 8 * 0.1, rel=0.03)


def test_rework_multiplies_patch_sets_as_two_independent_reviews_predict():
    org = OrgModel(
        topology="single_core",
        n_teams=2,
        core_reviewers=40,
        rework_prob=0.3,
        check_fail_prob=0.0,  # only core reviews ask for new patch sets
        patience_days=0.0,
        rng=3,
    )
    landed = []
    original = org.land_top

    def record(change):
        landed.append(change.patch_sets)
        original(change)

    org.land_top = record
    org.run_for(1500)
    # a patch set passes when both reviews approve: P = 0.7^2, so E[patch sets] = 1/0.49
    assert np.mean(landed) == pytest.approx(1 / 0.49, rel=0.05)


def test_single_core_reviewers_are_slower_outside_their_areas():
    def review_cost(slowdown):
        org = run(
            days=400,
            topology="single_core",
            staffing="fixed_core",
            review_routing="fifo",
            n_teams=40,
            core_reviewers=40,
            change_rate=0.02,
            nonexpert_slowdown=slowdown,
            rng=4,
        )
        return org.metrics()["cost_review"] / org.metrics()["throughput"]

    # with 2 expert areas of 40 most reviews are non-expert: cost per change ~ doubles
    assert review_cost(2.5) > 1.8 * review_cost(1.0)


def test_api_changes_are_negotiated_with_every_linked_team():
    org = run(
        days=400,
        topology="flat",
        n_teams=6,
        link_change_prob=0.0,
        contributors_per_team=0,
        api_change_rate=0.05,
        rng=9,
    )
    # only API changes exist; each needs agreement from the other 5 teams
    negotiations = org.links.edge_negotiations.sum()
    api_changes_measured = org.metrics()["throughput"] * (400 - 60)
    assert negotiations == pytest.approx(5 * api_changes_measured, rel=0.1)


def test_single_core_has_no_integration_step_and_hierarchy_pays_two_merge_hops():
    single = run(days=300, topology="single_core", n_teams=4).metrics()
    hier = run(days=300, topology="hierarchical", n_teams=4).metrics()
    assert single["cost_merges"] == 0 and single["conflicts"] == 0
    # leaf -> drivers-core -> top: each hop waits for the tree's next merge
    assert hier["lead_time_mean"] > 0.8 * OrgModel().merge_interval_days


def test_ci_automation_finds_most_conflicts_early():
    off = run(days=400, topology="flat", n_teams=12, ci_automation=False, rng=3).metrics()
    on = run(days=400, topology="flat", n_teams=12, ci_automation=True, rng=3).metrics()
    assert off["conflicts_caught_early"] == 0
    assert on["conflicts"] > 0
    assert on["conflicts_caught_early"] / on["conflicts"] > 0.6
    assert on["conflicts_late"] < off["conflicts_late"]


def test_costs_are_counted_from_jobs_that_actually_ran():
    org = run(days=300, topology="flat", n_teams=8)
    m = org.metrics()
    measured = 300 - 60
    kinds = (JobKind.SYNC, JobKind.NEGOTIATION, JobKind.CONFLICT, JobKind.PULL, JobKind.REBASE)
    assert m["integration_cost"] == pytest.approx(sum(org.cost[k] for k in kinds) / measured)
    assert 0 < m["reviewer_utilization"] <= 1


# ---------------------------------------------------------------- direction checks


def mean_metric(metric, seeds=(1, 2), **params):
    return float(np.mean([run(rng=s, **params).metrics()[metric] for s in seeds]))


@pytest.mark.slow
def test_integration_cost_grows_faster_under_flat_than_under_hierarchical():
    growth = {}
    for topology in ("flat", "hierarchical"):
        small = mean_metric("integration_cost", topology=topology, n_teams=4)
        large = mean_metric("integration_cost", topology=topology, n_teams=64)
        growth[topology] = large / small
    assert growth["flat"] > growth["hierarchical"]


@pytest.mark.slow
def test_single_core_lead_time_rises_steeply_with_n():
    lead = {
        n: mean_metric(
            "lead_time_mean",
            topology="single_core",
            staffing="fixed_core",
            review_routing="fifo",
            n_teams=n,
        )
        for n in (4, 16, 64)
    }
    assert lead[4] < lead[16] < lead[64]
    assert lead[64] > 10 * lead[4]


def test_fixing_the_worst_apis_gives_them_the_median_badness():
    plain = OrgModel(topology="flat", n_teams=12, rng=8)
    fixed = OrgModel(topology="flat", n_teams=12, fixed_link_share=0.1, rng=8)
    before, after = plain.links.edge_badness, fixed.links.edge_badness
    worst = np.argsort(before)[::-1][: round(0.1 * before.size)]
    assert np.all(after[worst] == pytest.approx(np.median(before)))
    others = np.setdiff1d(np.arange(before.size), worst)
    assert np.array_equal(after[others], before[others])


def test_conflicts_found_early_are_cheaper_to_resolve_than_late_ones():
    # early: one day's changes, fixed by the author's team; late: a whole pull, foreign fixer
    off = run(days=400, topology="flat", n_teams=8, conflict_prob=0.005, rng=2).metrics()
    on = run(
        days=400, topology="flat", n_teams=8, conflict_prob=0.005, ci_automation=True, rng=2
    ).metrics()
    assert on["conflict_days_mean"] < 0.7 * off["conflict_days_mean"]


def test_readme_tables_list_every_parameter_and_metric():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in [*PARAMETERS, *METRICS]:
        assert f"| `{name}` |" in readme, f"{name} missing from README (scripts/readme-tables)"
