"""From a spec to runs: parameter points, run identities and seeds.

A *point* is a complete, validated parameter dict (model defaults filled in). A *run* is a
point × replicate; it is identified by :func:`run_id` and seeded by :func:`run_seed`, both
pure functions of the run itself, so neither depends on task order, worker count or which
other points the spec contains: adding a grid value leaves every existing run unchanged.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from model import PARAMETERS, validate_params
from sweeps.spec import MORRIS_LEVELS

if TYPE_CHECKING:
    from sweeps.spec import Sample, SweepSpec

RUN_ID_CHARS = 16


@dataclass(frozen=True)
class Task:
    """One run to do: what :func:`sweeps.runner.run_one` needs, plus its identity."""

    run_id: str
    replicate: int
    seed: int
    params: dict[str, Any]
    days: float

    def __hash__(self) -> int:
        return hash(self.run_id)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the one text that is hashed for identities."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def point_key(params: dict[str, Any]) -> int:
    """A stable 32-bit integer for a complete parameter point."""
    return int(hashlib.sha256(canonical_json(params).encode()).hexdigest()[:8], 16)


def run_seed(root_seed: int, replicate: int, params: dict[str, Any], *, common: bool = True) -> int:
    """The seed of replicate ``replicate`` at point ``params``: a non-negative int64.

    ``SeedSequence(root_seed, spawn_key=(replicate,))`` with common random numbers (the
    same seed for replicate r at every point), or ``spawn_key=(replicate, point_key)``
    without. The result is independent of anything but its arguments.
    """
    spawn_key = (replicate,) if common else (replicate, point_key(params))
    state = np.random.SeedSequence(root_seed, spawn_key=spawn_key).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))


def run_id(params: dict[str, Any], replicate: int, root_seed: int, days: float, seed: int) -> str:
    """First 16 hex digits of the sha256 of the run's canonical JSON identity.

    The identity is the complete parameter dict (defaults included), the replicate, the
    root seed, the run length in days and the run's seed (which records the
    common-random-numbers choice).
    """
    return _run_id_of(canonical_json(params), replicate, root_seed, days, seed)


def _run_id_of(params_json: str, replicate: int, root_seed: int, days: float, seed: int) -> str:
    """:func:`run_id` from the parameters' canonical JSON, which a design computes once per
    point rather than once per run.

    The identity's text is ``canonical_json`` of ``{"days", "params", "replicate",
    "root_seed", "seed"}``: its keys are in that (sorted) order, so it is assembled around
    the parameters' text without encoding them again.
    """
    identity = (
        f'{{"days":{canonical_json(float(days))},"params":{params_json},'
        f'"replicate":{int(replicate)},"root_seed":{int(root_seed)},"seed":{int(seed)}}}'
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:RUN_ID_CHARS]


def sample_size(sample: Sample) -> int:
    """Points a ``[sample]`` block stands for (before integer values may repeat)."""
    d = len(sample.ranges)
    if sample.method == "sobol":
        return sample.n * (2 * d + 2 if sample.second_order else d + 2)
    if sample.method == "morris":
        return sample.n * (d + 1)
    return sample.n


def design_size(spec: SweepSpec) -> int:
    """Runs the spec stands for, counted without expanding it (points repeated across grid
    blocks counted each time, so an upper bound of ``len(design_tasks(spec))``)."""
    base = sum(math.prod(len(values) for _, values in grid) for grid in spec.grids) or 1
    sampled = sample_size(spec.sample) if spec.sample is not None else 1
    return base * sampled * spec.replicates


def sample_points(sample: Sample) -> list[dict[str, Any]]:
    """The sampled values (only the sampled parameters) of a ``[sample]`` block, in order.

    ``lhs``: ``scipy.stats.qmc.LatinHypercube(d, rng=seed)``, ``n`` points. ``sobol``:
    ``SALib.sample.sobol.sample`` (Saltelli's scheme for Sobol indices), ``n`` base points.
    ``morris``: ``SALib.sample.morris.sample``, ``n`` trajectories on ``MORRIS_LEVELS`` levels.
    A unit coordinate u maps to ``low + u·(high − low)`` for a float parameter and to
    ``floor(low + u·(high − low + 1))`` (capped at ``high``) for an integer one.
    """
    names = [name for name, _, _ in sample.ranges]
    d = len(names)
    if sample.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(sample.seed)).random(sample.n)
    elif sample.method == "morris":
        from SALib.sample import morris

        problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
        unit = morris.sample(problem, sample.n, num_levels=MORRIS_LEVELS, seed=sample.seed)
    else:
        from SALib.sample import sobol

        problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
        with warnings.catch_warnings():  # a non-power-of-two n: SweepSpec.warnings says it
            for message in ("Convergence properties", "The balance properties"):
                warnings.filterwarnings("ignore", message=message, category=UserWarning)
            unit = sobol.sample(
                problem, sample.n, calc_second_order=sample.second_order, seed=sample.seed
            )
    points = []
    for row in unit:
        point = {}
        for (name, low, high), u in zip(sample.ranges, row, strict=True):
            if PARAMETERS[name].kind is int:
                point[name] = min(int(np.floor(low + u * (high - low + 1))), int(high))
            else:
                point[name] = float(low + u * (high - low))
        points.append(point)
    return points


def expand_points(
    spec: SweepSpec, *, with_origin: bool = False
) -> list[dict[str, Any]] | list[tuple[str, dict[str, Any]]]:
    """The spec's parameter points as given (fixed ∪ grid ∪ sample values), before defaults.

    Grid blocks are unioned; each point of the union (or the fixed point alone when there
    is no grid) is crossed with every sample point. With ``with_origin`` each point comes
    with where it came from (e.g. ``"grid[1] point 3"``) for error messages.
    """
    fixed = dict(spec.fixed)
    base: list[tuple[str, dict[str, Any]]] = []
    if not spec.grids:
        base.append(("[fixed]", fixed))
    single = len(spec.grids) == 1
    for g, grid in enumerate(spec.grids):
        names = [name for name, _ in grid]
        for i, values in enumerate(itertools.product(*(vals for _, vals in grid))):
            where = ("grid" if single else f"grid[{g}]") + f" point {i} " + _show(names, values)
            base.append((where, {**fixed, **dict(zip(names, values, strict=True))}))
    if spec.sample is not None:
        sampled = sample_points(spec.sample)
        base = [
            (f"{where} × sample point {j}", {**point, **extra})
            for where, point in base
            for j, extra in enumerate(sampled)
        ]
    return base if with_origin else [point for _, point in base]


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The spec's distinct, complete, validated parameter points, in design order."""
    seen: set[str] = set()
    points = []
    for point in expand_points(spec):
        full = validate_params(point)
        key = canonical_json(full)
        if key not in seen:
            seen.add(key)
            points.append(full)
    return points


def design_tasks(spec: SweepSpec) -> list[Task]:
    """Every run of the spec (points × replicates), in design order."""
    tasks = []
    common = spec.common_random_numbers
    # with common random numbers, replicate r has one seed at every point
    shared = [run_seed(spec.root_seed, r, {}) for r in range(spec.replicates)] if common else []
    for params in design_points(spec):
        params_json = canonical_json(params)
        for replicate in range(spec.replicates):
            seed = (
                shared[replicate]
                if common
                else run_seed(spec.root_seed, replicate, params, common=False)
            )
            rid = _run_id_of(params_json, replicate, spec.root_seed, spec.days, seed)
            tasks.append(Task(rid, replicate, seed, params, spec.days))
    return tasks


def design_hash(tasks: list[Task]) -> str:
    """sha256 of the sorted run ids: changes whenever the set of runs changes."""
    return hashlib.sha256("\n".join(sorted(t.run_id for t in tasks)).encode()).hexdigest()


def _show(names: list[str], values: tuple[Any, ...]) -> str:
    return "(" + ", ".join(f"{n}={v!r}" for n, v in zip(names, values, strict=True)) + ")"
