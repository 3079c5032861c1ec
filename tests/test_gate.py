"""The gate (model/gate.py): none, independent, serial (Zuul's dependent pipeline).

Oracles for the serial gate with flaky failures and no conflicts:

* throughput in saturation: a renewal argument. Every run starts with a full window of W
  changes; each fails spuriously with probability p, independently; the changes ahead of
  the first failure merge, so a run of ``gate_days`` D merges E = Σ_{i=1..W} (1 − p)^i =
  (1 − p)(1 − (1 − p)^W) / p changes, and the gate lands E / D changes a day.
* queue time: with W = 1 and p = 0 the gate is an M/D/1 queue (mean time in the gate
  D + ρD / (2(1 − ρ))); with flaky failures and W > 1, a brute-force simulation of the same
  dependent pipeline written out below (batches of up to W from the head of one line,
  first failure ejected to the back of the line, changes behind it back to the head).
"""

from collections import deque

import numpy as np
import pytest

from model import OrgModel
from model.gate import REFERENCE_AREAS, tree_flaky_prob


def gate_only(rate, *, window, flaky, gate_days=0.1, seed=1, **extra):
    """One tree of 16 areas (so its flaky probability is ``flaky``) whose review takes
    almost no time: approved changes reach the gate as a Poisson stream of ``rate`` a day."""
    params = dict(
        topology="single_core",
        n_teams=REFERENCE_AREAS,
        staffing="fixed_core",
        core_reviewers=400,
        expert_areas=REFERENCE_AREAS,
        contributors_per_team=4,
        change_rate=rate / (4 * REFERENCE_AREAS),
        review_rate=2000.0,
        approvals_needed=1,
        rework_prob=0.0,
        check_fail_prob=0.0,
        patience_days=0.0,
        link_change_prob=0.0,
        api_change_rate=0.0,
        sync_days_per_contact=0.0,
        coupling_same_area_prob=0.0,
        coupling_sibling_prob=0.0,
        gate="serial",
        gate_window=window,
        gate_flaky_prob=flaky,
        gate_days=gate_days,
        warmup_days=50.0,
        review_share=1.0,
        review_days_per_week=7,
        reject_prob=0.0,
        rng=seed,
    )
    params.update(extra)
    return OrgModel(**params)


def renewal_throughput(window: int, flaky: float, gate_days: float) -> float:
    """Changes a saturated dependent pipeline lands per day (see the module docstring)."""
    q = 1.0 - flaky
    return q * (1.0 - q**window) / flaky / gate_days


