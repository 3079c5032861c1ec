"""Shared by every figure script: the one seaborn theme, the results loader, slicing, saving.

Not a figure script itself (its name starts with ``_``). Figure scripts import it as
``import _common``; running a script puts this folder on ``sys.path``, and
:func:`paper.build` / ``orgscale figures`` add it before importing them.

* :func:`set_theme` – the single place the look of every figure is set.
* :func:`load_results` – the runs of a results folder (``sweeps.load_results``: one row
  per run), successful runs only.
* :func:`baseline` – the runs at the default value of every swept parameter except the ones
  a figure varies, chosen per topology.
* :func:`load_fits` – the paper's ``fits.json`` in the results folder (fitted in memory if
  it is missing or of another kind).
* :func:`save` – write ``<name>.png`` and ``<name>.pdf``.

Reads only ``results/``; never runs a model.
"""

from __future__ import annotations

import json
import math
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

TOPOLOGY_ORDER = ("single_core", "flat", "hierarchical", "modular")
TOPOLOGY_LABELS = {
    "single_core": "single core",
    "flat": "flat (all-to-all)",
    "hierarchical": "hierarchical",
    "modular": "modular",
}
TOPOLOGY_COLORS = dict(zip(TOPOLOGY_ORDER, sns.color_palette("colorblind", 4), strict=True))
TOPOLOGY_MARKERS = {"single_core": "o", "flat": "s", "hierarchical": "^", "modular": "D"}
PAPER_FITS_SCHEMA = "orgscale-paper-fits"
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
    """Evaluate a law of :mod:`sweeps.fit` with fitted ``params`` at team counts ``n``."""
    n = np.asarray(n, dtype=float)
    a = params["a"]
    if law == "constant":
        return np.full_like(n, a)
    if law == "linear":
        return a * n
    if law == "nlogn":
        return a * n * np.log(n)
    if law == "quadratic":
        return a * n * (n - 1) / 2 + params["b"] * n
    if law == "power":
        return a * n ** params["b"]
    raise ValueError(
        f"unknown law {law!r}: valid laws are constant, linear, nlogn, quadratic, power"
    )


LAW_LABELS = {
    "constant": "a",
    "linear": "a·N",
    "nlogn": "a·N ln N",
    "quadratic": "a·N(N−1)/2 + b·N",
    "power": "a·N^b",
}


def load_fits(results_dir: str | Path, df: pd.DataFrame | None = None) -> dict[str, Any]:
    """The paper's fits for a results folder.

    Reads ``fits.json`` from the folder when it is the paper's document (written by
    ``paper/build.py``); otherwise fits the results in memory (nothing is written).
    """
    path = Path(results_dir) / "fits.json"
    if path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("schema") == PAPER_FITS_SCHEMA:
            return doc
    import _fits

    if df is None:
        df = load_results(results_dir)
    return _fits.compute_fits(df, n_boot=200, seed=0)


def find_group(fit: dict[str, Any], **key: Any) -> dict[str, Any] | None:
    """The group of one fit in ``fits.json`` whose key matches ``key`` (None if absent)."""
    for group in fit.get("groups", []):
        if all(group["key"].get(k) == v for k, v in key.items()):
            return group
    return None


def band(
    ax: plt.Axes,
    runs: pd.DataFrame,
    metric: str,
    *,
    color: Any,
    label: str,
    marker: str = "o",
    positive: bool = False,
    linestyle: str = "-",
) -> pd.DataFrame:
    """Plot the mean of ``metric`` over replicates against N, shaded from the smallest to the
    largest replicate; with ``positive`` (log axes) N with a non-positive mean are skipped.
    Returns the per-N mean, min and max."""
    runs = runs[runs[metric].notna()]
    stats = runs.groupby("n_teams")[metric].agg(["mean", "min", "max"]).sort_index()
    if positive:
        stats = stats[stats["mean"] > 0]
        stats["min"] = stats["min"].where(stats["min"] > 0, stats["mean"])
    if stats.empty:
        return stats
    n = stats.index.to_numpy(float)
    ax.plot(n, stats["mean"], marker=marker, color=color, label=label, linestyle=linestyle, ms=4)
    ax.fill_between(n, stats["min"], stats["max"], color=color, alpha=0.2, linewidth=0)
    return stats


def topology_style(topology: str) -> dict[str, Any]:
    """Colour, marker and label of a topology, the same in every figure."""
    return {
        "color": TOPOLOGY_COLORS.get(topology, "grey"),
        "marker": TOPOLOGY_MARKERS.get(topology, "o"),
        "label": TOPOLOGY_LABELS.get(topology, topology),
    }


def log_ticks(ax: plt.Axes, values: Sequence[float], axis: str = "x") -> None:
    """Label a log axis with the sampled values themselves (1, 2, 4, ...)."""
    values = sorted({float(v) for v in values if v > 0 and math.isfinite(v)})
    if not values:
        return
    labels = [f"{v:g}" for v in values]
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


def save(fig: plt.Figure, out_dir: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``<out_dir>/<name>.png`` and ``.pdf``, close it, return both paths."""
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
