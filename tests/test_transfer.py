"""``orgscale transfer``: behaviour from a source calibration's posterior, load from the target.

The source is a tiny calibration folder written here (a preset, a posterior, a manifest);
the target a patterns file or a small Gerrit-style git repository built with the git CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweeps import transfer
from sweeps.cli import main
from sweeps.transfer import compare, error_summary, load_source, target_load

PRESET = """
name = "tiny"
description = "a tiny one-core project"
days = 100

[config]
topology = "single_core"
staffing = "fixed_core"
core_reviewers = 4
approvals_needed = 2
n_teams = 2
contributors_per_team = 4
warmup_days = 20
change_rate = 0.6

[priors]
change_rate = [0.1, 1.0]
review_rate = [1.0, 12.0]
rework_prob = [0.1, 0.6]

[[pattern]]
metric = "submitted_per_day"
observed = 5.0
tolerance = { rel = 0.1 }
in_sample = true
source = { ref = "made up", date = "2024", counted = "new changes a day" }

[[pattern]]
metric = "merged_per_day"
observed = 4.0
tolerance = { rel = 0.1 }
in_sample = true
source = { ref = "made up", date = "2024", counted = "landed changes a day" }
"""

SOURCE_DEMAND = 0.6 * 2 * 4  # the source's change_rate × its 8 contributors: 4.8 a day
TARGET = {
    "workflow": "gerrit",
    "changes": 120,
    "window": {"start_days": 0.0, "end_days": 60.0, "days": 60.0},
    "merged_per_day": 2.0,
    "authors": 12.0,
    "lead_time_p25": 0.5,
    "lead_time_p50": 1.5,
    "lead_time_p75": 4.0,
    "lead_time_p90": 9.0,
}


@pytest.fixture
def calibration(tmp_path) -> Path:
    folder = tmp_path / "calibration"
    folder.mkdir()
    (folder / "preset.toml").write_text(PRESET, encoding="utf-8")
    pd.DataFrame(
        {
            "change_rate": [0.6, 0.6, 0.6],
            "review_rate": [7.7, 7.7, 7.7],
            "rework_prob": [0.2, 0.3, 0.4],
            "weight": [0.2, 0.3, 0.5],
            "generation": [3, 3, 3],
        }
    ).to_parquet(folder / "posterior.parquet")
    manifest = {"preset": "tiny", "converged": True, "fingerprint": "abc"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def patterns(tmp_path) -> Path:
    path = tmp_path / "target.json"
    path.write_text(json.dumps(TARGET), encoding="utf-8")
    return path


def test_behaviour_from_the_posterior_load_from_the_target(calibration):
    source = load_source(calibration)
    assert source.behaviour == ("review_rate", "rework_prob")  # change_rate is load
    assert source.submitted_per_merged() == pytest.approx(5.0 / 4.0)
    assert source.demand() == pytest.approx(SOURCE_DEMAND)
    load = target_load(TARGET, source)
    # 12 authors at the source's 4 a team: 3 teams; demand 2.0 landed × 1.25
    assert load["load"]["n_teams"] == 3
    assert load["load"]["change_rate"] == pytest.approx(2.5 / 12)
    assert load["info"]["demand_per_day"] == pytest.approx(2.5)
    # the core scales with demand from the source's 4: 4 × 2.5 / 4.8 → 2
    assert load["info"]["core"] == 2
    assert target_load(TARGET, source, core=5)["load"]["core_reviewers"] == 5
    given = target_load({**TARGET, "submitted_per_day": 3.0}, source)
    assert given["info"]["demand_per_day"] == pytest.approx(3.0)
    ratio = target_load(TARGET, source, submitted_per_merged=2.0)
    assert ratio["info"]["demand_per_day"] == pytest.approx(4.0)
    draws = transfer.draw_behaviour(source, 50, seed=1)
    assert {d["review_rate"] for d in draws} == {7.7}
    assert {d["rework_prob"] for d in draws} <= {0.2, 0.3, 0.4}
    assert all("change_rate" not in d for d in draws)


def test_an_integer_behaviour_is_drawn_as_the_calibration_ran_it(calibration):
    """A calibrated integer parameter (its posterior holds the sampled reals) is rounded, as
    the calibration's runs rounded it, so the drawn point is a valid model point."""
    (calibration / "preset.toml").write_text(
        PRESET.replace("[priors]", "[priors]\npromotion_reviews = [3, 40]"), encoding="utf-8"
    )
    posterior = pd.read_parquet(calibration / "posterior.parquet")
    posterior["promotion_reviews"] = [29.86, 12.2, 3.4]
    posterior.to_parquet(calibration / "posterior.parquet")
    source = load_source(calibration)
    assert "promotion_reviews" in source.behaviour
    draws = transfer.draw_behaviour(source, 30, seed=1)
    assert {d["promotion_reviews"] for d in draws} <= {30, 12, 3}
    assert all(isinstance(d["promotion_reviews"], int) for d in draws)
    loads = [target_load(TARGET, source)]
    runs = transfer.simulate_transfer(source, loads, draws[:1], seeds=1)
    assert len(runs) == 1


