"""The mechanisms of a fair model: staffing, routing, coordination from activity, code
coupling and rebases, merge cadence, abandonment, saturation, and three fixed bugs."""

import numpy as np
import pytest

from model import OrgModel
from model.metrics import kaplan_meier_median
from model.staffing import team_sizes
from model.topologies import build_topology
from model.work import Change, ConflictJob, Pull


def run(days=300.0, **params):
    params.setdefault("rng", 1)
    org = OrgModel(**params)
    org.run_for(days)
    return org


# ---------------------------------------------------------------- staffing


def test_metric_names_and_parameter_names_never_collide():
    # both are columns of one results table
    from model import METRICS, PARAMETERS

    assert not set(METRICS) & set(PARAMETERS)


@pytest.mark.parametrize("n", [2, 7, 16, 64])
def test_equal_headcount_gives_every_topology_the_same_reviewers(n):
    counts = {
        (topology, branching): OrgModel(
            topology=topology, n_teams=n, branching=branching, staffing="equal_headcount", rng=1
        ).n_reviewers
        for topology, branching in [
            ("single_core", 0),
            ("flat", 0),
            ("hierarchical", 0),
            ("hierarchical", 4),
            ("modular", 4),
        ]
    }
    assert set(counts.values()) == {round(3.0 * n)}


def test_maintainer_teams_grow_with_the_trees_they_merge():
    graph = build_topology("hierarchical", 40)
    sizes = team_sizes(
        graph,
        staffing="fixed_core",
        core_reviewers=17,
        reviewers_per_team=3,
        reviewers_per_area=3.0,
        maintainer_span=8,
    )
    assert sizes[0] == 1  # the top merges one tree: drivers-core's
    assert sizes[1] == 5  # drivers-core merges 40 drivers' trees, 8 per reviewer
    assert sizes[2:] == [3] * 40


def test_paid_reviewer_days_count_idle_time_too():
    org = run(topology="hierarchical", n_teams=8)
    m = org.metrics()
    assert m["paid_reviewer_days_per_change"] == pytest.approx(
        org.n_reviewers * (300 - org.warmup_days) / org.n_landed_contributions
    )
    busy_per_change = org.busy_days / org.n_landed
    assert m["paid_reviewer_days_per_change"] > busy_per_change


def test_api_changes_are_cost_not_landed_work():
    """A split's API changes land too, but per-change costs divide by contributions only."""
    org = run(topology="flat", n_teams=8, api_change_rate=0.2)
    m = org.metrics()
    api_landed = org.n_landed - org.n_landed_contributions
    assert api_landed > 10  # the flat split's API changes did land
    days = 300 - org.warmup_days
    assert m["paid_reviewer_days_per_change"] == pytest.approx(
        org.n_reviewers * days / org.n_landed_contributions
    )
    assert m["contributions_landed_per_day"] == pytest.approx(org.n_landed_contributions / days)
    assert m["contributions_landed_per_day"] < m["merged_per_day"]
    assert m["integration_cost_per_change"] == pytest.approx(
        m["integration_cost"] / m["contributions_landed_per_day"]
    )


# ---------------------------------------------------------------- routing


def test_expertise_routing_keeps_a_single_core_stable_where_fifo_saturates():
    params = dict(
        topology="single_core",
        staffing="fixed_core",
        core_reviewers=24,
        n_teams=12,
        expert_areas=3,  # six experts an area
        nonexpert_slowdown=4.0,
        review_rate=4.0,
        change_rate=0.1,
        check_fail_prob=0.0,
        patience_days=0.0,  # nobody gives up: a saturated queue grows
        review_share=1.0,  # routing alone: reviewers on duty around the clock (with short
        review_days_per_week=7,  # review hours spread over time zones, whoever is on duty
        days=400,  # reviews, expert or not)
        rng=5,
    )
    fifo = run(review_routing="fifo", **params).metrics()
    expert = run(review_routing="expertise", **params).metrics()
    assert fifo["saturated"] == 1.0
    assert expert["saturated"] == 0.0
    assert expert["lead_time_mean"] < 0.2 * fifo["lead_time_mean"]
    assert expert["expert_review_share"] > 0.6 > 0.3 > fifo["expert_review_share"]


