"""The parts of a calibration that pyabc drives: the simulator, the distances and the sampler.

* :class:`Simulator`: parameters in, every pattern out (a trajectory's periods over their
  windows), averaged over ``seeds_per_particle`` runs where one run is too noisy.
* :class:`PatternDistance`: the root mean square of the fitted patterns' distances from
  their observed values or intervals, in tolerance units (fixed: the tolerances set the
  scale).
* :class:`AdaptivePatternDistance`: the same distance from each observed interval, with each
  pattern scaled by its spread over the previous population (median absolute deviation,
  Prangle 2017, as ``pyabc.distance.AdaptivePNormDistance``) instead of its tolerance:
  scale-free, so a pattern that varies much from run to run does not dominate the others,
  and one that the posterior pins down keeps counting as ε shrinks. Generation 0 (ε = ∞)
  uses the tolerances.
* :func:`make_sampler`: pyabc's sampler evaluating candidates in index order, each with a
  seed derived from ``(seed, generation, index)``, on forked workers; the posterior depends
  on the seed only.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import signal
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from model.params import PARAMETERS
from model.presets import Pattern
from observe.patterns import Window
from observe.simulated import run_patterns


# --------------------------------------------------------------------------- simulation
def as_run(name: str, value: float) -> float | int:
    """A sampled value of parameter ``name`` as a run takes it: rounded if it is an integer
    parameter (priors and posteriors hold the reals the sampler drew)."""
    value = float(value)
    return round(value) if PARAMETERS[name].kind is int else value


class Simulator:
    """The model as pyabc sees it: parameters in, every pattern's value out.

    ``base`` is the preset's configuration; integer parameters are rounded. The model's
    seeds are drawn from numpy's global generator, which the sampler seeds for every
    candidate particle. With ``seeds > 1`` each pattern is the mean over that many runs
    (nan values ignored; nan when every run gave nan).
    """

    def __init__(
        self, base: dict[str, Any], days: float, patterns: tuple[Pattern, ...], seeds: int = 1
    ):
        self.base, self.days, self.patterns = dict(base), float(days), tuple(patterns)
        self.seeds = int(seeds)
        self.names = sorted({p.metric for p in self.patterns if p.window is None})
        self.windows = {
            p.id: (p.metric, Window(*p.window)) for p in self.patterns if p.window is not None
        }

    def point(self, theta: dict[str, float]) -> dict[str, Any]:
        """The full parameter point for the sampled values ``theta``."""
        params = dict(self.base)
        for name, value in theta.items():
            params[name] = as_run(name, value)
        return params

    def run(self, theta: dict[str, float], seed: int) -> dict[str, float]:
        """One run at ``theta`` with ``seed``: every pattern's value by id."""
        metrics = run_patterns(self.point(theta), seed, self.days, self.names, self.windows)
        return {
            p.id: float(metrics.get(p.id if p.window is not None else p.metric, math.nan))
            for p in self.patterns
        }

    def __call__(self, theta: dict[str, float]) -> dict[str, float]:
        seeds = [int(np.random.randint(0, 2**31 - 1)) for _ in range(self.seeds)]
        runs = [self.run(theta, seed) for seed in seeds]
        if len(runs) == 1:
            return runs[0]
        out = {}
        for key in runs[0]:
            values = np.array([r[key] for r in runs], float)
            finite = values[np.isfinite(values)]
            out[key] = float(finite.mean()) if finite.size else math.nan
        return out


# --------------------------------------------------------------------------- distances
class PatternDistance:
    """Root mean square of the fitted patterns' distances, in tolerance units.

    Fitted: in-sample, not a check (``role = "check"``) and not in ``exclude`` (checks the
    pilot found).
    """

    def __init__(self, patterns: tuple[Pattern, ...], exclude: frozenset[str] = frozenset()):
        self.patterns = tuple(
            p for p in patterns if p.in_sample and not p.check and p.id not in exclude
        )

    def __call__(self, x: dict[str, float], x_0: dict[str, float] | None = None, *_) -> float:
        d = [p.distance(x[p.id]) for p in self.patterns]
        return float(math.sqrt(sum(v * v for v in d) / len(d)))


