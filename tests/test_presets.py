"""Presets: shipped pattern files parse, name real metrics and parameters, run deterministically;
a bad preset gets one clear line and exit status 2."""

import math
import textwrap
from pathlib import Path

import pytest

from model import METRICS, PARAMETERS
from model.presets import PresetError, load_preset, parse_preset, preset_names
from observe.patterns import PATTERNS
from observe.simulated import run_patterns
from sweeps.cli import main
from sweeps.spec import parse_spec

SHIPPED = preset_names()

GOOD = textwrap.dedent(
    """
    name = "tiny"
    description = "a small single core"
    days = 80
    [config]
    topology = "single_core"
    staffing = "fixed_core"
    n_teams = 3
    contributors_per_team = 4
    core_reviewers = 3
    warmup_days = 20
    [priors]
    change_rate = [0.05, 0.5]
    review_rate = [2.0, 12.0]
    [[pattern]]
    metric = "throughput"
    observed = 2.0
    tolerance = { rel = 0.1 }
    in_sample = true
    source = { ref = "synthetic", date = "today", counted = "changes landed a day" }
    [[pattern]]
    metric = "lead_time_p50"
    observed = [1, 3]
    tolerance = { abs = 0.5 }
    in_sample = false
    why = "checks the fit"
    source = { ref = "synthetic", date = "today", counted = "median lead time" }
    """
)


def test_calibrated_defaults_are_the_nova_posterior_medians():
    """The defaults named calibrated are the committed calibration's medians (4 digits), and
    their plausible range is its 90% credible interval."""
    import pandas as pd

    from model.params import CALIBRATED, CALIBRATION_SOURCE, PLAUSIBLE_RANGES, defaults

    table = pd.read_csv(Path(__file__).resolve().parents[1] / CALIBRATION_SOURCE)
    table = table.set_index("parameter")
    assert set(CALIBRATED) == set(table.index)
    preset = load_preset("nova-2013")
    for name, (median, low, high) in CALIBRATED.items():
        for value, column in ((median, "median"), (low, "ci90_low"), (high, "ci90_high")):
            assert value == float(f"{table.loc[name, column]:.4g}"), (name, column)
        assert defaults()[name] == median
        assert PLAUSIBLE_RANGES[name][0] <= low < high <= PLAUSIBLE_RANGES[name][1]
        assert dict(preset.config)[name] == median  # the preset states the same values


@pytest.mark.parametrize(
    ("calibration", "preset"), [("nova-2013", "nova-2013"), ("linux", "linux")]
)
def test_plausible_ranges_hold_every_calibrated_value_and_every_preset_value(calibration, preset):
    """Each calibration's 90% credible interval (Nova's and the kernel's) and every value a
    shipped preset sets lies inside the parameter's plausible range: the sensitivity
    analysis never samples a world that leaves out a calibration."""
    import pandas as pd

    from model.params import KERNEL_CALIBRATED, PLAUSIBLE_RANGES

    root = Path(__file__).resolve().parents[1]
    table = pd.read_csv(root / "results" / "calibration" / calibration / "intervals.csv")
    for row in table.itertuples():
        low, high = PLAUSIBLE_RANGES[row.parameter]
        for value in (row.median, row.ci90_low, row.ci90_high):
            assert low <= float(f"{value:.4g}") <= high, (calibration, row.parameter, value)
    if calibration == "linux":
        assert set(KERNEL_CALIBRATED) == set(table.parameter)
        for row in table.itertuples():
            expected = tuple(float(f"{row[i]:.4g}") for i in (5, 6, 7))
            assert KERNEL_CALIBRATED[row.parameter] == expected
    for name, value in load_preset(preset).config:
        if name in PLAUSIBLE_RANGES and not isinstance(value, bool | str):
            low, high = PLAUSIBLE_RANGES[name]
            assert low <= value <= high, (preset, name, value)


