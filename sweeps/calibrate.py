"""Calibration: ABC-SMC (``pyabc``) of a preset's unknown parameters against its in-sample patterns.

The unknown parameters are the preset's ``[priors]`` (uniform ranges); everything else is
its ``[config]``. One simulation is one :func:`observe.simulated.run_patterns` at a parameter point;
its distance from the data is the root mean square over the in-sample patterns of
:meth:`model.presets.Pattern.distance`, the distance from the observed value or interval
in units of the pattern's tolerance (0 inside the interval, 1 at the edge of what counts as
reproduced). ABC-SMC (Toni et al. 2009, as implemented by pyabc) starts from a sample of
the prior (generation 0, ε = ∞) and shrinks the threshold ε generation by generation (the
weighted median distance of the previous population) until ``min_epsilon`` or
``generations`` is reached.

Why ABC-SMC rather than rejection over a space-filling design: each generation proposes
from the last one's posterior, so simulations go where the data point; rejection at the same
precision spends most runs where the posterior is ~0, a share that grows with every
unknown parameter.

Reproducibility: :class:`SeededSampler` evaluates candidate particles in index order, each
with its own numpy/random state derived from ``(seed, generation, index)``
(``numpy.random.SeedSequence``), and keeps the first ``population`` accepted ones in index
order, so the posterior depends on the seed only, not on the number of worker processes or
on which finished first. The pyabc history (SQLite, ``abc.db``) is written after every
generation: a calibration killed midway reruns only the unfinished generation, and raising
``generations`` later continues from the last one.

Writes into ``results/calibration/<preset>/``: ``abc.db``, ``posterior.parquet`` (the last
population's parameters and weights), ``simulated.parquet`` (each particle's pattern
values), ``intervals.csv`` (median and 90% credible interval per parameter),
``patterns.csv`` (per pattern: observed, simulated median and 90% interval, distance),
``calibrated.toml`` (posterior medians as a ``[config]`` block), ``calibration.png`` and
``manifest.json``.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from model.params import PARAMETERS
from model.presets import Pattern, Preset, load_preset
from observe.simulated import run_patterns
from sweeps.atomic import atomic_write_json
from sweeps.calibration_report import CalibrationResult, last_epsilon, plot_calibration, summarise
from sweeps.provenance import portable_path
from sweeps.store import environment, move_aside, utc_now
from sweeps.workers import forked_pool

DEFAULT_ROOT = Path("results") / "calibration"
PILOT_RUNS = 6


class CalibrationError(ValueError):
    """A calibration that cannot run; the message says what is wrong and what is valid."""


# --------------------------------------------------------------------------- simulation
class Simulator:
    """The model as pyabc sees it: parameters in, every pattern's metric out.

    ``base`` is the preset's configuration; integer parameters are rounded. The model's
    seed is drawn from numpy's global generator, which :class:`SeededSampler` seeds for
    every candidate particle.
    """

    def __init__(self, base: dict[str, Any], days: float, patterns: tuple[Pattern, ...]):
        self.base, self.days, self.patterns = dict(base), float(days), patterns

    def point(self, theta: dict[str, float]) -> dict[str, Any]:
        """The full parameter point for the sampled values ``theta``."""
        params = dict(self.base)
        for name, value in theta.items():
            value = float(value)
            params[name] = round(value) if PARAMETERS[name].kind is int else value
        return params

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        seed = int(np.random.randint(0, 2**31 - 1))
        names = [p.metric for p in self.patterns]
        metrics = run_patterns(self.point(theta), seed, self.days, names)
        return {p.id: float(metrics.get(p.metric, math.nan)) for p in self.patterns}


class PatternDistance:
    """Root mean square of the in-sample patterns' distances, in tolerance units."""

    def __init__(self, patterns: tuple[Pattern, ...]):
        self.patterns = tuple(p for p in patterns if p.in_sample)

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None) -> float:
        d = [p.distance(x[p.id]) for p in self.patterns]
        return float(math.sqrt(sum(v * v for v in d) / len(d)))


def particle_seed(root: int, t: int, index: int) -> int:
    """The numpy/random seed of candidate ``index`` of generation ``t``.

    ``t = -1`` is pyabc's calibration sample; ``t < -1`` and ``index = -1`` are bookkeeping
    (the pilot runs, the main process between generations).
    """
    return int(np.random.SeedSequence([root, t + 10, index + 10]).generate_state(1)[0])


# --------------------------------------------------------------------------- sampler
_SIMULATE: Callable[[], Any] | None = None


def _evaluate(seed: int) -> Any:
    np.random.seed(seed)
    random.seed(seed)
    assert _SIMULATE is not None
    return _SIMULATE()


