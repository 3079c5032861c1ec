"""Reading Gerrit and GitHub exports and model logs into the event log.

The fixtures under tests/data are a few hand-written changes with known events:
``gerrit_changes.jsonl`` (ChangeInfo lines behind Gerrit's ``)]}'`` prefix; origin 2013-11-14)
and ``github_pulls.json`` (a JSON array of pull requests; origin 2021-03-01).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from model.eventlog import make_table, write_events
from observe.sources import ObserveError, read_source

DATA = Path(__file__).parent / "data"
GERRIT = DATA / "gerrit_changes.jsonl"
GITHUB = DATA / "github_pulls.json"


def hours(d: float, h: float = 0.0, m: float = 0.0, s: float = 0.0) -> float:
    """Days since the origin."""
    return d + h / 24 + m / 1440 + s / 86400


def change_events(history, change: int) -> list[tuple[str, float, str, str]]:
    """(kind, time, actor, detail) of one change's events, in time order."""
    table = history.table.to_pandas()
    rows = table[table.change == change]
    return [
        (kind, round(time, 6), actor, detail)
        for kind, time, actor, detail in zip(
            rows.kind, rows.time, rows.actor, rows.detail, strict=True
        )
    ]


def expected(*events: tuple[str, float, str, str]) -> list[tuple[str, float, str, str]]:
    return [(kind, round(time, 6), actor, detail) for kind, time, actor, detail in events]


# --- Gerrit ------------------------------------------------------------------------------


def test_gerrit_merged_change_has_patch_sets_checks_votes_approval_and_landing():
    history = read_source(GERRIT)
    assert history.workflow == "gerrit-export"
    assert history.origin == "2013-11-14"
    assert history.commit == hashlib.sha256(GERRIT.read_bytes()).hexdigest()
    assert change_events(history, 101) == expected(
        ("created", hours(0, 10, 20, 30), "alice@example.org", ""),
        ("check", hours(0, 11), "", "fail"),  # Zuul's Verified-1
        ("review_finished", hours(0, 15), "bob@example.org", "-1"),
        ("patch_set", hours(1, 9), "alice@example.org", ""),
        ("check", hours(1, 10), "", "pass"),
        ("review_finished", hours(1, 16), "carol@example.org", "+2"),
        ("review_finished", hours(2, 8), "dave@example.org", "+2"),
        ("approved", hours(2, 8), "dave@example.org", ""),  # the Workflow+1
        ("gate", hours(2, 11, 59), "", "pass"),  # Verified+2 in the gate pipeline
        ("landed", hours(2, 12), "", ""),
    )


def test_gerrit_abandoned_by_owner_is_author_by_another_rejected_and_ci_told_by_name_or_tag():
    history = read_source(GERRIT)
    assert change_events(history, 102) == expected(
        ("created", hours(1, 8), "bob@example.org", ""),
        ("check", hours(1, 8, 30), "", "fail"),  # a CI account known by its name only
        ("review_finished", hours(1, 12), "carol@example.org", "-2"),
        ("abandoned", hours(3, 9), "bob@example.org", "author"),
    )
    assert change_events(history, 103) == expected(
        ("created", hours(2), "erin@example.org", ""),
        ("check", hours(2, 1), "", "pass"),  # an account known by its id only: Zuul's tag
        ("review_finished", hours(2, 6), "carol@example.org", "-1"),  # Gerrit 2 wording
        ("abandoned", hours(6), "dave@example.org", "rejected"),
    )
    assert change_events(history, 104) == expected(("created", hours(17), "alice@example.org", ""))


def test_gerrit_area_from_revision_files_without_commit_message():
    history = read_source(GERRIT, areas_depth=2)
    table = history.table.to_pandas()
    created = table[table.kind == "created"].set_index("change").area
    assert created[101] == "nova/compute"  # 2 of its 3 files
    assert created[102] == ""  # no files exported
    touched = table[table.kind == "touched"]
    assert list(zip(touched.change, touched.area, strict=True)) == [(101, "nova/api")]


def test_gerrit_window_keeps_changes_created_in_it():
    history = read_source(GERRIT, since=dt.date(2013, 11, 15), until=dt.date(2013, 11, 17))
    table = history.table.to_pandas()
    assert sorted(set(table.change)) == [102, 103]
    assert history.origin == "2013-11-15"
    abandoned = table[table.kind == "abandoned"].time.tolist()
    assert abandoned == pytest.approx([hours(2, 9), hours(5)])


def test_gerrit_without_prefix_line_and_with_changes_in_an_array(tmp_path):
    lines = GERRIT.read_text().splitlines()[1:]
    export = tmp_path / "changes.json"
    export.write_text("[\n" + ",\n".join(lines) + "\n]\n")  # an array over several lines
    from_array = read_source(export)
    assert from_array.table.equals(read_source(GERRIT).table)


