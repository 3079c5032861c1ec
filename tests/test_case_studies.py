"""Case studies (paper/case_studies.py, paper/scripts/case_nova.py, case_uboot.py): the error
summary on a hand-made example, observed against simulated from a calibration's predictive
runs without running the model, held-out periods never in the fit, and both figures drawn
from small numbers (no calibration needed)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.presets import load_preset
from sweeps.calibration_abc import PatternDistance, make_distance

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "paper", ROOT / "paper" / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import case_nova  # noqa: E402
import case_studies  # noqa: E402
import case_uboot  # noqa: E402

TRAJECTORY = ROOT / "tests" / "data" / "trajectory-synthetic.toml"


# ----------------------------------------------------------------------------- errors
def test_error_summary_on_a_hand_made_example():
    e2, e3 = math.log(2), math.log(3)
    rows = [
        {"metric": "m", "role": "in_sample", "abs_log_error": 0.0, "reproduced": True},
        {"metric": "m", "role": "in_sample", "abs_log_error": e2, "reproduced": False},
        {"metric": "m", "role": "in_sample", "abs_log_error": e3, "reproduced": False},
        {"metric": "m", "role": "held_out", "abs_log_error": e2, "reproduced": True},
        {"metric": "m", "role": "held_out", "abs_log_error": math.nan, "reproduced": False},
        {"metric": "q", "role": "held_out", "abs_log_error": e3, "reproduced": True},
        {"metric": "q", "role": "check", "abs_log_error": 9.0, "reproduced": False},
    ]
    out = case_studies.error_summary(rows)
    assert set(out) == {"m", "q", "all"}
    assert out["m"]["in_sample"] == {
        "n": 3,
        "median_abs_log_error": pytest.approx(e2),
        "share_within_tolerance": pytest.approx(1 / 3),
    }
    # nan errors do not count in the median; they count as not reproduced
    assert out["m"]["held_out"]["median_abs_log_error"] == pytest.approx(e2)
    assert out["m"]["held_out"]["share_within_tolerance"] == 0.5
    assert set(out["q"]) == {"held_out"}  # checks are left out, absent roles are absent
    assert out["all"]["held_out"]["n"] == 3
    assert out["all"]["held_out"]["median_abs_log_error"] == pytest.approx((e2 + e3) / 2)
    assert out["all"]["held_out"]["share_within_tolerance"] == pytest.approx(2 / 3)
    assert out["all"]["in_sample"]["n"] == 3


def test_abs_log_error_is_symmetric_in_ratio_and_nan_for_no_value():
    p = load_preset(TRAJECTORY).patterns[0]  # merged_per_day = 2.2
    assert case_studies.abs_log_error(p, 4.4) == pytest.approx(math.log(2))
    assert case_studies.abs_log_error(p, 1.1) == pytest.approx(math.log(2))
    assert math.isnan(case_studies.abs_log_error(p, math.nan))
    assert math.isnan(case_studies.abs_log_error(p, 0.0))


# ----------------------------------------------------------------------------- held out
@pytest.mark.parametrize("preset_name", ["nova-trajectory", str(TRAJECTORY)])
def test_held_out_periods_are_never_in_the_fit(preset_name):
    preset = load_preset(preset_name)
    boundary = str(preset.trajectory.in_sample_until)
    late = [p for p in preset.patterns if p.period and str(p.period[0]) >= boundary]
    early = [p for p in preset.patterns if p.period and str(p.period[0]) < boundary]
    assert late and early
    assert all(not p.in_sample and p.role_label == "held-out (in time)" for p in late)
    assert {p.id for p in preset.fitted()} == {p.id for p in early}
    # the calibration's distance does not move when the held-out values do
    distance = PatternDistance(preset.patterns)
    assert {p.id for p in distance.patterns} == {p.id for p in early}
    x = {p.id: p.center * 1.1 for p in preset.patterns}
    wild = x | {p.id: p.center * 1000 for p in late}
    assert distance(x) == distance(wild)
    for kind in ("adaptive", "tolerance"):  # whichever distance drives the sampling
        used = make_distance(kind, preset.patterns, frozenset()).patterns
        assert {p.id for p in used} == {p.id for p in early}


def test_the_committed_nova_calibration_fitted_only_in_sample_periods():
    manifest = ROOT / "results" / "calibration" / "nova-trajectory" / "manifest.json"
    if not manifest.is_file():
        pytest.skip("no committed nova-trajectory calibration")
    fitted = json.loads(manifest.read_text())["fitted"]
    preset = load_preset("nova-trajectory")
    assert set(fitted) <= {p.id for p in preset.fitted()}
    assert all(p.split("@")[1] < "2014-01-01" for p in fitted)


# ----------------------------------------------------------------------------- case study
def test_an_uncalibrated_case_runs_the_preset_and_says_so(tmp_path):
    case = case_studies.case_study(TRAJECTORY, tmp_path, seeds=2)
    assert case["calibrated"] is False and case["converged"] is None
    assert "uncalibrated" in case["simulated_from"]
    assert case["in_sample_until"] == "2012-03-01"
    roles = {r["pattern"]: r["role"] for r in case["patterns"]}
    assert roles["merged_per_day@2012-01-01"] == "in_sample"
    assert roles["merged_per_day@2012-04-01"] == "held_out"
    assert case["errors"]["all"]["held_out"]["n"] == 3  # April's lead time is not observed
    json.dumps(case, allow_nan=False)  # JSON-safe: an open interval's bound is null


def test_a_calibrated_case_reads_the_predictive_runs_and_runs_no_model(tmp_path, monkeypatch):
    preset = load_preset(TRAJECTORY)
    folder = tmp_path / preset.name
    folder.mkdir()
    ids = [p.id for p in preset.patterns]
    runs = pd.DataFrame({i: np.full(20, 2.0) for i in ids})
    runs.loc[:9, ids] = 4.0  # median 3.0, in every pattern
    runs.to_parquet(folder / "ppc.parquet")
    fitted = [p.id for p in preset.fitted()]
    manifest = {"converged": False, "converged_reason": "budget", "fitted": fitted}
    (folder / "manifest.json").write_text(json.dumps(manifest))

    def no_model(*_a, **_k):
        raise AssertionError("the model was run")

    monkeypatch.setattr(case_studies, "simulate", no_model)
    case = case_studies.case_study(preset, tmp_path)
    assert case["calibrated"] is True and case["converged"] is False
    assert case["converged_reason"] == "budget" and case["n_runs"] == 20
    row = next(r for r in case["patterns"] if r["pattern"] == "merged_per_day@2012-01-01")
    assert row["sim_median"] == pytest.approx(3.0)
    assert row["abs_log_error"] == pytest.approx(math.log(3.0 / 2.2))
    assert row["reproduced"] is False  # 3.0 is 36% above 2.2: tolerance 20%
    assert case["fitted"] == fitted


# ----------------------------------------------------------------------------- figures
@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    return case_studies.case_study(TRAJECTORY, tmp_path_factory.mktemp("nocal"), seeds=2)


def _numbers(folder: Path, case_studies_doc: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"case_studies": case_studies_doc}
    (folder / "paper_numbers.json").write_text(json.dumps(doc, allow_nan=False))
    return folder


def _uboot_like(case: dict) -> dict:
    """The small trajectory's first periods as whole-span patterns, one a U-Boot metric."""
    rows = []
    for metric, role in [
        ("merged_per_day", "in_sample"),
        ("lead_time_p25", "held_out"),
        ("lead_time_p50", "in_sample"),
        ("lead_time_p90", "held_out"),
        ("top_direct_landed_share", "check"),
    ]:
        rows.append(case["patterns"][0] | {"metric": metric, "role": role, "since": None})
    return case | {"patterns": rows, "in_sample_until": None}


