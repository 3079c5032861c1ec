"""``orgscale advise``'s stages, each writing into one folder and skipped when already done.

observe → ``observed.toml``, ``events.parquet``; calibrate → ``preset.toml``,
``calibration/``; compare → ``comparison.parquet``; report → ``report.md``, ``report.pdf``,
``figures/``. ``advise.json`` records each stage's fingerprint (a hash of its inputs and of
the stage before it) and whether it finished, so a rerun skips what is done and matches,
resumes what was interrupted (the calibration from its last generation, the comparison from
its finished runs), and redoes a stage whose inputs changed, and every stage after it.
Settings a stage derives from a measured run time (population, draws) are recorded when it
starts, so a resumed stage keeps them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sweeps.atomic import atomic_write, atomic_write_json, atomic_write_text

#: Bump when a stage's output changes meaning, so old folders are redone.
VERSION = 1
ROOT_SEED = 20140911
REPLICATES = 2


class AdviseError(ValueError):
    """Bad input or a history that cannot be advised on; the message is one line."""


@dataclass(frozen=True)
class Options:
    """What ``orgscale advise`` was asked."""

    source: Path
    out: Path
    since: str | None = None
    until: str | None = None
    areas_depth: int | None = None
    areas_file: Path | None = None
    horizon_years: float = 3.0
    budget_minutes: float = 30.0
    jobs: int = 1
    # fixed settings instead of those derived from the budget (tests, benchmarks)
    population: int | None = None
    generations: int | None = None
    draws: int | None = None


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _report_code() -> str:
    """A hash of the report's code and template: a report is cheap to write, so one written
    by other code is rewritten rather than kept."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("report.py", "report_template.md", "analysis.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


class Manifest:
    """``advise.json``: per stage its fingerprint, settings and whether it finished."""

    def __init__(self, out: Path) -> None:
        self.path = out / "advise.json"
        self.data: dict[str, Any] = {"version": VERSION, "stages": {}}
        if self.path.exists():
            with contextlib.suppress(json.JSONDecodeError):
                self.data = json.loads(self.path.read_text())
        self.data.setdefault("stages", {})

    def stage(self, name: str) -> dict[str, Any]:
        return self.data["stages"].get(name, {})

    def done(self, name: str, fingerprint: str, *files: Path) -> bool:
        entry = self.stage(name)
        return (
            entry.get("fingerprint") == fingerprint
            and bool(entry.get("done"))
            and all(f.exists() for f in files)
        )

    def start(self, name: str, fingerprint: str, settings: dict[str, Any]) -> dict[str, Any]:
        """Settings of a stage: those recorded when it started with this fingerprint, else
        ``settings`` (recorded now)."""
        entry = self.stage(name)
        if entry.get("fingerprint") == fingerprint and "settings" in entry:
            return entry["settings"]
        self.data["stages"][name] = {"fingerprint": fingerprint, "settings": settings}
        self.save()
        return settings

    def finish(self, name: str, **info: Any) -> None:
        self.data["stages"][name].update(done=True, **info)
        self.save()

    def save(self) -> None:
        atomic_write_json(self.path, self.data)


def source_identity(source: Path) -> str:
    """What the history read is: a git repository's HEAD commit, an export's content hash."""
    if source.is_dir():
        done = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True
        )
        return done.stdout.strip() or f"unreadable:{source.resolve()}"
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- observe
def stage_observe(opts: Options, manifest: Manifest | None, say) -> tuple[dict, str]:
    """Read and summarise the history; returns (observations, fingerprint).

    ``manifest`` is ``None`` before the output folder exists: nothing is written until the
    history has been read and found usable.
    """
    import tomllib

    areas_hash = source_identity(opts.areas_file) if opts.areas_file else None
    fp = _hash(
        "observe",
        VERSION,
        str(opts.source.resolve()),
        source_identity(opts.source),
        opts.since,
        opts.until,
        opts.areas_depth,
        areas_hash,
    )
    toml_path, events_path = opts.out / "observed.toml", opts.out / "events.parquet"
    if manifest is not None and manifest.done("observe", fp, toml_path, events_path):
        say("observe: done already (observed.toml)")
        return tomllib.loads(toml_path.read_text()), fp
    return _observe(opts, say), fp


