"""Transfer: does the behaviour calibrated on one project predict another project's patterns?

The source is a calibration folder written by ``orgscale calibrate`` (its
``posterior.parquet``, ``manifest.json`` and preset). Its posterior's *behaviour*
parameters (every calibrated parameter that is not load: ``review_rate``, ``rework_prob``,
``patience_days``, ``check_fail_prob``, ...) are drawn by weight; its preset's structure
(topology, staffing policy, approvals, gate, routing, warm-up) is kept. The *load* comes
from the target alone, period by period, by these rules (:func:`target_load`):

* contributors: the authors of the changes the target landed in the period;
* areas: the source's contributors per area kept, ``n_teams = max(1, round(authors /
  contributors_per_team))``;
* demand (new changes a day): the target's ``submitted_per_day`` if its source records it
  (a Gerrit export), else its ``merged_per_day`` × a submitted-per-merged ratio (a git
  history records only what landed): the one given, else the source preset's own observed
  ``submitted_per_day`` / ``merged_per_day``; ``change_rate`` = demand / contributors;
* core size: the one given (the target's core team, e.g. from its published group),
  else the source's core scaled by demand: ``max(approvals_needed, round(source core ×
  target demand / source demand))``, the source's demand being its posterior-median
  ``change_rate`` × its contributors.

Each period is its own run (warm-up, then the period's days) over ``draws`` posterior draws
× ``seeds`` seeds; :func:`transfer_table` compares each observed pattern with the simulated
median and 90% band, :func:`error_summary` gives the median absolute log error and the
share of patterns inside the band. Nothing here is refitted to the target.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from model.params import validate_params
from model.presets import Preset, PresetError, load_preset
from observe.patterns import Window
from observe.simulated import run_patterns
from sweeps.calibration_abc import as_run
from sweeps.workers import forked_pool

# parameters that describe a project's size and demand, never taken from the source
LOAD_PARAMETERS = (
    "change_rate",
    "n_teams",
    "contributors_per_team",
    "core_reviewers",
    "reviewers_per_area",
    "reviewers_per_team",
    "contributor_growth",
)
# patterns compared, when the target observed them
PREDICTED = ("merged_per_day", "lead_time_p25", "lead_time_p50", "lead_time_p75", "lead_time_p90")
DEMAND = "submitted_per_day"  # the load put in: simulated, compared as a check of the input
BAND = (0.05, 0.95)
ROOT_SEED = 20130101
DEFAULT_DRAWS = 20
DEFAULT_SEEDS = 2


class TransferError(ValueError):
    """An unusable source calibration or target (one-line message)."""


@dataclass(frozen=True)
class Source:
    """A calibration folder: its preset, posterior and what it says about demand and core."""

    folder: Path
    preset: Preset
    posterior: pd.DataFrame  # the calibrated parameters and ``weight``
    behaviour: tuple[str, ...]  # posterior parameters taken over
    converged: bool | None
    converged_reason: str
    fingerprint: str

    @property
    def name(self) -> str:
        return self.preset.name

    def params(self) -> dict[str, Any]:
        """The source preset's configuration with the posterior medians (weighted; an
        integer parameter rounded, as the calibration ran it)."""
        medians = {}
        for name in self.posterior.columns:
            if name in ("weight", "generation"):
                continue
            medians[name] = as_run(
                name, weighted_median(self.posterior[name], self.posterior["weight"])
            )
        return validate_params(self.preset.params(medians))

    def core(self) -> int:
        """The source's core size at the start of a run (as its staffing policy sets it)."""
        params = self.params()
        if params["staffing"] == "fixed_core":
            return int(params["core_reviewers"])
        return max(1, round(params["reviewers_per_area"] * params["n_teams"]))

    def demand(self) -> float:
        """New changes a day of the source's configuration at its posterior medians."""
        params = self.params()
        return params["change_rate"] * params["n_teams"] * params["contributors_per_team"]

    def submitted_per_merged(self) -> float | None:
        """The source preset's observed submitted / merged per day, if it observed both."""
        observed = {p.metric: p.center for p in self.preset.patterns if p.window is None}
        if DEMAND in observed and observed.get("merged_per_day"):
            return observed[DEMAND] / observed["merged_per_day"]
        return None


def weighted_median(values: pd.Series, weights: pd.Series) -> float:
    """The weighted median of ``values`` (the smallest value with half the weight at or below)."""
    order = np.argsort(values.to_numpy(float))
    v = values.to_numpy(float)[order]
    w = np.cumsum(weights.to_numpy(float)[order])
    return float(v[np.searchsorted(w, 0.5 * w[-1])])


