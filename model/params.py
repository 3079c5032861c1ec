"""The model's parameters: names, defaults, units, valid ranges and their sources.

These names are the contract between :class:`model.OrgModel`, sweep specs (TOML keys),
results columns and the app's controls. Every default has one of three origins, which
:func:`describe` states per parameter:

* **Calibrated** (:data:`CALIBRATED`): the posterior median of ``orgscale calibrate
  nova-2013`` against OpenStack Nova's 2013 flows (new, merged and abandoned changes a day,
  patch sets per change, core reviews a day): ``change_rate`` ≈ 0.13 changes/day per
  contributor, ``review_rate`` ≈ 4.2 expert reviews/day per reviewer, ``rework_prob`` ≈ 0.3,
  ``patience_days`` ≈ 69 and ``check_fail_prob`` ≈ 0.43. The calibrated model reproduces
  Nova's flows but not its review waits (see the README's validation section).
* **Read off a source** (:data:`SOURCES`): ``core_reviewers = 17`` (nova-core, Nov 2013),
  ``approvals_needed = 2`` (two +2 votes), ``cross_team_factor = nonexpert_slowdown = 2.5``
  (cross-site work ≈2.5× as long, Herbsleb & Mockus, TSE 2003), the kernel's two-week
  ``merge_window_days``; ``ci_automation`` stands for linux-next + 0-day, which test-merge
  every tree daily. Kernel-only mechanisms (``release_cycle_days``, ``top_direct_share``)
  are off by default; the ``linux`` preset switches them on.
* **Assumption**: everything else (coupling and conflict probabilities, sync time, rebase
  and gate times, bisection step, pull effort, API change rate, staffing ratios) is a plain,
  documented assumption with a plausible range in :data:`PLAUSIBLE_RANGES`, which the
  paper's sensitivity analysis sweeps (for calibrated parameters the range is their 90%
  credible interval).

``staffing = 'equal_headcount'``: organisations are compared for the same people;
``fixed_core`` asks the seed's question (a core of 17 against split teams of 3); ``earned``
starts from equal headcount and lets headcount follow promotions and departures, whose
rules (``promotion_reviews``, ``promotion_endorsements``, ``reviewer_attrition``) are read
off and checked against nova-core's size over time in openstack/reviewstats' git history
(``docs/nova-core.md``). Review hours (``review_share``, ``review_days_per_week``),
``reject_prob`` and ``approval_order`` are stated assumptions; their neutral values
(1, 7, 0, ``'parallel'``) give the model the queueing oracles test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from model.gate import GATE_MODES
from model.staffing import STAFFING_POLICIES
from model.topologies import TOPOLOGIES

REVIEW_TIME_DISTS = ("exponential", "lognormal")
REVIEW_ROUTINGS = ("expertise", "fifo")
APPROVAL_ORDERS = ("sequential", "parallel")

#: Earned staffing's rules (``staffing = 'earned'``), checked against nova-core's size over
#: time in openstack/reviewstats' git history: see ``docs/nova-core.md``.
PROMOTION_REVIEWS = 24
PROMOTION_ENDORSEMENTS = 0.2
#: nova-core, 2013-05-09 to 2015-05-12 (reviewstats ``projects/nova.json``, ``core-team``):
#: 13 members left over 36.7 member-years.
REVIEWER_ATTRITION = 0.355

#: Where the calibrated defaults come from (``orgscale calibrate nova-2013``).
CALIBRATION_SOURCE = "results/calibration/nova-2013/intervals.csv"

#: Parameters calibrated against OpenStack Nova (90 days to 2013-11-14; ABC-SMC over its
#: in-sample patterns, ``model/presets/nova-2013.toml``): posterior median, which is the
#: default, and the 90% credible interval, which is the plausible range a sensitivity
#: analysis sweeps. Four significant digits of :data:`CALIBRATION_SOURCE`.
CALIBRATED: dict[str, tuple[float, float, float]] = {
    "change_rate": (0.1299, 0.1115, 0.1541),
    "review_rate": (4.153, 2.806, 5.852),
    "rework_prob": (0.2993, 0.2097, 0.3981),
    "patience_days": (68.89, 15.20, 115.3),
    "check_fail_prob": (0.4251, 0.1812, 0.6531),
}


@dataclass(frozen=True)
class ParamSpec:
    """One model parameter: its type, default, valid range or choices, unit and meaning."""

    name: str
    kind: type
    default: Any
    doc: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[Any, ...] | None = None
    #: earlier spellings accepted for a value: (old, new) pairs, matched by type and value
    aliases: tuple[tuple[Any, Any], ...] = ()

    def valid_range(self) -> str:
        """Human-readable description of the valid values."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind is bool:
            return "true or false"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high is None else "]"
        what = "an integer" if self.kind is int else "a number"
        return f"{what} in {left}{lo}, {hi}{right}"

    def validate(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise ``ValueError``."""
        for old, new in self.aliases:
            if type(value) is type(old) and value == old:
                value = new
        bad = f"{self.name}={value!r} is invalid: must be {self.valid_range()}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(bad)
            return value
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ValueError(bad)
            return value
        if isinstance(value, bool):
            raise ValueError(bad)
        if self.kind is int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int):
                raise ValueError(bad)
        else:
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(bad)
            value = float(value)
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise ValueError(bad.replace("is invalid", "is out of range"))
        if self.high is not None and value > self.high:
            raise ValueError(bad.replace("is invalid", "is out of range"))
        return value


STOP_BACKLOG_DAYS = 60.0
"""The bound the paper's sweep sets for ``stop_backlog_days`` (whose default, 0, never
stops a run, so calibrations, presets and their validation run every run to its end, as a
saturated preset's patterns are measured over its whole window).

With a bound B > 0, a run stops, flagged saturated, once after warm-up the changes open in
it (submitted, neither landed nor abandoned) exceed B + ``release_cycle_days`` days of its
demand, the changes its contributors submit a day (areas × ``contributors_per_team`` ×
``change_rate``, at the start). The release cycle's days are added because a top that
takes pulls once a cycle holds that much back in its trees by design (a kernel-like
hierarchy of 8 teams with a 70-day cycle peaks at 77 days of demand and is not saturated).
By Little's law the open backlog is the demand times the mean time a change spends in the
system, so B = 60 says "the mean change would wait more than 60 days". Measured with the
defaults and over the sensitivity ranges (140 runs of the paper's two designs, N ≤ 64, 300
days), no unsaturated run's backlog exceeded 27 days of demand, while runs whose queues
never empty reach 40–250 (those that land nothing pass 60 within 20–60 days of warm-up).
Such a run is not a point on any scaling law (the paper fits only unsaturated N), and
running it to its end costs the most of any (its events grow with its backlog). The check
reads one count once a day and draws no random numbers, so a run that never passes the
bound is the same run, bit for bit, with any bound or none."""


def _p(name, kind, default, doc, unit="", **kw) -> ParamSpec:
    return ParamSpec(name=name, kind=kind, default=default, doc=doc, unit=unit, **kw)


PARAMETERS: dict[str, ParamSpec] = {
    p.name: p
    for p in [
        _p("topology", str, "hierarchical", "team topology", choices=TOPOLOGIES),
        _p("n_teams", int, 16, "number of teams (code areas)", "teams", low=1, high=100_000),
        _p(
            "staffing",
            str,
            "equal_headcount",
            "who reviews: the same H reviewers in every topology, or a fixed core",
            choices=STAFFING_POLICIES,
        ),
        _p("contributors_per_team", int, 8, "contributors per area", "people", low=0, high=10_000),
        _p(
            "reviewers_per_area",
            float,
            3.0,
            "equal_headcount (and earned's seed): H = reviewers_per_area × n_teams reviewers",
            "people per area",
            low=0.0,
            low_open=True,
            high=1000.0,
        ),
        _p(
            "reviewers_per_team",
            int,
            3,
            "fixed_core: reviewers of each split team with contributors",
            "people",
            low=1,
            high=1000,
        ),
        _p(
            "core_reviewers",
            int,
            17,
            "fixed_core: size of the single core team",
            "people",
            low=1,
            high=10_000,
        ),
        _p(
            "maintainer_span",
            int,
            4,
            "child trees per reviewer of a maintainer team (at least one reviewer)",
            "teams per person",
            low=1,
            high=100_000,
        ),
        _p(
            "promotion_reviews",
            int,
            PROMOTION_REVIEWS,
            "earned: landed changes of a contributor a reviewer must have approved to endorse "
            "them (0: nobody is promoted)",
            "changes",
            low=0,
            high=100_000,
        ),
        _p(
            "promotion_endorsements",
            float,
            PROMOTION_ENDORSEMENTS,
            "earned: share of the team's reviewers who must endorse a contributor before it "
            "is promoted to reviewer (at least one)",
            "share of the team",
            low=0.0,
            low_open=True,
            high=1.0,
        ),
        _p(
            "reviewer_attrition",
            float,
            REVIEWER_ATTRITION,
            "earned: rate at which reviewers of teams with code leave",
            "1/year per reviewer",
            low=0.0,
            high=10.0,
        ),
        _p(
            "contributor_growth",
            float,
            0.0,
            "contributors join each year, as a share of those there (compounded)",
            "1/year",
            low=0.0,
            high=10.0,
        ),
        _p(
            "change_rate",
            float,
            CALIBRATED["change_rate"][0],
            "changes per contributor",
            "1/day",
            low=0.0,
        ),
        _p(
            "review_rate",
            float,
            CALIBRATED["review_rate"][0],
            "expert reviews per reviewer",
            "1/day",
            low=0.0,
            low_open=True,
        ),
        _p(
            "review_time_dist",
            str,
            "exponential",
            "distribution of review durations",
            choices=REVIEW_TIME_DISTS,
        ),
        _p(
            "review_routing",
            str,
            "expertise",
            "which review a free reviewer takes: oldest in its areas first, or oldest",
            choices=REVIEW_ROUTINGS,
        ),
        _p("review_time_sigma", float, 1.0, "lognormal sigma of review durations", "", low=0.0),
        _p("approvals_needed", int, 2, "distinct approvals per patch set", "", low=1, high=100),
        _p(
            "approval_order",
            str,
            "sequential",
            "sequential: each further approval is a review task of its own, routed once the "
            "one before it approved; parallel: all approvals taken at once",
            choices=APPROVAL_ORDERS,
        ),
        _p(
            "review_share",
            float,
            0.125,
            "share of each working day a reviewer spends on review, in one block (1 with 7 "
            "days a week: available around the clock)",
            "share of 24 h",
            low=0.0,
            low_open=True,
            high=1.0,
        ),
        _p(
            "review_days_per_week",
            int,
            5,
            "days of each week a reviewer reviews (the rest is its weekend)",
            "days",
            low=1,
            high=7,
        ),
        _p(
            "reject_prob",
            float,
            0.02,
            "probability a review rejects the change (a −2: it is abandoned, 'rejected')",
            "",
            low=0.0,
            high=0.5,
        ),
        _p(
            "rework_prob",
            float,
            CALIBRATED["rework_prob"][0],
            "probability a review asks for rework",
            "",
            low=0.0,
            high=0.99,
        ),
        _p("rework_days", float, 1.0, "mean time to rework a change", "days", low=0.0),
        _p(
            "check_fail_prob",
            float,
            CALIBRATED["check_fail_prob"][0],
            "probability a patch set fails automated checks or non-core review before core "
            "review (a new patch set follows at no core reviewer's cost)",
            "",
            low=0.0,
            high=0.95,
        ),
        _p(
            "difficulty_sigma",
            float,
            0.0,
            "spread of changes' difficulty: log-scale sd of a lognormal multiplier (mean 1) "
            "on each change's odds of failing checks and of rework, p → 1 − (1 − p)^d "
            "(0: every change alike)",
            "log-sd",
            low=0.0,
            high=4.0,
        ),
        _p(
            "patience_days",
            float,
            CALIBRATED["patience_days"][0],
            "mean time an author waits before abandoning a change (0: never)",
            "days",
            low=0.0,
        ),
        _p(
            "link_change_prob",
            float,
            0.1,
            "share of changes touching one of their team's API links, × the mean badness of "
            "its links",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "api_change_rate", float, 0.02, "changes to a team's own API", "1/day per team", low=0.0
        ),
        _p(
            "cross_team_factor",
            float,
            2.5,
            "slowdown of work on another team's code (negotiation, foreign conflicts)",
            "×",
            low=1.0,
        ),
        _p("expert_areas", int, 2, "areas each single-core reviewer is expert in", "", low=1),
        _p(
            "nonexpert_slowdown",
            float,
            2.5,
            "review slowdown outside a reviewer's areas",
            "×",
            low=1.0,
        ),
        _p(
            "sync_days_per_contact",
            float,
            0.005,
            "sync time per job with each teammate active on the same area within the window",
            "days per teammate per job",
            low=0.0,
            high=1.0,
        ),
        _p(
            "sync_window_days",
            float,
            1.0,
            "how recently a teammate must have worked on an area to need syncing with",
            "days",
            low=0.0,
        ),
        _p(
            "merge_interval_days",
            float,
            7.0,
            "interval between a tree's upward merges (each tree on its own phase)",
            "days",
            low=0.0,
            low_open=True,
        ),
        _p(
            "release_cycle_days",
            float,
            0.0,
            "the top takes pulls only in a merge window once per cycle (0: at any time)",
            "days",
            low=0.0,
        ),
        _p(
            "merge_window_days",
            float,
            14.0,
            "length of the top's merge window",
            "days",
            low=0.0,
            low_open=True,
        ),
        _p(
            "top_direct_share",
            float,
            0.0,
            "share of changes sent straight to the top team (a hierarchy's top only)",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "conflict_prob",
            float,
            0.0005,
            "probability two changes from linked teams conflict when they first meet",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "coupling_same_area_prob",
            float,
            0.02,
            "probability two changes to the same code area conflict when they meet",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "coupling_sibling_prob",
            float,
            0.004,
            "the same for two areas in the same smallest module",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "coupling_decay",
            float,
            0.25,
            "factor on the coupling per further level up the code's module tree",
            "",
            low=0.0,
            high=1.0,
        ),
        _p(
            "coupling_branching",
            int,
            4,
            "areas per module in the code's module tree (the same in every organisation)",
            "",
            low=2,
            high=1000,
        ),
        _p(
            "rebase_days",
            float,
            0.1,
            "author time to rebase a change made stale by a coupled change",
            "days",
            low=0.0,
        ),
        _p(
            "gate",
            str,
            "serial",
            "how approved changes are tested before they merge, each tree its own gate: "
            "not at all, each on its own, or in one line tested speculatively (Zuul)",
            choices=GATE_MODES,
            aliases=((True, "independent"), (False, "none")),
        ),
        _p("gate_days", float, 0.1, "duration of one gate run", "days", low=0.0),
        _p(
            "gate_window",
            int,
            20,
            "serial gate: most changes tested speculatively in one run",
            "changes",
            low=1,
            high=10_000,
        ),
        _p(
            "gate_flaky_prob",
            float,
            0.05,
            "probability a gate run of a 16-area tree fails for no fault of the change; a "
            "tree of a areas: 1 − (1 − p)^((a/16)^gate_flaky_growth)",
            "",
            low=0.0,
            high=0.99,
        ),
        _p(
            "gate_flaky_growth",
            float,
            1.0,
            "how a gate run's flaky failures grow with the tree's areas (1: each area's tests "
            "fail independently; 0: not at all)",
            "",
            low=0.0,
            high=2.0,
        ),
        _p(
            "api_badness_sigma",
            float,
            1.0,
            "lognormal spread of per-link API badness (conflict and touch weight)",
            "",
            low=0.0,
        ),
        _p(
            "fixed_link_share",
            float,
            0.0,
            "share of links, the worst by API badness, whose API has been fixed (badness "
            "set to the median link's)",
            "",
            low=0.0,
            high=1.0,
        ),
        _p("bisect_step_days", float, 0.03, "integrator time per bisection step", "days", low=0.0),
        _p(
            "conflict_fix_days",
            float,
            0.25,
            "mean expert time to fix one conflict",
            "days",
            low=0.0,
        ),
        _p("pull_days", float, 0.05, "integrator time to handle one pull", "days", low=0.0),
        _p(
            "pull_days_per_change",
            float,
            0.002,
            "integrator time per change in a pull",
            "days",
            low=0.0,
        ),
        _p("ci_automation", bool, False, "daily test-merge of all trees (linux-next, 0-day)"),
        _p(
            "ci_detection_prob",
            float,
            0.9,
            "share of conflicts a daily test-merge finds",
            "",
            low=0.0,
            high=1.0,
        ),
        _p("warmup_days", float, 60.0, "days discarded before measuring", "days", low=0.0),
        _p(
            "stop_backlog_days",
            float,
            0.0,
            "a run stops early, saturated, once after warm-up its open backlog exceeds this "
            "many days of its demand (plus release_cycle_days; 0: never stops)",
            "days of demand",
            low=0.0,
        ),
        _p(
            "branching",
            int,
            0,
            "fan-out of the maintainer tree (0: two-level drivers-core; modular: 4)",
            "",
            low=0,
            high=1000,
        ),
        _p("locality", float, 0.5, "modular: share of links kept local", "", low=0.0, high=1.0),
    ]
}


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return a complete, validated parameter dict (defaults filled in).

    Raises ``ValueError`` with one line naming the parameter and the valid range for an
    unknown name, a wrong type, a value out of range, or an inconsistent combination.
    """
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ValueError(
            f"unknown parameter {unknown[0]!r}: valid names are {', '.join(PARAMETERS)}"
        )
    full = {name: spec.default for name, spec in PARAMETERS.items()}
    for name, value in params.items():
        full[name] = PARAMETERS[name].validate(value)
    if full["branching"] == 1:
        raise ValueError(
            "branching=1 is invalid: must be 0 (no maintainer tree) or an integer >= 2"
        )
    if full["rework_prob"] + full["reject_prob"] > 1.0:
        raise ValueError(
            f"rework_prob={full['rework_prob']:g} and reject_prob={full['reject_prob']:g} are "
            "invalid together: a review asks for rework or rejects, so their sum must be ≤ 1"
        )
    seeded = full["staffing"] in ("equal_headcount", "earned")
    if seeded and full["topology"] in ("hierarchical", "modular"):
        from model.staffing import team_sizes
        from model.topologies import build_topology

        tree = build_topology(full["topology"], full["n_teams"], branching=full["branching"])
        team_sizes(
            tree,
            **{k: full[k] for k in STAFFING_KEYS},
        )
    return full


STAFFING_KEYS = (
    "staffing",
    "core_reviewers",
    "reviewers_per_team",
    "reviewers_per_area",
    "maintainer_span",
)


def mmc_parameters(
    arrival_rate: float, service_rate: float, servers: int, *, sources: int = 12
) -> dict[str, Any]:
    """Parameters that make ``OrgModel`` one M/M/c review queue (the queueing oracle).

    One team over one area, ``servers`` reviewers who all know it, Poisson arrivals at
    ``arrival_rate`` per day from ``sources`` contributors, exponential reviews at
    ``service_rate`` per day, one approval, no rework, no links, no coordination, no code
    coupling (so no rebases), no gate, no abandonment, no rejection, and reviewers available
    around the clock.
    """
    return {
        "topology": "single_core",
        "n_teams": 1,
        "staffing": "fixed_core",
        "contributors_per_team": sources,
        "change_rate": arrival_rate / sources,
        "core_reviewers": servers,
        "expert_areas": 1,
        "review_rate": service_rate,
        "review_time_dist": "exponential",
        "approvals_needed": 1,
        "rework_prob": 0.0,
        "link_change_prob": 0.0,
        "api_change_rate": 0.0,
        "sync_days_per_contact": 0.0,
        "coupling_same_area_prob": 0.0,
        "coupling_sibling_prob": 0.0,
        "gate": "none",
        "patience_days": 0.0,
        "check_fail_prob": 0.0,
        "review_share": 1.0,
        "review_days_per_week": 7,
        "approval_order": "parallel",
        "reject_prob": 0.0,
        "difficulty_sigma": 0.0,
    }


def defaults() -> dict[str, Any]:
    """The default value of every parameter."""
    return {name: spec.default for name, spec in PARAMETERS.items()}


#: What a parameter is when it is an experiment's control rather than a claim about teams.
CONTROL = "control: what an experiment varies (no observed value)"

SOURCES: dict[str, str] = {
    "contributors_per_team": "Nova preset: 16 areas × 8 contributors × change_rate ≈ Nova's 17 new "
    "changes/day (areas and contributors per area are not observed separately)",
    "core_reviewers": "nova-core size, Nov 2013 (17)",
    "approvals_needed": "Nova merge rule: two +2 approvals",
    "cross_team_factor": "Herbsleb & Mockus 2003: cross-team work ≈2.5× as long",
    "nonexpert_slowdown": "Herbsleb & Mockus 2003 (as cross_team_factor)",
    "merge_window_days": "kernel merge window: 2 weeks (Documentation/process/2.Process.rst)",
    "release_cycle_days": "kernel: 63–70-day cycles (LWN 650299); 0 by default, see README",
    "ci_automation": "linux-next and 0-day: all trees test-merged daily",
    "gate": "Nova: every approved change passes Zuul's dependent (serial) gate pipeline "
    "before it merges; true/false, the spelling before gate modes, mean 'independent'/'none'",
    "gate_window": "Zuul's sliding window starts at 20 changes (Zuul docs, pipeline window; "
    "adopted by OpenStack's gate in Jan 2014, openstack-dev 2014-01/025344)",
    "gate_flaky_prob": "OpenStack gate jobs failed nondeterministically 5–10% of the time "
    "(openstack-dev 2013-11/019042, 2013-11 'Unwedging the gate'); grows with the tree's "
    "areas, see model/gate.py",
    "gate_flaky_growth": "Gate Math (openstack-dev 2013-11/019042): failure probabilities of "
    "independent test jobs add up, so 1; 0 bounds it below",
    "top_direct_share": "kernel 2.6.38: Linus applied ≈1.3% of patches himself; 0 by default",
    "review_share": "assumption: a core reviewer's 3 hours of review in each working day",
    "review_days_per_week": "assumption: a five-day working week",
    "approval_order": "OpenStack review dashboards (gerrit-dash-creator) list changes that have "
    "one +2 in a section of their own, 'Needs final +2': the last approval is a task of its "
    "own, taken first",
    "reject_prob": "assumption (Nova's abandoned changes, 4.4 a day, count rejected ones too)",
    "difficulty_sigma": "0 by default (the nova-2013 calibration's changes are alike); "
    "calibrated by the nova-trajectory preset against the spread of Nova's lead times, "
    "model/difficulty.py",
    "promotion_reviews": "checked against nova-core's size, May 2013 – May 2015 "
    "(openstack/reviewstats; docs/nova-core.md)",
    "promotion_endorsements": "the same check (docs/nova-core.md); nova-core's nominations are "
    "voted on by the existing core",
    "reviewer_attrition": "nova-core, May 2013 – May 2015: 13 left over 36.7 member-years "
    "(openstack/reviewstats git history; docs/nova-core.md); U-Boot's MAINTAINERS, 2015-2026: "
    "≈0.04 a member-year (docs/u-boot-maintainers.md)",
    "contributor_growth": "0: stationary demand; Nova's authors per quarter grew by about half "
    "from 2012 to 2014 (≈0.2 a year)",
    "topology": CONTROL,
    "n_teams": CONTROL,
    "staffing": CONTROL,
    "reviewers_per_team": CONTROL,
    "review_time_dist": CONTROL,
    "review_routing": CONTROL,
    "fixed_link_share": CONTROL,
    "warmup_days": CONTROL,
    "stop_backlog_days": "control: when a run may stop as saturated (see STOP_BACKLOG_DAYS); "
    "a run that would not stop gives the same results with any bound",
    "branching": CONTROL,
    "locality": CONTROL,
}


#: Plausible ranges (for sensitivity analyses): of the parameters that are assumptions, and
#: of the calibrated ones (their 90% credible interval, added below the assumptions).
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    "reviewers_per_area": (1.5, 6.0),
    "maintainer_span": (2, 16),
    "rework_days": (0.5, 3.0),
    "link_change_prob": (0.02, 0.3),
    "api_change_rate": (0.005, 0.05),
    "expert_areas": (1, 4),
    "sync_days_per_contact": (0.0, 0.02),
    "sync_window_days": (0.5, 3.0),
    "coupling_same_area_prob": (0.005, 0.08),
    "coupling_sibling_prob": (0.0005, 0.02),
    "coupling_decay": (0.05, 0.5),
    "rebase_days": (0.02, 0.5),
    "gate_days": (0.02, 0.5),
    "gate_window": (3, 20),
    "gate_flaky_prob": (0.01, 0.1),
    "gate_flaky_growth": (0.0, 1.0),
    "merge_interval_days": (1.0, 14.0),
    "conflict_prob": (0.0001, 0.002),
    "api_badness_sigma": (0.25, 1.5),
    "bisect_step_days": (0.01, 0.1),
    "conflict_fix_days": (0.1, 1.0),
    "pull_days": (0.01, 0.2),
    "pull_days_per_change": (0.0005, 0.005),
    "ci_detection_prob": (0.5, 0.99),
    "review_share": (0.04, 0.33),  # 1 to 8 hours of each working day
    "review_days_per_week": (5, 7),
    "reject_prob": (0.0, 0.05),
    # the earned-staffing rules: wide enough to hold both checks against real teams, nova-core
    # (24, 0.2, 0.355: docs/nova-core.md) and U-Boot's MAINTAINERS (24-36, 1.0, 0.04-0.08:
    # docs/u-boot-maintainers.md)
    "promotion_reviews": (3, 40),
    "promotion_endorsements": (0.1, 1.0),
    "reviewer_attrition": (0.03, 0.5),
    # assumptions the paper's sensitivity did not sample before (issue 20): the review-time
    # spread (lognormal σ 0.5–1.5 brackets the exponential's coefficient of variation, 1,
    # at σ ≈ 0.83), the code's module fan-out, and the two Herbsleb–Mockus slowdowns, whose
    # 2.5 is one study's cross-site figure
    "review_time_sigma": (0.5, 1.5),
    "coupling_branching": (2, 8),
    "cross_team_factor": (1.5, 4.0),
    "nonexpert_slowdown": (1.5, 4.0),
    # 0 by default (every change alike); the range is the nova-trajectory calibration's
    # prior, which holds its posterior (model/presets/nova-trajectory.toml)
    "difficulty_sigma": (0.0, 2.5),
    # 0 by default (and for one core, where it does not act); the kernel's posterior below
    "top_direct_share": (0.0, 0.05),
}
PLAUSIBLE_RANGES.update({name: (low, high) for name, (_, low, high) in CALIBRATED.items()})

