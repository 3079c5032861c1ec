"""Shared by every figure script: the one seaborn theme, the results loader, slicing, saving.

Not a figure script itself (its name starts with ``_``). Figure scripts import it as
``import _common``; running a script puts this folder on ``sys.path``, and
:func:`paper.build` / ``orgscale figures`` add it before importing them.

* :func:`set_theme` – the single place the look of every figure is set.
* :func:`load_results` – the runs of a results folder (``sweeps.load_results``: one row
  per run), successful runs only.
* :func:`baseline` – the runs at the default value of every swept parameter except the ones
  a figure varies, chosen per topology.
* :func:`load_numbers` – the paper's ``paper_numbers.json`` in the results folder;
  :func:`load_links` – the per-link rows of ``link_pain_links.parquet``;
  :func:`worst_first_curve` – a Lorenz curve, the largest values first.
* :func:`org_style`, :func:`plot_curve` – one look per organisation; saturated N marked.
* :func:`save` – write ``<name>.png`` and ``<name>.pdf``, every text at least
  :data:`MIN_PRINT_PT` at the paper's text width (:func:`legible`).

Reads only ``results/``; never runs a model.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # non-interactive: figures are files, never windows

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from model.params import PARAMETERS

SCRIPTS_DIR = Path(__file__).resolve().parent
PAPER_DIR = SCRIPTS_DIR.parent
ROOT = PAPER_DIR.parent
DEFAULT_RESULTS = ROOT / "results" / "paper"
DEFAULT_FIGURES = PAPER_DIR / "figures"

if str(PAPER_DIR) not in sys.path:  # paper/analysis.py: the figures use its labels
    sys.path.insert(0, str(PAPER_DIR))
import analysis  # noqa: E402

TOPOLOGY_ORDER = ("single_core", "flat", "hierarchical", "modular")
#: The organisations of the paper (keys of ``paper/analysis.py``'s ORGS and STRUCTURES).
ORG_ORDER = (
    "single_core",
    "flat",
    "hierarchical",
    "tree4",
    "modular",
    "modular_l0",
    "modular_l1",
)
ORG_LABELS = analysis.ORG_LABELS
# Okabe-Ito, the colour-blind-safe palette; flat and modular differ in colour, marker and
# line style so they stay apart in grey too.
_OKABE_ITO = ("#000000", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9")
ORG_COLORS = dict(zip(ORG_ORDER, _OKABE_ITO, strict=True))
ORG_MARKERS = {
    "single_core": "o",
    "flat": "s",
    "hierarchical": "^",
    "tree4": "v",
    "modular": "D",
    "modular_l0": "P",
    "modular_l1": "X",
}
ORG_DASHES = {
    "single_core": "-",
    "flat": "-",
    "hierarchical": "-",
    "tree4": "-",
    "modular": "-.",
    "modular_l0": ":",
    "modular_l1": "--",
}
TOPOLOGY_LABELS = {t: ORG_LABELS.get(t, t) for t in TOPOLOGY_ORDER}
NUMBERS_FILE = "paper_numbers.json"
DPI = 200


def set_theme() -> None:
    """Apply the one theme every figure uses (seaborn ``paper`` context, white grid)."""
    sns.set_theme(
        context="paper",
        style="whitegrid",
        palette="colorblind",
        font_scale=1.1,
        rc={
            "figure.dpi": 100,
            "figure.constrained_layout.use": True,
            "savefig.dpi": DPI,
            "savefig.bbox": "tight",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "pdf.fonttype": 42,  # embed TrueType fonts: text stays text in the PDF
        },
    )


def load_results(results_dir: str | Path) -> pd.DataFrame:
    """Successful runs of a results folder, one row per run.

    Read by ``sweeps.load_results``, which counts a run once even when both ``runs.parquet``
    and a part file hold it. Rows whose ``status`` is not ``"ok"`` are dropped.

    Raises
    ------
    FileNotFoundError
        The folder does not exist or holds no runs.
    """
    from sweeps import load_results as sweeps_load

    path = Path(results_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"results folder {path} does not exist")
    df = sweeps_load(path)
    if df.empty:
        raise FileNotFoundError(f"{path} holds no runs")
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    return df.reset_index(drop=True)


def topologies(df: pd.DataFrame) -> list[str]:
    """Topologies present in ``df``, in the paper's order."""
    present = set(df["topology"].unique())
    return [t for t in TOPOLOGY_ORDER if t in present] + sorted(present - set(TOPOLOGY_ORDER))


