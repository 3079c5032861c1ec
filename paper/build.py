"""Build the design paper from a results folder: fits, figures, then ``paper/paper.md``.

1. Fit: the paper's fits (``paper/scripts/_fits.py``, all by :mod:`sweeps.fit`) are computed
   from the results table and written to ``RESULTS_DIR/fits.json`` and ``fits.csv``.
2. Draw: every figure script in ``paper/scripts/`` writes its PNG and PDF.
3. Write: ``paper/paper_template.md`` is rendered into ``paper/paper.md``. Every
   ``{{ name }}`` placeholder is replaced by a value computed here from ``fits.json`` (and the
   sweep's ``spec.toml`` and ``manifest.json``); no result is typed by hand. The verdict on
   each hypothesis is a sentence computed from the numbers with the thresholds in
   :data:`THRESHOLDS`, which the paper states.

A number the paper needs that ``fits.json`` lacks (a topology missing from the sweep, a fit
group removed) stops the build with :class:`MissingNumberError` naming the key; a group that
was in the sweep but could not be fitted (e.g. fewer than 3 team counts) is reported in the
paper with the reason instead. After rendering, no ``{{``, ``}}`` or ``${`` may remain.

Reads:  runs of RESULTS_DIR, RESULTS_DIR/spec.toml, RESULTS_DIR/manifest.json.
Writes: RESULTS_DIR/fits.json, RESULTS_DIR/fits.csv, paper/figures/*.{png,pdf}, paper/paper.md.
Usage:  python paper/build.py results/paper [--out paper/paper.md] [--figures paper/figures]
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAPER_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = PAPER_DIR / "scripts"
ROOT = PAPER_DIR.parent
TEMPLATE = PAPER_DIR / "paper_template.md"
DEFAULT_OUT = PAPER_DIR / "paper.md"
DEFAULT_FIGURES = PAPER_DIR / "figures"
DEFAULT_RESULTS = ROOT / "results" / "paper"

if str(SCRIPTS_DIR) not in sys.path:
    sys.path.insert(0, str(SCRIPTS_DIR))

import _common  # noqa: E402
import _fits  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from model.params import PARAMETERS, SOURCES  # noqa: E402
from model.topologies import DEFAULT_MODULAR_BRANCHING  # noqa: E402

FIGURES = (
    "integration_cost_vs_n",
    "lead_time_vs_n",
    "throughput_vs_n",
    "links_vs_n",
    "ci_automation_effect",
    "crossover_single_core_vs_hierarchy",
    "link_structure_exponent",
    "link_pain_distribution",
)
TOPOLOGIES = _common.TOPOLOGY_ORDER
SPLIT = _fits.SPLIT_TOPOLOGIES

#: Thresholds of the verdicts; the paper quotes them.
THRESHOLDS = {
    # throughput below this share of the demand counts as saturated (H1, H2, H3)
    "saturation": 0.9,
    # lead time at the largest N at least this many times that at the smallest N (H1)
    "hockey_ratio": 3.0,
    # throughput at the largest N this far below its peak at a smaller N: retrograde (H2)
    "retrograde_drop": 0.05,
    # CI automation must cut late conflicts at the largest N to at most this share (H4)
    "late_cut": 0.5,
    # ... and keep throughput at least this share of what it is without automation (H4)
    "ci_throughput_kept": 0.98,
    # worst 10% of links carry at least this many times the share of an even spread (H5)
    "heavy_tail_factor": 2.0,
}

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
LEFTOVER = re.compile(r"\{\{|\}\}|\$\{")
LAW_TEXT = {
    "constant": "constant (a)",
    "linear": "linear (a·N)",
    "nlogn": "N log N (a·N ln N)",
    "quadratic": "quadratic (a·N(N−1)/2 + b·N)",
    "power": "power law (a·N^b)",
}


class MissingNumberError(LookupError):
    """A number the paper needs is not in ``fits.json`` (or a placeholder has no value)."""

    def __init__(self, key: str, why: str = "") -> None:
        self.key = key
        super().__init__(f"missing number {key!r}" + (f": {why}" if why else ""))

    def __str__(self) -> str:  # LookupError would quote the whole message
        return self.args[0]


@dataclass(frozen=True)
class Skipped:
    """A fit group that was in the sweep but could not be fitted, and why."""

    reason: str


# --------------------------------------------------------------------------- formatting
def fmt(value: Any, digits: int = 2) -> str:
    """A number for the text: ``digits`` decimals, ``n/a`` for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.00"


def times(value: Any) -> str:
    """A ratio as "×r" with two significant digits (×0.0031, ×0.55, ×12)."""
    if value is None or not math.isfinite(value):
        return "×n/a"
    if abs(value) >= 10:
        return f"×{value:.0f}"
    text = np.format_float_positional(value, precision=2, unique=True, fractional=False)
    return "×" + text.rstrip(".")  # "1." (a whole number) reads as "1"


def fmt_n(value: Any) -> str:
    """A team count: integer-looking values without decimals."""
    if value is None:
        return "n/a"
    value = float(value)
    return f"{value:g}" if value.is_integer() else f"{value:.1f}"


def fmt_ci(low: Any, high: Any, digits: int = 2, beyond: str = "n/a") -> str:
    """``[low, high]``; a missing bound is written ``beyond``."""
    lo = beyond if low is None else fmt(float(low), digits)
    hi = beyond if high is None else fmt(float(high), digits)
    return f"[{lo}, {hi}]"


def pct(value: Any) -> str:
    """A share as a whole percentage."""
    return "n/a" if value is None else f"{100 * value:.0f}%"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def topo_text(topology: str) -> str:
    return _common.TOPOLOGY_LABELS.get(topology, topology)


# --------------------------------------------------------------------------- access
def fit_doc(doc: Mapping[str, Any], fit: str) -> Mapping[str, Any]:
    """One fit of ``fits.json``; :class:`MissingNumberError` if absent."""
    try:
        return doc["fits"][fit]
    except KeyError:
        raise MissingNumberError(f"fits.{fit}", "fits.json has no such fit") from None