#: Where the kernel's calibrated values come from (``orgscale calibrate linux``).
KERNEL_CALIBRATION_SOURCE = "results/calibration/linux/intervals.csv"

#: Parameters calibrated against the Linux kernel (the ``linux`` preset's posterior medians
#: and 90% credible intervals, four significant digits of :data:`KERNEL_CALIBRATION_SOURCE`).
#: They are not defaults (the defaults are Nova's), but a plausible range must hold them: a
#: sensitivity analysis that excluded the kernel's values would sample a world both
#: calibrations rule out.
KERNEL_CALIBRATED: dict[str, tuple[float, float, float]] = {
    "change_rate": (0.1084, 0.09590, 0.1446),
    "top_direct_share": (0.02291, 0.01024, 0.04914),
    "conflict_fix_days": (0.01256, 0.003078, 0.03206),
    "bisect_step_days": (0.00445, 0.001452, 0.007805),
    "pull_days_per_change": (0.0009922, 0.0002302, 0.00155),
}
for _name, (_, _low, _high) in KERNEL_CALIBRATED.items():
    _old = PLAUSIBLE_RANGES.get(_name, (_low, _high))
    PLAUSIBLE_RANGES[_name] = (min(_old[0], _low), max(_old[1], _high))


def source_of(name: str) -> str:
    """Where a parameter's default comes from: calibrated (posterior median and 90% credible
    interval), a cited source, a control, or an assumption with its plausible range."""
    kernel = ""
    if name in KERNEL_CALIBRATED:
        median, lo, hi = KERNEL_CALIBRATED[name]
        kernel = (
            f"; kernel posterior median {median:g}, 90% CI {lo:g}–{hi:g} "
            f"({KERNEL_CALIBRATION_SOURCE})"
        )
    if name in CALIBRATED:
        _, lo, hi = CALIBRATED[name]
        text = (
            f"calibrated: nova-2013 posterior median, 90% CI {lo:g}–{hi:g} ({CALIBRATION_SOURCE})"
        )
        if PLAUSIBLE_RANGES[name] != (lo, hi):
            low, high = PLAUSIBLE_RANGES[name]
            text += f"{kernel}; plausible {low:g}–{high:g} holds both"
        return text
    if name in PLAUSIBLE_RANGES:
        lo, hi = PLAUSIBLE_RANGES[name]
        return f"{SOURCES.get(name, 'assumption')}{kernel} (plausible {lo:g}–{hi:g})"
    return SOURCES.get(name, "assumption")


def describe() -> str:
    """A Markdown table of every parameter: name, default, unit, valid values, meaning, source.

    The source says whether the default is calibrated (posterior median and 90% credible
    interval), read off a cited source, or an assumption (with its plausible range).
    """
    rows = [
        "| parameter | default | unit | valid | meaning | source |",
        "|---|---|---|---|---|---|",
    ]
    for spec in PARAMETERS.values():
        default = str(spec.default).lower() if spec.kind is bool else repr(spec.default)
        source = source_of(spec.name)
        rows.append(
            f"| `{spec.name}` | {default} | {spec.unit} | {spec.valid_range()} | {spec.doc} "
            f"| {source} |"
        )
    return "\n".join(rows)
