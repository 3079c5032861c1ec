"""Reviewers who earn trust (staffing = 'earned'), leave, and contributors who join;
expertise dealt by a stated rule; every change accounted for."""

import pytest

from model import OrgModel
from model.staffing import dealt_areas


def run(days, **params):
    params.setdefault("rng", 1)
    org = OrgModel(**params)
    org.run_for(days)
    return org


def core_sizes(org):
    return [size for _, node, size in org.staff.history if node == org.root]


# ---------------------------------------------------------------- expertise


def test_dealt_expertise_gives_every_area_the_same_number_of_experts_give_or_take_one():
    n_areas, k, m = 16, 2, 17
    counts = [0] * n_areas
    for i in range(m):
        for area in dealt_areas(i, k, n_areas):
            counts[area] += 1
    assert sum(counts) == m * k
    assert max(counts) - min(counts) <= 1


def test_too_few_experts_leave_areas_bare_and_the_run_says_so():
    kw = dict(topology="single_core", staffing="fixed_core", expert_areas=2, n_teams=64)
    few = run(30, core_reviewers=17, **kw).metrics()
    enough = run(30, core_reviewers=32, **kw).metrics()
    assert few["bare_areas"] == 64 - 2 * 17
    assert enough["bare_areas"] == 0


# ---------------------------------------------------------------- earned staffing


def test_zero_promotion_and_no_attrition_give_a_constant_core():
    org = run(
        400,
        topology="single_core",
        n_teams=8,
        staffing="earned",
        promotion_reviews=0,
        reviewer_attrition=0.0,
    )
    assert set(core_sizes(org)) == {24}
    assert org.metrics()["reviewer_promotions_per_year"] == 0


def test_zero_promotion_lets_attrition_shrink_a_team_to_its_floor_and_no_further():
    org = run(
        600,
        topology="flat",
        n_teams=4,
        staffing="earned",
        promotion_reviews=0,
        reviewer_attrition=5.0,  # everyone would leave within months
        approvals_needed=2,
    )
    assert [len(t.reviewers) for t in org.teams] == [2, 2, 2, 2]  # seed 3, two approvals
    assert org.n_reviewers == 8
    assert org.metrics()["reviewers_per_area_end"] == 2.0


def test_promoted_contributors_review_in_their_own_team_knowing_their_area():
    org = run(500, topology="single_core", n_teams=4, staffing="earned", promotion_reviews=3)
    core = org.teams[0]
    newest_contributor = max(org.staff.contributor)
    promoted = [r for r in core.reviewers if r.unique_id > newest_contributor]
    assert org.staff.promoted and promoted
    areas = {org.staff.contributor[uid].area for uid in org.staff.promoted}
    for reviewer in promoted:
        assert len(reviewer.experts) == org.expert_areas
        assert reviewer.experts & areas


@pytest.mark.slow
def test_a_splits_reviewers_keep_up_with_its_areas_and_one_cores_fall_behind():
    """At the same demand per area, a split team promotes from its own contributors and
    needs the trust of its own few reviewers; one core needs the trust of a share of the
    whole core, while a contributor's changes are approved by its area's few experts."""
    ends = {}
    for topology in ("single_core", "hierarchical"):
        for n in (4, 32):
            org = run(730, topology=topology, n_teams=n, staffing="earned", warmup_days=365.0)
            ends[topology, n] = org.metrics()["reviewers_per_area_end"]
    assert ends["hierarchical", 32] >= 0.8 * ends["hierarchical", 4]
    assert ends["single_core", 32] < 0.7 * ends["single_core", 4]
    assert ends["single_core", 32] < 0.7 * ends["hierarchical", 32]


def test_contributors_grow_by_the_yearly_share():
    org = run(
        730,
        topology="flat",
        n_teams=8,
        contributor_growth=0.5,
        change_rate=0.0,
        api_change_rate=0.0,
    )
    assert len(org.contributors) == pytest.approx(64 * 1.5**2, rel=0.15)
    assert sum(t.n_contributors for t in org.teams) == len(org.contributors)


