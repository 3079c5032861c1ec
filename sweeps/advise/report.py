"""The report stage of ``orgscale advise``: ``report.md`` from a Jinja2 template, its figures
(PNG) and ``report.pdf`` (pandoc → Typst → PDF, as the paper is built).

The prose is ``report_template.md``; this module only computes the named numbers
(:mod:`sweeps.advise.analysis`), the tables, and the few words that can flip (a verdict, a
clause saying whether the calibration converged). Reads nothing but what the earlier stages
wrote; runs no model.
"""

from __future__ import annotations

import datetime as dt
import math
import shlex
from pathlib import Path
from typing import Any

import pandas as pd

from sweeps.advise import analysis
from sweeps.advise.compare import METRICS
from sweeps.advise.mapping import MAPPING, as_is_config
from sweeps.advise.organisations import LABELS
from sweeps.atomic import atomic_write_bytes, atomic_write_text

TEMPLATE = Path(__file__).with_name("report_template.md")
SECTIONS = (
    "## The answer",
    "## What is uncertain",
    "## The project as observed",
    "## Calibration",
    "## Organisations compared",
    "## How this was computed",
)


def fmt(value: Any, digits: int = 3) -> str:
    """A number for prose: 3 significant digits, "—" for nan."""
    if value is None:
        return "—"
    value = float(value)
    if not math.isfinite(value):
        return "—" if math.isnan(value) else "∞"
    return f"{value:.{digits}g}"


def pct(value: float) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


def signed(value: float, digits: int = 3) -> str:
    return "—" if not math.isfinite(value) else f"{value:+.{digits}g}"


def growth_text(rate: float) -> str:
    """A growth rate per year as a signed percentage: ``+12%``."""
    return "—" if rate is None or not math.isfinite(rate) else f"{100 * rate:+.0f}%"


def years_text(years: float) -> str:
    return "1 year" if years == 1 else f"{fmt(years)} years"


