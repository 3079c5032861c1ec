"""Global sensitivity of a metric to the parameters of a spec's ``[sample]`` block.

The runs come from the ordinary sweep runner (parallel, resumable, one row per run); this
module only aligns their outputs with SALib's sample matrix and calls SALib's analysers:

* ``sobol``  – ``SALib.analyze.sobol``: first-order ``S1`` and total-order ``ST`` indices
  (shares of the output variance), with 95% bootstrap confidence half-widths;
* ``morris`` – ``SALib.analyze.morris``: ``mu_star`` (mean absolute elementary effect, in
  the metric's units per unit of the parameter's range) and ``sigma`` (its spread).

Each sample point's output is the mean over the spec's replicates. With common random
numbers (the default) points that differ only in a parameter the model ignores give
identical outputs, so such a parameter gets an index of exactly 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model import validate_params
from sweeps.design import MORRIS_LEVELS, canonical_json, expand_points, sample_points
from sweeps.runner import row_params
from sweeps.spec import SweepSpec

SENSITIVITY_METHODS = ("sobol", "morris")


class SensitivityError(ValueError):
    """A spec or result table that cannot give sensitivity indices."""


@dataclass(frozen=True)
class SensitivityResult:
    """Indices for one base point (grid point) and one metric, one row per parameter."""

    method: str
    metric: str
    base: dict[str, Any]
    table: pd.DataFrame


def check_spec(spec: SweepSpec) -> None:
    """Raise :class:`SensitivityError` unless the spec samples with Sobol or Morris."""
    if spec.sample is None or spec.sample.method not in SENSITIVITY_METHODS:
        got = "no [sample] block" if spec.sample is None else f"method {spec.sample.method!r}"
        raise SensitivityError(
            f"{spec.source}: sample.method: expected 'sobol' or 'morris' for a sensitivity "
            f"analysis, got {got}"
        )


def _problem(spec: SweepSpec) -> dict[str, Any]:
    ranges = spec.sample.ranges
    return {
        "num_vars": len(ranges),
        "names": [name for name, _, _ in ranges],
        "bounds": [[float(low), float(high)] for _, low, high in ranges],
    }


def analyse(
    spec: SweepSpec, results: pd.DataFrame, metric: str, *, seed: int = 0
) -> list[SensitivityResult]:
    """Sensitivity indices of ``metric`` for every base point of ``spec``.

    ``results`` is the sweep's table (one row per run); failed runs make the indices
    undefined and raise :class:`SensitivityError` naming the sample point.
    """
    check_spec(spec)
    if metric not in results.columns:
        raise SensitivityError(f"metric {metric!r} is not a column of the results")
    results = results.copy()
    results["_key"] = [
        canonical_json(validate_params(row_params(row))) for row in results.to_dict("records")
    ]
    ok = results[results["status"] == "ok"]
    failed = set(results.loc[results["status"] != "ok", "_key"])
    means = ok.groupby("_key")[metric].mean()
    samples = sample_points(spec.sample)
    points = expand_points(spec)
    n_samples = len(samples)
    problem = _problem(spec)
    unit = np.array([[point[name] for name in problem["names"]] for point in samples], float)
    out = []
    for b in range(len(points) // n_samples):
        block = points[b * n_samples : (b + 1) * n_samples]
        keys = [canonical_json(validate_params(p)) for p in block]
        for j, key in enumerate(keys):
            if key in failed or key not in means.index:
                raise SensitivityError(
                    f"sample point {j} of base point {b} has no successful run; "
                    "indices are undefined (see the sweep's failed rows)"
                )
        y = means.loc[keys].to_numpy(dtype=float)
        base = {k: v for k, v in block[0].items() if k not in problem["names"]}
        out.append(
            SensitivityResult(
                spec.sample.method, metric, base, _indices(spec, problem, unit, y, seed)
            )
        )
    return out


def _salib_seed(seed: int) -> int:
    """The seed for SALib's bootstrap: SALib tests ``if seed:``, so a seed of 0 would leave
    its confidence intervals unseeded (different on every call); 0 becomes 1."""
    return seed if seed != 0 else 1


def _indices(
    spec: SweepSpec, problem: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int
) -> pd.DataFrame:
    names = problem["names"]
    if spec.sample.method == "sobol":
        from SALib.analyze import sobol

        if np.allclose(y, y[0]):
            zeros = np.zeros(len(names))
            return pd.DataFrame(
                {"parameter": names, "S1": zeros, "S1_conf": zeros, "ST": zeros, "ST_conf": zeros}
            )
        res = sobol.analyze(
            problem,
            y,
            calc_second_order=spec.sample.second_order,
            seed=_salib_seed(seed),
            print_to_console=False,
        )
        return pd.DataFrame(
            {
                "parameter": names,
                "S1": res["S1"],
                "S1_conf": res["S1_conf"],
                "ST": res["ST"],
                "ST_conf": res["ST_conf"],
            }
        )
    from SALib.analyze import morris

    res = morris.analyze(
        problem, x, y, num_levels=MORRIS_LEVELS, seed=_salib_seed(seed), print_to_console=False
    )
    return pd.DataFrame(
        {
            "parameter": names,
            "mu_star": res["mu_star"],
            "mu_star_conf": res["mu_star_conf"],
            "sigma": res["sigma"],
        }
    )


def to_frame(results: list[SensitivityResult]) -> pd.DataFrame:
    """All indices as one table: the base point's parameters, metric, method, indices."""
    frames = []
    for r in results:
        frame = r.table.copy()
        frame.insert(0, "metric", r.metric)
        frame.insert(0, "method", r.method)
        frame.insert(0, "base", json.dumps(r.base, sort_keys=True))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def outputs_by_base(
    spec: SweepSpec, results: pd.DataFrame, metric: str
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """``metric`` at every sample point, in SALib's sample order, for each base point.

    Returns one ``(base, y)`` pair a base point (grid point): ``base`` its parameters other
    than the sampled ones, ``y`` the replicate mean at each sample point (NaN for a point
    whose runs all failed). Outputs of different base points share the sample order, so
    derived outputs (a ratio of two organisations at the same point) can be analysed with
    :func:`sobol_indices`.
    """
    check_spec(spec)
    if metric not in results.columns:
        raise SensitivityError(f"metric {metric!r} is not a column of the results")
    keys_all = [
        canonical_json(validate_params(row_params(row))) for row in results.to_dict("records")
    ]
    frame = pd.DataFrame({"_key": keys_all, "y": results[metric].to_numpy(float)})
    frame = frame[(results["status"] == "ok").to_numpy()]
    means = frame.groupby("_key")["y"].mean()
    samples = sample_points(spec.sample)
    points = expand_points(spec)
    n_samples = len(samples)
    names = [name for name, _, _ in spec.sample.ranges]
    out = []
    for b in range(len(points) // n_samples):
        block = points[b * n_samples : (b + 1) * n_samples]
        keys = [canonical_json(validate_params(p)) for p in block]
        y = np.array([means.get(k, np.nan) for k in keys], dtype=float)
        base = {k: v for k, v in block[0].items() if k not in names}
        out.append((base, y))
    return out


def sobol_indices(spec: SweepSpec, y: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
    """Sobol first- and total-order indices (with 95% confidence half-widths) of any output
    ``y`` given at the spec's sample points in SALib's order (see :func:`outputs_by_base`)."""
    check_spec(spec)
    problem = _problem(spec)
    samples = sample_points(spec.sample)
    unit = np.array([[point[name] for name in problem["names"]] for point in samples], float)
    return _indices(spec, problem, unit, np.asarray(y, dtype=float), seed)