def group(doc: Mapping[str, Any], fit: str, gid: str) -> dict[str, Any] | Skipped:
    """A fitted group, a :class:`Skipped` group, or :class:`MissingNumberError`."""
    f = fit_doc(doc, fit)
    for g in f.get("groups", []):
        if g.get("id") == gid:
            return g
    for s in f.get("skipped", []):
        if _fits.group_id(tuple(f["by"]), s["key"]) == gid:
            return Skipped(s["reason"])
    raise MissingNumberError(
        f"fits.{fit}.{gid}",
        "neither fitted nor skipped in fits.json; the sweep must include this group",
    )


def summary(doc: Mapping[str, Any], topology: str) -> dict[str, Any]:
    """Per-N means of one topology at baseline; :class:`MissingNumberError` if absent."""
    try:
        s = doc["summaries"]["topologies"][topology]
    except KeyError:
        raise MissingNumberError(
            f"summaries.topologies.{topology}", "the sweep has no runs of this topology"
        ) from None
    if not s.get("n"):
        raise MissingNumberError(f"summaries.topologies.{topology}.n", "no team counts")
    return s


def crossover(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    try:
        return doc["crossovers"][name]
    except KeyError:
        raise MissingNumberError(f"crossovers.{name}", "fits.json has no such crossover") from None


def exponent_class(g: dict[str, Any] | Skipped) -> str:
    """``superlinear`` (CI above 1), ``sublinear`` (CI below 1), ``linear`` (CI holds 1),
    or ``unknown`` (not fitted, or no CI: then judged by the estimate alone)."""
    if isinstance(g, Skipped):
        return "unknown"
    e = g["exponent"]
    lo, hi = e["ci_low"], e["ci_high"]
    if lo is None or hi is None:
        lo = hi = e["estimate"]
    if lo is None:
        return "unknown"
    if lo > 1:
        return "superlinear"
    if hi < 1:
        return "sublinear"
    return "linear"


def fit_sentence(g: dict[str, Any] | Skipped) -> str:
    """One group's fit in words: exponent, CI, N range, chosen law and its weight."""
    if isinstance(g, Skipped):
        return f"not fitted ({g.reason})"
    e = g["exponent"]
    level = round(100 * e["level"])
    text = (
        f"b = {fmt(e['estimate'])} ({level}% CI {fmt_ci(e['ci_low'], e['ci_high'])}) "
        f"over N = {fmt_n(g['n'][0])}–{fmt_n(g['n'][-1])}; chosen law "
        f"{LAW_TEXT[g['best_law']]} with Akaike weight {fmt(g['best_weight'])}"
    )
    if g.get("dropped_n"):
        text += f" (N = {', '.join(map(str, g['dropped_n']))} left out: mean ≤ 0)"
    return text


def _at(s: Mapping[str, Any], metric: str, i: int) -> float | None:
    values = s.get(metric)
    if values is None:
        raise MissingNumberError(f"summaries.{metric}", "not in fits.json")
    return values[i]


# --------------------------------------------------------------------------- tables
def fit_table(doc: Mapping[str, Any], fit: str) -> str:
    """Every group of one fit, fitted or skipped, as a Markdown table."""
    f = fit_doc(doc, fit)
    by = list(f["by"])
    header = [c.replace("_", " ") for c in by]
    header += [
        "N fitted",
        "chosen law",
        "weight",
        "exponent b",
        f"{round(100 * f['level'])}% CI",
        "note",
    ]
    rows = []
    for g in f.get("groups", []):
        e = g["exponent"]
        rows.append(
            [fmt(g["key"][c]) if isinstance(g["key"][c], bool) else g["key"][c] for c in by]
            + [
                f"{fmt_n(g['n'][0])}–{fmt_n(g['n'][-1])} ({len(g['n'])} values)",
                LAW_TEXT[g["best_law"]],
                fmt(g["best_weight"]),
                fmt(e["estimate"]),
                fmt_ci(e["ci_low"], e["ci_high"]),
                f"N = {', '.join(map(str, g['dropped_n']))} left out (mean ≤ 0)"
                if g.get("dropped_n")
                else "",
            ]
        )
    for s in f.get("skipped", []):
        rows.append(
            [fmt(s["key"][c]) if isinstance(s["key"][c], bool) else s["key"][c] for c in by]
            + ["", "", "", "", "", f"not fitted: {s['reason']}"]
        )
    if not rows:
        return "*No runs of this kind in the sweep.*"
    return md_table(header, rows)


def throughput_table(doc: Mapping[str, Any]) -> str:
    """Per topology: throughput vs demand and lead time at the smallest and largest N."""
    rows = []
    for topo in TOPOLOGIES:
        s = summary(doc, topo)
        n0, n1 = s["n"][0], s["n"][-1]
        lead0, lead1 = _at(s, "lead_time_mean", 0), _at(s, "lead_time_mean", -1)
        ratio = lead1 / lead0 if lead0 and lead1 is not None else None
        rows.append(
            [
                topo_text(topo),
                n1,
                fmt(_at(s, "throughput", -1)),
                fmt(_at(s, "ideal_throughput", -1)),
                pct(_at(s, "efficiency", -1)),
                fmt_n(saturation_n(s)),
                f"{fmt(lead0, 1)} (N = {n0})",
                fmt(lead1, 1),
                fmt(ratio, 1),
            ]
        )
    header = [
        "topology",
        "largest N",
        "throughput (changes/day)",
        "demand (changes/day)",
        "share landed",
        f"first N below {pct(THRESHOLDS['saturation'])}",
        "mean lead time, smallest N (days)",
        "mean lead time, largest N (days)",
        "lead-time ratio",
    ]
    return md_table(header, rows)


def saturation_n(s: Mapping[str, Any]) -> int | None:
    """First N whose throughput is below the saturation share of the demand (None: never)."""
    for n, eff in zip(s["n"], s["efficiency"], strict=True):
        if eff is not None and eff < THRESHOLDS["saturation"]:
            return n
    return None


def ci_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """CI automation off vs on at the largest shared N, per split topology."""
    rows = []
    for topo, s in doc["summaries"].get("ci", {}).items():
        if not s["n"]:
            continue
        off, on = s["off"], s["on"]
        row = {"topology": topo, "n": s["n"][-1]}
        for metric in ("conflicts_late", "cost_conflicts", "conflicts_caught_early"):
            row[f"{metric}_off"] = off[metric][-1]
            row[f"{metric}_on"] = on[metric][-1]
        row["throughput_off"] = off.get("throughput", [None])[-1]
        row["throughput_on"] = on.get("throughput", [None])[-1]
        late_off = row["conflicts_late_off"]
        row["late_ratio"] = row["conflicts_late_on"] / late_off if late_off else None
        cost_off = row["cost_conflicts_off"]
        row["cost_ratio"] = row["cost_conflicts_on"] / cost_off if cost_off else None
        # person-days per resolved conflict (resolutions started in the measured window)
        d_off = off.get("conflict_days_mean", [None])[-1]
        d_on = on.get("conflict_days_mean", [None])[-1]
        row["per_conflict_ratio"] = d_on / d_off if d_off and d_on is not None else None
        t_off, t_on = row["throughput_off"], row["throughput_on"]
        row["throughput_ratio"] = t_on / t_off if t_off and t_on is not None else None
        rows.append(row)
    return rows


def ci_table(doc: Mapping[str, Any]) -> str:
    rows = ci_rows(doc)
    if not rows:
        return "*No split topology was run with CI automation both off and on.*"
    return md_table(
        [
            "topology",
            "N",
            "late conflicts, off",
            "late conflicts, on",
            "on / off",
            "caught early, on",
            "conflict cost off (person-days/day)",
            "conflict cost on",
            "on / off",
            "work per resolved conflict, on / off",
            "throughput off (changes/day)",
            "throughput on",
        ],
        [
            [
                topo_text(r["topology"]),
                r["n"],
                fmt(r["conflicts_late_off"], 1),
                fmt(r["conflicts_late_on"], 1),
                fmt(r["late_ratio"]),
                fmt(r["conflicts_caught_early_on"], 1),
                fmt(r["cost_conflicts_off"], 3),
                fmt(r["cost_conflicts_on"], 3),
                fmt(r["cost_ratio"]),
                fmt(r["per_conflict_ratio"]),
                fmt(r["throughput_off"]),
                fmt(r["throughput_on"]),
            ]
            for r in rows
        ],
    )


def crossover_text(c: Mapping[str, Any], what: str) -> str:
    """A crossover in words."""
    if c["nstar"] is None:
        return c["reason"] or f"the {what} curves do not cross"
    level = round(100 * c["level"])
    other = c["b"] if c["below"] == c["a"] else c["a"]
    text = (
        f"N* = {fmt(c['nstar'], 1)} ({level}% CI "
        f"{fmt_ci(c['ci_low'], c['ci_high'], 1, 'beyond the sampled N')}): "
        f"{topo_text(c['below'])} is lower below N*, {topo_text(other)} above"
    )
    if c["n_crossings"] > 1:
        text += f" (the curves cross {c['n_crossings']} times; N* is the first)"
    return text


CROSSOVER_WHAT = {
    "integration_cost": "integration cost",
    "effort_total": "total reviewer effort",
    "effort_per_change": "reviewer effort per landed change",
    "lead_time_mean": "mean lead time",
}


def crossover_table(doc: Mapping[str, Any]) -> str:
    rows = []
    for name, what in CROSSOVER_WHAT.items():
        c = crossover(doc, name)
        lo, hi = (c["n_range"][0], c["n_range"][-1]) if c["n_range"] else (None, None)
        rows.append(
            [
                what,
                fmt(c["nstar"], 1),
                fmt_ci(c["ci_low"], c["ci_high"], 1, "beyond") if c["nstar"] is not None else "",
                topo_text(c["below"]) if c["below"] else "",
                pct(c["boot_fraction"]),
                f"{fmt_n(lo)}–{fmt_n(hi)}",
                c["reason"],
            ]
        )
    return md_table(
        [
            "metric",
            "N*",
            "CI",
            "lower below N*",
            "resamples crossing",
            "N compared",
            "note",
        ],
        rows,
    )


def link_pain_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for topo in SPLIT:
        s = summary(doc, topo)
        share, even = _at(s, "link_pain_top_decile_share", -1), _at(s, "link_pain_even_share", -1)
        rows.append(
            {
                "topology": topo,
                "n": s["n"][-1],
                "links": _at(s, "links", -1),
                "share": share,
                "even": even,
                "ratio": share / even if share is not None and even else None,
                "gini": _at(s, "link_pain_gini", -1),
                "cv": _at(s, "link_pain_cv", -1),
            }
        )
    return rows


def link_pain_table(doc: Mapping[str, Any]) -> str:
    return md_table(
        [
            "topology",
            "N",
            "links",
            "worst 10% carry",
            "even spread",
            "ratio",
            "Gini",
            "CV",
        ],
        [
            [
                topo_text(r["topology"]),
                r["n"],
                fmt(r["links"], 0),
                pct(r["share"]),
                pct(r["even"]),
                fmt(r["ratio"], 1),
                fmt(r["gini"]),
                fmt(r["cv"]),
            ]
            for r in link_pain_rows(doc)
        ],
    )


def structure_table(doc: Mapping[str, Any]) -> str:
    links, cost = fit_doc(doc, "links_structure"), fit_doc(doc, "integration_cost_structure")

    def by_label(f: Mapping[str, Any]) -> dict[str, str]:
        out = {}
        for g in f.get("groups", []):
            e = g["exponent"]
            out[g["id"]] = f"{fmt(e['estimate'])} {fmt_ci(e['ci_low'], e['ci_high'])}"
        for s in f.get("skipped", []):
            out[_fits.group_id(tuple(f["by"]), s["key"])] = "not fitted"
        return out

    keys = {}
    for f in (links, cost):
        for g in [*f.get("groups", []), *f.get("skipped", [])]:
            keys[_fits.group_id(tuple(f["by"]), g["key"])] = g["key"]
    if not keys:
        return "*No hierarchical or modular runs with 3 or more team counts.*"
    lk, ck = by_label(links), by_label(cost)
    rows = [
        [
            topo_text(k["topology"]),
            f"{DEFAULT_MODULAR_BRANCHING} (default)"
            if k["topology"] == "modular" and k.get("branching") == 0
            else k.get("branching", ""),
            k.get("locality", "") if k["topology"] == "modular" else "—",
            lk.get(gid, ""),
            ck.get(gid, ""),
        ]
        for gid, k in sorted(keys.items())
    ]
    return md_table(
        [
            "topology",
            "branching",
            "locality",
            "links exponent [CI]",
            "integration cost exponent [CI]",
        ],
        rows,
    )


#: What a parameter without a calibration source is, in the parameters table.
ROLES = {
    "topology": "experimental factor",
    "n_teams": "experimental factor",
    "branching": "experimental factor (link structure)",
    "locality": "experimental factor (link structure)",
    "warmup_days": "run setting",
}


def parameters_table(df: pd.DataFrame) -> str:
    """Every model parameter: default, the values in this sweep, unit, meaning, source."""
    rows = []
    for name, spec in PARAMETERS.items():
        values = _common.swept(df, name)
        shown = ", ".join(
            fmt(v) if isinstance(v, bool) else f"{v:g}" if isinstance(v, int | float) else str(v)
            for v in values[:8]
        )
        if len(values) > 8:
            shown += f", … ({len(values)} values)"
        default = fmt(spec.default) if isinstance(spec.default, bool) else f"`{spec.default}`"
        rows.append(
            [
                f"`{name}`",
                default,
                shown,
                spec.unit or "–",
                spec.doc,
                SOURCES.get(name) or ROLES.get(name, "assumption"),
            ]
        )
    return md_table(["parameter", "default", "in this sweep", "unit", "meaning", "source"], rows)


def plan_table() -> str:
    """Which runs each fit uses."""
    rows = [
        [
            f"`{p.name}`",
            f"`{p.metric}`",
            ", ".join(p.by),
            f"N ≥ {p.n_min}",
            ", ".join(p.topologies) if p.topologies else "all",
        ]
        for p in _fits.PLANS
    ]
    return md_table(["fit", "metric", "groups", "team counts", "topologies"], rows)


# --------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class Verdict:
    label: str  # supported | partly supported | not supported | not tested
    text: str

    def sentence(self) -> str:
        return f"**{self.label.capitalize()}.** {self.text}"


def _grade(parts: Sequence[bool | None]) -> str:
    """Every tested part holds: supported (partly, if some part is untested); some hold:
    partly supported; none: not supported; nothing tested (``None`` parts): not tested."""
    tested = [p for p in parts if p is not None]
    if not tested:
        return "not tested"
    if all(tested):
        return "supported" if len(tested) == len(parts) else "partly supported"
    if any(tested):
        return "partly supported"
    return "not supported"


def _holds(cls: str, ok: tuple[str, ...]) -> bool | None:
    """Whether an exponent class is one of ``ok`` (None when the fit is unknown)."""
    return None if cls == "unknown" else cls in ok


def verdict_h1(doc: Mapping[str, Any]) -> Verdict:
    """H1: one core team saturates (throughput below the saturation share of demand) and its
    lead time rises at least ``hockey_ratio``-fold over the sampled N."""
    s = summary(doc, "single_core")
    n0, n1 = s["n"][0], s["n"][-1]
    eff = _at(s, "efficiency", -1)
    lead0, lead1 = _at(s, "lead_time_mean", 0), _at(s, "lead_time_mean", -1)
    ratio = lead1 / lead0 if lead0 and lead1 is not None else None
    sat_n = saturation_n(s)
    saturated = eff is not None and eff < THRESHOLDS["saturation"]
    hockey = ratio is not None and ratio >= THRESHOLDS["hockey_ratio"]
    text = (
        f"At N = {n1} the single core team lands {pct(eff)} of the demand "
        + (
            f"(below {pct(THRESHOLDS['saturation'])} from N = {sat_n} on)"
            if sat_n is not None
            else f"(never below {pct(THRESHOLDS['saturation'])} in the sampled N)"
        )
        + f", and its mean lead time goes from {fmt(lead0, 1)} days at N = {n0} to "
        f"{fmt(lead1, 1)} days at N = {n1} (×{fmt(ratio, 1)}; a hockey stick needs "
        f"×{fmt(THRESHOLDS['hockey_ratio'], 0)} or more)."
    )
    g = group(doc, "lead_time_mean", "single_core")
    slopes = (
        [] if isinstance(g, Skipped) else [x for x in g["local_slopes"] if x["slope"] is not None]
    )
    if len(slopes) >= 2:
        first, steep = slopes[0], max(slopes, key=lambda x: x["slope"])
        text += (
            f" The local slope d ln(lead time)/d ln N is {fmt(first['slope'])} at "
            f"N = {fmt_n(first['n'])} and largest, {fmt(steep['slope'])}, at "
            f"N = {fmt_n(steep['n'])}."
        )
    return Verdict(_grade([saturated, hockey]), text)


def verdict_h2(doc: Mapping[str, Any]) -> Verdict:
    """H2: the all-to-all split's integration cost is superlinear (exponent CI above 1) and
    its throughput falls behind the demand (saturated) or turns retrograde."""
    cost = group(doc, "integration_cost", "flat.ci_off")
    links = group(doc, "links", "flat")
    s = summary(doc, "flat")
    if isinstance(cost, Skipped):
        return Verdict("not tested", f"The flat split's integration cost was {fit_sentence(cost)}.")
    thr = [v if v is not None else -math.inf for v in s["throughput"]]
    peak = max(range(len(thr)), key=thr.__getitem__)
    retro = peak < len(thr) - 1 and thr[-1] < (1 - THRESHOLDS["retrograde_drop"]) * thr[peak]
    eff = _at(s, "efficiency", -1)
    behind = eff is not None and eff < THRESHOLDS["saturation"]
    superlinear = exponent_class(cost) == "superlinear"
    text = (
        f"Links of the flat split: {fit_sentence(links)}. Its integration cost: "
        f"{fit_sentence(cost)}, so it grows "
        + (
            "faster than linearly (the CI lies above 1)"
            if superlinear
            else "no faster than linearly within the CI"
        )
        + ". Throughput "
        + (
            f"peaks at N = {s['n'][peak]} ({fmt(thr[peak])} changes/day) and falls to "
            f"{fmt(thr[-1])} at N = {s['n'][-1]}: retrograde"
            if retro
            else f"does not turn retrograde in the sampled N (no drop of "
            f"{pct(THRESHOLDS['retrograde_drop'])} below a peak)"
        )
        + f"; at N = {s['n'][-1]} it lands {pct(eff)} of the demand."
    )
    return Verdict(_grade([superlinear, retro or behind]), text)


def verdict_h3(doc: Mapping[str, Any]) -> Verdict:
    """H3: the hierarchy's links and integration cost grow no faster than linearly (exponent
    CI not above 1) and it lands at least the saturation share of the demand."""
    links = group(doc, "links", "hierarchical")
    cost = group(doc, "integration_cost", "hierarchical.ci_off")
    s = summary(doc, "hierarchical")
    eff = _at(s, "efficiency", -1)
    if isinstance(cost, Skipped) and isinstance(links, Skipped):
        return Verdict(
            "not tested",
            f"Neither links nor integration cost of the hierarchy could be fitted "
            f"({cost.reason}); at N = {s['n'][-1]} it lands {pct(eff)} of the demand.",
        )
    links_ok = _holds(exponent_class(links), ("linear", "sublinear"))
    cost_ok = _holds(exponent_class(cost), ("linear", "sublinear"))
    keeps_up = eff is not None and eff >= THRESHOLDS["saturation"]
    text = (
        f"Links of the hierarchy: {fit_sentence(links)}. Its integration cost: "
        f"{fit_sentence(cost)}. At N = {s['n'][-1]} it lands {pct(eff)} of the demand "
        f"(threshold {pct(THRESHOLDS['saturation'])})."
    )
    return Verdict(_grade([links_ok, cost_ok, keeps_up]), text)


def verdict_h4(doc: Mapping[str, Any]) -> Verdict:
    """H4: at the largest N of every split topology, CI automation cuts late conflicts to at
    most ``late_cut`` of their number without it, makes each conflict cheaper to resolve
    (found early and small), and keeps at least ``ci_throughput_kept`` of the throughput."""
    rows = [r for r in ci_rows(doc) if r["conflicts_late_off"]]
    if not rows:
        why = (
            "no split topology was run with CI automation both off and on"
            if not ci_rows(doc)
            else "no late conflicts happened without automation"
        )
        return Verdict("not tested", f"Not tested by this sweep: {why}.")
    cut = [r["late_ratio"] is not None and r["late_ratio"] <= THRESHOLDS["late_cut"] for r in rows]
    smaller = [r["per_conflict_ratio"] is not None and r["per_conflict_ratio"] < 1 for r in rows]
    kept = [
        r["throughput_ratio"] is not None
        and r["throughput_ratio"] >= THRESHOLDS["ci_throughput_kept"]
        for r in rows
    ]
    parts = [
        f"{topo_text(r['topology'])} at N = {r['n']}: late conflicts {times(r['late_ratio'])}, "
        f"work per conflict {times(r['per_conflict_ratio'])}, throughput "
        f"{times(r['throughput_ratio'])}, total conflict work {times(r['cost_ratio'])}"
        for r in rows
    ]
    text = (
        "With automation on vs off — "
        + "; ".join(parts)
        + f" (a cut needs ×{fmt(THRESHOLDS['late_cut'])} or less). Total conflict work is"
        " reported but not judged: where the split is saturated without automation, merges"
        " stall and conflicts among the stalled work go unfound within the run, while the"
        " daily test-merge finds and fixes them, so more conflict work is done and more"
        " changes land."
    )
    return Verdict(_grade([all(cut), all(smaller), all(kept)]), text)


def verdict_h5(doc: Mapping[str, Any]) -> Verdict:
    """H5: the worst 10% of links carry at least ``heavy_tail_factor`` times the share an
    even spread would give, at the largest N of every split topology; and fixing the worst
    APIs (``fixed_link_share``) cuts integration cost."""
    rows = [r for r in link_pain_rows(doc) if r["ratio"] is not None]
    if not rows:
        return Verdict("not tested", "No split topology had any link pain to measure.")
    heavy = [r["ratio"] >= THRESHOLDS["heavy_tail_factor"] for r in rows]
    text = (
        "The worst 10% of links carry "
        + "; ".join(
            f"{pct(r['share'])} of the pain in the {topo_text(r['topology'])} split at "
            f"N = {r['n']} (even spread {pct(r['even'])}, ×{fmt(r['ratio'], 1)}, "
            f"Gini {fmt(r['gini'])})"
            for r in rows
        )
        + f"; heavy-tailed means ×{fmt(THRESHOLDS['heavy_tail_factor'], 0)} or more."
    )
    fixes = doc["summaries"].get("fixes", {})
    cut: list[bool | None] = []
    if fixes:
        parts = []
        for topo, f in fixes.items():
            before, after = f["integration_cost"][0], f["integration_cost"][-1]
            if before is None or after is None or f["share"][0] != 0:
                continue
            cut.append(after < before)
            parts.append(
                f"{topo_text(topo)} at N = {f['n']}: {fmt(before)} person-days/day with no API "
                f"fixed, {fmt(after)} with the worst {pct(f['share'][-1])} of links fixed "
                f"(conflict work {fmt(f['cost_conflicts'][0])} → {fmt(f['cost_conflicts'][-1])})"
            )
        text += " Fixing the worst APIs (their badness set to the median link's): " + (
            "; ".join(parts) + "." if parts else "no comparison with an unfixed baseline."
        )
    if not cut:
        text += (
            " The second half of H5 (fixing the worst links cuts total cost) is not tested: "
            "the sweep does not fix any link."
        )
        cut = [None]
    label = _grade([*heavy, *cut])
    return Verdict(label, text)


def verdict_h6(doc: Mapping[str, Any]) -> Verdict:
    """H6: splitting cuts the review wait by a larger factor than the reviewer effort per
    landed change, and one team is cheaper per landed change below a crossover N*."""
    single, hier = summary(doc, "single_core"), summary(doc, "hierarchical")
    shared = sorted(set(single["n"]) & set(hier["n"]))
    if not shared:
        raise MissingNumberError(
            "summaries.topologies.single_core.n", "no team count shared with hierarchical"
        )
    metric = "effort_per_change"
    n = shared[-1]
    i, j = single["n"].index(n), hier["n"].index(n)
    ws, wh = single["review_wait_mean"][i], hier["review_wait_mean"][j]
    es, eh = _at(single, metric, i), _at(hier, metric, j)
    wait_ratio = wh / ws if ws and wh is not None else None
    effort_ratio = eh / es if es and eh is not None else None
    moved = None if wait_ratio is None or effort_ratio is None else wait_ratio < effort_ratio
    c = crossover(doc, metric)
    efforts = [
        (single[metric][single["n"].index(m)], hier[metric][hier["n"].index(m)]) for m in shared
    ]
    if c["nstar"] is not None:
        cheaper_below: bool | None = c["below"] == "single_core"
    elif c.get("computed", True) and all(a is not None and b is not None for a, b in efforts):
        # no crossing in range: one curve lies below the other at every shared N
        if all(a < b for a, b in efforts):
            cheaper_below = True
        elif all(a > b for a, b in efforts):
            cheaper_below = False
        else:
            cheaper_below = None
    else:
        cheaper_below = None
    text = (
        f"At N = {n}, the hierarchy's mean review wait is {times(wait_ratio)} the single "
        f"core's and its reviewer effort per landed change {times(effort_ratio)}: splitting "
        + (
            "cuts the wait by more than it cuts the effort"
            if moved
            else "does not cut the wait by more than it cuts the effort"
            if moved is False
            else "cannot be compared (a wait or an effort is missing)"
        )
        + (
            " — yet the effort per change is lower too, so cost is removed as well as moved"
            if effort_ratio is not None and effort_ratio < 1
            else ""
        )
        + f". Reviewer effort per landed change: {crossover_text(c, CROSSOVER_WHAT[metric])}."
    )
    if c["nstar"] is None and cheaper_below is True:
        text += f" One team is cheaper at every N sampled; N*, if any, lies above N = {n}."
    elif c["nstar"] is None and cheaper_below is False:
        text += " The hierarchy is cheaper at every N sampled, the reverse of H6's crossover."
    elif c["nstar"] is not None and not cheaper_below:
        text += " That is the reverse of H6's crossover: the single team is cheaper only above N*."
    elif cheaper_below is None:
        text += " The crossover part of H6 is not tested."
    return Verdict(_grade([moved, cheaper_below]), text)


def verdict_h7(doc: Mapping[str, Any]) -> Verdict:
    """H7: more reviewers on one area give diminishing returns: the exponent of throughput vs
    team size m, over the sizes up to the highest throughput, has a CI below 1, or throughput
    falls by the retrograde share after a peak. Zhou et al.'s ½ is noted if inside the CI."""
    core = doc["summaries"].get("core_reviewers") or {}
    if not core.get("groups"):
        return Verdict(
            "not tested",
            "The sweep does not vary the size of the single core team at three or more "
            "values, so the returns of adding reviewers to one area are not measured.",
        )
    g = core["groups"][0]
    e = g["exponent"]
    lo, hi = e["ci_low"], e["ci_high"]
    below_one = (hi if hi is not None else e["estimate"]) < 1
    half = lo is not None and hi is not None and lo <= 0.5 <= hi
    per_m = core["per_m"]
    ms, thr = per_m["m"], per_m["throughput"]
    peak = ms.index(core["m_peak"])
    falls = peak < len(ms) - 1 and thr[-1] < (1 - THRESHOLDS["retrograde_drop"]) * thr[peak]
    over = f"m = {fmt_n(g['n'][0])}–{fmt_n(g['n'][-1])}"
    text = (
        f"One area with demand above any team's capacity (N = {core['n_teams']}, "
        f"{core['contributors_per_team']} contributors: {fmt(core['demand'], 0)} changes/day). "
        f"Throughput against the core team's size m"
        + (" up to its peak" if core.get("rising_only") else "")
        + f": {fit_sentence(g).replace('over N = ' + over[4:], 'over ' + over)}; "
        + ("the CI lies below 1" if below_one else "the CI does not lie below 1")
        + ("; it contains Zhou et al.'s ½" if half else "; it does not contain ½")
        + f". Throughput is highest, {fmt(thr[peak])} changes/day, at m = {ms[peak]}"
        + (
            f", and falls to {fmt(thr[-1])} at m = {ms[-1]}: beyond m = {ms[peak]} "
            "another reviewer lowers the output."
            if falls
            else "."
        )
    )
    return Verdict("supported" if below_one or falls else "not supported", text)


VERDICTS: dict[str, tuple[str, Callable[[Mapping[str, Any]], Verdict]]] = {
    "H1": ("one core team has a scaling limit", verdict_h1),
    "H2": ("an all-to-all split gains nothing", verdict_h2),
    "H3": ("a hierarchical split scales", verdict_h3),
    "H4": ("automation makes integration cheap", verdict_h4),
    "H5": ("link pain marks bad APIs (heavy tail)", verdict_h5),
    "H6": ("cost is moved, not removed", verdict_h6),
    "H7": ("more reviewers on one area: diminishing returns", verdict_h7),
}


# --------------------------------------------------------------------------- values
def experiment_values(results_dir: Path, df_all: pd.DataFrame) -> dict[str, str]:
    """What was run: spec, counts, replicates, seeds, days, provenance."""
    values: dict[str, str] = {}
    spec_path = results_dir / "spec.toml"
    spec: dict[str, Any] = {}
    if spec_path.is_file():
        text = spec_path.read_text(encoding="utf-8")
        spec = tomllib.loads(text)
        values["experiment.spec_toml"] = text.strip()
    else:
        values["experiment.spec_toml"] = "# (no spec.toml in the results folder)"
    manifest: dict[str, Any] = {}
    if (results_dir / "manifest.json").is_file():
        manifest = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
    ok = df_all[df_all["status"] == "ok"] if "status" in df_all.columns else df_all
    values["experiment.name"] = str(spec.get("name", results_dir.name))
    values["experiment.results_dir"] = _rel(results_dir)
    values["experiment.n_runs"] = str(len(df_all))
    values["experiment.n_ok"] = str(len(ok))
    values["experiment.n_failed"] = str(len(df_all) - len(ok))
    n_values = sorted(int(n) for n in ok["n_teams"].unique())
    values["experiment.n_values"] = ", ".join(map(str, n_values))
    values["experiment.n_range"] = f"{n_values[0]}–{n_values[-1]}"
    params = [c for c in PARAMETERS if c in ok.columns]
    points = ok.groupby(params, dropna=False).size() if params else pd.Series([len(ok)])
    values["experiment.n_points"] = str(len(points))
    lo, hi = int(points.min()), int(points.max())
    values["experiment.replicates"] = str(lo) if lo == hi else f"{lo}–{hi}"
    days = sorted(ok["days"].unique()) if "days" in ok.columns else [spec.get("days")]
    values["experiment.days"] = ", ".join(fmt_n(d) for d in days if d is not None) or "n/a"
    warm = sorted(ok["warmup_days"].unique())
    values["experiment.warmup_days"] = ", ".join(fmt_n(w) for w in warm)
    values["experiment.root_seed"] = str(spec.get("root_seed", "n/a"))
    crn = spec.get("common_random_numbers", True)
    values["experiment.seeding"] = (
        "replicate r uses the same seed at every parameter point (common random numbers)"
        if crn
        else "every run has its own seed, mixed from the parameter point"
    )
    values["experiment.topologies"] = ", ".join(_common.topologies(ok))
    wall = float(ok["wall_s"].sum()) if "wall_s" in ok.columns else math.nan
    values["experiment.cpu_minutes"] = fmt(wall / 60, 1)
    values["experiment.git"] = ", ".join(run_shas(manifest)) or "n/a"
    swept = [
        (name, _common.swept(ok, name)) for name in PARAMETERS if len(_common.swept(ok, name)) > 1
    ]
    values["experiment.swept"] = (
        md_table(
            ["parameter", "values"],
            [
                [f"`{n}`", ", ".join(fmt(v) if isinstance(v, bool) else str(v) for v in vs)]
                for n, vs in swept
            ],
        )
        if swept
        else "*No parameter was swept.*"
    )
    return values


def run_shas(manifest: Mapping[str, Any] | None) -> list[str]:
    """Short git shas of the code that ran the runs: every sweep invocation (the manifest
    and its history) that ran at least one run, oldest first, without repeats."""
    if not manifest:
        return []
    shas: list[str] = []
    for entry in [*manifest.get("history", []), manifest]:
        git = entry.get("git") or {}
        ran = (entry.get("counts") or {}).get("run", 1)
        sha = git.get("sha") if isinstance(git, dict) else None
        if sha and ran and sha[:10] not in shas:
            shas.append(sha[:10] + ("-dirty" if git.get("dirty") else ""))
    return shas


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def fit_values(doc: Mapping[str, Any]) -> dict[str, str]:
    """``fit.<fit>.<group id>.<field>`` for every group, fitted or skipped."""
    values: dict[str, str] = {}
    for name, f in doc["fits"].items():
        for g in f.get("groups", []):
            key = f"fit.{name}.{g['id']}"
            e = g["exponent"]
            values.update(
                {
                    f"{key}.exponent": fmt(e["estimate"]),
                    f"{key}.ci": fmt_ci(e["ci_low"], e["ci_high"]),
                    f"{key}.law": LAW_TEXT[g["best_law"]],
                    f"{key}.weight": fmt(g["best_weight"]),
                    f"{key}.n_range": f"{fmt_n(g['n'][0])}–{fmt_n(g['n'][-1])}",
                    f"{key}.sentence": fit_sentence(g),
                }
            )
        for s in f.get("skipped", []):
            key = f"fit.{name}.{_fits.group_id(tuple(f['by']), s['key'])}"
            values[f"{key}.sentence"] = fit_sentence(Skipped(s["reason"]))
    return values


def paper_values(
    doc: Mapping[str, Any],
    df_all: pd.DataFrame,
    results_dir: Path,
    figures_rel: str,
) -> dict[str, str]:
    """Every placeholder's value (strings), computed from ``fits.json`` and the results."""
    ok = df_all[df_all["status"] == "ok"] if "status" in df_all.columns else df_all
    values = experiment_values(results_dir, df_all)
    values.update(fit_values(doc))
    # required sentences: these raise MissingNumberError when fits.json lacks the group
    for topo in TOPOLOGIES:
        values[f"sentence.integration_cost.{topo}"] = fit_sentence(
            group(doc, "integration_cost", f"{topo}.ci_off")
        )
        values[f"sentence.throughput.{topo}"] = fit_sentence(group(doc, "throughput", topo))
        values[f"sentence.lead_time.{topo}"] = fit_sentence(group(doc, "lead_time_mean", topo))
    for topo in SPLIT:
        values[f"sentence.links.{topo}"] = fit_sentence(group(doc, "links", topo))
    for name, what in CROSSOVER_WHAT.items():
        values[f"crossover.{name}.sentence"] = crossover_text(crossover(doc, name), what)
    values["fits.n_bootstrap"] = str(doc["n_bootstrap"])
    values["fits.seed"] = str(doc["seed"])
    values["fits.level"] = pct(doc["level"])
    values["fits.file"] = _rel(results_dir / "fits.json")
    values["threshold.saturation"] = pct(THRESHOLDS["saturation"])
    values["threshold.hockey_ratio"] = fmt(THRESHOLDS["hockey_ratio"], 0)
    values["threshold.retrograde_drop"] = pct(THRESHOLDS["retrograde_drop"])
    values["threshold.late_cut"] = fmt(THRESHOLDS["late_cut"])
    values["threshold.ci_throughput_kept"] = pct(THRESHOLDS["ci_throughput_kept"])
    values["threshold.heavy_tail_factor"] = fmt(THRESHOLDS["heavy_tail_factor"], 0)
    values["table.parameters"] = parameters_table(ok)
    values["table.fit_plan"] = plan_table()
    values["table.integration_cost"] = fit_table(doc, "integration_cost")
    values["table.links"] = fit_table(doc, "links")
    values["table.throughput"] = throughput_table(doc)
    values["table.lead_time_fit"] = fit_table(doc, "lead_time_mean")
    values["table.throughput_fit"] = fit_table(doc, "throughput")
    values["table.cost_conflicts"] = fit_table(doc, "cost_conflicts")
    values["table.ci_effect"] = ci_table(doc)
    values["table.crossovers"] = crossover_table(doc)
    values["table.link_pain"] = link_pain_table(doc)
    values["table.structure"] = structure_table(doc)
    verdicts = {h: fn(doc) for h, (_, fn) in VERDICTS.items()}
    for h, v in verdicts.items():
        values[f"verdict.{h}"] = v.sentence()
        values[f"verdict.{h}.label"] = v.label
    values["verdict.summary"] = "; ".join(f"{h} {v.label}" for h, v in verdicts.items())
    values["table.verdicts"] = md_table(
        ["hypothesis", "claim", "verdict"],
        [[h, claim, verdicts[h].label] for h, (claim, _) in VERDICTS.items()],
    )
    for name in FIGURES:
        values[f"figure.{name}"] = f"{figures_rel}/{name}.png"
    return values


# --------------------------------------------------------------------------- render
def render(template: str, values: Mapping[str, str]) -> str:
    """Replace every ``{{ name }}``; fail on any name without a value or any leftover."""
    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise MissingNumberError(
            missing[0],
            "no value for placeholder(s) " + ", ".join(missing),
        )
    text = PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    leftover = LEFTOVER.search(text)
    if leftover:
        line = text.count("\n", 0, leftover.start()) + 1
        raise ValueError(f"rendered paper still holds {leftover.group(0)!r} on line {line}")
    return text


# --------------------------------------------------------------------------- steps
def write_fits(results_dir: Path, doc: Mapping[str, Any], frame: pd.DataFrame) -> list[Path]:
    """Write ``fits.json`` and ``fits.csv`` into the results folder, each atomically."""
    from sweeps.commands.fit import write_atomic

    json_path, csv_path = results_dir / "fits.json", results_dir / "fits.csv"
    write_atomic(json_path, json.dumps(doc, indent=2, allow_nan=False) + "\n")
    write_atomic(csv_path, frame.to_csv(index=False))
    return [json_path, csv_path]


def figure_module(name: str):
    """Import the figure script ``paper/scripts/<name>.py``."""
    return importlib.import_module(name)


def draw_figures(
    results_dir: str | Path,
    out_dir: str | Path = DEFAULT_FIGURES,
    names: Sequence[str] = FIGURES,
    log: Callable[[str], None] | None = print,
) -> list[Path]:
    """Run every figure script's ``main(results_dir, out_dir)``; return the files written."""
    written = []
    for i, name in enumerate(names, 1):
        paths = figure_module(name).main(results_dir, out_dir)
        written += paths
        if log:
            log(f"[{i}/{len(names)}] {name}: " + ", ".join(_rel(Path(p)) for p in paths))
    return written


def build(
    results_dir: str | Path = DEFAULT_RESULTS,
    *,
    out: str | Path = DEFAULT_OUT,
    figures_dir: str | Path = DEFAULT_FIGURES,
    template: str | Path = TEMPLATE,
    n_boot: int = 1000,
    seed: int = 0,
    figures: bool = True,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Fit, draw and write the paper from ``results_dir``; return the paper's path.

    Raises
    ------
    FileNotFoundError
        No results (or no template).
    MissingNumberError
        ``fits.json`` lacks a number the paper needs (the message names it).
    ValueError
        A placeholder is left in the rendered paper.
    """
    results_dir, out, figures_dir = Path(results_dir), Path(out), Path(figures_dir)
    say = log or (lambda _msg: None)
    from sweeps import load_results

    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    df_all = load_results(results_dir)
    if df_all.empty:
        raise FileNotFoundError(f"{results_dir} holds no runs")
    say(f"fitting {len(df_all)} runs from {_rel(results_dir)} ({n_boot} bootstrap resamples)")
    doc, frame = _fits.compute_fits_and_frame(df_all, n_boot=n_boot, seed=seed)
    doc["source"] = _rel(results_dir)
    for path in write_fits(results_dir, doc, frame):
        say(f"wrote {_rel(path)}")
    if figures:
        draw_figures(results_dir, figures_dir, log=say)
    figures_rel = Path(os.path.relpath(figures_dir.resolve(), out.resolve().parent)).as_posix()
    values = paper_values(doc, df_all, results_dir, figures_rel)
    text = render(Path(template).read_text(encoding="utf-8"), values)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    say(f"wrote {_rel(out)}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", nargs="?", default=str(DEFAULT_RESULTS))
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the paper (Markdown)")
    parser.add_argument("--figures", default=str(DEFAULT_FIGURES), help="figure folder")
    parser.add_argument("--no-figures", action="store_true", help="do not redraw figures")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = parser.parse_args(argv)
    try:
        build(
            args.results_dir,
            out=args.out,
            figures_dir=args.figures,
            n_boot=args.bootstrap,
            seed=args.seed,
            figures=not args.no_figures,
        )
    except (MissingNumberError, FileNotFoundError, ValueError) as err:
        print(f"paper build: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
