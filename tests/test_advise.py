"""``orgscale advise`` on a synthetic project built here with ``git fast-import`` at fixed dates.

The project: six top-level areas in two planted modules whose files always change together
(``alpha``, ``beta``, ``gamma``: every change of module A touches two of them; ``delta``,
``epsilon``, ``zeta`` likewise for module B; no change crosses), about 250 changes merged
Gerrit-style (``Merge "<subject>"`` on the first-parent line) over ~200 days by 12 authors,
with demand growing over the period. One review team: the as-is organisation is a single core.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweeps.advise import Options, advise
from sweeps.advise.report import SECTIONS
from sweeps.cli import main

JAN_1 = 1704067200  # 2024-01-01 00:00 UTC
MODULES = {"A": ("alpha", "beta", "gamma"), "B": ("delta", "epsilon", "zeta")}


def _git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }


def build_project(path: Path, *, days: float = 200.0, seed: int = 3) -> Path:
    """A Gerrit-workflow repository of planted modules (see the module docstring)."""
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    env = _git_env(path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, env=env, check=True)
    # landings: a Poisson process whose rate grows from 1.0 to 1.5 changes a day
    landings, t = [], 1.0
    while t < days:
        t += rng.exponential(1.0 / (1.0 + 0.5 * t / days))
        landings.append(t)
    out: list[bytes] = []

    def data(text: str) -> None:
        raw = text.encode()
        out.append(f"data {len(raw)}\n".encode() + raw + b"\n")

    def stamp(day: float) -> str:
        return f"{JAN_1 + round(day * 86400)} +0000"

    out.append(b"commit refs/heads/main\nmark :1\n")
    out.append(f"author Dev <dev@example.org> {stamp(0)}\n".encode())
    out.append(f"committer Dev <dev@example.org> {stamp(0)}\n".encode())
    data("Initial import")
    out.append(b"M 100644 inline README\n")
    data("readme")
    main_mark, mark = 1, 1
    for n, landed in enumerate(landings, 1):
        module = "A" if rng.random() < 0.55 else "B"
        areas = rng.choice(MODULES[module], size=2, replace=False)
        files = [f"{areas[0]}/f{n % 5}.py", f"{areas[0]}/g{n % 3}.py", f"{areas[1]}/h{n % 4}.py"]
        author = f"dev{rng.integers(12)}"
        created = landed - rng.exponential(3.0) - 0.01
        subject = f"Change {n} in {module}"
        mark += 1
        change = mark
        out.append(f"commit refs/heads/change\nmark :{change}\n".encode())
        out.append(f"author {author} <{author}@example.org> {stamp(created)}\n".encode())
        out.append(f"committer {author} <{author}@example.org> {stamp(created)}\n".encode())
        data(f"{subject}\n\nChange-Id: I{n:040x}\n")
        out.append(f"from :{main_mark}\n".encode())
        body = []
        for name in files:
            body.append(f"M 100644 inline {name}\n".encode())
            raw = f"{subject}\n".encode()
            body.append(f"data {len(raw)}\n".encode() + raw + b"\n")
        out += body
        mark += 1
        out.append(f"commit refs/heads/main\nmark :{mark}\n".encode())
        out.append(f"author Zuul <zuul@example.org> {stamp(landed)}\n".encode())
        out.append(f"committer Zuul <zuul@example.org> {stamp(landed)}\n".encode())
        data(f'Merge "{subject}"')
        out.append(f"from :{main_mark}\nmerge :{change}\n".encode())
        out += body
        main_mark = mark
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=path,
        env=env,
        input=b"".join(out),
        check=True,
    )
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=path, env=env, check=True)
    return path


TINY = {"population": 10, "generations": 2, "draws": 2}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return build_project(tmp_path_factory.mktemp("advise") / "project")


@pytest.fixture(scope="module")
def advised(project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("advised") / "out"
    advise(Options(source=project, out=out, horizon_years=1.0, budget_minutes=1.0, **TINY))
    return out


def test_advise_runs_end_to_end_and_writes_every_stage_and_section(advised):
    for name in ("observed.toml", "events.parquet", "preset.toml", "comparison.parquet"):
        assert (advised / name).is_file(), name
    assert (advised / "calibration" / "posterior.parquet").is_file()
    assert (advised / "figures" / "utilization.png").is_file()
    report = (advised / "report.md").read_text()
    for section in SECTIONS:
        assert section in report, section
    assert "{{" not in report and "—%" not in report
    assert (advised / "report.pdf").read_bytes()[:4] == b"%PDF"
    stages = json.loads((advised / "advise.json").read_text())["stages"]
    assert all(stages[s]["done"] for s in ("observe", "calibrate", "compare", "report"))


def test_observed_organisation_is_one_team_and_demand_grows(advised):
    import tomllib

    observed = tomllib.loads((advised / "observed.toml").read_text())
    assert observed["organisation"]["kind"] == "one_team"
    assert {a["area"] for a in observed["areas"]} == {a for m in MODULES.values() for a in m}
    assert observed["growth"]["demand_per_year"] > 0


def test_cochange_split_keeps_the_planted_modules_together(advised):
    import tomllib

    observed = tomllib.loads((advised / "observed.toml").read_text())
    groups = observed["groupings"]["cochange"]["groups"]
    assert sorted(tuple(g) for g in groups) == sorted(tuple(sorted(m)) for m in MODULES.values())
    assert observed["groupings"]["cochange"]["cross_share"] == pytest.approx(0.0)
    assert observed["groupings"]["per_area"]["cross_share"] > 0.99  # all but the initial import


def test_comparison_has_every_organisation_with_intervals_over_draws_and_seeds(advised):
    table = pd.read_parquet(advised / "comparison.parquet")
    assert set(table["organisation"]) == {"as_is", "split_per_area", "split_cochange"}
    assert set(table["year"]) == {0.0, 1.0}
    split = table[table["organisation"] == "split_cochange"]
    assert set(split["ci_automation"]) == {False, True}
    assert len(split) == 2 * 2 * TINY["draws"] * 2  # automation × years × draws × seeds
    assert (table["error"] == "").all()


def test_a_resumed_run_equals_an_uninterrupted_one(advised, project, tmp_path):
    resumed = tmp_path / "resumed"
    shutil.copytree(advised, resumed)
    # as if killed during the comparison: half its runs written, no table, no report
    table = pd.read_parquet(resumed / "comparison.parquet")
    parts = resumed / "comparison.parts"
    parts.mkdir()
    table.iloc[: len(table) // 2].to_parquet(parts / "part-00000.parquet")
    for name in ("comparison.parquet", "report.md", "report.pdf"):
        (resumed / name).unlink()
    manifest = json.loads((resumed / "advise.json").read_text())
    for stage in ("compare", "report"):
        manifest["stages"][stage].pop("done")
    (resumed / "advise.json").write_text(json.dumps(manifest))
    advise(Options(source=project, out=resumed, horizon_years=1.0, budget_minutes=1.0, **TINY))
    again = pd.read_parquet(resumed / "comparison.parquet").drop(columns="wall_s")
    pd.testing.assert_frame_equal(again, table.drop(columns="wall_s"))
    assert _report(resumed) == _report(advised)


def _report(out: Path) -> str:
    """The report without its date and its own folder's name."""
    text = (out / "report.md").read_text().replace(str(out), "OUT")
    return "\n".join(line for line in text.splitlines() if "orgscale advise, " not in line)


