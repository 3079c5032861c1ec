"""Every number of the paper, computed once from the results tables: science, no rendering.

:func:`compute` turns the runs of the paper sweep (and, when present, of the sensitivity
sweep and the validation table) into one JSON-ready document, ``paper_numbers.json``, that
the figures and the text read. Each number with an interval is computed here by one
bootstrap and stored with its CI; wherever the paper quotes it, it quotes this record, so a
number never has two intervals.

What it computes:

* per organisation, CI automation off/on and N: replicate means with CIs of landed share,
  paid reviewer-days per landed change, busy person-days per landed change (review +
  integration), each cost part, lead time (Kaplan–Meier median) and the share of
  saturated replicates (:func:`curves`);
* per organisation and cost part, the scaling laws fitted over the unsaturated N only
  (:func:`part_fits`; none on fewer than :data:`MIN_FIT_N` of them), with χ²/dof,
  whether any law fits, each candidate's parameters and AICc rank (the USL's among them
  where it is a candidate), where the fitted range ends and the local slope at the
  largest fitted N; organisations whose runs are bit-identical are fitted once under
  both names (:func:`identical_configurations`);
* crossovers N* of the split against one core on lead time, paid and busy days per
  landed change (:func:`crossovers`), at equal headcount and, under ``crossovers_earned``,
  when every team earns its own reviewers;
* the same curves under the other staffing policies, fixed core and earned trust, keyed
  ``"<org>.<off|on>.<staffing>"`` (:data:`STAFFINGS`);
* what CI automation removes and what it only moves (:func:`automation`);
* the inputs of each hypothesis test and its verdict (:func:`hypotheses`, tests in
  :mod:`verdicts`), including the inputs and rules that decide whether a verdict only
  restates the set-up ("by construction"), and the comparisons an input decides
  (:func:`construction`: paid reviewer-days under equal headcount, the hierarchy's lead
  time against its pull schedule);
* the sensitivity analysis: Sobol indices, the share of the plausible space in which
  each verdict holds and in which each organisation saturates at each N, with intervals
  by a cluster bootstrap over the design's base points (:func:`share`,
  :func:`sample_clusters`) (:func:`sensitivity`), and where N* lies over that space, both as
  brackets (:func:`nstar_brackets`) and as a continuous spread interpolated between the
  sweep's two N (:func:`nstar_spread`);
* how concentrated link pain is at the largest N against the input badness, from the
  per-link rows of ``paper/link_pain.py`` (:func:`link_pain_concentration`), and H5's
  rank correlation between a link's badness and its pain (:func:`link_rank_correlation`).

Reads nothing itself: callers pass DataFrames (``paper/build.py`` loads them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import verdicts as vd

from model.params import PARAMETERS

#: The organisations compared, each a set of parameter values (the rest at defaults).
ORGS: dict[str, dict[str, Any]] = {
    "single_core": {"topology": "single_core"},
    "flat": {"topology": "flat"},
    "hierarchical": {"topology": "hierarchical", "branching": 0},
    "tree4": {"topology": "hierarchical", "branching": 4},
    "modular": {"topology": "modular", "locality": 0.5},
}
ORG_LABELS = {
    "single_core": "one core team",
    "flat": "flat (all-to-all)",
    "hierarchical": "hierarchy (drivers-core)",
    "tree4": "maintainer tree (fan-out 4)",
    "modular": "modular (locality 0.5)",
    "modular_l0": "modular (locality 0)",
    "modular_l1": "modular (locality 1)",
}
SPLITS = ("flat", "hierarchical", "tree4", "modular")
#: Link structures compared for near-linear cost (automation off).
STRUCTURES: dict[str, dict[str, Any]] = {
    "flat": ORGS["flat"],
    "modular_l0": {"topology": "modular", "locality": 0.0},
    "modular": ORGS["modular"],
    "modular_l1": {"topology": "modular", "locality": 1.0},
    "hierarchical": ORGS["hierarchical"],
    "tree4": ORGS["tree4"],
}
PARTS = (
    "cost_review",
    "cost_coordination",
    "cost_negotiation",
    "cost_merges",
    "cost_conflicts",
    "cost_rebase",
)
PART_LABELS = {
    "cost_review": "review",
    "cost_coordination": "coordination",
    "cost_negotiation": "negotiation",
    "cost_merges": "merges",
    "cost_conflicts": "conflicts",
    "cost_rebase": "rebases",
    "integration_cost": "integration (all but review)",
    "busy_total": "total busy (review + integration)",
}
#: Per-run outputs summarised per N (derived ones are added by :func:`derive`).
CURVE_METRICS = (
    "landed_share",
    "paid_reviewer_days_per_change",
    "busy_per_change",
    "integration_per_change",
    "lead_time_km_p50",
    "lead_time_censored_share",
    "merged_per_day",
    "saturated",
    "max_team_utilization",
    *PARTS,
    *(f"{p}_per_change" for p in PARTS),
    "integration_cost",
    "busy_total",
    "conflicts_late",
    "conflicts_caught_early",
    "conflict_days_mean",
    "review_wait_p50",
    "link_pain_top_decile_share",
    "links",
)
SCHEMA = "orgscale-paper-numbers/3"
"""Schema of the numbers document: numbers of another schema are recomputed, not read."""
SPLIT_MIN_N = 2
"""Smallest N a split is fitted and compared at. A "split" of one area is no split, and its
one-reviewer teams need only one approval (``approvals_needed`` is capped at a team's size),
which halves its review work."""
SATURATED_SHARE = 0.5
"""An (organisation, N) point is saturated when any of its replicates ran away (its backlog
passed ``stop_backlog_days`` of demand and the run stopped) or at least this share of them
is flagged saturated. A mean over replicates some of which ran away mixes a queue without a
steady state into steady ones, so it is neither, and no point on a scaling law. A flag
alone is not a runaway: the backlog test (growth over the window above a quarter of its mean
level or 10 changes) has a noise floor. In the paper sweep one of six replicates of one core
(equal headcount) at N = 8 was flagged with a backlog that "grew" by 10.9 changes, against
a mean of about 40 and none of 40 fresh seeds at that point, none of the six at N = 16 or
32; counting any flagged replicate made that core "keep up to N = 4" while every replicate
above kept up."""


def point_saturated(at: pd.DataFrame) -> bool:
    """Whether the replicates ``at`` of one (organisation, N) point make it saturated: any
    stopped early (ran away), or a share of at least :data:`SATURATED_SHARE` flagged."""
    stopped = at["stopped_at_day"].notna().any() if "stopped_at_day" in at.columns else False
    return bool(stopped or float(at["saturated"].mean()) >= SATURATED_SHARE)


# ----------------------------------------------------------------------------- selection


def derive(df: pd.DataFrame) -> pd.DataFrame:
    """Add per-run outputs the paper uses: busy person-days (review + integration) per day
    and per landed contribution, and integration person-days per landed contribution (a
    split's own API changes are its cost, not its output: they are not counted as landed)."""
    out = df.copy()
    out["busy_total"] = out["cost_review"] + out["integration_cost"]
    landed = out["contributions_landed_per_day"]
    landed = landed.where(landed > 0)
    out["busy_per_change"] = out["busy_total"] / landed
    out["integration_per_change"] = out["integration_cost"] / landed
    for part in PARTS:
        out[f"{part}_per_change"] = out[part] / landed
    return out


#: Parameters that say how long a run goes, not what it models: never a filter of
#: :func:`select` unless asked for. ``stop_backlog_days`` changes no run that does not stop,
#: and a run that stops is saturated (its ``stopped_at_day`` says when), so blocks that set
#: it differently still describe the same organisations.
RUN_CONTROLS = frozenset({"stop_backlog_days"})


def select(df: pd.DataFrame, vary: Sequence[str] = ("n_teams",), **params: Any) -> pd.DataFrame:
    """Runs with ``params`` and every other swept model parameter at its default, except
    ``vary`` and the :data:`RUN_CONTROLS`. A parameter with one value in the whole table
    (fixed by the spec) is not a filter."""
    mask = pd.Series(True, index=df.index)
    for name, spec in PARAMETERS.items():
        if name not in df.columns or name in vary:
            continue
        if name in RUN_CONTROLS and name not in params:
            continue
        if name not in params and df[name].nunique(dropna=False) <= 1:
            continue
        value = params.get(name, spec.default)
        mask &= df[name] == value
    return df[mask]


def org_runs(
    df: pd.DataFrame, org: str, ci: bool, staffing: str = "equal_headcount", **extra: Any
) -> pd.DataFrame:
    """Runs of organisation ``org`` with CI automation ``ci`` under ``staffing`` (equal
    headcount unless asked: the paper's comparison), every other parameter at its default
    unless given in ``extra``. Blocks of another staffing never mix into a curve."""
    spec = {**(ORGS.get(org) or STRUCTURES[org]), **extra}
    if spec["topology"] == "single_core" and ci:
        return df.iloc[0:0]
    return select(df, **spec, ci_automation=ci, staffing=staffing)


def _rng(*key: Any) -> np.random.Generator:
    """A generator seeded from a key, so each number's bootstrap is fixed and independent."""
    text = "|".join(map(str, key))
    return np.random.default_rng(int.from_bytes(text.encode(), "little") % (2**63))


def _est(values: Any, *key: Any) -> dict[str, float]:
    return vd.mean_estimate(values, rng=_rng(*key)).to_dict()


# ----------------------------------------------------------------------------- curves


def curve(runs: pd.DataFrame, key: str, metrics: Sequence[str] = CURVE_METRICS) -> dict:
    """Per-N replicate means with CIs of ``metrics``, which N are saturated, and the share
    of each N's replicates that stopped early (``stopped_share``: saturated runs ended by
    ``stop_backlog_days``, measured from warm-up to their stop; 0 for a table without
    the column)."""
    ns = sorted(runs["n_teams"].unique())
    out: dict[str, Any] = {
        "n": [int(n) for n in ns],
        "replicates": [],
        "saturated_n": [],
        "stopped_share": [],
    }
    for metric in metrics:
        out[metric] = []
    for n in ns:
        at = runs[runs["n_teams"] == n]
        out["replicates"].append(len(at))
        out["saturated_n"].append(point_saturated(at))
        stopped = at["stopped_at_day"].notna() if "stopped_at_day" in at.columns else None
        out["stopped_share"].append(float(stopped.mean()) if stopped is not None else 0.0)
        for metric in metrics:
            if metric in at.columns:
                out[metric].append(_est(at[metric], key, metric, n))
            else:
                out[metric].append(vd.Estimate.missing().to_dict())
    out["fitted_until"] = fitted_until(out["n"], out["saturated_n"])
    return out


def fitted_until(ns: Sequence[int], saturated: Sequence[bool]) -> int | None:
    """The largest N of the unsaturated range that starts at the smallest N (None if the
    smallest N is already saturated)."""
    last = None
    for n, sat in zip(ns, saturated, strict=True):
        if sat:
            break
        last = n
    return last


#: Staffing policies compared side by side with equal headcount, each under its own curve
#: keys ``"<org>.<off|on>.<staffing>"``: a core that does not grow (``fixed_core``, Nova's
#: 17; its splits get ``reviewers_per_team`` a team) and reviewers who earn trust
#: (``earned``: every team promotes its own under the same rules). The plain keys
#: ``"<org>.<off|on>"`` are equal headcount.
STAFFINGS = ("earned", "fixed_core")


def curves(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Every organisation's curves, automation off and (for splits) on: at equal headcount
    under ``"<org>.<off|on>"``, and under each other staffing the sweep ran it with under
    ``"<org>.<off|on>.<staffing>"`` (:data:`STAFFINGS`)."""
    out = {}
    for org in ORGS:
        for ci in (False, True):
            runs = org_runs(df, org, ci)
            if runs.empty:
                continue
            out[f"{org}.{'on' if ci else 'off'}"] = curve(runs, (org, ci))
    for org in ("modular_l0", "modular_l1"):
        runs = org_runs(df, org, False)
        if not runs.empty:
            out[f"{org}.off"] = curve(runs, (org, False))
    for staffing in STAFFINGS:
        for org in ORGS:
            for ci in (False, True):
                runs = org_runs(df, org, ci, staffing=staffing)
                if runs.empty:
                    continue
                out[f"{org}.{'on' if ci else 'off'}.{staffing}"] = curve(runs, (org, ci, staffing))
    return out


# ----------------------------------------------------------------------------- fits


MIN_FIT_N = 4
"""Fewest distinct unsaturated N a law is fitted on: with three, a two-parameter law has one
degree of freedom left and the comparison of laws says little."""


def _finite(x: Any) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _candidate(f: Any, comparison: Any) -> dict[str, Any]:
    """One candidate law: its parameters, fit and rank by AICc among the candidates
    (1: the smallest AICc; None when its AICc is not finite, e.g. too few N for its
    parameters)."""
    finite = [g.aicc for g in comparison.fits if math.isfinite(g.aicc)]
    rank = 1 + sum(a < f.aicc for a in finite) if math.isfinite(f.aicc) else None
    return {
        "formula": f.formula,
        "params": dict(zip(f.names, map(_finite, f.estimates), strict=True)),
        "stderrs": dict(zip(f.names, map(_finite, f.stderrs), strict=True)),
        "chi2_dof": f.chi2_dof,
        "p_value": f.p_value,
        "delta_aicc": _finite(f.delta_aicc),
        "weight": _finite(f.weight),
        "fits": f.fits,
        "rank": rank,
        "of": len(finite),
        "chosen": f.law == comparison.best,
        "note": f.note,
    }


def _law_record(comparison: Any) -> dict[str, Any]:
    chosen = comparison.chosen
    candidates = {f.law: _candidate(f, comparison) for f in comparison.fits}
    rec = {
        "best": comparison.best,
        "formula": chosen.formula,
        "params": dict(zip(chosen.names, chosen.estimates, strict=True)),
        "stderrs": dict(zip(chosen.names, chosen.stderrs, strict=True)),
        "chi2_dof": chosen.chi2_dof,
        "p_value": chosen.p_value,
        "fits": chosen.fits,
        "any_fits": comparison.any_fits,
        "weight": comparison.best_weight,
        "candidates": candidates,
    }
    if "usl" in candidates:  # the USL where it is a candidate (throughputs): shown as such
        rec["usl"] = candidates["usl"]
    return rec


def fit_part(
    runs: pd.DataFrame, metric: str, until: int | None, key: Any, laws: Sequence[str]
) -> dict[str, Any]:
    """Fit ``metric`` against N over N ≤ ``until`` (the unsaturated range)."""
    from sweeps import fit

    if until is None:
        return {"skipped": "saturated from the smallest N"}
    use = runs[(runs["n_teams"] <= until) & np.isfinite(runs[metric])]
    n, y = use["n_teams"].to_numpy(float), use[metric].to_numpy(float)
    if np.unique(n).size < MIN_FIT_N:
        return _too_few(np.unique(n).size, until)
    means = pd.Series(y).groupby(n).mean()
    if (means <= 0).any():
        zero = [f"{k:g}" for k in means.index[means <= 0]]
        if (means <= 0).all():
            return {"skipped": "zero at every N"}
        keep = means.index[means > 0]
        # the exponent is a log law: fit from the first N with a positive mean
        first = keep.min()
        if not (means.loc[means.index >= first] > 0).all():
            return {"skipped": f"zero at N = {', '.join(zero)}"}
        mask = n >= first
        n, y = n[mask], y[mask]
        if np.unique(n).size < MIN_FIT_N:
            return _too_few(np.unique(n).size, until, "positive ")
    try:
        scaling = fit.fit_scaling(n, y, rng=_rng("fit", *key, metric), n_boot=1000, laws=laws)
    except ValueError as err:
        return {"skipped": str(err)}
    e = scaling.exponent
    slopes = [s for s in _slopes(scaling.slopes) if math.isfinite(s["slope"])]
    return {
        "n_from": float(np.min(n)),
        "n_to": float(np.max(n)),
        "exponent": {
            "value": e.estimate,
            "low": _nan(e.ci_low),
            "high": _nan(e.ci_high),
            "level": e.level,
            "n": int(n.size),
        },
        "law": _law_record(scaling.laws),
        "last_slope": slopes[-1] if slopes else None,
    }


def _too_few(k: int, until: int, what: str = "") -> dict[str, Any]:
    """The record of a fit not made: fewer than :data:`MIN_FIT_N` distinct N."""
    return {
        "skipped": f"too few {what}unsaturated N ({k}; a law needs {MIN_FIT_N}, up to N = {until})",
        "too_few_n": int(k),
    }


def _nan(x: Any) -> float:
    return math.nan if x is None else float(x)


def _slopes(local: Any) -> list[dict[str, float]]:
    return [
        {"n": float(n), "slope": float(s), "low": _nan(lo), "high": _nan(hi)}
        for n, s, lo, hi in zip(local.n, local.slope, local.ci_low, local.ci_high, strict=True)
    ]


#: Columns that are not results of a run (its identity, bookkeeping and parameters).
_NOT_RESULTS = {"run_id", "replicate", "seed", "days", "status", "error", "wall_s"}


def result_columns(df: pd.DataFrame) -> list[str]:
    """The numeric result columns of a runs table (no parameter, no bookkeeping)."""
    return [
        c
        for c in df.columns
        if c not in PARAMETERS and c not in _NOT_RESULTS and pd.api.types.is_numeric_dtype(df[c])
    ]


def identical_configurations(df: pd.DataFrame, orgs: Sequence[str]) -> list[list[str]]:
    """Groups of organisations (automation off) whose runs are bit-identical: the same N
    and replicates, and every result column equal value for value (NaN equal to NaN), as
    when two parameter settings build the same organisation (e.g. modular with locality 1
    and the maintainer tree of fan-out 4). Groups of one are left out."""
    cols = result_columns(df)
    groups: list[tuple[pd.DataFrame, list[str]]] = []
    for org in orgs:
        runs = org_runs(df, org, False)
        if runs.empty:
            continue
        runs = runs.sort_values(["n_teams", "replicate"], kind="stable")
        table = runs[["n_teams", "replicate", *cols]].to_numpy(float)
        for other, names in groups:
            if other.shape == table.shape and np.array_equal(other, table, equal_nan=True):
                names.append(org)
                break
        else:
            groups.append((table, [org]))
    return [names for _, names in groups if len(names) > 1]


def part_fits(df: pd.DataFrame, curves_doc: Mapping[str, Any]) -> dict[str, Any]:
    """Scaling laws of each cost part, integration and busy total per organisation (off).

    Organisations whose runs are bit-identical (:func:`identical_configurations`) are
    fitted and reported once, under the first one's key, with ``names`` listing all."""
    from sweeps.fit import COST_LAWS, THROUGHPUT_LAWS

    out: dict[str, Any] = {}
    orgs = [*ORGS, "modular_l0", "modular_l1"]
    same = {names[0]: names for names in identical_configurations(df, orgs)}
    repeated = {o for names in same.values() for o in names[1:]}
    for org in orgs:
        key = f"{org}.off"
        if key not in curves_doc or org in repeated:
            continue
        runs = org_runs(df, org, False)
        if org != "single_core":
            runs = runs[runs["n_teams"] >= SPLIT_MIN_N]
        until = curves_doc[key]["fitted_until"]
        parts = {
            metric: fit_part(runs, metric, until, (org,), COST_LAWS)
            for metric in (*PARTS, "integration_cost", "busy_total")
        }
        parts["merged_per_day"] = fit_part(runs, "merged_per_day", until, (org,), THROUGHPUT_LAWS)
        parts["links"] = fit_part(runs, "links", curves_doc[key]["n"][-1], (org,), COST_LAWS)
        out[org] = {
            "fitted_until": until,
            "largest_n": curves_doc[key]["n"][-1],
            "names": same.get(org, [org]),
            "parts": parts,
        }
    return out


# ----------------------------------------------------------------------------- crossovers


def crossover(a: pd.DataFrame, b: pd.DataFrame, metric: str, key: Any) -> dict[str, Any]:
    """N* where organisation A's ``metric`` and B's cross (bootstrap CI), over the N both
    have finite values at."""
    from sweeps.fit import find_crossover

    a = a[np.isfinite(a[metric])]
    b = b[np.isfinite(b[metric])]
    common = sorted(set(a["n_teams"]) & set(b["n_teams"]))
    a, b = a[a["n_teams"].isin(common)], b[b["n_teams"].isin(common)]
    if len(common) < 2:
        return {"nstar": None, "reason": "fewer than 2 N with values for both", "n_range": []}
    try:
        c = find_crossover(
            a["n_teams"],
            a[metric],
            b["n_teams"],
            b[metric],
            rng=_rng("cross", *key, metric),
            n_boot=1000,
            labels=("core", "split"),
        )
    except ValueError as err:
        return {"nstar": None, "reason": str(err), "n_range": [int(common[0]), int(common[-1])]}
    return {
        "nstar": c.nstar,
        "low": c.ci_low,
        "high": c.ci_high,
        "level": c.level,
        "below": c.below,
        "n_crossings": c.n_crossings,
        "boot_fraction": c.boot_fraction,
        "reason": c.reason,
        "n_range": [int(common[0]), int(common[-1])],
    }


CROSS_METRICS = (
    "lead_time_km_p50",
    "paid_reviewer_days_per_change",
    "busy_per_change",
    "integration_per_change",
    *(f"{p}_per_change" for p in PARTS),
)


def _unsaturated_n(curve: Mapping[str, Any]) -> set[int]:
    return {int(n) for n, sat in zip(curve["n"], curve["saturated_n"], strict=True) if not sat}


def resolved_signs(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> dict[int, int]:
    """Per N, the sign of mean(B) − mean(A) where it exceeds twice its standard error
    (Welch), else 0: the difference the replicates resolve at that N."""
    out: dict[int, int] = {}
    for n in sorted(set(a["n_teams"]) & set(b["n_teams"])):
        x = a.loc[a["n_teams"] == n, metric].to_numpy(float)
        y = b.loc[b["n_teams"] == n, metric].to_numpy(float)
        if len(x) < 2 or len(y) < 2:
            out[int(n)] = 0
            continue
        diff = y.mean() - x.mean()
        se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
        out[int(n)] = int(np.sign(diff)) if abs(diff) > 2 * se else 0
    return out


def _is_resolved(c: Mapping[str, Any], signs: Mapping[int, int]) -> bool:
    """A crossover is credible when some N below N* resolves the order claimed there and
    some N above resolves the opposite order."""
    below_sign = 1 if c["below"] == "core" else -1  # sign of split − core below N*
    lower = [s for n, s in signs.items() if n < c["nstar"]]
    upper = [s for n, s in signs.items() if n > c["nstar"]]
    return below_sign in lower and -below_sign in upper


def _unresolved_reason(signs: Mapping[int, int]) -> str:
    parts = []
    for sign, what in ((0, "within 2 standard errors of one core"), (1, "higher"), (-1, "lower")):
        picked = [str(n) for n, s in signs.items() if s == sign]
        if picked:
            parts.append(f"{what} at N = {', '.join(picked)}")
    return "no resolved crossover: the split is " + "; ".join(parts)


def crossovers(
    df: pd.DataFrame, curves_doc: Mapping[str, Any], staffing: str = "equal_headcount"
) -> dict[str, Any]:
    """N* of each split (automation off and on) against one core, per metric, over the N
    where both are unsaturated (a saturated run's costs and lead times are those of a
    queue that never empties, not points on a curve). A crossover is reported only when
    the replicates resolve the order on both sides of it (:func:`_is_resolved`). Both
    sides under the same ``staffing`` (keys as in :func:`curves`; empty when the sweep did
    not run one core under it)."""
    suffix = "" if staffing == "equal_headcount" else f".{staffing}"
    if f"single_core.off{suffix}" not in curves_doc:
        return {}
    core = org_runs(df, "single_core", False, staffing=staffing)
    core = core[core["n_teams"] >= SPLIT_MIN_N]
    core_ok = _unsaturated_n(curves_doc[f"single_core.off{suffix}"])
    out: dict[str, Any] = {}
    for org in SPLITS:
        for ci in (False, True):
            key = f"{org}.{'on' if ci else 'off'}{suffix}"
            split = org_runs(df, org, ci, staffing=staffing)
            split = split[split["n_teams"] >= SPLIT_MIN_N]
            if split.empty or core.empty or key not in curves_doc:
                continue
            both = core_ok & _unsaturated_n(curves_doc[key])
            a = core[core["n_teams"].isin(both)]
            b = split[split["n_teams"].isin(both)]
            rec: dict[str, Any] = {}
            for metric in CROSS_METRICS:
                c = crossover(a, b, metric, (org, ci) if not suffix else (org, ci, staffing))
                if c.get("nstar") is not None:
                    signs = resolved_signs(a, b, metric)
                    if not _is_resolved(c, signs):
                        c = {**c, "nstar": None, "reason": _unresolved_reason(signs)}
                rec[metric] = c
            out[key] = rec
    return out


# ----------------------------------------------------------------------------- automation


def _largest_common_unsaturated(curves_doc: Mapping[str, Any], *keys: str) -> int | None:
    tops = [curves_doc[k]["fitted_until"] for k in keys if k in curves_doc]
    if len(tops) < len(keys) or any(t is None for t in tops):
        return None
    return int(min(tops))


def automation(df: pd.DataFrame, curves_doc: Mapping[str, Any]) -> dict[str, Any]:
    """Automation on vs off, per split, at the largest N where both are unsaturated:
    what it removes (integration cost per landed change, by part) and what it only moves
    (conflicts found early instead of late; all conflicts found)."""
    out: dict[str, Any] = {}
    for org in SPLITS:
        n = _largest_common_unsaturated(curves_doc, f"{org}.off", f"{org}.on")
        if n is None:
            continue
        off = org_runs(df, org, False)
        on = org_runs(df, org, True)
        off, on = off[off["n_teams"] == n], on[on["n_teams"] == n]
        key = ("auto", org, n)
        rec: dict[str, Any] = {"n": n}
        for metric in (
            "integration_per_change",
            *[f"{p}_per_change" for p in PARTS if p != "cost_review"],
        ):
            rec[f"{metric}_ratio"] = vd.ratio_estimate(
                on[metric], off[metric], rng=_rng(*key, metric)
            ).to_dict()
            rec[f"{metric}_off"] = _est(off[metric], *key, metric, "off")
            rec[f"{metric}_on"] = _est(on[metric], *key, metric, "on")
        total_on = on["conflicts_late"] + on["conflicts_caught_early"]
        rec["conflicts_total_ratio"] = vd.ratio_estimate(
            total_on, off["conflicts_late"], rng=_rng(*key, "all")
        ).to_dict()
        rec["late_ratio"] = vd.ratio_estimate(
            on["conflicts_late"], off["conflicts_late"], rng=_rng(*key, "late")
        ).to_dict()
        rec["late_events_off"] = float(off["conflicts_late"].sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            early_share = (on["conflicts_caught_early"] / total_on).where(total_on > 0)
        rec["early_share_on"] = _est(early_share, *key, "early")
        rec["conflicts_late_off"] = _est(off["conflicts_late"], *key, "late_off")
        rec["conflicts_late_on"] = _est(on["conflicts_late"], *key, "late_on")
        rec["conflicts_early_on"] = _est(on["conflicts_caught_early"], *key, "early_on")
        rec["work_per_conflict_off"] = _est(off["conflict_days_mean"], *key, "wpc_off")
        rec["work_per_conflict_on"] = _est(on["conflict_days_mean"], *key, "wpc_on")
        rec["work_per_conflict_ratio"] = vd.ratio_estimate(
            on["conflict_days_mean"], off["conflict_days_mean"], rng=_rng(*key, "wpc")
        ).to_dict()
        # the inputs that set the early share and the work per conflict (one value each in
        # the paper sweep; a mean if a table mixes them)
        p_early = float(on["ci_detection_prob"].mean())
        fix_days = float(on["conflict_fix_days"].mean())
        rec["ci_detection_prob"] = p_early
        rec["conflict_fix_days"] = fix_days
        rec["work_per_conflict_by_rule"] = vd.conflict_work_by_rule(
            p_early, float(off["conflict_days_mean"].mean()), fix_days
        )
        out[org] = rec
    return out


# ----------------------------------------------------------------------------- hypotheses


def _at_n(runs: pd.DataFrame, n: int, metric: str) -> np.ndarray:
    return runs.loc[runs["n_teams"] == n, metric].to_numpy(float)


def _first_saturated(c: Mapping[str, Any]) -> tuple[float, int | None]:
    for n, sat, share in zip(c["n"], c["saturated_n"], c["saturated"], strict=True):
        if sat:
            return share["value"], n
    return 0.0, None


def h7_exponent(df: pd.DataFrame) -> tuple[dict[str, Any], vd.Estimate]:
    """Power-law exponent of one area's landed changes per day in its m reviewers."""
    from sweeps import fit

    runs = select(
        df,
        vary=("core_reviewers",),
        topology="single_core",
        staffing="fixed_core",
        n_teams=1,
        contributors_per_team=1000,
    )
    runs = runs[runs["core_reviewers"] > 0]
    if runs["core_reviewers"].nunique() < 3:
        return {"skipped": "fewer than 3 team sizes"}, vd.Estimate.missing()
    out: dict[str, Any] = {"m": sorted(int(m) for m in runs["core_reviewers"].unique())}
    est = None
    for metric in ("merged_per_day", "reviews_per_day"):
        e = fit.power_exponent(
            runs["core_reviewers"], runs[metric], rng=_rng("h7", metric), n_boot=1000
        )
        rec = vd.Estimate(e.estimate, _nan(e.ci_low), _nan(e.ci_high), e.level, len(runs))
        out[metric] = rec.to_dict()
        out[f"{metric}_means"] = [
            float(runs.loc[runs["core_reviewers"] == m, metric].mean()) for m in out["m"]
        ]
        if metric == "merged_per_day":
            est = rec
    return out, est


def _verdict_record(verdict: vd.Verdict, **inputs: Any) -> dict[str, Any]:
    return {
        **verdict.to_dict(),
        "parts": [p.to_dict() for p in verdict.parts],
        "inputs": inputs,
    }


def link_rank_correlation(links: pd.DataFrame, org: str) -> vd.Estimate:
    """H5's effect for one organisation: Spearman's ρ between a link's badness and its pain
    (person-days) over the links of each run, averaged over runs, with a bootstrap CI over
    runs and links (:func:`verdicts.rank_correlation_estimate`)."""
    rows = links[links["org"] == org]
    groups = [
        (run["badness"].to_numpy(float), run["pain_days"].to_numpy(float))
        for _, run in rows.groupby("run_id", sort=True)
    ]
    return vd.rank_correlation_estimate(groups, rng=_rng("H5", org, "rho"))


def hypotheses(
    df: pd.DataFrame,
    curves_doc: Mapping[str, Any],
    fits: Mapping[str, Any],
    auto: Mapping,
    links: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Each hypothesis's effect estimates (one bootstrap each) and verdict."""
    out: dict[str, Any] = {}

    def record(name: str, verdict: vd.Verdict, **inputs: Any) -> None:
        out[name] = {
            **_verdict_record(verdict, **inputs),
            "test": vd.TESTS[name.split(".")[0]],
        }

    # H1 at equal headcount, and with Nova's fixed core of 17
    for label, staffing in (("H1", "equal_headcount"), ("H1.fixed_core", "fixed_core")):
        if staffing == "equal_headcount":
            runs = org_runs(df, "single_core", False)
            c = curves_doc.get("single_core.off")
        else:
            runs = select(df, topology="single_core", staffing="fixed_core")
            c = curve(runs, ("core17",)) if not runs.empty else None
        if c is None or runs.empty:
            continue
        share, sat_n = _first_saturated(c)
        n0, n1 = c["n"][0], c["n"][-1]
        lead = vd.ratio_estimate(
            _at_n(runs, n1, "lead_time_km_p50"),
            _at_n(runs, n0, "lead_time_km_p50"),
            rng=_rng(label, "lead"),
        )
        record(
            label,
            vd.h1(lead, share, sat_n),
            lead_ratio=lead.to_dict(),
            n_from=n0,
            n_to=n1,
            saturated_from=sat_n,
        )
        if staffing == "fixed_core":
            out[label]["curve"] = c

    # H2: what the all-to-all split lands against one core with the same people and demand,
    # at the largest N (landings are an output, measured whether or not a queue grows)
    flat = org_runs(df, "flat", False)
    core_runs = org_runs(df, "single_core", False)
    if not flat.empty and not core_runs.empty:
        n_top = int(min(flat["n_teams"].max(), core_runs["n_teams"].max()))
        gain = vd.ratio_estimate(
            _at_n(flat, n_top, "contributions_landed_per_day"),
            _at_n(core_runs, n_top, "contributions_landed_per_day"),
            rng=_rng("H2"),
        )
        at = flat[flat["n_teams"] == n_top]
        with np.errstate(divide="ignore", invalid="ignore"):
            neg = (at["cost_negotiation"] / at["busy_total"]).where(at["busy_total"] > 0)
        neg_share = vd.mean_estimate(neg, rng=_rng("H2", "negotiation"))
        record(
            "H2",
            vd.h2(gain, neg_share),
            gain=gain.to_dict(),
            negotiation_share=neg_share.to_dict(),
            n=n_top,
        )

    # H3: the hierarchy's integration-cost exponent over its unsaturated N
    for org in ("hierarchical", "tree4"):
        f = fits.get(org, {}).get("parts", {}).get("integration_cost", {})
        e = vd.Estimate.from_dict(f["exponent"]) if "exponent" in f else vd.Estimate.missing()
        name = "H3" if org == "hierarchical" else "H3.tree4"
        limit_n = None
        split_curve = curves_doc.get(f"{org}.off")
        core_curve = curves_doc.get("single_core.off")
        if split_curve and core_curve:
            core_sat = dict(zip(core_curve["n"], core_curve["saturated_n"], strict=True))
            limit_n = next(
                (
                    int(n)
                    for n, sat in zip(split_curve["n"], split_curve["saturated_n"], strict=True)
                    if sat and not core_sat.get(n, True)
                ),
                None,
            )
        record(
            name,
            vd.h3(e, limit_n),
            exponent=e.to_dict(),
            fitted_until=fits.get(org, {}).get("fitted_until"),
            limit_n=limit_n,
        )

    # H4: per split, automation on vs off
    for org, rec in auto.items():
        late = vd.Estimate.from_dict(rec["late_ratio"])
        total = vd.Estimate.from_dict(rec["integration_per_change_ratio"])
        early = vd.Estimate.from_dict(rec["early_share_on"])
        work = vd.Estimate.from_dict(rec["work_per_conflict_ratio"])
        record(
            f"H4.{org}",
            vd.h4(
                late,
                rec["late_events_off"],
                total,
                early_share=early,
                detection_prob=rec["ci_detection_prob"],
                conflict_work_ratio=work,
                conflict_work_by_rule=rec["work_per_conflict_by_rule"],
            ),
            early_share=early.to_dict(),
            ci_detection_prob=rec["ci_detection_prob"],
            work_per_conflict_ratio=work.to_dict(),
            work_per_conflict_by_rule=rec["work_per_conflict_by_rule"],
            late_ratio=late.to_dict(),
            total_ratio=total.to_dict(),
            late_events_off=rec["late_events_off"],
            n=rec["n"],
        )

    # H5: does pain fall on the links with bad APIs (rank correlation over the links of the
    # runs at the largest N, paper/link_pain.py), and does fixing the worst 20% cut cost
    # (the sweep's fixed_link_share runs, automation off)
    link_orgs = [] if links is None or links.empty else list(dict.fromkeys(links["org"]))
    for org in SPLITS:
        base = org_runs(df, org, False)
        fixed = org_runs(df, org, False, fixed_link_share=0.2)
        has_fix = not base.empty and not fixed.empty
        if org not in link_orgs and not has_fix:
            continue
        link_saturated = False
        if org in link_orgs:
            rho = link_rank_correlation(links, org)
            link_n = int(links.loc[links["org"] == org, "n_teams"].iloc[0])
            c = curves_doc.get(f"{org}.off", {})
            sat = dict(zip(c.get("n", []), c.get("saturated_n", []), strict=True))
            link_saturated = bool(sat.get(link_n))
        else:
            rho, link_n = vd.Estimate.missing(), None
        inputs: dict[str, Any] = {
            "rho": rho.to_dict(),
            "link_n": link_n,
            "link_saturated": link_saturated,
        }
        fix = None
        saturated = False
        if has_fix:
            common = sorted(set(fixed["n_teams"]) & set(base["n_teams"]))
            until = curves_doc.get(f"{org}.off", {}).get("fitted_until")
            # judged at the largest N where the unfixed organisation is unsaturated, if any
            unsaturated = [n for n in common if until is not None and n <= until]
            n = int(unsaturated[-1] if unsaturated else common[0])
            fix = vd.ratio_estimate(
                _at_n(fixed, n, "integration_per_change"),
                _at_n(base, n, "integration_per_change"),
                rng=_rng("H5", org, "fix"),
            )
            saturated = bool(until is None or n > until)
            inputs.update(fix=fix.to_dict(), n=n, saturated=saturated)
        verdict = vd.h5(rho, fix)
        if saturated:  # a queue that never empties: its costs are not the organisation's
            verdict = vd.Verdict(
                vd.INCONCLUSIVE,
                f"fixing judged at N = {inputs['n']}, where the organisation is already "
                f"saturated: no valid test ({verdict.reason})",
            )
        if link_saturated:  # which links' work gets started is set by the queue, not demand
            verdict = vd.Verdict(
                vd.INCONCLUSIVE,
                f"links ranked at N = {link_n}, where the organisation is saturated: the pain "
                f"booked is the work its queues got to, no valid test ({verdict.reason})",
            )
        if org not in link_orgs:
            verdict = vd.Verdict(
                vd.INCONCLUSIVE,
                f"no per-link rows (paper/link_pain.py) to rank links by: {verdict.reason}",
            )
        record(f"H5.{org}", verdict, **inputs)

    # H6: total busy effort per landed change, split over single core
    core = org_runs(df, "single_core", False)
    for org in ("hierarchical", "tree4", "flat", "modular"):
        n = _largest_common_unsaturated(curves_doc, "single_core.off", f"{org}.off")
        if n is None:
            continue
        split = org_runs(df, org, False)
        moved = vd.ratio_estimate(
            _at_n(split, n, "busy_per_change"),
            _at_n(core, n, "busy_per_change"),
            rng=_rng("H6", org),
        )
        record(f"H6.{org}", vd.h6(moved), moved=moved.to_dict(), n=n)

    # H7
    h7_doc, h7_est = h7_exponent(df)
    if h7_est is not None:
        record("H7", vd.h7(h7_est), exponent=h7_est.to_dict())
    out["_h7"] = h7_doc
    return out


def construction(df: pd.DataFrame, curves_doc: Mapping[str, Any]) -> dict[str, Any]:
    """Comparisons whose outcome an input or an accounting rule sets, each judged by a
    verdict that says so when the numbers are within noise of what the rule gives:

    * ``paid.<split>``: paid reviewer-days per landed change, split over one core, at the
      largest N where both are unsaturated (:func:`verdicts.paid_days`: equal per day under
      equal headcount, so the per-change ratio is the inverse landings ratio);
    * ``lead.<hierarchy>``: the hierarchy's median lead time minus one core's at that N
      (:func:`verdicts.lead_time_floor`: up to one ``merge_interval_days`` at each of its
      pull levels is the pull schedule).
    """
    out: dict[str, Any] = {}
    core = org_runs(df, "single_core", False)
    if core.empty:
        return out
    for org in SPLITS:
        n = _largest_common_unsaturated(curves_doc, "single_core.off", f"{org}.off")
        if n is None:
            continue
        split = org_runs(df, org, False)
        a, b = split[split["n_teams"] == n], core[core["n_teams"] == n]
        per_day = vd.ratio_estimate(
            a["paid_reviewer_days_per_change"] * a["contributions_landed_per_day"],
            b["paid_reviewer_days_per_change"] * b["contributions_landed_per_day"],
            rng=_rng("paid", org, n, "day"),
        )
        per_change = vd.ratio_estimate(
            a["paid_reviewer_days_per_change"],
            b["paid_reviewer_days_per_change"],
            rng=_rng("paid", org, n, "change"),
        )
        staffing = "/".join(sorted(set(a["staffing"]) | set(b["staffing"])))
        out[f"paid.{org}"] = _verdict_record(
            vd.paid_days(per_day, per_change, rule=f"staffing = {staffing}"),
            per_day_ratio=per_day.to_dict(),
            per_change_ratio=per_change.to_dict(),
            n=n,
        )
        if org in ("hierarchical", "tree4"):
            excess = vd.difference_estimate(
                a["lead_time_km_p50"], b["lead_time_km_p50"], rng=_rng("lead", org, n)
            )
            levels = int(a["tree_depth"].max())
            interval = float(a["merge_interval_days"].max())
            out[f"lead.{org}"] = _verdict_record(
                vd.lead_time_floor(excess, interval=interval, levels=levels),
                excess=excess.to_dict(),
                levels=levels,
                merge_interval_days=interval,
                n=n,
            )
    return out


# ----------------------------------------------------------------------------- sensitivity


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return math.nan, math.nan
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def sample_clusters(sample: Any) -> np.ndarray:
    """The base point (cluster) of each row of a ``[sample]`` block, in the sample's order.

    Rows of one base point are not independent: SALib's Saltelli/Sobol scheme
    (``SALib.sample.sobol.sample``) writes, for each of its ``n`` base points, the
    consecutive rows A, AB₁ … AB_D (A with column j taken from B), [BA₁ … BA_D with
    second order] and B: ``n`` blocks of D + 2 (or 2D + 2) rows; a Morris trajectory is a
    block of D + 1 rows; a Latin hypercube row is its own cluster. Raises ValueError when
    the rows do not split into ``n`` equal blocks."""
    from sweeps.design import sample_size

    rows = sample_size(sample)
    if sample.method == "lhs":
        return np.arange(rows)
    if rows % sample.n:
        raise ValueError(f"{rows} sample rows do not split into {sample.n} base points")
    return np.arange(rows) // (rows // sample.n)


def share(
    flags: np.ndarray,
    clusters: np.ndarray | None = None,
    *,
    key: Any = (),
    n_boot: int = vd.N_BOOT,
) -> dict[str, Any]:
    """Share of sample points where a flag holds (NaN flags left out), with a 95% interval.

    Without ``clusters`` (every row independent): the Wilson interval. With ``clusters``
    (the base point of each row, :func:`sample_clusters`): a cluster bootstrap: the base
    points are resampled with replacement and the share recomputed from their rows
    (percentile interval), since the rows of one base point share most of their inputs.
    When no base point varies the share (it is 0 or 1 in every one), the bootstrap cannot
    either; the interval is then Wilson's over the number of base points. ``n`` counts
    rows, ``clusters`` base points."""
    flags = np.asarray(flags, dtype=float)
    ok = np.isfinite(flags)
    if clusters is None:
        f = flags[ok]
        k, n = int(f.sum()), int(f.size)
        lo, hi = _wilson(k, n)
        return {"value": k / n if n else math.nan, "low": lo, "high": hi, "level": 0.95, "n": n}
    f, c = flags[ok], np.asarray(clusters)[ok]
    ids, inv = np.unique(c, return_inverse=True)
    g = int(ids.size)
    out: dict[str, Any] = {"level": vd.LEVEL, "n": int(f.size), "clusters": g}
    if g == 0:
        return {"value": math.nan, "low": math.nan, "high": math.nan, **out}
    hits = np.bincount(inv, weights=f, minlength=g)
    rows = np.bincount(inv, minlength=g).astype(float)
    value = float(hits.sum() / rows.sum())
    per_cluster = hits / rows
    if np.all(per_cluster == per_cluster[0]) and per_cluster[0] in (0.0, 1.0):
        lo, hi = _wilson(g if per_cluster[0] == 1.0 else 0, g)
    else:
        picks = _rng("cluster", *key).integers(0, g, size=(n_boot, g))
        draws = hits[picks].sum(axis=1) / rows[picks].sum(axis=1)
        tail = (1 - vd.LEVEL) / 2
        lo, hi = (float(q) for q in np.quantile(draws, [tail, 1 - tail]))
    return {"value": value, "low": lo, "high": hi, **out}


def sensitivity(spec: Any, table: pd.DataFrame) -> dict[str, Any]:
    """Sobol indices of the headline outputs and the share of the plausible space where
    each verdict's effect holds, from the sensitivity sweep (one run a sample point)."""
    from sweeps.sensitivity import outputs_by_base, sobol_indices

    table = derive(table)
    metrics = (
        "paid_reviewer_days_per_change",
        "lead_time_km_p50",
        "busy_per_change",
        "integration_per_change",
        "saturated",
        "conflicts_late",
        "busiest_team_kind",
    )
    by: dict[tuple[str, bool, int], dict[str, np.ndarray]] = {}
    for metric in metrics:
        for base, y in outputs_by_base(spec, table, metric):
            key = (
                base["topology"],
                bool(base.get("ci_automation", False)),
                int(base.get("n_teams", table["n_teams"].iloc[0])),
            )
            by.setdefault(key, {})[metric] = y
    ns = sorted({k[2] for k in by})
    clusters = sample_clusters(spec.sample)

    def sh(flags: np.ndarray, name: str) -> dict[str, Any]:
        return share(flags, clusters, key=("sens", name))

    window = float((table["days"] - table["warmup_days"]).iloc[0])
    n_top = ns[-1]
    core, hier, hier_ci = (
        by.get(("single_core", False, n_top)),
        by.get(("hierarchical", False, n_top)),
        by.get(("hierarchical", True, n_top)),
    )
    if core is None or hier is None or hier_ci is None:
        return {"skipped": "the sensitivity sweep lacks one of its three organisations"}
    with np.errstate(divide="ignore", invalid="ignore"):
        outputs = {
            "log_paid_ratio": np.log(
                hier["paid_reviewer_days_per_change"] / core["paid_reviewer_days_per_change"]
            ),
            # a median beyond the measured window is censored there (a lower bound)
            "log_lead_ratio": np.log(
                np.nan_to_num(hier["lead_time_km_p50"], nan=window)
                / np.nan_to_num(core["lead_time_km_p50"], nan=window)
            ),
            "log_busy_ratio": np.log(hier["busy_per_change"] / core["busy_per_change"]),
            "log_automation_ratio": np.log(
                hier_ci["integration_per_change"] / hier["integration_per_change"]
            ),
        }
    indices = {}
    for name, y in outputs.items():
        if not np.isfinite(y).all():
            bad = int((~np.isfinite(y)).sum())
            indices[name] = {"skipped": f"{bad} sample points without a finite value"}
            continue
        frame = sobol_indices(spec, y)
        indices[name] = frame.to_dict("list")
    with np.errstate(invalid="ignore"):
        late_ratio = hier_ci["conflicts_late"] / hier["conflicts_late"]
        flags = {
            "core_saturated": core["saturated"].astype(float),
            "hier_saturated": hier["saturated"].astype(float),
            # busiest_team_kind 3: a maintainer team (drivers-core, sub-maintainers)
            "hier_maintainer_saturated": (
                ((hier["saturated"] > 0) & (hier["busiest_team_kind"] == 3)).astype(float)
            ),
            "split_cheaper_paid": (
                (
                    hier["paid_reviewer_days_per_change"] < core["paid_reviewer_days_per_change"]
                ).astype(float)
            ),
            "split_faster": (
                np.where(
                    np.isfinite(hier["lead_time_km_p50"]) | np.isfinite(core["lead_time_km_p50"]),
                    np.nan_to_num(hier["lead_time_km_p50"], nan=np.inf)
                    < np.nan_to_num(core["lead_time_km_p50"], nan=np.inf),
                    np.nan,
                ).astype(float)
            ),
            "split_less_busy": (hier["busy_per_change"] < core["busy_per_change"]).astype(float),
            "moved_not_removed": (
                (
                    hier["busy_per_change"] >= vd.THRESHOLDS["h6_moved"] * core["busy_per_change"]
                ).astype(float)
            ),
            "automation_cuts_total": (
                (np.exp(outputs["log_automation_ratio"]) < vd.THRESHOLDS["h4_total"]).astype(float)
            ),
            "automation_cuts_late": (
                np.where(
                    hier["conflicts_late"] > 0, late_ratio < vd.THRESHOLDS["h4_late"], np.nan
                ).astype(float)
            ),
        }
    shares = {name: sh(f, name) for name, f in flags.items()}
    # saturation of every organisation at every N over the plausible space
    saturation: dict[str, dict[str, Any]] = {}
    for (topology, ci, n), outs in sorted(by.items()):
        if "saturated" in outs:
            name = f"{topology}.{'on' if ci else 'off'}"
            saturation.setdefault(name, {})[str(n)] = sh(
                outs["saturated"].astype(float), f"saturated.{name}.{n}"
            )
    brackets: dict[str, Any] = {}
    spread: dict[str, Any] = {}
    if len(ns) >= 2:
        n_lo = ns[0]
        core_lo = by.get(("single_core", False, n_lo))
        hier_lo = by.get(("hierarchical", False, n_lo))
        if core_lo is not None and hier_lo is not None:
            for metric in ("busy_per_change", "lead_time_km_p50", "paid_reviewer_days_per_change"):
                args = (core_lo[metric], hier_lo[metric], core[metric], hier[metric])
                brackets[metric] = nstar_brackets(*args, n_lo, n_top, clusters=clusters)
                spread[metric] = nstar_spread(*args, n_lo, n_top, clusters=clusters)
    return {
        "n_points": len(core["saturated"]),
        "n_base_points": int(np.unique(clusters).size),
        "base_points": int(spec.sample.n),
        "interval": "cluster bootstrap over base points (Saltelli blocks)",
        "n_teams": n_top,
        "n_values": ns,
        "nstar_brackets": brackets,
        "nstar_spread": spread,
        "parameters": [name for name, _, _ in spec.sample.ranges],
        "ranges": {name: [lo, hi] for name, lo, hi in spec.sample.ranges},
        "indices": indices,
        "shares": shares,
        "saturation": saturation,
    }


def _split_lower(split: np.ndarray, core: np.ndarray) -> np.ndarray:
    """1 where the split is lower than one core, 0 where not, NaN where both are missing; a
    missing value (a median beyond the window) counts as larger than any finite one."""
    s = np.nan_to_num(np.asarray(split, float), nan=np.inf)
    c = np.nan_to_num(np.asarray(core, float), nan=np.inf)
    return np.where(np.isinf(s) & np.isinf(c), np.nan, (s < c).astype(float))


def nstar_brackets(
    core_lo: np.ndarray,
    split_lo: np.ndarray,
    core_hi: np.ndarray,
    split_hi: np.ndarray,
    n_lo: int,
    n_hi: int,
    *,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    """Where N* lies at each sample point, from the split-minus-core sign at two N.

    A missing value (a median beyond the window) counts as larger than any finite one.
    Shares (:func:`share`: cluster bootstrap over base points when ``clusters`` is given,
    else Wilson) of points where the split is already lower at ``n_lo`` (N* below it),
    lower at ``n_hi`` only (N* between), lower at neither (N* above ``n_hi`` or never),
    and lower at ``n_lo`` but not at ``n_hi`` (one core overtakes again).
    """

    lo, hi = _split_lower(split_lo, core_lo), _split_lower(split_hi, core_hi)
    ok = np.isfinite(lo) & np.isfinite(hi)
    cl = None if clusters is None else np.asarray(clusters)[ok]
    lo, hi = lo[ok].astype(bool), hi[ok].astype(bool)
    return {
        "n_lo": n_lo,
        "n_hi": n_hi,
        "below": share((lo & hi).astype(float), cl, key=("below",)),
        "between": share((~lo & hi).astype(float), cl, key=("between",)),
        "above": share((~lo & ~hi).astype(float), cl, key=("above",)),
        "reversed": share((lo & ~hi).astype(float), cl, key=("reversed",)),
    }


NSTAR_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def nstar_interpolate(d_lo: np.ndarray, d_hi: np.ndarray, n_lo: float, n_hi: float) -> np.ndarray:
    """N* where the split overtakes one core, from d = split − core at two N.

    Assumption: between ``n_lo`` and ``n_hi`` the difference d is linear in log N, so
    ``log N* = log n_lo + d_lo / (d_lo − d_hi) · (log n_hi − log n_lo)``. Defined where the
    split is not lower at ``n_lo`` and lower at ``n_hi`` (``d_lo ≥ 0 > d_hi``, the
    "between" points of :func:`nstar_brackets`) and all values are finite; NaN elsewhere.
    """
    d_lo = np.asarray(d_lo, dtype=float)
    d_hi = np.asarray(d_hi, dtype=float)
    ok = np.isfinite(d_lo) & np.isfinite(d_hi) & (d_lo >= 0) & (d_hi < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ok, d_lo / (d_lo - d_hi), np.nan)
    return np.exp(np.log(n_lo) + t * (np.log(n_hi) - np.log(n_lo)))


def nstar_spread(
    core_lo: np.ndarray,
    split_lo: np.ndarray,
    core_hi: np.ndarray,
    split_hi: np.ndarray,
    n_lo: int,
    n_hi: int,
    quantiles: Sequence[float] = NSTAR_QUANTILES,
    *,
    clusters: np.ndarray | None = None,
) -> dict[str, Any]:
    """The distribution of N* over the sample points (the plausible space), continuous
    where it can be.

    Each point is classified as in :func:`nstar_brackets` (a missing value counts as larger
    than any finite one). Where the split is lower at ``n_hi`` only, N* is interpolated by
    :func:`nstar_interpolate` (linear in log N on the difference split − core, an
    assumption: two N say nothing about the curve's shape between them); a "between"
    point with a missing value cannot be interpolated and is counted apart. Returned:

    * ``interpolated``: quantiles of the interpolated N* (the points that cross between
      ``n_lo`` and ``n_hi``; linear quantiles), their number, min and max;
    * ``quantiles``: quantiles of N* over all classified points with the censored ones
      placed at their side: N* < ``n_lo`` (split lower at both), N* > ``n_hi`` or never
      (split not lower at ``n_hi``: "above" and "reversed" points). Each is the value of
      one point (inverted-CDF quantile) or ``"<"``/``">"`` for a censored one;
    * ``censored``: shares (as in :func:`nstar_brackets`) of points below, above (not lower
      at either N), reversed (lower at ``n_lo`` only) and between but not interpolable.
    """
    lo, hi = _split_lower(split_lo, core_lo), _split_lower(split_hi, core_hi)
    ok = np.isfinite(lo) & np.isfinite(hi)
    d_lo = (np.asarray(split_lo, float) - np.asarray(core_lo, float))[ok]
    d_hi = (np.asarray(split_hi, float) - np.asarray(core_hi, float))[ok]
    cl = None if clusters is None else np.asarray(clusters)[ok]
    lo, hi = lo[ok].astype(bool), hi[ok].astype(bool)
    between = ~lo & hi
    nstar = nstar_interpolate(d_lo, d_hi, n_lo, n_hi)
    nstar = np.where(between, nstar, np.nan)
    lost = between & ~np.isfinite(nstar)
    # all classified points on one line: -inf below n_lo, +inf above n_hi (or never)
    placed = np.where(lo & hi, -np.inf, np.where(between, nstar, np.inf))
    placed = placed[~lost]
    q_all = []
    for q in quantiles:
        if placed.size == 0:
            q_all.append({"q": q, "value": None, "censored": None})
            continue
        v = float(np.quantile(placed, q, method="inverted_cdf"))
        side = "<" if v == -np.inf else ">" if v == np.inf else None
        q_all.append({"q": q, "value": None if side else v, "censored": side})
    vals = nstar[np.isfinite(nstar)]
    return {
        "n_lo": n_lo,
        "n_hi": n_hi,
        "n": int(ok.sum()),
        "assumption": "split − core linear in log N between n_lo and n_hi",
        "interpolated": {
            "n": int(vals.size),
            "quantiles": [
                {"q": q, "value": float(np.quantile(vals, q)) if vals.size else None}
                for q in quantiles
            ],
            "min": float(vals.min()) if vals.size else None,
            "max": float(vals.max()) if vals.size else None,
        },
        "quantiles": q_all,
        "censored": {
            "below": share((lo & hi).astype(float), cl, key=("below",)),
            "above": share((~lo & ~hi).astype(float), cl, key=("above",)),
            "reversed": share((lo & ~hi).astype(float), cl, key=("reversed",)),
            "not_interpolable": share(lost.astype(float), cl, key=("lost",)),
        },
    }


# ----------------------------------------------------------------------------- link pain


def top_share(values: Any, share: float = 0.1) -> float:
    """Share of the total carried by the largest ⌈``share`` × n⌉ values (at least one):
    the rule of ``model.metrics.link_pain_top_decile_share``. NaN when empty or all zero."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    if x.size == 0 or x.sum() == 0:
        return math.nan
    k = max(1, math.ceil(share * x.size))
    return float(x[:k].sum() / x.sum())


def gini(values: Any) -> float:
    """Gini coefficient (0: every value equal; (n − 1)/n: one value holds everything), the
    rule of ``model.metrics.link_pain_gini``. NaN for fewer than two values or a zero sum."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size < 2 or x.sum() == 0:
        return math.nan
    n = x.size
    return float(2 * np.sum(np.arange(1, n + 1) * x) / (n * x.sum()) - (n + 1) / n)


#: What the worst links carry, per run: column of the link table → what is ranked.
LINK_MEASURES = {
    "pain_days": "person-days of link pain (negotiation and conflict work on the link)",
    "pain_events": "link pain events (negotiations and conflicts, the model's link_pain)",
    "badness": "API badness (the model's input draw)",
}


def link_pain_concentration(links: pd.DataFrame, share: float = 0.1) -> dict[str, Any]:
    """Per organisation, from the per-link rows of ``paper/link_pain.py``: the share of
    each measure carried by its worst ``share`` of links, its Gini coefficient, and the
    share of pain (person-days) on the ``share`` of links with the highest badness; each a
    mean over runs (seeds) with a bootstrap CI."""
    out: dict[str, Any] = {"share": share}
    for org, org_links in links.groupby("org", sort=False):
        per_run: dict[str, list[float]] = {}
        n_links = []
        for _, run in org_links.groupby("run_id", sort=False):
            n_links.append(len(run))
            for col in LINK_MEASURES:
                per_run.setdefault(f"top.{col}", []).append(top_share(run[col], share))
                per_run.setdefault(f"gini.{col}", []).append(gini(run[col]))
            k = max(1, math.ceil(share * len(run)))
            worst = run.sort_values("badness", ascending=False, kind="stable").head(k)
            total = run["pain_days"].sum()
            per_run.setdefault("pain_on_worst_badness", []).append(
                float(worst["pain_days"].sum() / total) if total > 0 else math.nan
            )
        rec: dict[str, Any] = {
            "n_teams": int(org_links["n_teams"].iloc[0]),
            "runs": len(n_links),
            "links": int(np.median(n_links)),
            "pain_days_total": float(org_links["pain_days"].sum() / len(n_links)),
        }
        for name, vals in per_run.items():
            kind, _, col = name.partition(".")
            target = rec.setdefault(kind, {}) if col else rec
            target[col or kind] = _est(np.asarray(vals, float), "links", org, name)
        out[str(org)] = rec
    return out


# ----------------------------------------------------------------------------- all


def compute(
    df: pd.DataFrame,
    *,
    sens_spec: Any | None = None,
    sens_table: pd.DataFrame | None = None,
    validation: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The paper's numbers from the paper sweep's successful runs (and the optional
    sensitivity sweep, validation table and per-link rows of ``paper/link_pain.py``)."""
    df = derive(df)
    curves_doc = curves(df)
    fits = part_fits(df, curves_doc)
    auto = automation(df, curves_doc)
    doc = {
        "schema": SCHEMA,
        "level": vd.LEVEL,
        "curves": curves_doc,
        "fits": fits,
        "identical": [f["names"] for f in fits.values() if len(f["names"]) > 1],
        "crossovers": crossovers(df, curves_doc),
        # the same crossovers when every team earns its reviewers (staffing = "earned")
        "crossovers_earned": crossovers(df, curves_doc, staffing="earned"),
        "automation": auto,
        "hypotheses": hypotheses(df, curves_doc, fits, auto, links),
        "construction": construction(df, curves_doc),
    }
    if sens_spec is not None and sens_table is not None and not sens_table.empty:
        doc["sensitivity"] = sensitivity(sens_spec, sens_table)
    if validation is not None:
        doc["validation"] = validation.to_dict("records")
    if links is not None and not links.empty:
        doc["link_pain"] = link_pain_concentration(links)
    return doc