def _observe(opts: Options, say) -> dict[str, Any]:
    import datetime as dt

    from observe.sources import ObserveError, read_source
    from sweeps.advise.observed import TooLittleHistory, observe_project

    bounds = []
    for option, text in (("--since", opts.since), ("--until", opts.until)):
        try:
            bounds.append(dt.date.fromisoformat(text) if text else None)
        except ValueError:
            raise AdviseError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None
    since, until = bounds
    say(f"observe: reading {opts.source}")
    try:
        history = read_source(
            opts.source,
            since=since,
            until=until,
            areas_depth=opts.areas_depth or (None if opts.areas_file else 1),
            areas_file=opts.areas_file,
            progress=lambda m: say(f"observe: {m}"),
        )
    except ObserveError as err:
        raise AdviseError(str(err)) from None
    if history.workflow == "model":
        raise AdviseError(f"{opts.source}: a model run's event log, not a project's history")
    directories = None
    if opts.areas_file is not None:  # the split by top-level directory needs them too
        say("observe: reading again with top-level directories as areas")
        try:
            directories = read_source(opts.source, since=since, until=until, areas_depth=1)
        except ObserveError as err:
            raise AdviseError(str(err)) from None
    try:
        observed = observe_project(
            history.table,
            workflow=history.workflow,
            source=str(opts.source),
            commit=history.commit,
            directories=None if directories is None else directories.table,
        )
    except TooLittleHistory as err:
        raise AdviseError(f"{opts.source}: {err}") from None
    observed["_table"] = history.table
    return observed


def write_observed(opts: Options, manifest: Manifest, observed: dict, fp: str) -> dict:
    """Write ``observed.toml`` and ``events.parquet`` (if just read); returns observed."""
    import tomli_w

    from model.eventlog import write_events

    table = observed.pop("_table", None)
    if table is None:
        return observed
    manifest.start("observe", fp, {})
    write_events(table, opts.out / "events.parquet")
    atomic_write_text(opts.out / "observed.toml", tomli_w.dumps(_toml_ready(observed)))
    manifest.finish("observe")
    return observed


def _toml_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _toml_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_toml_ready(v) for v in value]
    if value is None:
        return float("nan")
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


# --------------------------------------------------------------------------- calibrate
def stage_calibrate(opts: Options, manifest: Manifest, observed: dict, fp_obs: str, say):
    """Calibrate the behaviour parameters to the project; returns (result info, fingerprint)."""
    from model.presets import parse_preset
    from sweeps.advise.compare import time_one_run
    from sweeps.advise.mapping import (
        CALIBRATION_SHARE,
        as_is_config,
        calibration_settings,
        preset_text,
    )

    fp = _hash("calibrate", fp_obs, opts.budget_minutes, opts.population, opts.generations)
    out = opts.out / "calibration"
    if manifest.done("calibrate", fp, out / "posterior.parquet", opts.out / "preset.toml"):
        say("calibrate: done already (calibration/)")
        return manifest.stage("calibrate"), fp
    config = as_is_config(observed)
    days = config["warmup_days"] + observed["window"]["days"]
    text = preset_text(observed, config, days)
    preset = parse_preset(text, source=str(opts.out / "preset.toml"))
    entry = manifest.stage("calibrate")
    resuming = entry.get("fingerprint") == fp and "settings" in entry
    if not resuming:
        seconds = time_one_run(preset.params(), days)
        settings = calibration_settings(opts.budget_minutes, seconds, opts.jobs, len(preset.priors))
        settings["run_seconds"] = seconds
        settings["seconds"] = CALIBRATION_SHARE * opts.budget_minutes * 60
        if opts.population:
            settings["population"] = opts.population
        if opts.generations:
            settings["generations"] = opts.generations
        fresh = out.exists()
    else:
        fresh = False
    settings = manifest.start("calibrate", fp, settings if not resuming else {})
    atomic_write_text(opts.out / "preset.toml", text)
    say(
        f"calibrate: {len(preset.priors)} parameters, {len(preset.in_sample())} patterns, "
        f"population {settings['population']}, up to {settings['generations']} generations of "
        f"{days:.0f}-day runs ({settings['run_seconds']:.2f} s each), "
        f"{settings['seconds']:.0f} s budget"
    )
    result = _calibrate_within(preset, out, settings, days, opts.jobs, fresh, say)
    info = {
        "epsilon": result.epsilon,
        "generations_run": result.generations,
        "n_simulations": result.n_simulations,
        "min_epsilon": preset.settings()["min_epsilon"],
        "converged": result.converged,
        "days": days,
    }
    manifest.finish("calibrate", **info)
    return manifest.stage("calibrate"), fp


