"""Patterns of a simulated run, computed from its event log by the definitions real histories
go through (:mod:`observe.patterns`).

:func:`run_patterns` is what validation and calibration call instead of a bare model run:
the run's metrics, with every requested pattern recomputed from the run's own event log over
its measured window (after warm-up). A name that is both a metric and a pattern takes the
pattern's value (tests/test_eventlog.py checks the two agree where both exist). ``windows``
adds patterns over other windows of the same run (a preset's trajectory periods), each under
its own key, from the one change table the run's log is reduced to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from model import OrgModel
from observe.patterns import PATTERNS, Window, change_table, compute


def run_patterns(
    params: dict[str, Any],
    seed: int,
    days: float,
    names: Iterable[str] = (),
    windows: Mapping[str, tuple[str, Window]] | None = None,
) -> dict[str, float]:
    """Run the model once; its metrics plus the patterns ``names`` from its event log.

    Parameters
    ----------
    params : keyword parameters of :class:`model.OrgModel`.
    seed : the run's seed.
    days : simulated days, warm-up included.
    names : patterns of :data:`observe.patterns.PATTERNS` to compute (others are ignored:
        they are metrics). With none and no ``windows``, the run records no events and
        costs what a plain run costs.
    windows : ``{key: (pattern name, Window)}``: each pattern over its window of model days
        (warm-up included), returned under ``key`` (e.g. ``"merged_per_day@2012-01-01"``).
        A window must lie within ``[0, days]``.

    Raises
    ------
    ValueError
        A window reaching past ``days`` or an unknown pattern name in ``windows``.
    """
    wanted = [name for name in names if name in PATTERNS]
    windows = dict(windows or {})
    for key, (name, window) in windows.items():
        if name not in PATTERNS:
            raise ValueError(f"{key}: unknown pattern {name!r}; valid: {', '.join(PATTERNS)}")
        if window.start < 0 or window.end > days:
            raise ValueError(
                f"{key}: window [{window.start:g}, {window.end:g}) is not within the run's "
                f"{days:g} days"
            )
    model = OrgModel(**params, rng=seed, record_events=bool(wanted or windows))
    model.run_for(days)
    values = model.metrics()
    if wanted or windows:
        changes = change_table(model.event_table())
        if wanted:
            values.update(compute(changes, Window(model.warmup_days, float(days)), wanted))
        for key, (name, window) in windows.items():
            values[key] = compute(changes, window, [name])[name]
    return values
