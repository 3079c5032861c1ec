"""The results folder: appended parts, exact resume after SIGKILL, refusals, one loader."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sweeps.store as store_module
from model import METRICS, PARAMETERS
from sweeps import ResultsConflictError, load_results, plan_sweep, run_sweep
from sweeps.cli import main
from sweeps.store import PARTS_DIR, RUNS_FILE, ResultStore, is_results_folder, results_schema

SPEC = """\
name = "small"
root_seed = 5
replicates = 2
days = 90

[fixed]
warmup_days = 30
contributors_per_team = 4

[grid]
topology = ["flat", "hierarchical"]
n_teams = [2, 4]
"""

# Long enough (several seconds) that a kill lands in the middle of it.
LONG_SPEC = """\
name = "long"
root_seed = 7
replicates = 8
days = 180

[fixed]
warmup_days = 30

[[grid]]
topology = ["flat", "hierarchical", "modular"]
n_teams = [4, 8]
ci_automation = [false, true]
"""


# Two runs: few writes, so a sweep can be killed at each of them.
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


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def without_wall(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns="wall_s").reset_index(drop=True)


def test_results_table_has_one_typed_column_per_field(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    table = run_sweep(spec, out=tmp_path / "out", backend="sequential", quiet=True)
    expected = ["run_id", "replicate", "seed", "days", *PARAMETERS, *METRICS]
    assert list(table.columns) == [*expected, "status", "error", "wall_s", "model_hash"]
    assert table["replicate"].dtype == "int64"
    assert table["seed"].dtype == "int64"
    assert table["n_teams"].dtype == "int64"
    assert table["ci_automation"].dtype == bool
    assert all(table[m].dtype == "float64" for m in METRICS)
    assert pq.read_schema(tmp_path / "out" / RUNS_FILE).equals(results_schema())
    assert table["run_id"].is_unique


def test_folder_holds_spec_copy_manifest_and_compacted_runs(tmp_path):
    spec = write(tmp_path, "# my comment\n" + SPEC, "small.toml")
    run_sweep(spec, out=tmp_path / "out", backend="loky", jobs=2, quiet=True)
    out = tmp_path / "out"
    assert (out / "spec.toml").read_text() == spec.read_text()
    assert not list((out / PARTS_DIR).glob("*.parquet"))
    assert not list(out.rglob("*.tmp-*"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["orgscale_version"]
    assert set(manifest["git"]) == {"sha", "dirty"}
    assert {"mesa", "numpy", "pandas", "pyarrow", "joblib", "dask"} <= set(manifest["packages"])
    assert manifest["python"] and manifest["platform"]
    assert manifest["spec"]["hash"] == plan_sweep(spec, out).spec.spec_hash
    assert (manifest["backend"], manifest["jobs"]) == ("loky", 2)
    assert manifest["started"] <= manifest["finished"]
    assert manifest["complete"] is True
    assert manifest["counts"]["total"] == manifest["counts"]["ok"] == 8


def test_running_again_runs_nothing_and_returns_the_same_table(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    first = run_sweep(spec, out=tmp_path / "out", backend="sequential", quiet=True)
    again = run_sweep(spec, out=tmp_path / "out", backend="sequential", quiet=True)
    pd.testing.assert_frame_equal(first, again)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["run"] == 0
    assert manifest["counts"]["skipped"] == 8
    assert len(manifest["history"]) == 1


def test_a_sweep_killed_with_sigkill_resumes_to_the_uninterrupted_table(tmp_path):
    spec = write(tmp_path, LONG_SPEC, "long.toml")
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sweeps.cli", "sweep", str(spec), "--out", str(out)]
    command += ["--backend", "sequential", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list((out / PARTS_DIR).glob("part-*.parquet")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no part file appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / RUNS_FILE).exists(), "the sweep finished before it was killed"
    partial = load_results(out)
    total = len(plan_sweep(spec, out).tasks)
    assert 0 < len(partial) < total

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["skipped"] == len(partial)
    assert manifest["counts"]["run"] == total - len(partial)
    assert manifest["history"][0]["complete"] is False

    reference = run_sweep(spec, out=tmp_path / "whole", backend="sequential", quiet=True)
    assert len(reference) == total
    pd.testing.assert_frame_equal(without_wall(load_results(out)), without_wall(reference))


def test_a_run_recorded_twice_is_loaded_once(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    # as if killed after compacting into runs.parquet but before removing the parts
    (out / PARTS_DIR).mkdir(exist_ok=True)
    shutil.copy(out / RUNS_FILE, out / PARTS_DIR / "part-000001.parquet")
    pd.testing.assert_frame_equal(load_results(out), table)
    again = run_sweep(spec, out=out, backend="sequential", quiet=True)
    pd.testing.assert_frame_equal(again, table)
    assert not list((out / PARTS_DIR).glob("*.parquet"))


def test_loader_reads_parts_before_compaction(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    (out / PARTS_DIR).mkdir(exist_ok=True)
    for i, half in enumerate((table.iloc[:5], table.iloc[5:])):
        half.to_parquet(out / PARTS_DIR / f"part-{i + 1:06d}.parquet", index=False)
    (out / RUNS_FILE).unlink()
    pd.testing.assert_frame_equal(load_results(out), table)


def test_failed_runs_are_run_again_on_resume(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    bad = plan_sweep(spec, out).tasks[0].run_id
    first = run_sweep(spec, out=out, backend="sequential", quiet=True, _fault={bad: "raise"})
    assert (first["status"] == "failed").sum() == 1
    second = run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert (second["status"] == "ok").all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["counts"]["skipped"], manifest["counts"]["run"]) == (7, 1)


@pytest.mark.parametrize(
    ("old", "new", "changed"),
    [
        ("days = 90", "days = 120", "days"),  # every run id changes
        ("n_teams = [2, 4]", "n_teams = [2]", "grids"),  # runs would be dropped
        ('name = "small"', 'name = "other"', "name"),
    ],
)
def test_a_changed_spec_that_does_not_extend_is_refused_and_nothing_is_touched(
    tmp_path, capsys, old, new, changed
):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    spec.write_text(SPEC.replace(old, new))
    with pytest.raises(ResultsConflictError, match=rf"different spec \(changed: {changed}\)"):
        run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert main(["sweep", str(spec), "--out", str(out)]) == 2
    assert "use --fresh" in capsys.readouterr().err
    assert main(["sweep", str(spec), "--out", str(out), "--dry-run"]) == 2
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_a_spec_whose_design_contains_the_finished_one_extends_it(tmp_path, capsys):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    first = run_sweep(spec, out=out, backend="sequential", quiet=True)
    first_hash = json.loads((out / "manifest.json").read_text())["spec"]["hash"]
    bigger = SPEC.replace("replicates = 2", "replicates = 3").replace(
        "n_teams = [2, 4]", "n_teams = [2, 4, 8]"
    )
    bigger += '\n[[grid]]\ntopology = ["modular"]\nn_teams = [4]\n'
    bigger = bigger.replace("[grid]\n", "[[grid]]\n", 1)
    spec.write_text(bigger)
    assert main(["sweep", str(spec), "--out", str(out), "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "extends the folder's earlier spec (changed: grids, replicates)" in printed
    assert "already done: 8 ok, 0 failed (failed runs are tried again); to run: 13" in printed

    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert len(table) == 21  # (2 topologies × 3 N + 1 modular point) × 3 replicates
    kept = table.set_index("run_id").loc[first["run_id"]]
    pd.testing.assert_frame_equal(kept.reset_index(), first)  # wall_s too: not run again
    manifest = json.loads((out / "manifest.json").read_text())
    assert (manifest["counts"]["skipped"], manifest["counts"]["run"]) == (8, 13)
    (earlier,) = manifest["spec"]["extends"]
    assert (earlier["hash"], earlier["runs"]) == (first_hash, 8)
    assert earlier["canonical"]["replicates"] == 2
    assert manifest["spec"]["hash"] == plan_sweep(spec, out).spec.spec_hash
    assert (out / "spec.toml").read_text() == bigger
    reference = run_sweep(spec, out=tmp_path / "whole", backend="sequential", quiet=True)
    pd.testing.assert_frame_equal(without_wall(table), without_wall(reference))
    # resuming the extended sweep keeps the record of the earlier design
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    assert json.loads((out / "manifest.json").read_text())["spec"]["extends"] == [earlier]


def test_fresh_moves_the_old_folder_aside_and_starts_over(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    old = run_sweep(spec, out=out, backend="sequential", quiet=True)
    spec.write_text(SPEC.replace("n_teams = [2, 4]", "n_teams = [2]"))
    new = run_sweep(spec, out=out, backend="sequential", quiet=True, fresh=True)
    assert len(new) == 4
    (moved,) = tmp_path.glob("out.old-*")
    pd.testing.assert_frame_equal(load_results(moved), old)


def test_a_folder_that_is_not_a_results_folder_is_refused(tmp_path):
    spec = write(tmp_path, SPEC, "small.toml")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("mine")
    for fresh in (False, True):
        with pytest.raises(ResultsConflictError, match="not a results folder"):
            run_sweep(spec, out=tmp_path / "elsewhere", quiet=True, fresh=fresh)
    assert [p.name for p in (tmp_path / "elsewhere").iterdir()] == ["notes.txt"]


def test_default_folder_is_results_slash_name_in_the_working_directory(tmp_path, monkeypatch):
    spec = write(tmp_path, SPEC, "small.toml")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(spec), "--backend", "sequential", "--quiet"]) == 0
    assert len(load_results(tmp_path / "results" / "small")) == 8


def test_loading_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results folder"):
        load_results(tmp_path / "nothing")


def sweep_killed_at_write(spec: Path, out: Path, k: int, *, after: bool) -> bool:
    """Run a sequential sweep in a forked child that SIGKILLs itself at its k-th file write.

    Every file goes through one rename (``os.replace``); the child dies just before the
    k-th rename or just after it. Returns whether it was killed (False: fewer writes).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads around
        pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            real, count = os.replace, [0]

            def replace(src, dst):
                count[0] += 1
                if count[0] == k and not after:
                    os.kill(os.getpid(), signal.SIGKILL)
                real(src, dst)
                if count[0] == k and after:
                    os.kill(os.getpid(), signal.SIGKILL)

            os.replace = replace
            run_sweep(spec, out=out, backend="sequential", quiet=True, flush_seconds=0)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status)