def baseline(df: pd.DataFrame, vary: Iterable[str] = ("topology", "n_teams")) -> pd.DataFrame:
    """Runs at the baseline of every swept parameter that is not in ``vary``.

    For each topology separately, every model parameter that takes more than one value among
    that topology's runs (and is not in ``vary``) is held at its model default if any run
    has it, else at its most frequent value. Parameters are visited in the model's order.
    """
    vary = set(vary) | {"topology"}
    parts = []
    for _, group in df.groupby("topology", sort=False):
        for name, spec in PARAMETERS.items():
            if name in vary or name not in group.columns:
                continue
            values = group[name]
            if values.nunique(dropna=False) <= 1:
                continue
            at_default = values == spec.default
            if at_default.any():
                group = group[at_default]
            else:
                group = group[values == values.mode().iloc[0]]
        parts.append(group)
    if not parts:
        return df.iloc[0:0]
    return pd.concat(parts).sort_index()


def swept(df: pd.DataFrame, name: str) -> list[Any]:
    """Sorted distinct values of column ``name`` (empty if the column is absent)."""
    if name not in df.columns:
        return []
    return sorted(df[name].dropna().unique().tolist())


def law_curve(law: str, params: dict[str, float], n: np.ndarray) -> np.ndarray:
    """Evaluate a law of :mod:`sweeps.fit` with its fitted ``params`` at team counts ``n``."""
    n = np.asarray(n, dtype=float)
    p = params
    curves = {
        "constant": lambda: np.full_like(n, p.get("a", np.nan)),
        "affine": lambda: p["a"] + p["b"] * n,
        "linear": lambda: p["a"] * n,
        "nlogn": lambda: p["a"] * n * np.log(n),
        "quadratic": lambda: p["a"] * n * (n - 1) / 2 + p["b"] * n,
        "power": lambda: p["a"] * n ** p["b"],
        "usl": lambda: p["g"] * n / (1 + p["alpha"] * (n - 1) + p["beta"] * n * (n - 1)),
    }
    if law not in curves:
        raise ValueError(f"unknown law {law!r}: valid laws are {', '.join(curves)}")
    return curves[law]()


def law_label(law: dict[str, Any]) -> str:
    """A chosen law with its own fitted parameters, e.g. ``2.1 + 0.37·N (χ²/dof 1.2)``."""
    p, name = law["params"], law["best"]
    g = lambda v: f"{v:.3g}"  # noqa: E731
    plus = lambda v: f"+ {v:.3g}" if v >= 0 else f"− {-v:.3g}"  # noqa: E731
    text = {
        "constant": lambda: g(p["a"]),
        "affine": lambda: f"{g(p['a'])} {plus(p['b'])}·N",
        "linear": lambda: f"{g(p['a'])}·N",
        "nlogn": lambda: f"{g(p['a'])}·N ln N",
        "quadratic": lambda: f"{g(p['a'])}·N(N−1)/2 {plus(p['b'])}·N",
        "power": lambda: f"{g(p['a'])}·N^{g(p['b'])}",
        "usl": lambda: f"USL g={g(p['g'])} α={g(p['alpha'])} β={g(p['beta'])}",
    }[name]()
    fit = "" if law.get("fits") else ", no law fits"
    return f"{text} (χ²/dof {law['chi2_dof']:.2g}{fit})"


# Numbers computed for a results folder without being written into it (``orgscale
# figures`` reads results and never writes there): what load_numbers gives for the folder.
_NUMBERS_HELD: dict[Path, dict[str, Any]] = {}


def hold_numbers(results_dir: str | Path, doc: dict[str, Any] | None) -> None:
    """Make :func:`load_numbers` of ``results_dir`` return ``doc`` (``None``: read the file
    again) in this process."""
    key = Path(results_dir).resolve()
    if doc is None:
        _NUMBERS_HELD.pop(key, None)
    else:
        _NUMBERS_HELD[key] = doc