def load_source(folder: str | Path) -> Source:
    """Read a calibration folder: ``posterior.parquet``, ``manifest.json`` and its preset.

    The preset is ``folder/preset.toml`` if present, else the manifest's ``preset_file``
    (absolute, or relative to the working folder) if it exists, else the shipped preset
    named by the manifest's ``preset``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TransferError(f"{folder}: not a folder (expected a calibration folder)")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TransferError(f"{folder}: no manifest.json (not a calibration folder)") from None
    except (OSError, json.JSONDecodeError) as err:
        raise TransferError(f"{folder}/manifest.json: unreadable ({err})") from None
    if not isinstance(manifest, dict) or "preset" not in manifest:
        raise TransferError(f"{folder}/manifest.json: expected an object naming its preset")
    try:
        if (folder / "preset.toml").is_file():
            preset = load_preset(folder / "preset.toml")
        elif manifest.get("preset_file") and Path(manifest["preset_file"]).is_file():
            preset = load_preset(Path(manifest["preset_file"]))
        else:
            preset = load_preset(str(manifest["preset"]))
    except PresetError as err:
        raise TransferError(f"{folder}: its preset: {err}") from None
    try:
        posterior = pd.read_parquet(folder / "posterior.parquet")
    except FileNotFoundError:
        raise TransferError(f"{folder}: no posterior.parquet (not a calibration folder)") from None
    except Exception as err:  # pyarrow raises several kinds for a damaged file
        raise TransferError(f"{folder}/posterior.parquet: unreadable ({err})") from None
    if "weight" not in posterior or not len(posterior):
        raise TransferError(f"{folder}/posterior.parquet: expected particles with a weight column")
    weights = posterior["weight"].to_numpy(float)
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise TransferError(f"{folder}/posterior.parquet: weights must be finite, ≥ 0, not all 0")
    names = [c for c in posterior.columns if c not in ("weight", "generation")]
    behaviour = tuple(n for n in names if n not in LOAD_PARAMETERS)
    return Source(
        folder=folder,
        preset=preset,
        posterior=posterior[[*names, "weight"]].reset_index(drop=True),
        behaviour=behaviour,
        converged=manifest.get("converged"),
        converged_reason=str(manifest.get("converged_reason", "")),
        fingerprint=str(manifest.get("fingerprint", "")),
    )


# --------------------------------------------------------------------------- the target
def load_target(
    path: str | Path,
    *,
    since: str | None = None,
    until: str | None = None,
    every: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The target's patterns, as ``orgscale observe --json`` gives them.

    ``path`` is a file written by ``orgscale observe --json`` (a JSON object with a
    ``window``; ``since``/``until``/``every`` must then be left out: it was observed
    already), or any source ``orgscale observe`` reads (a git repository, a Gerrit export),
    observed here over ``since``/``until``, by ``every`` period if given.
    """
    path = Path(path)
    if not path.exists():
        raise TransferError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix == ".json":
        try:
            summary = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            summary = None  # maybe a Gerrit/GitHub export: observe reads it below
        if isinstance(summary, dict) and "window" in summary:
            if since or until or every:
                raise TransferError(
                    f"{path}: a patterns file is observed already: drop --since/--until/--every"
                )
            return summary
    from observe.patterns import change_table
    from observe.sources import ObserveError, read_source
    from observe.summary import (
        WindowError,
        parse_bound,
        resolve_window,
        summarize,
        summarize_periods,
    )

    try:
        history = read_source(
            path,
            since=parse_bound(since, dated=True, what="--since"),
            until=parse_bound(until, dated=True, what="--until"),
            progress=progress,
        )
        changes = change_table(history.table)
        if not len(changes.table):
            raise WindowError("the source holds no change")
        window = resolve_window(history.table, changes, since, until)
        summary = summarize(history.table, changes, window, workflow=history.workflow)
        if every:
            summary["periods"] = summarize_periods(
                history.table, changes, window, workflow=history.workflow, every=every
            )
    except (ObserveError, WindowError) as err:
        raise TransferError(str(err)) from None
    summary["source"] = {"path": path.name, "commit": history.commit}
    return summary


def periods_of(target: dict[str, Any]) -> list[dict[str, Any]]:
    """The target's periods (its whole window when it has none), each with landed changes
    and authors, the two a load needs."""
    periods = target.get("periods") or [target]
    out = []
    for p in periods:
        if not p.get("authors") or not p.get("merged_per_day") or not p.get("window"):
            label = _label(p)
            raise TransferError(
                f"target period {label}: needs landed changes with authors (got "
                f"merged_per_day={p.get('merged_per_day')}, authors={p.get('authors')})"
            )
        out.append(p)
    return out


