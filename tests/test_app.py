"""The interactive view (model/app.py) rendered headless, and the ``orgscale viz`` command."""

from __future__ import annotations

import argparse
import inspect

import ipyvuetify as v
import numpy as np
import pytest
import reacton.core
import solara

import model.app as app
from model import PARAMETERS, SERIES_COLUMNS, TOPOLOGIES, OrgModel
from sweeps.commands import viz


def render(params=None):
    """Render the page as ``solara run`` does (inside an AppLayout); return its context."""
    _, rc = solara.render(solara.AppLayout(children=[app.Page(params=params)]), handle_error=False)
    return rc


def captions(rc) -> list[str]:
    return [w.children[0] for w in rc.find(v.Html, class_="orgscale-caption").widgets]


def day_info(rc) -> str:
    return rc.find(v.Html, class_="orgscale-day").widget.children[0]


def click_step(rc, times: int = 1) -> None:
    button = rc.find(v.Btn, children=["Step"]).widget
    for _ in range(times):
        button.click()


# ----------------------------------------------------------------------------- the page
def test_model_params_keys_are_orgmodel_parameters():
    accepted = set(inspect.signature(OrgModel).parameters)
    assert set(app.model_params) <= accepted
    assert set(app.model_params) - {"rng"} <= set(PARAMETERS)


def test_seed_is_a_slider_not_a_text_box():
    assert app.model_params["rng"]["type"] == "SliderInt"


def test_main_parameters_have_controls():
    user, _ = app.split_model_params(app.model_params)
    assert {"topology", "n_teams", "ci_automation", "change_rate", "core_reviewers", "rng"} <= set(
        user
    )
    assert user["topology"]["values"] == list(TOPOLOGIES)
    assert user["n_teams"]["min"] == 1
    assert user["n_teams"]["max"] == 64


def test_controls_start_values_are_valid_model_parameters():
    OrgModel(**app.initial_values())  # does not raise


def test_module_level_page_is_an_element():
    assert isinstance(app.page, reacton.core.Element)


def test_default_page_shows_graph_and_five_plots_at_day_zero():
    rc = render()
    texts = captions(rc)
    assert len(texts) == 1 + len(app.SERIES_VIEWS) == 6
    assert all(t.startswith("day 0") for t in texts)
    assert len(rc.find(v.Html, class_="orgscale-caption").widgets) == 6
    assert "Day 0" in day_info(rc)
    rc.close()


def test_step_advances_one_day_and_the_plots_follow():
    rc = render({"change_rate": 0.5})
    before = captions(rc)
    click_step(rc, 3)
    after = captions(rc)
    assert "Day 3" in day_info(rc)
    assert all(t.startswith("day 3") for t in after)
    assert after[1] != before[1]  # the backlog plot's last value moved
    rc.close()


@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("n_teams", [1, 64])
def test_page_builds_and_steps_at_extreme_sizes(topology, n_teams):
    rc = render({"topology": topology, "n_teams": n_teams, "change_rate": 0.5})
    click_step(rc, 2)
    assert all(t.startswith("day 2") for t in captions(rc))
    rc.close()


@pytest.mark.parametrize(
    "params",
    [
        {"change_rate": 0.0, "ci_automation": True},
        {"topology": "single_core", "core_reviewers": 2, "change_rate": 0.5},
        {"topology": "single_core", "core_reviewers": 60, "rng": 999},
        {"topology": "flat", "n_teams": 64, "reviewers_per_team": 12, "rng": 0},
    ],
)
def test_page_builds_with_extreme_control_values(params):
    rc = render(params)
    click_step(rc)
    assert "Day 1" in day_info(rc)
    rc.close()


def test_changing_a_control_rebuilds_the_model_at_once():
    rc = render({"topology": "flat", "n_teams": 16})
    click_step(rc, 2)
    slider = rc.find(v.Slider, label="Teams N: 16").widget
    slider.v_model = 4
    assert "Day 0" in day_info(rc)
    assert rc.find(v.Slider, label="Teams N: 4").widget.v_model == 4
    assert "4 reviewers" not in day_info(rc)
    same_people = f"{round(4 * PARAMETERS['reviewers_per_area'].default)} reviewers"
    assert same_people in day_info(rc)
    rc.find(v.Select, label="Topology").widget.v_model = "single_core"
    assert same_people in day_info(rc)  # equal headcount: the same people, one team
    rc.find(v.Select, label="Staffing").widget.v_model = "fixed_core"
    assert f"{PARAMETERS['core_reviewers'].default} reviewers" in day_info(rc)
    rc.close()


