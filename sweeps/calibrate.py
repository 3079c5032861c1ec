"""Calibration: ABC-SMC (``pyabc``) of a preset's unknown parameters against its fitted patterns.

The unknown parameters are the preset's ``[priors]`` (uniform ranges); everything else is
its ``[config]``. One simulation is :class:`sweeps.calibration_abc.Simulator`: the model at a
parameter point, every pattern computed from its event log (a trajectory's periods over
their windows), averaged over ``seeds_per_particle`` seeds. The fitted patterns are the
in-sample ones that are not checks: a pattern marked ``role = "check"``, or one the pilot
finds identical in every run from the prior, is fixed by the configuration and is reported,
never fitted.

ABC-SMC (Toni et al. 2009, as implemented by pyabc) starts from a sample of the prior
(generation 0, ε = ∞) and shrinks ε generation by generation (the weighted median distance
of the previous population). The distance (``distance`` setting) is ``"adaptive"`` by
default: each pattern's distance outside its observed interval over its spread in the last
population (:class:`sweeps.calibration_abc.AdaptivePatternDistance`); ``"tolerance"`` is the
fixed root mean square in tolerance units (``benchmarks/bench_calibrate_distance.py``
compares the two). Sampling stops when the posterior reproduces the fitted patterns to
within ``min_epsilon`` tolerance units, when a generation's acceptance rate would fall below
``min_acceptance_rate``, or after ``generations``; ``manifest.json`` says whether it
converged and why (:func:`sweeps.calibration_checks.convergence`). A posterior predictive
check on fresh seeds follows (``ppc_draws`` runs, ``ppc.csv``).

Reproducibility: the sampler evaluates candidate particles in index order, each with its own
numpy/random state derived from ``(seed, generation, index)``, and keeps the first
``population`` accepted ones, so the posterior depends on the seed only, not on the number
of worker processes. Every generation is a resumption of the stored history (pyabc's SQLite
``abc.db``, written after every generation): a calibration interrupted (Ctrl-C: exit 130) or
killed midway reruns only its unfinished generation and reaches the same posterior, and
raising ``generations`` continues a finished one. The folder is locked against a second
writer; its fingerprint covers the preset, the settings that decide the posterior and the
model's code (``model/**/*.py``, ``observe/patterns.py``, ``observe/simulated.py``): a
changed model refuses to resume, naming what changed.

Writes into ``results/calibration/<preset>/``: ``abc.db``, ``posterior.parquet``,
``simulated.parquet``, ``intervals.csv``, ``patterns.csv``, ``ppc.csv``, ``ppc.parquet``,
``calibrated.toml``, ``calibration.png`` and ``manifest.json`` (no absolute paths).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from model.params import PARAMETERS
from model.presets import Preset, load_preset
from sweeps.atomic import atomic_write_json
from sweeps.calibration_abc import (
    PatternDistance,
    Simulator,
    make_distance,
    make_sampler,
    particle_seed,
)
from sweeps.calibration_checks import (
    convergence,
    generation_record,
    joint_coverage,
    posterior_predictive,
    ppc_table,
)
from sweeps.calibration_report import (
    CalibrationResult,
    plot_calibration,
    summarise,
    write_frame,
)
from sweeps.store import ResultsConflictError, environment, move_aside, utc_now
from sweeps.store import _folder_lock as folder_lock

__all__ = [
    "CalibrationError",
    "PatternDistance",
    "Simulator",
    "calibrate",
    "check_preset",
    "fingerprint",
    "model_code_hashes",
    "particle_seed",
    "pilot",
]

DEFAULT_ROOT = Path("results") / "calibration"
PILOT_RUNS = 6
METHOD = "ABC-SMC (pyabc), seeded batch sampler"
REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_GLOBS = ("model/**/*.py", "observe/patterns.py", "observe/simulated.py")


class CalibrationError(ValueError):
    """A calibration that cannot run; the message says what is wrong and what is valid."""


# --------------------------------------------------------------------------- checks
def check_preset(preset: Preset) -> None:
    """Raise :class:`CalibrationError` unless ``preset`` has priors and fitted patterns."""
    if not preset.priors:
        raise CalibrationError(
            f"{preset.path}: priors: expected at least one parameter range "
            "[priors] name = [low, high] to calibrate"
        )
    if not preset.fitted():
        raise CalibrationError(
            f"{preset.path}: pattern: expected at least one pattern with in_sample = true "
            'that is not role = "check"'
        )


def pilot(
    preset: Preset, simulator: Simulator, seed: int, runs: int = PILOT_RUNS
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Run ``runs`` simulations at prior points: raise if a fitted pattern is never produced.

    Returns the runs and the checks found: fitted patterns whose value is the same finite
    number in every run, though every run drew other parameters and another seed (fixed by
    the configuration: ``{id: why}``). A pattern that is ``nan`` in every run (e.g. a
    merge-window metric without merge windows) cannot be calibrated against: the error
    names it.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    rows = []
    one = Simulator(simulator.base, simulator.days, simulator.patterns, seeds=1)
    for i in range(runs):
        theta = {name: rng.uniform(low, high) for name, low, high in preset.priors}
        rows.append(one.run(theta, particle_seed(seed, -2, i) % (2**31 - 1)))
    frame = pd.DataFrame(rows)
    checks = {}
    for pattern in preset.fitted():
        values = frame[pattern.id].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            raise CalibrationError(
                f"{preset.path}: pattern {pattern.id!r}: the model produced no value of "
                f"metric {pattern.metric!r} (nan) in {runs} runs from the prior: it cannot "
                "be calibrated against; change the configuration or mark it in_sample = false"
            )
        if runs > 1 and np.isfinite(values).all() and np.all(values == values[0]):
            checks[pattern.id] = (
                f"{values[0]:g} in all {runs} pilot runs from the prior: fixed by the "
                'configuration (mark it role = "check")'
            )
    return frame, checks


# --------------------------------------------------------------------------- fingerprint
def model_code_hashes(root: Path = REPO_ROOT) -> dict[str, str]:
    """sha256 of each file of the model's code, by path relative to ``root`` (sorted); the
    view (``model/app.py``, :data:`sweeps.provenance.NOT_THE_MODEL`) is not the model: no
    run executes it, so a change to it leaves a calibration current."""
    from sweeps.provenance import NOT_THE_MODEL

    view = {(root / "model" / rel).resolve() for rel in NOT_THE_MODEL}
    files = sorted(
        {
            p
            for pattern in CODE_GLOBS
            for p in root.glob(pattern)
            if p.is_file() and p.resolve() not in view
        }
    )
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def _digest(blob: Any) -> str:
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()


def fingerprint_parts(
    preset: Preset, settings: dict[str, Any], code: dict[str, str] | None = None
) -> dict[str, str]:
    """sha256 of each part that decides the posterior, by name.

    ``generations``, ``min_epsilon``, ``min_acceptance_rate``, ``min_ess`` and
    ``ppc_draws`` are stopping rules and checks, and do not count: a finished calibration
    can be continued with more generations. Neither do ``[config]`` values of the
    calibrated parameters themselves (every run draws them from the priors): pasting the
    posterior medians into the preset keeps its calibration current.
    """
    calibrated = {name for name, *_ in preset.priors}
    code = model_code_hashes() if code is None else code
    return {
        "configuration": _digest([list(c) for c in preset.config if c[0] not in calibrated]),
        "priors": _digest([list(p) for p in preset.priors]),
        "patterns": _digest(
            [
                [p.id, p.metric, str(p.low), str(p.high), p.rel_tol, p.abs_tol, p.in_sample]
                + ([p.role] if p.check else [])
                + ([f"factor={p.factor!r}"] if p.factor else [])
                + ([list(p.window)] if p.window is not None else [])
                for p in preset.patterns
            ]
        ),
        "settings": _digest(
            {k: settings[k] for k in ("population", "seed", "days")}
            | {k: settings[k] for k in ("seeds_per_particle", "distance") if k in settings}
        ),
        "model code": _digest(code),
    }


def fingerprint(
    preset: Preset, settings: dict[str, Any], code: dict[str, str] | None = None
) -> str:
    """sha256 of what decides the posterior: preset, settings and the model's code."""
    settings = {"seeds_per_particle": 1, "distance": "adaptive"} | dict(settings)
    return _digest(fingerprint_parts(preset, settings, code))