def value_text(value: Any) -> str:
    """A parameter's value for a table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else fmt(value)


def md_table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def label(org: str, ci: bool) -> str:
    text = LABELS.get(org, org.replace("_", " "))
    return text + (", with automation" if ci else "")


def write_report(opts, observed, cal, table, orgs, say) -> list[Path]:
    """Render ``report.md``, the figures and ``report.pdf`` into ``opts.out``."""
    import jinja2

    out = opts.out
    summary = analysis.summary_table(table, METRICS)
    atomic_write_bytes(out / "summary.csv", summary.to_csv(index=False).encode())
    values = report_values(opts, observed, cal, table, summary, orgs)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = env.from_string(TEMPLATE.read_text()).render(**values)
    figures = draw_figures(summary, out / "figures")
    report = out / "report.md"
    atomic_write_text(report, text)
    written = [report, out / "summary.csv", *figures]
    try:
        written.append(write_pdf(report))
    except RuntimeError as err:
        say(f"report: no PDF ({err})")
    return written


def _calibration_manifest(out: Path) -> dict:
    """The calibration's manifest (``converged``, ``fit_distance`` in tolerance units: the
    root mean square of the fitted patterns' distances at the posterior); empty if none."""
    import json

    path = Path(out) / "calibration" / "manifest.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def report_values(opts, observed, cal, table, summary, orgs) -> dict[str, str]:
    """Every named number and table the template needs, as text."""
    years = sorted(summary["year"].unique())
    now, end = years[0], years[-1]
    as_is = summary[
        (summary["organisation"] == "as_is") & ~summary["ci_automation"] & (summary["year"] == now)
    ].iloc[0]
    as_is_end = summary[
        (summary["organisation"] == "as_is") & ~summary["ci_automation"] & (summary["year"] == end)
    ].iloc[0]
    util = as_is["max_team_utilization_p50"]
    at_limit = as_is["saturated_share"] >= analysis.SATURATED_SHARE or util >= analysis.AT_CAPACITY
    verdict = (
        "at its limit"
        if at_limit
        else "near its limit"
        if util >= analysis.NEAR_LIMIT
        else "not near its limit"
    )
    limit = analysis.limit_year(summary)
    growth = observed["growth"]
    if limit == 0:
        when = "it is at its limit already"
    elif math.isfinite(limit):
        when = f"it reaches its limit in about {fmt(limit, 2)} years"
    else:
        when = f"it does not reach its limit within {fmt(end)} years"
        g = growth["demand_per_year"]
        if g > 0 and util > 0:
            years_out = math.log(analysis.AT_CAPACITY / util) / math.log1p(g)
            when += (
                f" (extrapolating utilisation in proportion to demand, about {fmt(years_out, 2)}"
                " years)"
            )
    best_any = analysis.best_alternative(summary, end)
    alternatives = summary[
        (summary["organisation"] != "as_is") | summary["ci_automation"].astype(bool)
    ]
    best = analysis.best_alternative(alternatives, end)
    best_now = analysis.best_alternative(summary, now)
    cheap = analysis.cheapest(summary, end)
    if best_any is None:
        as_is_rank = "is saturated, and so is every alternative"
    elif best_any["organisation"] == "as_is" and not best_any["ci_automation"]:
        as_is_rank = "keeps the lowest median lead time of all"
    else:
        as_is_rank = "does not keep the lowest median lead time"
    if best is not None:
        lead = analysis.paired_difference(
            table, best["organisation"], bool(best["ci_automation"]), end, "lead_time_p50"
        )
        cost = analysis.paired_difference(
            table,
            best["organisation"],
            bool(best["ci_automation"]),
            end,
            "paid_reviewer_days_per_change",
        )
    else:
        lead = cost = analysis.Difference(math.nan, math.nan, math.nan, math.nan)
    patterns = _calibration_patterns(opts.out)
    in_rows = patterns[patterns["in_sample"]] if len(patterns) else patterns
    out_rows = patterns[~patterns["in_sample"]] if len(patterns) else patterns
    run = _calibration_manifest(opts.out)
    fit_distance = float(run.get("fit_distance", math.nan))
    if run.get("converged"):
        convergence = "converged (its fit distance reached the target)"
    elif fit_distance <= 1.0:
        convergence = (
            "stopped at the budget before its target, with the simulated patterns within "
            "tolerance on average"
        )
    else:
        convergence = "did not converge within the budget: treat its numbers as rough"
    settings = cal["settings"]
    cmp_settings = _compare_settings(opts.out)
    failed = int((table["error"] != "").sum())
    config = as_is_config(observed)
    headcount = config.get("reviewers_per_area", _default("reviewers_per_area")) * config["n_teams"]
    window = observed["window"]
    org = observed["organisation"]
    return {
        "project": project_name(observed["source"]["path"]),
        "generated": dt.date.today().isoformat(),
        "as_is_label": f"as it is ({_org_text(org, config)})",
        "util_now": pct(util),
        "util_now_lo": pct(as_is["max_team_utilization_lo"]),
        "util_now_hi": pct(as_is["max_team_utilization_hi"]),
        "sat_now": pct(as_is["saturated_share"]),
        "limit_verdict": verdict,
        "demand_growth": growth_text(growth["demand_per_year"]),
        "people_growth": growth_text(growth["contributors_per_year"]),
        "limit_when": when,
        "horizon": years_text(end),
        "as_is_rank": as_is_rank,
        "has_best": best is not None,
        "merge_interval": fmt(_default("merge_interval_days")),
        "best_label": label(best["organisation"], best["ci_automation"])
        if best is not None
        else "none (every alternative saturates)",
        "best_lead": fmt(best["lead_time_p50_p50"]) if best is not None else "—",
        "as_is_lead": fmt(as_is_end["lead_time_p50_p50"]),
        "lead_diff": signed(lead.median),
        "lead_diff_lo": signed(lead.lo),
        "lead_diff_hi": signed(lead.hi),
        "best_cost": fmt(best["paid_reviewer_days_per_change_p50"]) if best is not None else "—",
        "as_is_cost": fmt(as_is_end["paid_reviewer_days_per_change_p50"]),
        "cost_diff": signed(cost.median),
        "cost_diff_lo": signed(cost.lo),
        "cost_diff_hi": signed(cost.hi),
        "cheapest_label": label(cheap["organisation"], cheap["ci_automation"])
        if cheap is not None
        else "none",
        "cheapest_cost": fmt(cheap["paid_reviewer_days_per_change_p50"])
        if cheap is not None
        else "—",
        "best_now_label": label(best_now["organisation"], best_now["ci_automation"])
        if best_now is not None
        else "no organisation",
        "best_now_lead": fmt(best_now["lead_time_p50_p50"]) if best_now is not None else "—",
        "convergence": convergence,
        "fit_distance": fmt(fit_distance),
        "generations": str(cal.get("generations_run", "—")),
        "population": str(settings["population"]),
        "n_simulations": str(cal.get("n_simulations", "—")),
        "reproduced_in": str(int(in_rows["reproduced"].sum())) if len(in_rows) else "0",
        "n_in": str(len(in_rows)),
        "reproduced_out": str(int(out_rows["reproduced"].sum())) if len(out_rows) else "0",
        "n_out": str(len(out_rows)),
        "draws": str(cmp_settings.get("draws", "—")),
        "replicates": str(cmp_settings.get("replicates", "—")),
        "failed_note": f"{failed} of {len(table)} runs failed and are left out." if failed else "",
        "mapping_table": mapping_table(config),
        "growth_years": fmt(growth["years_fitted"], 2),
        "source_line": f"Source: `{observed['source']['path']}` "
        f"({observed['source']['workflow']} workflow, commit "
        f"`{observed['source']['commit'][:12]}`).",
        "window": f"{window.get('since', fmt(window['start_days']))} to "
        f"{window.get('until', fmt(window['end_days']))}",
        "window_days": fmt(window["days"]),
        "window_landed": str(window["landed"]),
        "organisation_text": _org_text(org, config),
        "patterns_table": md_table(
            ["pattern", "value"],
            [[f"`{k}`", fmt(v)] for k, v in observed["patterns"].items()],
        ),
        "n_areas": str(len(observed["areas"])),
        "areas_table": md_table(
            ["area", "landed", "share", "lead time p50 (days)", "growth a year"],
            [
                [
                    f"`{a['area']}`",
                    a["landed"],
                    pct(a["share"]),
                    fmt(a["lead_time_p50"]),
                    growth_text(a["growth_per_year"]),
                ]
                for a in observed["areas"]
            ],
        ),
        "cochange_table": md_table(
            ["area", "area", "share"],
            [
                [f"`{r['area_a']}`", f"`{r['area_b']}`", pct(r["share"])]
                for r in observed["co_change"][:10]
            ],
        )
        if observed["co_change"]
        else "No change touched two areas.",
        "groupings_table": md_table(
            ["grouping", "teams", "changes crossing teams", "groups"],
            [
                [
                    name,
                    len(g["groups"]),
                    pct(g["cross_share"]),
                    "; ".join(", ".join(f"`{a}`" for a in grp) for grp in g["groups"][:8]),
                ]
                for name, g in observed["groupings"].items()
            ],
        ),
        "priors": ", ".join(f"`{n}`" for n in _intervals(opts.out)["parameter"]),
        "intervals_table": md_table(
            ["parameter", "prior", "median", "90% credible interval"],
            [
                [
                    f"`{r.parameter}`",
                    f"{fmt(r.prior_low)}–{fmt(r.prior_high)}",
                    fmt(r.median),
                    f"{fmt(r.ci90_low)}–{fmt(r.ci90_high)}",
                ]
                for r in _intervals(opts.out).itertuples()
            ],
        ),
        "calibration_patterns_table": md_table(
            ["pattern", "role", "observed", "simulated median (90%)", "reproduced"],
            [
                [
                    f"`{r.pattern}`",
                    "in sample" if r.in_sample else "held out in time",
                    r.observed,
                    f"{fmt(r.sim_median)} ({fmt(r.sim_ci90_low)}–{fmt(r.sim_ci90_high)})",
                    "yes" if r.reproduced else "no",
                ]
                for r in patterns.itertuples()
            ],
        ),
        "calibration_png": "calibration/calibration.png",
        "headcount": fmt(headcount),
        "compare_now_table": compare_table(summary, now),
        "compare_end_table": compare_table(summary, end),
        "command": "orgscale advise " + shlex.join(_command_args(opts)),
        "runs": str(len(table)),
        "days": fmt(cal.get("days", math.nan)),
    }


