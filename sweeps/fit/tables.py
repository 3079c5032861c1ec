"""A results table fitted group by group, and the two forms it is written in: the
``fits.csv`` rows (:func:`fits_frame`) and the ``fits.json`` document (:func:`fits_json`).

Still no file I/O: the ``orgscale fit`` command reads and writes. Columns and schema:
``docs/fits.md``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sweeps.fit.scaling import ScalingFit, fit_scaling
from sweeps.fit.summary import DEFAULT_LEVEL, DEFAULT_N_BOOT, check_bootstrap


@dataclass(frozen=True)
class GroupFit:
    """A :class:`~sweeps.fit.scaling.ScalingFit` for one group of a results table.

    Attributes
    ----------
    key, label
        The group's values of the ``by`` columns, and its name (``"topology=flat"``).
    n_runs
        Runs fitted (rows with ``status == "ok"``).
    n_excluded_failed
        Rows of the group left out because their ``status`` was not ``"ok"``.
    fit
        The group's fit.
    """

    key: tuple[Any, ...]
    label: str
    n_runs: int
    n_excluded_failed: int
    fit: ScalingFit


@dataclass(frozen=True)
class TableFit:
    """Fits of one metric for every group of a results table (see :func:`fit_groups`)."""

    metric: str
    n_col: str
    by: tuple[str, ...]
    level: float
    n_boot: int
    groups: tuple[GroupFit, ...]

    @property
    def n_excluded_failed(self) -> int:
        """Rows excluded because their ``status`` was not ``"ok"``, over all groups."""
        return sum(g.n_excluded_failed for g in self.groups)


# ----------------------------------------------------------------------------- fitting


def _label(by: Sequence[str], key: tuple[Any, ...]) -> str:
    """``"col=value, ..."`` naming a group, or ``"all rows"``."""
    if not by:
        return "all rows"
    return ", ".join(f"{col}={val}" for col, val in zip(by, key, strict=True))


def fit_groups(
    df: pd.DataFrame,
    metric: str,
    by: Sequence[str],
    n_col: str = "n_teams",
    *,
    rng: np.random.Generator | int | None = None,
    n_boot: int = DEFAULT_N_BOOT,
    level: float = DEFAULT_LEVEL,
) -> TableFit:
    """Fit ``metric`` against ``n_col`` in every group of a results table.

    Rows whose ``status`` column (if present) is not ``"ok"`` are excluded and counted.
    Groups are fitted in sorted order, each with its own generator spawned from ``rng``
    (``Generator.spawn``), so results are reproducible for a given seed and table.

    Parameters
    ----------
    df
        Results, one row per run.
    metric
        Column to fit.
    by
        Columns whose combinations define the groups (empty: one group of all rows).
    n_col
        Column holding N.
    rng, n_boot, level
        Bootstrap generator (or seed), resamples and confidence level.

    Returns
    -------
    TableFit

    Raises
    ------
    ValueError
        Unknown columns, or a group with bad data (message names the group).
    """
    by = list(by)
    missing = [c for c in [metric, n_col, *by] if c not in df.columns]
    if missing:
        raise ValueError("; ".join(_unknown_column(c, df.columns) for c in missing))
    if len(set(by)) != len(by) or metric in by or n_col in by or metric == n_col:
        raise ValueError(
            f"metric {metric!r}, N column {n_col!r} and group columns {by} must all differ"
        )
    for col in (metric, n_col):
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise ValueError(
                f"column {col!r} is not numeric (dtype {df[col].dtype}); "
                "the metric and N must be numbers"
            )
    check_bootstrap(n_boot, level)
    if "status" in df.columns:
        ok = (df["status"] == "ok").to_numpy()
    else:
        ok = np.ones(len(df), dtype=bool)
    if by:
        grouped = [
            (key if isinstance(key, tuple) else (key,), idx)
            for key, idx in df.groupby(by, dropna=False, sort=True).indices.items()
        ]
    else:
        grouped = [((), np.arange(len(df)))]
    if not grouped:
        raise ValueError("the results table has no rows")
    generators = np.random.default_rng(rng).spawn(len(grouped))
    groups = []
    for (key, idx), generator in zip(grouped, generators, strict=True):
        key = tuple(v.item() if isinstance(v, np.generic) else v for v in key)
        label = _label(by, key)
        used = idx[ok[idx]]
        excluded = int(idx.size - used.size)
        sub = df.iloc[used]
        try:
            fit = fit_scaling(
                sub[n_col].to_numpy(dtype=float, na_value=np.nan),
                sub[metric].to_numpy(dtype=float, na_value=np.nan),
                rng=generator,
                n_boot=n_boot,
                level=level,
                group=label,
            )
        except ValueError as err:
            note = f" ({excluded} failed runs excluded)" if excluded else ""
            raise ValueError(f"{err}{note}") from err
        groups.append(GroupFit(key, label, int(used.size), excluded, fit))
    return TableFit(
        metric=metric,
        n_col=n_col,
        by=tuple(by),
        level=level,
        n_boot=int(n_boot),
        groups=tuple(groups),
    )


# ----------------------------------------------------------------------------- writing


def fits_frame(table: TableFit) -> pd.DataFrame:
    """One row per (group, law): the ``fits.csv`` table.

    Each group's rows carry ``n_runs``, the runs its fit used, so the table can be checked
    against the design (one row per run, not one per copy of it).

    Columns: the group columns, ``law``, ``formula``, ``a``, ``a_se``, ``b``, ``b_se`` (NaN
    for one-parameter laws), ``aicc``, ``delta_aicc``, ``weight``, ``chi2_dof``, ``r2``,
    ``best``, ``exponent``, ``exponent_ci_low``, ``exponent_ci_high`` (on ``power`` rows
    only), ``n_points``, ``n_runs``, ``n_excluded_failed``, ``metric``, ``note``.
    """
    rows = []
    for g in table.groups:
        for law in g.fit.laws.fits:
            row: dict[str, Any] = dict(zip(table.by, g.key, strict=True))
            row["law"] = law.law
            row["formula"] = law.formula
            for name in ("a", "b"):
                has = name in law.names
                row[name] = law.param(name) if has else math.nan
                row[f"{name}_se"] = law.stderr(name) if has else math.nan
            is_power = law.law == "power"
            exp = g.fit.exponent
            row.update(
                aicc=law.aicc,
                delta_aicc=law.delta_aicc,
                weight=law.weight,
                chi2_dof=law.chi2_dof,
                r2=law.r2,
                best=law.law == g.fit.laws.best,
                exponent=exp.estimate if is_power else math.nan,
                exponent_ci_low=exp.ci_low if is_power else math.nan,
                exponent_ci_high=exp.ci_high if is_power else math.nan,
                n_points=law.n_points,
                n_runs=g.n_runs,
                n_excluded_failed=g.n_excluded_failed,
                metric=table.metric,
                note=law.note,
            )
            rows.append(row)
    return pd.DataFrame(rows)


def _num(value: float) -> float | None:
    """A finite float, or None (JSON has no inf or NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    """A group key value as a JSON scalar (numpy scalars unwrapped, others as text)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def fits_json(table: TableFit) -> dict[str, Any]:
    """JSON-serialisable summary of a :class:`TableFit` (schema in ``docs/fits.md``)."""
    groups = []
    for g in table.groups:
        fit = g.fit
        laws = {}
        for law in fit.laws.fits:
            laws[law.law] = {
                "params": {k: _num(v) for k, v in zip(law.names, law.estimates, strict=True)},
                "stderr": {k: _num(v) for k, v in zip(law.names, law.stderrs, strict=True)},
                "aicc": _num(law.aicc),
                "delta_aicc": _num(law.delta_aicc),
                "weight": _num(law.weight),
                "chi2_dof": _num(law.chi2_dof),
                "r2": _num(law.r2),
                "best": law.law == fit.laws.best,
                "note": law.note,
            }
        exp = fit.exponent
        slopes = fit.slopes
        groups.append(
            {
                "key": {col: _plain(v) for col, v in zip(table.by, g.key, strict=True)},
                "label": g.label,
                "n_runs": g.n_runs,
                "n_excluded_failed": g.n_excluded_failed,
                "weighting": fit.per_n.weighting,
                "n": [_num(v) for v in fit.per_n.n],
                "mean": [_num(v) for v in fit.per_n.mean],
                "sem": [_num(v) for v in fit.per_n.sem],
                "n_replicates": [int(v) for v in fit.per_n.count],
                "laws": laws,
                "best_law": fit.laws.best,
                "best_weight": _num(fit.laws.best_weight),
                "exponent": {
                    "estimate": _num(exp.estimate),
                    "stderr": _num(exp.stderr),
                    "ci_low": _num(exp.ci_low),
                    "ci_high": _num(exp.ci_high),
                    "level": exp.level,
                    "n_boot": exp.n_boot,
                    "n_boot_failed": exp.n_boot_failed,
                },
                "local_slopes": [
                    {"n": _num(n), "slope": _num(s), "ci_low": _num(lo), "ci_high": _num(hi)}
                    for n, s, lo, hi in zip(
                        slopes.n, slopes.slope, slopes.ci_low, slopes.ci_high, strict=True
                    )
                ],
            }
        )
    return {
        "schema_version": 1,
        "metric": table.metric,
        "n_col": table.n_col,
        "by": list(table.by),
        "level": table.level,
        "n_bootstrap": table.n_boot,
        "n_excluded_failed": table.n_excluded_failed,
        "groups": groups,
    }


def _unknown_column(name: str, columns: Sequence[Any]) -> str:
    """``unknown column 'x' (did you mean 'y'?)``: the closest column, not all of them."""
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=1)
    if close:
        return f"unknown column {name!r} (did you mean {close[0]!r}?)"
    return f"unknown column {name!r}; the table has {len(columns)} columns (see its header)"