def _what_changed(previous: dict[str, Any], parts: dict[str, str], code: dict[str, str]) -> str:
    old_parts = previous.get("fingerprint_parts") or {}
    changed = [k for k in parts if old_parts.get(k) != parts[k]] or ["the fingerprint's parts"]
    if "model code" in changed and isinstance(previous.get("model_code"), dict):
        old = previous["model_code"]
        files = sorted(k for k in set(old) | set(code) if old.get(k) != code.get(k))
        shown = ", ".join(files[:4]) + (f" and {len(files) - 4} more" if len(files) > 4 else "")
        changed[changed.index("model code")] = f"model code ({shown})"
    return "; ".join(changed)


def _relative(path: str) -> str:
    """``path`` relative to the repository (or the working folder), else its file name."""
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    for root in (REPO_ROOT, Path.cwd()):
        with contextlib.suppress(ValueError):
            return p.resolve().relative_to(root.resolve()).as_posix()
    return p.name


# --------------------------------------------------------------------------- calibrate
def calibrate(
    preset: Preset | str | Path,
    *,
    out: str | Path | None = None,
    population: int | None = None,
    generations: int | None = None,
    min_epsilon: float | None = None,
    seed: int | None = None,
    days: float | None = None,
    seeds_per_particle: int | None = None,
    distance: str | None = None,
    min_acceptance_rate: float | None = None,
    min_ess: float | None = None,
    ppc_draws: int | None = None,
    jobs: int = 1,
    fresh: bool = False,
    quiet: bool = False,
    plot: bool = True,
    stream: TextIO | None = None,
) -> CalibrationResult:
    """Calibrate ``preset``'s priors against its fitted patterns with ABC-SMC.

    Parameters
    ----------
    preset : a :class:`model.presets.Preset`, a preset name or a TOML file.
    out : output folder (default ``results/calibration/<preset name>``).
    population, generations, min_epsilon, seed, days, seeds_per_particle, distance,
    min_acceptance_rate, min_ess, ppc_draws : override the preset's ``[calibration]``
        settings (see :mod:`model.presets`).
    jobs : worker processes (the result does not depend on it).
    fresh : move an existing calibration folder aside (``<out>.old-<time>``) and start anew.
    quiet : no progress output.
    plot : draw ``calibration.png``.

    Raises
    ------
    CalibrationError
        No priors or no fitted pattern, a pattern the model never produces, an output folder
        holding a different calibration (another preset, settings or model code: use
        ``fresh``), a folder that is not a calibration, or one another process is writing.
    """
    started = time.perf_counter()
    stream = sys.stderr if stream is None else stream
    if not isinstance(preset, Preset):
        preset = load_preset(preset)
    check_preset(preset)
    settings = preset.settings()
    overrides = dict(
        population=population,
        generations=generations,
        min_epsilon=min_epsilon,
        seed=seed,
        days=days,
        seeds_per_particle=seeds_per_particle,
        distance=distance,
        min_acceptance_rate=min_acceptance_rate,
        min_ess=min_ess,
        ppc_draws=ppc_draws,
    )
    settings.update({k: v for k, v in overrides.items() if v is not None})
    full = preset.params()
    warmup = full.get("warmup_days", PARAMETERS["warmup_days"].default)
    if settings["days"] <= warmup:
        raise CalibrationError(
            f"days={settings['days']:g} is invalid: must exceed warmup_days={warmup:g}"
        )
    late = [
        p.id for p in preset.patterns if p.window is not None and p.window[1] > settings["days"]
    ]
    if late:
        raise CalibrationError(
            f"days={settings['days']:g} is invalid: the trajectory's period {late[-1]} ends on "
            f"model day {max(p.window[1] for p in preset.patterns if p.window):g}"
        )
    out = Path(out) if out is not None else DEFAULT_ROOT / preset.name
    code = model_code_hashes()
    parts = fingerprint_parts(preset, settings, code)
    key = _digest(parts)
    previous = _previous_manifest(out)
    if fresh and out.exists():
        if previous is None and any(_visible(out)):
            raise CalibrationError(
                f"{out} is not a calibration folder (no calibration manifest.json): --fresh "
                "moves only a calibration aside; choose another --out"
            )
        _move_aside(out)
        previous = None
    elif previous is not None and previous.get("fingerprint") != key:
        raise CalibrationError(
            f"{out} holds a calibration with another {_what_changed(previous, parts, code)}: "
            "pass --fresh to move it aside, or --out another folder"
        )
    elif previous is None and out.exists() and any(_visible(out)):
        raise CalibrationError(f"{out} exists and is not a calibration folder: choose --out")

    simulator = Simulator(full, settings["days"], preset.patterns, settings["seeds_per_particle"])
    db_path = out / "abc.db"
    if previous is not None and db_path.exists() and "checks" in previous:
        checks = dict(previous["checks"])
    else:
        _, found = pilot(preset, simulator, settings["seed"])
        checks = {p.id: 'role = "check" in the preset' for p in preset.checks()} | found
    if not [p for p in preset.fitted() if p.id not in checks]:
        raise CalibrationError(
            f"{preset.path}: every in-sample pattern is a check ({', '.join(checks)}): "
            "nothing left to fit"
        )
    out.mkdir(parents=True, exist_ok=True)
    try:
        with folder_lock(out):
            return _locked(
                preset,
                out,
                settings,
                simulator,
                checks,
                parts,
                code,
                jobs,
                quiet,
                plot,
                stream,
                started,
            )
    except ResultsConflictError:
        raise CalibrationError(
            f"another calibration is writing to {out}; wait for it or choose another --out"
        ) from None