def test_stages_done_are_skipped(advised, project, capsys):
    before = (advised / "comparison.parquet").stat().st_mtime_ns
    messages = []
    advise(
        Options(source=project, out=advised, horizon_years=1.0, budget_minutes=1.0, **TINY),
        progress=messages.append,
    )
    assert (advised / "comparison.parquet").stat().st_mtime_ns == before
    assert any("calibrate: done already" in m for m in messages)
    assert any("compare: done already" in m for m in messages)


def _error_line(err: str) -> str:
    """The one error line on stderr (progress lines may come before it)."""
    errors = [line for line in err.splitlines() if "orgscale advise: error:" in line]
    assert len(errors) == 1, err
    return errors[0]


def test_too_short_a_history_exits_2_and_writes_nothing(tmp_path, capsys):
    short = build_project(tmp_path / "short", days=60.0)
    out = tmp_path / "out"
    assert main(["advise", str(short), "--out", str(out), "--budget-minutes", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "at least 90 are needed" in _error_line(err)
    assert not out.exists()


def test_too_few_changes_exits_2(project, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["advise", str(project), "--since", "2024-06-01", "--out", str(out)]) == 2
    assert "needed to calibrate" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "no such file or directory"),
        (["{project}", "--areas-depth", "0"], "--areas-depth 0 is invalid"),
        (["{project}", "--since", "June"], "is not a date"),
        (["{project}", "--areas", "missing-MAINTAINERS"], "no such file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(project, tmp_path, capsys, args, message):
    args = [a.replace("{project}", str(project)) for a in args]
    out = tmp_path / "out"
    assert main(["advise", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in _error_line(err)
    assert not out.exists()


def test_a_folder_that_is_not_a_repository_is_refused(tmp_path, capsys):
    folder = tmp_path / "plain"
    folder.mkdir()
    assert main(["advise", str(folder), "--out", str(tmp_path / "out")]) == 2
    assert "orgscale advise: error:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_ctrl_c_exits_130_and_the_same_command_finishes_the_run(project, tmp_path):
    import signal
    import sys
    import time

    out = tmp_path / "out"
    command = [sys.executable, "-m", "sweeps.cli", "advise", str(project), "--out", str(out)]
    command += ["--budget-minutes", "0.5", "--horizon-years", "1", "--jobs", "2"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:  # wait until the calibration runs
        lines.append(line)
        if "generations of" in line:
            break
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)
    rest = proc.stderr.read()
    assert proc.returncode == 130, "".join(lines) + rest
    assert "interrupted" in rest
    assert (out / "observed.toml").is_file() and not (out / "report.md").exists()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "observe: done already" in done.stderr
    assert (out / "report.md").is_file()


def test_maintainers_areas_give_a_split_per_entry_and_one_per_top_directory(project, tmp_path):
    from sweeps.advise.organisations import organisations
    from sweeps.advise.pipeline import _observe

    maintainers = tmp_path / "MAINTAINERS"
    maintainers.write_text(
        "MODULE A\nF:\talpha/\nF:\tbeta/\nF:\tgamma/\n\nMODULE B\nF:\tdelta/\nF:\tepsilon/\n"
        "F:\tzeta/\n"
    )
    opts = Options(source=project, out=tmp_path / "out", areas_file=maintainers)
    observed = _observe(opts, lambda _m: None)
    assert {a["area"] for a in observed["areas"]} == {"MODULE A", "MODULE B"}
    assert observed["groupings"]["per_area"]["cross_share"] == pytest.approx(0.0)
    assert len(observed["groupings"]["top_directory"]["groups"]) == 6
    assert observed["groupings"]["top_directory"]["cross_share"] > 0.99
    names = {o.name: o for o in organisations(observed, maintainers=True)}
    assert set(names) == {"as_is", "split_maintainers", "split_top_directory"}
    assert names["split_maintainers"].n_teams == 2
    assert names["split_top_directory"].params["link_change_prob"] > 0.99


def test_maintainer_trees_map_onto_a_hierarchy_of_the_observed_depth_and_direct_share():
    from model.params import validate_params
    from sweeps.advise.mapping import as_is_config
    from sweeps.advise.organisations import organisations

    areas = [{"area": f"a{i}"} for i in range(9)]
    observed = {
        "areas": areas,
        "patterns": {"authors": 45.0, "merged_per_day": 3.0},
        "organisation": {"kind": "maintainer_trees", "direct_share": 0.02, "depth": 2.0},
        "source": {"workflow": "pull"},
        "groupings": {
            "per_area": {"groups": [[a["area"]] for a in areas], "cross_share": 0.3},
            "cochange": {"groups": [["a0", "a1", "a2"], ["a3", "a4", "a5"]], "cross_share": 0.1},
        },
        "multi_area_share": 0.3,
    }
    config = as_is_config(observed)
    assert config["topology"] == "hierarchical"
    assert config["branching"] == 3  # 3² = 9 areas at depth 2
    assert config["top_direct_share"] == pytest.approx(0.02)
    assert config["contributors_per_team"] == 5
    assert config["gate"] is False
    validate_params(config)
    names = [o.name for o in organisations(observed)]
    assert names == ["as_is", "one_core", "split_per_area", "split_cochange"]


def test_report_states_the_calibrations_own_fit_distance_and_convergence(advised):
    """The report's distance is the calibration's fit distance (tolerance units), not the
    adaptive distance's ε, and "converged" only where the calibration says so."""
    run = json.loads((advised / "calibration" / "manifest.json").read_text())
    report = (advised / "report.md").read_text()
    stated = re.search(r"fit distance\s+([0-9.]+) tolerance units", report)
    assert stated, "the report states the fit distance"
    assert float(stated.group(1)) == pytest.approx(run["fit_distance"], rel=0.01)
    assert ("calibration converged" in " ".join(report.split())) == bool(run["converged"])
