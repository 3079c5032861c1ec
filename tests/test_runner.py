"""The runner: one table whatever the backend, and failures that stay local to their run."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sweeps.backends as backends
from model import METRICS
from sweeps import load_results, plan_sweep, run_one, run_sweep
from sweeps.backends import DASK_START_ENV, dask_start_method
from sweeps.cli import main
from sweeps.commands import sweep as sweep_command
from sweeps.runner import LOKY_START_ENV, loky_start_method, row_params

# Far above a tiny run's wall time (~0.01 s), so only the hanging run reaches it.
TIMEOUT_S = 2.0

SPEC = """\
name = "tiny"
root_seed = 3
replicates = 2
days = 90

[fixed]
warmup_days = 30
contributors_per_team = 4

[[grid]]
topology = ["single_core", "flat", "hierarchical"]
n_teams = [1, 4]

[[grid]]
topology = ["modular"]
n_teams = [8]
locality = [0.0, 1.0]
ci_automation = [false, true]
"""


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC)
    return path


def sorted_ids(spec_path: Path) -> list[str]:
    return sorted(t.run_id for t in plan_sweep(spec_path, "unused").tasks)


def test_sequential_loky_and_dask_give_identical_tables(spec_path, tmp_path):
    tables = {
        name: run_sweep(spec_path, out=tmp_path / name, backend=backend, jobs=jobs, quiet=True)
        for name, backend, jobs in [
            ("sequential", "sequential", None),
            ("loky2", "loky", 2),
            ("dask2", "dask", 2),
        ]
    }
    reference = tables["sequential"]
    assert len(reference) == 20
    assert (reference["status"] == "ok").all()
    assert list(reference["run_id"]) == sorted(reference["run_id"])
    for name, table in tables.items():
        pd.testing.assert_frame_equal(
            table.drop(columns="wall_s"), reference.drop(columns="wall_s"), obj=name
        )
        pd.testing.assert_frame_equal(table, load_results(tmp_path / name))


def test_a_row_replays_with_run_one(spec_path, tmp_path):
    table = run_sweep(spec_path, out=tmp_path / "out", backend="sequential", quiet=True)
    row = table.iloc[5]
    replay = run_one(row_params(row), int(row["seed"]), float(row["days"]))
    assert replay == pytest.approx({m: row[m] for m in METRICS}, nan_ok=True)


def test_a_run_that_raises_becomes_a_failed_row_and_the_others_finish(spec_path, tmp_path):
    bad = sorted_ids(spec_path)[3]
    table = run_sweep(
        spec_path, out=tmp_path / "out", backend="sequential", quiet=True, _fault={bad: "raise"}
    )
    assert len(table) == 20
    failed = table[table["status"] == "failed"]
    assert list(failed["run_id"]) == [bad]
    assert failed["error"].iloc[0] == f"RuntimeError: injected fault in run {bad}"
    assert all(math.isnan(failed[m].iloc[0]) for m in METRICS)
    assert table.loc[table["status"] == "ok", "error"].isna().all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"] | {"wall_s": 0} == {
        "total": 20, "ok": 19, "failed": 1, "skipped": 0, "run": 20, "wall_s": 0
    }  # fmt: skip


def test_a_killed_worker_is_survived_and_only_its_run_is_retried_alone(
    spec_path, tmp_path, monkeypatch
):
    ids = sorted_ids(spec_path)
    killer, raiser = ids[7], ids[2]
    logged: list[str] = []
    retried_alone: list[str] = []
    retry_alone = backends._retry_alone

    def recording_retry_alone(task, *args):
        retried_alone.append(task.run_id)
        return retry_alone(task, *args)

    monkeypatch.setattr(backends, "_retry_alone", recording_retry_alone)
    table = run_sweep(
        spec_path,
        out=tmp_path / "out",
        backend="loky",
        jobs=2,
        quiet=True,
        log=logged.append,
        _fault={killer: "kill", raiser: "raise"},
    )
    assert len(table) == 20
    by_id = table.set_index("run_id")
    assert by_id.loc[killer, "status"] == "failed"
    assert "worker process died running this run, twice" in by_id.loc[killer, "error"]
    assert by_id.loc[raiser, "error"].startswith("RuntimeError")
    assert (by_id.drop(index=[killer, raiser])["status"] == "ok").all()
    assert any("TerminatedWorkerError" in line for line in logged)
    # the other run in flight when the worker died ran again in the pool, not alone
    assert retried_alone == [killer]
    assert any(f"running {killer}: retried alone" in line for line in logged)
    reference = run_sweep(spec_path, out=tmp_path / "ref", backend="sequential", quiet=True)
    ok = by_id.drop(index=[killer, raiser]).drop(columns="wall_s")
    expected = reference.set_index("run_id").drop(index=[killer, raiser]).drop(columns="wall_s")
    pd.testing.assert_frame_equal(ok, expected)


def test_sweep_command_reports_failures_and_exits_1(spec_path, tmp_path, monkeypatch, capsys):
    bad = plan_sweep(spec_path, "unused").tasks[0]
    assert bad.replicate == 0

    def with_fault(*args, **kwargs):
        return run_sweep(*args, **kwargs, _fault={bad.run_id: "raise"})

    monkeypatch.setattr(sweep_command, "run_sweep", with_fault)
    out = tmp_path / "out"
    status = main(
        ["sweep", str(spec_path), "--out", str(out), "--backend", "sequential", "--quiet"]
    )
    assert status == 1
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert "20 runs, 19 ok, 1 failed" in printed.out
    assert f"failed {bad.run_id} (replicate 0): RuntimeError: injected fault" in printed.out


def test_sweep_command_dry_run_counts_runs_and_what_is_done(spec_path, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(spec_path), "--out", str(out), "--dry-run"]) == 0
    assert "sweep tiny: 20 runs (10 parameter points × 2 replicates" in capsys.readouterr().out
    assert not out.exists()
    assert main(["sweep", str(spec_path), "--out", str(out), "--backend", "sequential"]) == 0
    capsys.readouterr()
    assert main(["sweep", str(spec_path), "--out", str(out), "--dry-run"]) == 0
    assert "already done: 20 ok, 0 failed" in capsys.readouterr().out


def test_scheduler_without_dask_backend_is_bad_input(spec_path, tmp_path, capsys):
    args = ["sweep", str(spec_path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]
    assert main(args) == 2
    assert "--scheduler needs --backend dask" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


PATCHED_SWEEP = """\
import json, sys
from pathlib import Path
import sweeps.one_run as one_run
import sweeps.runner as runner
one_run.run_one = lambda params, seed, days: {name: 7.0 for name in one_run.METRICS}
table = runner.run_sweep(sys.argv[1], out=sys.argv[2], backend="loky", jobs=2, quiet=True)
manifest = json.loads((Path(sys.argv[2]) / "manifest.json").read_text())
values = sorted(set(table["lead_time_mean"]))
print(json.dumps({"values": values, "start": manifest["loky_start_method"]}))
"""


def run_python(
    args: list[str],
    env_var: str,
    value: str | None,
    *,
    unset: tuple[str, ...] = (),
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run Python with ``args`` in a new process (so no earlier worker pool is reused), with
    the variable ``env_var`` set to ``value`` (unset for None) and the variables ``unset``
    removed; its output captured as text."""
    env = {k: v for k, v in os.environ.items() if k != env_var and k not in unset}
    if value:
        env[env_var] = value
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, check=check, timeout=300
    )


