"""The paper: numbers computed once from the results, every figure script draws from small
sweeps of the paper's design, the build fills every placeholder or fails naming what it
lacks, and results of another design are refused instead of refitted."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from model.params import PLAUSIBLE_RANGES
from sweeps import run_sweep
from sweeps.cli import main as orgscale
from sweeps.commands.figures import load_paper_build

ROOT = Path(__file__).resolve().parents[1]
build = load_paper_build()
_common = build._common

# The paper's design in miniature: every organisation and block the build reads, N <= 8.
MINI_SPEC = """
name = "paper-mini"
root_seed = 7
replicates = 2
days = 90

[fixed]
warmup_days = 30

[[grid]]
topology = ["single_core"]
n_teams = [1, 2, 4, 8]

[[grid]]
topology = ["flat"]
n_teams = [1, 2, 4, 8]
ci_automation = [false, true]

[[grid]]
topology = ["hierarchical"]
branching = [0, 4]
n_teams = [1, 2, 4, 8]
ci_automation = [false, true]

[[grid]]
topology = ["modular"]
locality = [0.0, 0.5, 1.0]
n_teams = [1, 2, 4, 8]
ci_automation = [false]

[[grid]]
topology = ["modular"]
locality = [0.5]
n_teams = [1, 2, 4, 8]
ci_automation = [true]

[[grid]]
topology = ["flat", "hierarchical", "modular"]
n_teams = [8]
fixed_link_share = [0.2]

[[grid]]
topology = ["single_core"]
staffing = ["fixed_core"]
n_teams = [1]
contributors_per_team = [200]
core_reviewers = [2, 4, 8]

[[grid]]
topology = ["single_core", "hierarchical"]
staffing = ["fixed_core"]
n_teams = [4, 8]
stop_backlog_days = [60.0]

[[grid]]
topology = ["single_core"]
staffing = ["earned"]
n_teams = [1, 2, 4, 8]
stop_backlog_days = [60.0]

[[grid]]
topology = ["hierarchical"]
staffing = ["earned"]
branching = [0]
n_teams = [1, 2, 4, 8]
ci_automation = [false, true]
stop_backlog_days = [60.0]
"""

MINI_SENSITIVITY = """
name = "paper-mini-sensitivity"
root_seed = 8
replicates = 1
days = 60

[fixed]
warmup_days = 20

[[grid]]
topology = ["single_core"]
n_teams = [2, 4]

[[grid]]
topology = ["hierarchical"]
n_teams = [2, 4]
ci_automation = [false, true]

[sample]
method = "sobol"
n = 4
second_order = false