def _visible(out: Path) -> list[Path]:
    """Entries of ``out`` other than hidden ones (the lock, temporary files)."""
    return [p for p in out.iterdir() if not p.name.startswith(".")]


def _previous_manifest(out: Path) -> dict[str, Any] | None:
    path = out / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(manifest, dict) and manifest.get("method") == METHOD
    return manifest if ok and "fingerprint" in manifest else None


def _move_aside(out: Path) -> None:
    try:
        move_aside(out)
    except ResultsConflictError:
        raise CalibrationError(
            f"another calibration is writing to {out}; wait for it or choose another --out"
        ) from None


def _locked(
    preset, out, settings, simulator, checks, parts, code, jobs, quiet, plot, stream, started
) -> CalibrationResult:
    manifest_path = out / "manifest.json"
    previous = _previous_manifest(out) or {}
    if previous and previous.get("fingerprint") != _digest(parts):  # changed while we waited
        raise CalibrationError(
            f"{out} holds a calibration with another {_what_changed(previous, parts, code)}: "
            "pass --fresh to move it aside, or --out another folder"
        )
    exclude = frozenset(checks)
    fitted = tuple(p for p in preset.fitted() if p.id not in exclude)
    manifest = {
        "preset": preset.name,
        "preset_file": _relative(preset.path),
        "fingerprint": _digest(parts),
        "fingerprint_parts": parts,
        "model_code": code,
        "settings": settings,
        "method": METHOD,
        "distance": settings["distance"],
        "fitted": [p.id for p in fitted],
        "checks": checks,
        "started": previous.get("started", utc_now()),
        "environment": environment(),
    }
    if "stopped" in previous:
        manifest["stopped"] = previous["stopped"]
    atomic_write_json(manifest_path, manifest)

    history, records, stopped = _run_abc(
        preset, simulator, settings, exclude, out / "abc.db", jobs, quiet, stream, manifest
    )
    converged, reason = convergence(records, settings, stopped)
    result = summarise(
        preset,
        history,
        out,
        started,
        converged=converged,
        checks=checks,
        fitted=[p.id for p in fitted],
    )
    ppc = _posterior_predictive(
        preset, simulator, result, settings, fitted, jobs, out, quiet, stream
    )
    result = replace(result.with_ppc(ppc["table"], ppc["joint"], out), converged_reason=reason)
    if plot:
        plot_calibration(preset, result, out / "calibration.png")
    manifest.update(
        finished=utc_now(),
        converged=converged,
        converged_reason=reason,
        n_simulations=result.n_simulations,
        generations=len(records),
        epsilon=result.epsilon,
        fit_distance=records[-1]["fit_distance"] if records else math.nan,
        history=records,
        ppc={k: v for k, v in ppc.items() if k != "table"},
        wall_s_this_invocation=time.perf_counter() - started,
        jobs=jobs,
    )
    atomic_write_json(manifest_path, manifest)
    return result