def run_patched_sweep(script, env_var, override, spec_path, out):
    """Run ``script`` with the start-method variable ``env_var`` set to ``override`` or
    unset (:func:`run_python`); its stderr and report."""
    done = run_python(["-c", script, str(spec_path), str(out)], env_var, override)
    return done.stderr, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
@pytest.mark.parametrize("override", [None, "loky"])
def test_loky_workers_are_forked_from_the_sweep_process_on_linux(spec_path, tmp_path, override):
    # A forked worker runs the sweep process's (here patched) run_one; a fresh interpreter
    # imports the real one.
    stderr, report = run_patched_sweep(
        PATCHED_SWEEP, LOKY_START_ENV, override, spec_path, tmp_path / "out"
    )
    # forking a process with threads warns (Python and loky); those warnings are silenced
    assert "Warning" not in stderr and "Traceback" not in stderr
    assert report["start"] == (override or "fork")
    if override is None:
        assert report["values"] == [7.0]
    else:
        assert 7.0 not in report["values"] and len(report["values"]) > 1


PATCHED_DASK_SWEEP = PATCHED_SWEEP.replace('backend="loky"', 'backend="dask"').replace(
    'manifest["loky_start_method"]', 'manifest["dask"]["start_method"]'
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is Linux's")
@pytest.mark.parametrize("override", [None, "spawn", "fork"])
def test_dask_local_workers_come_from_a_forkserver_unless_told_otherwise(
    spec_path, tmp_path, override
):
    # Only a worker forked from the sweep process itself (the opt-in) has its (here
    # patched) run_one; a forkserver's or a spawned worker imports the real one.
    script = "if __name__ == '__main__':\n" + "".join(
        "    " + line + "\n" for line in PATCHED_DASK_SWEEP.splitlines()
    )
    stderr, report = run_patched_sweep(
        script, DASK_START_ENV, override, spec_path, tmp_path / "out"
    )
    assert "Traceback" not in stderr and "multi-threaded" not in stderr
    assert report["start"] == (override or "forkserver")
    if override == "fork":
        assert report["values"] == [7.0]
    else:
        assert 7.0 not in report["values"] and len(report["values"]) > 1


def last_line_of(script: str, dask_start: str, *, unset: tuple[str, ...] = ()) -> str:
    """The last line ``script`` prints, run by :func:`run_python` with
    ``ORGSCALE_DASK_START=dask_start`` and the variables ``unset`` removed."""
    done = run_python(["-c", script], DASK_START_ENV, dask_start, unset=unset)
    return done.stdout.strip().splitlines()[-1]


MODEL_IN_A_FORKED_CHILD = """\
import multiprocessing
from sweeps.backends import prestart_local_workers
if __name__ == "__main__":
    prestart_local_workers()
    with multiprocessing.get_context("forkserver").Pool(1) as pool:
        print(pool.apply(eval, ("'model.model' in __import__('sys').modules",)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forkserver is Linux's")
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_the_forkserver_has_the_model_imported_before_it_forks_a_worker(method):
    # With Dask's workers to come from the forkserver, it is started with the model
    # preloaded: a process it forks has the model before running anything. Otherwise it is
    # left alone (multiprocessing's default forkserver imports nothing of ours).
    assert last_line_of(MODEL_IN_A_FORKED_CHILD, method) == str(method == "forkserver")


WORKERS_OF_A_LOCAL_CLUSTER = """\
import json, os
from multiprocessing import forkserver
import threadpoolctl
from sweeps.backends import dask_client

def probe():
    info = threadpoolctl.threadpool_info()
    blas = [lib["num_threads"] for lib in info if lib["internal_api"] == "openblas"]
    return {"parent": os.getppid(), "blas": blas, "hash_seed": os.environ.get("PYTHONHASHSEED")}

if __name__ == "__main__":
    with dask_client(2, None) as cluster:
        workers = list(cluster.client.run(probe).values())
    server = forkserver._forkserver._forkserver_pid
    print(json.dumps({"me": os.getpid(), "forkserver": server, "workers": workers}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forkserver is Linux's")
@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_local_workers_come_from_where_they_should_set_up_as_dask_sets_them_up(method):
    # Forkserver: every worker is the forkserver's child, not the sweep process's; and as
    # with spawn, numpy's BLAS has the one thread Dask asks for (its pre-spawn environment:
    # OPENBLAS_NUM_THREADS=1 and the rest), and Dask's hash seed holds.
    unset = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "PYTHONHASHSEED")
    report = json.loads(last_line_of(WORKERS_OF_A_LOCAL_CLUSTER, method, unset=unset))
    parent = report["forkserver"] if method == "forkserver" else report["me"]
    assert parent is not None
    assert [w["parent"] for w in report["workers"]] == [parent, parent]
    for worker in report["workers"]:
        assert worker["blas"] and set(worker["blas"]) == {1}
        assert worker["hash_seed"] == "6640"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forkserver is Linux's")
def test_a_script_without_a_main_guard_is_told_why_dask_workers_do_not_start(spec_path, tmp_path):
    # Dask's local workers import the main module: unguarded, it starts a sweep of its own
    # there. The sweep stops with the reason, before writing anything.
    script = tmp_path / "unguarded.py"
    out = tmp_path / "out"
    script.write_text(
        "from sweeps import run_sweep\n"
        f"run_sweep({str(spec_path)!r}, out={str(out)!r}, backend='dask', jobs=1, quiet=True)\n"
    )
    done = run_python([str(script)], DASK_START_ENV, None, check=False)  # the default start
    assert done.returncode != 0
    assert 'must do so under `if __name__ == "__main__":`' in done.stderr
    assert not out.exists()


def test_a_bad_dask_start_method_is_refused(monkeypatch):
    monkeypatch.setenv(DASK_START_ENV, "threads")
    with pytest.raises(ValueError, match="ORGSCALE_DASK_START='threads' is invalid"):
        dask_start_method()


def test_a_bad_start_method_is_refused_before_anything_is_written(
    spec_path, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv(LOKY_START_ENV, "threads")
    with pytest.raises(ValueError, match="ORGSCALE_LOKY_START='threads' is invalid"):
        loky_start_method()
    out = tmp_path / "out"
    assert main(["sweep", str(spec_path), "--out", str(out), "--jobs", "2", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert "ORGSCALE_LOKY_START='threads' is invalid: must be one of fork" in error
    assert not out.exists()
    # the other backends do not use it
    table = run_sweep(spec_path, out=out, backend="sequential", quiet=True)
    assert (table["status"] == "ok").all()


def test_loky_start_method_is_restored_after_the_sweep(spec_path, tmp_path):
    from joblib.externals.loky.backend import context

    before = context.get_start_method()
    assert before != loky_start_method()
    table = run_sweep(spec_path, out=tmp_path / "out", backend="loky", jobs=2, quiet=True)
    assert (table["status"] == "ok").all()
    assert context.get_start_method() == before


@pytest.mark.parametrize("backend", ["sequential", "loky", "dask"])
def test_a_run_past_its_time_limit_fails_with_reason_timeout_and_the_others_finish(
    spec_path, tmp_path, backend
):
    hanging = sorted_ids(spec_path)[4]
    out = tmp_path / "out"
    table = run_sweep(
        spec_path,
        out=out,
        backend=backend,
        jobs=None if backend == "sequential" else 2,
        quiet=True,
        timeout_s=TIMEOUT_S,
        _fault={hanging: "hang"},
    )
    assert len(table) == 20
    failed = table[table["status"] == "failed"]
    assert list(failed["run_id"]) == [hanging]
    assert failed["error"].iloc[0].startswith("timeout: still running after 2 s")
    assert failed["wall_s"].iloc[0] >= TIMEOUT_S
    assert json.loads((out / "manifest.json").read_text())["timeout_s"] == TIMEOUT_S


def test_the_time_limit_comes_from_the_spec_or_the_timeout_option(
    spec_path, tmp_path, monkeypatch, capsys
):
    hanging = sorted_ids(spec_path)[0]
    spec_path.write_text(SPEC + "\n[run]\ntimeout_s = 600\n")
    assert plan_sweep(spec_path, "unused").spec.timeout_s == 600
    seen = []

    def with_hang(*args, **kwargs):
        seen.append(kwargs["timeout_s"])
        return run_sweep(*args, **kwargs, _fault={hanging: "hang"})

    monkeypatch.setattr(sweep_command, "run_sweep", with_hang)
    out = tmp_path / "out"
    args = ["sweep", str(spec_path), "--out", str(out), "--backend", "sequential", "--quiet"]
    assert main([*args, "--timeout", "2"]) == 1  # the option overrides the spec's 600 s
    assert seen == [2.0]
    assert "failed" in capsys.readouterr().out
    row = load_results(out).set_index("run_id").loc[hanging]
    assert row["error"].startswith("timeout:")
    with pytest.raises(SystemExit) as exit_status:
        main([*args, "--timeout", "0"])
    assert exit_status.value.code == 2
    assert "--timeout: '0' is invalid: expected a number of seconds > 0" in capsys.readouterr().err


def test_the_spec_time_limit_applies_without_the_option(spec_path, tmp_path):
    hanging = sorted_ids(spec_path)[0]
    spec_path.write_text(SPEC + f"\n[run]\ntimeout_s = {TIMEOUT_S}\n")
    out = tmp_path / "out"
    table = run_sweep(
        spec_path, out=out, backend="sequential", quiet=True, _fault={hanging: "hang"}
    )
    assert table.set_index("run_id").loc[hanging, "error"].startswith("timeout:")
    # the time limit is not part of the spec's identity: a new limit resumes the folder
    spec_path.write_text(SPEC + "\n[run]\ntimeout_s = 600\n")
    again = run_sweep(spec_path, out=out, backend="sequential", quiet=True)
    assert (again["status"] == "ok").all()


@pytest.fixture
def dask_scheduler():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


def test_an_existing_dask_scheduler_is_checked_and_its_workers_recorded(
    spec_path, tmp_path, dask_scheduler
):
    out = tmp_path / "out"
    table = run_sweep(spec_path, out=out, backend="dask", scheduler=dask_scheduler, quiet=True)
    assert (table["status"] == "ok").all() and len(table) == 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scheduler"] == dask_scheduler
    assert manifest["dask"]["allowed_failures"] == 3  # the scheduler's own (dask's default)
    (worker,) = manifest["dask"]["workers"].values()
    assert worker["packages"]["mesa"] == manifest["packages"]["mesa"]
    assert {"git", "python", "platform", "host"} <= set(worker)


def test_a_scheduler_without_workers_is_waited_for_and_said_so(spec_path, tmp_path, monkeypatch):
    import threading

    from distributed import LocalCluster

    monkeypatch.setattr(backends, "WORKER_WAIT_SECONDS", 0.5)
    said, done = [], {}
    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:

        def log(message: str) -> None:
            said.append(message)
            if message.startswith("no Dask worker"):
                cluster.scale(1)  # the user starts a worker

        def sweep() -> None:
            done["table"] = run_sweep(
                spec_path, out=tmp_path / "out", backend="dask",
                scheduler=cluster.scheduler_address, log=log,
            )  # fmt: skip

        thread = threading.Thread(target=sweep, daemon=True)
        thread.start()
        thread.join(60)
    assert said and said[0].startswith(
        f"no Dask worker has joined the scheduler at {cluster.scheduler_address} after 0.5 s"
    )
    assert len(done["table"]) == 20


LONG_SPEC = """\
name = "long"
root_seed = 7
replicates = 8
days = 400

[fixed]
warmup_days = 30

[[grid]]
topology = ["flat", "hierarchical", "modular"]
n_teams = [8, 16]
"""


def test_ctrl_c_on_a_local_dask_sweep_is_one_line_and_exit_130(tmp_path):
    import signal
    import time

    spec = tmp_path / "long.toml"
    spec.write_text(LONG_SPEC)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sweeps.cli", "sweep", str(spec), "--out", str(out)]
    command += ["--backend", "dask", "--jobs", "2", "--quiet"]
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list((out / "parts").glob("part-*.parquet")):  # the workers are running
            assert proc.poll() is None and time.monotonic() < deadline, "no runs finished"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C on a terminal: the whole process group
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert stderr.strip().splitlines() == [
        "orgscale sweep: interrupted; finished runs are saved, run the same command to resume"
    ]


def test_a_dask_sweep_leaves_the_callers_environment_as_it_was(spec_path, tmp_path):
    before = dict(os.environ)
    run_sweep(spec_path, out=tmp_path / "out", backend="dask", jobs=2, quiet=True)
    assert dict(os.environ) == before  # no PYTHONHASHSEED, one-thread BLAS, ... left behind
