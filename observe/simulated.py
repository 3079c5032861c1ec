"""Patterns of a simulated run, computed from its event log by the definitions real histories
go through (:mod:`observe.patterns`).

:func:`run_patterns` is what validation and calibration call instead of a bare model run:
the run's metrics, with every requested pattern recomputed from the run's own event log over
its measured window (after warm-up). A name that is both a metric and a pattern takes the
pattern's value (tests/test_eventlog.py checks the two agree where both exist).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from model import OrgModel
from observe.patterns import PATTERNS, Window, change_table, compute


def run_patterns(
    params: dict[str, Any], seed: int, days: float, names: Iterable[str] = ()
) -> dict[str, float]:
    """Run the model once; its metrics plus the patterns ``names`` from its event log.

    Parameters
    ----------
    params : keyword parameters of :class:`model.OrgModel`.
    seed : the run's seed.
    days : simulated days, warm-up included.
    names : patterns of :data:`observe.patterns.PATTERNS` to compute (others are ignored:
        they are metrics). With none, the run records no events and costs what a plain
        run costs.
    """
    wanted = [name for name in names if name in PATTERNS]
    model = OrgModel(**params, rng=seed, record_events=bool(wanted))
    model.run_for(days)
    values = model.metrics()
    if wanted:
        changes = change_table(model.event_table())
        values.update(compute(changes, Window(model.warmup_days, float(days)), wanted))
    return values
