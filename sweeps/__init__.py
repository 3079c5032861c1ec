"""orgscale sweeps: declarative sweep specs, a parallel resumable runner, Parquet results, fits."""

from sweeps.runner import plan_sweep, run_one, run_sweep
from sweeps.spec import SpecError, SweepSpec, load_spec
from sweeps.store import ResultsConflictError, load_results

__all__ = [
    "ResultsConflictError",
    "SpecError",
    "SweepSpec",
    "load_results",
    "load_spec",
    "plan_sweep",
    "run_one",
    "run_sweep",
]
