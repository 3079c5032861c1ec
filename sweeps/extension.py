"""Extending a finished sweep: a new spec whose runs include every run of the old one.

Run ids and seeds depend only on the run itself (:mod:`sweeps.design`), so adding N values,
replicates or a grid block leaves every existing run's id unchanged. Such a spec may resume
in the old results folder: finished runs are kept and only the new points run. Any other
change (days, seeds, fixed values, a narrower grid, a renamed sweep) is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sweeps.design import design_hash, design_tasks
from sweeps.spec import SpecError, SweepSpec, spec_from_canonical


def extension_check(spec: SweepSpec, run_ids: set[str]) -> Callable[[dict[str, Any]], str | None]:
    """A check for :func:`sweeps.store.inspect_folder`: does ``spec`` extend an old spec?

    The returned function takes the old spec record of a manifest (``hash``,
    ``design_hash``, ``canonical``) and returns ``None`` when every run of the old design
    is among ``run_ids`` (the new spec's runs) under the same sweep name, else one phrase
    saying why not.
    """

    def check(old: dict[str, Any]) -> str | None:
        try:
            old_spec = spec_from_canonical(old["canonical"], source="the recorded spec")
            recorded_design = old["design_hash"]
        except (SpecError, KeyError, TypeError) as err:
            return f"the recorded spec cannot be read back ({err})"
        if old_spec.name != spec.name:
            return f"the name changed from {old_spec.name!r} to {spec.name!r}"
        old_tasks = design_tasks(old_spec)
        if design_hash(old_tasks) != recorded_design:
            return "the model's parameters or their defaults changed since those runs"
        missing = sum(t.run_id not in run_ids for t in old_tasks)
        if missing:
            return (
                f"{missing} of its {len(old_tasks)} runs are not in the new design (only "
                "more N values, more replicates or new grid blocks extend a sweep)"
            )
        return None

    return check
