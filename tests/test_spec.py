"""Sweep specs: what a valid spec stands for, and one clear message for each kind of bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweeps.cli import main
from sweeps.design import design_points, design_tasks
from sweeps.spec import SpecError, load_spec, parse_spec

SPECS = Path(__file__).resolve().parent.parent / "sweeps" / "specs"

HEADER = 'name = "t"\nroot_seed = 1\nreplicates = 2\ndays = 90\n'


def write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_smoke_spec_is_valid_and_small():
    spec = load_spec(SPECS / "smoke.toml")
    tasks = design_tasks(spec)
    assert spec.name == "smoke"
    assert len(tasks) == len(design_points(spec)) * spec.replicates
    assert 0 < len(tasks) <= 64
    assert all(t.params["n_teams"] <= 8 for t in tasks)


def test_paper_spec_covers_every_organisation_n_up_to_256_at_equal_headcount():
    spec = load_spec(SPECS / "paper.toml")
    points = design_points(spec)
    assert spec.replicates >= 6  # sized to the measured budget (spec header)
    main = [p for p in points if p["staffing"] == "equal_headcount"]
    for topology in ("single_core", "flat", "hierarchical", "modular"):
        ns = {p["n_teams"] for p in main if p["topology"] == topology}
        assert {2**k for k in range(9)} <= ns, topology
        cis = {p["ci_automation"] for p in main if p["topology"] == topology}
        # one core has no trees to test-merge: automation is crossed with the splits only
        assert cis == ({False} if topology == "single_core" else {False, True}), topology
    assert {p["branching"] for p in main if p["topology"] == "hierarchical"} >= {0, 4}
    localities = {p["locality"] for p in main if p["topology"] == "modular"}
    assert localities == {0.0, 0.5, 1.0}


def test_grid_blocks_are_unioned_not_crossed():
    spec = parse_spec(
        HEADER
        + '[[grid]]\ntopology = ["flat"]\nn_teams = [2, 4]\n'
        + '[[grid]]\ntopology = ["modular"]\nn_teams = [4]\nlocality = [0.0, 0.5, 1.0]\n'
    )
    points = design_points(spec)
    assert len(points) == 2 + 3
    assert {p["locality"] for p in points if p["topology"] == "flat"} == {0.5}  # the default


def test_a_single_grid_table_is_a_full_factorial_over_fixed_values():
    spec = parse_spec(
        HEADER
        + "[fixed]\nwarmup_days = 10\n"
        + "[grid]\nn_teams = [1, 2, 3]\nci_automation = [true, false]\n"
    )
    points = design_points(spec)
    assert len(points) == 6
    assert all(p["warmup_days"] == 10.0 for p in points)
    assert len(design_tasks(spec)) == 12


def test_points_repeated_across_grids_run_once():
    spec = parse_spec(HEADER + "[[grid]]\nn_teams = [1, 2]\n[[grid]]\nn_teams = [2, 4]\n")
    assert [p["n_teams"] for p in design_points(spec)] == [1, 2, 4]


def test_no_grid_means_one_point_of_fixed_values():
    spec = parse_spec(HEADER + '[fixed]\ntopology = "flat"\n')
    (point,) = design_points(spec)
    assert point["topology"] == "flat"


def test_lhs_sample_stays_in_its_ranges_and_is_crossed_with_the_grid():
    spec = parse_spec(
        HEADER
        + '[grid]\ntopology = ["flat", "hierarchical"]\n'
        + '[sample]\nmethod = "lhs"\nn = 8\n'
        + "[sample.ranges]\nchange_rate = [0.05, 0.2]\nreviewers_per_team = [2, 6]\n"
    )
    points = design_points(spec)
    assert len(points) == 2 * 8
    assert all(0.05 <= p["change_rate"] <= 0.2 for p in points)
    assert all(isinstance(p["reviewers_per_team"], int) for p in points)
    assert all(2 <= p["reviewers_per_team"] <= 6 for p in points)
    # Latin hypercube: each of 8 equal strata of the float range holds exactly one point
    strata = sorted(int((p["change_rate"] - 0.05) / 0.15 * 8) for p in points[:8])
    assert strata == list(range(8))


def test_sobol_sample_has_saltelli_size():
    text = (
        HEADER
        + '[sample]\nmethod = "sobol"\nn = 8\n'
        + "[sample.ranges]\nchange_rate = [0.05, 0.2]\nrework_prob = [0.1, 0.5]\n"
        + "review_rate = [4.0, 12.0]\n"
    )
    assert len(design_points(parse_spec(text))) == 8 * (2 * 3 + 2)
    first_order = text.replace("n = 8\n", "n = 8\nsecond_order = false\n")
    assert len(design_points(parse_spec(first_order))) == 8 * (3 + 2)


def test_spec_hash_ignores_comments_layout_and_description():
    a = parse_spec(HEADER + "[grid]\nn_teams = [1, 2]\n")
    b = parse_spec("# a comment\n" + HEADER + 'description = "x"\n[grid]\nn_teams = [ 1,2 ]\n')
    c = parse_spec(HEADER + "[grid]\nn_teams = [1, 2, 4]\n")
    assert a.spec_hash == b.spec_hash
    assert a.spec_hash != c.spec_hash


BAD_SPECS = [
    pytest.param(
        HEADER + "replicate = 3\n",
        ["replicate", "expected one of the keys", "did you mean 'replicates'"],
        id="unknown-top-level-key",
    ),
    pytest.param(
        HEADER + "[fixed]\nn_team = 4\n",
        ["fixed.n_team", "expected a model parameter", "did you mean 'n_teams'"],
        id="unknown-model-parameter",
    ),
    pytest.param(
        HEADER.replace("replicates = 2", 'replicates = "ten"'),
        ["replicates", "expected an integer >= 1", "got 'ten'"],
        id="wrong-type",
    ),
    pytest.param(
        HEADER + "[grid]\nn_teams = []\n",
        ["grid.n_teams", "expected a non-empty list of values", "got []"],
        id="empty-list",
    ),
    pytest.param(
        HEADER + "[[grid]]\nn_teams = [1, 2, 0]\n",
        ["grid[0].n_teams[2]", "expected n_teams to be an integer in [1, 100000]", "got 0"],
        id="impossible-value",
    ),
    pytest.param(
        HEADER + '[fixed]\ntopology = "ring"\n',
        ["fixed.topology", "expected topology to be one of 'single_core'", "got 'ring'"],
        id="unknown-choice",
    ),
    pytest.param(
        HEADER + "[fixed]\nci_automation = 1\n",
        ["fixed.ci_automation", "expected ci_automation to be true or false", "got 1"],
        id="int-for-bool",
    ),
    pytest.param(
        'name = "t"\nroot_seed = 1\ndays = 90\n',
        ["replicates", "expected this required key"],
        id="missing-required-key",
    ),
    pytest.param(
        HEADER + "[grid]\nn_teams = 4\n",
        ["grid.n_teams", "expected a list of values", "got 4"],
        id="scalar-for-list",
    ),
    pytest.param(
        HEADER + "[fixed]\nwarmup_days = 100\n",
        ["days", "expected more days than warmup_days=100", "got 90.0"],
        id="days-within-warmup",
    ),
    pytest.param(
        HEADER + "[fixed]\nn_teams = 4\n[grid]\nn_teams = [1, 2]\n",
        ["grid.n_teams", "expected a parameter that is not also in [fixed]"],
        id="fixed-and-gridded",
    ),
    pytest.param(
        HEADER + '[grid]\ntopology = ["hierarchical"]\nreviewers_per_area = [1.0, 3.0]\n',
        ["grid point 0 (", "reviewers_per_area=1.0", "too few for"],
        id="impossible-combination",
    ),
    pytest.param(
        HEADER + '[sample]\nmethod = "grid"\nn = 4\n',
        ["sample.method", "expected one of 'lhs', 'sobol', 'morris'", "got 'grid'"],
        id="unknown-sample-method",
    ),
    pytest.param(
        HEADER + '[sample]\nmethod = "lhs"\nn = 4\n[sample.ranges]\nchange_rate = [0.2, 0.1]\n',
        ["sample.ranges.change_rate", "expected low < high", "got [0.2, 0.1]"],
        id="empty-sample-range",
    ),
    pytest.param(
        HEADER + '[sample]\nmethod = "lhs"\nn = 4\n[sample.ranges]\ntopology = [0, 1]\n',
        ["sample.ranges.topology", "expected a numeric parameter"],
        id="sampled-string-parameter",
    ),
    pytest.param(
        HEADER.replace('"t"', '"my sweep/1"'),
        ["name", "expected a non-empty name of letters"],
        id="name-unfit-for-a-folder",
    ),
    pytest.param(
        HEADER + "[grid\nn_teams = [1]\n",
        ["(syntax)", "expected valid TOML"],
        id="toml-syntax",
    ),
    pytest.param(
        HEADER + '[fixed]\ntopology = "hierarchcal"\n',
        ["fixed.topology", "(did you mean 'hierarchical'?)", "got 'hierarchcal'"],
        id="misspelled-choice",
    ),
    pytest.param(
        HEADER + "[run]\ntimeout = 60\n",
        ["run.timeout", "expected one of the keys timeout_s", "did you mean 'timeout_s'"],
        id="unknown-run-key",
    ),
    pytest.param(
        HEADER + "[run]\ntimeout_s = 0\n",
        ["run.timeout_s", "expected a number of seconds > 0", "got 0"],
        id="non-positive-timeout",
    ),
    pytest.param(
        HEADER + '[sample]\nmethod = "lhs"\nn = 12\n[sample.ranges]\nn_teams = [1, 3]\n',
        [
            "sample.ranges",
            "expected ranges that give 12 distinct points for an lhs sample of n = 12",
            "n_teams = [1, 3] (3 values) leave only 3",
            "grid the parameter instead",
        ],
        id="integer-range-collapsing-an-lhs",
    ),
    pytest.param(
        HEADER.replace("replicates = 2", "replicates = 1000000000") + "[grid]\nn_teams = [1, 2]\n",
        [
            "replicates",
            "expected a design of at most 200,000 runs, or --allow-large to run more",
            "up to 2,000,000,000 runs (2 parameter points: grid 2; × 1,000,000,000 replicates)",
        ],
        id="design-too-large",
    ),
    pytest.param(
        HEADER
        + "[grid]\nn_teams = "
        + str(list(range(1, 1002)))
        + "\napprovals_needed = "
        + str(list(range(1, 101)))
        + "\n",
        [
            ": grid: expected a design of at most 200,000 runs",
            "up to 200,200 runs (100,100 parameter points: grid 100,100; × 2 replicates)",
        ],
        id="design-too-large-by-its-grid-blames-the-grid",
    ),
]


@pytest.mark.parametrize(("text", "fragments"), BAD_SPECS)
def test_bad_spec_message_names_file_key_and_expectation(tmp_path, text, fragments):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_missing_spec_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="expected an existing sweep spec file"):
        load_spec(tmp_path / "nope.toml")


def test_cli_rejects_a_bad_spec_with_status_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    path = write(tmp_path, HEADER + "[grid]\nn_teams = []\n", "bad.toml")
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(path)]) == 2
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: grid.n_teams: expected a non-empty list of values" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_narrow_integer_range_in_a_sobol_sample_is_named_in_a_warning():
    text = (
        HEADER
        + '[sample]\nmethod = "sobol"\nn = 8\nsecond_order = false\n'
        + "[sample.ranges]\nn_teams = [1, 3]\n"
    )
    (warning,) = parse_spec(text).warnings
    assert warning.startswith("sample.ranges: the integer range(s) n_teams = [1, 3] (3 values)")
    assert "its 24 points are 3 distinct ones" in warning
    wide = parse_spec(text.replace("[1, 3]", "[1, 64]"))
    assert wide.warnings == ()


def test_an_integer_range_as_wide_as_the_sample_gives_distinct_points():
    text = HEADER + '[sample]\nmethod = "lhs"\nn = 12\n[sample.ranges]\nn_teams = [1, 12]\n'
    points = design_points(parse_spec(text))
    assert sorted(p["n_teams"] for p in points) == list(range(1, 13))


def test_a_large_design_is_refused_before_it_is_expanded_unless_allowed(
    tmp_path, capsys, monkeypatch
):
    import sweeps.spec
    from sweeps.commands import sweep as sweep_command

    monkeypatch.setattr(sweeps.spec, "LARGE_DESIGN_RUNS", 10)  # a small limit, a quick test
    monkeypatch.setattr(sweep_command, "SAY_SIZE_FIRST_RUNS", 10)
    text = HEADER.replace("replicates = 2", "replicates = 6") + "[grid]\nn_teams = [1, 2]\n"
    path = write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "expected a design of at most 10 runs, or --allow-large to run more" in err
    assert "this one has up to 12 runs (2 parameter points: grid 2; × 6 replicates)" in err
    assert len(design_tasks(load_spec(path, allow_large=True))) == 12
    assert main(["sweep", str(path), "--out", str(out), "--dry-run", "--allow-large"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("sweep t: up to 12 runs; expanding the design")
    assert "sweep t: 12 runs (2 parameter points × 6 replicates" in printed
    assert not out.exists()


def test_run_table_sets_a_time_limit_outside_the_spec_identity():
    plain = parse_spec(HEADER + "[grid]\nn_teams = [1, 2]\n")
    limited = parse_spec(HEADER + "[run]\ntimeout_s = 30\n[grid]\nn_teams = [1, 2]\n")
    assert (plain.timeout_s, limited.timeout_s) == (None, 30.0)
    assert plain.spec_hash == limited.spec_hash


def test_sobol_with_n_not_a_power_of_two_warns_in_one_line(tmp_path, capsys):
    text = (
        HEADER
        + '[sample]\nmethod = "sobol"\nn = 6\nsecond_order = false\n'
        + "[sample.ranges]\nchange_rate = [0.05, 0.2]\n"
    )
    assert parse_spec(text).warnings == (
        "sample.n = 6 is not a power of two: Sobol indices converge as designed only for "
        "n = 2^k (e.g. 4 or 8)",
    )
    assert parse_spec(text.replace("n = 6", "n = 8")).warnings == ()
    path = write(tmp_path, text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    err = capsys.readouterr().err
    assert err == "orgscale sweep: warning: " + parse_spec(text).warnings[0] + "\n"


def test_a_spec_rebuilt_from_its_canonical_content_is_the_same_spec():
    from sweeps.spec import spec_from_canonical

    text = (
        HEADER
        + '[fixed]\nwarmup_days = 30\n[[grid]]\ntopology = ["flat"]\nn_teams = [2, 4]\n'
        + '[sample]\nmethod = "lhs"\nn = 4\n[sample.ranges]\nchange_rate = [0.05, 0.2]\n'
    )
    spec = parse_spec(text)
    assert spec_from_canonical(spec.canonical()) == spec
