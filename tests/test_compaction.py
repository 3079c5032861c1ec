"""Streaming compaction gives the table the whole-table merge gave; counts read two columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sweeps.store as store
from sweeps import load_results, run_sweep
from sweeps.store import PARTS_DIR, RUNS_FILE, ResultStore, count_results

SPEC = """\
name = "small"
root_seed = 5
replicates = 3
days = 40

[fixed]
warmup_days = 10
contributors_per_team = 4

[grid]
topology = ["flat", "hierarchical"]
n_teams = [2, 4]
"""


def whole_table_merge(files: list[Path]) -> pd.DataFrame:
    """The compaction as it was: every file read at once, deduplicated with pandas."""
    table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive")
    keys = pd.DataFrame(
        {
            "run_id": table.column("run_id").to_numpy(zero_copy_only=False),
            "ok": np.asarray(table.column("status").to_numpy(zero_copy_only=False)) == "ok",
            "order": np.arange(table.num_rows),
        }
    )
    keep = keys.sort_values(["run_id", "ok", "order"], kind="stable").drop_duplicates(
        "run_id", keep="last"
    )
    return table.take(pa.array(keep["order"].to_numpy())).to_pandas()


@pytest.fixture
def table(tmp_path) -> pd.DataFrame:
    spec = tmp_path / "small.toml"
    spec.write_text(SPEC)
    return run_sweep(spec, out=tmp_path / "source", backend="sequential", quiet=True)


def messy_folder(out: Path, table: pd.DataFrame) -> list[Path]:
    """runs.parquet in small row groups, then parts in random order with duplicates."""
    rng = np.random.default_rng(3)
    (out / PARTS_DIR).mkdir(parents=True)
    half = table.iloc[: len(table) // 2]
    pq.write_table(
        pa.Table.from_pandas(half, preserve_index=False), out / RUNS_FILE, row_group_size=2
    )
    rest = table.iloc[rng.permutation(len(table))]
    failed = rest.iloc[:4].assign(status="failed", error="RuntimeError: x", wall_s=-1.0)
    later_ok = rest.iloc[4:6].assign(wall_s=-2.0)  # an ok row recorded again: the latest wins
    pieces = [rest.iloc[:5], failed, rest.iloc[5:9], later_ok, rest.iloc[9:]]
    for i, piece in enumerate(pieces):
        path = out / PARTS_DIR / f"part-{i + 1:06d}.parquet"
        if i == 2:  # written by pandas (schema metadata of its own), as older versions did
            piece.to_parquet(path, index=False)
        else:
            pq.write_table(pa.Table.from_pandas(piece, preserve_index=False), path)
    return store._result_files(out)


@pytest.mark.parametrize("chunk", [3, 7, 4096])
def test_streaming_compaction_gives_the_whole_table_merge(tmp_path, table, monkeypatch, chunk):
    monkeypatch.setattr(store, "COMPACT_CHUNK_ROWS", chunk)
    monkeypatch.setattr(store, "COMPACT_MAX_CHUNKS", 1000)
    out = tmp_path / "out"
    files = messy_folder(out, table)
    expected = whole_table_merge(files)
    assert len(expected) == len(table)
    assert (expected["wall_s"] == -2.0).sum() == 2
    with ResultStore(out) as writer:
        writer.compact()
    assert not list((out / PARTS_DIR).glob("*.parquet"))
    written = pq.read_table(out / RUNS_FILE)
    pd.testing.assert_frame_equal(written.to_pandas(), expected)
    assert pq.ParquetFile(out / RUNS_FILE).num_row_groups == -(-len(table) // chunk)
    pd.testing.assert_frame_equal(load_results(out), expected)
    # a second compaction, reading runs.parquet a row group at a time, changes nothing
    pq.write_table(written.slice(0, 3), out / PARTS_DIR / "part-000009.parquet")
    with ResultStore(out) as writer:
        writer.compact()
    pd.testing.assert_frame_equal(pq.read_table(out / RUNS_FILE).to_pandas(), expected)


def test_counts_and_selected_columns(tmp_path, table):
    out = tmp_path / "out"
    messy_folder(out, table)
    loaded = load_results(out)
    ok = int((loaded["status"] == "ok").sum())
    assert count_results(out) == {"ok": ok, "failed": len(loaded) - ok}
    some = set(loaded["run_id"][:5])
    assert sum(count_results(out, some).values()) == 5
    pd.testing.assert_frame_equal(
        load_results(out, ["status", "run_id"]), loaded[["status", "run_id"]]
    )


def test_run_sweep_returns_only_the_columns_asked_for(tmp_path, table):
    spec = tmp_path / "small.toml"
    again = run_sweep(spec, out=tmp_path / "source", quiet=True, columns=["status", "wall_s"])
    pd.testing.assert_frame_equal(again, table[["status", "wall_s"]])
    manifest = pd.read_json(tmp_path / "source" / "manifest.json", typ="series")
    assert manifest["counts"]["ok"] == len(table)
