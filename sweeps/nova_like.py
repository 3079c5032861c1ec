"""A Nova-like recovery problem shared by the calibration benchmarks.

A small single core (4 areas × 4 contributors, 4 cores, two approvals, a gate: Nova's
review rules at a size a benchmark can afford) with every parameter the Nova preset
calibrates (``change_rate``, ``review_rate``, ``rework_prob``, ``patience_days``,
``check_fail_prob``) unknown, and seven patterns Nova's sources report, computed from the
run's event log. Reviewers work around the clock and never reject (``review_share = 1``,
seven-day weeks, ``reject_prob = 0``): the problem asks whether the five parameters can be
recovered, and review hours are a stated assumption, not one of them. Used by the recovery
test (``tests/test_calibrate.py``), ``benchmarks/bench_calibrate_distance.py`` and
``benchmarks/bench_sbc.py``.
"""

from __future__ import annotations

import json

import numpy as np

CONFIG = {
    "topology": "single_core",
    "staffing": "fixed_core",
    "n_teams": 4,
    "contributors_per_team": 4,
    "core_reviewers": 4,
    "approvals_needed": 2,
    "gate": "independent",
    "review_share": 1.0,
    "review_days_per_week": 7,
    "reject_prob": 0.0,
    "warmup_days": 30.0,
}
DAYS = 120.0
TRUTH = {
    "change_rate": 0.15,
    "review_rate": 4.0,
    "rework_prob": 0.3,
    "patience_days": 40.0,
    "check_fail_prob": 0.3,
}
PRIORS = {
    "change_rate": (0.05, 0.3),
    "review_rate": (1.0, 10.0),
    "rework_prob": (0.1, 0.6),
    "patience_days": (10.0, 100.0),
    "check_fail_prob": (0.0, 0.6),
}
PATTERNS = {  # pattern: tolerance (share of the observed value)
    "submitted_per_day": 0.1,
    "merged_per_day": 0.1,
    "abandoned_per_day": 0.3,
    "patch_sets_per_change": 0.1,
    "reviews_per_day": 0.1,
    "first_review_wait_p50": 0.3,
    "lead_time_p50": 0.3,
}


def observe(theta: dict[str, float], seeds: list[int]) -> dict[str, float]:
    """Each pattern's mean over runs of the model at ``theta`` with ``seeds``."""
    from observe.simulated import run_patterns

    runs = [run_patterns({**CONFIG, **theta}, s, DAYS, list(PATTERNS)) for s in seeds]
    return {m: float(np.nanmean([r[m] for r in runs])) for m in PATTERNS}


def preset_text(
    observed: dict[str, float], tolerance: float | None = None, **calibration: object
) -> str:
    """The problem as preset TOML, with ``observed`` values and ``[calibration]`` settings.

    ``tolerance`` replaces every pattern's relative tolerance.
    """
    config = "\n".join(
        f"{k} = {json.dumps(v) if isinstance(v, str | bool) else v}" for k, v in CONFIG.items()
    )
    priors = "\n".join(f"{k} = [{lo}, {hi}]" for k, (lo, hi) in PRIORS.items())
    settings = "\n".join(f"{k} = {json.dumps(v)}" for k, v in calibration.items())
    patterns = "".join(
        f'\n[[pattern]]\nmetric = "{m}"\nobserved = {observed[m]!r}\n'
        f"tolerance = {{ rel = {tolerance or tol} }}\nin_sample = true\n"
        f'source = {{ ref = "the model", date = "-", counted = "{m}" }}\n'
        for m, tol in PATTERNS.items()
    )
    return (
        f'name = "nova-like"\ndescription = "recovery"\ndays = {DAYS}\n[config]\n{config}\n'
        f"[priors]\n{priors}\n[calibration]\n{settings}\n{patterns}"
    )