def test_there_are_presets_for_nova_and_the_kernel():
    assert {"nova-2013", "linux"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_parses_and_names_only_known_metrics_and_parameters(name):
    preset = load_preset(name)
    assert preset.name == name
    assert all(p.metric in METRICS or p.metric in PATTERNS for p in preset.patterns)
    assert all(key in PARAMETERS for key, _ in preset.config)
    assert all(key in PARAMETERS and low < high for key, low, high in preset.priors)
    assert preset.in_sample() and preset.held_out()


@pytest.mark.parametrize("name", SHIPPED)
def test_every_pattern_cites_a_source_and_held_out_ones_say_why(name):
    for pattern in load_preset(name).patterns:
        assert pattern.ref and pattern.date and pattern.counted
        assert pattern.in_sample or len(pattern.why) > 20
        assert pattern.tolerance() > 0 or pattern.low < pattern.high or pattern.abs_tol == 0


def _short(name):
    """A short run of a preset: 20 measured days after 10 of warm-up."""
    return load_preset(name).params({"warmup_days": 10.0}), 30.0


def _same(a, b):
    return a.keys() == b.keys() and all(
        (math.isnan(a[k]) and math.isnan(b[k])) or a[k] == b[k] for k in a
    )


@pytest.mark.parametrize("name", SHIPPED)
def test_preset_runs_and_the_same_seed_gives_the_same_metrics(name):
    params, days = _short(name)
    names = [p.metric for p in load_preset(name).patterns]
    first = run_patterns(params, 7, days, names)
    assert _same(first, run_patterns(params, 7, days, names))
    assert not _same(first, run_patterns(params, 8, days, names))
    assert all(metric in first for metric in names)


def test_pattern_distance_is_zero_inside_and_one_at_the_tolerance_edge():
    preset = parse_preset(GOOD)
    point, interval = preset.patterns
    assert point.distance(2.0) == 0 and point.distance(2.2) == pytest.approx(1.0)
    assert point.reproduced(1.85) and not point.reproduced(2.5)
    assert interval.distance(2.0) == 0 and interval.distance(4.0) == pytest.approx(2.0)
    assert math.isinf(point.distance(math.nan))


def test_a_factor_tolerance_is_symmetric_on_the_log_scale():
    """``{ factor = 1.25 }``: a value 1.25 times too large and one 1.25 times too small are
    both one tolerance unit away (a share of the value would put the small one at 0.8 and
    never let one too small pass 1/rel = 4 units); 0 and nan are infinitely far."""
    preset = parse_preset(GOOD.replace("{ rel = 0.1 }", "{ factor = 1.25 }"))
    point = preset.patterns[0]
    assert point.factor == 1.25 and point.tolerance_label == "×÷1.25"
    assert point.distance(2.0) == 0
    assert point.distance(2.5) == pytest.approx(1.0)
    assert point.distance(1.6) == pytest.approx(1.0)
    assert point.distance(20.0) == pytest.approx(point.distance(0.2))
    assert point.distance(0.02) > 4 * 4  # a share-of-value tolerance would stop below 1/rel
    assert math.isinf(point.distance(0.0)) and math.isinf(point.distance(math.nan))
    assert point.accepted_range() == pytest.approx((1.6, 2.5))
    assert point.reproduced(1.65) and not point.reproduced(1.55)
    assert point.scale_tolerance() == pytest.approx(math.log(1.25))
    assert preset.patterns[1].tolerance_label == "±0.5"
    # an open interval ("200+"): nothing above it is far, below it is measured by the factor
    (open_,) = parse_preset(
        GOOD.replace("{ rel = 0.1 }", "{ factor = 1.25 }").replace(
            "observed = 2.0", "observed = [2.0, inf]"
        )
    ).patterns[:1]
    assert open_.distance(1e300) == 0 and open_.distance(1.6) == pytest.approx(1.0)
    assert open_.distance(5e-324) > 0 and math.isfinite(open_.distance(5e-324))


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("{ factor = 1.0 }", "pattern[0].tolerance.factor: expected a finite number > 1"),
        ("{ factor = inf }", "pattern[0].tolerance.factor: expected a finite number > 1"),
        ("{ factor = 1.2, rel = 0.1 }", "pattern[0].tolerance: expected either { factor"),
    ],
)
def test_a_bad_factor_tolerance_is_refused_naming_the_key(new, message):
    with pytest.raises(PresetError) as err:
        parse_preset(GOOD.replace("{ rel = 0.1 }", new))
    assert message in str(err.value)


def test_a_factor_tolerance_needs_a_positive_observed_value():
    text = GOOD.replace("{ rel = 0.1 }", "{ factor = 1.5 }").replace(
        "observed = 2.0", "observed = 0.0"
    )
    with pytest.raises(PresetError, match=r"pattern\[0\]\.observed: expected a positive value"):
        parse_preset(text)


