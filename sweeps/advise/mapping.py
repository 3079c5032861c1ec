"""From what was observed to the model: the project's configuration and its calibration preset.

:func:`as_is_config` maps the observations (``observed.toml``) onto model parameters, each
by a rule stated in :data:`MAPPING` (the report prints it, with which rules are
approximations). :func:`preset_text` writes the TOML of a preset whose ``[config]`` is that
configuration, whose ``[priors]`` are the behaviour parameters to calibrate and whose
patterns are the project's own (the last year's, the last quarter held out in time);
:func:`model.presets.parse_preset` validates it as it would a shipped preset.
:func:`calibration_settings` turns a budget in minutes into a population and generations.
Pure functions; parameters are named in dicts, so parameters this module does not set keep
the model's defaults (the Nova calibration's posterior medians for the behaviour ones).
"""

from __future__ import annotations

import math
from typing import Any

from model.params import PARAMETERS

WARMUP_DAYS = 60.0

#: parameter → (rule, approximation?) as the report states it
MAPPING: dict[str, tuple[str, bool]] = {
    "n_teams": ("the number of areas kept (directories or MAINTAINERS entries)", False),
    "topology": (
        "single_core for Gerrit/GitHub (one team approves everything); hierarchical for "
        "maintainer trees (pull workflow)",
        False,
    ),
    "branching": (
        "pull workflow: the fan-out that gives the observed tree depth over the areas",
        True,
    ),
    "top_direct_share": ("pull workflow: the observed share landed directly", False),
    "contributors_per_team": (
        "authors landing a change in the last year over the number of areas (every author "
        "taken as active all year, every area as busy as the others)",
        True,
    ),
    "change_rate": (
        "calibrated; its prior is centred on landed changes per day over contributors",
        False,
    ),
    "reviewers_per_area": (
        "reviewers who voted in the last year over the areas when the source has reviews; "
        "otherwise the model's default (git records no reviewer), with review_rate "
        "calibrated so that capacity matches",
        True,
    ),
    "coupling_branching": (
        "areas per co-change community (the size of the code's modules)",
        True,
    ),
    "coupling_sibling_prob": (
        "the model's default scaled by the share of changes touching more than one area "
        "relative to Nova's",
        True,
    ),
    "link_change_prob": (
        "for a split: the share of changes whose areas fall in more than one of its teams",
        True,
    ),
    "gate": ("on for Gerrit (Zuul's gate), off otherwise", False),
}

#: Share of Nova's changes touching more than one area at depth 2 (0.55 in the year to
#: 2026-08-22, by ``orgscale advise`` on openstack/nova): the reference level the model's
#: default coupling is taken to stand for (an assumption, not a calibration).
NOVA_MULTI_AREA_SHARE = 0.55


def n_areas(observed: dict[str, Any]) -> int:
    return max(1, len(observed["areas"]))


def as_is_config(observed: dict[str, Any]) -> dict[str, Any]:
    """Model parameters for the project as it is organised today (see :data:`MAPPING`)."""
    n = n_areas(observed)
    patterns = observed["patterns"]
    authors = patterns.get("authors") or 1.0
    org = observed["organisation"]
    workflow = observed["source"]["workflow"]
    config: dict[str, Any] = {
        "n_teams": n,
        "staffing": "equal_headcount",
        "contributors_per_team": max(1, round(authors / n)),
        "gate": workflow in ("gerrit", "gerrit-export"),
        "warmup_days": WARMUP_DAYS,
    }
    if org["kind"] == "maintainer_trees" and n >= 2:
        depth = org.get("depth")
        depth = 1.0 if depth is None or not math.isfinite(depth) or depth < 1 else depth
        config["topology"] = "hierarchical"
        config["branching"] = max(2, math.ceil(n ** (1.0 / depth) - 1e-9))
        direct = org.get("direct_share")
        if direct is not None and math.isfinite(direct):
            config["top_direct_share"] = min(max(direct, 0.0), 1.0)
    else:
        config["topology"] = "single_core"
    if observed.get("reviewers_active"):
        config["reviewers_per_area"] = max(0.5, observed["reviewers_active"] / n)
    communities = len(observed["groupings"]["cochange"]["groups"])
    config["coupling_branching"] = int(min(max(round(n / max(communities, 1)), 2), 1000))
    multi = observed.get("multi_area_share") or 0.0
    sibling = PARAMETERS["coupling_sibling_prob"].default * multi / NOVA_MULTI_AREA_SHARE
    config["coupling_sibling_prob"] = float(min(max(sibling, 0.0), 1.0))
    return config


