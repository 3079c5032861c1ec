"""Calibration: ABC-SMC recovers parameters from patterns the model itself produced; the
posterior depends on the seed only; bad targets get one line and exit 2, writing nothing."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.presets import parse_preset
from sweeps import nova_like
from sweeps.calibrate import CalibrationError, calibrate
from sweeps.calibration_report import weighted_quantiles
from sweeps.cli import main
from sweeps.one_run import run_one

CONFIG = {
    "topology": "single_core",
    "staffing": "fixed_core",
    "n_teams": 3,
    "contributors_per_team": 4,
    "core_reviewers": 3,
    "warmup_days": 20.0,
    # reviewers on duty around the clock: with three reviewers in short review hours the
    # wait for review is the wait for someone to come on duty, which review_rate cannot move
    "review_share": 1.0,
    "review_days_per_week": 7,
}
DAYS = 150.0
TRUTH = {"change_rate": 0.2, "review_rate": 6.0}


def targets(observed: dict[str, float], *, extra: str = "") -> str:
    """Preset TOML over CONFIG with priors on change_rate and review_rate."""
    config = "\n".join(
        f"{k} = {json.dumps(v) if isinstance(v, str) else v}" for k, v in CONFIG.items()
    )
    patterns = "".join(
        textwrap.dedent(
            f"""
            [[pattern]]
            metric = "{metric}"
            observed = {value!r}
            tolerance = {{ rel = {tol} }}
            in_sample = true
            source = {{ ref = "the model", date = "seed 0-4", counted = "{metric}" }}
            """
        )
        for metric, (value, tol) in observed.items()
    )
    return (
        f'name = "synthetic"\ndescription = "recovery"\ndays = {DAYS}\n[config]\n{config}\n'
        "[priors]\nchange_rate = [0.05, 0.4]\nreview_rate = [2.0, 12.0]\n"
        f"{extra}{patterns}"
    )


@pytest.fixture(scope="module")
def synthetic_observed():
    """Median over five seeds of the model at TRUTH."""
    runs = [run_one({**CONFIG, **TRUTH}, seed, DAYS) for seed in range(5)]
    return {
        "throughput": (float(np.median([r["throughput"] for r in runs])), 0.1),
        "review_wait_mean": (float(np.median([r["review_wait_mean"] for r in runs])), 0.3),
    }


def test_a_small_calibration_writes_every_output(tmp_path, synthetic_observed):
    preset = parse_preset(targets(synthetic_observed), source=str(tmp_path / "synthetic.toml"))
    result = calibrate(
        preset,
        out=tmp_path / "out",
        population=20,
        generations=2,
        jobs=2,
        seed=3,
        quiet=True,
        ppc_draws=8,
    )
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {
        "abc.db",
        "posterior.parquet",
        "simulated.parquet",
        "intervals.csv",
        "patterns.csv",
        "ppc.csv",
        "ppc.parquet",
        "calibrated.toml",
        "calibration.png",
        "manifest.json",
    } <= written
    posterior = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    assert len(posterior) == 20 and posterior["weight"].sum() == pytest.approx(1.0)
    assert set(result.patterns["pattern"]) == set(synthetic_observed)
    assert len(pd.read_parquet(tmp_path / "out" / "ppc.parquet")) == 8


def test_posterior_is_the_same_for_one_or_two_jobs_and_after_resuming(tmp_path, synthetic_observed):
    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    kw = dict(population=20, seed=5, quiet=True, plot=False)
    one = calibrate(preset, out=tmp_path / "one", generations=3, jobs=1, **kw)
    two = calibrate(preset, out=tmp_path / "two", generations=3, jobs=2, **kw)
    calibrate(preset, out=tmp_path / "resumed", generations=2, jobs=2, **kw)
    resumed = calibrate(preset, out=tmp_path / "resumed", generations=3, jobs=2, **kw)
    pd.testing.assert_frame_equal(one.posterior, two.posterior)
    pd.testing.assert_frame_equal(one.posterior, resumed.posterior)
    assert one.n_simulations == two.n_simulations == resumed.n_simulations


def test_a_folder_holding_another_calibration_is_refused(tmp_path, synthetic_observed):
    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    kw = dict(out=tmp_path / "out", population=10, generations=1, quiet=True, plot=False)
    calibrate(preset, seed=1, **kw)
    with pytest.raises(CalibrationError, match="--fresh"):
        calibrate(preset, seed=2, **kw)
    calibrate(preset, seed=2, fresh=True, **kw)  # moved aside, started anew


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("throughput", "thruput"), "pattern[0].metric: expected a metric of model.METRICS"),
        (("[0.05, 0.4]", "[0.4, 0.4]"), "priors.change_rate: expected a non-empty range"),
        (("[2.0, 12.0]", "[12.0, 2.0]"), "priors.review_rate: expected a non-empty range"),
        (
            ('metric = "review_wait_mean"', 'metric = "negotiation_wait_mean"'),
            "pattern 'negotiation_wait_mean': the model produced no value",
        ),
    ],
)
def test_bad_targets_give_one_line_exit_2_and_write_nothing(
    tmp_path, capsys, synthetic_observed, change, message
):
    path = tmp_path / "targets.toml"
    path.write_text(targets(synthetic_observed).replace(*change))
    out = tmp_path / "out"
    assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not out.exists()


def test_weighted_quantiles_match_unweighted_ones_for_equal_weights():
    values = np.arange(101.0)
    q = weighted_quantiles(values, np.ones_like(values))
    assert q == pytest.approx([5.0, 50.0, 95.0], abs=0.6)
    assert np.isnan(weighted_quantiles(np.array([np.nan]), np.array([1.0]))).all()


def test_pasting_the_posterior_into_the_preset_keeps_its_calibration_current():
    """The fingerprint ignores [config] values of the calibrated parameters (every run draws
    them from the priors), but not the configuration a calibration was run with."""
    from model.presets import load_preset
    from sweeps.calibrate import fingerprint

    text = (Path(__file__).resolve().parents[1] / "model" / "presets" / "linux.toml").read_text()
    settings = {"population": 60, "seed": 1, "days": 280.0}
    base = fingerprint(load_preset("linux"), settings)
    pasted = text.replace("conflict_fix_days = 0.01256", "conflict_fix_days = 0.1")
    assert pasted != text
    assert fingerprint(parse_preset(pasted, source="linux.toml"), settings) == base
    other = text.replace("n_teams = 192", "n_teams = 160")
    assert other != text
    assert fingerprint(parse_preset(other, source="linux.toml"), settings) != base


# --------------------------------------------------------------------------- Nova-like recovery
NOVA_TRUTH = nova_like.TRUTH
NOVA_PATTERNS = nova_like.PATTERNS


def nova_like_text(observed: dict[str, float]) -> str:
    """A Nova-like preset (a core of 4 needing 2 approvals, a gate) with all five priors."""
    return nova_like.preset_text(observed)


@pytest.fixture(scope="module")
def nova_observed():
    """Mean over five seeds of the Nova-like model at NOVA_TRUTH."""

    return nova_like.observe(NOVA_TRUTH, list(range(5)))


@pytest.mark.slow
def test_recovers_five_parameters_of_a_nova_like_core_within_their_intervals(
    tmp_path, nova_observed
):
    preset = parse_preset(nova_like_text(nova_observed), source="nova-like.toml")
    result = calibrate(
        preset,
        out=tmp_path / "out",
        population=60,
        generations=4,
        jobs=2,
        seed=7,
        quiet=True,
        plot=False,
        ppc_draws=20,
    )
    intervals = result.intervals.set_index("parameter")
    for name, true in NOVA_TRUTH.items():
        low, high = intervals.loc[name, ["ci90_low", "ci90_high"]]
        assert low <= true <= high, (name, low, true, high)
    width = (intervals["ci90_high"] - intervals["ci90_low"]) / (
        intervals["prior_high"] - intervals["prior_low"]
    )
    assert width["change_rate"] < 0.5 and width["review_rate"] < 0.7  # the data narrowed them
    ppc = pd.read_csv(tmp_path / "out" / "ppc.csv").set_index("pattern")
    assert (ppc.loc[list(NOVA_PATTERNS), "observed_quantile"].between(0.02, 0.98)).all()


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_an_unconverged_run_says_so_and_does_not_call_its_intervals_credible(
    tmp_path, synthetic_observed
):
    from sweeps.calibration_report import format_summary

    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    kw = dict(population=10, generations=1, quiet=True, plot=False, ppc_draws=4)
    result = calibrate(preset, out=tmp_path / "strict", min_epsilon=0.0, **kw)
    manifest = _manifest(tmp_path / "strict")
    assert manifest["converged"] is False
    assert "generation budget spent" in manifest["converged_reason"]
    assert "> target 0" in manifest["converged_reason"]
    assert set(result.intervals["interval"]) == {"not converged: 90% posterior interval"}
    text = format_summary(result)
    assert "NOT converged" in text and "credible" not in text
    assert (
        "not converged: 90% posterior interval"
        in (tmp_path / "strict" / "calibrated.toml").read_text()
    )

    loose = calibrate(preset, out=tmp_path / "loose", min_epsilon=50.0, min_ess=0.0, **kw)
    assert _manifest(tmp_path / "loose")["converged"] is True
    assert set(loose.intervals["interval"]) == {"90% credible interval"}
    assert "credible" in format_summary(loose)


def test_an_ess_below_the_floor_is_not_converged():
    from sweeps.calibration_checks import convergence

    record = {"fit_distance": 0.1, "ess": 5.0, "population": 100}
    settings = {"min_epsilon": 0.5, "min_ess": 0.5, "generations": 4}
    converged, why = convergence([record], settings)
    assert not converged and "effective sample size 5.0 < floor 50.0" in why
    assert convergence([record | {"ess": 60.0}], settings)[0]


def test_patterns_fixed_by_the_configuration_are_checks_not_distances(tmp_path, synthetic_observed):
    extra = (
        '[[pattern]]\nmetric = "tree_depth"\nobserved = 0\ntolerance = { abs = 0 }\n'
        'in_sample = true\nsource = { ref = "the model", date = "-", counted = "depth" }\n'
        '[[pattern]]\nid = "teams"\nmetric = "n_teams_total"\nobserved = 1\n'
        'tolerance = { abs = 0 }\nin_sample = true\nrole = "check"\n'
        'source = { ref = "the model", date = "-", counted = "teams" }\n'
    )
    preset = parse_preset(targets(synthetic_observed, extra=extra), source="synthetic.toml")
    assert [p.id for p in preset.checks()] == ["teams"]
    result = calibrate(
        preset,
        out=tmp_path / "out",
        population=10,
        generations=1,
        quiet=True,
        plot=False,
        ppc_draws=4,
    )
    manifest = _manifest(tmp_path / "out")
    assert set(manifest["checks"]) == {"tree_depth", "teams"}  # one found by the pilot
    assert "pilot" in manifest["checks"]["tree_depth"]
    assert set(manifest["fitted"]) == set(synthetic_observed)
    roles = result.patterns.set_index("pattern")["role"]
    assert roles["tree_depth"] == roles["teams"] == "check"
    assert manifest["ppc"]["joint"]["checks"] == pytest.approx(1.0)


def test_a_locked_folder_is_refused(tmp_path, synthetic_observed):
    from sweeps.store import _folder_lock

    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    kw = dict(out=tmp_path / "out", population=10, quiet=True, plot=False)
    calibrate(preset, generations=1, ppc_draws=0, **kw)
    with (
        _folder_lock(tmp_path / "out"),
        pytest.raises(CalibrationError, match="another calibration is writing"),
    ):
        calibrate(preset, generations=2, ppc_draws=0, **kw)
    with (
        _folder_lock(tmp_path / "out"),
        pytest.raises(CalibrationError, match="another calibration is writing"),
    ):
        calibrate(preset, generations=1, fresh=True, ppc_draws=0, **kw)


def test_a_changed_model_refuses_to_resume_naming_what_changed(
    tmp_path, capsys, monkeypatch, synthetic_observed
):
    path = tmp_path / "targets.toml"
    path.write_text(targets(synthetic_observed))
    out = tmp_path / "out"
    args = [
        "calibrate",
        str(path),
        "--out",
        str(out),
        "--quiet",
        "--population",
        "10",
        "--generations",
        "1",
        "--ppc-draws",
        "0",
        "--jobs",
        "1",
    ]
    from sweeps.calibrate import model_code_hashes

    assert main(args) == 0
    capsys.readouterr()
    code = model_code_hashes()
    assert "model/model.py" in code and "observe/patterns.py" in code
    assert "model/app.py" not in code  # the view: no run executes it
    changed = dict(code, **{"model/review.py": "0" * 64})
    monkeypatch.setattr("sweeps.calibrate.model_code_hashes", lambda: changed)
    assert main([*args[:-4], "--generations", "2", "--jobs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "model code (model/review.py)" in err and "--fresh" in err


def test_fresh_refuses_a_folder_that_is_not_a_calibration(tmp_path, synthetic_observed):
    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    with pytest.raises(CalibrationError, match="not a calibration folder"):
        calibrate(preset, out=out, fresh=True, population=10, generations=1, quiet=True)
    assert (out / "thesis.tex").read_text() == "precious"


def test_manifest_holds_no_absolute_path_and_counts_each_generation_once(
    tmp_path, synthetic_observed
):
    preset = parse_preset(targets(synthetic_observed), source=str(tmp_path / "synthetic.toml"))
    kw = dict(out=tmp_path / "out", population=10, quiet=True, plot=False, ppc_draws=0)
    calibrate(preset, generations=1, **kw)
    calibrate(preset, generations=2, **kw)  # resumed
    calibrate(preset, generations=2, **kw)  # already finished
    manifest = _manifest(tmp_path / "out")
    text = json.dumps(manifest)
    assert str(tmp_path) not in text and "/work/" not in text
    assert manifest["generations"] == 2 and [r["t"] for r in manifest["history"]] == [0, 1]
    assert manifest["n_simulations"] == sum(r["n_simulations"] for r in manifest["history"])


def test_a_trajectory_is_calibrated_on_its_early_periods_and_tested_on_the_later(tmp_path):
    from model.presets import load_preset

    preset = load_preset(Path(__file__).parent / "data" / "trajectory-synthetic.toml")
    result = calibrate(preset, out=tmp_path / "out", quiet=True, plot=False, jobs=1)
    manifest = _manifest(tmp_path / "out")
    assert manifest["fitted"] == [
        "merged_per_day@2012-01-01",
        "lead_time_p50@2012-01-01",
        "merged_per_day@2012-02-01",
        "lead_time_p50@2012-02-01",
    ]
    table = result.patterns.set_index("pattern")
    assert table.loc["merged_per_day@2012-04-01", "role"] == "held-out (in time)"
    assert table.loc["merged_per_day@2012-04-01", "period"] == "2012-04-01/2012-05-01"
    ppc = pd.read_csv(tmp_path / "out" / "ppc.csv").set_index("pattern")
    assert ppc.loc["lead_time_p50@2012-03-01", "role"] == "held-out (in time)"
    assert np.isfinite(ppc["ppc_median"]).all()


@pytest.mark.slow
def test_ctrl_c_exits_130_within_5_s_and_the_resumed_run_reaches_the_same_posterior(
    tmp_path, synthetic_observed
):
    import os
    import signal
    import subprocess
    import sys
    import time

    path = tmp_path / "targets.toml"
    path.write_text(targets(synthetic_observed))
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root))

    def command(out: Path) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sweeps.cli",
            "calibrate",
            str(path),
            "--out",
            str(out),
            "--population",
            "30",
            "--generations",
            "3",
            "--jobs",
            "2",
            "--ppc-draws",
            "0",
            "--seed",
            "4",
        ]

    proc = subprocess.Popen(
        command(tmp_path / "cut"),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (tmp_path / "cut" / "abc.db").exists():
        time.sleep(0.1)
    time.sleep(1.0)  # well inside a generation
    assert proc.poll() is None, proc.communicate()
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.monotonic() - sent <= 5.0
    assert "interrupted" in err
    resumed = subprocess.run(
        command(tmp_path / "cut"), cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    whole = subprocess.run(
        command(tmp_path / "whole"), cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert whole.returncode == 0, whole.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "cut" / "posterior.parquet"),
        pd.read_parquet(tmp_path / "whole" / "posterior.parquet"),
    )


def test_a_ctrl_c_during_pyabcs_database_write_exits_130_and_loses_no_stored_generation(
    tmp_path, synthetic_observed, monkeypatch, capsys
):
    """pyabc closes its history in a ``finally``; a Ctrl-C inside the commit of a generation
    leaves SQLAlchemy's session rolled back, so that clean-up raises and the interruption
    survives only as the context of another exception. The command must still exit 130."""
    from pyabc.storage.history import History

    path = tmp_path / "targets.toml"
    path.write_text(targets(synthetic_observed))
    out = tmp_path / "out"
    common = ["calibrate", str(path), "--out", str(out), "--population", "10", "--quiet"]
    assert main([*common, "--generations", "1", "--jobs", "1", "--ppc-draws", "0"]) == 0
    capsys.readouterr()

    def interrupted_commit(self, *args, **kwargs):
        raise KeyboardInterrupt

    def broken_close(self, *args, **kwargs):
        raise RuntimeError("this Session's transaction has been rolled back")

    monkeypatch.setattr(History, "append_population", interrupted_commit)
    monkeypatch.setattr(History, "done", broken_close)
    assert main([*common, "--generations", "2", "--jobs", "1", "--ppc-draws", "0"]) == 130
    assert "interrupted" in capsys.readouterr().err
    monkeypatch.undo()
    assert main([*common, "--generations", "2", "--jobs", "1", "--ppc-draws", "0"]) == 0
    manifest = _manifest(out)
    assert manifest["generations"] == 2 and [r["t"] for r in manifest["history"]] == [0, 1]


def test_a_database_killed_while_pyabc_created_it_is_started_again(tmp_path, synthetic_observed):
    """pyabc makes its tables before it writes its version row; a kill in between leaves a
    file it refuses to open ("version 0"). The next run must start it again, and a
    database holding generations must never be taken for such a file."""
    import sqlite3

    from sweeps.calibrate import holds_no_generation

    preset = parse_preset(targets(synthetic_observed), source="synthetic.toml")
    kw = dict(out=tmp_path / "out", population=10, quiet=True, plot=False, ppc_draws=0)
    calibrate(preset, generations=1, **kw)
    db = tmp_path / "out" / "abc.db"
    assert not holds_no_generation(db)  # pyabc's schema as read here: pinned
    with sqlite3.connect(db) as con:  # as if killed right after the tables were made
        con.execute("DELETE FROM version")
        con.execute("DELETE FROM populations")
    assert holds_no_generation(db)
    result = calibrate(preset, generations=1, **kw)
    assert [r["t"] for r in _manifest(tmp_path / "out")["history"]] == [0]
    assert len(result.posterior) == 10