[sample.ranges]
sync_days_per_contact = [0.0, 0.02]
coupling_same_area_prob = [0.005, 0.08]
merge_interval_days = [1.0, 14.0]
"""


@pytest.fixture(scope="session")
def mini(tmp_path_factory) -> dict[str, Path]:
    """The miniature paper sweep and sensitivity sweep, run once."""
    base = tmp_path_factory.mktemp("mini")
    spec, sens_spec = base / "paper-mini.toml", base / "paper-mini-sensitivity.toml"
    spec.write_text(MINI_SPEC, encoding="utf-8")
    sens_spec.write_text(MINI_SENSITIVITY, encoding="utf-8")
    results, sens = base / "results" / "paper-mini", base / "results" / "paper-mini-sensitivity"
    run_sweep(spec, out=results, backend="sequential", quiet=True)
    run_sweep(sens_spec, out=sens, backend="sequential", quiet=True)
    return {"spec": spec, "results": results, "sens": sens, "sens_spec": sens_spec}


@pytest.fixture(scope="session")
def built(mini, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("paper")
    paper = build.build(
        mini["results"],
        out=folder / "paper.md",
        figures_dir=folder / "figures",
        spec=mini["spec"],
        sensitivity=mini["sens"],
        log=None,
    )
    return {"paper": paper, "figures": folder / "figures", **mini}


def numbers(built) -> dict:
    return json.loads((built["results"] / "paper_numbers.json").read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- build


def test_paper_build_fills_every_placeholder_and_draws_every_figure(built):
    text = built["paper"].read_text(encoding="utf-8")
    assert "{{" not in text and "}}" not in text
    assert {p.stem for p in built["figures"].glob("*.png")} == set(build.FIGURES)
    assert {p.stem for p in built["figures"].glob("*.pdf")} == set(build.FIGURES)
    assert all(p.stat().st_size > 1000 for p in built["figures"].glob("*.png"))


def test_paper_answers_the_question_first_and_ends_with_a_conclusion(built):
    text = built["paper"].read_text(encoding="utf-8")
    first = text.split("\n\n")[1]
    assert first.startswith("**Answer.**")
    assert "lead time" in first and "paid reviewer-days" in first and "Automation" in first
    assert len(first.split()) <= 200
    # the hierarchy's limit is compared with one core's as the numbers have it
    curves = numbers(built)["curves"]
    core = curves["single_core.off.earned"]["fitted_until"] or 0
    hier = curves["hierarchical.off.earned"]["fitted_until"] or 0
    word = "further than" if hier > core else "as far as" if hier == core else "less far than"
    assert f"{word}\none core" in first or f"{word} one core" in first
    assert "## 11. Conclusion" in text
    conclusion = text.split("## 11. Conclusion")[1].split("## Limitations")[0]
    assert "Dague" in conclusion


def test_every_hypothesis_has_a_verdict_from_the_four_words(built):
    hyps = numbers(built)["hypotheses"]
    heads = {name.split(".")[0] for name in hyps if not name.startswith("_")}
    assert heads == {f"H{i}" for i in range(1, 8)}
    for name, h in hyps.items():
        if not name.startswith("_"):
            assert h["status"] in ("supported", "not supported", "inconclusive", "by construction")
            assert h["test"] and h["reason"]
            # a verdict that restates the set-up names the input or rule, and only it does
            assert bool(h.get("because")) == (h["status"] == "by construction")


def test_h4_and_construction_checks_carry_the_inputs_that_decide_them(built):
    doc = numbers(built)
    for org, rec in doc["automation"].items():
        inputs = doc["hypotheses"][f"H4.{org}"]["inputs"]
        assert inputs["ci_detection_prob"] == rec["ci_detection_prob"] == 0.9
        assert inputs["early_share"] == rec["early_share_on"]
    assert doc["construction"], "paid days and lead time are checked against their rules"
    for name, v in doc["construction"].items():
        assert name.split(".")[0] in ("paid", "lead")
        if name.startswith("paid."):  # equal headcount: the same reviewers paid per day
            assert v["inputs"]["per_day_ratio"]["value"] == pytest.approx(1.0)
            assert v["status"] == "by construction" and "equal_headcount" in v["because"]


def test_h5_ranks_links_by_badness_against_pain(built):
    hyps = numbers(built)["hypotheses"]
    links = pd.read_parquet(built["results"] / "link_pain_links.parquet")
    for org in links["org"].unique():
        rho = hyps[f"H5.{org}"]["inputs"]["rho"]
        links_a_run = links[links["org"] == org].groupby("run_id").size().min()
        if links_a_run >= 3:
            assert -1 <= rho["value"] <= 1 and rho["n"] >= 1
        else:  # one or two links cannot be ranked: no effect, so no verdict either way
            assert rho["value"] is None and hyps[f"H5.{org}"]["status"] == "inconclusive"
    # the mini sweep's short, two-replicate runs leave a split unsaturated only at small N,
    # where it may have fewer than three links: rank the mini's own organisations again on
    # link rows with enough links, through the same hypotheses() the build calls
    import test_paper_robustness as robust

    df = build.analysis.derive(pd.read_parquet(built["results"] / "runs.parquet"))
    curves = build.analysis.curves(df)
    fits = build.analysis.part_fits(df, curves)
    auto = build.analysis.automation(df, curves)
    rows = pd.concat([robust.link_table("flat", True), robust.link_table("modular", False, seed=1)])
    again = build.analysis.hypotheses(df, curves, fits, auto, rows)
    assert again["H5.flat"]["inputs"]["rho"]["value"] > 0.5
    assert again["H5.flat"]["inputs"]["rho"]["n"] == 3
    assert abs(again["H5.modular"]["inputs"]["rho"]["value"]) < 0.2


def test_each_number_has_one_interval_wherever_the_paper_quotes_it(built):
    """H4's total-cost ratio is the automation table's record, not a second bootstrap."""
    doc = numbers(built)
    for org, rec in doc["automation"].items():
        h4 = doc["hypotheses"][f"H4.{org}"]["inputs"]["total_ratio"]
        assert h4 == rec["integration_per_change_ratio"]


def test_no_law_is_fitted_on_fewer_than_four_unsaturated_n(built):
    from sweeps.commands.figures import load_paper_build

    load_paper_build()
    import analysis

    doc = numbers(built)
    for f in doc["fits"].values():
        for name, part in f["parts"].items():
            if name != "links" and "n_to" in part:
                curve = doc["curves"][f"{f['names'][0]}.off"]
                used = [n for n in curve["n"] if part["n_from"] <= n <= part["n_to"]]
                assert len(used) >= analysis.MIN_FIT_N
            elif "too_few_n" in part:
                assert part["too_few_n"] < analysis.MIN_FIT_N
                assert part["skipped"].startswith(f"too few unsaturated N ({part['too_few_n']}")


def test_usl_is_reported_with_its_rank_where_it_is_a_candidate(built):
    doc = numbers(built)
    shown = 0
    for f in doc["fits"].values():
        law = f["parts"]["merged_per_day"].get("law")
        if law is None:
            continue
        assert "usl" in law and set(law["usl"]["params"]) == {"g", "alpha", "beta"}
        assert law["usl"]["rank"] is None or 1 <= law["usl"]["rank"] <= law["usl"]["of"]
        assert "usl" not in f["parts"]["integration_cost"].get("law", {})
        shown += 1
    text = built["paper"].read_text(encoding="utf-8")
    assert shown == 0 or "USL" in build.usl_table(doc)
    assert "{{" not in text


def test_bit_identical_configurations_are_fitted_once_under_both_names(built):
    """In the mini design, modular with locality 1 builds the maintainer tree of fan-out 4:
    their runs are identical, so they are one record named twice."""
    doc = numbers(built)
    assert ["tree4", "modular_l1"] in doc["identical"]
    assert "modular_l1" not in doc["fits"]
    assert doc["fits"]["tree4"]["names"] == ["tree4", "modular_l1"]
    assert "maintainer tree (fan-out 4) = modular (locality 1)" in build.part_table(doc)


def test_fits_use_only_unsaturated_n_and_say_where_the_range_ends(built):
    doc = numbers(built)
    for org, f in doc["fits"].items():
        curve = doc["curves"][f"{org}.off"]
        until = curve["fitted_until"]
        assert f["fitted_until"] == until
        for part in f["parts"].values():
            if "n_to" in part and part is not f["parts"]["links"]:
                assert part["n_to"] <= until
                assert "chi2_dof" in part["law"] and "any_fits" in part["law"]


def test_each_staffing_has_its_own_curves_and_blocks_never_mix(built):
    doc = numbers(built)
    curves = doc["curves"]
    for key in ("single_core.off.earned", "hierarchical.off.earned", "hierarchical.on.earned"):
        assert curves[key]["n"] == [1, 2, 4, 8], key
    assert curves["single_core.off.fixed_core"]["n"] == [4, 8]
    assert curves["hierarchical.off.fixed_core"]["n"] == [4, 8]
    # every point of every curve holds exactly the spec's replicates: no block mixed in
    for key, c in curves.items():
        assert c["replicates"] == [2] * len(c["n"]), key
    assert "hierarchical.off.earned" in doc["crossovers_earned"]
    # a run stopped early is saturated: no point has more stopped than saturated runs
    for c in curves.values():
        for stopped, sat in zip(c["stopped_share"], c["saturated"], strict=True):
            assert stopped <= sat["value"] + 1e-12


def _staffing_table() -> pd.DataFrame:
    rows = []
    for staffing, sat in (("equal_headcount", 0.0), ("earned", 1.0), ("fixed_core", 0.0)):
        for topology in ("single_core", "hierarchical"):
            for n in (2, 4):
                for rep in range(3):
                    rows.append(
                        {
                            "topology": topology,
                            "staffing": staffing,
                            "n_teams": n,
                            "ci_automation": False,
                            "branching": 0,
                            # the equal-headcount core ran without the bound: not a filter
                            "stop_backlog_days": 0.0 if topology == "single_core" else 60.0,
                            "saturated": sat,
                            "landed_share": {"equal_headcount": 0.8, "earned": 0.5}.get(
                                staffing, 0.2
                            ),
                            "replicate": rep,
                        }
                    )
    return pd.DataFrame(rows)


def test_selectors_filter_on_staffing_and_ignore_the_stop_bound():
    df = _staffing_table()
    for staffing in ("equal_headcount", "earned", "fixed_core"):
        runs = build.analysis.org_runs(df, "single_core", False, staffing=staffing)
        assert len(runs) == 6 and set(runs["staffing"]) == {staffing}
    assert set(build.analysis.org_runs(df, "hierarchical", False)["staffing"]) == {
        "equal_headcount"
    }
    curves = build.analysis.curves(df)
    assert {"single_core.off", "hierarchical.off"} <= set(curves)
    assert curves["single_core.off"]["landed_share"][0]["value"] == pytest.approx(0.8)
    assert curves["hierarchical.off.earned"]["landed_share"][0]["value"] == pytest.approx(0.5)
    assert curves["hierarchical.off.earned"]["saturated_n"] == [True, True]
    assert curves["hierarchical.off"]["saturated_n"] == [False, False]
    assert curves["single_core.off.fixed_core"]["replicates"] == [3, 3]


def test_a_point_is_saturated_by_one_runaway_or_by_half_its_flags():
    """One replicate flagged by the backlog test is noise; one that ran away (stopped) or
    half of them flagged make the point saturated."""
    point = build.analysis.point_saturated
    steady = pd.DataFrame({"saturated": [0.0] * 6, "stopped_at_day": [float("nan")] * 6})
    assert not point(steady)
    one_flag = steady.assign(saturated=[1.0] + [0.0] * 5)
    assert not point(one_flag)
    assert point(steady.assign(saturated=[1.0] * 3 + [0.0] * 3))
    runaway = one_flag.assign(stopped_at_day=[120.0] + [float("nan")] * 5)
    assert point(runaway)
    assert point(pd.DataFrame({"saturated": [1.0, 0.0]}))  # no stop column: flags only
    assert not point(pd.DataFrame({"saturated": [1.0, 0.0, 0.0]}))


def test_sensitivity_gives_indices_and_verdict_shares(built):
    sens = numbers(built)["sensitivity"]
    assert sens["n_points"] == 4 * (3 + 2)
    assert set(sens["parameters"]) == {
        "sync_days_per_contact",
        "coupling_same_area_prob",
        "merge_interval_days",
    }
    for share in sens["shares"].values():
        assert share["n"] == 0 or 0 <= share["value"] <= 1
        # intervals over the 4 base points of the Saltelli design, not the 20 rows
        assert share["clusters"] <= sens["n_base_points"] == 4
    for org in ("single_core.off", "hierarchical.off", "hierarchical.on"):
        assert set(sens["saturation"][org]) == {"2", "4"}
        for s in sens["saturation"][org].values():
            assert s["n"] == 20 and s["low"] <= s["value"] <= s["high"]
    assert sens["n_teams"] == 4 and sens["n_values"] == [2, 4]
    for bracket in sens["nstar_brackets"].values():
        parts = [bracket[k]["value"] for k in ("below", "between", "above", "reversed")]
        assert sum(parts) == pytest.approx(1.0)
    assert sens["nstar_spread"].keys() == sens["nstar_brackets"].keys()
    for metric, spread in sens["nstar_spread"].items():
        bracket = sens["nstar_brackets"][metric]
        assert spread["n"] == bracket["below"]["n"]
        assert spread["censored"]["below"] == bracket["below"]
        for q in spread["quantiles"]:
            assert q["censored"] in ("<", ">") or 2 <= q["value"] <= 4


# ----------------------------------------------------------------------------- link pain


def test_link_pain_rows_replay_the_sweeps_own_runs(built):
    from sweeps import load_results

    links = pd.read_parquet(built["results"] / "link_pain_links.parquet")
    runs = load_results(built["results"]).set_index("run_id")
    curves = numbers(built)["curves"]
    # each split where every replicate keeps up, at its largest such N (a split at all)
    replayed = {
        org: curves[f"{org}.off"]["fitted_until"]
        for org in ("flat", "hierarchical", "tree4", "modular")
        if (curves[f"{org}.off"]["fitted_until"] or 0) >= build.analysis.SPLIT_MIN_N
    }
    assert replayed, "the mini sweep keeps some split unsaturated"
    assert set(links["org"]) == set(replayed)
    for org, n in replayed.items():
        assert set(links.loc[links["org"] == org, "n_teams"]) == {n}
    assert set(links["replicate"]) == {0, 1}
    for run_id, rows in links.groupby("run_id"):
        row = runs.loc[run_id]
        assert len(rows) == row["links"]
        assert int(rows["seed"].iloc[0]) == row["seed"]
        # the model's own per-link pain, so its top-decile share is the sweep's metric
        assert build.analysis.top_share(rows["pain_events"]) == pytest.approx(
            row["link_pain_top_decile_share"], nan_ok=True
        )
        assert (rows["pain_days"] >= rows["conflict_days"]).all()
        assert ((rows["pain_days"] > 0) == (rows["pain_events"] > 0)).mean() > 0.9
    lp = numbers(built)["link_pain"]
    for org in replayed:
        assert lp[org]["runs"] == 2
        assert lp[org]["links"] == links[links["org"] == org].groupby("run_id").size().iloc[0]


def test_links_are_replayed_where_every_replicate_kept_up(built):
    """One saturated replicate at a split's largest N moves its replay to the N below."""
    from sweeps import load_results
    from sweeps.spec import load_spec

    spec = load_spec(built["spec"])
    runs = load_results(built["results"])
    runs["saturated"] = False
    tree4 = build.analysis.org_runs(runs, "tree4", False)
    at_top = tree4[(tree4["n_teams"] == 8) & (tree4["replicate"] == 1)].index
    assert len(at_top) == 1
    runs.loc[at_top, "saturated"] = True
    tasks = build.link_pain.link_tasks(spec, runs, seeds=2)
    by_org = {org: {t.params["n_teams"] for o, t in tasks if o == org} for org, _ in tasks}
    assert by_org["tree4"] == {4}
    assert by_org["flat"] == by_org["hierarchical"] == by_org["modular"] == {8}
    runs["saturated"] = True  # saturated everywhere: nothing to replay
    assert build.link_pain.link_tasks(spec, runs, seeds=2) == []