def _label(period: dict[str, Any]) -> str:
    window = period.get("window") or {}
    if "since" in window:
        return f"{window['since']}/{window['until']}"
    return f"{window.get('start_days', '?')}/{window.get('end_days', '?')}"


def target_load(
    period: dict[str, Any],
    source: Source,
    *,
    core: int | None = None,
    submitted_per_merged: float | None = None,
) -> dict[str, Any]:
    """The load parameters of one target period (module docstring), and how each was set."""
    params = source.params()
    authors = round(period["authors"])
    per_area = max(1, int(params["contributors_per_team"]))
    n_teams = max(1, round(authors / per_area))
    if period.get(DEMAND):
        demand, demand_rule = float(period[DEMAND]), "the target's submitted_per_day"
    else:
        ratio, whence = submitted_per_merged, "given"
        if ratio is None:
            ratio, whence = source.submitted_per_merged(), f"{source.name}'s observed ratio"
        if ratio is None:
            raise TransferError(
                f"the target records no submitted_per_day and {source.name} observed no "
                "submitted/merged ratio: give --submitted-per-merged"
            )
        demand = float(period["merged_per_day"]) * ratio
        demand_rule = f"merged_per_day × {ratio:.4g} ({whence})"
    if core is None:
        core = max(
            int(params["approvals_needed"]),
            round(source.core() * demand / source.demand()),
        )
        core_rule = f"{source.name}'s core {source.core()} × demand ratio"
    else:
        core_rule = "given"
    load = {
        "n_teams": n_teams,
        "contributors_per_team": per_area,
        "change_rate": demand / (n_teams * per_area),
        "core_reviewers": int(core),
        "reviewers_per_area": core / n_teams,
        "contributor_growth": 0.0,
    }
    info = {
        "period": _label(period),
        "days": float(period["window"]["days"]),
        "authors": authors,
        "contributors": n_teams * per_area,
        "demand_per_day": demand,
        "demand_rule": demand_rule,
        "core": int(core),
        "core_rule": core_rule,
    }
    return {"load": load, "info": info}


# --------------------------------------------------------------------------- simulation
def draw_behaviour(source: Source, draws: int, seed: int = ROOT_SEED) -> list[dict[str, float]]:
    """``draws`` particles drawn by weight from the posterior: their behaviour parameters
    (an integer parameter rounded, as the calibration ran it)."""
    rng = np.random.default_rng(seed)
    weights = source.posterior["weight"].to_numpy(float)
    picks = rng.choice(len(weights), size=draws, p=weights / weights.sum())
    return [{n: as_run(n, source.posterior[n].iloc[k]) for n in source.behaviour} for k in picks]


def _run(task: tuple[dict[str, Any], int, float, dict]) -> dict[str, float]:
    params, seed, days, windows = task
    values = run_patterns(params, seed, days, (), windows)
    return {key: values[key] for key in windows}


def simulate_transfer(
    source: Source,
    loads: list[dict[str, Any]],
    behaviours: list[dict[str, float]],
    *,
    seeds: int = DEFAULT_SEEDS,
    jobs: int = 1,
    root_seed: int = ROOT_SEED,
    quiet: bool = True,
    stream: TextIO | None = None,
) -> pd.DataFrame:
    """One row a run: period, draw, seed and the patterns over the period's window.

    Each period is run alone: the source's warm-up, then the period's days, with the
    period's load and one behaviour draw. Seeds: ``root_seed``, draw and replicate, the
    same in every period.
    """
    base = source.params()
    warmup = float(base["warmup_days"])
    tasks, keys = [], []
    for load in loads:
        days = load["info"]["days"]
        windows = {name: (name, Window(warmup, warmup + days)) for name in (DEMAND, *PREDICTED)}
        for d, behaviour in enumerate(behaviours):
            params = validate_params({**base, **behaviour, **load["load"]})
            for r in range(seeds):
                seed = int(np.random.SeedSequence(root_seed, spawn_key=(d, r)).generate_state(1)[0])
                tasks.append((params, seed, warmup + days, windows))
                keys.append({"period": load["info"]["period"], "draw": d, "seed": seed})
    stream = sys.stderr if stream is None else stream
    with contextlib.ExitStack() as stack:
        if jobs > 1 and len(tasks) > 1:
            rows = stack.enter_context(forked_pool(min(jobs, len(tasks)))).imap(_run, tasks)
        else:
            rows = map(_run, tasks)
        if not quiet:
            from tqdm import tqdm

            rows = tqdm(rows, total=len(tasks), desc="transfer", unit="run", file=stream)
        values = list(rows)
    return pd.DataFrame([{**k, **v} for k, v in zip(keys, values, strict=True)])