def test_runs_get_the_target_load_and_the_source_behaviour(calibration, monkeypatch):
    seen = []

    def fake(params, seed, days, names, windows):
        seen.append((params, days, windows))
        return dict.fromkeys(windows, 1.0)

    monkeypatch.setattr(transfer, "run_patterns", fake)
    source = load_source(calibration)
    loads = [target_load(TARGET, source, core=3)]
    runs = transfer.simulate_transfer(source, loads, transfer.draw_behaviour(source, 2), seeds=2)
    assert len(runs) == len(seen) == 4
    for params, days, windows in seen:
        assert params["review_rate"] == 7.7
        assert params["change_rate"] == pytest.approx(2.5 / 12)
        assert params["core_reviewers"] == 3 and params["n_teams"] == 3
        assert days == 20 + 60  # the source's warm-up, then the period
        assert windows["lead_time_p50"][1].start == 20


def test_simulated_demand_follows_the_target_not_the_source(calibration, patterns, tmp_path):
    out = tmp_path / "out"
    argv = ["transfer", str(calibration), str(patterns), "--draws", "2", "--seeds", "2"]
    assert main([*argv, "--quiet", "--out", str(out)]) == 0
    table = pd.read_csv(out / "transfer.csv")
    demand = table[table["pattern"] == "submitted_per_day"].iloc[0]
    assert demand["observed"] == pytest.approx(2.5)
    assert demand["sim_median"] == pytest.approx(2.5, rel=0.25)  # not the source's 4.8
    assert set(table[table["role"] == "predicted"]["pattern"]) == set(transfer.PREDICTED)
    record = json.loads((out / "transfer.json").read_text())
    assert record["source"]["behaviour"] == ["review_rate", "rework_prob"]
    assert record["loads"][0]["parameters"]["n_teams"] == 3
    assert record["summary"]["patterns"] == 5


def test_error_summary_on_a_hand_made_table():
    rows = [
        # period, pattern, role, observed, median, p05, p95, inside
        ("q1", "submitted_per_day", "input (demand)", 3.0, 30.0, 29.0, 31.0, False),
        ("q1", "merged_per_day", "predicted", 1.0, 2.0, 1.5, 3.0, False),
        ("q1", "lead_time_p50", "predicted", 2.0, 2.0, 1.0, 3.0, True),
        ("q2", "merged_per_day", "predicted", 4.0, 2.0, 1.0, 5.0, True),
        ("q2", "lead_time_p50", "predicted", 10.0, 10.0, 9.0, 11.0, True),
    ]
    table = pd.DataFrame(
        [
            {
                "period": p,
                "pattern": n,
                "role": r,
                "observed": o,
                "sim_median": m,
                "sim_p05": lo,
                "sim_p95": hi,
                "log_error": math.log(m / o),
                "inside": i,
            }
            for p, n, r, o, m, lo, hi, i in rows
        ]
    )
    summary = error_summary(table)
    assert summary["patterns"] == 4  # the demand put in is not a prediction
    # |log errors| ln 2, 0, ln 2, 0: median ln 2 / 2
    assert summary["median_abs_log_error"] == pytest.approx(math.log(2) / 2)
    assert summary["typical_factor"] == pytest.approx(math.sqrt(2))
    assert summary["share_inside_band"] == pytest.approx(0.75)
    merged = summary["by_pattern"]["merged_per_day"]
    assert merged["median_abs_log_error"] == pytest.approx(math.log(2))
    assert merged["median_log_error"] == pytest.approx(0.0)
    assert merged["share_inside_band"] == pytest.approx(0.5)


def test_compare_one_pattern():
    values = np.arange(0.0, 101.0)  # quantiles 5, 50, 95
    row = compare(25.0, np.append(values, np.nan))
    assert (row["sim_p05"], row["sim_median"], row["sim_p95"]) == (5.0, 50.0, 95.0)
    assert row["rel_error"] == pytest.approx(1.0)
    assert row["log_error"] == pytest.approx(math.log(2))
    assert row["inside"] and row["sim_nan"] == 1
    assert not compare(99.0, values)["inside"]