def _make_sampler(jobs: int, root_seed: int, quiet: bool, stream: TextIO):
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluate candidates in index order with per-candidate seeds; keep the first n accepted.

        With ``jobs > 1`` candidates run in batches on forked worker processes (the pyabc
        closure is inherited, not pickled); the particles kept, and so the posterior, are the
        same for any ``jobs``. Over-evaluation is at most one batch per generation.
        """

        def __init__(self) -> None:
            super().__init__()
            self.jobs, self.root_seed = jobs, root_seed

        def sample_until_n_accepted(
            self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
        ):
            global _SIMULATE
            sample = self._create_empty_sample()
            accepted = evaluated = 0
            bar = _bar(n, f"generation {t}" if t >= 0 else "initial sample", quiet, stream)
            _SIMULATE = simulate_one
            try:
                with contextlib.ExitStack() as stack:  # Ctrl-C terminates the pool
                    pool = stack.enter_context(forked_pool(self.jobs)) if self.jobs > 1 else None
                    index = 0
                    while accepted < n and evaluated < max_eval:
                        rate = accepted / evaluated if accepted else 0.0
                        need = (n - accepted) / rate if rate > 0 else 4 * self.jobs
                        size = (
                            1
                            if pool is None
                            else int(min(max(need, 2 * self.jobs), 64 * self.jobs))
                        )
                        seeds = [particle_seed(self.root_seed, t, index + i) for i in range(size)]
                        index += size
                        particles = pool.map(_evaluate, seeds) if pool else [_evaluate(seeds[0])]
                        for particle in particles:
                            if accepted >= n or evaluated >= max_eval:
                                break
                            evaluated += 1
                            sample.append(particle)
                            if particle.accepted:
                                accepted += 1
                                if bar is not None:
                                    bar.update(1)
            finally:
                _SIMULATE = None
                if bar is not None:
                    bar.close()
            np.random.seed(particle_seed(self.root_seed, t, -1))
            self.nr_evaluations_ = evaluated
            if accepted < n:
                sample.ok = False
            return sample

    return SeededSampler()


def _bar(total: int, desc: str, quiet: bool, stream: TextIO):
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="accepted", file=stream, leave=False, disable=None)


# --------------------------------------------------------------------------- checks
def check_preset(preset: Preset) -> None:
    """Raise :class:`CalibrationError` unless ``preset`` has priors and in-sample patterns."""
    if not preset.priors:
        raise CalibrationError(
            f"{preset.path}: priors: expected at least one parameter range "
            "[priors] name = [low, high] to calibrate"
        )
    if not preset.in_sample():
        raise CalibrationError(
            f"{preset.path}: pattern: expected at least one pattern with in_sample = true"
        )


def pilot(preset: Preset, simulator: Simulator, seed: int, runs: int = PILOT_RUNS) -> pd.DataFrame:
    """Run ``runs`` simulations at prior points; raise if an in-sample pattern is never produced.

    A pattern whose metric is ``nan`` in every pilot run (e.g. a merge-window metric in a
    configuration without merge windows) cannot be calibrated against: the error names it.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    rows = []
    for i in range(runs):
        theta = {name: rng.uniform(low, high) for name, low, high in preset.priors}
        np.random.seed(particle_seed(seed, -2, i))
        rows.append(simulator(theta))
    frame = pd.DataFrame(rows)
    for pattern in preset.in_sample():
        values = frame[pattern.id].to_numpy(dtype=float)
        if not np.isfinite(values).any():
            raise CalibrationError(
                f"{preset.path}: pattern {pattern.id!r}: the model produced no value of "
                f"metric {pattern.metric!r} (nan) in {runs} runs from the prior: it cannot "
                "be calibrated against; change the configuration or mark it in_sample = false"
            )
    return frame


