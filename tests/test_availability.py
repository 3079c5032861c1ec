"""Review hours: reviewers work in blocks on working days; the week's capacity is kept."""

import random

import pytest

from model import OrgModel
from model.availability import Availability


def hours(share=0.25, days_per_week=5, phase=0.0):
    avail = Availability(
        review_share=share, review_days_per_week=days_per_week, rand=random.Random(1)
    )
    avail.phase[0] = phase
    return avail


def test_work_started_in_a_block_ends_in_it_when_it_fits():
    avail = hours(share=0.25)  # 6 hours a day; speed 7 / 1.25 = 5.6 capacity-days a day
    assert avail.finish(0, 0.0, 0.56) == pytest.approx(0.1)


def test_work_that_does_not_fit_continues_in_the_next_block():
    avail = hours(share=0.25)
    # 0.25 available days hold 1.4 capacity-days; 0.28 more take 0.05 of Tuesday's block
    assert avail.finish(0, 0.0, 1.4 + 0.28) == pytest.approx(1.05)


def test_work_arriving_on_friday_night_waits_for_monday():
    avail = hours(share=0.25)
    friday_night = 4.5  # day 4 is Friday; days 5 and 6 are the weekend
    assert avail.next_available(0, friday_night) == pytest.approx(7.0)
    assert avail.finish(0, friday_night, 0.56) == pytest.approx(7.1)
    assert not avail.on_duty(0, friday_night)
    assert avail.on_duty(0, 7.05)


def test_a_week_of_work_takes_a_week_whatever_the_hours():
    """Capacity is kept: a busy reviewer gets through 7 capacity-days every 7 days."""
    for share, days in [(0.1, 5), (0.5, 6), (1.0, 5)]:
        avail = hours(share=share, days_per_week=days, phase=0.3)
        start = avail.next_available(0, 0.0)
        assert avail.finish(0, start, 70.0) - start == pytest.approx(70.0, abs=7.0)


def test_work_left_on_a_job_is_counted_in_review_hours():
    avail = hours(share=0.25)
    end = avail.finish(0, 0.2, 3.0)  # 3 capacity-days from Monday's block on
    assert avail.work_between(0, 0.2, end) == pytest.approx(3.0)
    assert avail.work_between(0, 4.5, 7.0) == 0.0  # Friday night to Monday: nothing done
    assert avail.work_between(0, 0.0, 7.0) == pytest.approx(7.0)


def test_the_phase_shifts_the_block_in_model_time():
    avail = hours(share=0.25, phase=0.5)  # local day starts at model time −0.5
    assert avail.on_duty(0, 0.6)  # local 1.1, Tuesday's block
    assert not avail.on_duty(0, 0.8)  # local 1.3, after it
    assert avail.next_available(0, 0.8) == pytest.approx(1.5)


def test_neutral_values_hold_no_availability_and_draw_nothing():
    on = OrgModel(n_teams=4, rng=3, review_share=1.0, review_days_per_week=7)
    assert on.availability is None
    assert Availability.neutral(1.0, 7) and not Availability.neutral(1.0, 5)


def test_review_hours_lengthen_the_wait_for_review_not_the_reviews_done():
    kw = dict(topology="single_core", n_teams=4, rng=2, reject_prob=0.0)
    always = OrgModel(review_share=1.0, review_days_per_week=7, **kw)
    hours_ = OrgModel(review_share=0.125, review_days_per_week=5, **kw)
    for org in (always, hours_):
        org.run_for(400)
    a, h = always.metrics(), hours_.metrics()
    assert h["review_wait_p50"] > 2 * a["review_wait_p50"]
    assert h["merged_per_day"] == pytest.approx(a["merged_per_day"], rel=0.1)
    assert h["reviews_per_day"] == pytest.approx(a["reviews_per_day"], rel=0.1)
    # fewer of an area's experts are on duty at once: more reviews by slower non-experts
    assert h["expert_review_share"] < a["expert_review_share"]


def test_a_block_start_computed_from_a_phase_is_on_duty_and_ends_later():
    """Rounding in phase arithmetic must not put a block's start just before the block
    (a reviewer once went on and off duty at one time forever)."""
    rand = random.Random(7)
    avail = hours(share=0.125)
    for _ in range(20_000):
        avail.phase[0] = rand.random()
        start = avail.next_available(0, rand.uniform(0.0, 30.0))
        assert avail.on_duty(0, start)
        assert avail.next_available(0, start) == start


def test_a_run_with_reviewers_on_many_phases_advances():
    org = OrgModel(
        topology="modular", n_teams=16, branching=4, staffing="earned", reject_prob=0.3, rng=3
    )
    org.run_for(20)
    assert org.now == 20


def test_a_review_starts_after_the_sync_its_reviewer_owes_and_before_it_ends():
    """A reviewer owing sync time does it in its review hours, as its job does: the review's
    logged start (and the wait measured to it) is when that sync is done, so no review
    finishes before it starts (it once did: the owed days were added as calendar time)."""
    from model.eventlog import REVIEW_FINISHED, REVIEW_STARTED
    from model.work import JobKind

    org = OrgModel(
        topology="single_core",
        n_teams=8,
        contributors_per_team=8,
        sync_days_per_contact=0.01,
        review_share=0.125,
        review_days_per_week=5,
        rng=4,
        record_events=True,
    )
    org.run_for(120)
    open_reviews: dict[tuple[int, int], list[float]] = {}
    checked = 0
    for time, kind, change, _team, actor, _detail in org.event_log:
        if kind == REVIEW_STARTED:
            open_reviews.setdefault((change, actor), []).append(time)
    for time, kind, change, _team, actor, _detail in org.event_log:
        if kind == REVIEW_FINISHED and open_reviews.get((change, actor)):
            started = open_reviews[(change, actor)].pop(0)
            assert started <= time + 1e-12, (change, actor, started, time)
            checked += 1
    assert checked > 1000
    assert org.cost[JobKind.SYNC] > 0  # reviewers did owe sync time


def test_a_saturated_team_with_review_hours_spends_all_its_hours_on_booked_work():
    """Work always waits, so every review hour goes to booked work (reviews and the sync
    they cause): utilisation is 1 but for the run's edges. Sync owed was once kept as a
    calendar time, which ran ahead of the clock inside the review hours, so a reviewer did
    part of it again before each job (utilisation ≈ 0.86 here)."""
    for seed in (1, 2):
        org = OrgModel(
            topology="single_core",
            staffing="fixed_core",
            core_reviewers=4,
            n_teams=4,
            contributors_per_team=10,
            change_rate=0.5,
            sync_days_per_contact=0.05,
            sync_window_days=3.0,
            review_share=0.125,
            review_days_per_week=5,
            rng=seed,
        )
        org.run_for(200)
        metrics = org.metrics()
        assert metrics["cost_coordination"] > 0.1  # sync is a real share of the work
        assert metrics["reviewer_utilization"] == pytest.approx(1.0, abs=0.01)