def test_link_pain_step_is_kept_when_it_matches_and_redone_when_not(built, tmp_path):
    results = tmp_path / "r"
    shutil.copytree(built["results"], results)
    path = results / "link_pain_links.parquet"
    before = path.stat().st_mtime_ns
    said: list[str] = []
    build.link_pain.ensure(results, spec_path=built["spec"], log=said.append)
    assert path.stat().st_mtime_ns == before and said == []
    build.link_pain.ensure(results, spec_path=built["spec"], seeds=1, log=said.append)
    assert "other parameters" in said[0]
    assert set(pd.read_parquet(path)["replicate"]) == {0}
    assert build.link_pain.stored_plan(path)["seeds"] == 1
    assert not (results / "link_pain_links.parts").exists()


def test_the_build_fails_loudly_without_the_link_pain_numbers(built):
    doc = numbers(built)
    del doc["link_pain"]
    with pytest.raises(build.MissingNumberError, match="link_pain"):
        build.paper_values(doc, built["results"], "figures")


def test_paper_quotes_the_link_pain_and_nstar_spread(built):
    text = built["paper"].read_text(encoding="utf-8")
    assert "the worst 10% of links carry, in person-days" in text
    assert "N\\* over the plausible space as a distribution" in text
    assert "link_pain_lorenz.png" in text