def brute_force_pipeline(rate, days, *, window, flaky, gate_days, warmup, seed):
    """Mean days in the gate of the changes merged after ``warmup``: Poisson arrivals into
    one line, tested in runs of up to ``window`` from its head."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / rate, int(rate * days * 1.2) + 100))
    arrivals = arrivals[arrivals < days]
    line: deque[float] = deque()
    nxt, t, spent = 0, 0.0, []
    while True:
        while nxt < arrivals.size and arrivals[nxt] <= t:
            line.append(arrivals[nxt])
            nxt += 1
        if not line:
            if nxt >= arrivals.size:
                break
            t = arrivals[nxt]  # an idle gate starts a run at the next arrival
            continue
        batch = [line.popleft() for _ in range(min(window, len(line)))]
        t += gate_days
        while nxt < arrivals.size and arrivals[nxt] <= t:  # arrived during the run
            line.append(arrivals[nxt])
            nxt += 1
        for i, entered in enumerate(batch):
            if rng.random() < flaky:
                line.append(entered)  # recheck at the back
                line.extendleft(reversed(batch[i + 1 :]))  # void results: tested again
                break
            if t >= warmup:
                spent.append(t - entered)
    return float(np.mean(spent))


def test_flaky_probability_grows_with_the_code_under_test():
    assert tree_flaky_prob(0.05, REFERENCE_AREAS) == pytest.approx(0.05)
    assert tree_flaky_prob(0.05, 64) == pytest.approx(1 - 0.95**4)
    assert tree_flaky_prob(0.05, 1) == pytest.approx(1 - 0.95 ** (1 / 16))
    assert tree_flaky_prob(0.0, 256) == 0.0
    assert tree_flaky_prob(0.5, 100_000) == 0.99  # a gate that never passes holds for ever


def test_each_tree_has_its_own_gate_sized_by_its_areas():
    core = OrgModel(topology="single_core", n_teams=64, rng=1)
    hier = OrgModel(topology="hierarchical", n_teams=64, rng=1)
    assert [t.flaky_prob for t in core.gates.trees] == [pytest.approx(1 - 0.95**4)]
    assert len(hier.gates.trees) == hier.graph.number_of_nodes()
    leaf = next(n for n, d in hier.graph.nodes(data=True) if d["kind"] == "leaf")
    assert hier.gates.trees[leaf].flaky_prob == pytest.approx(1 - 0.95 ** (1 / 16))
    # the mainline holds every area once the trees below are merged into it
    assert hier.gates.trees[hier.root].flaky_prob == pytest.approx(1 - 0.95**4)


def test_saturated_serial_gate_lands_what_the_renewal_model_of_a_pipeline_predicts():
    window, flaky, gate_days = 5, 0.2, 0.1
    expected = renewal_throughput(window, flaky, gate_days)  # 26.9 a day
    org = gate_only(1.6 * expected, window=window, flaky=flaky, gate_days=gate_days)
    org.run_for(350)
    m = org.metrics()
    assert m["throughput"] == pytest.approx(expected, rel=0.03)
    assert m["gate_resets_per_day"] > 0


def test_serial_gate_without_failures_and_a_window_of_one_is_an_m_d_1_queue():
    rate, gate_days = 7.0, 0.1
    rho = rate * gate_days
    spent = []
    for seed in range(1, 5):  # one seed's mean wanders by ±4% at rho = 0.7
        org = gate_only(rate, window=1, flaky=0.0, gate_days=gate_days, seed=seed)
        org.run_for(3_050)
        spent.append(np.mean(org.gates.queue_days))
    expected = gate_days + rho * gate_days / (2 * (1 - rho))  # 0.2167 days
    assert np.mean(spent) == pytest.approx(expected, rel=0.03)


def test_serial_gate_queue_time_matches_a_brute_force_dependent_pipeline():
    rate, window, flaky, gate_days = 18.0, 3, 0.15, 0.1
    org = gate_only(rate, window=window, flaky=flaky, gate_days=gate_days, seed=5)
    org.run_for(2_050)
    brute = np.mean(
        [
            brute_force_pipeline(
                rate, 2_050, window=window, flaky=flaky, gate_days=gate_days, warmup=50, seed=s
            )
            for s in (11, 12)
        ]
    )
    assert np.mean(org.gates.queue_days) == pytest.approx(brute, rel=0.06)
    assert org.metrics()["throughput"] == pytest.approx(rate, rel=0.03)


def test_every_gate_run_of_a_change_is_logged_once_and_passes_only_when_it_merges():
    org = gate_only(30.0, window=6, flaky=0.2, seed=2, warmup_days=0.0, record_events=True)
    org.run_for(40)
    gate = org.gates
    table = org.event_table().to_pydict()
    details = [d for k, d in zip(table["kind"], table["detail"], strict=True) if k == "gate"]
    assert details.count("pass") == len(gate.queue_days)
    assert details.count("fail") == (
        gate.n_conflict_failures + gate.n_flaky_failures + gate.n_retests
    )
    assert gate.n_retests > 0


def test_independent_gate_has_no_line_and_no_resets():
    org = gate_only(30.0, window=6, flaky=0.2, gate="independent", seed=2)
    org.run_for(150)
    m = org.metrics()
    assert m["gate_resets_per_day"] == 0
    # each change waits only for its own runs: a geometric number of them
    assert np.mean(org.gates.queue_days) == pytest.approx(0.1 / 0.8, rel=0.05)


def test_no_gate_merges_at_once():
    org = gate_only(30.0, window=6, flaky=0.2, gate="none", seed=2)
    org.run_for(100)
    m = org.metrics()
    assert org.gates.queue_days == []
    assert np.isnan(m["gate_queue_days_p50"])
    assert m["gate_flaky_failures"] == 0


def test_gate_accepts_the_spelling_before_gate_modes():
    assert OrgModel(gate=True).gate == "independent"
    assert OrgModel(gate=False).gate == "none"
    with pytest.raises(ValueError, match="gate"):
        OrgModel(gate="zuul")


@pytest.mark.parametrize("gate", ["serial", "independent"])
def test_every_change_is_landed_abandoned_or_open_with_a_gate(gate):
    for topology in ("single_core", "hierarchical"):
        org = OrgModel(topology=topology, n_teams=32, gate=gate, gate_flaky_prob=0.1, rng=4)
        org.run_for(150)
        gated = sum(len(t.line) + len(t.running) for t in org.gates.trees)
        assert org.n_submitted == org.n_landed_all + org.abandonment.n_abandoned_all + org.wip
        assert org.wip >= gated


def test_one_cores_landed_share_falls_at_large_n_with_a_serial_gate_a_hierarchys_does_not():
    def landed(topology, n, **extra):
        org = OrgModel(topology=topology, n_teams=n, rng=1, **extra)
        org.run_for(200)
        return org.metrics()["landed_share"]

    core_small, core_large = landed("single_core", 16), landed("single_core", 128)
    hier_small = landed("hierarchical", 16, ci_automation=True)
    hier_large = landed("hierarchical", 128, ci_automation=True)
    # one line for 128 areas: flaky failures (1 − 0.95^8 ≈ 34% a run) reset it constantly
    assert core_large < core_small - 0.4
    assert hier_large > hier_small - 0.05
    # the gate is the cause: one core with a gate of unlimited capacity keeps up
    assert landed("single_core", 128, gate="independent") > core_small - 0.05


def test_flaky_probability_without_growth_is_the_same_for_every_tree():
    assert tree_flaky_prob(0.05, 256, growth=0.0) == pytest.approx(0.05)
    assert tree_flaky_prob(0.05, 1, growth=0.0) == pytest.approx(0.05)
    assert tree_flaky_prob(0.05, 64, growth=0.5) == pytest.approx(1 - 0.95**2)
    org = OrgModel(topology="single_core", n_teams=64, gate_flaky_growth=0.0, rng=1)
    assert org.gates.trees[0].flaky_prob == pytest.approx(0.05)