@pytest.mark.parametrize("script,key", [(case_nova, "nova"), (case_uboot, "uboot")])
def test_the_figures_draw_from_small_numbers_and_without_them(script, key, small_case, tmp_path):
    case = small_case if key == "nova" else _uboot_like(small_case)
    results = _numbers(tmp_path / "r", {key: case})
    paths = script.main(results, tmp_path / "f")
    assert [p.name for p in paths] == [f"{script.NAME}.png", f"{script.NAME}.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    empty = _numbers(tmp_path / "e", {})
    assert all(p.is_file() for p in script.main(empty, tmp_path / "g"))


def test_the_figure_titles_say_calibrated_or_not(small_case):
    assert "uncalibrated" in case_nova.title(small_case)
    calibrated = small_case | {"calibrated": True, "converged": False, "n_runs": 40}
    assert "not converged" in case_nova.title(calibrated)
    assert "not converged" in case_uboot.title(calibrated)


def test_nova_case_reads_the_committed_calibration_without_running_the_model(monkeypatch):
    folder = ROOT / "results" / "calibration" / "nova-trajectory"
    if not (folder / "ppc.parquet").is_file():
        pytest.skip("no committed nova-trajectory calibration")
    monkeypatch.setattr(case_studies, "simulate", None)  # a model run would fail
    case = case_studies.nova_case(ROOT / "results" / "calibration")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert case["calibrated"] is True
    assert case["converged"] is manifest["converged"]
    assert case["n_runs"] == manifest["ppc"]["draws"]
    assert case["in_sample_until"] == "2014-01-01"
    assert len(case["patterns"]) == 16 * 5
    for metric in ("merged_per_day", *case_nova.LEAD):
        assert case["errors"][metric]["in_sample"]["n"] == 8
        assert case["errors"][metric]["held_out"]["n"] == 8
    json.dumps(case, allow_nan=False)


def test_uboot_case_reads_the_committed_calibration_and_labels_the_roles(monkeypatch):
    folder = ROOT / "results" / "calibration" / "u-boot"
    if not (folder / "ppc.parquet").is_file():
        pytest.skip("no committed u-boot calibration")
    monkeypatch.setattr(case_studies, "simulate", None)  # a model run would fail
    case = case_studies.uboot_case(ROOT / "results" / "calibration")
    roles = {r["metric"]: r["role"] for r in case["patterns"]}
    assert roles["merged_per_day"] == roles["lead_time_p50"] == "in_sample"
    assert roles["lead_time_p90"] == "held_out" and roles["tree_depth"] == "check"
    assert case["in_sample_until"] is None
    assert case["errors"]["all"]["in_sample"]["n"] == 2
    assert case["errors"]["all"]["held_out"]["n"] == 3


def test_the_paper_says_what_within_tolerance_means_for_each_case():
    """A factor tolerance is named with its factor; a mix of tolerances is not called one."""
    import build

    factor = [
        {"role": "in_sample", "factor": 1.25},
        {"role": "held_out", "factor": 1.25},
        {"role": "check", "factor": 0.0},
    ]
    assert (
        build._tolerance_text(factor) == "within a factor of 1.25 of the observed value, either way"
    )
    mixed = [*factor, {"role": "in_sample", "factor": 0.0}]
    assert "a factor of 1.25" not in build._tolerance_text(mixed)
    assert "±" in build._tolerance_text(mixed) and "factor" in build._tolerance_text(mixed)
    two = [*factor, {"role": "in_sample", "factor": 1.5}]
    assert build._tolerance_text(two) == "within its own factor of the observed value, either way"
    plain = [{"role": "in_sample", "factor": 0.0}]
    assert "factor" not in build._tolerance_text(plain)
    rows = case_studies.pattern_rows(
        load_preset("nova-trajectory"),
        pd.DataFrame([{p.id: p.center for p in load_preset("nova-trajectory").patterns}]),
    )
    assert {r["tolerance_label"] for r in rows} == {"×÷1.25"}
    assert {r["factor"] for r in rows} == {1.25}
    assert all(r["reproduced"] for r in rows)  # the observed values reproduce themselves


def test_a_calibration_made_for_other_priors_is_not_called_current(tmp_path):
    """The case study compares the manifest's preset fingerprint with the preset's own: a
    calibration made before the priors (or the patterns, or the configuration) changed is
    flagged, one made for them is not."""
    from sweeps.calibrate import fingerprint_parts

    preset = load_preset(TRAJECTORY)
    settings = preset.settings()
    manifest = {"fingerprint_parts": fingerprint_parts(preset, settings), "settings": settings}
    assert case_studies._preset_current(preset, manifest) is True
    from model.presets import parse_preset

    text = TRAJECTORY.read_text()
    assert "[priors]" in text
    other = parse_preset(text.replace("[priors]", "[priors]\nrework_prob = [0.1, 0.6]"))
    assert case_studies._preset_current(other, manifest) is False
    assert case_studies._preset_current(preset, {"settings": settings}) is None


def test_the_calibration_tables_say_which_values_reproduce_a_pattern():
    from sweeps.calibration_checks import ppc_table

    preset = load_preset("nova-trajectory")
    p = preset.patterns[1]
    runs = pd.DataFrame({q.id: [q.center, q.center * 2.0] for q in preset.patterns})
    table = ppc_table(preset.patterns, runs, {q.id: q.role_label for q in preset.patterns})
    row = table.set_index("pattern").loc[p.id]
    assert row["tolerance_label"] == "×÷1.25"
    assert (row["reproduced_low"], row["reproduced_high"]) == pytest.approx(
        (p.low / 1.25, p.high * 1.25)
    )
    assert row["share_reproduced"] == 0.5  # the observed value, and twice it (out)
    assert row["median_distance"] == pytest.approx(p.distance(1.5 * p.center))


def test_the_trajectory_script_writes_a_factor_tolerance(tmp_path):
    import subprocess

    summary = {
        "source": {"command": "orgscale observe x --every quarter", "commit": "0" * 40},
        "periods": [
            {"window": {"since": "2012-01-01", "until": "2012-04-01"}, "merged_per_day": 2.0},
            {"window": {"since": "2012-04-01", "until": "2012-07-01"}, "merged_per_day": 3.0},
        ],
    }
    path = tmp_path / "observed.json"
    path.write_text(json.dumps(summary))
    script = ROOT / "scripts" / "trajectory-toml"
    common = [sys.executable, str(script), str(path), "--repo", "o/x"]
    common += ["--in-sample-until", "2012-04-01", "--patterns", "merged_per_day"]
    out = subprocess.run([*common, "--factor", "1.25"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "factor = 1.25" in out.stdout and "rel =" not in out.stdout
    both = subprocess.run([*common, "--factor", "1.25", "--rel", "0.2"], capture_output=True)
    assert both.returncode == 2  # one tolerance or the other


def test_the_paper_names_the_largest_misfit_with_its_period_and_factor():
    import build

    rows = [
        {
            "metric": "m",
            "role": "in_sample",
            "abs_log_error": math.log(2),
            "since": "2012-01-01",
            "until": "2012-04-01",
            "sim_median": 2.0,
            "observed": 1.0,
        },
        {
            "metric": "q",
            "role": "held_out",
            "abs_log_error": math.log(3),
            "since": "2014-01-01",
            "until": "2014-04-01",
            "sim_median": 1.0,
            "observed": 3.0,
        },
        {
            "metric": "c",
            "role": "check",
            "abs_log_error": 9.0,
            "since": None,
            "until": None,
            "sim_median": 1.0,
            "observed": 9.0,
        },
        {
            "metric": "n",
            "role": "in_sample",
            "abs_log_error": math.nan,
            "since": None,
            "until": None,
            "sim_median": math.nan,
            "observed": 1.0,
        },
    ]
    text = build._worst_misfit(rows)
    assert text.startswith("`q` in 2014-01-01 – 2014-04-01") and "off by ×3.0" in text
    assert build._worst_misfit(rows[2:]) == "not measured"


def test_the_limitations_say_whether_nova_calibrated_a_spread_of_difficulty():
    import build

    template = (ROOT / "paper" / "paper_template.md").read_text(encoding="utf-8")
    start = template.index("## Limitations")
    section = template[start : template.index("## Appendix A", start)]
    values = {"case.nova.worst": "`m` off by ×2.0"}
    spread = build.render(section, {**values, "case.nova.difficulty": "1.60 (1.20–2.00)"})
    assert "σ = 1.60 (1.20–2.00)" in spread and "Every change is alike" not in spread
    alike = build.render(section, {**values, "case.nova.difficulty": ""})
    assert "Every change is alike" in alike and "σ =" not in alike
    assert "`m` off by ×2.0" in spread and "`m` off by ×2.0" in alike
