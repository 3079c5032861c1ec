"""The paper's fits: which metric is fitted against N, on which runs, grouped how.

Not a figure script (its name starts with ``_``). :func:`compute_fits` turns a results
table into the paper's ``fits.json`` document; ``paper/build.py`` writes it (with
``fits.csv``) into the results folder, and the figure scripts read it back through
``_common.load_fits``. Everything is fitted by :mod:`sweeps.fit`; this module only chooses
the runs.

Choice of runs
--------------
* Each fit varies N and its own group columns; every other swept parameter is held at its
  model default (``_common.baseline``).
* Team counts below a fit's ``n_min`` are left out (e.g. N = 1 for integration cost: one
  team has no link to negotiate and nothing to merge).
* Within a group, an N whose mean is not positive is dropped (logarithmic laws need
  positive means) and listed under ``dropped_n``; a group left with fewer than 3 distinct N
  is not fitted and is listed under ``skipped`` with the reason. Runs with a missing (NaN)
  value of the metric are counted under ``n_nan`` and left out.

``fits.json`` (schema ``orgscale-paper-fits``, version 1)
---------------------------------------------------------
::

    {
      "schema": "orgscale-paper-fits", "schema_version": 1,
      "seed": int, "n_bootstrap": int, "level": float, "n_runs": int,
      "fits": {<fit name>: <sweeps.fit.fits_json document> + {
                 "description", "n_min", "vary", "topologies", "skipped": [...]}},
               # each group also carries "id", "dropped_n" and "n_nan"
      "crossovers": {<name>: {"metric", "a", "b", "computed", "nstar", "ci_low", "ci_high", "level",
                              "below", "n_crossings", "boot_fraction", "reason", "n_range"}},
      "summaries": {"n_range": [lo, hi], "topologies": {<topology>: {"n": [...],
                    <metric>: [per-N mean, ...], ...}},
                    "ci": {<topology>: {"n": [...], "off": {...}, "on": {...}}},
                    "fixes": {<topology>: {"n", "share": [...], "integration_cost": [...],
                               "cost_conflicts": [...]}}, "core_reviewers": {...}}
    }
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from _common import baseline, swept, topologies

from model.params import PARAMETERS
from sweeps.fit import DEFAULT_LEVEL, find_crossover, fit_groups, fits_frame, fits_json

SCHEMA = "orgscale-paper-fits"
SPLIT_TOPOLOGIES = ("flat", "hierarchical", "modular")
STRUCTURE_TOPOLOGIES = ("hierarchical", "modular")


@dataclass(frozen=True)
class FitPlan:
    """One fit of the paper: ``metric`` against N for each group of ``by``."""

    name: str
    metric: str
    by: tuple[str, ...]
    n_min: int
    description: str
    topologies: tuple[str, ...] | None = None
    vary: tuple[str, ...] = field(default=())

    def varied(self) -> tuple[str, ...]:
        """Parameters not held at baseline: N and the group columns."""
        return ("n_teams", *self.by, *self.vary)


PLANS: tuple[FitPlan, ...] = (
    FitPlan(
        "integration_cost",
        "integration_cost",
        ("topology", "ci_automation"),
        2,
        "integration cost (person-days/day) vs N, per topology, CI automation off and on",
    ),
    FitPlan(
        "links",
        "links",
        ("topology",),
        2,
        "API links vs N, per split topology",
        topologies=SPLIT_TOPOLOGIES,
    ),
    FitPlan("throughput", "throughput", ("topology",), 1, "throughput (changes/day) vs N"),
    FitPlan("lead_time_mean", "lead_time_mean", ("topology",), 1, "mean lead time (days) vs N"),
    FitPlan(
        "cost_conflicts",
        "cost_conflicts",
        ("topology", "ci_automation"),
        2,
        "conflict cost (person-days/day) vs N, per split topology, CI automation off and on",
        topologies=SPLIT_TOPOLOGIES,
    ),
    FitPlan(
        "integration_cost_structure",
        "integration_cost",
        ("topology", "branching", "locality"),
        2,
        "integration cost vs N per link structure (branching, locality)",
        topologies=STRUCTURE_TOPOLOGIES,
    ),
    FitPlan(
        "links_structure",
        "links",
        ("topology", "branching", "locality"),
        2,
        "API links vs N per link structure (branching, locality)",
        topologies=STRUCTURE_TOPOLOGIES,
    ),
)

CROSSOVERS: tuple[tuple[str, str, str, str], ...] = (
    # name, metric, group A, group B
    ("integration_cost", "integration_cost", "single_core", "hierarchical"),
    ("effort_total", "effort_total", "single_core", "hierarchical"),
    ("effort_per_change", "effort_per_change", "single_core", "hierarchical"),
    ("lead_time_mean", "lead_time_mean", "single_core", "hierarchical"),
)

SUMMARY_METRICS = (
    "throughput",
    "ideal_throughput",
    "efficiency",
    "lead_time_mean",
    "lead_time_p95",
    "review_wait_mean",
    "integration_cost",
    "cost_review",
    "effort_total",
    "effort_per_change",
    "links",
    "link_pain_top_decile_share",
    "link_pain_even_share",
    "link_pain_gini",
    "link_pain_cv",
    "reviewer_utilization",
)
CI_METRICS = (
    "conflicts",
    "conflicts_late",
    "conflicts_caught_early",
    "cost_conflicts",
    "conflict_days_mean",
    "throughput",
)


def group_id(by: tuple[str, ...], key: dict[str, Any]) -> str:
    """Dotted id of a group for the paper's placeholders, e.g. ``flat.ci_off``."""
    parts = []
    for col in by:
        value = key[col]
        if col == "topology":
            parts.append(str(value))
        elif col == "ci_automation":
            parts.append("ci_on" if value else "ci_off")
        else:
            parts.append(f"{col}_{value:g}" if isinstance(value, int | float) else f"{col}_{value}")
    return ".".join(parts) if parts else "all"