# --- a Gerrit-style git repository as the target ------------------------------------------
JAN_1 = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())


def git(path: Path, *args: str, at: float, email: str = "dev@example.org") -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(path),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": email.split("@")[0],
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": "Zuul",
        "GIT_COMMITTER_EMAIL": "zuul@example.org",
        "GIT_AUTHOR_DATE": f"{JAN_1 + round(at * 86400)} +0000",
        "GIT_COMMITTER_DATE": f"{JAN_1 + round(at * 86400)} +0000",
    }
    subprocess.run(["git", *args], cwd=path, env=env, capture_output=True, check=True)


def build_gerrit(path: Path) -> Path:
    """Ten changes over two quarters of 2024 by three authors, each merged by Zuul."""
    path.mkdir()
    git(path, "init", "-q", "-b", "main", at=0)
    (path / "README").write_text("x\n")
    git(path, "add", "README", at=0)
    git(path, "commit", "-q", "-m", "Initial import", at=0.1, email="ann@example.org")
    for n in range(10):
        at = 5.0 + 18.0 * n
        email = ("ann", "bob", "cy")[n % 3] + "@example.org"
        git(path, "checkout", "-q", "-b", f"c{n}", "main", at=at)
        (path / f"f{n}.py").write_text(f"{n}\n")
        git(path, "add", f"f{n}.py", at=at)
        message = f"Change {n}\n\nChange-Id: I{n + 1:040x}"
        git(path, "commit", "-q", "-m", message, at=at, email=email)
        git(path, "checkout", "-q", "main", at=at)
        git(path, "merge", "-q", "--no-ff", "-m", f'Merge "Change {n}"', f"c{n}", at=at + 1.5)
    return path


def test_end_to_end_on_a_git_repository(calibration, tmp_path, capsys):
    repo = build_gerrit(tmp_path / "repo")
    out = tmp_path / "out"
    argv = [
        "transfer",
        str(calibration),
        str(repo),
        "--since",
        "2024-01-01",
        "--until",
        "2024-07-01",
        "--every",
        "quarter",
        "--draws",
        "2",
        "--seeds",
        "1",
        "--core",
        "2",
        "--name",
        "acme/tiny",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2024-01-01/2024-04-01" in text and "2024-04-01/2024-07-01" in text
    assert "inside the simulated 90% band" in text
    record = json.loads((out / "transfer.json").read_text())
    assert [load["authors"] for load in record["loads"]] == [3, 3]
    assert record["target"]["name"] == "acme/tiny" and "acme/tiny:" in text
    assert record["command"].startswith("orgscale transfer ") and "--core 2" in record["command"]
    assert all(load["core"] == 2 for load in record["loads"])
    table = pd.read_csv(out / "transfer.csv")
    assert set(table["period"]) == {"2024-01-01/2024-04-01", "2024-04-01/2024-07-01"}


@pytest.mark.parametrize(
    "argv, says",
    [
        (["{missing}", "{patterns}"], "not a folder"),
        (["{empty}", "{patterns}"], "no manifest.json"),
        (["{calibration}", "{missing}"], "no such file"),
        (["{calibration}", "{patterns}", "--since", "2024-01-01"], "observed already"),
        (["{calibration}", "{patterns}", "--out", "{patterns}"], "is a file"),
        (["{calibration}", "{patterns}", "--draws", "0"], "invalid"),
        (["{noratio}", "{patterns}"], "--submitted-per-merged"),
        (["{calibration}", "{noauthors}"], "authors"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(calibration, patterns, tmp_path, capsys, argv, says):
    empty = tmp_path / "empty"
    empty.mkdir()
    # a source preset that observed no submitted_per_day, with a target recording none
    noratio = calibration.parent / "noratio"
    noratio.mkdir()
    for name in ("posterior.parquet", "manifest.json"):
        (noratio / name).write_bytes((calibration / name).read_bytes())
    text = PRESET.split('[[pattern]]\nmetric = "submitted_per_day"')[0]
    text += '[[pattern]]\nmetric = "merged_per_day"' + PRESET.split('metric = "merged_per_day"')[1]
    (noratio / "preset.toml").write_text(text)
    noauthors = tmp_path / "noauthors.json"
    noauthors.write_text(json.dumps({**TARGET, "authors": None}))
    names = {
        "missing": tmp_path / "missing",
        "empty": empty,
        "calibration": calibration,
        "patterns": patterns,
        "noratio": noratio,
        "noauthors": noauthors,
    }
    filled = [a.format(**{k: str(v) for k, v in names.items()}) for a in argv]
    try:
        status = main(["transfer", *filled, "--quiet"])
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and says in err, err
