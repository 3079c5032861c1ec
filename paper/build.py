"""Build the design paper from results folders: numbers, figures, then ``paper/paper.md``.

1. Check: the results folder must hold the runs of the paper's spec (the design hash in its
   ``manifest.json`` equals the spec's); otherwise :class:`DesignMismatchError`, never a
   silent refit of other runs.
2. Link pain: ``paper/link_pain.py`` replays a few runs of the sweep at its largest N and
   writes every link's badness and pain to ``RESULTS_DIR/link_pain_links.parquet`` (kept
   while the spec's runs are the same, redone when they differ).
3. Numbers: ``paper/analysis.py`` computes every number once (one bootstrap each) from the
   runs of ``results/paper`` and, when present, ``results/paper_sensitivity``,
   ``results/paper/validation.csv`` and ``link_pain_links.parquet``; they are written to
   ``RESULTS_DIR/paper_numbers.json`` (its own file: ``orgscale fit results/paper`` writes
   ``fits.json``/``fits.csv`` and never touches it). Verdicts come from ``paper/verdicts.py``.
4. Figures: every script in ``paper/scripts/`` draws from ``paper_numbers.json`` (and
   ``link_pain_lorenz`` from the per-link rows).
5. Text: ``paper/paper_template.md`` is rendered; every ``{{ name }}`` is a value computed
   here from the numbers; a placeholder without a value or a number the text needs that is
   missing stops the build (:class:`MissingNumberError`). No result is typed by hand.

6. PDF: the Markdown goes through pandoc to Typst (``paper/paper.typ``) and Typst to
   ``paper/paper.pdf`` (pandoc and Typst come from the package index: ``pypandoc-binary``,
   ``typst``). The template's front matter gives the title block and abstract; citations
   come from ``paper/references.bib`` (pandoc's citeproc); ``paper/paper_preamble.typ``
   lets tables break across pages with their header repeated.

Reads:  RESULTS_DIR (runs, spec.toml, manifest.json, validation.csv), SENS_DIR (runs).
Writes: RESULTS_DIR/link_pain_links.parquet, RESULTS_DIR/paper_numbers.json,
        paper/figures/*.{png,pdf}, paper/paper.{md,typ,pdf}.
Usage:  python paper/build.py results/paper [--sensitivity results/paper_sensitivity]
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
from pathlib import Path
from typing import Any

PAPER_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = PAPER_DIR / "scripts"
ROOT = PAPER_DIR.parent
TEMPLATE = PAPER_DIR / "paper_template.md"
DEFAULT_OUT = PAPER_DIR / "paper.md"
DEFAULT_FIGURES = PAPER_DIR / "figures"
DEFAULT_RESULTS = ROOT / "results" / "paper"
DEFAULT_SENSITIVITY = ROOT / "results" / "paper_sensitivity"
DEFAULT_SPEC = ROOT / "sweeps" / "specs" / "paper.toml"
VALIDATION_FILE = "validation.csv"

for _p in (PAPER_DIR, SCRIPTS_DIR):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import _common  # noqa: E402
import analysis  # noqa: E402
import link_pain  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import verdicts as vd  # noqa: E402

from model.params import PARAMETERS, PLAUSIBLE_RANGES, source_of  # noqa: E402
from sweeps.atomic import atomic_write_bytes, atomic_write_text  # noqa: E402

FIGURES = (
    "headline_all_organisations",
    "crossover_nstar",
    "cost_by_part",
    "links_vs_n",
    "automation_effect",
    "link_pain_vs_n",
    "link_pain_lorenz",
    "team_size_output",
    "sensitivity_indices",
    "case_nova",
    "case_uboot",
)
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")
LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}|\$\{")
ORG_LABELS = analysis.ORG_LABELS


class MissingNumberError(LookupError):
    """A number the paper needs is not in the numbers (or a placeholder has no value)."""

    def __init__(self, key: str, why: str = "") -> None:
        self.key = key
        super().__init__(f"missing number {key!r}" + (f": {why}" if why else ""))

    def __str__(self) -> str:
        return self.args[0]


class DesignMismatchError(ValueError):
    """The results folder holds runs of another design than the paper's spec."""


# --------------------------------------------------------------------------- formatting
def _f(x: Any) -> float:
    return math.nan if x is None else float(x)