def test_the_adaptive_distance_measures_a_factor_tolerance_on_the_log_scale():
    """The calibration's adaptive distance scales a factor pattern by the spread of the
    population's log values: a population spread evenly in log space weighs a value k
    times too large as far as one k times too small."""
    from types import SimpleNamespace

    from sweeps.calibration_abc import make_distance

    preset = parse_preset(GOOD.replace("{ rel = 0.1 }", "{ factor = 1.25 }"))
    distance = make_distance("adaptive", preset.patterns, frozenset())
    (pattern,) = distance.patterns
    population = [SimpleNamespace(sum_stat={pattern.id: 2.0 * 2.0**k}) for k in (-2, -1, 0, 1, 2)]
    distance.initialize(0, lambda: None, None, 0)
    assert distance({pattern.id: 2.5}, t=0) == pytest.approx(
        1.0
    )  # generation 0: the tolerance, ln 1.25
    distance.update(1, lambda: SimpleNamespace(accepted_particles=population), 0)
    assert distance.scale(1)[0] == pytest.approx(math.log(2.0))  # MAD of the log values
    assert distance({pattern.id: 8.0}, t=1) == pytest.approx(distance({pattern.id: 0.5}, t=1))
    assert distance({pattern.id: 8.0}, t=1) == pytest.approx(2.0)