def test_a_sweep_killed_at_any_file_write_resumes_to_the_whole_table(tmp_path):
    spec = write(tmp_path, TWO_RUNS_SPEC, "two.toml")
    reference = run_sweep(spec, out=tmp_path / "whole", backend="sequential", quiet=True)
    kill_points = 0
    for k in range(1, 100):
        for after in (False, True):
            out = tmp_path / f"killed-{k}-{after}"
            if not sweep_killed_at_write(spec, out, k, after=after):
                break
            kill_points += 1
            assert is_results_folder(out), f"write {k}: --fresh would refuse the folder"
            assert plan_sweep(spec, out).state.problem is None, f"write {k}"
            table = run_sweep(spec, out=out, backend="sequential", quiet=True)
            pd.testing.assert_frame_equal(without_wall(table), without_wall(reference))
        else:
            continue
        break
    # manifest, spec, (part + manifest) per run, runs.parquet, manifest: 8 writes
    assert kill_points == 2 * 8


def test_the_manifest_counts_what_a_killed_sweep_had_written(tmp_path):
    spec = write(tmp_path, TWO_RUNS_SPEC, "two.toml")
    out = tmp_path / "out"
    # writes: manifest, spec, part 1, manifest; killed before part 2
    assert sweep_killed_at_write(spec, out, 5, after=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] is False
    assert len(load_results(out)) == 1
    assert manifest["counts"] | {"wall_s": 0} == {
        "total": 2, "ok": 1, "failed": 0, "skipped": 0, "run": 1, "wall_s": 0
    }  # fmt: skip
    run_sweep(spec, out=out, backend="sequential", quiet=True)
    (killed,) = json.loads((out / "manifest.json").read_text())["history"]
    assert (killed["complete"], killed["counts"]["run"]) == (False, 1)