def load_numbers(results_dir: str | Path) -> dict[str, Any]:
    """The paper's numbers (``paper_numbers.json``, written by ``paper/build.py``, or the
    numbers held for the folder by :func:`hold_numbers`).

    Raises
    ------
    FileNotFoundError
        The folder has no numbers yet (``orgscale paper`` or ``orgscale figures`` writes them).
    """
    held = _NUMBERS_HELD.get(Path(results_dir).resolve())
    if held is not None:
        return held
    path = Path(results_dir) / NUMBERS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run orgscale figures or orgscale paper")
    return json.loads(path.read_text(encoding="utf-8"))


LINKS_FILE = "link_pain_links.parquet"


def load_links(results_dir: str | Path) -> pd.DataFrame | None:
    """Per-link rows of ``link_pain_links.parquet`` (``paper/link_pain.py``), or None."""
    path = Path(results_dir) / LINKS_FILE
    return pd.read_parquet(path) if path.is_file() else None


def worst_first_curve(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve with the largest values first: ``x`` the share of items (the worst
    first), ``y`` the share of the total they carry; both start at 0 and end at 1. An even
    spread is ``y = x``; ``y`` at ``x = 0.1`` is the top-decile share. Empty or all-zero
    input gives the even spread."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    x = np.arange(v.size + 1) / max(v.size, 1)
    if v.size == 0 or v.sum() <= 0:
        return x, x.copy()
    return x, np.concatenate([[0.0], np.cumsum(v) / v.sum()])


def values(estimates: Sequence[dict[str, Any]], field: str = "value") -> np.ndarray:
    """One field of a list of estimates as floats (a missing value is NaN)."""
    return np.array([np.nan if e.get(field) is None else e[field] for e in estimates], float)


def org_style(org: str, ci: bool = False) -> dict[str, Any]:
    """Colour, marker, line style and label of an organisation, the same in every figure;
    automation on is drawn dashed with hollow markers."""
    return {
        "color": ORG_COLORS.get(org, "grey"),
        "marker": ORG_MARKERS.get(org, "o"),
        "linestyle": "--" if ci else ORG_DASHES.get(org, "-"),
        "label": ORG_LABELS.get(org, org) + (", automation on" if ci else ""),
    }


def plot_curve(
    ax: plt.Axes,
    curve: dict[str, Any],
    metric: str,
    *,
    org: str,
    ci: bool = False,
    scale: float = 1.0,
    label: bool = True,
) -> None:
    """One organisation's per-N means with their CIs; saturated N drawn as crosses."""
    style = org_style(org, ci)
    n = np.asarray(curve["n"], dtype=float)
    est = curve[metric]
    y = values(est, "value") * scale
    lo, hi = values(est, "low") * scale, values(est, "high") * scale
    sat = np.asarray(curve["saturated_n"], dtype=bool)
    ax.plot(
        n,
        y,
        color=style["color"],
        linestyle=style["linestyle"],
        marker=style["marker"],
        ms=4,
        mfc="white" if ci else style["color"],
        label=style["label"] if label else None,
    )
    ax.fill_between(n, lo, hi, color=style["color"], alpha=0.15, linewidth=0)
    if sat.any():
        ax.scatter(n[sat], y[sat], marker="x", s=60, color="#D55E00", zorder=5, linewidths=1.5)


#: More sampled values than this on one axis: only every other one is labelled, so the
#: labels, enlarged to print legibly, do not run into each other.
MAX_TICK_LABELS = 7


def log_ticks(ax: plt.Axes, values: Sequence[float], axis: str = "x") -> None:
    """Put a tick at each sampled value of a log axis (1, 2, 4, ...), labelled with the value
    itself; of more than :data:`MAX_TICK_LABELS` values every other one is labelled."""
    values = sorted({float(v) for v in values if v > 0 and math.isfinite(v)})
    if not values:
        return
    labels = [f"{v:g}" for v in values]
    if len(values) > MAX_TICK_LABELS:  # every other one labelled, the largest always
        labels = [label if (len(values) - 1 - i) % 2 == 0 else "" for i, label in enumerate(labels)]
    if axis == "x":
        ax.set_xticks(values, labels)
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    else:
        ax.set_yticks(values, labels)


def no_data(ax: plt.Axes, message: str) -> None:
    """Mark an empty panel with a short explanation instead of leaving it blank."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


#: Width (inches) at which the paper's PDF places a figure: the text width of an A4 page
#: with 2 cm side margins (``PDF_DEFAULTS`` in ``paper/build.py``). A wider figure is
#: scaled down to it.
TEXT_WIDTH_IN = (210 - 2 * 20) / 25.4
#: The smallest type (points) any figure may print at, once placed at :data:`TEXT_WIDTH_IN`.
MIN_PRINT_PT = 7.0


def print_scale(fig: plt.Figure) -> float:
    """The factor by which the PDF scales ``fig`` to fit the text width (at most 1)."""
    return min(1.0, TEXT_WIDTH_IN / fig.get_size_inches()[0])


def legible(fig: plt.Figure) -> plt.Figure:
    """Enlarge every text of ``fig`` that would print below :data:`MIN_PRINT_PT` once the
    figure is scaled to the text width (titles, labels, ticks, legends, annotations)."""
    from matplotlib.text import Text

    floor = MIN_PRINT_PT / print_scale(fig)
    for ax in fig.axes:  # tick labels drawn later are made from the axis' settings
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            if any(t.label1.get_fontsize() < floor for t in ticks):
                ax.tick_params(axis=name, which="both", labelsize=floor)
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < floor:
            text.set_fontsize(floor)
    return fig


def overlapping_texts(fig: plt.Figure, tolerance_px: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of visible texts of ``fig`` that print on top of each other.

    Every non-empty text is compared with every other by its drawn extent (tick labels,
    axis labels, titles, legend entries, annotations); extents that overlap by more than
    ``tolerance_px`` pixels both ways count. Only texts are compared: a legend over a line
    or a bar is not reported, a legend entry over a tick label is. Tick labels whose tick
    lies outside its axis' view are left out, since they are never drawn.
    """
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    off_view: set[int] = set()
    for ax in fig.axes:
        frame = ax.get_window_extent(renderer)
        for axis, (low, high), along in (
            (ax.xaxis, (frame.x0, frame.x1), 0),
            (ax.yaxis, (frame.y0, frame.y1), 1),
        ):
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for label in (tick.label1, tick.label2):
                    box = label.get_window_extent(renderer)
                    centre = (box.x0 + box.x1) / 2 if along == 0 else (box.y0 + box.y1) / 2
                    if not low - 1 <= centre <= high + 1:
                        off_view.add(id(label))
    boxes = []
    seen: set[int] = set(off_view)
    for text in fig.findobj(Text):
        if id(text) in seen or not text.get_visible() or not text.get_text().strip():
            continue
        seen.add(id(text))
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text.get_text(), box))
    pairs = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            dx = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            dy = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if dx > tolerance_px and dy > tolerance_px:
                pairs.append((a, b))
    return pairs


def save(fig: plt.Figure, out_dir: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``<out_dir>/<name>.png`` and ``.pdf``, close it, return both paths.

    Every text is first made :func:`legible` at the width the paper prints the figure.
    """
    legible(fig)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    for path in paths:
        # no creation date in the PDF: the same results give byte-identical files
        metadata = {"CreationDate": None} if path.suffix == ".pdf" else None
        fig.savefig(path, metadata=metadata)
    plt.close(fig)
    return paths


def cli(main, doc: str | None, argv: Sequence[str] | None = None) -> int:
    """The command line every figure script shares: ``RESULTS_DIR [--out DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument(
        "results_dir",
        nargs="?",
        default=str(DEFAULT_RESULTS),
        help=f"results folder (default {DEFAULT_RESULTS.relative_to(ROOT)})",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_FIGURES),
        help=f"output folder (default {DEFAULT_FIGURES.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    for path in main(args.results_dir, args.out):
        print(f"wrote {path}")
    return 0