def test_reset_rebuilds_with_the_current_controls():
    rc = render({"topology": "flat", "n_teams": 3})
    click_step(rc, 2)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert "Day 0" in day_info(rc)
    assert f"{round(3 * PARAMETERS['reviewers_per_area'].default)} reviewers" in day_info(rc)
    rc.close()


# ----------------------------------------------------------------------------- drawing
@pytest.mark.parametrize("topology", TOPOLOGIES)
@pytest.mark.parametrize("n_teams", [1, 2, 16, 64])
def test_layout_gives_every_team_its_own_place(topology, n_teams):
    model = OrgModel(topology=topology, n_teams=n_teams, rng=1)
    pos = app.team_layout(model.graph)
    assert sorted(pos) == sorted(model.graph.nodes)
    points = {tuple(np.round(p, 9)) for p in pos.values()}
    assert len(points) == len(pos)
    assert app.team_layout(model.graph) == pos  # deterministic


def test_space_holds_one_team_per_cell_and_no_people():
    model = OrgModel(topology="hierarchical", n_teams=8, rng=3)
    space = app.attach_space(model)
    assert model.grid is space
    assert app.attach_space(model) is space  # idempotent
    assert [len(cell.agents) for cell in space.all_cells] == [1] * len(model.teams)
    assert {cell.agents[0] for cell in space.all_cells} == set(model.teams)


def test_attaching_the_space_does_not_change_the_run():
    plain = OrgModel(topology="flat", n_teams=6, warmup_days=0, rng=5)
    viewed = OrgModel(topology="flat", n_teams=6, warmup_days=0, rng=5)
    app.attach_space(viewed)
    app.draw_team_graph(viewed)
    plain.run_for(20)
    viewed.run_for(20)
    a = plain.datacollector.get_model_vars_dataframe()
    b = viewed.datacollector.get_model_vars_dataframe()
    assert a.equals(b)


def test_single_core_is_drawn_as_one_node():
    model = OrgModel(topology="single_core", n_teams=16, rng=1)
    fig = app.draw_team_graph(model)
    ax = fig.axes[0]
    assert len(ax.collections) == 1  # no links
    assert ax.collections[0].get_offsets().shape == (1, 2)


def test_node_area_follows_team_size_and_colour_follows_backlog():
    model = OrgModel(topology="hierarchical", n_teams=4, change_rate=0.5, warmup_days=0, rng=2)
    model.run_for(5)
    fig = app.draw_team_graph(model)
    dots = fig.axes[0].collections[-1]
    people = np.array([app.team_people(t) for t in model.teams])
    sizes = dots.get_sizes()
    assert sizes[np.argmax(people)] == pytest.approx(sizes.max())
    assert sizes[np.argmin(people)] < sizes.max()
    assert list(dots.get_array()) == [t.backlog for t in model.teams]


def test_link_pain_is_conflicts_plus_negotiations_and_drives_link_width():
    model = OrgModel(topology="flat", n_teams=6, change_rate=0.5, warmup_days=0, rng=4)
    model.run_for(20)
    pain = app.link_pain(model)
    assert np.array_equal(pain, model.links.edge_conflicts + model.links.edge_negotiations)
    assert pain.max() > 0
    links = app.draw_team_graph(model).axes[0].collections[0]
    widths = np.asarray(links.get_linewidths())
    assert widths.max() > widths.min()


def test_series_views_read_collected_columns():
    for view in app.SERIES_VIEWS:
        assert set(view.columns) <= set(SERIES_COLUMNS)
        assert len(view.labels) == len(view.columns)


def test_series_caption_shows_the_last_values():
    model = OrgModel(change_rate=0.5, warmup_days=0, rng=1)
    model.run_for(4)
    frame = app.series_frame(model)
    text = app.latest_text(frame, app.SERIES_VIEWS[0])
    assert text == f"day 4: backlog {frame['backlog_now'].iloc[-1]:.4g}"


# ----------------------------------------------------------------------------- orgscale viz
def parse(argv):
    parser = argparse.ArgumentParser()
    viz.add_parser(parser.add_subparsers())
    return parser.parse_args(["viz", *argv])


def test_viz_binds_loopback_port_8765_by_default():
    args = parse([])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    assert args.handler is viz.run


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("::", False)],
)
def test_is_loopback(host, loopback):
    assert viz.is_loopback(host) is loopback