def with_derived(df: pd.DataFrame) -> pd.DataFrame:
    """Add the columns the paper derives from each run.

    ``effort_total`` (person-days/day) = ``integration_cost`` + ``cost_review``: all the
    effort of reviewers; ``effort_per_change`` (person-days) = that / throughput, the effort
    per change landed (a saturated organisation spends less per day because it lands less).
    ``ideal_throughput`` (changes/day) = N × contributors × change rate: the demand, which
    perfect scaling would land. ``efficiency`` = throughput /
    ideal. ``link_pain_even_share`` = the top-decile share an even spread would give,
    ⌈0.1·L⌉/L for L links.
    """
    out = df.copy()
    out["effort_total"] = out["integration_cost"] + out["cost_review"]
    landed = out["throughput"].where(out["throughput"] > 0)
    out["effort_per_change"] = out["effort_total"] / landed
    out["ideal_throughput"] = out["n_teams"] * out["contributors_per_team"] * out["change_rate"]
    ideal = out["ideal_throughput"].where(out["ideal_throughput"] > 0)
    out["efficiency"] = out["throughput"] / ideal
    links = out["links"].where(out["links"] > 0)
    out["link_pain_even_share"] = np.ceil(0.1 * links) / links
    return out


def _num(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def json_safe(value: Any) -> Any:
    """``value`` with NumPy scalars made plain and non-finite floats made ``None`` (null)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    value = _plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def fit_plan(
    df: pd.DataFrame, plan: FitPlan, *, rng: np.random.Generator, n_boot: int
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit one plan: its ``fits.json`` entry and its ``fits.csv`` rows."""
    by = [c for c in plan.by if c in df.columns]
    sub = baseline(df, vary=plan.varied())
    if plan.topologies is not None:
        sub = sub[sub["topology"].isin(plan.topologies)]
    sub = sub[sub["n_teams"] >= plan.n_min]
    kept, skipped, extra = [], [], {}
    if not sub.empty:
        for key, group in sub.groupby(by, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            keyd = {c: _plain(v) for c, v in zip(by, key, strict=True)}
            label = ", ".join(f"{c}={v}" for c, v in keyd.items())
            nan = group[plan.metric].isna()
            group = group[~nan]
            means = group.groupby("n_teams")[plan.metric].mean()
            bad = [int(n) for n in means.index[means <= 0]]
            group = group[~group["n_teams"].isin(bad)]
            n_distinct = group["n_teams"].nunique()
            if n_distinct < 3:
                skipped.append(
                    {
                        "key": keyd,
                        "label": label,
                        "reason": f"only {n_distinct} distinct N ≥ {plan.n_min} with a "
                        "positive mean; need at least 3",
                    }
                )
                continue
            extra[label] = {"dropped_n": bad, "n_nan": int(nan.sum())}
            kept.append(group)
    if kept:
        table = fit_groups(pd.concat(kept), plan.metric, by, rng=rng, n_boot=n_boot)
        doc = fits_json(table)
        frame = fits_frame(table)
        frame.insert(0, "fit", plan.name)
    else:
        doc = {
            "schema_version": 1,
            "metric": plan.metric,
            "n_col": "n_teams",
            "by": by,
            "level": DEFAULT_LEVEL,
            "n_bootstrap": n_boot,
            "n_excluded_failed": 0,
            "groups": [],
        }
        frame = pd.DataFrame()
    for group in doc["groups"]:
        group.update(extra[group["label"]])
        group["id"] = group_id(tuple(by), group["key"])
    doc.update(
        description=plan.description,
        n_min=plan.n_min,
        vary=list(plan.varied()),
        topologies=list(plan.topologies) if plan.topologies else None,
        skipped=skipped,
    )
    return doc, frame


def crossover(
    df: pd.DataFrame,
    metric: str,
    a: str,
    b: str,
    *,
    rng: np.random.Generator,
    n_boot: int,
) -> dict[str, Any]:
    """Crossover N* of ``metric`` between topologies ``a`` and ``b`` at baseline."""
    sub = baseline(df)
    sub = sub[sub[metric].notna()]
    ga, gb = sub[sub["topology"] == a], sub[sub["topology"] == b]
    shared = sorted(set(ga["n_teams"]) & set(gb["n_teams"]))
    out: dict[str, Any] = {"metric": metric, "a": a, "b": b}
    reason = ""
    if len(shared) < 3:
        reason = f"{a} and {b} share {len(shared)} team count(s); need at least 3"
    else:
        ga, gb = ga[ga["n_teams"].isin(shared)], gb[gb["n_teams"].isin(shared)]
        try:
            result = find_crossover(
                ga["n_teams"].to_numpy(float),
                ga[metric].to_numpy(float),
                gb["n_teams"].to_numpy(float),
                gb[metric].to_numpy(float),
                rng=rng,
                n_boot=n_boot,
                labels=(a, b),
            )
        except ValueError as err:
            reason = f"not computed: {err}"
    if reason:
        out.update(
            computed=False,
            nstar=None,
            ci_low=None,
            ci_high=None,
            level=DEFAULT_LEVEL,
            below=None,
            n_crossings=0,
            boot_fraction=0.0,
            reason=reason,
            n_range=[int(v) for v in shared[:1] + shared[-1:]],
        )
        return out
    out.update(
        computed=True,
        nstar=result.nstar,
        ci_low=result.ci_low,
        ci_high=result.ci_high,
        level=result.level,
        below=result.below,
        n_crossings=result.n_crossings,
        boot_fraction=result.boot_fraction,
        reason=result.reason,
        n_range=[int(shared[0]), int(shared[-1])],
    )
    return out


def _per_n(group: pd.DataFrame, metrics: tuple[str, ...]) -> dict[str, Any]:
    means = group.groupby("n_teams")[list(metrics)].mean().sort_index()
    out: dict[str, Any] = {"n": [int(n) for n in means.index]}
    for m in metrics:
        out[m] = [_num(v) for v in means[m]]
    return out


def summaries(df: pd.DataFrame) -> dict[str, Any]:
    """Per-N means the paper quotes: per topology at baseline, and CI automation off/on."""
    out: dict[str, Any] = {
        "n_range": [int(df["n_teams"].min()), int(df["n_teams"].max())],
        "topologies": {},
        "ci": {},
        "fixes": {},
        "core_reviewers": {},
    }
    base = baseline(df)
    for topo in topologies(base):
        out["topologies"][topo] = _per_n(base[base["topology"] == topo], SUMMARY_METRICS)
    with_ci = baseline(df, vary=("n_teams", "ci_automation"))
    for topo in topologies(with_ci):
        if topo not in SPLIT_TOPOLOGIES:
            continue
        g = with_ci[with_ci["topology"] == topo]
        if set(g["ci_automation"].unique()) != {False, True}:
            continue
        off, on = g[~g["ci_automation"]], g[g["ci_automation"]]
        shared = sorted(set(off["n_teams"]) & set(on["n_teams"]))
        off, on = off[off["n_teams"].isin(shared)], on[on["n_teams"].isin(shared)]
        out["ci"][topo] = {
            "n": [int(n) for n in shared],
            "off": {k: v for k, v in _per_n(off, CI_METRICS).items() if k != "n"},
            "on": {k: v for k, v in _per_n(on, CI_METRICS).items() if k != "n"},
        }
    # H5's second half: does fixing the worst APIs (fixed_link_share) cut the cost?
    if len(swept(df, "fixed_link_share")) >= 2:
        fixes = baseline(df, vary=("n_teams", "fixed_link_share"))
        for topo in topologies(fixes):
            if topo not in SPLIT_TOPOLOGIES:
                continue
            g = fixes[fixes["topology"] == topo]
            counts = g.groupby("n_teams")["fixed_link_share"].nunique()
            if counts.max() < 2:
                continue
            n = int(counts[counts == counts.max()].index.max())
            g = g[g["n_teams"] == n]
            means = g.groupby("fixed_link_share")[["integration_cost", "cost_conflicts"]].mean()
            means = means.sort_index()
            out["fixes"][topo] = {
                "n": n,
                "share": [float(s) for s in means.index],
                "integration_cost": [_num(v) for v in means["integration_cost"]],
                "cost_conflicts": [_num(v) for v in means["cost_conflicts"]],
            }
    # H7: more reviewers in one core team. The series is the set of single-core runs that
    # differ only in core_reviewers (and seed) with the most distinct team sizes.
    core = df[df["topology"] == "single_core"]
    if len(swept(core, "core_reviewers")) >= 3:
        others = [
            p
            for p in PARAMETERS
            if p in core.columns and p != "core_reviewers" and core[p].nunique(dropna=False) > 1
        ]
        series = [g for _, g in core.groupby(others, dropna=False)] if others else [core]
        best = max(series, key=lambda g: g["core_reviewers"].nunique())
        if best["core_reviewers"].nunique() >= 3:
            out["core_reviewers"] = {"runs": best}
    return out


def _fit_core_reviewers(core: pd.DataFrame, rng: np.random.Generator, n_boot: int) -> dict:
    """Throughput vs core-team size m, all else equal (H7: ∝ m^½ expected).

    The power law is fitted over the rising part, m up to the size with the highest mean
    throughput (``m_peak``), when that holds at least 3 sizes; beyond the peak more reviewers
    lower the output, which no power law with positive exponent describes. ``per_m`` keeps
    the mean throughput at every m.
    """
    core = core[core["throughput"] > 0]
    means = core.groupby("core_reviewers")["throughput"].mean().sort_index()
    m_peak = int(means.idxmax())
    rising = core[core["core_reviewers"] <= m_peak]
    used = rising if rising["core_reviewers"].nunique() >= 3 else core
    table = fit_groups(used, "throughput", [], n_col="core_reviewers", rng=rng, n_boot=n_boot)
    doc = fits_json(table)
    doc["n_teams"] = int(core["n_teams"].iloc[0])
    doc["contributors_per_team"] = int(core["contributors_per_team"].iloc[0])
    doc["demand"] = float(core["ideal_throughput"].iloc[0])
    doc["m_peak"] = m_peak
    doc["rising_only"] = used is rising
    doc["per_m"] = {"m": [int(m) for m in means.index], "throughput": [float(v) for v in means]}
    return doc


def compute_fits(df: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The paper's ``fits.json`` document for a results table (see the module docstring)."""
    return compute_fits_and_frame(df, n_boot=n_boot, seed=seed)[0]


def compute_fits_and_frame(
    df: pd.DataFrame, *, n_boot: int = 1000, seed: int = 0
) -> tuple[dict[str, Any], pd.DataFrame]:
    """``fits.json`` document and ``fits.csv`` table (one row per fit, group and law)."""
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    if df.empty:
        raise ValueError("the results table has no successful runs to fit")
    df = with_derived(df)
    rngs = np.random.default_rng(seed).spawn(len(PLANS) + len(CROSSOVERS) + 1)
    fits, frames = {}, []
    for plan, rng in zip(PLANS, rngs, strict=False):
        fits[plan.name], frame = fit_plan(df, plan, rng=rng, n_boot=n_boot)
        frames.append(frame)
    crossovers = {}
    for (name, metric, a, b), rng in zip(CROSSOVERS, rngs[len(PLANS) :], strict=False):
        crossovers[name] = crossover(df, metric, a, b, rng=rng, n_boot=n_boot)
    summ = summaries(df)
    core = summ.pop("core_reviewers")
    if core:
        summ["core_reviewers"] = _fit_core_reviewers(core["runs"], rngs[-1], n_boot)
    else:
        summ["core_reviewers"] = {}
    doc = {
        "schema": SCHEMA,
        "schema_version": 1,
        "seed": seed,
        "n_bootstrap": n_boot,
        "level": DEFAULT_LEVEL,
        "n_runs": len(df),
        "fits": fits,
        "crossovers": crossovers,
        "summaries": summ,
    }
    frames = [f for f in frames if not f.empty]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return json_safe(doc), frame