# ---------------------------------------------------------------- rejection, conservation


def test_every_change_is_landed_abandoned_rejected_or_open_at_the_end():
    org = run(
        400,
        topology="single_core",
        n_teams=8,
        staffing="earned",
        contributor_growth=0.3,
        reject_prob=0.05,
        patience_days=30.0,
        warmup_days=0.0,
    )
    changes = org.measured_changes
    landed = sum(c.ended_at >= 0 and not c.abandoned for c in changes)
    rejected = sum(c.abandoned and c.rejected for c in changes)
    given_up = sum(c.abandoned and not c.rejected for c in changes)
    still_open = sum(c.ended_at < 0 for c in changes)
    assert len(changes) == org.n_changes_made == org.n_submitted
    assert landed + given_up + rejected + still_open == len(changes)
    assert (landed, rejected, still_open) == (
        org.n_landed_all,
        org.abandonment.n_rejected_all,
        org.wip,
    )
    assert given_up + rejected == org.abandonment.n_abandoned_all
    assert rejected > 0 and given_up > 0


def test_a_rejected_change_is_logged_as_abandoned_rejected_by_its_reviewer():
    org = OrgModel(topology="single_core", n_teams=4, reject_prob=0.2, rng=4, record_events=True)
    org.run_for(100)
    table = org.event_table().to_pandas().astype({"kind": str, "detail": str, "actor": str})
    rejected = table[(table.kind == "abandoned") & (table.detail == "rejected")]
    assert len(rejected) == org.abandonment.n_rejected_all > 0
    vetoes = table[(table.kind == "review_finished") & (table.detail == "-2")]
    assert set(rejected.change) <= set(vetoes.change)
    by_change = vetoes.groupby("change").actor.apply(set)
    assert all(row.actor in by_change[row.change] for row in rejected.itertuples())
    assert org.metrics()["rejected_per_day"] > 0


# ---------------------------------------------------------------- the parameter contract

NEW_PARAMETERS = (
    "promotion_reviews",
    "promotion_endorsements",
    "reviewer_attrition",
    "contributor_growth",
    "approval_order",
    "review_share",
    "review_days_per_week",
    "reject_prob",
)
NEW_METRICS = (
    "bare_areas",
    "reviewers_per_area_end",
    "reviewer_promotions_per_year",
    "reviewer_departures_per_year",
    "rejected_per_day",
)


def test_new_parameters_follow_the_contract_and_new_metrics_are_results_columns():
    from pathlib import Path

    from model import METRICS, PARAMETERS, describe
    from model.params import validate_params
    from sweeps.design import design_tasks
    from sweeps.one_run import make_row
    from sweeps.spec import parse_spec

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = describe()
    for name in NEW_PARAMETERS:
        assert name in PARAMETERS and f"`{name}`" in table and f"| `{name}` |" in readme
        with pytest.raises(ValueError, match=name):
            validate_params({name: -1})
    for name in NEW_METRICS:
        assert name in METRICS and f"| `{name}` |" in readme
    spec = parse_spec(
        """
        name = "earned"
        root_seed = 1
        replicates = 1
        days = 90
        [fixed]
        n_teams = 4
        staffing = "earned"
        approval_order = "parallel"
        review_share = 0.25
        review_days_per_week = 6
        reject_prob = 0.01
        promotion_reviews = 5
        promotion_endorsements = 0.5
        reviewer_attrition = 0.3
        contributor_growth = 0.1
        """
    )
    (task,) = design_tasks(spec)
    row = make_row(task, {"metrics": {}, "status": "ok", "error": None, "wall_s": 0.0})
    assert row["staffing"] == "earned" and row["review_share"] == 0.25
    assert set(NEW_PARAMETERS) | set(NEW_METRICS) <= set(row)


def test_rework_and_rejection_together_cannot_exceed_one():
    from model.params import validate_params

    with pytest.raises(ValueError, match="reject_prob"):
        validate_params({"rework_prob": 0.9, "reject_prob": 0.2})