def fingerprint(preset: Preset, settings: dict[str, Any]) -> str:
    """sha256 of what decides the posterior (configuration, priors, patterns, seed, size, days).

    ``generations`` and ``min_epsilon`` are stopping rules and do not count: a finished
    calibration can be continued with more generations. Neither do ``[config]`` values of
    the calibrated parameters themselves (every run draws them from the priors): pasting
    the posterior medians into the preset keeps its calibration current.
    """
    calibrated = {name for name, *_ in preset.priors}
    blob = {
        "config": [list(c) for c in preset.config if c[0] not in calibrated],
        "priors": [list(p) for p in preset.priors],
        "patterns": [
            [p.id, p.metric, str(p.low), str(p.high), p.rel_tol, p.abs_tol, p.in_sample]
            for p in preset.patterns
        ],
        "population": settings["population"],
        "seed": settings["seed"],
        "days": settings["days"],
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


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
    jobs: int = 1,
    fresh: bool = False,
    quiet: bool = False,
    plot: bool = True,
    stream: TextIO | None = None,
) -> CalibrationResult:
    """Calibrate ``preset``'s priors against its in-sample patterns with ABC-SMC.

    Parameters
    ----------
    preset : a :class:`model.presets.Preset`, a preset name or a TOML file.
    out : output folder (default ``results/calibration/<preset name>``).
    population, generations, min_epsilon, seed, days : override the preset's
        ``[calibration]`` settings (particles per generation, most generations, stop once ε
        falls below this many tolerance units, root seed, simulated days per run).
    jobs : worker processes (the result does not depend on it).
    fresh : move an existing output folder aside (``<out>.old-<time>``) and start anew.
    quiet : no progress output.
    plot : draw ``calibration.png``.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    CalibrationError
        No priors or no in-sample pattern, a pattern the model never produces, or an output
        folder holding a different calibration (use ``fresh``).
    """
    started = time.perf_counter()
    stream = sys.stderr if stream is None else stream
    if not isinstance(preset, Preset):
        preset = load_preset(preset)
    check_preset(preset)
    settings = preset.settings()
    for key, value in (
        ("population", population),
        ("generations", generations),
        ("min_epsilon", min_epsilon),
        ("seed", seed),
        ("days", days),
    ):
        if value is not None:
            settings[key] = value
    full = preset.params()
    if settings["days"] <= full.get("warmup_days", PARAMETERS["warmup_days"].default):
        raise CalibrationError(
            f"days={settings['days']:g} is invalid: must exceed warmup_days={full['warmup_days']:g}"
        )
    out = Path(out) if out is not None else DEFAULT_ROOT / preset.name
    key = fingerprint(preset, settings)
    manifest_path = out / "manifest.json"
    if out.exists() and fresh:
        move_aside(out)
    elif manifest_path.exists():
        previous = json.loads(manifest_path.read_text())
        if previous.get("fingerprint") != key:
            raise CalibrationError(
                f"{out} holds a calibration with another configuration, priors, patterns, seed, "
                "population or days: pass --fresh to move it aside, or --out another folder"
            )
    elif out.exists() and any(out.iterdir()):
        raise CalibrationError(f"{out} exists and is not a calibration folder: choose --out")

    simulator = Simulator(full, settings["days"], preset.patterns)
    distance = PatternDistance(preset.patterns)
    db_path = out / "abc.db"
    if not db_path.exists():
        pilot(preset, simulator, settings["seed"])
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "preset": preset.name,
        "preset_file": portable_path(preset.path),
        "fingerprint": key,
        "settings": settings,
        "method": "ABC-SMC (pyabc), seeded batch sampler",
        "started": utc_now(),
        "environment": environment(),
    }
    atomic_write_json(manifest_path, manifest)

    history = _run_abc(preset, simulator, distance, settings, db_path, jobs, quiet, stream)
    result = summarise(preset, history, out, started)
    if plot:
        plot_calibration(preset, result, out / "calibration.png")
    manifest.update(
        finished=utc_now(),
        n_simulations=result.n_simulations,
        generations=result.generations,
        epsilon=result.epsilon,
        epsilons=[float(e) for e in history.get_all_populations()["epsilon"].tolist()[1:]],
        wall_s_this_invocation=result.wall_s,
        jobs=jobs,
    )
    atomic_write_json(manifest_path, manifest)
    return result


def _run_abc(preset, simulator, distance, settings, db_path, jobs, quiet, stream):
    import pyabc

    for name in ("ABC", "pyabc"):
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.INFO)
    np.random.seed(particle_seed(settings["seed"], -3, 0))
    random.seed(settings["seed"])
    db = "sqlite:///" + str(db_path.resolve())
    done = _generations_done(db) if db_path.exists() else 0
    if db_path.exists() and not done:  # killed during generation 0: start again
        db_path.unlink()
    prior = pyabc.Distribution(
        **{name: pyabc.RV("uniform", low, high - low) for name, low, high in preset.priors}
    )
    # Generation 0 samples the prior (ε = ∞); a resumed run takes ε from the last stored
    # population, exactly as the uninterrupted run did after it.
    abc = pyabc.ABCSMC(
        simulator,
        prior,
        distance,
        population_size=pyabc.ConstantPopulationSize(settings["population"]),
        eps=pyabc.QuantileEpsilon(initial_epsilon="from_sample" if done else math.inf),
        sampler=_make_sampler(jobs, settings["seed"], quiet, stream),
    )
    if done:
        history = abc.load(db, 1)
        last_eps = last_epsilon(history)
    else:
        abc.new(db, {p.id: p.center for p in preset.patterns})
        last_eps = math.inf
    remaining = settings["generations"] - done
    if remaining > 0 and last_eps > settings["min_epsilon"]:
        if not quiet:
            stream.write(
                f"calibrate {preset.name}: {len(preset.priors)} parameters, "
                f"{len(preset.in_sample())} in-sample patterns, population "
                f"{settings['population']}, generations {done + 1}–{settings['generations']}, "
                f"{jobs} job(s)\n"
            )
        with _quiet_warnings():
            abc.run(minimum_epsilon=settings["min_epsilon"], max_nr_populations=remaining)
    elif not quiet:
        stream.write(f"calibrate {preset.name}: already finished ({done} generations)\n")
    return abc.history


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
