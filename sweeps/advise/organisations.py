"""The organisations ``orgscale advise`` compares for one project, as model parameters.

Every organisation has the project's demand (the same contributors and changes a day,
grown at the observed rates over the horizon) and the same reviewers (``equal_headcount``:
the as-is organisation's headcount shared among the teams), so the comparison measures the
organisation, not a change of staff:

* ``as_is``: the organisation the workflow shows (:func:`sweeps.advise.mapping.as_is_config`);
* ``one_core``: one team reviewing every area (the same as ``as_is`` for a Gerrit or GitHub
  project, then left out);
* ``split_<grouping>``: a maintainer hierarchy of one team per group of areas (groupings
  from ``observed.toml``: one team per area, per top-level directory, per co-change
  community), whose cross-team share of changes is the observed share of changes touching
  more than one of its teams (``link_change_prob``).

Each split runs without and with ``ci_automation``; the single core has no trees to
integrate, so automation changes nothing there and it runs once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sweeps.advise.mapping import as_is_config, n_areas

LABELS = {
    "as_is": "as it is",
    "one_core": "one core team",
    "split_per_area": "one team per area",
    "split_top_directory": "one team per top-level directory",
    "split_cochange": "teams by co-change communities",
}


@dataclass(frozen=True)
class Organisation:
    """One organisation: its name, label, teams and its parameters at year 0."""

    name: str
    label: str
    n_teams: int
    params: dict[str, Any] = field(hash=False)
    cross_share: float = math.nan


def organisations(observed: dict[str, Any], *, maintainers: bool = False) -> list[Organisation]:
    """The organisations to compare for this project (see the module docstring).

    ``maintainers``: the areas are MAINTAINERS entries, so the per-area split is named
    ``split_maintainers``.
    """
    base = as_is_config(observed)
    n = n_areas(observed)
    headcount = base.get("reviewers_per_area", _default("reviewers_per_area")) * n
    people = base["contributors_per_team"] * n
    out = [
        Organisation("as_is", LABELS["as_is"], 1 if base["topology"] == "single_core" else n, base)
    ]
    if base["topology"] != "single_core":
        core = {k: v for k, v in base.items() if k not in ("branching", "top_direct_share")}
        out.append(
            Organisation("one_core", LABELS["one_core"], 1, dict(core, topology="single_core"))
        )
    seen: set[tuple] = set()
    for name, grouping in observed["groupings"].items():
        groups = grouping["groups"]
        k = len(groups)
        key = tuple(tuple(g) for g in groups)
        if k < 2 or key in seen:
            continue
        seen.add(key)
        cpt = max(1, round(people / k))
        params = {k_: v for k_, v in base.items() if k_ not in ("branching", "top_direct_share")}
        params.update(
            topology="hierarchical",
            n_teams=k,
            branching=0,
            contributors_per_team=cpt,
            reviewers_per_area=headcount / k,
            link_change_prob=float(min(max(grouping["cross_share"], 0.0), 1.0)),
            _demand_scale=people / (cpt * k),
        )
        label_name = "split_maintainers" if maintainers and name == "per_area" else f"split_{name}"
        label = LABELS.get(label_name, "one team per MAINTAINERS entry")
        out.append(Organisation(label_name, label, k, params, grouping["cross_share"]))
    return out


def _default(name: str) -> Any:
    from model.params import PARAMETERS

    return PARAMETERS[name].default


def at_year(
    org: Organisation,
    behaviour: dict[str, float],
    year: float,
    *,
    demand_growth: float,
    contributor_growth: float,
    ci: bool,
) -> dict[str, Any]:
    """``org``'s model parameters ``year`` years ahead with calibrated ``behaviour``.

    Contributors grow at ``contributor_growth`` a year and changes a day at
    ``demand_growth`` (``change_rate`` takes the difference); reviewers stay as they are.
    """
    params = dict(org.params)
    scale = params.pop("_demand_scale", 1.0)
    params.update(behaviour)
    g_demand = min(max(demand_growth, -0.5), 1.0)
    g_people = min(max(contributor_growth, -0.5), 1.0)
    people0 = params["contributors_per_team"] * params["n_teams"]
    demand0 = behaviour["change_rate"] * scale * people0
    people = max(params["n_teams"], round(people0 * (1 + g_people) ** year))
    cpt = max(1, round(people / params["n_teams"]))
    params["contributors_per_team"] = cpt
    params["change_rate"] = demand0 * (1 + g_demand) ** year / (cpt * params["n_teams"])
    params["ci_automation"] = bool(ci)
    return params
