"""Queueing oracles: the review queue against M/M/c theory and Little's law.

One team, c reviewers, Poisson arrivals, exponential reviews, one approval, no rework, no
links, no coordination overhead: the review queue is an M/M/c queue, and its mean wait
before service must match Erlang C.
"""

import math

import numpy as np
import pytest

from model import OrgModel, mmc_parameters


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait before service Wq of an M/M/c queue (days)."""
    a = arrival_rate / service_rate
    rho = a / servers
    assert rho < 1
    top = a**servers / math.factorial(servers) * servers / (servers - a)
    bottom = sum(a**k / math.factorial(k) for k in range(servers)) + top
    return (top / bottom) / (servers * service_rate - arrival_rate)


def mmc_model(arrival_rate, service_rate, servers, seed, **extra):
    return OrgModel(**mmc_parameters(arrival_rate, service_rate, servers), rng=seed, **extra)


def test_erlang_c_helper_matches_the_m_m_1_values():
    # M/M/1: Wq * mu = rho / (1 - rho) = 4 at rho = 0.8
    assert erlang_c_wait(0.8, 1.0, 1) == pytest.approx(4.0)


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_review_wait_matches_erlang_c(rho):
    servers, service_rate = 3, 1.0
    arrival_rate = rho * servers * service_rate
    # at rho = 0.8 the mean wait converges slowly: 6 seeds x 40,000 days keep the standard
    # error of the estimate near 2%
    waits = []
    for seed in range(1, 7):
        org = mmc_model(arrival_rate, service_rate, servers, seed, warmup_days=200.0)
        org.run_for(40_200)
        waits.append(org.metrics()["review_wait_mean"])
    expected = erlang_c_wait(arrival_rate, service_rate, servers)
    assert np.mean(waits) == pytest.approx(expected, rel=0.05)


def test_littles_law_holds_for_the_review_queue():
    org = mmc_model(2.4, 1.0, 3, seed=5, warmup_days=100.0)
    org.run_for(5_100)
    m = org.metrics()
    assert m["wip_mean"] == pytest.approx(m["throughput"] * m["lead_time_mean"], rel=0.03)


@pytest.mark.parametrize("topology", ["hierarchical", "flat"])
def test_littles_law_holds_for_a_whole_organisation(topology):
    # rejected changes leave without landing (like abandoned ones, rarer at the defaults):
    # with reject_prob off, the changes that land carry the time spent in the system
    org = OrgModel(topology=topology, n_teams=8, reject_prob=0.0, rng=3)
    org.run_for(1_500)
    m = org.metrics()
    assert m["wip_mean"] == pytest.approx(m["throughput"] * m["lead_time_mean"], rel=0.05)


def test_two_parallel_reviews_take_one_and_a_half_review_times():
    # with reviewers always free, waiting for both of 2 parallel Exp(mu) reviews takes H_2/mu
    org = OrgModel(
        topology="single_core",
        n_teams=1,
        contributors_per_team=4,
        change_rate=0.5,
        staffing="fixed_core",
        core_reviewers=60,
        expert_areas=1,
        review_rate=2.0,
        approvals_needed=2,
        rework_prob=0.0,
        sync_days_per_contact=0.0,
        coupling_same_area_prob=0.0,
        check_fail_prob=0.0,
        patience_days=0.0,
        gate=False,
        approval_order="parallel",  # the two reviews start together
        review_share=1.0,  # reviewers available around the clock
        review_days_per_week=7,
        reject_prob=0.0,
        rng=7,
    )
    org.run_for(4_000)
    assert org.metrics()["lead_time_mean"] == pytest.approx(1.5 / 2.0, rel=0.05)