def test_lorenz_figure_without_the_link_file_says_so(built, tmp_path):
    results = tmp_path / "r"
    shutil.copytree(built["results"], results)
    (results / "link_pain_links.parquet").unlink()
    paths = build.draw_figures(results, tmp_path / "f", names=["link_pain_lorenz"], log=None)
    assert all(p.stat().st_size > 0 for p in paths)


def test_paper_numbers_have_their_own_file_that_orgscale_fit_leaves_alone(built, tmp_path):
    results = tmp_path / "r"
    shutil.copytree(built["results"], results)
    before = (results / "paper_numbers.json").read_bytes()
    assert orgscale(["fit", str(results), "--out", str(results)]) == 0
    assert (results / "paper_numbers.json").read_bytes() == before
    assert (results / "fits.json").is_file()


def test_render_fails_loudly_on_a_placeholder_without_a_value():
    with pytest.raises(build.MissingNumberError, match="nope"):
        build.render("a {{ nope }} b", {})


def test_render_rejects_leftover_template_syntax():
    with pytest.raises(ValueError, match="line 2"):
        build.render("ok\n{{ broken", {})


def test_a_missing_number_is_named(built):
    doc = numbers(built)
    del doc["curves"]["hierarchical.off"]
    with pytest.raises(build.MissingNumberError, match=r"hierarchical\.off"):
        build.answer_values(doc)