def test_expert_share_is_near_one_when_every_area_has_an_expert_free():
    kw = dict(topology="single_core", n_teams=8, reviewers_per_area=6.0, expert_areas=4)
    m = run(review_share=1.0, review_days_per_week=7, **kw).metrics()
    assert m["expert_review_share"] > 0.95


def test_short_review_hours_leave_fewer_experts_on_duty():
    """With 3-hour review blocks spread over the day, an area's experts are on duty less
    often: whoever is on duty reviews, and the expert share falls."""
    kw = dict(topology="single_core", n_teams=8, reviewers_per_area=6.0, expert_areas=4)
    always = run(review_share=1.0, review_days_per_week=7, **kw).metrics()
    hours = run(review_share=0.125, review_days_per_week=5, **kw).metrics()
    assert hours["expert_review_share"] < always["expert_review_share"] - 0.05


# ---------------------------------------------------------------- coordination


def test_zero_arrivals_cost_nothing():
    m = run(topology="hierarchical", n_teams=8, change_rate=0.0, api_change_rate=0.0).metrics()
    for part in ("cost_coordination", "cost_negotiation", "cost_conflicts", "cost_merges"):
        assert m[part] == 0.0
    assert m["integration_cost"] == 0.0


def test_twice_the_load_costs_about_twice_the_sync():
    def sync(rate):
        return run(
            topology="single_core",
            staffing="fixed_core",
            n_teams=1,
            core_reviewers=5,
            approvals_needed=1,
            contributors_per_team=20,
            change_rate=rate,
            review_rate=8.0,  # capacity 40 reviews a day: neither load saturates
            check_fail_prob=0.0,
            patience_days=0.0,
            days=400,
            rng=2,
        ).metrics()["cost_coordination"]

    assert sync(1.0) / sync(0.5) == pytest.approx(2.0, rel=0.25)


def test_sync_per_job_grows_with_the_teammates_active_on_the_same_area():
    def sync_per_review(m):
        return m["cost_coordination"] / m["reviews_per_day"]

    kw = dict(topology="single_core", staffing="fixed_core", n_teams=1, approvals_needed=1)
    kw.update(contributors_per_team=20, change_rate=0.5, days=300, rng=3)
    small = run(core_reviewers=3, **kw).metrics()
    large = run(core_reviewers=12, **kw).metrics()
    assert sync_per_review(large) > 3 * sync_per_review(small)


# ---------------------------------------------------------------- coupling


def test_with_coupling_a_tree_of_drivers_has_conflicts_and_a_single_tree_has_rebases():
    coupling = dict(coupling_same_area_prob=0.05, coupling_sibling_prob=0.02, conflict_prob=0.0)
    drivers = run(topology="hierarchical", n_teams=16, **coupling).metrics()
    single = run(topology="single_core", n_teams=16, **coupling).metrics()
    assert drivers["conflicts"] > 20
    assert single["conflicts"] == 0
    assert single["cost_rebase"] > 0 and single["rebases_per_change"] > 0.02
    uncoupled = dict(coupling_same_area_prob=0.0, coupling_sibling_prob=0.0, conflict_prob=0.0)
    assert run(topology="hierarchical", n_teams=16, **uncoupled).metrics()["conflicts"] == 0
    assert run(topology="single_core", n_teams=16, **uncoupled).metrics()["cost_rebase"] == 0


def test_gate_failures_send_stale_changes_back():
    m = run(topology="single_core", n_teams=8, coupling_same_area_prob=0.3, gate_days=0.5)
    assert m.metrics()["gate_failures"] > 0
    assert (
        m.metrics()["patch_sets_per_landed_change"]
        > run(topology="single_core", n_teams=8, coupling_same_area_prob=0.0).metrics()[
            "patch_sets_per_landed_change"
        ]
    )