def test_params_take_the_middle_of_priors_unless_configured():
    preset = parse_preset(GOOD)
    assert preset.params()["change_rate"] == pytest.approx(0.275)
    assert preset.params({"change_rate": 0.1})["change_rate"] == 0.1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('metric = "throughput"', 'metric = "thruput"', "pattern[0].metric: expected a metric"),
        ("[0.05, 0.5]", "[0.5, 0.5]", "priors.change_rate: expected a non-empty range"),
        ("[2.0, 12.0]", "[12.0, 2.0]", "priors.review_rate: expected a non-empty range"),
        ("[priors]", "[priors]\ncolour = [1, 2]", "priors.colour: expected a model parameter"),
        ("n_teams = 3", "n_tems = 3", "config.n_tems: expected a model parameter"),
        ("n_teams = 3", "n_teams = -3", "config.n_teams: expected n_teams to be an integer"),
        ('why = "checks the fit"', "", "pattern[1].why: expected a reason"),
        ("{ rel = 0.1 }", "{ rel = -1 }", "pattern[0].tolerance.rel: expected a number >= 0"),
        ("observed = 2.0", "observed = [3, 1]", "pattern[0].observed: expected a number or"),
        ("in_sample = true", "in_sample = 1", "pattern[0].in_sample: expected true or false"),
        ("days = 80", "days = 10", "days: expected more days than warmup_days=20"),
        ("[config]", "[config\n", "(syntax): expected valid TOML"),
    ],
)
def test_bad_preset_raises_one_line_naming_the_key(old, new, message):
    assert old in GOOD
    with pytest.raises(PresetError) as err:
        parse_preset(GOOD.replace(old, new, 1), source="tiny.toml")
    assert str(err.value).startswith("tiny.toml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("command", [["presets"], ["run", "--preset"], ["validate", "--preset"]])
def test_bad_preset_file_gives_one_line_and_exit_2(tmp_path, capsys, command):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('metric = "throughput"', 'metric = "thruput"'))
    assert main([*command, str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.toml: pattern[0].metric: expected a metric of model.METRICS" in err


def test_unknown_preset_name_lists_the_valid_ones(capsys):
    assert main(["run", "--preset", "nova-2031"]) == 2
    err = capsys.readouterr().err
    assert "nova-2013" in err and "did you mean 'nova-2013'" in err


def test_run_preset_with_set_override(tmp_path, capsys):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    assert main(["run", "--preset", str(path), "--set", "core_reviewers=2", "--json"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["n_reviewers"] == 2 and out["n_teams_total"] == 1


def test_presets_command_lists_sources(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "nova-2013" in out and "openstack-dev" in out and "held-out" in out


def test_sweep_spec_preset_is_the_base_of_fixed(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(GOOD)
    spec = parse_spec(
        f'name = "s"\nroot_seed = 1\nreplicates = 1\npreset = "{path}"\n'
        "[fixed]\ncore_reviewers = 2\n[grid]\nn_teams = [2, 4]\n"
    )
    fixed = dict(spec.fixed)
    assert fixed["topology"] == "single_core" and fixed["core_reviewers"] == 2
    assert "n_teams" not in fixed and spec.days == 80


def test_shipped_spec_built_on_the_nova_preset_is_valid():
    from pathlib import Path

    from sweeps.design import design_points
    from sweeps.spec import load_spec

    spec = load_spec(Path(__file__).parent.parent / "sweeps" / "specs" / "nova-core-size.toml")
    points = design_points(spec)
    assert {p["core_reviewers"] for p in points} >= {9, 17, 45}
    assert all(p["topology"] == "single_core" for p in points)
    assert spec.days == load_preset("nova-2013").days


# --------------------------------------------------------------------------- trajectories
TRAJECTORY = Path(__file__).parent / "data" / "trajectory-synthetic.toml"


def test_a_trajectory_gives_one_pattern_per_period_and_name_over_its_model_window():
    preset = load_preset(TRAJECTORY)
    by_id = {p.id: p for p in preset.patterns}
    assert list(by_id) == [
        "merged_per_day@2012-01-01",
        "lead_time_p50@2012-01-01",
        "merged_per_day@2012-02-01",
        "lead_time_p50@2012-02-01",
        "merged_per_day@2012-03-01",
        "lead_time_p50@2012-03-01",
        "merged_per_day@2012-04-01",  # April's lead time was not observed
    ]
    # 2012-01-01 is model day warmup_days = 30; January has 31 days, February 29 (2012)
    assert by_id["merged_per_day@2012-01-01"].window == (30.0, 61.0)
    assert by_id["lead_time_p50@2012-02-01"].window == (61.0, 90.0)
    assert by_id["merged_per_day@2012-04-01"].window == (121.0, 151.0)
    assert preset.days == 151.0  # warm-up + the span, by default
    early = [p.id for p in preset.fitted()]
    assert early == list(by_id)[:4]
    late = by_id["lead_time_p50@2012-03-01"]
    assert not late.in_sample and late.role_label == "held-out (in time)"
    assert "2012-03-01" in late.why and (late.low, late.high) == (2.0, 3.5)
    assert late.tolerance() == pytest.approx(max(0.5, 0.3 * 2.75))
    assert by_id["merged_per_day@2012-01-01"].tolerance() == pytest.approx(0.2 * 2.2)
    assert late.command.startswith("orgscale observe ") and "example/synthetic" in late.ref
    assert preset.trajectory.names == ("merged_per_day", "lead_time_p50")


def test_a_trajectory_may_give_a_factor_tolerance_to_every_period():
    old = "tolerance = { merged_per_day = { rel = 0.2 }, lead_time_p50 = { rel = 0.3, abs = 0.5 } }"
    text = TRAJECTORY.read_text()
    assert old in text
    preset = parse_preset(text.replace(old, "tolerance = { factor = 1.3 }"), source="t.toml")
    assert {p.factor for p in preset.patterns} == {1.3}
    late = {p.id: p for p in preset.patterns}["lead_time_p50@2012-03-01"]
    assert late.accepted_range() == pytest.approx((2.0 / 1.3, 3.5 * 1.3))
    bad = text.replace(old, "tolerance = { factor = 1.3 }").replace(
        "lead_time_p50 = 2.5", "lead_time_p50 = 0.0", 1
    )
    with pytest.raises(PresetError, match="a positive value with a factor tolerance"):
        parse_preset(bad, source="t.toml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("start = 2012-01-01 ", 'start = "January" ', "trajectory.start: expected an ISO date"),
        ('"lead_time_p50"]', '"lead_time_p5"]', "trajectory.patterns: expected names of"),
        (
            "since = 2012-02-01",
            "since = 2011-12-01",
            "trajectory.period[1].since: expected periods",
        ),
        ("until = 2012-02-01", "until = 2012-01-01", "trajectory.period[0].until: expected a date"),
        ("lead_time_p50 = 2.5", "lead_tme_p50 = 2.5", "trajectory.period[0].lead_tme_p50"),
        ('observe = "orgscale', 'observe = "git log', "trajectory.observe: expected an 'orgscale"),
        (
            ", lead_time_p50 = { rel = 0.3, abs = 0.5 } }",
            " }",
            "trajectory.tolerance.lead_time_p50: expected a tolerance for every pattern",
        ),
        ('repo = "example/synthetic"\n', "", "trajectory.repo: expected this required key"),
        ("# days defaults", "days = 100\n#", "days: expected at least warmup_days + the"),
    ],
)
def test_a_bad_trajectory_raises_one_line_naming_the_key(old, new, message):
    text = TRAJECTORY.read_text()
    assert old in text
    with pytest.raises(PresetError) as err:
        parse_preset(text.replace(old, new, 1), source="t.toml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_preset_pattern_may_be_marked_a_check():
    preset = parse_preset(GOOD.replace("in_sample = true", 'in_sample = true\nrole = "check"', 1))
    assert [p.id for p in preset.checks()] == ["throughput"] and not preset.fitted()
    with pytest.raises(PresetError, match=r"pattern\[0\]\.role: expected one of fit, check"):
        parse_preset(GOOD.replace("in_sample = true", 'in_sample = true\nrole = "chek"', 1))


def test_every_default_lies_in_its_plausible_range():
    """A default is one plausible value: a range that excludes it samples a world the
    model's own defaults rule out (the sensitivity analysis samples these ranges)."""
    from model.params import PLAUSIBLE_RANGES, defaults

    values = defaults()
    for name, (low, high) in PLAUSIBLE_RANGES.items():
        value = values[name]
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert low <= value <= high, (name, value, (low, high))