# ----------------------------------------------------------------------------- figures


@pytest.mark.parametrize("name", build.FIGURES)
def test_each_figure_script_runs_on_the_mini_results(built, name, tmp_path):
    paths = build.draw_figures(built["results"], tmp_path, names=[name], log=None)
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_every_figure_script_is_listed_in_the_build():
    scripts = {p.stem for p in (ROOT / "paper" / "scripts").glob("*.py")}
    assert scripts - {"_common"} == set(build.FIGURES)


def test_orgscale_figures_refuses_results_of_another_design(built, tmp_path, capsys):
    other = tmp_path / "other.toml"
    other.write_text(MINI_SPEC.replace("replicates = 2", "replicates = 3"), encoding="utf-8")
    code = orgscale(
        ["figures", str(built["results"]), "--out", str(tmp_path), "--spec", str(other)]
    )
    assert code == 2
    assert "another design" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.png"))


def test_orgscale_figures_redraws_from_results_of_the_spec(built, tmp_path):
    args = ["figures", str(built["results"]), "--out", str(tmp_path / "f")]
    args += ["--spec", str(built["spec"]), "--sensitivity", str(built["sens"])]
    assert orgscale(args) == 0
    assert {p.stem for p in (tmp_path / "f").glob("*.png")} == set(build.FIGURES)