def mapping_table(config: dict[str, Any]) -> str:
    """Each mapped parameter: its value as it is, the rule, whether it is an approximation."""
    special = {"change_rate": "calibrated", "link_change_prob": "per split"}
    rows = [
        [
            f"`{k}`",
            value_text(config[k]) if k in config else special[k],
            rule,
            "yes" if approx else "no",
        ]
        for k, (rule, approx) in MAPPING.items()
        if k in config or k in special
    ]
    return md_table(["parameter", "value as it is", "from", "approximation"], rows)


def project_name(path: str) -> str:
    """The project's name from its path (a mirror's ``repo`` or ``x.git`` folder: its parent's)."""
    p = Path(path)
    name = p.name.removesuffix(".git")
    return p.resolve().parent.name if name in ("repo", "") else name


def compare_table(summary: pd.DataFrame, year: float) -> str:
    rows = summary[summary["year"] == year]

    def cell(r, m, f=fmt):
        return f"{f(r[f'{m}_p50'])} ({f(r[f'{m}_lo'])}–{f(r[f'{m}_hi'])})"

    return md_table(
        [
            "organisation",
            "lead time p50 (days)",
            "landed share",
            "paid reviewer-days per change",
            "busiest team utilisation",
            "saturated runs",
        ],
        [
            [
                label(r["organisation"], r["ci_automation"]),
                cell(r, "lead_time_p50"),
                cell(r, "landed_share", pct),
                cell(r, "paid_reviewer_days_per_change"),
                cell(r, "max_team_utilization", pct),
                pct(r["saturated_share"]),
            ]
            for _, r in rows.iterrows()
        ],
    )


