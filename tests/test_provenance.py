"""One table, one model: the model's code is hashed into every row and the manifest, and
a resume or a worker running other model code is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sweeps.backends as backends
import sweeps.one_run as one_run
from sweeps import ResultsConflictError, load_results, run_sweep
from sweeps.provenance import environment, hash_model_sources, model_hash, model_identity

ROOT = Path(__file__).resolve().parent.parent

TWO_RUNS_SPEC = """\
name = "two"
root_seed = 5
replicates = 2
days = 60

[fixed]
warmup_days = 20
contributors_per_team = 4
topology = "flat"
n_teams = 2
"""


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "two.toml"
    path.write_text(TWO_RUNS_SPEC)
    return path


def copy_checkout(target: Path) -> Path:
    """The model and sweeps packages copied to ``target`` (a checkout of this code)."""
    for package in ("model", "sweeps"):
        shutil.copytree(
            ROOT / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return target


def python_in(checkout: Path, code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=checkout,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_hash_covers_the_model_files_by_path_and_bytes(tmp_path):
    package = tmp_path / "model"
    shutil.copytree(ROOT / "model", package, ignore=shutil.ignore_patterns("__pycache__"))
    digest, files = hash_model_sources(package)
    assert digest == model_hash() and "metrics.py" in files and "presets/linux.toml" in files
    assert "app.py" not in files  # the view: no run executes it
    (package / "app.py").write_text("# a view change\n")
    assert hash_model_sources(package)[0] == digest
    (package / "metrics.py").write_text((package / "metrics.py").read_text() + "# changed\n")
    changed, changed_files = hash_model_sources(package)
    assert changed != digest
    assert {f for f in files if files[f] != changed_files[f]} == {"metrics.py"}


def test_every_row_and_the_manifest_record_the_model_that_made_them(spec, tmp_path):
    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert (table["model_hash"] == model_hash()).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["hash"] == model_hash()
    assert set(manifest["model"]["git"]) == {"sha", "dirty"}
    assert not Path(manifest["spec"]["source"]).is_absolute()


def test_a_resume_after_the_model_code_changed_is_refused_naming_the_file(spec, tmp_path):
    checkout = copy_checkout(tmp_path / "checkout")
    out = tmp_path / "out"
    first_run = (
        "import sys\nfrom sweeps import plan_sweep, run_sweep\n"
        "rid = plan_sweep(sys.argv[1], sys.argv[2]).tasks[0].run_id\n"
        "run_sweep(sys.argv[1], out=sys.argv[2], backend='sequential', quiet=True, "
        "_fault={rid: 'raise'})\n"
    )
    done = python_in(checkout, first_run, str(spec), str(out))
    assert done.returncode == 0, done.stderr
    metrics = checkout / "model" / "metrics.py"
    metrics.write_text(metrics.read_text() + "\n# a code change\n")
    resume = python_in(
        checkout, "from sweeps.cli import main; raise SystemExit(main())", "sweep", str(spec),
        "--out", str(out), "--backend", "sequential", "--quiet",
    )  # fmt: skip
    assert resume.returncode == 2
    (line,) = resume.stderr.strip().splitlines()
    assert "another model" in line and "model/metrics.py" in line
    table = load_results(out)
    assert sorted(table["status"]) == ["failed", "ok"]  # nothing was added
    assert table["model_hash"].nunique() == 1


def test_a_resume_of_a_folder_of_another_model_is_refused_in_process(spec, tmp_path, monkeypatch):
    out = tmp_path / "out"
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    ours = model_identity()
    other = {**ours, "hash": "0" * 64, "files": {**ours["files"], "review.py": "0" * 64}}
    monkeypatch.setattr(
        "sweeps.store.model_identity", lambda: other
    )  # as if the code had changed since
    with pytest.raises(ResultsConflictError, match=r"another model.*model/review\.py"):
        run_sweep(spec, out=out, backend="sequential", quiet=True)


def test_old_results_without_a_model_hash_read_with_the_column_null(spec, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    # the same folder as an older orgscale wrote it: no model_hash column or manifest key
    runs = out / "runs.parquet"
    pq.write_table(pq.read_table(runs).drop_columns(["model_hash"]), runs)
    manifest = json.loads((out / "manifest.json").read_text())
    del manifest["model"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    old = load_results(out)
    assert old["model_hash"].isna().all()
    assert old.drop(columns="model_hash").equals(table.drop(columns="model_hash"))
    assert load_results(out, ["run_id", "model_hash"])["model_hash"].isna().all()
    # a finished old folder resumes (nothing is added to it); its model stays unknown
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert json.loads((out / "manifest.json").read_text())["model"] is None
    # an unfinished one cannot take runs of this model
    spec.write_text(TWO_RUNS_SPEC.replace("replicates = 2", "replicates = 3"))
    with pytest.raises(ResultsConflictError, match="record no model hash"):
        run_sweep(spec, out=out, backend="sequential", quiet=True)


def test_a_run_returned_by_other_model_code_stops_the_sweep_unrecorded(spec, tmp_path, monkeypatch):
    monkeypatch.setattr(one_run, "model_hash", lambda: "f" * 64)  # a worker of another checkout
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="other model code"):
        run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert len(load_results(out)) == 0


@pytest.fixture
def dask_scheduler():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize(
    "change, named",
    [
        ({"model": {"hash": "1" * 64, "git": {"sha": "abc", "dirty": True}}}, "model 111111"),
        ({"packages": {**environment()["packages"], "numpy": "1.0.0"}}, "numpy 1.0.0"),
    ],
    ids=["model", "numpy"],
)
def test_a_dask_worker_of_other_code_or_versions_is_refused_before_anything_is_written(
    spec, tmp_path, dask_scheduler, monkeypatch, change, named
):
    real = backends.worker_environment
    monkeypatch.setattr(backends, "worker_environment", lambda: {**real(), **change})
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=f"runs other code than this process: {named}"):
        run_sweep(spec, out=out, backend="dask", scheduler=dask_scheduler, quiet=True)
    assert not out.exists()


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_committed_results_carry_no_absolute_paths():
    manifests = sorted((ROOT / "results").rglob("manifest.json"))
    assert manifests
    for path in manifests:
        absolute = [s for s in strings_in(json.loads(path.read_text())) if s.startswith("/")]
        assert absolute == [], path
