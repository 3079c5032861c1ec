"""Interactive view of one run: watch one organisation review and integrate, day by day.

A Solara page built around Mesa's SolaraViz controller (Step / ▶ / Reset) and its
``model_params`` format. It shows the team graph (node size: people in the team; node colour: the
team's review backlog; link width and colour: conflicts + negotiations on that API link so
far) and daily line plots of the backlog, lead time, throughput and integration cost by part,
all read from the model's DataCollector. Changing a parameter rebuilds the model at once.

Presentation only: the model is :class:`model.OrgModel`, unchanged. Everything is drawn with
matplotlib into PNG images so that the page needs nothing from the internet (no Vega/Altair
scripts, no Markdown/KaTeX); the ``orgscale viz`` command serves it offline.

Reads nothing, writes nothing. Usage: ``orgscale viz`` (or ``solara run model.app``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import solara
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from mesa.discrete_space import Network
from mesa.visualization.solara_viz import ModelController, split_model_params
from mesa.visualization.utils import update_counter

from model import PARAMETERS, TOPOLOGIES, OrgModel
from model.gate import GATE_MODES
from model.params import REVIEW_ROUTINGS
from model.presets import load_preset, preset_names
from model.staffing import STAFFING_POLICIES

_D = {name: spec.default for name, spec in PARAMETERS.items()}
NO_PRESET = "(defaults)"
N_TEAMS_MAX = 64  # larger organisations still run, but a step no longer feels instant

#: Controls of the page. Keys are :class:`OrgModel` parameters (``rng`` is the seed); values
#: are Mesa's user-input dicts or fixed values. Every control starts at the model's default,
#: so the first run is the model's default run (costs and pain count after the warm-up).
model_params: dict[str, Any] = {
    "topology": {
        "type": "Select",
        "value": _D["topology"],
        "values": list(TOPOLOGIES),
        "label": "Topology",
    },
    "n_teams": {
        "type": "SliderInt",
        "value": _D["n_teams"],
        "min": 1,
        "max": N_TEAMS_MAX,
        "step": 1,
        "label": "Teams N",
    },
    "ci_automation": {
        "type": "Checkbox",
        "value": _D["ci_automation"],
        "label": "CI automation (daily test-merge)",
    },
    "gate": {
        "type": "Select",
        "value": _D["gate"],
        "values": list(GATE_MODES),
        "label": "Gate (each tree its own)",
    },
    "change_rate": {
        "type": "SliderFloat",
        "value": _D["change_rate"],
        "min": 0.0,
        "max": 0.5,
        "step": 0.01,
        "label": "Changes/contributor/day",
    },
    "staffing": {
        "type": "Select",
        "value": _D["staffing"],
        "values": list(STAFFING_POLICIES),
        "label": "Staffing",
    },
    "reviewers_per_area": {
        "type": "SliderFloat",
        "value": _D["reviewers_per_area"],
        "min": 1.0,
        "max": 8.0,
        "step": 0.5,
        "label": "Reviewers/area",
    },
    "contributor_growth": {
        "type": "SliderFloat",
        "value": _D["contributor_growth"],
        "min": 0.0,
        "max": 1.0,
        "step": 0.05,
        "label": "Contributor growth/yr",
    },
    "review_share": {
        "type": "SliderFloat",
        "value": _D["review_share"],
        "min": 0.05,
        "max": 1.0,
        "step": 0.025,
        "label": "Review share of a day",
    },
    "review_routing": {
        "type": "Select",
        "value": _D["review_routing"],
        "values": list(REVIEW_ROUTINGS),
        "label": "Review routing",
    },
    "patience_days": {
        "type": "SliderFloat",
        "value": _D["patience_days"],
        "min": 0.0,
        "max": 120.0,
        "step": 5.0,
        "label": "Patience, days",
    },
    "core_reviewers": {
        "type": "SliderInt",
        "value": _D["core_reviewers"],
        "min": 1,
        "max": 60,
        "step": 1,
        "label": "Core reviewers (fixed)",
    },
    "reviewers_per_team": {
        "type": "SliderInt",
        "value": _D["reviewers_per_team"],
        "min": 1,
        "max": 12,
        "step": 1,
        "label": "Reviewers/team (fixed)",
    },
    "warmup_days": {
        "type": "SliderFloat",
        "value": _D["warmup_days"],
        "min": 0.0,
        "max": 180.0,
        "step": 10.0,
        "label": "Warm-up, days",
    },
    # A slider, not a text box: an edited text seed reaches the model as a string (mesa #3516).
    "rng": {"type": "SliderInt", "value": 42, "min": 0, "max": 999, "step": 1, "label": "Seed"},
}

BACKLOG_CMAP = "YlOrRd"
PAIN_CMAP = "Purples"
GRAPH_FIGSIZE = (6.4, 4.4)  # inches; images are scaled to the width of their card
PLOT_FIGSIZE = (6.4, 2.5)
ROW_WIDTH = 16  # teams per row before a layer of the graph wraps
ROW_GAP = 0.3  # vertical distance between wrapped rows (one tree level is 1)


def initial_values(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Model keyword arguments: the controls' start values, then ``params`` on top."""
    user, fixed = split_model_params(model_params)
    return {**fixed, **{name: spec["value"] for name, spec in user.items()}, **(params or {})}