def change_rate_guess(observed: dict[str, Any], config: dict[str, Any]) -> float:
    """Landed changes per day over the model's contributors (per contributor, per day)."""
    merged = observed["patterns"].get("merged_per_day") or 0.0
    people = config["contributors_per_team"] * config["n_teams"]
    return max(merged / people, 1e-4)


def priors(observed: dict[str, Any], config: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """Uniform prior ranges of the behaviour parameters calibrated for this project.

    ``change_rate`` from 0.8× to 2.5× the landed rate per contributor (submissions exceed
    landings by what is abandoned); ``review_rate`` over the whole range any calibration so
    far needed; with reviews in the source also ``rework_prob`` and ``patience_days``.
    """
    guess = change_rate_guess(observed, config)
    out = {"change_rate": (0.8 * guess, 2.5 * guess), "review_rate": (0.3, 12.0)}
    if observed.get("reviewers_active"):
        out["rework_prob"] = (0.1, 0.7)
        out["patience_days"] = (5.0, 150.0)
    return out


def _pattern(metric: str, value: float, rel: float, *, pid: str = "", held_out: str = "") -> str:
    lines = ["[[pattern]]"]
    if pid:
        lines.append(f'id = "{pid}"')
    lines += [
        f'metric = "{metric}"',
        f"observed = {value!r}",
        f"tolerance = {{ rel = {rel} }}",
        f"in_sample = {'false' if held_out else 'true'}",
    ]
    if held_out:
        lines.append(f'why = "{held_out}"')
    lines.append('source = { ref = "this project\'s history", date = "DATE", counted = "WHAT" }')
    return "\n".join(lines)


IN_SAMPLE = {  # pattern: relative tolerance
    "merged_per_day": 0.1,
    "lead_time_p25": 0.3,
    "lead_time_p50": 0.25,
    "lead_time_p75": 0.3,
    "submitted_per_day": 0.1,
    "abandoned_per_day": 0.2,
    "review_wait_snapshot_p50": 0.3,
}


def preset_text(observed: dict[str, Any], config: dict[str, Any], days: float) -> str:
    """The TOML of this project's calibration preset (validated by ``parse_preset``)."""
    window = observed["window"]
    span = f"{window.get('since', window['start_days'])} to {window.get('until', '')}"
    lines = [
        'name = "advise"',
        f'description = "{observed["source"]["path"]} as observed, {span}"',
        f"days = {float(days)!r}",
        "",
        "[config]",
    ]
    for key, value in config.items():
        lines.append(f"{key} = {_toml_value(value)}")
    lines += ["", "[priors]"]
    for key, (low, high) in priors(observed, config).items():
        lines.append(f"{key} = [{low!r}, {high!r}]")
    lines.append("")
    patterns = observed["patterns"]
    for metric, rel in IN_SAMPLE.items():
        value = patterns.get(metric)
        if value is not None and math.isfinite(value) and value > 0:
            lines += [_pattern(metric, float(value), rel), ""]
    why = "out of sample in time: the last quarter of the window, fitted as a whole"
    for metric, value in observed.get("late", {}).items():
        if value is not None and math.isfinite(value) and value > 0:
            rel = IN_SAMPLE.get(metric, 0.25)
            lines += [_pattern(metric, float(value), rel, pid=f"{metric}_late", held_out=why), ""]
    text = "\n".join(lines)
    date = f"{window.get('since', '')} to {window.get('until', '')}"
    return text.replace("DATE", date).replace("WHAT", "orgscale advise observe stage")


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def calibration_settings(
    budget_minutes: float, run_seconds: float, jobs: int, n_priors: int
) -> dict[str, int]:
    """Population and most generations for a calibration given ``budget_minutes ×
    CALIBRATION_SHARE`` of runs taking ``run_seconds`` each on ``jobs`` workers: a tenth of
    the runs the budget allows per particle population (generation 0 costs one run a
    particle, later ones a few), at least 10 particles and 3 a parameter, at most 200;
    generations stop at 8 or earlier when the budget is spent
    (:func:`sweeps.advise.pipeline.stage_calibrate` checks the time between generations)."""
    runs = CALIBRATION_SHARE * budget_minutes * 60.0 * jobs / max(run_seconds, 1e-3)
    population = int(min(max(runs / 10.0, 3 * n_priors, 10), 200))
    return {"population": population, "generations": 8}


#: Shares of the budget: calibration, comparison (the rest is observing and reporting).
CALIBRATION_SHARE = 0.6
COMPARISON_SHARE = 0.3