def _posterior_predictive(preset, simulator, result, settings, fitted, jobs, out, quiet, stream):
    draws = int(settings["ppc_draws"])
    if draws <= 0:
        return {"draws": 0, "table": None, "joint": {}}
    if not quiet:
        stream.write(f"calibrate {preset.name}: posterior predictive check, {draws} fresh runs\n")
    names = [name for name, _, _ in preset.priors]
    one = Simulator(simulator.base, simulator.days, simulator.patterns, seeds=1)
    runs = posterior_predictive(one, result.posterior, names, draws, settings["seed"], jobs)
    write_frame(out / "ppc.parquet", runs)
    roles = {p.id: p.role_label for p in preset.patterns}
    for p in preset.patterns:
        if p.id in result.checks and not p.check:
            roles[p.id] = "check"
    table = ppc_table(preset.patterns, runs, roles)
    write_frame(out / "ppc.csv", table)
    held = [p for p in preset.held_out() if p.id not in result.checks]
    checks = [p for p in preset.patterns if p.id in result.checks]
    joint = {
        "in_sample": joint_coverage(list(fitted), runs),
        "held_out": joint_coverage(held, runs),
        "checks": joint_coverage(checks, runs),
    }
    return {
        "draws": draws,
        "table": table,
        "joint": joint,
        "seed_stream": "particle_seed(seed, -4, i)",
    }