# --------------------------------------------------------------------------- comparison
def compare(observed: float, simulated: np.ndarray) -> dict[str, Any]:
    """One pattern: the simulated median and 90% band against the observed value."""
    finite = simulated[np.isfinite(simulated)]
    if finite.size:
        lo, med, hi = (float(x) for x in np.quantile(finite, [BAND[0], 0.5, BAND[1]]))
    else:
        lo = med = hi = math.nan
    ok = observed > 0 and med > 0
    return {
        "observed": observed,
        "sim_median": med,
        "sim_p05": lo,
        "sim_p95": hi,
        "sim_nan": int(simulated.size - finite.size),
        "rel_error": (med - observed) / observed if observed else math.nan,
        "log_error": math.log(med / observed) if ok else math.nan,
        "inside": bool(lo <= observed <= hi) if finite.size else False,
    }


def transfer_table(
    periods: list[dict[str, Any]], loads: list[dict[str, Any]], runs: pd.DataFrame
) -> pd.DataFrame:
    """One row a period and pattern the target observed (and one for the demand put in)."""
    rows = []
    for period, load in zip(periods, loads, strict=True):
        label = load["info"]["period"]
        mine = runs[runs["period"] == label]
        for name in (DEMAND, *PREDICTED):
            if name == DEMAND:
                observed, role = load["info"]["demand_per_day"], "input (demand)"
            elif period.get(name) is None:
                continue
            else:
                observed, role = float(period[name]), "predicted"
            values = mine[name].to_numpy(float) if name in mine else np.array([])
            rows.append(
                {"period": label, "pattern": name, "role": role, **compare(observed, values)}
            )
    return pd.DataFrame(rows)


def error_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Over the predicted patterns: median absolute log error, share inside the 90% band."""
    predicted = table[table["role"] == "predicted"]
    logs = predicted["log_error"].to_numpy(float)
    logs = np.abs(logs[np.isfinite(logs)])
    out: dict[str, Any] = {
        "patterns": len(predicted),
        "median_abs_log_error": float(np.median(logs)) if logs.size else math.nan,
        "share_inside_band": float(predicted["inside"].mean()) if len(predicted) else math.nan,
    }
    out["typical_factor"] = math.exp(out["median_abs_log_error"])
    by = {}
    for name, group in predicted.groupby("pattern", sort=False):
        g = np.abs(group["log_error"].to_numpy(float))
        g = g[np.isfinite(g)]
        by[name] = {
            "median_abs_log_error": float(np.median(g)) if g.size else math.nan,
            "median_log_error": float(np.median(group["log_error"])),
            "share_inside_band": float(group["inside"].mean()),
        }
    out["by_pattern"] = by
    return out


def format_table(table: pd.DataFrame) -> str:
    """The transfer table as aligned plain text."""
    header = ("period", "pattern", "observed", "simulated median [90%]", "rel err", "log err", "in")
    body = []
    for row in table.itertuples():
        sim = (
            "nan"
            if math.isnan(row.sim_median)
            else f"{row.sim_median:.3g} [{row.sim_p05:.3g}, {row.sim_p95:.3g}]"
        )
        pattern = row.pattern if row.role == "predicted" else f"{row.pattern} (input)"
        body.append(
            (
                row.period,
                pattern,
                f"{row.observed:.3g}",
                sim,
                f"{row.rel_error:+.0%}",
                f"{row.log_error:+.2f}",
                "yes" if row.inside else "no",
            )
        )
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def format_summary(summary: dict[str, Any]) -> str:
    """The summary line and one line a pattern."""
    lines = [
        f"{summary['patterns']} predicted patterns: median |log error| "
        f"{summary['median_abs_log_error']:.3f} (a factor of {summary['typical_factor']:.2f}), "
        f"{summary['share_inside_band']:.0%} inside the simulated 90% band"
    ]
    for name, s in summary["by_pattern"].items():
        lines.append(
            f"  {name}: median |log error| {s['median_abs_log_error']:.3f}, median log error "
            f"{s['median_log_error']:+.3f}, {s['share_inside_band']:.0%} inside"
        )
    return "\n".join(lines)
