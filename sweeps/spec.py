"""Sweep specs: a TOML file (stdlib ``tomllib``) parsed into a validated, frozen :class:`SweepSpec`.

A spec names the sweep, its seeds, its replicates and run length, and the parameter points
to run. Its keys are:

``name`` (str, required)
    The sweep's name and the default results folder ``results/<name>/``; letters, digits,
    ``-``, ``_`` and ``.`` only.
``root_seed`` (int >= 0, required)
    Every run's seed is derived from it (:mod:`sweeps.design`).
``replicates`` (int >= 1, required)
    Runs per parameter point, each with its own seed.
``days`` (number > every point's ``warmup_days``, required)
    Simulated days per run (warm-up included).
``common_random_numbers`` (bool, default ``true``)
    Replicate r uses the same seed at every parameter point, so differences between points
    are not blurred by different random draws. ``false`` mixes each point into its seeds.
``description`` (str, optional)
    Free text; ignored by the runner.
``preset`` (str, optional)
    A preset's name or file (:mod:`model.presets`): its configuration becomes the base of
    ``[fixed]`` (``[fixed]``, grids and ``[sample]`` override it) and its ``days`` the default
    run length.
``[fixed]``
    Model parameters held at one value (everything else keeps its model default).
``[grid]`` or ``[[grid]]`` blocks
    Each block is a table of non-empty lists and stands for their full factorial; several
    blocks are unioned, so a parameter that matters for one topology is only crossed with
    that topology. A parameter may not be both fixed and gridded.
``[sample]``
    A space-filling design beyond factorial: ``method`` (``"lhs"``: Latin hypercube from
    ``scipy.stats.qmc``, ``n`` points; ``"sobol"``: SALib's Saltelli scheme, ``n`` base
    points, ``n·(2d+2)`` points for ``d`` ranges, or ``n·(d+2)`` with
    ``second_order = false``; ``"morris"``: SALib's Morris trajectories, ``n`` trajectories
    of ``d+1`` points on a 4-level grid), ``n``, optional ``seed`` (default ``root_seed``) and a
    ``[sample.ranges]`` table ``parameter = [low, high]`` of numeric parameters. Every grid
    point (or the fixed point when there is no grid) is crossed with every sample point.

    An integer parameter's range that holds fewer values than the design needs (``n`` for
    ``lhs`` and ``sobol``, 4 levels for ``morris``) puts several points on one value: an
    ``lhs`` sample that collapses so to fewer than ``n`` distinct points is refused, a
    ``sobol`` or ``morris`` one gets a warning (:attr:`SweepSpec.warnings`), as does
    ``sobol`` with an ``n`` that is not a power of two.
``[run]``
    How each run is executed, not which runs there are (so not part of the spec hash):
    ``timeout_s`` (number > 0, optional): a run still going after this many seconds of wall
    time is stopped and recorded as failed with the error ``timeout: ...``.

A design of more than :data:`LARGE_DESIGN_RUNS` runs is refused before it is expanded
unless the caller allows it (``allow_large``, the ``--allow-large`` option).

Every model parameter value is checked against :data:`model.PARAMETERS`, and every
expanded point against :func:`model.validate_params`. Any problem raises :class:`SpecError`,
whose one-line message names the file, the key and what was expected.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from model import PARAMETERS, validate_params

MORRIS_LEVELS = 4

TOP_KEYS = (
    "name",
    "description",
    "root_seed",
    "replicates",
    "days",
    "common_random_numbers",
    "preset",
    "fixed",
    "grid",
    "sample",
    "run",
)
RUN_KEYS = ("timeout_s",)
LARGE_DESIGN_RUNS = 200_000
REQUIRED_KEYS = ("name", "root_seed", "replicates", "days")
SAMPLE_KEYS = ("method", "n", "seed", "second_order", "ranges")
SAMPLE_METHODS = ("lhs", "sobol", "morris")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SpecError(ValueError):
    """A sweep spec that cannot run; the message names the file, the key and what was expected."""

    def __init__(self, source: str, key: str, expected: str, got: Any = ...) -> None:
        self.source, self.key, self.expected = source, key, expected
        message = f"{source}: {key}: expected {expected}"
        if got is not ...:
            message += f", got {got!r}"
        super().__init__(message)


@dataclass(frozen=True)
class Sample:
    """A sampled design: ``method`` over ``ranges`` (name, low, high), ``n`` points, ``seed``."""

    method: str
    n: int
    ranges: tuple[tuple[str, float, float], ...]
    seed: int
    second_order: bool = True


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: see the module docstring for the meaning of each field.

    ``fixed`` is a tuple of ``(parameter, value)`` pairs and each grid a tuple of
    ``(parameter, values)`` pairs, so that the spec is immutable and hashable. ``source``
    is the file it came from (for messages), ``text`` its TOML text (copied beside the
    results), ``timeout_s`` the ``[run]`` time limit of one run in seconds and ``warnings``
    one-line notes for the user about the design; none of them takes part in equality or
    the spec hash.
    """

    name: str
    root_seed: int
    replicates: int
    days: float
    fixed: tuple[tuple[str, Any], ...] = ()
    grids: tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...] = ()
    sample: Sample | None = None
    common_random_numbers: bool = True
    description: str = ""
    timeout_s: float | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)
    source: str = field(default="<spec>", compare=False)
    text: str = field(default="", compare=False, repr=False)

    def canonical(self) -> dict[str, Any]:
        """Everything that decides which runs the spec stands for, as plain JSON data."""
        sample = None
        if self.sample is not None:
            sample = {
                "method": self.sample.method,
                "n": self.sample.n,
                "seed": self.sample.seed,
                "second_order": self.sample.second_order,
                "ranges": [list(r) for r in self.sample.ranges],
            }
        return {
            "name": self.name,
            "root_seed": self.root_seed,
            "replicates": self.replicates,
            "days": self.days,
            "common_random_numbers": self.common_random_numbers,
            "fixed": dict(self.fixed),
            "grids": [{k: list(v) for k, v in grid} for grid in self.grids],
            "sample": sample,
        }

    @property
    def spec_hash(self) -> str:
        """sha256 of :meth:`canonical` (comments, layout and ``description`` do not count)."""
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def load_spec(path: str | Path, *, allow_large: bool = False) -> SweepSpec:
    """Read and validate the sweep spec at ``path``.

    ``allow_large`` accepts a design of more than :data:`LARGE_DESIGN_RUNS` runs.

    Raises
    ------
    SpecError
        For a missing or unreadable file, bad TOML, an unknown key or model parameter, a
        wrong type, an empty list, an impossible value or an invalid parameter combination.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(source, "(file)", "an existing sweep spec file (TOML)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(source, "(file)", f"a readable UTF-8 TOML file ({err})") from None
    return parse_spec(text, source=source, allow_large=allow_large)


def spec_from_canonical(canonical: dict[str, Any], *, source: str = "<spec>") -> SweepSpec:
    """The spec whose :meth:`SweepSpec.canonical` content is ``canonical`` (validated again).

    Used to rebuild the design recorded in a results folder's manifest.
    """
    raw = {k: canonical[k] for k in ("name", "root_seed", "replicates", "days")}
    raw["common_random_numbers"] = canonical["common_random_numbers"]
    if canonical.get("fixed"):
        raw["fixed"] = canonical["fixed"]
    if canonical.get("grids"):
        raw["grid"] = canonical["grids"]
    sample = canonical.get("sample")
    if sample:
        raw["sample"] = {
            **{k: sample[k] for k in ("method", "n", "seed", "second_order")},
            "ranges": {name: [low, high] for name, low, high in sample["ranges"]},
        }
    return _build(raw, source, "", allow_large=True)


def parse_spec(text: str, *, source: str = "<spec>", allow_large: bool = False) -> SweepSpec:
    """Validate the TOML ``text`` of a sweep spec (``source`` names it in messages)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(source, "(syntax)", f"valid TOML ({err})") from None
    return _build(raw, source, text, allow_large=allow_large)