def _run_abc(preset, simulator, settings, exclude, db_path, jobs, quiet, stream, manifest):
    """Run generations until a stopping rule holds; one pyabc resumption per generation.

    Returns the history, one record per stored generation, and why sampling stopped early
    (``None`` unless the acceptance rate fell below its minimum).
    """
    import pyabc

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING)
    db = "sqlite:///" + str(db_path.resolve())
    if db_path.exists() and holds_no_generation(db_path):  # killed before one was stored
        db_path.unlink()
    prior = pyabc.Distribution(
        **{name: pyabc.RV("uniform", low, high - low) for name, low, high in preset.priors}
    )
    fitted = tuple(p for p in preset.fitted() if p.id not in exclude)
    stopped = manifest.get("stopped")
    history = None
    announced = False
    while True:
        done = _generations_done(db) if db_path.exists() else 0
        records = _records(db, done, fitted) if done else []
        if (
            stopped
            and stopped.get("generation") == done
            and stopped.get("min_acceptance_rate") == settings["min_acceptance_rate"]
        ):
            break
        stopped = None
        if done >= settings["generations"]:
            break
        if records and records[-1]["fit_distance"] <= settings["min_epsilon"]:
            break
        if not quiet and not announced:
            stream.write(
                f"calibrate {preset.name}: {len(preset.priors)} parameters, "
                f"{len(fitted)} fitted patterns, population {settings['population']}, "
                f"generations {done + 1}–{settings['generations']}, {settings['distance']} "
                f"distance, {jobs} job(s)\n"
            )
            announced = True
        np.random.seed(particle_seed(settings["seed"], -3, done))
        random.seed(settings["seed"] + done)
        abc = pyabc.ABCSMC(
            simulator,
            prior,
            make_distance(settings["distance"], preset.patterns, exclude),
            population_size=pyabc.ConstantPopulationSize(settings["population"]),
            eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample" if done else math.inf),
            sampler=make_sampler(jobs, settings["seed"], quiet, stream),
        )
        if done:
            abc.load(db, 1)
        else:
            abc.new(db, {p.id: p.center for p in preset.patterns})
        with _quiet_warnings(), _interrupt_surfaces():
            abc.run(max_nr_populations=1, min_acceptance_rate=settings["min_acceptance_rate"])
        after = _generations_done(db)
        if after == done:  # the sampler gave up: acceptance rate below the minimum
            stopped = {
                "generation": done,
                "min_acceptance_rate": settings["min_acceptance_rate"],
                "why": f"acceptance rate below {settings['min_acceptance_rate']:g} in "
                f"generation {done}",
            }
            manifest["stopped"] = stopped
            atomic_write_json(db_path.parent / "manifest.json", manifest)
            break
        if not quiet:
            rec = _records(db, after, fitted)[-1]
            stream.write(
                f"  generation {rec['t']}: ε {rec['epsilon']:.3g}, fit distance "
                f"{rec['fit_distance']:.3g} tolerance units, acceptance "
                f"{rec['acceptance_rate']:.1%}, ESS {rec['ess']:.0f}\n"
            )
    if not quiet and not announced:
        stream.write(f"calibrate {preset.name}: already finished ({done} generations)\n")
    history = pyabc.History(db, create=False)
    return history, records, (stopped or {}).get("why")