def fmt(value: Any, digits: int = 2) -> str:
    """A number for the text (``n/a`` for a missing value; 3 significant digits if small)."""
    v = _f(value)
    if not math.isfinite(v):
        return "n/a"
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.2g}"
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def est(e: Mapping[str, Any] | None, digits: int = 2, pct: bool = False) -> str:
    """An estimate as ``value [low, high]`` (the interval it was stored with)."""
    if not e:
        return "n/a"
    k = 100 if pct else 1
    unit = "%" if pct else ""
    v, lo, hi = (_f(e.get(x)) * k for x in ("value", "low", "high"))
    if not math.isfinite(v):
        return "n/a"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{fmt(v, digits)}{unit}"
    return f"{fmt(v, digits)}{unit} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def lead_text(e: Mapping[str, Any] | None) -> str:
    """A median lead time, or why there is none: beyond the measured window."""
    text = est(e, 1)
    return "beyond the measured window (most changes still open)" if text == "n/a" else text


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (the project's one helper)."""
    atomic_write_text(path, text)


# --------------------------------------------------------------------------- design check
def check_design(results_dir: Path, spec_path: str | Path = DEFAULT_SPEC) -> str:
    """Raise :class:`DesignMismatchError` unless ``results_dir`` holds the runs of the spec.

    Returns the design hash. The check compares the design hash in the folder's
    ``manifest.json`` with the hash of the spec's runs.
    """
    from sweeps.design import design_hash, design_tasks
    from sweeps.spec import load_spec

    spec = load_spec(spec_path)
    want = design_hash(design_tasks(spec))
    manifest_path = results_dir / "manifest.json"
    if not manifest_path.is_file():
        raise DesignMismatchError(f"{results_dir} has no manifest.json: not a sweep's folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    spec_rec = manifest.get("spec", {})
    if spec_rec.get("design_hash") != want:
        raise DesignMismatchError(
            f"{results_dir} holds runs of another design than {_rel(Path(spec_path))} "
            f"(design hash {str(spec_rec.get('design_hash'))[:12]} vs {want[:12]}); "
            "run `orgscale paper` (or `orgscale sweep` of that spec) into it, or pass "
            "--spec with the spec that made it"
        )
    return want


# --------------------------------------------------------------------------- numbers
def compute_numbers(
    results_dir: Path, sens_dir: Path | None = None, design: str | None = None, *, save=True
) -> dict[str, Any]:
    """Every number of the paper from the results folders; written to
    ``paper_numbers.json`` in ``results_dir`` when ``save``."""
    from sweeps import load_results
    from sweeps.spec import load_spec

    df = _common.load_results(results_dir)
    sens_spec = sens_table = None
    if sens_dir is not None and (sens_dir / "spec.toml").is_file():
        sens_spec = load_spec(sens_dir / "spec.toml")
        sens_table = load_results(sens_dir)
    validation = None
    if (results_dir / VALIDATION_FILE).is_file():
        validation = pd.read_csv(results_dir / VALIDATION_FILE)
    doc = analysis.compute(
        df,
        sens_spec=sens_spec,
        sens_table=sens_table,
        validation=validation,
        links=link_pain.load(results_dir),
    )
    spec = tomllib.loads((results_dir / "spec.toml").read_text(encoding="utf-8"))
    doc["design_hash"] = design
    doc["days"] = float(spec.get("days", math.nan))
    doc["warmup_days"] = float(df["warmup_days"].iloc[0])
    doc["measured_days"] = doc["days"] - doc["warmup_days"]
    doc["n_runs"] = len(df)
    doc["replicates"] = int(spec.get("replicates", 1))
    doc["cpu_s"] = float(df["wall_s"].sum()) if "wall_s" in df.columns else None
    if sens_table is not None:
        doc["sensitivity_runs"] = len(sens_table)
        doc["sensitivity_days"] = float(sens_table["days"].iloc[0])
    doc["case_studies"] = case_study_numbers()
    doc = _json_safe(doc)
    if save:
        text = json.dumps(doc, separators=(",", ":")) + "\n"
        write_text(results_dir / _common.NUMBERS_FILE, text)
    return doc


def case_study_numbers() -> dict[str, Any]:
    """The real projects against the model (:mod:`case_studies`), read afresh at every
    build: they come from the committed calibrations, not from the paper's sweep, so the
    cached numbers of the sweep never hold stale ones."""
    import case_studies

    return _json_safe({"nova": case_studies.nova_case(), "uboot": case_studies.uboot_case()})


def load_or_compute_numbers(
    results_dir: Path,
    sens_dir: Path | None,
    design: str,
    log: Callable[[str], None],
    *,
    save: bool = True,
) -> dict[str, Any]:
    """The numbers of ``results_dir``: read when they were computed for this design and are
    newer than every input, else computed (and said so; written to the folder if
    ``save``)."""
    path = results_dir / _common.NUMBERS_FILE
    if path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
        inputs = [p for p in results_dir.rglob("*.parquet")]
        if sens_dir is not None and sens_dir.is_dir():
            inputs += list(sens_dir.rglob("*.parquet"))
        if (results_dir / VALIDATION_FILE).is_file():
            inputs.append(results_dir / VALIDATION_FILE)
        fresh = all(p.stat().st_mtime <= path.stat().st_mtime for p in inputs)
        if doc.get("design_hash") == design and fresh and doc.get("schema") == analysis.SCHEMA:
            doc["case_studies"] = case_study_numbers()
            return doc
    kept = "" if save else "; not saved: a reader does not write into results, orgscale paper does"
    log(f"computing the paper's numbers from {_rel(results_dir)} (one bootstrap each{kept})")
    return compute_numbers(results_dir, sens_dir, design, save=save)


# --------------------------------------------------------------------------- values
def need(doc: Mapping[str, Any], *path: str) -> Any:
    """``doc[path[0]][path[1]]...`` or :class:`MissingNumberError` naming the path."""
    cur: Any = doc
    for i, key in enumerate(path):
        if not isinstance(cur, Mapping) or key not in cur:
            raise MissingNumberError(".".join(path[: i + 1]), "not in paper_numbers.json")
        cur = cur[key]
    return cur


def _curve_at(c: Mapping[str, Any], n: int, metric: str) -> Mapping[str, Any]:
    return c[metric][c["n"].index(n)]


def headline_table(doc: Mapping[str, Any]) -> str:
    """Per organisation: largest unsaturated N, and at the largest N: landed share, paid and
    busy days per landed change, lead time."""
    curves = need(doc, "curves")
    rows = []
    for org in analysis.ORGS:
        for ci in ("off", "on"):
            c = curves.get(f"{org}.{ci}")
            if not c:
                continue
            n1 = c["n"][-1]
            first_sat = next((n for n, s in zip(c["n"], c["saturated_n"], strict=True) if s), None)
            rows.append(
                [
                    ORG_LABELS[org] + (", automation on" if ci == "on" else ""),
                    c["fitted_until"] if c["fitted_until"] is not None else "none",
                    first_sat if first_sat is not None else "none",
                    est(_curve_at(c, n1, "landed_share"), 0, pct=True),
                    est(_curve_at(c, n1, "paid_reviewer_days_per_change")),
                    est(_curve_at(c, n1, "busy_per_change")),
                    est(_curve_at(c, n1, "lead_time_km_p50"), 1),
                    est(_curve_at(c, n1, "lead_time_censored_share"), 0, pct=True),
                ]
            )
    n1 = max(max(c["n"]) for c in curves.values())
    return md_table(
        [
            "organisation",
            "largest unsaturated N",
            "saturated from N",
            f"landed share, N = {n1}",
            "paid reviewer-days per landed change",
            "busy person-days per landed change",
            "median lead time (KM), days",
            "still open at the end",
        ],
        rows,
    )


def crossover_text(c: Mapping[str, Any]) -> str:
    if c.get("nstar") is None:
        return c.get("reason") or "no crossover"
    lo = fmt(c["low"], 1) if c.get("low") is not None else "below the sampled N"
    hi = fmt(c["high"], 1) if c.get("high") is not None else "beyond the sampled N"
    below, above = (
        ("one core", "the split") if c.get("below") == "core" else ("the split", "one core")
    )
    text = f"{below} is lower below N* = {fmt(c['nstar'], 1)} [{lo}, {hi}] and {above} above it"
    crossings = c.get("n_crossings", 1)
    if crossings > 1:
        last = below if crossings % 2 == 0 else above
        text += (
            f" (the curves cross {crossings} times: N* is the first, and {last} is lower at "
            "the largest N sampled)"
        )
    return text


CROSS_WHAT = {
    "lead_time_km_p50": "median lead time",
    "paid_reviewer_days_per_change": "paid reviewer-days per landed change",
    "busy_per_change": "busy person-days per landed change",
}


def crossover_table(doc: Mapping[str, Any]) -> str:
    rows = []
    for key, per in need(doc, "crossovers").items():
        org, ci = key.split(".")
        for metric, what in CROSS_WHAT.items():
            if metric not in per:
                continue
            rows.append(
                [
                    ORG_LABELS[org] + (", automation on" if ci == "on" else ""),
                    what,
                    crossover_text(per[metric]),
                ]
            )
    return md_table(["split", "compared with one core on", "crossover"], rows)


PER_CHANGE = {
    **{p: f"{p}_per_change" for p in analysis.PARTS},
    "integration_cost": "integration_per_change",
    "busy_total": "busy_per_change",
}


def part_nstar(doc: Mapping[str, Any], org: str, part: str) -> str:
    """N* of a split against one core on a part's person-days per landed change."""
    if org == "single_core":
        return "(reference)"
    c = doc.get("crossovers", {}).get(f"{org}.off", {}).get(PER_CHANGE[part])
    if not c:
        return "n/a"
    if c.get("nstar") is None:
        reason = c.get("reason", "")
        if "split is above core" in reason:
            return "none: the split pays more at every N"
        if "core is above split" in reason:
            return "none: one core pays more at every N"
        return reason or "none"
    lo = fmt(c["low"], 1) if c.get("low") is not None else "<"
    hi = fmt(c["high"], 1) if c.get("high") is not None else ">"
    lower = "split" if c.get("below") == "split" else "one core"
    return f"{fmt(c['nstar'], 1)} [{lo}, {hi}], {lower} lower below"


def fit_label(org: str, f: Mapping[str, Any]) -> str:
    """An organisation's label in the fit tables; bit-identical configurations, fitted
    once, are named together."""
    return " = ".join(ORG_LABELS.get(n, n) for n in f.get("names", [org]))


def part_table(doc: Mapping[str, Any]) -> str:
    """Exponent, chosen law, χ²/dof, fitted range and N* per organisation and cost part."""
    rows = []
    for org, f in need(doc, "fits").items():
        for part in (*analysis.PARTS, "integration_cost", "busy_total"):
            p = f["parts"].get(part, {})
            nstar = part_nstar(doc, org, part) if org in analysis.ORGS else ""
            if "skipped" in p:
                rows.append(
                    [fit_label(org, f), analysis.PART_LABELS[part], "", "", "", nstar, p["skipped"]]
                )
                continue
            law = p["law"]
            slope = p.get("last_slope")
            rows.append(
                [
                    fit_label(org, f),
                    analysis.PART_LABELS[part],
                    est(p["exponent"]),
                    f"{_common.law_label(law)}",
                    f"{fmt(p['n_from'], 0)}–{fmt(p['n_to'], 0)}",
                    nstar,
                    (
                        f"local slope {fmt(slope['slope'])} "
                        f"[{fmt(slope['low'])}, {fmt(slope['high'])}] at N ≈ {fmt(slope['n'], 0)}"
                        if slope
                        else ""
                    )
                    + ("" if law["any_fits"] else "; no candidate law fits"),
                ]
            )
    return md_table(
        [
            "organisation",
            "part",
            "exponent b [95% CI]",
            "chosen law",
            "N fitted",
            "N* against one core (per landed change)",
            "note",
        ],
        rows,
    )


def usl_table(doc: Mapping[str, Any]) -> str:
    """The Universal Scalability Law where it is a candidate (landings per day): its
    parameters, fit and rank by AICc among the throughput laws, per organisation."""
    rows = []
    for org, f in need(doc, "fits").items():
        p = f["parts"].get("merged_per_day", {})
        if "skipped" in p:
            rows.append([fit_label(org, f), "", "", "", "", p["skipped"]])
            continue
        u = p.get("law", {}).get("usl")
        if not u:
            continue
        par, se = u["params"], u["stderrs"]
        rank = f"{u['rank']} of {u['of']}" if u["rank"] is not None else "not ranked"
        rows.append(
            [
                fit_label(org, f),
                ", ".join(f"{k} = {fmt(par[k], 3)} ± {fmt(se[k], 2)}" for k in par),
                fmt(u["chi2_dof"]),
                "yes" if u["fits"] else "no",
                rank + (" (chosen)" if u["chosen"] else ""),
                u["note"] or f"chosen law: {p['law']['best']}",
            ]
        )
    if not rows:
        return "*No organisation has a USL fit in this build.*"
    return md_table(
        [
            "organisation",
            "USL g·N/(1 + α(N−1) + βN(N−1)) on landings per day",
            "χ²/dof",
            "fits",
            "rank by AICc",
            "note",
        ],
        rows,
    )


def identical_text(doc: Mapping[str, Any]) -> str:
    """One sentence naming the configurations whose runs are bit-identical (fitted once)."""
    groups = doc.get("identical") or []
    if not groups:
        return ""
    named = "; ".join(" and ".join(ORG_LABELS.get(n, n) for n in g) for g in groups)
    return (
        f"Bit-identical configurations (every result of every run equal), fitted and shown "
        f"once: {named}."
    )


def structure_table(doc: Mapping[str, Any]) -> str:
    rows = []
    fits = need(doc, "fits")
    for org in ("flat", "modular_l0", "modular", "modular_l1", "hierarchical", "tree4"):
        f = fits.get(org)
        if not f:
            continue
        ic, links = f["parts"]["integration_cost"], f["parts"]["links"]
        rows.append(
            [
                fit_label(org, f),
                est(links.get("exponent")) if "exponent" in links else links.get("skipped", ""),
                est(ic.get("exponent")) if "exponent" in ic else ic.get("skipped", ""),
                f["fitted_until"] if f["fitted_until"] is not None else "none",
                f["largest_n"],
            ]
        )
    return md_table(
        [
            "link structure",
            "links exponent",
            "integration-cost exponent (unsaturated N)",
            "fitted up to N",
            "largest N run",
        ],
        rows,
    )


def automation_table(doc: Mapping[str, Any]) -> str:
    rows = []
    for org, r in need(doc, "automation").items():
        rows.append(
            [
                ORG_LABELS[org],
                r["n"],
                est(r["conflicts_late_off"], 1),
                est(r["conflicts_late_on"], 1),
                est(r["conflicts_early_on"], 1),
                est(r["conflicts_total_ratio"]),
                est(r["work_per_conflict_off"], 3),
                est(r["work_per_conflict_on"], 3),
                est(r["cost_conflicts_per_change_ratio"]),
                est(r["integration_per_change_ratio"]),
            ]
        )
    return md_table(
        [
            "split",
            "N",
            "late conflicts, off",
            "late, on",
            "caught early, on",
            "all conflicts on / off",
            "person-days per conflict, off",
            "per conflict, on",
            "conflict work per landed change, on / off",
            "integration per landed change, on / off",
        ],
        rows,
    )


HYPOTHESES = {
    "H1": "one core team has a scaling limit",
    "H2": "an all-to-all split gains nothing",
    "H3": "a hierarchical split scales",
    "H4": "automation makes integration cheap",
    "H5": "link pain marks bad APIs; fixing them cuts cost",
    "H6": "cost is moved, not removed (Dague)",
    "H7": "more reviewers on one area: output ∝ m^½",
}


def verdict_rows(doc: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for name, v in need(doc, "hypotheses").items():
        if name.startswith("_"):
            continue
        h, _, variant = name.partition(".")
        where = {
            "": "",
            "fixed_core": "fixed core of 17",
            "tree4": ORG_LABELS["tree4"],
        }.get(variant, ORG_LABELS.get(variant, variant))
        default_where = (
            "one area, fixed team of m, demand above capacity" if h == "H7" else "equal headcount"
        )
        rows.append([h, HYPOTHESES[h], where or default_where, f"**{v['status']}**", v["reason"]])
    return rows


CONSTRUCTION_WHAT = {
    "paid": "paid reviewer-days per landed change, split over one core",
    "lead": "the hierarchy's median lead time over one core's",
}


def construction_table(doc: Mapping[str, Any]) -> str:
    """The comparisons an input or accounting rule decides, each with its verdict."""
    rows = []
    for name, v in (doc.get("construction") or {}).items():
        kind, _, org = name.partition(".")
        n = v.get("inputs", {}).get("n")
        rows.append(
            [
                CONSTRUCTION_WHAT.get(kind, kind),
                ORG_LABELS.get(org, org) + (f", N = {n}" if n is not None else ""),
                f"**{v['status']}**",
                v.get("because") or "",
                v["reason"].removeprefix(f"{v['because']}: ") if v.get("because") else v["reason"],
            ]
        )
    if not rows:
        return ""
    return md_table(["comparison", "where", "verdict", "set by", "the numbers"], rows)


def verdict_table(doc: Mapping[str, Any]) -> str:
    return md_table(
        ["H", "claim", "where", "verdict", "why (estimate [95% CI])"], verdict_rows(doc)
    )


def test_list() -> str:
    return "\n".join(f"- **{h}** ({HYPOTHESES[h]}): {t}." for h, t in vd.TESTS.items())


def sensitivity_values(doc: Mapping[str, Any]) -> dict[str, str]:
    s = doc.get("sensitivity")
    values = {}
    if not s or "skipped" in s:
        why = (s or {}).get("skipped", "the sensitivity sweep has not been run")
        values["sens.table"] = f"*No sensitivity analysis in this build: {why}.*"
        values["sens.shares"] = ""
        values["sens.n_points"] = "0"
        values["sens.n_teams"] = "n/a"
        values["sens.n_params"] = "0"
        values["sens.nstar"] = ""
        values["sens.nstar_spread"] = ""
        values["sens.nstar_summary"] = ""
        values["sens.n_base_points"] = "0"
        values["sens.saturation"] = ""
        return values
    values["sens.n_points"] = str(s["n_points"])
    values["sens.n_teams"] = str(s["n_teams"])
    values["sens.n_params"] = str(len(s["parameters"]))
    rows = []
    names = s["parameters"]
    for i, name in enumerate(names):
        row = [f"`{name}`", "–".join(f"{v:g}" for v in s["ranges"][name])]
        for out in ("log_busy_ratio", "log_lead_ratio", "log_automation_ratio"):
            idx = s["indices"].get(out, {})
            if "S1" in idx:
                row.append(
                    f"{fmt(idx['S1'][i])} ± {fmt(idx['S1_conf'][i])} / "
                    f"{fmt(idx['ST'][i])} ± {fmt(idx['ST_conf'][i])}"
                )
            else:
                row.append(idx.get("skipped", "n/a"))
        rows.append(row)
    values["sens.table"] = md_table(
        [
            "parameter",
            "plausible range",
            "busy per change, hierarchy / core: S1 / ST",
            "lead time, hierarchy / core (censored at the window): S1 / ST",
            "integration per change, automation on / off: S1 / ST",
        ],
        rows,
    )
    sh = s["shares"]
    what = {
        "core_saturated": "one core team is saturated (H1 holds there)",
        "hier_saturated": "the hierarchy is saturated",
        "hier_maintainer_saturated": (
            "the hierarchy is saturated and its busiest team is a maintainer team (drivers-core)"
        ),
        "split_faster": "the hierarchy has the shorter median lead time",
        "split_cheaper_paid": "the hierarchy pays fewer reviewer-days per landed change",
        "split_less_busy": "the hierarchy spends fewer busy person-days per landed change",
        "moved_not_removed": (
            "the hierarchy's busy effort per landed change is at least "
            f"{vd.THRESHOLDS['h6_moved']:g}× one core's (H6's effect holds)"
        ),
        "automation_cuts_total": (
            f"automation cuts integration cost per landed change below "
            f"{vd.THRESHOLDS['h4_total']:g}× (H4's total-cost effect holds)"
        ),
        "automation_cuts_late": (
            f"automation cuts late conflicts below {vd.THRESHOLDS['h4_late']:g}× (H4's "
            "late-conflict effect holds; points without late conflicts left out)"
        ),
    }
    values["sens.n_base_points"] = str(s.get("n_base_points", s["n_points"]))
    values["sens.shares"] = md_table(
        [
            "at N = " + str(s["n_teams"]) + ", share of the plausible space where",
            "share [95% CI, cluster bootstrap over base points]",
        ],
        [[text, est(sh[k], 0, pct=True) + _points(sh[k])] for k, text in what.items()],
    )
    values.update(saturation_values(s))
    for k in what:
        values[f"sens.{k}"] = est(sh[k], 0, pct=True)
    rows = []
    for metric, b in s.get("nstar_brackets", {}).items():
        rows.append(
            [
                CROSS_WHAT[metric],
                est(b["below"], 0, pct=True),
                est(b["between"], 0, pct=True),
                est(b["above"], 0, pct=True),
                est(b["reversed"], 0, pct=True),
                b["below"]["n"],
            ]
        )
    if rows:
        b0 = next(iter(s["nstar_brackets"].values()))
        lo, hi = b0["n_lo"], b0["n_hi"]
        values["sens.nstar"] = (
            "Where the hierarchy's N\\* against one core lies over the plausible space "
            "(share of sample points, 95% interval by a cluster bootstrap over the "
            f"{values['sens.n_base_points']} base points of the design):\n\n"
            + md_table(
                [
                    "compared on",
                    f"N* < {lo} (split lower at both)",
                    f"{lo} < N* < {hi}",
                    f"N* > {hi} or never (one core lower at both)",
                    f"one core overtakes again (split lower at {lo} only)",
                    "points",
                ],
                rows,
            )
        )
    else:
        values["sens.nstar"] = ""
    spread = s.get("nstar_spread", {})
    values["sens.nstar_spread"] = nstar_spread_table(spread)
    values["sens.nstar_summary"] = nstar_spread_summary(spread, s["n_points"])
    return values


def _points(sh: Mapping[str, Any]) -> str:
    """ " of n (k base points)": what a share is taken over."""
    k = sh.get("clusters")
    return f" of {sh['n']}" + (f" ({k} base points)" if k is not None else "")


SENS_ORG_LABELS = {
    "single_core.off": "one core team",
    "hierarchical.off": "hierarchy (drivers-core)",
    "hierarchical.on": "hierarchy (drivers-core), automation on",
}


def saturation_values(s: Mapping[str, Any]) -> dict[str, str]:
    """Saturation over the plausible space: per organisation and N, the share of sample
    points where it is saturated (cluster bootstrap over base points). Values
    ``sens.saturation`` (a table) and ``sens.saturated.<org>.<on|off>.<N>``."""
    sat = s.get("saturation") or {}
    values: dict[str, str] = {}
    ns = sorted({int(n) for per_n in sat.values() for n in per_n})
    rows = []
    for org, per_n in sat.items():
        row = [SENS_ORG_LABELS.get(org, org)]
        for n in ns:
            x = per_n.get(str(n))
            row.append(est(x, 0, pct=True) if x else "")
            if x:
                values[f"sens.saturated.{org}.{n}"] = est(x, 0, pct=True)
        rows.append(row)
    values["sens.saturation"] = (
        md_table(
            ["organisation", *(f"saturated at N = {n} [95% CI]" for n in ns)],
            rows,
        )
        if rows
        else ""
    )
    return values


def nstar_q(q: Mapping[str, Any], n_lo: int, n_hi: int) -> str:
    """One quantile of N* over the plausible space: a value, ``< n_lo`` or ``> n_hi``."""
    if q.get("censored") == "<":
        return f"< {n_lo}"
    if q.get("censored") == ">":
        return f"> {n_hi}"
    return fmt(q.get("value"), 1)


def nstar_spread_table(spread: Mapping[str, Any]) -> str:
    """Quantiles of N* over the plausible space, per metric (censored ones shown as such)."""
    if not spread:
        return ""
    rows = []
    first = next(iter(spread.values()))
    n_lo, n_hi = first["n_lo"], first["n_hi"]
    qs = [q["q"] for q in first["quantiles"]]
    for metric, sp in spread.items():
        interp = sp["interpolated"]
        inner = (
            ", ".join(
                nstar_q(q, n_lo, n_hi)
                for q in interp["quantiles"]
                if q["q"] in (min(qs), 0.5, max(qs))
            )
            if interp["n"]
            else "none"
        )
        rows.append(
            [
                CROSS_WHAT[metric],
                *(nstar_q(q, n_lo, n_hi) for q in sp["quantiles"]),
                f"{interp['n']} of {sp['n']}" + (f": {inner}" if interp["n"] else ""),
                est(sp["censored"]["not_interpolable"], 0, pct=True),
            ]
        )
    return (
        f"N\\* over the plausible space as a distribution: where the hierarchy is lower than "
        f"one core at N = {n_hi} but not at N = {n_lo}, N\\* is interpolated between the two, "
        "assuming the difference hierarchy − one core is linear in log N there; points on "
        f"either side are censored (< {n_lo}: lower at both; > {n_hi}: not lower at {n_hi}, "
        f"including the points where one core overtakes again). Quantiles over all points; "
        "the interpolated points' own 5%, 50% and 95% quantiles beside them:\n\n"
        + md_table(
            [
                "compared on",
                *(f"{round(100 * q)}%" for q in qs),
                f"points crossing between {n_lo} and {n_hi}: N* 5%, 50%, 95%",
                "crossing but not interpolable (a median beyond the window)",
            ],
            rows,
        )
    )


def nstar_spread_summary(spread: Mapping[str, Any], n_points: int) -> str:
    """One sentence for §5: the hierarchy's N* over the plausible space (§9's numbers)."""
    if not spread:
        return ""
    bits = []
    for metric, sp in spread.items():
        q = {x["q"]: x for x in sp["quantiles"]}
        n_lo, n_hi = sp["n_lo"], sp["n_hi"]
        c = sp["censored"]
        interp = sp["interpolated"]
        median = nstar_q(q[0.5], n_lo, n_hi) if 0.5 in q else "n/a"
        band = "n/a"
        if 0.05 in q and 0.95 in q:
            ends = nstar_q(q[0.05], n_lo, n_hi), nstar_q(q[0.95], n_lo, n_hi)
            band = f"both {ends[0]}" if ends[0] == ends[1] else f"{ends[0]} to {ends[1]}"
        bits.append(
            f"on {CROSS_WHAT[metric]}, median N\\* {median} (5–95%: {band}; "
            f"N\\* < {n_lo} at {est(c['below'], 0, pct=True)} of points, "
            f"> {n_hi} or never at {est(c['above'], 0, pct=True)}, one core lower again at "
            f"{n_hi} at {est(c['reversed'], 0, pct=True)}, a crossing between interpolated "
            f"at {interp['n']})"
        )
    return (
        "Over the plausible ranges of the assumed and calibrated parameters "
        f"({n_points} sample points, one "
        "seed each, §9), the hierarchy's N\\* against one core is spread as follows: "
        + "; ".join(bits)
        + "."
    )


def link_pain_values(doc: Mapping[str, Any]) -> dict[str, str]:
    """§8's Lorenz sentence and table: the worst links' share of pain against their share
    of the input badness, at each split's largest unsaturated N (``link_pain_links.parquet``)."""
    lp = need(doc, "link_pain")
    share = round(100 * lp["share"])
    rows, bits = [], []
    for org in analysis.SPLITS:
        r = lp.get(org)
        if not r:
            continue
        top, g = r["top"], r["gini"]
        rows.append(
            [
                ORG_LABELS[org],
                r["n_teams"],
                r["links"],
                r["runs"],
                est(top["pain_days"], 0, pct=True),
                est(top["pain_events"], 0, pct=True),
                est(top["badness"], 0, pct=True),
                est(r["pain_on_worst_badness"], 0, pct=True),
                f"{est(g['pain_days'])} / {est(g['badness'])}",
            ]
        )
        pain, bad = top["pain_days"], top["badness"]
        if _f(pain.get("low")) > _f(bad.get("high")):
            how = "more concentrated than"
        elif _f(pain.get("high")) < _f(bad.get("low")):
            how = "less concentrated than"
        else:
            how = "not distinguishable from"
        bits.append(
            f"{ORG_LABELS[org]} {est(pain, 0, pct=True)} of pain against "
            f"{est(bad, 0, pct=True)} of badness ({how} the input)"
        )
    if not rows:
        raise MissingNumberError("link_pain", "no organisation in link_pain_links.parquet")
    first = next(r for o, r in lp.items() if o in analysis.SPLITS)
    sentence = (
        f"At each split's largest unsaturated N (the table's N; "
        f"{first['runs']} seeds of the sweep's own runs, automation off), the worst {share}% "
        f"of links carry, in person-days: " + "; ".join(bits) + "."
    )
    table = md_table(
        [
            "organisation",
            "N",
            "links",
            "runs",
            f"worst {share}%: share of pain (person-days)",
            "of pain events",
            "of badness",
            f"pain on the {share}% worst-badness links",
            "Gini, pain / badness",
        ],
        rows,
    )
    return {"links.sentence": sentence, "table.link_pain": table}


def validation_values(doc: Mapping[str, Any]) -> dict[str, str]:
    """The presets' validation table (``orgscale validate``'s columns) and what it misses."""
    rows = doc.get("validation")
    if not rows:
        return {
            "validation.table": (
                "*The validation table (`orgscale validate` of both presets) was not available "
                "to this build: `orgscale paper` writes it as `validation.csv` beside the "
                "results when the presets of `model/presets/` are installed.*"
            ),
            "validation.misses": "",
        }
    table_rows, missed = [], []
    for r in rows:
        sim = (
            f"{fmt(r.get('sim_median'), 3)} [{fmt(r.get('sim_p05'), 3)}, "
            f"{fmt(r.get('sim_p95'), 3)}]"
        )
        ok = str(r.get("reproduced")).lower() in ("true", "1", "yes")
        tol, label = r.get("tolerance"), r.get("tolerance_label")
        shown = f" {label}" if isinstance(label, str) and label else ""
        if not shown and tol is not None:
            shown = f" ± {fmt(tol, 3)}"
        table_rows.append(
            [
                r.get("preset", ""),
                r.get("pattern", r.get("metric", "")),
                f"{r.get('observed')}{shown}",
                sim,
                "yes" if ok else "**no**",
                r.get("role", ""),
            ]
        )
        if not ok:
            missed.append(f"{r.get('preset', '')} {r.get('pattern', '')} ({r.get('role', '')})")
    table = md_table(
        [
            "preset",
            "pattern",
            "observed (tolerance)",
            "simulated median [90% over seeds]",
            "reproduced",
            "role",
        ],
        table_rows,
    )
    misses = (
        "The model does not reproduce: " + "; ".join(missed) + "."
        if missed
        else "Every pattern, in-sample and held out, is reproduced within its tolerance."
    )
    return {"validation.table": table, "validation.misses": misses}


def parameters_table(df: pd.DataFrame) -> str:
    rows = []
    for name, spec in PARAMETERS.items():
        vals = _common.swept(df, name)
        shown = ", ".join(f"{v:g}" if isinstance(v, int | float) else str(v) for v in vals[:6])
        if len(vals) > 6:
            shown += f", … ({len(vals)} values)"
        plausible = PLAUSIBLE_RANGES.get(name)
        rows.append(
            [
                f"`{name}`",
                f"`{spec.default}`",
                shown,
                "–".join(f"{v:g}" for v in plausible) if plausible else "",
                source_of(name),
            ]
        )
    return md_table(
        ["parameter", "default", "in the sweep", "plausible range (sensitivity)", "source"], rows
    )


# --------------------------------------------------------------------------- the answer
def _h(doc: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    return doc.get("hypotheses", {}).get(name)


def _factor(log_error: Any) -> str:
    """A median absolute log error as the factor it stands for (0.69 → "×2.0")."""
    x = _f(log_error)
    return "–" if not math.isfinite(x) else f"×{math.exp(x):.1f}"


def _span(values: Sequence[float], digits: int = 1) -> str:
    """``low–high`` over the finite values, one number when they print alike, ``–`` if none."""
    finite = [v for v in values if math.isfinite(_f(v))]
    if not finite:
        return "–"
    low, high = fmt(min(finite), digits), fmt(max(finite), digits)
    return low if low == high else f"{low}–{high}"


#: The Answer's table: organisation and staffing (curve key) with its row label.
DECISION_ROWS = (
    ("single_core.off.fixed_core", "One core, fixed at 17 reviewers"),
    ("single_core.off.earned", "One core, earned trust"),
    ("single_core.off", "One core, equal headcount"),
    ("hierarchical.off.earned", "Seed's hierarchy, earned trust"),
    ("hierarchical.on.earned", "Seed's hierarchy + automation, earned trust"),
    ("hierarchical.on", "Seed's hierarchy + automation, equal headcount"),
    ("tree4.on", "Kernel-like tree + automation, equal headcount"),
)


def _value(c: Mapping[str, Any], n: int | None, metric: str) -> float:
    if n is None or n not in c["n"] or metric not in c:
        return math.nan
    return _f((_curve_at(c, n, metric) or {}).get("value"))


def _first_saturated_n(c: Mapping[str, Any]) -> int | None:
    for n, sat in zip(c["n"], c["saturated_n"], strict=True):
        if sat and n >= analysis.SPLIT_MIN_N:
            return n
    return None


def decision_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The Answer's numbers and its table (``decision.*``): where each organisation stops
    keeping up (its largest unsaturated N, from the smallest up), its median lead time,
    paid reviewer-days per landed change and busiest team's utilisation at a common N (the
    largest N at which one core with earned trust keeps up), the utilisation that
    separates points that keep up from saturated ones, and what the sensitivity runs say
    about one core's limit."""
    curves = need(doc, "curves")
    core = need(curves, "single_core.off.earned")
    v: dict[str, Any] = {}
    ref = core["fitted_until"]
    v["decision.n_max"] = str(max(core["n"]))
    v["decision.n_ref"] = str(ref)
    v["decision.core_until"] = str(ref)
    limit = _first_saturated_n(core)
    v["decision.core_limited"] = limit is not None
    v["decision.core_limit"] = str(limit) if limit is not None else "–"
    v["decision.core_util"] = fmt(_value(core, ref, "max_team_utilization"), 2)
    rows = []
    keep_up, saturated = [], []
    for key, label in DECISION_ROWS:
        c = curves.get(key)
        if c is None:
            raise MissingNumberError(f"curves.{key}", "the Answer's table needs this curve")
        until = c["fitted_until"]
        at = ref if ref in c["n"] else None
        for n, sat in zip(c["n"], c["saturated_n"], strict=True):
            if n < analysis.SPLIT_MIN_N:
                continue
            (saturated if sat else keep_up).append(_value(c, n, "max_team_utilization"))
        name = key.replace(".", "_")
        v[f"decision.{name}.until"] = str(until) if until is not None else "none"
        v[f"decision.{name}.beyond_core"] = (
            "further than"
            if (until or 0) > (ref or 0)
            else "as far as"
            if (until or 0) == (ref or 0)
            else "less far than"
        )
        v[f"decision.{name}.lead"] = fmt(_value(c, at, "lead_time_km_p50"), 1)
        v[f"decision.{name}.paid"] = fmt(_value(c, at, "paid_reviewer_days_per_change"), 2)
        v[f"decision.{name}.util"] = fmt(_value(c, at, "max_team_utilization"), 2)
        first = _first_saturated_n(c)
        rows.append(
            [
                label,
                v[f"decision.{name}.until"],
                str(first) if first is not None else f"> {max(c['n'])}",
                v[f"decision.{name}.lead"],
                v[f"decision.{name}.paid"],
                v[f"decision.{name}.util"],
            ]
        )
    v["table.decision"] = md_table(
        [
            "organisation",
            "keeps up to N",
            "saturated at N",
            f"median lead, days (N = {ref})",
            f"paid reviewer-days / landed (N = {ref})",
            f"busiest team's utilisation (N = {ref})",
        ],
        rows,
    )
    kept = [u for u in keep_up if math.isfinite(u)]
    lost = [u for u in saturated if math.isfinite(u)]
    v["decision.util_keep_up_max"] = fmt(max(kept), 2) if kept else "–"
    v["decision.util_saturated_min"] = fmt(min(lost), 2) if lost else "–"
    share = (
        ((doc.get("sensitivity") or {}).get("saturation") or {})
        .get("single_core.off", {})
        .get(str(ref))
    )
    v["decision.core_sens_saturated"] = (
        est(share, 0, pct=True) if isinstance(share, Mapping) else "not measured"
    )
    return v


def _tolerance_text(rows: list[Mapping[str, Any]]) -> str:
    """What "within tolerance" means for a case's fitted and held-out patterns, in words."""
    factors = {float(r.get("factor") or 0.0) for r in rows if r["role"] != "check"}
    if len(factors) == 1 and min(factors) > 0:
        return f"within a factor of {min(factors):g} of the observed value, either way"
    if factors and min(factors) > 0:
        return "within its own factor of the observed value, either way"
    if max(factors, default=0.0) > 0:
        return "within its own tolerance (a factor either way, or ± in the pattern's unit)"
    return "within its own tolerance (±, in the pattern's unit)"


def _worst_misfit(rows: list[Mapping[str, Any]]) -> str:
    """The fitted or held-out pattern whose simulated median is furthest from the observed
    value (log scale), in words."""
    scored = [r for r in rows if r["role"] != "check" and math.isfinite(_f(r.get("abs_log_error")))]
    if not scored:
        return "not measured"
    r = max(scored, key=lambda r: _f(r["abs_log_error"]))
    when = f" in {r['since']} – {r['until']}" if r.get("since") else ""
    return (
        f"`{r['metric']}`{when}: simulated {fmt(r['sim_median'], 2)} against "
        f"{fmt(r['observed'], 2)} observed (off by {_factor(r['abs_log_error'])})"
    )


def case_values(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Numbers of the case studies (``doc["case_studies"]``, :mod:`case_studies`): whether
    each was calibrated and converged, its errors in and out of sample, and the observed
    and simulated ranges of throughput and median lead time."""
    v: dict[str, Any] = {}
    for key in ("nova", "uboot"):
        case = need(doc, "case_studies", key)
        p = f"case.{key}"
        v[f"{p}.calibrated"] = bool(case["calibrated"])
        v[f"{p}.converged"] = bool(case["converged"])
        cal = case.get("calibration") or {}
        v[f"{p}.fit_distance"] = fmt(cal.get("fit_distance"), 1)
        v[f"{p}.n_simulations"] = str(cal.get("n_simulations") or "–")
        v[f"{p}.n_runs"] = str(case["n_runs"])
        v[f"{p}.code_current"] = bool(cal.get("model_code_current", False))
        v[f"{p}.parameters"] = (
            ", ".join(f"`{name}`" for name in cal.get("posterior") or {}) or "no parameters"
        )
        v[f"{p}.preset_current"] = cal.get("preset_current") is not False
        spread = (cal.get("posterior") or {}).get("difficulty_sigma")
        v[f"{p}.difficulty"] = (
            f"{fmt(spread['median'], 2)} ({fmt(spread['ci90_low'], 2)}–"
            f"{fmt(spread['ci90_high'], 2)})"
            if spread
            else ""
        )
        v[f"{p}.tolerance"] = _tolerance_text(case["patterns"])
        errors = case["errors"].get("all", {})
        for role in ("in_sample", "held_out"):
            group = errors.get(role)
            v[f"{p}.{role}.factor"] = _factor(group["median_abs_log_error"]) if group else "–"
            v[f"{p}.{role}.within"] = (
                f"{100 * _f(group['share_within_tolerance']):.0f}%" if group else "–"
            )
            v[f"{p}.{role}.n"] = str(group["n"]) if group else "0"
        rows = case["patterns"]
        for metric, name in (("merged_per_day", "merged"), ("lead_time_p50", "lead")):
            mine = [r for r in rows if r["metric"] == metric and r["role"] != "check"]
            v[f"{p}.{name}.observed"] = _span([r["observed"] for r in mine])
            v[f"{p}.{name}.simulated"] = _span([r["sim_median"] for r in mine])
            if mine:
                v[f"{p}.{name}.observed_first"] = fmt(mine[0]["observed"], 1)
                v[f"{p}.{name}.observed_last"] = fmt(mine[-1]["observed"], 1)
                v[f"{p}.{name}.simulated_first"] = fmt(mine[0]["sim_median"], 1)
                v[f"{p}.{name}.simulated_last"] = fmt(mine[-1]["sim_median"], 1)
        v[f"{p}.in_sample_until"] = case.get("in_sample_until") or "–"
        v[f"{p}.worst"] = _worst_misfit(rows)
        # reproduced: at least half the patterns within tolerance, in sample and held out
        shares = [
            _f((errors.get(role) or {}).get("share_within_tolerance"))
            for role in ("in_sample", "held_out")
        ]
        v[f"{p}.reproduces"] = all(math.isfinite(x) and x >= 0.5 for x in shares)
    return v


def answer_values(doc: Mapping[str, Any]) -> dict[str, str]:
    """The first paragraph's and the conclusion's sentences, each from the numbers."""
    v: dict[str, str] = {}
    curves = need(doc, "curves")
    core = need(curves, "single_core.off")
    hier = need(curves, "hierarchical.off")
    n_max = core["n"][-1]
    cross = need(doc, "crossovers", "hierarchical.off")
    lead_c, busy_c, paid_c = (
        cross["lead_time_km_p50"],
        cross["busy_per_change"],
        cross["paid_reviewer_days_per_change"],
    )

    def beats(c: Mapping[str, Any], what: str) -> str:
        span = c.get("n_range") or []
        where = (
            f"N = {span[0]}–{span[-1]}, where both are unsaturated"
            if span
            else "no N where both are unsaturated"
        )
        if c.get("nstar") is None:
            reason = c.get("reason", "")
            if "split is above core" in reason:
                return f"on {what} the hierarchy never beats one core ({where})"
            if "core is above split" in reason:
                return f"on {what} the hierarchy is lower than one core at every N ({where})"
            return f"on {what} ({where}): {reason}"
        return f"on {what} ({where}), {crossover_text(c)}"

    v["answer.lead"] = beats(lead_c, "median lead time")
    v["answer.busy"] = beats(busy_c, "busy person-days per landed change")
    v["answer.paid"] = beats(paid_c, "paid reviewer-days per landed change")
    # what an input or accounting rule decides is said so where the answer quotes it
    cons = doc.get("construction") or {}
    for kind, key in (("lead", "answer.lead"), ("paid", "answer.paid")):
        c = cons.get(f"{kind}.hierarchical")
        made = c is not None and c["status"] == vd.BY_CONSTRUCTION
        v[f"construction.{kind}"] = f"by construction: {c['because']}" if made else ""
        if made:
            v[key] += f" ({v[f'construction.{kind}']})"
    v["answer.core_largest_unsaturated"] = str(core["fitted_until"])
    v["answer.hier_largest_unsaturated"] = str(hier["fitted_until"])
    v["answer.n_max"] = str(n_max)
    v["answer.core_lead_at_max"] = est(_curve_at(core, n_max, "lead_time_km_p50"), 1)
    v["answer.hier_lead_at_max"] = lead_text(_curve_at(hier, n_max, "lead_time_km_p50"))
    v["answer.core_paid_at_max"] = est(_curve_at(core, n_max, "paid_reviewer_days_per_change"))
    v["answer.hier_paid_at_max"] = est(_curve_at(hier, n_max, "paid_reviewer_days_per_change"))
    # the hierarchy with automation, the organisation a reader would actually choose
    auto = curves.get("hierarchical.on")
    if auto and n_max in auto["n"]:
        until = auto["fitted_until"]
        sat_at_max = auto["saturated_n"][auto["n"].index(n_max)]
        v["answer.auto_hier"] = (
            "With automation (a daily test-merge of every tree) the hierarchy stays "
            f"unsaturated up to N = {until if until is not None else 'none of the sampled N'}"
            + ("" if not sat_at_max else f" and is saturated at N = {n_max}")
            + f"; at N = {n_max} it pays "
            f"{est(_curve_at(auto, n_max, 'paid_reviewer_days_per_change'))} paid reviewer-days "
            "per landed change and "
            f"{est(_curve_at(auto, n_max, 'busy_per_change'))} busy person-days, against one "
            f"core's {est(_curve_at(core, n_max, 'paid_reviewer_days_per_change'))} and "
            f"{est(_curve_at(core, n_max, 'busy_per_change'))}, with a median lead time of "
            f"{est(_curve_at(auto, n_max, 'lead_time_km_p50'), 1)} days against "
            f"{est(_curve_at(core, n_max, 'lead_time_km_p50'), 1)}."
        )
    else:
        v["answer.auto_hier"] = "The hierarchy with automation was not run at the largest N."

    # link structures: near-linear = integration-cost exponent CI below the H3 threshold
    thr = vd.THRESHOLDS["h3_exponent"]
    near, not_near, unknown = [], [], []
    for org, f in need(doc, "fits").items():
        if org == "single_core":
            continue
        e = f["parts"]["integration_cost"].get("exponent")
        until, largest = f["fitted_until"], f.get("largest_n")
        beyond = (
            f"; saturated at larger N, run to N = {largest}"
            if until is not None and largest is not None and until < largest
            else ""
        )
        label = f"{fit_label(org, f)} (b = {est(e)}, fitted to N = {until}{beyond})"
        if not e or e.get("high") is None:
            unknown.append(fit_label(org, f))
        elif e["high"] < thr:
            near.append(label)
        elif e["low"] > thr:
            not_near.append(label)
        else:
            unknown.append(label)
    v["answer.near_linear"] = "; ".join(near) or "none"
    v["answer.not_near_linear"] = "; ".join(not_near) or "none"
    v["answer.structure_unclear"] = "; ".join(unknown) or "none"

    auto = doc.get("automation", {}).get("hierarchical")

    def side(e: Mapping[str, Any]) -> int:
        """-1: CI wholly below 1; 1: wholly above; 0: holds 1 (or undefined)."""
        lo, hi = _f(e.get("low")), _f(e.get("high"))
        if hi < 1:
            return -1
        if lo > 1:
            return 1
        return 0

    if auto:
        moved = {
            0: "the same conflicts, found earlier: moved, not removed",
            -1: "fewer conflicts: some are removed, not only moved",
            1: "more conflicts found: automation finds some a real merge would not",
        }[side(auto["conflicts_total_ratio"])]
        removed = {
            -1: "automation removes part of the integration work",
            0: "no detectable change in total integration work: moved, not removed",
            1: "automation adds integration work",
        }[side(auto["integration_per_change_ratio"])]
        v["answer.auto_moved"] = moved
        v["answer.auto_removed"] = removed
        v["answer.auto_n"] = str(auto["n"])
        v["answer.auto_total"] = est(auto["integration_per_change_ratio"])
        v["answer.auto_conflict_work"] = est(auto["cost_conflicts_per_change_ratio"])
        v["answer.auto_all_conflicts"] = est(auto["conflicts_total_ratio"])
        v["answer.auto_early_share"] = est(auto["early_share_on"], 0, pct=True)
        v["answer.auto_late"] = est(auto["late_ratio"])
    else:
        for k in ("n", "total", "conflict_work", "all_conflicts", "early_share", "late"):
            v[f"answer.auto_{k}"] = "n/a (the hierarchy saturates with automation off or on)"
        v["answer.auto_moved"] = v["answer.auto_removed"] = "not measurable"

    # the same comparison over the plausible range of every assumed parameter
    sens = doc.get("sensitivity") or {}
    sh = sens.get("shares")
    if sh:
        v["answer.robust"] = (
            f"Over the plausible ranges of all {len(sens['parameters'])} assumed and calibrated "
            "parameters "
            f"({sens['n_points']} points, N = {sens['n_teams']}), the hierarchy has the shorter "
            f"median lead time at {est(sh['split_faster'], 0, pct=True)} of points, lower busy "
            f"effort per landed change at {est(sh['split_less_busy'], 0, pct=True)}, fewer paid "
            f"reviewer-days per landed change at {est(sh['split_cheaper_paid'], 0, pct=True)}, "
            f"and one core is saturated at {est(sh['core_saturated'], 0, pct=True)}; the "
            "hierarchy is saturated at "
            f"{est(sh['hier_saturated'], 0, pct=True)}, with its drivers-core the busiest team at "
            f"{est(sh['hier_maintainer_saturated'], 0, pct=True)}."
        )
    else:
        v["answer.robust"] = "The sensitivity sweep was not part of this build."

    # where each organisation pays: parts per landed change at the largest N both are
    # unsaturated
    n_both = min(
        (x for x in (core["fitted_until"], hier["fitted_until"]) if x is not None), default=None
    )
    if n_both is not None:

        def parts(c: Mapping[str, Any]) -> str:
            bits = []
            for part in analysis.PARTS:
                e = _curve_at(c, n_both, f"{part}_per_change")
                if _f(e.get("value")) > 0:
                    bits.append(f"{analysis.PART_LABELS[part]} {est(e, 3)}")
            return ", ".join(bits)

        v["answer.where_paid"] = (
            f"At N = {n_both}, in person-days per landed change, one core pays {parts(core)}; "
            f"the hierarchy pays {parts(hier)}."
        )
    else:
        v["answer.where_paid"] = "One core or the hierarchy is saturated from the smallest N."

    # conclusion sentences, each chosen by a verdict
    h1, h1f = _h(doc, "H1"), _h(doc, "H1.fixed_core")
    h6 = _h(doc, "H6.hierarchical")
    h4 = _h(doc, "H4.hierarchical")
    h3 = _h(doc, "H3")
    h2 = _h(doc, "H2")
    s = []
    if h1 and h1["status"] != vd.SUPPORTED and h1f and h1f["status"] == vd.SUPPORTED:
        s.append(
            "Bottomley is right that one core team hits a limit, but in this model the limit "
            "is its headcount: a core of 17 that cannot grow saturates ("
            + h1f["reason"]
            + "), while a core that grows with the code (the same people as the split) "
            "does not (" + h1["reason"] + ")."
        )
    elif h1:
        s.append(f"On a single core's limit (H1) the verdict is {h1['status']}: {h1['reason']}.")
    if h2:
        s.append(
            "He is "
            + {
                vd.SUPPORTED: "right",
                vd.NOT_SUPPORTED: "wrong",
                vd.BY_CONSTRUCTION: "right only by the model's own rule",
            }.get(h2["status"], "not shown right")
            + f" that an all-to-all split gains nothing (H2 {h2['status']}: {h2['reason']})."
        )
    if h3:
        s.append(
            f"On whether a hierarchical split scales (H3) the verdict is {h3['status']}: "
            f"{h3['reason']}."
        )
    if h4:
        s.append(
            f"On automation (H4) the verdict is {h4['status']}: {h4['reason']}."
            + (f" What restates the set-up: {h4['because']}." if h4.get("because") else "")
        )
    s.append(
        "What that means for the choice: "
        + v["answer.auto_hier"][0].lower()
        + v["answer.auto_hier"][1:]
    )
    if h6:
        s.append(
            "Dague is "
            + ("right" if h6["status"] == vd.SUPPORTED else "not shown right")
            + " that the cost is paid somewhere (H6 "
            + h6["status"]
            + f": {h6['reason']}); a ratio above 1 means the split moved the work and added "
            "to it."
        )
    if sh:
        n_s = sens["n_teams"]
        n_base = sens.get("base_points", "its")
        default_sat = n_s in hier["n"] and hier["saturated_n"][hier["n"].index(n_s)]
        text = (
            "Over the plausible ranges of the assumed and calibrated parameters "
            f"at N = {n_s}, the hierarchy "
            f"is saturated at {est(sh['hier_saturated'], 0, pct=True)} of points, with a "
            "maintainer team (drivers-core) the busiest at "
            f"{est(sh['hier_maintainer_saturated'], 0, pct=True)}; one core is saturated at "
            f"{est(sh['core_saturated'], 0, pct=True)}."
        )
        if _f(sh["hier_saturated"]["low"]) > 0.5 and not default_sat:
            text += (
                f" At the defaults the hierarchy is not saturated at N = {n_s}: the defaults are "
                "a favourable corner for the split, and its drivers-core is an integration "
                f"point with a limit of its own, reached by N = {n_s} over most of the "
                f"plausible space. (With {n_base} base points the Sobol indices in §9 carry "
                "intervals as wide as themselves: they do not rank the assumptions.)"
            )
        s.append(text)
    s.append(v["answer.where_paid"])
    v["conclusion.sentences"] = "\n\n".join(s)
    return v


def experiment_values(doc: Mapping[str, Any], results_dir: Path) -> dict[str, str]:
    spec_text = (results_dir / "spec.toml").read_text(encoding="utf-8").strip()
    manifest = {}
    if (results_dir / "manifest.json").is_file():
        manifest = json.loads((results_dir / "manifest.json").read_text(encoding="utf-8"))
    git = (manifest.get("git") or {}).get("sha", "n/a")
    return {
        "experiment.spec_toml": spec_text,
        "experiment.n_runs": str(doc["n_runs"]),
        "experiment.replicates": str(doc["replicates"]),
        "experiment.days": fmt(doc["days"], 0),
        "experiment.warmup_days": fmt(doc["warmup_days"], 0),
        "experiment.measured_days": fmt(doc["measured_days"], 0),
        "experiment.cpu_minutes": fmt((doc.get("cpu_s") or math.nan) / 60, 1),
        "experiment.sens_runs": str(doc.get("sensitivity_runs", 0)),
        "experiment.git": str(git)[:10],
        "experiment.results_dir": _rel(results_dir),
        "experiment.design_hash": str(doc.get("design_hash"))[:12],
    }


def paper_values(doc: Mapping[str, Any], results_dir: Path, figures_rel: str) -> dict[str, str]:
    df = _common.load_results(results_dir)
    values = experiment_values(doc, results_dir)
    values.update(answer_values(doc))
    values.update(case_values(doc))
    values.update(decision_values(doc))
    values.update(sensitivity_values(doc))
    values.update(validation_values(doc))
    values.update(link_pain_values(doc))
    values["table.headline"] = headline_table(doc)
    values["table.crossovers"] = crossover_table(doc)
    values["table.parts"] = part_table(doc)
    values["table.structure"] = structure_table(doc)
    values["table.automation"] = automation_table(doc)
    values["table.verdicts"] = verdict_table(doc)
    values["table.construction"] = construction_table(doc)
    values["table.usl"] = usl_table(doc)
    values["fits.identical"] = identical_text(doc)
    values["table.parameters"] = parameters_table(df)
    values["tests"] = test_list()
    values["level"] = f"{round(100 * doc['level'])}%"
    values["fit_p_min"] = f"{_fit_p_min():g}"
    values["n_boot"] = str(vd.N_BOOT)
    values["threshold.h3"] = f"{vd.THRESHOLDS['h3_exponent']:g}"
    values["saturated_share"] = f"{analysis.SATURATED_SHARE:g}"
    values["split_min_n"] = str(analysis.SPLIT_MIN_N)
    for name in FIGURES:
        values[f"figure.{name}"] = f"{figures_rel}/{name}.png"
    h7 = doc["hypotheses"].get("_h7", {})
    values["h7.reviews_exponent"] = est(h7.get("reviews_per_day"))
    values["h7.merged_exponent"] = est(h7.get("merged_per_day"))
    return values


def _fit_p_min() -> float:
    from sweeps.fit import FIT_P_MIN

    return FIT_P_MIN


# --------------------------------------------------------------------------- render
def nest(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "c": 2}`` → ``{"a": {"b": 1}, "c": 2}``: dotted names as the template's
    attribute paths. A name that is both a value and a prefix of another is an error."""
    tree: dict[str, Any] = {}
    for name, value in values.items():
        *parents, leaf = name.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"value name {name!r} extends a value of its own prefix")
        if isinstance(node.get(leaf), dict):
            raise ValueError(f"value name {name!r} is also a prefix of other names")
        node[leaf] = value
    return tree


def render(template: str, values: Mapping[str, Any]) -> str:
    """Render the Jinja2 template with ``values`` (dotted names as nested attributes).

    Every ``{{ name }}`` must have a value (:class:`MissingNumberError` names the first
    missing one; names used only inside ``{% if %}`` blocks are checked by Jinja2's strict
    undefined), and nothing template-like may be left in the text.
    """
    import jinja2

    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise MissingNumberError(missing[0], "no value for placeholder(s) " + ", ".join(missing))
    env = jinja2.Environment(  # comments as {## … ##}: pandoc's {#id} attributes stay text
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        comment_start_string="{##",
        comment_end_string="##}",
    )
    try:
        text = env.from_string(template).render(nest(values))
    except jinja2.TemplateSyntaxError as err:
        raise ValueError(f"paper template, line {err.lineno}: {err.message}") from err
    except jinja2.UndefinedError as err:
        raise MissingNumberError(str(err), f"the template needs a value: {err}") from err
    leftover = LEFTOVER.search(text)
    if leftover:
        line = text.count("\n", 0, leftover.start()) + 1
        raise ValueError(f"rendered paper still holds {leftover.group(0)!r} on line {line}")
    return text


def draw_figures(
    results_dir: str | Path,
    out_dir: str | Path = DEFAULT_FIGURES,
    names: Sequence[str] = FIGURES,
    log: Callable[[str], None] | None = print,
) -> list[Path]:
    """Run every figure script's ``main(results_dir, out_dir)``; return the files written."""
    written = []
    for i, name in enumerate(names, 1):
        paths = importlib.import_module(name).main(results_dir, out_dir)
        written += paths
        if log:
            log(f"[{i}/{len(names)}] {name}: " + ", ".join(_rel(Path(p)) for p in paths))
    return written


def figures(
    results_dir: str | Path,
    out_dir: str | Path = DEFAULT_FIGURES,
    *,
    spec: str | Path = DEFAULT_SPEC,
    sensitivity: str | Path | None = DEFAULT_SENSITIVITY,
    log: Callable[[str], None] | None = print,
) -> list[Path]:
    """Check the design, draw every figure; writes nothing into ``results_dir``.

    The folder's ``paper_numbers.json`` is used when it is current; otherwise the numbers
    are computed for these figures and not saved (``orgscale paper`` saves them).
    """
    results_dir = Path(results_dir)
    say = log or (lambda _m: None)
    design = check_design(results_dir, spec)
    sens = Path(sensitivity) if sensitivity else None
    doc = load_or_compute_numbers(results_dir, sens, design, say, save=False)
    _common.hold_numbers(results_dir, doc)
    try:
        return draw_figures(results_dir, out_dir, log=log)
    finally:
        _common.hold_numbers(results_dir, None)


#: Typst rules every PDF gets (tables that break across pages, header rows repeated).
PDF_PREAMBLE = PAPER_DIR / "paper_preamble.typ"
#: The works the paper cites; ``[@key]`` in the Markdown, rendered by pandoc's citeproc.
BIBLIOGRAPHY = PAPER_DIR / "references.bib"
#: Layout of the PDF unless the Markdown's front matter says otherwise.
PDF_DEFAULTS: dict[str, Any] = {
    "papersize": "a4",
    "fontsize": "9.5pt",
    "margin": {"x": "2cm", "y": "2.2cm"},
    "page-numbering": "1",
    "abstract-title": "Abstract",
    "link-citations": True,
}


UNRESOLVED_CITATION = re.compile(r"#link\(<ref-([^>]+)>\)\[#strong\[[^\]]*\?\]\]")


def _pdf_metadata(date: str) -> str:
    """The defaults of :data:`PDF_DEFAULTS` and the build's ``date`` as a pandoc metadata
    file (JSON is YAML); the Markdown's own front matter overrides every one of them."""
    return json.dumps({**PDF_DEFAULTS, "date": date}, ensure_ascii=False)


def write_pdf(
    markdown: Path,
    *,
    bibliography: Path | None = BIBLIOGRAPHY,
    date: str | None = None,
) -> Path:
    """``paper.md`` → Typst (pandoc) → ``paper.pdf`` (Typst), beside the Markdown.

    The front matter gives the title block (``title``, ``author``, ``abstract``; ``date``
    defaults to ``date`` or today); citations ``[@key]`` are resolved from ``bibliography``
    by pandoc's citeproc into the ``#refs`` section (or the end); a citation that is not in
    it stops the build. Tables break across pages with their header repeated
    (:data:`PDF_PREAMBLE`). Figures are read from the paths the Markdown gives (relative to
    its folder). Returns the PDF's path; raises ``RuntimeError`` naming the step that
    failed.
    """
    import datetime
    import tempfile

    import pypandoc
    import typst

    markdown = Path(markdown)
    typ = markdown.with_suffix(".typ")
    pdf = markdown.with_suffix(".pdf")
    date = date or datetime.date.today().isoformat()
    with tempfile.TemporaryDirectory() as tmp:
        defaults = Path(tmp) / "defaults.yaml"
        defaults.write_text(_pdf_metadata(date), encoding="utf-8")
        args = [
            "--standalone",
            "--wrap=preserve",
            f"--metadata-file={defaults}",
            f"--include-in-header={PDF_PREAMBLE}",
            f"--resource-path={markdown.resolve().parent}",
        ]
        if bibliography is not None:
            args += ["--citeproc", f"--bibliography={Path(bibliography).resolve()}"]
        try:
            pypandoc.convert_file(
                str(markdown), "typst", format="markdown", outputfile=str(typ), extra_args=args
            )
        except (RuntimeError, OSError) as err:
            raise RuntimeError(f"pandoc could not turn {markdown} into Typst: {err}") from err
    # citeproc prints a key it cannot find in bold with a question mark
    missing = sorted(set(UNRESOLVED_CITATION.findall(typ.read_text(encoding="utf-8"))))
    if missing:
        raise RuntimeError(
            f"{markdown} cites works that are not in {bibliography}: " + ", ".join(missing)
        )
    try:
        data = typst.compile(str(typ), root=str(ROOT if _inside(typ, ROOT) else "/"))
    except Exception as err:  # typst raises its own error types
        raise RuntimeError(f"typst could not compile {typ}: {err}") from err
    atomic_write_bytes(pdf, data)
    return pdf


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def build(
    results_dir: str | Path = DEFAULT_RESULTS,
    *,
    out: str | Path = DEFAULT_OUT,
    figures_dir: str | Path = DEFAULT_FIGURES,
    template: str | Path = TEMPLATE,
    spec: str | Path = DEFAULT_SPEC,
    sensitivity: str | Path | None = DEFAULT_SENSITIVITY,
    draw: bool = True,
    pdf: bool = True,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Numbers, figures, Markdown and PDF from ``results_dir``; return the Markdown's path.

    Raises
    ------
    FileNotFoundError
        No results (or no template).
    DesignMismatchError
        The folder holds runs of another design than ``spec``.
    MissingNumberError
        A number the paper needs is missing (the message names it).
    ValueError
        A placeholder is left in the rendered paper.
    """
    results_dir, out, figures_dir = Path(results_dir), Path(out), Path(figures_dir)
    say = log or (lambda _msg: None)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    design = check_design(results_dir, spec)
    sens = Path(sensitivity) if sensitivity else None
    link_pain.ensure(results_dir, spec_path=spec, log=say)
    doc = compute_numbers(results_dir, sens, design)
    say(f"wrote {_rel(results_dir / _common.NUMBERS_FILE)}")
    if draw:
        draw_figures(results_dir, figures_dir, log=say)
    figures_rel = Path(os.path.relpath(figures_dir.resolve(), out.resolve().parent)).as_posix()
    values = paper_values(doc, results_dir, figures_rel)
    text = render(Path(template).read_text(encoding="utf-8"), values)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, text)
    say(f"wrote {_rel(out)}")
    if pdf:
        say(f"wrote {_rel(write_pdf(out))}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results_dir", nargs="?", default=str(DEFAULT_RESULTS))
    parser.add_argument("--sensitivity", default=str(DEFAULT_SENSITIVITY))
    parser.add_argument("--spec", default=str(DEFAULT_SPEC))
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="the paper (Markdown)")
    parser.add_argument("--figures", default=str(DEFAULT_FIGURES), help="figure folder")
    parser.add_argument("--no-figures", action="store_true", help="do not redraw figures")
    parser.add_argument("--no-pdf", action="store_true", help="Markdown only, no paper.pdf")
    args = parser.parse_args(argv)
    try:
        build(
            args.results_dir,
            out=args.out,
            figures_dir=args.figures,
            spec=args.spec,
            sensitivity=args.sensitivity,
            draw=not args.no_figures,
            pdf=not args.no_pdf,
        )
    except (MissingNumberError, FileNotFoundError, ValueError, RuntimeError) as err:
        print(f"paper build: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