def test_ci_finds_hidden_coupling_conflicts_early_instead_of_losing_them():
    # no API-link conflicts at all: every conflict comes from code coupling
    kw = dict(
        topology="hierarchical",
        n_teams=16,
        conflict_prob=0.0,
        coupling_sibling_prob=0.004,  # below what saturates drivers-core without CI
        days=400,
    )
    totals = {}
    for ci in (False, True):
        runs = [run(ci_automation=ci, rng=s, **kw).metrics() for s in (1, 2, 3)]
        totals[ci] = np.mean([r["conflicts"] for r in runs])
        early = np.mean([r["conflicts_caught_early"] for r in runs])
    assert early > 0.6 * totals[True]
    assert totals[True] == pytest.approx(totals[False], rel=0.15)


# ---------------------------------------------------------------- bugs fixed


def test_changes_that_arrive_while_a_pull_is_handled_are_checked_against_it():
    org = OrgModel(
        topology="flat",
        n_teams=2,
        change_rate=0.0,
        api_change_rate=0.0,
        conflict_prob=0.0,
        coupling_sibling_prob=1.0,  # every pair of the two areas conflicts
        rng=1,
    )
    org.run_for(1)
    root, child = org.teams[0], org.teams[1]
    unit = Change(child.node, int(org.node_area[child.node]), 0.0)
    pull = Pull(child.node, [unit], {child.node: 1})
    reviewer = root.reviewers[0]
    org.integration.start_pull(reviewer, pull)
    assert pull.pending_conflicts == 0  # nothing had reached the mainline yet
    # meanwhile a change of the mainline's own area merges there
    org.integration.merge_home(Change(root.node, int(org.node_area[root.node]), org.now))
    pull.job_done = True
    org.integration.maybe_land_pull(root, pull)
    assert pull.pending_conflicts == 1
    assert unit.ended_at < 0  # held until the conflict is resolved


def test_ci_conflicts_are_fixed_by_either_team_not_always_the_lower_id():
    org = OrgModel(
        topology="flat",
        n_teams=2,
        ci_automation=True,
        ci_detection_prob=1.0,
        conflict_prob=0.5,
        coupling_sibling_prob=0.0,
        merge_interval_days=2.0,
        rng=4,
    )
    fixers = []
    original = org.integration.add_conflicts

    def record(team, pull, jobs):
        if pull is None:
            fixers.extend([team.node] * len(jobs))
        original(team, pull, jobs)

    org.integration.add_conflicts = record
    org.run_for(600)
    assert len(fixers) > 50
    assert 0.3 < np.mean(fixers) < 0.7


def test_early_conflicts_are_found_on_unlinked_pairs_too():
    org = OrgModel(
        topology="hierarchical",
        n_teams=8,
        ci_automation=True,
        conflict_prob=0.0,
        coupling_sibling_prob=0.05,
        rng=2,
    )
    org.run_for(200)
    assert org.metrics()["conflicts_caught_early"] > 0
    # the urgent queues hold pulls and conflict jobs; a conflict found early has no pull
    urgent = [j for t in org.teams for j in t.urgent]
    assert all(isinstance(j, Pull | ConflictJob) for j in urgent)
    assert all(
        j.pull is None or isinstance(j.pull, Pull) for j in urgent if isinstance(j, ConflictJob)
    )


# ---------------------------------------------------------------- cadence


def test_top_takes_pulls_only_in_its_merge_window():
    org = OrgModel(
        topology="hierarchical",
        n_teams=8,
        release_cycle_days=70.0,
        merge_window_days=14.0,
        rng=3,
    )
    starts = []
    original = org.integration.start_pull

    def record(reviewer, pull):
        if reviewer.team.node == org.root:
            starts.append(org.now)
        original(reviewer, pull)

    org.integration.start_pull = record
    org.run_for(365)
    assert len(starts) >= 4
    assert all((t % 70.0) < 14.0 for t in starts)
    m = org.metrics()
    assert m["tree_depth"] == 2
    assert m["top_conflicts_per_window_day"] >= 0