def test_orgscale_figures_on_a_missing_folder_exits_2(tmp_path, capsys):
    assert orgscale(["figures", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------------------- command


def test_orgscale_paper_builds_everything_from_nothing(mini, tmp_path, capsys):
    args = [
        "paper",
        "--spec",
        str(mini["spec"]),
        "--sensitivity-spec",
        str(mini["sens_spec"]),
        "--results",
        str(tmp_path / "results" / "paper-mini"),
        "--out",
        str(tmp_path / "paper.md"),
        "--figures",
        str(tmp_path / "figures"),
        "--backend",
        "sequential",
        "--no-validation",
        "--quiet",
    ]
    assert orgscale(args) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out
    assert (tmp_path / "results" / "paper-mini-sensitivity" / "runs.parquet").is_file()
    assert "{{" not in (tmp_path / "paper.md").read_text(encoding="utf-8")


def test_orgscale_paper_with_a_missing_spec_exits_2(tmp_path, capsys):
    assert orgscale(["paper", "--spec", str(tmp_path / "none.toml"), "--quiet"]) == 2
    assert "none.toml" in capsys.readouterr().err


# ----------------------------------------------------------------------------- specs


def test_sensitivity_spec_covers_every_plausible_range_exactly():
    spec = tomllib.loads(
        (ROOT / "sweeps" / "specs" / "paper_sensitivity.toml").read_text(encoding="utf-8")
    )
    ranges = {k: tuple(v) for k, v in spec["sample"]["ranges"].items()}
    assert ranges == {k: tuple(v) for k, v in PLAUSIBLE_RANGES.items()}


def test_paper_spec_compares_organisations_at_equal_headcount():
    spec = tomllib.loads((ROOT / "sweeps" / "specs" / "paper.toml").read_text(encoding="utf-8"))
    fixed_core = [g for g in spec["grid"] if g.get("staffing") == ["fixed_core"]]
    assert len(fixed_core) == 2  # H7's one area and Nova's fixed core, both labelled as such
    assert "staffing" not in spec.get("fixed", {})


def test_validation_section_names_every_pattern_the_model_misses():
    rows = [
        {
            "preset": "nova-2013",
            "pattern": "merged",
            "observed": 12.4,
            "tolerance": 2.0,
            "sim_median": 12.0,
            "sim_p05": 11.0,
            "sim_p95": 13.0,
            "reproduced": True,
            "role": "in-sample",
        },
        {
            "preset": "linux",
            "pattern": "top_conflicts",
            "observed": 20,
            "tolerance": 10.0,
            "sim_median": 0.5,
            "sim_p05": 0.0,
            "sim_p95": 1.0,
            "reproduced": False,
            "role": "held-out",
        },
    ]
    values = build.validation_values({"validation": rows})
    assert "linux top_conflicts (held-out)" in values["validation.misses"]
    assert "nova-2013 merged" not in values["validation.misses"]
    assert values["validation.table"].count("\n") == 3  # header, rule, two rows
    assert "20 ± 10" in values["validation.table"]
    rows[1]["tolerance_label"] = "×÷1.25"  # a factor tolerance is shown as one
    table = build.validation_values({"validation": rows})["validation.table"]
    assert "20 ×÷1.25" in table and "20 ± 10" not in table


def test_paper_pdf_has_every_figure_and_no_unfilled_placeholder(built):
    import pypdf

    pdf = built["paper"].with_suffix(".pdf")
    reader = pypdf.PdfReader(str(pdf))
    assert len(reader.pages) >= 5
    assert sum(len(page.images) for page in reader.pages) == len(build.FIGURES)
    text = "".join(page.extract_text() for page in reader.pages)
    assert "{{" not in text and "}}" not in text
    assert "Conclusion" in text


def folder_state(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_orgscale_figures_writes_nothing_into_the_results_folder(built, tmp_path, capsys):
    import shutil

    results = tmp_path / "results"
    shutil.copytree(built["results"], results)
    (results / "paper_numbers.json").unlink()  # numbers to compute: still not written there
    before = folder_state(results)
    args = ["figures", str(results), "--out", str(tmp_path / "f")]
    args += ["--spec", str(built["spec"]), "--sensitivity", str(built["sens"])]
    assert orgscale(args) == 0
    assert {p.stem for p in (tmp_path / "f").glob("*.png")} == set(build.FIGURES)
    assert folder_state(results) == before
    assert "not saved" in capsys.readouterr().out


def test_orgscale_figures_into_an_unwritable_folder_is_one_line(built, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    args = ["figures", str(built["results"]), "--out", str(tmp_path / "file" / "f")]
    args += ["--spec", str(built["spec"]), "--sensitivity", str(built["sens"])]
    assert orgscale(args) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("orgscale figures: ")


def test_paper_sweep_made_by_another_model_is_moved_aside_and_rebuilt(tmp_path, capsys):
    """The paper follows the code: a folder of the same spec that another model's defaults
    made is moved aside (nothing deleted) and run again, not refused."""
    from sweeps.commands.paper import _sweep_current
    from sweeps.runner import run_sweep
    from sweeps.spec import parse_spec
    from sweeps.store import StaleResultsError

    text = """
name = "stale"
root_seed = 1
days = 20
replicates = 1
[fixed]
warmup_days = 5
[[grid]]
n_teams = [2]
"""
    out = tmp_path / "stale"
    run_sweep(parse_spec(text), out=out, quiet=True)
    changed = parse_spec(text)  # the same spec; its runs' model is made to differ below
    import sweeps.store as store

    original = store.inspect_folder

    def model_changed(*args, **kwargs):
        state = original(*args, **kwargs)
        if state.ok:  # the folder's finished runs were made by "another model"
            state.problem, state.stale = f"{out} holds runs of another model", True
        return state

    store_patch = pytest.MonkeyPatch()
    try:
        import sweeps.runner as runner

        store_patch.setattr(runner, "inspect_folder", model_changed)
        with pytest.raises(StaleResultsError):
            run_sweep(changed, out=out, quiet=True)
        table = _sweep_current(run_sweep, changed, out=out, quiet=True, fresh=False)
    finally:
        store_patch.undo()
    assert len(table) == 1
    assert "rebuilding it for the current model" in capsys.readouterr().out
    assert list(tmp_path.glob("stale.old-*"))


def test_the_template_may_choose_its_words_by_a_number_and_a_missing_one_stops_it():
    import build

    template = (
        "One core {% if core.saturates %}stops keeping up at N = {{ core.limit }}"
        "{% else %}keeps up{% endif %}.\n"
    )
    assert build.render(template, {"core.saturates": True, "core.limit": "64"}) == (
        "One core stops keeping up at N = 64.\n"
    )
    assert build.render(template, {"core.saturates": False, "core.limit": "-"}) == (
        "One core keeps up.\n"
    )
    with pytest.raises(build.MissingNumberError, match="saturates"):
        build.render(template, {"core.limit": "64"})
    with pytest.raises(build.MissingNumberError, match=r"core\.limit"):
        build.render("N = {{ core.limit }}", {})


def test_pandoc_attributes_in_the_template_stay_text():
    import build

    assert (
        build.render("# Refs {#refs}\n::: {#refs}\n:::\n", {})
        == "# Refs {#refs}\n::: {#refs}\n:::\n"
    )


def test_a_span_of_equal_values_prints_one_number():
    from paper.build import _span

    assert _span([16.24, 16.2]) == "16.2"
    assert _span([4.1, 12.9]) == "4.1–12.9"
    assert _span([float("nan")]) == "–"


@pytest.mark.parametrize("name", build.FIGURES)
@pytest.mark.parametrize("which", ["mini", "committed"])
def test_no_two_texts_of_a_figure_print_on_top_of_each_other(built, name, which, monkeypatch):
    """Tick labels, axis labels, titles and legend entries, at the size they print."""
    results = built["results"] if which == "mini" else ROOT / "results" / "paper"
    if which == "committed" and not (results / "paper_numbers.json").exists():
        pytest.skip("no committed paper results")
    import matplotlib.pyplot as plt

    found: dict[str, list] = {}

    def record(fig, out_dir, figure_name):
        _common.legible(fig)
        found[figure_name] = _common.overlapping_texts(fig)
        plt.close(fig)
        return []

    monkeypatch.setattr(_common, "save", record)
    _common.hold_numbers(results, None)
    build.draw_figures(results, "unused", names=[name], log=None)
    assert found[name] == [], found[name]


def test_the_overlap_check_sees_labels_that_run_into_each_other():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xticks([1, 1.05], ["a long label", "another long one"])
    assert _common.overlapping_texts(fig)
    ax.set_xticks([1, 1.05], ["a", ""])
    assert not _common.overlapping_texts(fig)
    plt.close(fig)
