"""Dask runs very short runs several to a task; a dead worker still costs only its run."""

from __future__ import annotations

import pandas as pd
import pytest

import sweeps.backends as backends
from sweeps import plan_sweep, run_sweep
from sweeps.backends import _chunk_size

SPEC = """\
name = "tiny"
root_seed = 3
replicates = 5
days = 40

[fixed]
warmup_days = 10
contributors_per_team = 4

[grid]
topology = ["single_core", "flat"]
n_teams = [1, 2]
"""


def test_chunks_hold_about_a_fifth_of_a_second_of_runs_and_a_fair_share():
    assert _chunk_size(0.0, 0, 5000, 2) == 1  # nothing timed yet: one run a task
    assert _chunk_size(1.0, 1000, 5000, 2) == 200  # 1 ms a run: 0.2 s of work
    assert _chunk_size(1.0, 1000, 400, 2) == 100  # no more than left / (2 × workers)
    assert _chunk_size(1.0, 1000, 3, 2) == 1
    assert _chunk_size(5.0, 1, 5000, 2) == 1  # long runs: one a task
    assert _chunk_size(0.0, 10, 10**6, 2) == backends.DASK_MAX_CHUNK


@pytest.mark.parametrize("chunk", [1, 5])
def test_a_killed_dask_worker_costs_only_its_run(tmp_path, monkeypatch, chunk):
    spec = tmp_path / "tiny.toml"
    spec.write_text(SPEC)
    ids = sorted(t.run_id for t in plan_sweep(spec, tmp_path / "unused").tasks)
    killer = ids[11]

    monkeypatch.setattr(backends, "_chunk_size", lambda *_: chunk)
    logged: list[str] = []
    table = run_sweep(
        spec,
        out=tmp_path / "out",
        backend="dask",
        jobs=2,
        quiet=True,
        log=logged.append,
        _fault={killer: "kill"},
    )
    by_id = table.set_index("run_id")
    assert by_id.loc[killer, "status"] == "failed"
    assert "worker process died" in by_id.loc[killer, "error"]
    assert (by_id.drop(index=[killer])["status"] == "ok").all()
    if chunk > 1:
        assert any("runs together; they go back one per task" in line for line in logged)
    assert any(f"run {killer} will be retried" in line for line in logged)
    reference = run_sweep(spec, out=tmp_path / "ref", backend="sequential", quiet=True)
    pd.testing.assert_frame_equal(
        by_id.drop(index=[killer]).drop(columns="wall_s"),
        reference.set_index("run_id").drop(index=[killer]).drop(columns="wall_s"),
    )