def test_trees_merge_on_their_own_phases():
    org = OrgModel(topology="hierarchical", n_teams=16, rng=1)
    times = []
    original = org.integration.pull_up

    def record(team):
        times.append(org.now)
        original(team)

    org.integration.pull_up = record
    org.run_for(30)
    assert len(set(np.round(times, 6))) > 10  # no organisation-wide epochs


def test_a_share_of_changes_goes_straight_to_the_top():
    m = run(topology="hierarchical", n_teams=16, top_direct_share=0.05, days=400).metrics()
    assert m["top_direct_landed_share"] == pytest.approx(0.05, abs=0.015)
    # without it only the top team's own API changes are homed in the mainline
    plain = run(topology="hierarchical", n_teams=16, api_change_rate=0.0).metrics()
    assert plain["top_direct_landed_share"] == 0


# ---------------------------------------------------------------- abandonment, saturation


def test_impatient_authors_abandon_waiting_changes():
    kw = dict(topology="single_core", staffing="fixed_core", core_reviewers=4, n_teams=8)
    patient = run(patience_days=0.0, **kw).metrics()
    impatient = run(patience_days=10.0, **kw).metrics()
    assert patient["abandoned_per_day"] == patient["rejected_per_day"]  # nobody gave up
    assert impatient["abandoned_per_day"] > 1.0
    assert impatient["saturated"] == 1.0 or impatient["max_team_utilization"] > 0.9
    assert impatient["backlog"] < patient["backlog"]
    assert impatient["landed_share"] < 0.9


def test_every_change_is_landed_abandoned_or_still_open():
    org = run(topology="hierarchical", n_teams=8, patience_days=20.0)
    assert org.n_submitted == org.n_landed_all + org.abandonment.n_abandoned_all + org.wip


def test_a_saturated_run_says_so_and_a_light_one_does_not():
    heavy = run(
        topology="single_core",
        staffing="fixed_core",
        core_reviewers=3,
        n_teams=16,
        patience_days=0.0,
    )
    light = run(topology="single_core", n_teams=4)
    assert heavy.metrics()["saturated"] == 1.0
    assert heavy.metrics()["backlog_slope"] > 1.0
    assert heavy.metrics()["lead_time_censored_share"] > 0.3
    assert light.metrics()["saturated"] == 0.0
    assert light.metrics()["lead_time_censored_share"] < 0.05


def test_kaplan_meier_median_counts_censored_changes():
    durations = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 10.0])
    assert kaplan_meier_median(durations, np.ones(6, dtype=bool)) == 3.0
    # the four longest never landed: the median is past every landing seen
    events = np.array([True, True, False, False, False, False])
    assert np.isnan(kaplan_meier_median(durations, events))
    assert kaplan_meier_median(np.array([1.0, 2.0, 5.0]), np.array([True, False, True])) == 5.0


def test_failed_checks_add_patch_sets_but_no_core_reviews():
    kw = dict(
        topology="single_core", n_teams=8, coupling_same_area_prob=0.0, patience_days=0.0, days=400
    )
    plain = run(check_fail_prob=0.0, **kw).metrics()
    checked = run(check_fail_prob=0.5, **kw).metrics()
    # each patch set passes the checks with probability 1/2: twice the patch sets ...
    assert checked["patch_sets_per_landed_change"] == pytest.approx(
        2 * plain["patch_sets_per_landed_change"], rel=0.1
    )
    # ... for about the same core reviews per landed change
    per_change = {
        k: m["reviews_per_day"] / m["throughput"] for k, m in [("p", plain), ("c", checked)]
    }
    assert per_change["c"] == pytest.approx(per_change["p"], rel=0.1)