# ---------------------------------------------------------------------------- team graph
def team_layout(graph: nx.Graph, row_width: int = ROW_WIDTH) -> dict[int, tuple[float, float]]:
    """Deterministic node positions: a ring for peers, layers by tree depth otherwise.

    Trees (hierarchical, modular) put the root on top and each layer below its parents,
    ordered by their parent's position; a layer wider than ``row_width`` teams wraps onto
    several close rows. A single team sits in the middle. No randomness is drawn.
    """
    nodes = sorted(graph.nodes)
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    depth = dict(graph.nodes(data="depth"))
    if any(d is None for d in depth.values()):
        return {n: (float(x), float(y)) for n, (x, y) in nx.spring_layout(graph, seed=0).items()}
    if max(depth.values()) == 1 and graph.number_of_edges() == len(nodes) * (len(nodes) - 1) // 2:
        return {n: (float(x), float(y)) for n, (x, y) in nx.circular_layout(nodes).items()}
    parent = dict(graph.nodes(data="parent"))
    pos: dict[int, tuple[float, float]] = {}
    y = 0.0
    for level in range(max(depth.values()) + 1):
        layer = [n for n in nodes if depth[n] == level]
        layer.sort(key=lambda n: (pos.get(parent[n], (0.0, 0.0))[0], n))
        rows = [layer[i : i + row_width] for i in range(0, len(layer), row_width)]
        for k, row in enumerate(rows):
            xs = np.linspace(-1.0, 1.0, len(row)) if len(row) > 1 else [0.0]
            shift = (k % 2) * (1.0 / max(1, len(row) - 1))  # stagger wrapped rows
            for n, x in zip(row, xs, strict=True):
                pos[n] = (float(x) + shift * (len(rows) > 1), y)
            y -= ROW_GAP
        y -= 1.0 - ROW_GAP
    return pos


def attach_space(model: OrgModel) -> Network:
    """Give ``model`` a Mesa ``Network`` space for drawing, with one Team agent per cell.

    Nodes get the positions of :func:`team_layout` (no randomness is drawn, so the run is
    the same with or without a view). Contributors and reviewers stay off the space.
    Idempotent: returns the existing space if there is one.
    """
    space = getattr(model, "grid", None)
    if isinstance(space, Network):
        return space
    space = Network(model.graph, capacity=1, random=model.random, layout=team_layout(model.graph))
    for team in model.teams:
        space[team.node].add_agent(team)
    model.grid = space
    return space