def test_malformed_export_line_is_named_by_its_number(tmp_path):
    lines = GERRIT.read_text().splitlines()
    lines[2] = lines[2][:40]  # cut the second change short
    export = tmp_path / "broken.jsonl"
    export.write_text("\n".join(lines) + "\n")
    with pytest.raises(ObserveError, match=r"broken.jsonl: line 3: malformed JSON"):
        read_source(export)


def test_change_without_created_time_is_named(tmp_path):
    export = tmp_path / "changes.jsonl"
    export.write_text(json.dumps({"_number": 1, "created": "2013-01-01 00:00:00.000000000"}) + "\n")
    with export.open("a") as handle:
        handle.write(json.dumps({"_number": 2, "created": "yesterday"}) + "\n")
    with pytest.raises(ObserveError, match=r"line 2: bad time 'yesterday'"):
        read_source(export)


# --- GitHub ------------------------------------------------------------------------------


def test_github_merged_pull_request_has_pushes_reviews_approval_and_landing():
    history = read_source(GITHUB)
    assert history.workflow == "github-export"
    assert history.origin == "2021-03-01"
    assert change_events(history, 1) == expected(
        ("created", hours(0, 10), "alice", ""),
        ("review_finished", hours(0, 12), "bob", "0"),
        ("review_finished", hours(0, 18), "carol", "-1"),  # the bot's approval is skipped
        ("patch_set", hours(1, 8), "alice", ""),  # force-push
        ("patch_set", hours(1, 9), "alice", ""),  # a commit after the PR was opened
        ("review_finished", hours(1, 12), "carol", "+2"),
        ("approved", hours(1, 12), "carol", ""),  # the first APPROVED
        ("review_finished", hours(1, 18), "bob", "+2"),
        ("landed", hours(2, 10), "", ""),
    )


def test_github_closed_unmerged_is_abandoned_by_author_rejected_or_unknown():
    history = read_source(GITHUB)
    assert change_events(history, 2)[-1] == expected(("abandoned", hours(3), "bob", "author"))[0]
    assert (
        change_events(history, 3)[-1]
        == expected(("abandoned", hours(5, 12), "alice", "rejected"))[0]
    )
    assert change_events(history, 4)[-1] == expected(("abandoned", hours(6), "", ""))[0]
    assert change_events(history, 5) == expected(("created", hours(9), "frank", ""))
    assert any("without a known closer" in note for note in history.notes)


def test_github_json_lines_read_like_the_array_and_files_give_areas(tmp_path):
    export = tmp_path / "pulls.jsonl"
    export.write_text("".join(json.dumps(pr) + "\n" for pr in json.loads(GITHUB.read_text())))
    assert read_source(export).table.equals(read_source(GITHUB).table)
    table = read_source(GITHUB, areas_depth=1).table.to_pandas()
    created = table[table.kind == "created"].set_index("change").area
    assert (created[1], created[2], created[3]) == ("src", "src", "")


def test_object_of_the_wrong_shape_is_named_by_its_line(tmp_path):
    export = tmp_path / "pulls.jsonl"
    good = {"number": 1, "created_at": "2021-03-01T10:00:00Z", "user": {"login": "a"}}
    bad = {**good, "number": 2, "reviews": ["APPROVED"]}  # reviews are objects, not strings
    export.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(ObserveError, match=r"pulls.jsonl: line 2: malformed object"):
        read_source(export)


def test_export_empty_window_names_the_span_of_the_export():
    with pytest.raises(ObserveError, match=r"empty window.*5 changes created, 2021-03-01 to"):
        read_source(GITHUB, since=dt.date(2022, 1, 1))


def test_json_of_something_else_is_refused(tmp_path):
    export = tmp_path / "issues.json"
    export.write_text(json.dumps([{"id": 1, "title": "bug"}]))
    with pytest.raises(ObserveError, match="neither a Gerrit ChangeInfo"):
        read_source(export)


# --- model logs --------------------------------------------------------------------------


def test_model_event_log_is_read_as_it_is(tmp_path):
    columns = {
        "time": [0.0, 1.5],
        "kind": ["created", "landed"],
        "change": [1, 1],
        "area": ["0", "0"],
        "team": ["1", ""],
        "actor": ["3", ""],
        "detail": ["", ""],
    }
    log = tmp_path / "events.parquet"
    write_events(make_table(columns, source="orgscale model"), log)
    history = read_source(log)
    assert history.workflow == "model"
    assert history.commit is None
    assert history.table.column("time").to_pylist() == [0.0, 1.5]


def test_missing_source_is_named(tmp_path):
    with pytest.raises(ObserveError, match="no such file or directory"):
        read_source(tmp_path / "nothing.jsonl")