def test_a_reader_racing_a_compaction_sees_every_run(tmp_path, monkeypatch):
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    (out / RUNS_FILE).unlink()
    for i, half in enumerate((table.iloc[:5], table.iloc[5:])):
        half.to_parquet(out / PARTS_DIR / f"part-{i + 1:06d}.parquet", index=False)
    real_read = store_module.read_result_file
    compacted = []

    def compact_before_first_read(path, *args, **kwargs):
        if not compacted:  # the reader has listed the parts; a sweep now compacts them
            compacted.append(path)
            with ResultStore(out) as store:
                store.compact()
        return real_read(path, *args, **kwargs)

    monkeypatch.setattr(store_module, "read_result_file", compact_before_first_read)
    pd.testing.assert_frame_equal(load_results(out), table)
    assert compacted and compacted[0].parent.name == PARTS_DIR
    assert not list((out / PARTS_DIR).glob("*.parquet"))


def _rename_over(target: Path, sources: list[Path], stop) -> None:  # pragma: no cover
    """A compaction's last step, as often as it can: a new file renamed over ``target``."""
    i = 0
    while not stop.is_set():
        tmp = target.with_name(f".new-{i % 2}")
        shutil.copyfile(sources[i % 2], tmp)
        os.replace(tmp, target)
        i += 1