def _records(db: str, done: int, fitted) -> list[dict[str, Any]]:
    """One record per stored generation (t ≥ 0): counted once, from the history."""
    import pyabc

    history = pyabc.History(db, create=False)
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0].sort_values("t")
    records = []
    for row in pops.itertuples():
        weights, stats = history.get_weighted_sum_stats(t=int(row.t))
        records.append(
            generation_record(
                int(row.t),
                float(row.epsilon),
                int(row.samples),
                np.asarray(weights, float),
                pd.DataFrame(stats).astype(float),
                fitted,
            )
        )
    return records[:done]


def holds_no_generation(db_path: Path) -> bool:
    """Whether the pyabc database ``db_path`` stores no generation (t >= 0) yet: a run killed
    during generation 0, or while pyabc was still creating the file (its tables made but
    not its version row, which pyabc then refuses to open as a database of "version 0").

    Read with :mod:`sqlite3` from pyabc's ``populations`` table (schema version 2, pinned
    by a test), so that a file pyabc itself cannot open yet is recognised too.
    """
    import sqlite3

    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as con:
        tables = {name for (name,) in con.execute("SELECT name FROM sqlite_master")}
        if "populations" not in tables:
            return True
        (stored,) = con.execute("SELECT COUNT(*) FROM populations WHERE t >= 0").fetchone()
    return stored == 0


def _generations_done(db: str) -> int:
    """Generations (t >= 0) stored in the pyabc history ``db``."""
    import pyabc

    pops = pyabc.History(db, create=False).get_all_populations()
    return int((pops["t"] >= 0).sum())


@contextlib.contextmanager
def _quiet_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        warnings.simplefilter("ignore", category=FutureWarning)
        yield


@contextlib.contextmanager
def _interrupt_surfaces():
    """Let a Ctrl-C that lands inside pyabc's database write reach the caller as itself.

    pyabc closes its history in a ``finally`` (``run_cleanup``); when the interruption
    arrives while SQLAlchemy is committing a generation, that clean-up raises
    ``PendingRollbackError`` and the ``KeyboardInterrupt`` survives only as its context. The
    rolled-back generation was never stored, so a rerun resumes from the last one that was.
    """
    try:
        yield
    except Exception as err:  # a KeyboardInterrupt itself is no Exception: it passes as is
        if caused_by_interrupt(err):
            raise KeyboardInterrupt from err
        raise


def caused_by_interrupt(err: BaseException) -> bool:
    """Whether a ``KeyboardInterrupt`` lies in ``err``'s chain of causes and contexts."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [err]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        stack += [current.__cause__, current.__context__]
    return False