def test_page_url_brackets_ipv6():
    assert viz.page_url("127.0.0.1", 8765) == "http://127.0.0.1:8765/"
    assert viz.page_url("::1", 9000) == "http://[::1]:9000/"


def test_server_runs_the_app_as_a_module_without_calls_home():
    command = viz.solara_command("127.0.0.1", 8765)
    assert command[command.index("run") + 1] == "model.app"
    assert {"--no-open", "--production", "--no-check-version"} <= set(command)
    env = viz.server_env({"PATH": "/bin"})
    assert env["SOLARA_ASSETS_PROXY"] == "true"
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["PATH"] == "/bin"


def test_solara_assets_cover_the_page():
    assert viz.missing_offline_assets() == []


def test_viz_rejects_a_bad_port(capsys):
    assert viz.run(parse(["--port", "70000"])) == 2
    assert "--port 70000 is invalid" in capsys.readouterr().err


def test_viz_warns_when_binding_beyond_loopback(capsys, monkeypatch):
    monkeypatch.setattr(viz, "_port_free", lambda host, port: "stopped here by the test")
    assert viz.run(parse(["--host", "0.0.0.0", "--port", "8765"])) == 2
    err = capsys.readouterr().err
    assert "warning: --host 0.0.0.0 is not a loopback address" in err


def test_viz_does_not_warn_on_loopback(capsys, monkeypatch):
    monkeypatch.setattr(viz, "_port_free", lambda host, port: "stopped here by the test")
    viz.run(parse([]))
    assert "warning" not in capsys.readouterr().err


def test_choosing_a_preset_rebuilds_the_model_with_its_configuration():
    rc = render({"topology": "flat", "n_teams": 3})
    rc.find(v.Select, label="Preset").widget.v_model = "nova-2013"
    assert "Day 0 · 17 reviewers" in day_info(rc)
    assert rc.find(v.Select, label="Topology").widget.v_model == "single_core"
    rc.find(v.Select, label="Preset").widget.v_model = app.NO_PRESET
    assert rc.find(v.Select, label="Topology").widget.v_model == "flat"
    rc.close()


# ----------------------------------------------------------------------------- first run
def test_the_first_run_is_the_models_default_run():
    from model import defaults

    first = OrgModel(**app.initial_values())
    assert {name: getattr(first, name) for name in PARAMETERS} == defaults()


def on_slider_grid(value: float, spec: dict) -> float:
    """Where a browser's slider puts ``value``: on ``min + k·step``, within [min, max]
    (Vuetify's ``roundValue``)."""
    step, low, high = spec["step"], spec["min"], spec["max"]
    decimals = len(str(step).split(".")[1].rstrip("0")) if "." in str(step) else 0
    snapped = round((min(max(value, low), high) - low) / step) * step + low
    return round(min(snapped, high), decimals)


def test_a_slider_showing_a_value_off_its_steps_does_not_change_it():
    rc = render()
    click_step(rc, 2)
    sliders = {
        name: spec
        for name, spec in app.model_params.items()
        if isinstance(spec, dict) and spec["type"].startswith("Slider")
    }
    defaults = app.initial_values()
    off_grid = [n for n, s in sliders.items() if on_slider_grid(defaults[n], s) != defaults[n]]
    assert "patience_days" in off_grid  # 68.89 on steps of 5: the browser shows 70
    for name in off_grid:
        spec = sliders[name]
        label = f"{spec['label']}: {defaults[name]:g}"
        widget = rc.find(v.Slider, label=label).widget
        widget.v_model = on_slider_grid(defaults[name], spec)  # what the browser sends back
        assert "Day 2" in day_info(rc), f"{name}: the model was rebuilt"
        assert rc.find(v.Slider, label=label).widget  # the value shown is still the default
    # a value the user chooses still rebuilds the model
    spec = sliders["patience_days"]
    rc.find(v.Slider, label=f"{spec['label']}: {defaults['patience_days']:g}").widget.v_model = 20
    assert "Day 0" in day_info(rc)
    assert rc.find(v.Slider, label=f"{spec['label']}: 20").widget
    rc.close()


def test_slider_labels_are_short_enough_to_leave_the_slider_its_width():
    """Mesa's sliders put the label and its value on the slider's row: a label much longer
    than ≈ 24 characters squeezes the slider to a dot in the side bar."""
    from model import app

    for name, spec in app.model_params.items():
        if isinstance(spec, dict) and spec.get("type", "").startswith("Slider"):
            assert len(spec["label"]) <= 24, (name, spec["label"])