def test_a_reader_racing_renames_of_runs_parquet_reads_one_whole_file(tmp_path):
    import multiprocessing

    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    table = run_sweep(spec, out=out, backend="sequential", quiet=True)
    small, large = tmp_path / "small.parquet", tmp_path / "large.parquet"
    shutil.copyfile(out / RUNS_FILE, small)
    # a larger table of other row groups: a footer of one file read against the other's
    # bytes fails (pq.read_table opens the file twice)
    big = pd.concat([table] * 40, ignore_index=True)
    big["run_id"] = [f"{i:06d}" for i in range(len(big))]
    pq.write_table(pa.Table.from_pandas(big, preserve_index=False), large, row_group_size=37)
    stop = multiprocessing.get_context("fork").Event()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads around
        writer = multiprocessing.get_context("fork").Process(
            target=_rename_over, args=(out / RUNS_FILE, [small, large], stop)
        )
        writer.start()
    errors, sizes = [], set()
    try:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:
            try:
                sizes.add(len(load_results(out, ["run_id", "status", "n_teams"])))
            except OSError as err:
                errors.append(err)
    finally:
        stop.set()
        writer.join()
    assert errors == []
    assert sizes == {len(table), len(big)}


def test_two_sweeps_of_one_folder_in_one_process(tmp_path):
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)  # so that this sweep forks its own workers
    spec = write(tmp_path, SPEC, "small.toml")
    out = tmp_path / "out"
    first = run_sweep(spec, out=out, backend="loky", jobs=2, quiet=True)
    assert len(first) == 8
    # the workers forked for the first sweep live on (for reuse) and must not hold the lock
    spec.write_text(SPEC.replace("replicates = 2", "replicates = 3"))
    second = run_sweep(spec, out=out, backend="loky", jobs=2, quiet=True)
    assert len(second) == 12 and (second["status"] == "ok").all()


def test_a_sweep_right_after_a_sigkilled_one_takes_over_its_folder(tmp_path):
    spec = write(tmp_path, LONG_SPEC, "long.toml")
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "sweeps.cli", "sweep", str(spec), "--out", str(out)]
    command += ["--backend", "loky", "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list((out / PARTS_DIR).glob("part-*.parquet")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no part file appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / RUNS_FILE).exists(), "the sweep finished before it was killed"
    # at once, while the killed sweep's orphaned workers may still be finishing their runs
    table = run_sweep(spec, out=out, backend="loky", jobs=2, quiet=True)
    assert len(table) == len(plan_sweep(spec, out).tasks)
    assert (table["status"] == "ok").all()


def test_a_results_path_that_is_not_utf8_is_refused_before_anything_is_written(tmp_path, capsys):
    spec = write(tmp_path, TWO_RUNS_SPEC, "two.toml")
    out = tmp_path / os.fsdecode(b"out\xff")
    assert main(["sweep", str(spec), "--out", str(out), "--backend", "sequential"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "must be valid UTF-8" in line
    assert not out.exists()
