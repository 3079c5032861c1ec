"""Calibration: ABC-SMC recovers parameters from patterns the model itself produced; the
posterior depends on the seed only; bad targets get one line and exit 2, writing nothing."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.presets import parse_preset
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


def test_recovers_two_known_parameters_within_the_90_percent_interval(tmp_path, synthetic_observed):
    preset = parse_preset(targets(synthetic_observed), source=str(tmp_path / "synthetic.toml"))
    result = calibrate(
        preset, out=tmp_path / "out", population=60, generations=4, jobs=2, seed=3, quiet=True
    )
    intervals = result.intervals.set_index("parameter")
    for name, true in TRUTH.items():
        low, high = intervals.loc[name, ["ci90_low", "ci90_high"]]
        assert low <= true <= high, (name, low, true, high)
        prior_low, prior_high = intervals.loc[name, ["prior_low", "prior_high"]]
        assert high - low < 0.7 * (prior_high - prior_low)  # the data narrowed the prior
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert {
        "abc.db",
        "posterior.parquet",
        "simulated.parquet",
        "intervals.csv",
        "patterns.csv",
        "calibrated.toml",
        "calibration.png",
        "manifest.json",
    } <= written
    posterior = pd.read_parquet(tmp_path / "out" / "posterior.parquet")
    assert len(posterior) == 60 and posterior["weight"].sum() == pytest.approx(1.0)
    assert set(result.patterns["pattern"]) == set(synthetic_observed)


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