def draw_figures(summary: pd.DataFrame, folder: Path) -> list[Path]:
    """``utilization.png`` and ``lead_time.png``: each organisation's median and 90% band
    against the horizon year (dashed: with automation)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for metric, name, ylabel in (
        ("max_team_utilization", "utilization.png", "busiest team's utilisation"),
        ("lead_time_p50", "lead_time.png", "median lead time (days)"),
    ):
        fig, ax = plt.subplots(figsize=(6.4, 3.8))
        for i, ((org, ci), rows) in enumerate(
            summary.sort_values("year").groupby(["organisation", "ci_automation"], sort=False)
        ):
            colour = f"C{i % 10}"
            x = rows["year"].to_numpy(float)
            ax.plot(
                x,
                rows[f"{metric}_p50"],
                "--" if ci else "-",
                color=colour,
                marker="o",
                label=label(org, ci),
            )
            ax.fill_between(x, rows[f"{metric}_lo"], rows[f"{metric}_hi"], color=colour, alpha=0.12)
        if metric == "max_team_utilization":
            ax.axhline(analysis.AT_CAPACITY, color="k", lw=0.8, ls=":")
        ax.set_xlabel("years ahead (observed growth)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = folder / name
        import io

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=130)
        plt.close(fig)
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    return written


def write_pdf(markdown: Path) -> Path:
    """``report.md`` → Typst (pandoc) → ``report.pdf`` (Typst), as ``paper/build.py`` does."""
    import pypandoc
    import typst

    typ = markdown.with_suffix(".typ")
    try:
        pypandoc.convert_file(
            str(markdown),
            "typst",
            format="markdown",
            outputfile=str(typ),
            extra_args=[
                "--standalone",
                "--wrap=preserve",
                "-V",
                "papersize=a4",
                "-V",
                "fontsize=9pt",
            ],
        )
    except (RuntimeError, OSError) as err:
        raise RuntimeError(f"pandoc could not turn {markdown} into Typst: {err}") from err
    try:
        data = typst.compile(str(typ), root=str(markdown.parent.resolve()))
    except Exception as err:  # typst raises its own error types
        raise RuntimeError(f"typst could not compile {typ}: {err}") from err
    pdf = markdown.with_suffix(".pdf")
    atomic_write_bytes(pdf, data)
    return pdf


def _calibration_patterns(out: Path) -> pd.DataFrame:
    """The calibration's ``patterns.csv``; the simulated median and 90% interval are the
    posterior predictive check's where it ran (``ppc_*``), else the accepted runs'."""
    path = out / "calibration" / "patterns.csv"
    if not path.exists():
        return pd.DataFrame(columns=["pattern", "in_sample", "reproduced"])
    table = pd.read_csv(path)
    for ours, ppc, accepted in (
        ("sim_median", "ppc_median", "accepted_median"),
        ("sim_ci90_low", "ppc_p05", "accepted_ci90_low"),
        ("sim_ci90_high", "ppc_p95", "accepted_ci90_high"),
    ):
        if ours not in table:
            source = ppc if ppc in table else accepted
            table[ours] = table[source] if source in table else float("nan")
    return table


def _intervals(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "calibration" / "intervals.csv")


def _compare_settings(out: Path) -> dict[str, Any]:
    import json

    data = json.loads((out / "advise.json").read_text())
    return data["stages"].get("compare", {}).get("settings", {})


def _org_text(org: dict[str, Any], config: dict[str, Any]) -> str:
    if org["kind"] == "maintainer_trees":
        return (
            f"maintainer trees, depth {fmt(org['depth'])}, {pct(org['direct_share'])} of "
            f"changes applied directly to the mainline (model: a hierarchy of "
            f"{config['n_teams']} areas, fan-out {config.get('branching', '—')})"
        )
    return f"one team reviewing all {config['n_teams']} areas"


def _default(name: str) -> Any:
    from model.params import PARAMETERS

    return PARAMETERS[name].default


def _command_args(opts) -> list[str]:
    args = [str(opts.source)]
    if opts.since:
        args += ["--since", opts.since]
    if opts.until:
        args += ["--until", opts.until]
    if opts.areas_depth is not None:
        args += ["--areas-depth", str(opts.areas_depth)]
    if opts.areas_file is not None:
        args += ["--areas", str(opts.areas_file)]
    args += [
        "--horizon-years",
        fmt(opts.horizon_years),
        "--budget-minutes",
        fmt(opts.budget_minutes),
        "--jobs",
        str(opts.jobs),
        "--out",
        str(opts.out),
    ]
    return args
