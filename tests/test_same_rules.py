"""The same rules for every team: one sync rule, costs booked where they belong, fair
integrators, no self-conflicts, kernel-only mechanisms only where they apply, link badness
wherever there are links."""

import numpy as np
import pytest

from model import OrgModel
from model.work import Change, JobKind, Pull, ReviewTask


def run(days=300.0, **params):
    params.setdefault("rng", 1)
    org = OrgModel(**params)
    org.run_for(days)
    return org


# ---------------------------------------------------------------- one sync rule

# (reviewer, day, area): who finishes a job on which code, and when
WORK = [(r, 0.1 * i, (r + i // 3) % 4) for i in range(60) for r in range(4)]


def sync_booked(org: OrgModel, team_node: int, job_on_area) -> float:
    """Sync days ``team_node``'s reviewers book for :data:`WORK`."""
    team = org.teams[team_node]
    for reviewer_index, day, area in WORK:
        org.now = day
        reviewer = team.reviewers[reviewer_index]
        org.coordination.after_job(reviewer, job_on_area(org, area))
    return org.cost[JobKind.SYNC]


def test_sync_cost_is_the_same_for_a_core_and_a_maintainer_team_doing_the_same_work():
    # a core of 4 reviewing four areas, and a drivers-core of 4 merging four drivers'
    # trees: the same people touching the same code at the same times pay the same sync
    common = dict(n_teams=4, sync_days_per_contact=0.01, sync_window_days=1.0, warmup_days=0)
    core = OrgModel(topology="single_core", staffing="fixed_core", core_reviewers=4, **common)
    hier = OrgModel(topology="hierarchical", maintainer_span=1, **common)
    drivers_core = next(t for t in hier.teams if t.kind == "maintainer")
    leaf_of_area = {int(hier.node_area[n]): n for n in range(len(hier.teams))}

    def review(org, area):
        return ReviewTask(JobKind.REVIEW, Change(0, area, 0.0), 1, 0.0)

    def pull(org, area):
        return Pull(leaf_of_area[area], [], {})

    as_core = sync_booked(core, 0, review)
    as_maintainer = sync_booked(hier, drivers_core.node, pull)
    assert len(core.teams[0].reviewers) == len(drivers_core.reviewers) == 4
    assert as_core > 0
    assert as_maintainer == pytest.approx(as_core)


def test_sync_cost_does_not_depend_on_what_a_team_is_called():
    common = dict(topology="hierarchical", n_teams=8, days=200.0)
    plain = run(**common)
    swapped = OrgModel(topology="hierarchical", n_teams=8, rng=1)
    kinds = [t.kind for t in swapped.teams]
    for team, kind in zip(swapped.teams, reversed(kinds), strict=True):
        team.kind = kind
    swapped.run_for(200.0)
    assert swapped.cost[JobKind.SYNC] == pytest.approx(plain.cost[JobKind.SYNC])


# ---------------------------------------------------------------- accounts


def test_reviews_of_rebased_patch_sets_are_booked_as_rebase_cost():
    org = run(topology="single_core", n_teams=8, coupling_same_area_prob=0.3, gate="none")
    rebase_days = org.cost[JobKind.REBASE]
    authors_days = org.rebase_days * org.coupling.n_rebases
    assert org.coupling.n_rebases > 50
    # the authors' rebase time, and the reviewers' time reviewing the rebased patch sets
    assert rebase_days > 1.5 * authors_days


# ---------------------------------------------------------------- a fair integrator


def test_a_busy_integrator_still_answers_negotiations():
    # drivers-core of one person, with more pulls and conflicts than it can handle
    org = run(
        topology="hierarchical",
        n_teams=16,
        maintainer_span=16,
        merge_interval_days=1.0,
        pull_days=0.3,
        link_change_prob=0.03,
        days=250.0,
    )
    m = org.metrics()
    drivers_core = next(t for t in org.teams if t.kind == "maintainer")
    assert m["max_team_utilization"] > 0.95 and m["busiest_team_kind"] == 3
    assert len(drivers_core.urgent) > 100
    # integration jobs and the review queue take turns: no negotiation is left waiting
    # behind the merges (served first, they would leave ~200 unanswered here)
    waiting = [
        task
        for task in drivers_core.queue
        if task.kind == JobKind.NEGOTIATION and not task.closed and not task.change.abandoned
    ]
    assert len(waiting) <= 5


# ---------------------------------------------------------------- no self-conflicts


def test_units_of_one_child_tree_never_conflict_with_each_other():
    # only changes to the same area conflict, and each driver is one area: every pair
    # that can conflict at drivers-core or at the top comes from the same child tree
    org = run(
        topology="hierarchical",
        n_teams=8,
        coupling_same_area_prob=0.05,
        coupling_sibling_prob=0.0,
        conflict_prob=0.0,
        maintainer_span=4,  # two integrators, so two units of one child can be in hand
        merge_interval_days=1.0,
        pull_days=0.5,  # more pulls than they can handle: units of one child overlap
        pull_days_per_change=0.02,
        link_change_prob=0.0,
        days=250.0,
    )
    assert org.metrics()["pull_size_mean"] > 1
    assert org.coupling.n_rebases > 0  # the coupling acts inside each driver's tree
    assert org.integration.n_conflicts == 0


# ---------------------------------------------------------------- kernel-only mechanisms


@pytest.mark.parametrize("topology", ["flat", "single_core"])
def test_top_direct_share_acts_only_in_a_hierarchy(topology):
    plain = run(topology=topology, n_teams=8, days=150.0).metrics()
    direct = run(topology=topology, n_teams=8, top_direct_share=0.5, days=150.0).metrics()
    assert direct == pytest.approx(plain, nan_ok=True)


def test_top_direct_share_still_sends_changes_to_a_hierarchys_top():
    m = run(topology="hierarchical", n_teams=8, top_direct_share=0.2, days=150.0).metrics()
    assert m["top_direct_landed_share"] == pytest.approx(0.2, abs=0.05)


# ---------------------------------------------------------------- links everywhere


def negotiations_held(**params) -> float:
    held = [run(rng=seed, **params).links.edge_negotiations.sum() for seed in (1, 2)]
    return float(np.mean(held))


def test_fixing_the_worst_links_cuts_negotiations_in_the_seeds_hierarchy():
    # each driver has one link (to drivers-core): a bad one is in the way more often
    common = dict(topology="hierarchical", n_teams=32, api_change_rate=0.0, days=200.0)
    fixed = negotiations_held(fixed_link_share=0.5, **common)
    assert fixed < 0.75 * negotiations_held(**common)


def test_link_badness_spreads_link_pain_in_the_seeds_hierarchy():
    common = dict(topology="hierarchical", n_teams=32, api_change_rate=0.0, days=200.0)
    even = run(api_badness_sigma=0.0, **common).metrics()["link_pain_gini"]
    spread = run(api_badness_sigma=1.5, **common).metrics()["link_pain_gini"]
    assert spread > even + 0.2