def _calibrate_within(preset, out: Path, settings: dict, days: float, jobs: int, fresh, say):
    """:func:`sweeps.calibrate.calibrate` one generation more at a time while the next one
    (predicted to take as long as the last, or 1.5× it) fits in ``settings["seconds"]``,
    up to ``settings["generations"]`` or until the calibration says it converged (its fit
    distance reached the preset's ``min_epsilon`` tolerance units; an adaptive distance's ε
    is on another scale, so it decides nothing here).
    A finished calibration is continued, never restarted (its fingerprint ignores the
    number of generations), so a resumed stage picks up where it stopped."""
    import sys
    import time

    from sweeps.calibrate import calibrate

    def step(generations: int, plot: bool):
        return calibrate(
            preset,
            out=out,
            population=settings["population"],
            generations=generations,
            seed=ROOT_SEED,
            days=days,
            jobs=jobs,
            fresh=fresh and generations == 1,
            plot=plot,
            stream=sys.stderr,
        )

    started = time.monotonic()
    done, last = 0, 0.0
    while done < settings["generations"]:
        if done and time.monotonic() - started + 1.5 * last > settings["seconds"]:
            say(f"calibrate: budget reached after {done} generations")
            break
        began = time.monotonic()
        result = step(done + 1, plot=False)
        last = time.monotonic() - began
        if result.generations <= done:  # nothing more to run (finished before)
            break
        done = result.generations
        say(f"calibrate: generation {done - 1} done, ε = {result.epsilon:.3g} ({last:.0f} s)")
        if result.converged:  # the calibration's own stopping rule (fit distance, not ε)
            break
    return step(max(done, 1), plot=True)


# --------------------------------------------------------------------------- compare
def stage_compare(opts: Options, manifest: Manifest, observed: dict, cal: dict, fp_cal: str, say):
    """Run every organisation over the horizon; returns (table, organisations, fingerprint)."""
    from sweeps.advise.compare import horizon_years, posterior_draws, run_comparison, tasks
    from sweeps.advise.mapping import COMPARISON_SHARE
    from sweeps.advise.organisations import organisations

    orgs = organisations(observed, maintainers=opts.areas_file is not None)
    years = horizon_years(opts.horizon_years)
    fp = _hash("compare", fp_cal, opts.horizon_years, opts.budget_minutes, opts.draws)
    path = opts.out / "comparison.parquet"
    if manifest.done("compare", fp, path):
        say("compare: done already (comparison.parquet)")
        return pd.read_parquet(path), orgs, fp
    cells = sum(1 if o.params["topology"] == "single_core" else 2 for o in orgs) * len(years)
    seconds = cal["settings"]["run_seconds"] * 1.5  # grown demand costs more per run
    runs = COMPARISON_SHARE * opts.budget_minutes * 60 * opts.jobs / max(seconds, 1e-3)
    draws = opts.draws or int(min(max(runs / (cells * REPLICATES), 2), 20))
    settings = manifest.start("compare", fp, {"draws": draws, "replicates": REPLICATES})
    posterior = pd.read_parquet(opts.out / "calibration" / "posterior.parquet")
    behaviour = posterior_draws(posterior, settings["draws"], ROOT_SEED)
    todo = tasks(
        orgs,
        behaviour,
        years=years,
        replicates=settings["replicates"],
        growth=observed["growth"],
        seed=ROOT_SEED,
    )
    say(
        f"compare: {len(orgs)} organisations × automation × {len(years)} horizon points × "
        f"{settings['draws']} posterior draws × {settings['replicates']} seeds"
    )
    parts = opts.out / "comparison.parts"
    table = run_comparison(todo, cal["days"], parts, jobs=opts.jobs, progress=say)
    atomic_write(path, lambda p: table.to_parquet(p, index=False))
    shutil.rmtree(parts, ignore_errors=True)
    manifest.finish("compare", runs=len(table))
    return table, orgs, fp


# --------------------------------------------------------------------------- all
def advise(opts: Options, progress: Callable[[str], None] | None = None) -> Path:
    """Run every stage not yet done; returns the report's path.

    Raises :class:`AdviseError` for bad input or a history too short to calibrate, before
    anything is written.
    """
    from sweeps.advise.report import write_report

    say = progress or (lambda _m: None)
    if opts.out.exists() and not opts.out.is_dir():
        raise AdviseError(f"--out {opts.out}: is a file, give a folder")
    manifest = Manifest(opts.out) if (opts.out / "advise.json").exists() else None
    observed, fp_obs = stage_observe(opts, manifest, say)
    opts.out.mkdir(parents=True, exist_ok=True)
    manifest = manifest or Manifest(opts.out)
    observed = write_observed(opts, manifest, observed, fp_obs)
    say(
        f"observe: {observed['window']['landed']} changes landed in the last "
        f"{observed['window']['days']:.0f} days, {len(observed['areas'])} areas, "
        f"{observed['source']['workflow']} workflow"
    )
    cal, fp_cal = stage_calibrate(opts, manifest, observed, fp_obs, say)
    table, orgs, fp_cmp = stage_compare(opts, manifest, observed, cal, fp_cal, say)
    fp_rep = _hash("report", fp_cmp, _report_code())
    report = opts.out / "report.md"
    if manifest.done("report", fp_rep, report):
        say("report: done already (report.md)")
        return report
    manifest.start("report", fp_rep, {})
    written = write_report(opts, observed, cal, table, orgs, say)
    manifest.finish("report", files=[str(p.relative_to(opts.out)) for p in written])
    say(f"report: {report}")
    return report