def team_people(team: Any) -> int:
    """People in a team: its reviewers and the contributors of its areas."""
    return len(team.reviewers) + team.n_contributors


def link_pain(model: OrgModel) -> np.ndarray:
    """Per link (in ``model.links.edges`` order): conflicts + negotiations counted so far."""
    return model.links.edge_conflicts + model.links.edge_negotiations


def link_path(start: np.ndarray, end: np.ndarray, n_points: int = 16) -> np.ndarray:
    """Points of a link: straight, or an arc below when both teams sit on one row.

    Without the arc, links between teams of one row would lie on top of each other.
    """
    if abs(start[1] - end[1]) > 1e-9:
        return np.array([start, end])
    t = np.linspace(0.0, 1.0, n_points)
    x = start[0] + t * (end[0] - start[0])
    sag = 0.3 * abs(end[0] - start[0]) * 4 * t * (1 - t)
    return np.column_stack([x, start[1] - sag])


def node_sizes(
    xy: np.ndarray,
    people: np.ndarray,
    fig: Figure,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
) -> np.ndarray:
    """Marker areas (points²) proportional to ``people``, the largest as big as fits.

    The largest marker's diameter is 85 % of the closest distance between two nodes on
    the page (or 45 % of the drawing for a single team).
    """
    width_pt = fig.get_figwidth() * 72 * 0.8  # the colour bar takes the rest
    height_pt = fig.get_figheight() * 72 * 0.85  # title and footnote take the rest
    per_unit = min(width_pt / (xlim[1] - xlim[0]), height_pt / (ylim[1] - ylim[0]))
    if len(xy) > 1:
        gaps = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
        np.fill_diagonal(gaps, np.inf)
        diameter = 0.85 * float(gaps.min()) * per_unit
    else:
        diameter = 0.45 * min(width_pt, height_pt)
    return np.maximum(8.0, diameter**2 * people / max(1.0, float(people.max())))