def _make_adaptive(patterns: tuple[Pattern, ...], exclude: frozenset[str]):
    from pyabc.distance import Distance

    class AdaptivePatternDistance(Distance):
        """RMS of each fitted pattern's distance outside its observed interval over its scale.

        Distances and scales are on the pattern's own scale (:meth:`Pattern.on_scale`: the
        metric's unit, or its log with a ``factor`` tolerance). The scale of a pattern at
        generation t is the median absolute deviation of its values in the population of
        generation t − 1 (the accepted particles, which is what a resumed run has too, so a
        resume gives the same posterior); its tolerance where that is 0 or undefined, and at
        generation 0.
        """

        def __init__(self) -> None:
            super().__init__()
            self.patterns = PatternDistance(patterns, exclude).patterns
            self.scales: dict[int, np.ndarray] = {}

        def _tolerances(self) -> np.ndarray:
            return np.array([p.scale_tolerance() or 1.0 for p in self.patterns])

        def _fit(self, t: int, sample) -> None:
            stats = [p.sum_stat for p in sample.accepted_particles]
            scales = self._tolerances()
            for i, p in enumerate(self.patterns):
                values = np.array([p.on_scale(s[p.id]) for s in stats], float)
                values = values[np.isfinite(values)]
                if values.size >= 2:
                    mad = float(np.median(np.abs(values - np.median(values))))
                    if mad > 0:
                        scales[i] = mad
            self.scales[t] = scales

        def initialize(self, t, get_sample, x_0, total_sims) -> None:
            if t == 0:
                self.scales[t] = self._tolerances()
            else:
                self._fit(t, get_sample())

        def update(self, t, get_sample, total_sims) -> bool:
            self._fit(t, get_sample())
            return True

        def scale(self, t: int | None) -> np.ndarray:
            known = [k for k in self.scales if t is None or k <= t]
            return self.scales[max(known)] if known else self._tolerances()

        def requires_calibration(self) -> bool:
            return False

        def is_adaptive(self) -> bool:
            return True

        def __call__(self, x, x_0=None, t=None, par=None) -> float:
            scales = self.scale(t)
            d = [p.deviation(x[p.id]) / s for p, s in zip(self.patterns, scales, strict=True)]
            return float(math.sqrt(sum(v * v for v in d) / len(d)))

        def get_config(self) -> dict:
            return {"name": "AdaptivePatternDistance", "patterns": [p.id for p in self.patterns]}

    return AdaptivePatternDistance()


def make_distance(kind: str, patterns: tuple[Pattern, ...], exclude: frozenset[str]):
    """The calibration's distance: ``"adaptive"`` (MAD-scaled) or ``"tolerance"`` (fixed)."""
    if kind == "adaptive":
        return _make_adaptive(patterns, exclude)
    if kind == "tolerance":
        return PatternDistance(patterns, exclude)
    raise ValueError(f"distance={kind!r} is invalid: expected 'adaptive' or 'tolerance'")


# --------------------------------------------------------------------------- sampler
def particle_seed(root: int, t: int, index: int) -> int:
    """The numpy/random seed of candidate ``index`` of generation ``t``.

    ``t < 0`` and ``index = -1`` are bookkeeping (the pilot runs, the posterior predictive
    check, the main process between generations).
    """
    return int(np.random.SeedSequence([root, t + 10, index + 10]).generate_state(1)[0])


_SIMULATE: Callable[[], Any] | None = None


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the main process, which terminates them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _evaluate(seed: int) -> Any:
    np.random.seed(seed)
    random.seed(seed)
    assert _SIMULATE is not None
    return _SIMULATE()


def fork_pool(jobs: int):
    """A pool of ``jobs`` forked workers that ignore SIGINT (terminate it on Ctrl-C)."""
    return multiprocessing.get_context("fork").Pool(jobs, initializer=_ignore_sigint)


def make_sampler(jobs: int, root_seed: int, quiet: bool, stream: TextIO):
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluate candidates in index order with per-candidate seeds; keep the first n accepted.

        With ``jobs > 1`` candidates run in batches on forked worker processes (the pyabc
        closure is inherited, not pickled); the particles kept, and so the posterior, are the
        same for any ``jobs``. Over-evaluation is at most one batch per generation. On
        Ctrl-C (or any error) the workers are terminated at once.
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
            pool = None
            finished = False
            try:
                if self.jobs > 1:
                    pool = fork_pool(self.jobs)
                index = 0
                while accepted < n and evaluated < max_eval:
                    rate = accepted / evaluated if accepted else 0.0
                    need = (n - accepted) / rate if rate > 0 else 4 * self.jobs
                    size = 1 if pool is None else int(min(max(need, 2 * self.jobs), 64 * self.jobs))
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
                finished = True
            finally:
                _SIMULATE = None
                if pool is not None:
                    if finished:
                        pool.close()
                    else:
                        pool.terminate()
                    pool.join()
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