# --------------------------------------------------------------------------- validation
def _build(raw: dict[str, Any], source: str, text: str, *, allow_large: bool) -> SweepSpec:
    for key in raw:
        if key not in TOP_KEYS:
            raise SpecError(
                source, key, "one of the keys " + ", ".join(TOP_KEYS) + _hint(key, TOP_KEYS)
            )
    raw = _apply_preset(source, raw)
    for key in REQUIRED_KEYS:
        if key not in raw:
            raise SpecError(source, key, "this required key (" + ", ".join(REQUIRED_KEYS) + ")")

    name = raw["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SpecError(
            source, "name", "a non-empty name of letters, digits, '-', '_' and '.'", name
        )
    root_seed = _int(source, "root_seed", raw["root_seed"], low=0)
    replicates = _int(source, "replicates", raw["replicates"], low=1)
    days = raw["days"]
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days):
        raise SpecError(source, "days", "a positive number of days", days)
    if days <= 0:
        raise SpecError(source, "days", "a positive number of days", days)
    days = float(days)
    crn = raw.get("common_random_numbers", True)
    if not isinstance(crn, bool):
        raise SpecError(source, "common_random_numbers", "true or false", crn)
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise SpecError(source, "description", "a string", description)
    timeout_s = _run_table(source, raw.get("run", {}))

    fixed_raw = raw.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        raise SpecError(source, "fixed", "a table [fixed] of parameter = value", fixed_raw)
    fixed = tuple(
        (key, _param_value(source, f"fixed.{key}", key, value)) for key, value in fixed_raw.items()
    )
    fixed_names = {k for k, _ in fixed}

    grids = _grids(source, raw.get("grid"), fixed_names)
    sample = None
    if "sample" in raw:
        gridded = {k for grid in grids for k, _ in grid}
        sample = _sample(source, raw["sample"], fixed_names, gridded, root_seed)

    spec = SweepSpec(
        name=name,
        root_seed=root_seed,
        replicates=replicates,
        days=days,
        fixed=fixed,
        grids=grids,
        sample=sample,
        common_random_numbers=crn,
        description=description,
        timeout_s=timeout_s,
        warnings=_sample_warnings(sample),
        source=source,
        text=text,
    )
    if not allow_large:
        _check_size(spec)
    if sample is not None:
        spec = replace(spec, warnings=spec.warnings + _check_integer_ranges(spec))
    _check_points(spec)
    return spec