def draw_team_graph(model: OrgModel) -> Figure:
    """The organisation as a graph: size = people, colour = backlog, links by pain."""
    space = attach_space(model)
    cells = sorted(space.all_cells, key=lambda c: c.coordinate)
    xy = np.array([c.position for c in cells], dtype=float).reshape(-1, 2)
    teams = [c.agents[0] for c in cells]
    backlog = np.array([t.backlog for t in teams], dtype=float)
    people = np.array([team_people(t) for t in teams], dtype=float)

    fig = Figure(figsize=GRAPH_FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    ax.set_axis_off()
    pain = link_pain(model)
    order = np.argsort(pain, kind="stable")  # most painful links drawn last, on top
    where = {c.coordinate: i for i, c in enumerate(cells)}
    segments = [link_path(xy[where[a]], xy[where[b]]) for a, b in model.links.edges[order]]
    if segments:
        top = max(1.0, float(pain.max()))
        share = pain[order] / top
        links = LineCollection(
            segments,
            array=share,
            cmap=PAIN_CMAP,
            norm=Normalize(-0.2, 1.0),  # painless links stay visible, in light grey-violet
            linewidths=0.4 + 4.0 * share,
            alpha=0.8,
            zorder=1,
        )
        ax.add_collection(links)
    pad = 0.25
    low = min([xy[:, 1].min(), *(path[:, 1].min() for path in segments)])  # arcs included
    xlim = (xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ylim = (low - pad - (0.4 if len(teams) == 1 else 0), xy[:, 1].max() + pad)
    size = node_sizes(xy, people, fig, xlim, ylim)
    dots = ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=size,
        c=backlog,
        cmap=BACKLOG_CMAP,
        vmin=0.0,
        vmax=max(10.0, float(backlog.max())),
        edgecolors="black",
        linewidths=0.6,
        zorder=2,
    )
    fig.colorbar(dots, ax=ax, shrink=0.8, label="review backlog (requests waiting)")
    if len(teams) == 1:
        only = teams[0]
        ax.annotate(
            f"one team: {len(only.reviewers)} reviewers,\n"
            f"{model.graph.nodes[only.node]['areas']} code areas",
            xy[0],
            xytext=(0, -(np.sqrt(size[0]) / 2 + 6)),  # just below the marker
            textcoords="offset points",
            ha="center",
            va="top",
        )
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_title(
        f"{model.topology}: {len(teams)} team{'s' * (len(teams) != 1)}, "
        f"{len(pain)} link{'s' * (len(pain) != 1)}, day {model.day}",
        fontsize=10,
    )
    fig.text(
        0.01,
        0.01,
        f"node area: people (largest team {int(people.max())}); link width/colour: "
        f"conflicts + negotiations so far (max {int(pain.max()) if len(pain) else 0})",
        fontsize=7,
        color="0.3",
    )
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (rendered here, so the browser fetches no plotting library)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


@solara.component
def TeamGraph(model: OrgModel):
    """The team graph of ``model`` with a one-line caption of the longest review queue."""
    update_counter.get()
    image = solara.use_memo(lambda: png(draw_team_graph(model)), [model, model.time])
    with solara.Card("Teams and links", classes=["orgscale-graph"]):
        solara.Image(image, width="100%")
        solara.Text(f"day {model.day}: {queue_text(model)}", classes=["orgscale-caption"])


def queue_text(model: OrgModel) -> str:
    """Where the review queue is longest, e.g. ``longest review queue: team 8 (2 waiting)``."""
    busiest = max(model.teams, key=lambda t: t.backlog)
    if busiest.backlog == 0:
        return "no request waits in any review queue"
    return f"longest review queue: team {busiest.node} ({busiest.backlog} waiting)"


# ---------------------------------------------------------------------------- time series
@dataclass(frozen=True)
class SeriesView:
    """One line plot of daily series from the DataCollector.

    ``columns`` are names in :data:`model.SERIES_COLUMNS`, drawn against ``day``;
    ``stacked`` stacks them (parts of one total); ``smooth_days`` > 1 adds a trailing mean;
    ``markers`` marks each day's value (series that exist only on some days, e.g. merges).
    """

    title: str
    unit: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    stacked: bool = False
    smooth_days: int = 0
    markers: bool = False


SERIES_VIEWS = (
    SeriesView("Backlog", "open changes", ("backlog_now",), ("backlog",)),
    SeriesView(
        "Lead time",
        "days to land",
        ("lead_time_day",),
        ("mean of that day's landings",),
        markers=True,
    ),
    SeriesView(
        "Throughput",
        "landed per day",
        ("throughput_day",),
        ("landed",),
        smooth_days=7,
        markers=True,
    ),
    SeriesView(
        "Integration cost by part",
        "person-days/day",
        ("cost_sync_day", "cost_negotiation_day", "cost_pull_day", "cost_conflict_day"),
        ("sync (Brooks)", "link negotiation", "pulls", "conflicts"),
        stacked=True,
    ),
    SeriesView(
        "Reviewers per area",
        "people per area",
        ("reviewers_per_area_now",),
        ("teams with code",),
    ),
)


def series_frame(model: OrgModel) -> pd.DataFrame:
    """The model's daily rows, indexed by day."""
    return model.datacollector.get_model_vars_dataframe().set_index("day")


def draw_series(frame: pd.DataFrame, view: SeriesView) -> Figure:
    """Plot ``view``'s columns of ``frame`` against the day."""
    fig = Figure(figsize=PLOT_FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    days = frame.index.to_numpy(dtype=float)
    data = [frame[c].to_numpy(dtype=float) for c in view.columns]
    if view.stacked:
        ax.stackplot(days, *data, labels=view.labels, alpha=0.85)
    else:
        for values, label in zip(data, view.labels, strict=True):
            ax.plot(
                days,
                values,
                lw=0.9,
                marker="o" if view.markers else None,
                ms=2.5,
                alpha=0.6 if view.smooth_days else 1.0,
                label=label,
            )
            if view.smooth_days > 1:
                mean = pd.Series(values).rolling(view.smooth_days, min_periods=1).mean()
                ax.plot(days, mean, lw=2.0, label=f"{view.smooth_days}-day mean")
    ax.set_xlabel("day")
    ax.set_ylabel(view.unit)
    ax.set_xlim(0, max(1.0, days.max()))
    total = np.sum(data, axis=0) if view.stacked else np.concatenate(data)
    top = np.nanmax(total) if np.isfinite(total).any() else 0.0
    ax.set_ylim(0, max(1.0, 1.15 * top))  # headroom: points at the maximum stay whole
    ax.grid(alpha=0.3)
    if len(view.labels) > 1 or view.smooth_days > 1 or view.markers:
        ax.legend(loc="upper left", fontsize=7)
    return fig


def latest_text(frame: pd.DataFrame, view: SeriesView) -> str:
    """Caption with the last plotted values, e.g. ``day 12: backlog 34``."""
    row = frame.iloc[-1]
    parts = []
    for column, label in zip(view.columns, view.labels, strict=True):
        value = float(row[column])
        parts.append(f"{label} {'–' if np.isnan(value) else f'{value:.4g}'}")
    return f"day {int(frame.index[-1])}: " + ", ".join(parts)


@solara.component
def SeriesPlot(model: OrgModel, view: SeriesView):
    """One card: ``view`` drawn from the model's DataCollector, with its latest values."""
    update_counter.get()
    frame = series_frame(model)
    image = solara.use_memo(lambda: png(draw_series(frame, view)), [model, model.time, view])
    with solara.Card(view.title, classes=["orgscale-plot"]):
        solara.Image(image, width="100%")
        solara.Text(latest_text(frame, view), classes=["orgscale-caption"])


def make_series_component(view: SeriesView) -> Callable[[OrgModel], Any]:
    """A SolaraViz-style component (a function of the model) for one series view."""

    def Series(model: OrgModel):
        return SeriesPlot(model, view)

    Series.__name__ = f"Series_{view.columns[0]}"
    return Series


components: list[Callable[[OrgModel], Any]] = [
    TeamGraph,
    *(make_series_component(v) for v in SERIES_VIEWS),
]


# ---------------------------------------------------------------------------- page
@solara.component
def Page(params: dict[str, Any] | None = None):
    """The page: controls and parameters in the sidebar, graph and plots in the main area.

    ``params`` overrides the controls' start values (used by tests). Unlike a plain
    ``SolaraViz``, where new parameters wait for Reset, changing any control rebuilds the
    model immediately; Step, ▶ and Reset are SolaraViz's own controller.
    """
    values = solara.use_reactive(initial_values(params))
    model = solara.use_memo(lambda: solara.reactive(OrgModel(**values.value)), [])
    error = solara.use_reactive(None)
    play_interval = solara.use_reactive(150)
    days_per_step = solara.use_reactive(1)
    use_threads = solara.use_reactive(False)

    def rebuild(name: str, value: Any) -> None:
        new = {**values.value, name: value}
        try:
            built = OrgModel(**new)
        except ValueError as err:  # an inconsistent combination: keep the current model
            error.value = str(err)
            return
        error.value = None
        values.value = new
        model.value = built

    def apply_preset(name: str) -> None:
        """Start from a preset's configuration (``model/presets``) or from the defaults."""
        new = initial_values(params)
        if name != NO_PRESET:
            new.update(load_preset(name).params())
        try:
            built = OrgModel(**new)
        except ValueError as err:
            error.value = f"{name}: {err}"
            return
        error.value = None
        preset.value, values.value, model.value = name, new, built

    preset = solara.use_reactive(NO_PRESET)
    current = model.value
    with solara.AppBar():
        solara.AppBarTitle("orgscale: one organisation at work")
    with solara.Sidebar(), solara.Column():
        with solara.Card("Controls"):
            solara.SliderInt(
                f"Play interval: {play_interval.value} ms",
                value=play_interval,
                min=10,
                max=1000,
                step=10,
            )
            solara.SliderInt(
                f"Days per step: {days_per_step.value}", value=days_per_step, min=1, max=30
            )
            ModelController(
                model,
                model_parameters=values,
                play_interval=play_interval,
                render_interval=days_per_step,
                use_threads=use_threads,
            )
        with solara.Card("Parameters"):
            solara.Select(
                "Preset",
                value=preset.value,
                values=[NO_PRESET, *preset_names()],
                on_value=apply_preset,
            )
            ParameterInputs(values.value, on_change=rebuild)
            if error.value:
                solara.Error(error.value)
        with solara.Card("Information"):
            DayInfo(current)
    solara.Title("orgscale: one run")
    graph, *plots = components
    with solara.Columns([1, 1]):
        graph(current)
        with solara.Column():
            for plot in plots[:2]:
                plot(current)
    with solara.Columns([1, 1]):
        for plot in plots[2:]:
            plot(current)


def on_steps(value: float, spec: dict[str, Any]) -> float:
    """Where a slider of ``spec`` shows ``value``: the nearest ``min + k·step`` within
    ``[min, max]``, rounded to the step's decimals, as the browser's slider (Vuetify's
    ``roundValue``) puts it. A default or preset value off those steps (patience 68.89 on
    steps of 5) is shown at 70, and the browser may send 70 back though nobody touched it.
    """
    step, low, high = spec["step"], spec["min"], spec["max"]
    text = repr(float(step))
    decimals = len(text.split(".")[1].rstrip("0")) if "e" not in text else 10
    snapped = round((min(max(value, low), high) - low) / step) * step + low
    return round(min(snapped, high), decimals)


@solara.component
def ParameterInputs(values: dict[str, Any], on_change: Callable[[str, Any], None]):
    """One input per adjustable entry of :data:`model_params`, its label showing its value.

    Mesa's own ``UserInputs`` takes the same dicts but does not show slider values. A slider
    never changes a value the user did not touch: the value it sends back for the one it was
    given, put on its steps (:func:`on_steps`), is not a change.
    """
    user_params, _ = split_model_params(model_params)
    for name, spec in user_params.items():
        kind, label, value = spec["type"], spec.get("label", name), values[name]

        def set_value(
            new: Any, name: str = name, spec: dict[str, Any] = spec, shown: Any = value
        ) -> None:
            if spec["type"].startswith("Slider") and new != shown and new == on_steps(shown, spec):
                return  # the slider showing our value on its steps, not the user's choice
            on_change(name, new)

        if kind == "Select":
            solara.Select(label, value=value, values=spec["values"], on_value=set_value)
        elif kind == "Checkbox":
            solara.Checkbox(label=label, value=value, on_value=set_value)
        elif kind in ("SliderInt", "SliderFloat"):
            slider = solara.SliderInt if kind == "SliderInt" else solara.SliderFloat
            slider(
                f"{label}: {value:g}",
                value=value,
                min=spec["min"],
                max=spec["max"],
                step=spec["step"],
                on_value=set_value,
            )
        else:
            raise ValueError(
                f"model_params[{name!r}] has type {kind!r}: expected one of "
                "Select, Checkbox, SliderInt, SliderFloat"
            )


@solara.component
def DayInfo(model: OrgModel):
    """The current day and headline numbers."""
    update_counter.get()
    solara.Text(
        f"Day {model.day} · {model.n_reviewers} reviewers · "
        f"{len(model.contributors)} contributors · {model.n_landed_all} changes landed",
        classes=["orgscale-day"],
    )


page = Page()
