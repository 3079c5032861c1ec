"""The paper: every figure script draws from smoke-sweep results, and the paper build fills
every placeholder or fails naming the number it lacks."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest

from sweeps import run_sweep
from sweeps.cli import main as orgscale
from sweeps.commands.figures import load_paper_build

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "sweeps" / "specs" / "smoke.toml"
build = load_paper_build()

# A few more team counts than the smoke sweep, so that scaling laws can be fitted.
FITTABLE_SPEC = """
name = "paper-test"
root_seed = 7
replicates = 2
days = 120

[fixed]
warmup_days = 40
contributors_per_team = 4
conflict_prob = 0.005

[[grid]]
topology = ["single_core", "flat", "hierarchical", "modular"]
n_teams = [1, 2, 4, 8]
ci_automation = [false, true]

[[grid]]
topology = ["flat"]
n_teams = [8]
fixed_link_share = [0.25]
"""


@pytest.fixture(scope="session")
def smoke_results(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("results") / "smoke"
    run_sweep(SMOKE, out=out, backend="sequential", quiet=True)
    return out


@pytest.fixture(scope="session")
def fittable_results(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("fittable")
    spec = base / "paper-test.toml"
    spec.write_text(FITTABLE_SPEC, encoding="utf-8")
    out = base / "results"
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    return out


@pytest.fixture(scope="session")
def built_paper(fittable_results, tmp_path_factory) -> tuple[Path, Path]:
    """The paper built from the fittable results: (paper.md, fits.json)."""
    folder = tmp_path_factory.mktemp("paper")
    paper = build.build(
        fittable_results,
        out=folder / "paper.md",
        figures_dir=folder / "figures",
        n_boot=50,
        figures=False,
        log=None,
    )
    return paper, fittable_results / "fits.json"


@pytest.mark.parametrize("name", build.FIGURES)
def test_figure_script_writes_non_empty_png_and_pdf_from_smoke_results(
    name, smoke_results, tmp_path
):
    written = build.figure_module(name).main(smoke_results, tmp_path)
    for suffix in (".png", ".pdf"):
        path = tmp_path / f"{name}{suffix}"
        assert path in [Path(p) for p in written]
        assert path.stat().st_size > 1000


def test_every_figure_script_is_listed_in_the_build():
    scripts = {p.stem for p in (ROOT / "paper" / "scripts").glob("*.py")}
    assert {s for s in scripts if not s.startswith("_")} == set(build.FIGURES)


def test_orgscale_figures_redraws_every_figure_without_running_a_model(
    smoke_results, tmp_path, capsys, monkeypatch
):
    import model.model

    def no_model(*args, **kwargs):
        raise AssertionError("a figure script ran the model")

    monkeypatch.setattr(model.model.OrgModel, "__init__", no_model)
    assert orgscale(["figures", str(smoke_results), "--out", str(tmp_path)]) == 0
    assert {p.stem for p in tmp_path.glob("*.pdf")} == set(build.FIGURES)
    assert {p.stem for p in tmp_path.glob("*.png")} == set(build.FIGURES)
    assert f"{2 * len(build.FIGURES)} files written" in capsys.readouterr().out


def test_orgscale_figures_on_a_missing_folder_exits_2(tmp_path, capsys):
    assert orgscale(["figures", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_paper_build_on_smoke_results_fills_every_placeholder(smoke_results, tmp_path):
    results = tmp_path / "smoke"
    shutil.copytree(smoke_results, results)
    paper = build.build(
        results,
        out=tmp_path / "paper.md",
        figures_dir=tmp_path / "fig",
        n_boot=20,
        figures=False,
        log=None,
    )
    text = paper.read_text(encoding="utf-8")
    assert "{{" not in text and "}}" not in text and "${" not in text
    assert "(fig/integration_cost_vs_n.png)" in text
    assert json.loads((results / "fits.json").read_text())["schema"] == "orgscale-paper-fits"
    assert (results / "fits.csv").stat().st_size > 0


def test_built_paper_holds_fitted_numbers_and_a_verdict_for_each_hypothesis(built_paper):
    paper, fits_path = built_paper
    text = paper.read_text(encoding="utf-8")
    doc = json.loads(fits_path.read_text())
    flat = next(g for g in doc["fits"]["integration_cost"]["groups"] if g["id"] == "flat.ci_off")
    assert f"b = {flat['exponent']['estimate']:.2f}" in text
    for h in ("H1", "H2", "H3", "H4", "H5", "H6", "H7"):
        assert f"**{h} — " in text
    assert "{{" not in text and "}}" not in text


def test_h5_compares_fixing_the_worst_apis_with_the_unfixed_baseline(built_paper):
    paper, fits_path = built_paper
    doc = json.loads(fits_path.read_text())
    fixes = doc["summaries"]["fixes"]["flat"]
    assert fixes["n"] == 8 and fixes["share"] == [0.0, 0.25]
    assert "Fixing the worst APIs" in paper.read_text(encoding="utf-8")
    before = fixes["integration_cost"][0]
    for after, expected in ((before * 0.5, True), (before * 1.5, False)):
        changed = copy.deepcopy(doc)
        changed["summaries"]["fixes"] = {"flat": {**fixes, "integration_cost": [before, after]}}
        verdict = build.verdict_h5(changed)
        assert f"{build.fmt(after)} with the worst 25% of links fixed" in verdict.text
        if not expected:
            assert verdict.label in ("partly supported", "not supported")


def test_h4_judges_late_conflicts_work_per_conflict_and_throughput(built_paper):
    _, fits_path = built_paper
    doc = json.loads(fits_path.read_text())
    assert "conflict_days_mean" in doc["summaries"]["ci"]["flat"]["on"]

    def side(late, days, throughput):
        return {
            "conflicts_late": [late],
            "cost_conflicts": [1.0],
            "conflicts_caught_early": [5.0],
            "conflict_days_mean": [days],
            "throughput": [throughput],
        }

    def verdict(on):
        changed = copy.deepcopy(doc)
        changed["summaries"]["ci"] = {"flat": {"n": [8], "off": side(10, 0.8, 6.0), "on": on}}
        return build.verdict_h4(changed)

    assert verdict(side(2, 0.3, 6.0)).label == "supported"
    assert verdict(side(2, 0.3, 5.0)).label == "partly supported"  # throughput not kept
    assert verdict(side(8, 0.9, 5.0)).label == "not supported"
    text = verdict(side(2, 0.3, 6.0)).text
    assert "work per conflict ×0.37" in text  # 0.3 / 0.8
    assert "throughput ×1," in text


def test_paper_build_names_the_missing_number_when_a_fit_group_is_removed(built_paper):
    _, fits_path = built_paper
    doc = json.loads(fits_path.read_text())
    broken = copy.deepcopy(doc)
    fit = broken["fits"]["integration_cost"]
    fit["groups"] = [g for g in fit["groups"] if g["id"] != "flat.ci_off"]
    fit["skipped"] = [
        s for s in fit["skipped"] if s["key"] != {"topology": "flat", "ci_automation": False}
    ]
    with pytest.raises(build.MissingNumberError, match=r"fits\.integration_cost\.flat\.ci_off"):
        build.paper_values(
            broken, build._common.load_results(fits_path.parent), fits_path.parent, "fig"
        )


def test_figures_read_each_run_once_when_runs_parquet_and_a_part_both_hold_it(
    smoke_results, tmp_path
):
    # as if killed after compacting into runs.parquet but before removing the parts
    killed = tmp_path / "killed"
    shutil.copytree(smoke_results, killed)
    (killed / "parts").mkdir(exist_ok=True)
    shutil.copy(killed / "runs.parquet", killed / "parts" / "part-000001.parquet")

    runs = build._common.load_results(killed)

    assert len(runs) == len(build._common.load_results(smoke_results))
    assert runs["run_id"].is_unique


def test_paper_build_fails_when_a_topology_is_missing_from_the_summaries(built_paper):
    _, fits_path = built_paper
    doc = json.loads(fits_path.read_text())
    del doc["summaries"]["topologies"]["single_core"]
    with pytest.raises(build.MissingNumberError, match=r"summaries\.topologies\.single_core"):
        build.verdict_h1(doc)


def test_render_fails_loudly_on_a_placeholder_without_a_value():
    with pytest.raises(build.MissingNumberError, match=r"fit\.links\.flat\.exponent"):
        build.render("b = {{ fit.links.flat.exponent }}", {})


def test_render_rejects_leftover_template_syntax():
    assert build.render("a {{ x }} b", {"x": "1"}) == "a 1 b"
    with pytest.raises(ValueError, match="still holds"):
        build.render("a {{ x }} ${y}", {"x": "1"})


def test_build_command_line_exits_non_zero_naming_the_missing_key(fittable_results, tmp_path):
    template = tmp_path / "t.md"
    template.write_text("{{ fit.integration_cost.nowhere.exponent }}\n", encoding="utf-8")
    with pytest.raises(build.MissingNumberError, match="nowhere"):
        build.build(
            fittable_results,
            out=tmp_path / "p.md",
            template=template,
            n_boot=0,
            figures=False,
            log=None,
        )
    assert not (tmp_path / "p.md").exists()


@pytest.mark.parametrize(
    ("parts", "label"),
    [
        ([True, True], "supported"),
        ([True, False], "partly supported"),
        ([False, False], "not supported"),
        ([True, None], "partly supported"),
        ([None, None], "not tested"),
    ],
)
def test_verdict_grades_follow_the_stated_rule(parts, label):
    assert build._grade(parts) == label


def test_exponent_is_superlinear_only_when_its_ci_lies_above_one():
    def group(lo, hi):
        return {"exponent": {"estimate": (lo + hi) / 2, "ci_low": lo, "ci_high": hi}}

    assert build.exponent_class(group(1.2, 1.9)) == "superlinear"
    assert build.exponent_class(group(0.8, 1.1)) == "linear"
    assert build.exponent_class(group(0.5, 0.9)) == "sublinear"
    assert build.exponent_class(build.Skipped("too few N")) == "unknown"


def test_orgscale_paper_builds_everything_from_nothing(tmp_path, capsys):
    args = [
        "paper",
        "--spec",
        str(SMOKE),
        "--results",
        str(tmp_path / "results"),
        "--out",
        str(tmp_path / "paper.md"),
        "--figures",
        str(tmp_path / "figures"),
        "--backend",
        "sequential",
        "--bootstrap",
        "0",
        "--quiet",
    ]
    assert orgscale(args) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out and "wrote" in out
    assert "{{" not in (tmp_path / "paper.md").read_text(encoding="utf-8")
    assert (tmp_path / "results" / "fits.json").is_file()
    assert {p.stem for p in (tmp_path / "figures").glob("*.png")} == set(build.FIGURES)


def test_orgscale_paper_reuses_finished_runs(smoke_results, tmp_path, monkeypatch):
    results = tmp_path / "smoke"
    shutil.copytree(smoke_results, results)
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*.parquet")}
    built = []
    monkeypatch.setattr(build, "build", lambda folder, **kw: built.append(folder) or kw["out"])
    args = ["paper", "--spec", str(SMOKE), "--results", str(results), "--quiet"]
    assert orgscale([*args, "--backend", "sequential"]) == 0
    assert {p: p.stat().st_mtime_ns for p in results.rglob("*.parquet")} == before
    assert built == [results]


def test_orgscale_paper_refuses_a_folder_of_another_spec_and_fresh_moves_it_aside(
    smoke_results, tmp_path, monkeypatch, capsys
):
    results = tmp_path / "smoke"
    shutil.copytree(smoke_results, results)
    changed = tmp_path / "smoke.toml"
    changed.write_text(SMOKE.read_text().replace("days = 90", "days = 100"), encoding="utf-8")
    monkeypatch.setattr(build, "build", lambda folder, **kw: kw["out"])
    args = ["paper", "--spec", str(changed), "--results", str(results), "--quiet"]
    assert orgscale([*args, "--backend", "sequential"]) == 2
    err = capsys.readouterr().err
    assert "holds runs of a different spec (changed: days)" in err and "--fresh" in err
    assert "Traceback" not in err
    assert orgscale([*args, "--backend", "sequential", "--fresh"]) == 0
    assert len(list(tmp_path.glob("smoke.old-*"))) == 1


@pytest.mark.parametrize("where", ["sweep", "build"])
def test_orgscale_paper_interrupted_exits_130_without_a_traceback(
    smoke_results, tmp_path, monkeypatch, capsys, where
):
    import sweeps.runner

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "sweep":
        monkeypatch.setattr(sweeps.runner, "run_sweep", interrupt)
    else:
        monkeypatch.setattr(build, "build", interrupt)
    results = tmp_path / "smoke"
    shutil.copytree(smoke_results, results)
    args = ["paper", "--spec", str(SMOKE), "--results", str(results), "--quiet"]
    assert orgscale([*args, "--backend", "sequential"]) == 130
    err = capsys.readouterr().err
    assert "interrupted; finished runs are saved" in err and "Traceback" not in err


def test_orgscale_paper_with_a_missing_spec_exits_2(tmp_path, capsys):
    assert orgscale(["paper", "--spec", str(tmp_path / "none.toml"), "--quiet"]) == 2
    assert "none.toml" in capsys.readouterr().err


def test_paper_names_the_code_that_ran_the_runs_not_the_last_invocation():
    manifest = {
        "git": {"sha": "b" * 40, "dirty": False},
        "counts": {"run": 0},
        "history": [
            {"git": {"sha": "a" * 40, "dirty": False}, "counts": {"run": 10}},
            {"git": {"sha": "c" * 40, "dirty": True}, "counts": {"run": 2}},
        ],
    }
    assert build.run_shas(manifest) == ["a" * 10, "c" * 10 + "-dirty"]