def _run_table(source: str, raw: Any) -> float | None:
    """The ``[run]`` table: returns ``timeout_s`` (seconds, or ``None`` for no limit)."""
    if not isinstance(raw, dict):
        raise SpecError(source, "run", "a table [run] of timeout_s = seconds", raw)
    for key in raw:
        if key not in RUN_KEYS:
            raise SpecError(
                source,
                f"run.{key}",
                "one of the keys " + ", ".join(RUN_KEYS) + _hint(key, RUN_KEYS),
            )
    value = raw.get("timeout_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise SpecError(source, "run.timeout_s", "a number of seconds > 0", value)
    return float(value)


def _check_size(spec: SweepSpec) -> None:
    """Refuse a design of more than :data:`LARGE_DESIGN_RUNS` runs, before expanding it."""
    from sweeps.design import design_size, sample_size

    points = design_size(spec) // spec.replicates
    runs = points * spec.replicates
    if runs > LARGE_DESIGN_RUNS:
        sizes = [math.prod(len(values) for _, values in grid) for grid in spec.grids] or [1]
        sampled = sample_size(spec.sample) if spec.sample is not None else 1
        # blame the larger factor: the replicates, or the parameter points (grid or sample)
        if spec.replicates >= points:
            key = "replicates"
        elif spec.sample is not None and sampled >= max(sizes):
            key = "sample.n"
        else:
            block = max(range(len(sizes)), key=sizes.__getitem__)
            key = "grid" if len(spec.grids) <= 1 else f"grid[{block}]"
        grid = " + ".join(f"{s:,}" for s in sizes)
        raise SpecError(
            spec.source,
            key,
            f"a design of at most {LARGE_DESIGN_RUNS:,} runs, or --allow-large to run more; "
            f"this one has up to {runs:,} runs ({points:,} parameter points: grid {grid}"
            + (f" × sample {sampled:,}" if spec.sample is not None else "")
            + f"; × {spec.replicates:,} replicates)",
        )


def _check_integer_ranges(spec: SweepSpec) -> tuple[str, ...]:
    """Warnings for integer ranges too narrow for the sample; refuse an LHS that collapses.

    An integer parameter takes ``high - low + 1`` values; a sample needing more distinct
    values than that (``n`` for ``lhs`` and ``sobol``, the levels for ``morris``) puts
    several points on one value. When that leaves an LHS with fewer distinct points than
    ``n`` (every sampled parameter an integer), the design is refused rather than silently
    running fewer points; Sobol and Morris designs repeat points by construction, so
    they only get a warning.
    """
    from sweeps.design import canonical_json, sample_points

    sample = spec.sample
    narrow = [
        (name, low, high)
        for name, low, high in sample.ranges
        if PARAMETERS[name].kind is int
        and high - low + 1 < (MORRIS_LEVELS if sample.method == "morris" else sample.n)
    ]
    if not narrow:
        return ()
    points = sample_points(sample)
    distinct = len({canonical_json(p) for p in points})
    needed = f"{MORRIS_LEVELS} levels" if sample.method == "morris" else f"n = {sample.n}"
    ranges = ", ".join(
        f"{name} = [{low}, {high}] ({high - low + 1} values)" for name, low, high in narrow
    )
    advice = "widen the range, lower n, or grid the parameter instead"
    if sample.method == "lhs" and distinct < len(points):
        raise SpecError(
            spec.source,
            "sample.ranges",
            f"ranges that give {len(points)} distinct points for an lhs sample of n = "
            f"{sample.n}; the integer range(s) {ranges} leave only {distinct}: {advice}",
        )
    return (
        f"sample.ranges: the integer range(s) {ranges} hold fewer values than the {needed} "
        f"of the {sample.method} sample: its {len(points)} points are {distinct} distinct "
        f"ones, and the indices see the parameter only at those values; {advice}",
    )


def _sample_warnings(sample: Sample | None) -> tuple[str, ...]:
    if sample is None or sample.method != "sobol" or sample.n & (sample.n - 1) == 0:
        return ()
    low = 1 << (sample.n.bit_length() - 1)
    return (
        f"sample.n = {sample.n} is not a power of two: Sobol indices converge as designed "
        f"only for n = 2^k (e.g. {low} or {2 * low})",
    )


def _apply_preset(source: str, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with a ``preset``'s configuration under its ``[fixed]`` and ``days`` as default."""
    if "preset" not in raw:
        return raw
    from model.presets import PresetError, load_preset

    if not isinstance(raw["preset"], str):
        raise SpecError(source, "preset", "a preset name or file", raw["preset"])
    try:
        preset = load_preset(raw["preset"])
    except PresetError as err:
        raise SpecError(source, "preset", f"a usable preset ({err})") from None
    varied = {k for block in _as_blocks(raw.get("grid")) for k in block}
    sample = raw.get("sample")
    if isinstance(sample, dict) and isinstance(sample.get("ranges"), dict):
        varied |= set(sample["ranges"])
    fixed_raw = raw.get("fixed", {})
    if not isinstance(fixed_raw, dict):
        return raw
    base = {k: v for k, v in preset.params().items() if k not in varied}
    merged = {k: v for k, v in raw.items() if k != "preset"}
    merged["fixed"] = {**base, **fixed_raw}
    merged.setdefault("days", preset.days)
    return merged


def _as_blocks(grid: Any) -> list[dict[str, Any]]:
    if isinstance(grid, dict):
        return [grid]
    return [b for b in grid if isinstance(b, dict)] if isinstance(grid, list) else []


def _grids(
    source: str, raw: Any, fixed_names: set[str]
) -> tuple[tuple[tuple[str, tuple[Any, ...]], ...], ...]:
    if raw is None:
        return ()
    blocks = [raw] if isinstance(raw, dict) else raw
    if not isinstance(blocks, list) or not blocks:
        raise SpecError(source, "grid", "a [grid] table or one or more [[grid]] blocks", raw)
    single = isinstance(raw, dict)
    grids = []
    for i, block in enumerate(blocks):
        where = "grid" if single else f"grid[{i}]"
        if not isinstance(block, dict):
            raise SpecError(source, where, "a table of parameter = [values]", block)
        if not block:
            raise SpecError(source, where, "at least one parameter = [values]", block)
        grid = []
        for key, values in block.items():
            _check_name(source, f"{where}.{key}", key)
            if key in fixed_names:
                raise SpecError(source, f"{where}.{key}", "a parameter that is not also in [fixed]")
            if not isinstance(values, list):
                raise SpecError(
                    source, f"{where}.{key}", "a list of values, e.g. [1, 2, 4]", values
                )
            if not values:
                raise SpecError(source, f"{where}.{key}", "a non-empty list of values", values)
            checked = tuple(
                _param_value(source, f"{where}.{key}[{j}]", key, value)
                for j, value in enumerate(values)
            )
            if len(set(checked)) != len(checked):
                raise SpecError(source, f"{where}.{key}", "a list without repeated values", values)
            grid.append((key, checked))
        grids.append(tuple(grid))
    return tuple(grids)


def _sample(
    source: str, raw: Any, fixed_names: set[str], gridded: set[str], root_seed: int
) -> Sample:
    if not isinstance(raw, dict):
        raise SpecError(source, "sample", "a [sample] table", raw)
    for key in raw:
        if key not in SAMPLE_KEYS:
            raise SpecError(
                source,
                f"sample.{key}",
                "one of the keys " + ", ".join(SAMPLE_KEYS) + _hint(key, SAMPLE_KEYS),
            )
    method = raw.get("method")
    if method not in SAMPLE_METHODS:
        raise SpecError(
            source, "sample.method", "one of " + ", ".join(map(repr, SAMPLE_METHODS)), method
        )
    n = _int(source, "sample.n", raw.get("n"), low=1)
    seed = _int(source, "sample.seed", raw.get("seed", root_seed), low=0)
    second_order = raw.get("second_order", True)
    if not isinstance(second_order, bool):
        raise SpecError(source, "sample.second_order", "true or false", second_order)
    ranges_raw = raw.get("ranges")
    if not isinstance(ranges_raw, dict) or not ranges_raw:
        raise SpecError(
            source, "sample.ranges", "a non-empty table [sample.ranges] of parameter = [low, high]"
        )
    ranges = []
    for key, pair in ranges_raw.items():
        where = f"sample.ranges.{key}"
        _check_name(source, where, key)
        if key in fixed_names or key in gridded:
            raise SpecError(source, where, "a parameter that is not also in [fixed] or a grid")
        spec = PARAMETERS[key]
        if spec.kind not in (int, float):
            raise SpecError(
                source,
                where,
                f"a numeric parameter ({key} is {spec.kind.__name__}; grid it instead)",
            )
        if not isinstance(pair, list) or len(pair) != 2:
            raise SpecError(source, where, "a pair [low, high]", pair)
        low = _param_value(source, f"{where}[0]", key, pair[0])
        high = _param_value(source, f"{where}[1]", key, pair[1])
        if not low < high:
            raise SpecError(source, where, "low < high", pair)
        ranges.append((key, low, high))
    return Sample(method=method, n=n, ranges=tuple(ranges), seed=seed, second_order=second_order)


def _check_points(spec: SweepSpec) -> None:
    """Expand the design and check every point as the model will (combinations, warm-up)."""
    from sweeps.design import expand_points

    for where, point in expand_points(spec, with_origin=True):
        try:
            full = validate_params(point)
        except ValueError as err:
            raise SpecError(spec.source, where, f"a valid parameter combination ({err})") from None
        if spec.days <= full["warmup_days"]:
            raise SpecError(
                spec.source,
                "days",
                f"more days than warmup_days={full['warmup_days']:g} (at {where}), "
                "or nothing is measured",
                spec.days,
            )


def _check_name(source: str, key: str, name: str) -> None:
    if name not in PARAMETERS:
        raise SpecError(source, key, "a model parameter" + _hint(name, PARAMETERS))


def _param_value(source: str, key: str, name: str, value: Any) -> Any:
    _check_name(source, key, name)
    spec = PARAMETERS[name]
    try:
        return spec.validate(value)
    except ValueError:
        hint = _hint(value, spec.choices) if spec.choices and isinstance(value, str) else ""
        raise SpecError(source, key, f"{name} to be {spec.valid_range()}{hint}", value) from None


def _int(source: str, key: str, value: Any, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SpecError(source, key, f"an integer >= {low}", value)
    return value


def _hint(name: str, valid: Any) -> str:
    return did_you_mean(name, valid)


def did_you_mean(name: str, valid: Any) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``valid`` to ``name``, or ``""``."""
    close = difflib.get_close_matches(name, [str(v) for v in valid], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_name(what: str, name: str, valid: Any, listed_by: str) -> str:
    """``unknown <what> 'x' (did you mean 'y'?)`` and where the valid names are listed.

    The closest valid name, not the list of all of them (50 to 110 names); when nothing is
    close, ``listed_by`` says where to find them.
    """
    hint = did_you_mean(name, valid)
    where = "" if hint else f"; {listed_by}"
    return f"unknown {what} {name!r}{hint}{where}"
