"""orgscale sweeps: declarative sweep specs, a parallel resumable runner, Parquet results, fits.

The names below are imported on first use (PEP 562), so a worker process that needs only
:mod:`sweeps.one_run` does not pay for the runner's imports (pandas, pyarrow, joblib).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ResultsConflictError": "sweeps.store",
    "SpecError": "sweeps.spec",
    "SweepSpec": "sweeps.spec",
    "load_results": "sweeps.store",
    "load_spec": "sweeps.spec",
    "plan_sweep": "sweeps.runner",
    "run_one": "sweeps.runner",
    "run_sweep": "sweeps.runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sweeps' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
