"""Presets: observed patterns of real systems, and the configurations that stand for them.

One TOML file a system (``model/presets/<name>.toml``). A preset holds

``name`` (str, required; a shipped preset's must match its file name)
    and ``description`` (str, required).
``days`` (number > warm-up, default 365)
    Run length used by ``orgscale validate`` and ``orgscale calibrate``.
``[config]``
    Model parameters that describe the system (everything else keeps its model default).
``[priors]``
    The parameters the data do not give directly, each a range ``name = [low, high]``
    (uniform prior for calibration). A parameter may be in both: ``[config]`` then holds its
    calibrated value (inside the range); otherwise runs use the middle of the range.
``[calibration]``
    Optional settings of ``orgscale calibrate``: ``population`` (particles per generation),
    ``generations`` (at most), ``min_epsilon`` (stop once the distance threshold is below
    this, in tolerance units), ``seed``, ``days``.
``[[pattern]]``
    One observed pattern each: ``metric`` (a name in :data:`model.METRICS`, or a pattern of
    :data:`observe.patterns.PATTERNS`, computed from the run's event log by the definition
    real histories go through), ``observed``
    (a number or an interval ``[low, high]``; ``high`` may be ``inf``), ``tolerance`` (how
    far outside the observed value or interval a simulation may fall and still count as
    reproducing it: a table ``{ rel = 0.2 }`` (a share of the observed value) and/or
    ``{ abs = 0.5 }`` (in the metric's unit), the larger applies; or ``{ factor = 1.25 }``
    (within that factor of the observed value, both ways: a tolerance on the log scale, for
    positive quantities spanning orders of magnitude, such as lead-time quantiles, where a
    share of the value caps the distance of a value too small at 1/rel units but leaves
    one too large unbounded)), ``in_sample`` (true: used
    by ``orgscale calibrate``; false: held out for validation, and then ``why`` must say why),
    ``source`` (a table ``{ ref = ..., date = ..., counted = ... }``: where it was published,
    the period it covers, what was counted; or, for a pattern computed from a public
    history, ``{ observe = "orgscale observe ...", repo = ..., commit = ..., date = ...,
    counted = ... }``: the exact command and the commit of the history it read) and
    optional ``id`` (unique within the preset, default the metric name; lets one metric
    appear twice), ``note`` and ``role`` (``"fit"``, the default, or ``"check"``: a pattern
    whose value the configuration fixes — ``tree_depth``, ``n_teams_total`` — is compared
    with the observation and reported, but never counts in the calibration's distance).
``[trajectory]``
    Optional: patterns observed period by period (e.g. every quarter of a public history,
    ``orgscale observe REPO --every quarter``), held out in time after a date. Keys:
    ``start`` (ISO date the first period starts; the model maps it to day ``warmup_days``),
    ``in_sample_until`` (ISO date: periods starting before it are in-sample, the rest are
    held out in time), ``patterns`` (names of :data:`observe.patterns.PATTERNS` to fit per
    period), ``tolerance`` (``{ rel = ..., abs = ... }`` or ``{ factor = ... }`` for every
    pattern, or one such table per pattern name), ``observe``, ``repo``, ``commit`` (the
    ``orgscale observe ...`` command and the history commit that produced the numbers),
    ``counted`` (what was counted), and ``[[trajectory.period]]`` rows: ``since``,
    ``until`` (ISO dates) and one key per pattern with its observed value (a number or
    ``[low, high]``; a pattern left out was not observed in that period). Each period gives
    one pattern per name, id ``"{name}@{since}"``, computed over the window
    ``[warmup_days + (since − start), warmup_days + (until − start))`` in model days.
    ``days`` defaults to warm-up plus the trajectory's span and must cover it.

Everything is checked when the file is read: :class:`PresetError`'s one-line message names
the file, the key and what was valid.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRESETS_DIR = Path(__file__).resolve().parent
TOP_KEYS = (
    "name",
    "description",
    "days",
    "config",
    "priors",
    "calibration",
    "pattern",
    "trajectory",
)
PATTERN_KEYS = (
    "id",
    "metric",
    "observed",
    "tolerance",
    "in_sample",
    "why",
    "source",
    "note",
    "role",
)
ROLES = ("fit", "check")
TRAJECTORY_KEYS = (
    "start",
    "in_sample_until",
    "patterns",
    "tolerance",
    "observe",
    "repo",
    "commit",
    "counted",
    "period",
)
SOURCE_KEYS = ("ref", "date", "counted")
# a pattern computed by ``orgscale observe`` from a public history: the exact command and
# the commit of the history it read
OBSERVED_SOURCE_KEYS = ("observe", "repo", "commit", "date", "counted")
TOLERANCE_KEYS = ("rel", "abs", "factor")
CALIBRATION_KEYS = (
    "population",
    "generations",
    "min_epsilon",
    "seed",
    "days",
    "seeds_per_particle",
    "min_acceptance_rate",
    "min_ess",
    "distance",
    "ppc_draws",
)
DISTANCES = ("adaptive", "tolerance")
CALIBRATION_DEFAULTS: dict[str, Any] = {
    "population": 200,
    "generations": 8,
    "min_epsilon": 0.5,
    "seed": 20131114,
    "seeds_per_particle": 1,
    "min_acceptance_rate": 0.01,
    "min_ess": 0.5,
    "distance": "adaptive",
    "ppc_draws": 100,
}


class PresetError(ValueError):
    """A preset that cannot be used; the message names the file, the key and what was valid."""

    def __init__(self, source: str, key: str, expected: str, got: Any = ...) -> None:
        self.source, self.key = source, key
        message = f"{source}: {key}: expected {expected}"
        if got is not ...:
            message += f", got {got!r}"
        super().__init__(message)


@dataclass(frozen=True)
class Pattern:
    """One observed pattern: a metric's observed value or interval, tolerance and source."""

    id: str
    metric: str
    low: float
    high: float
    rel_tol: float
    abs_tol: float
    in_sample: bool
    ref: str
    date: str
    counted: str
    why: str = ""
    note: str = ""
    command: str = ""  # the ``orgscale observe`` command that computed it, if one did
    role: str = "fit"  # "check": fixed by the configuration, compared but not in the distance
    window: tuple[float, float] | None = None  # model days [start, end) of a trajectory period
    period: tuple[str, str] | None = None  # its ISO dates (since, until)
    factor: float = 0.0  # > 1: a log-scale tolerance (reproduced within this factor); 0: none

    @property
    def check(self) -> bool:
        """Whether the pattern is a check (fixed by the configuration), not a distance."""
        return self.role == "check"

    @property
    def role_label(self) -> str:
        """``in-sample``, ``check``, ``held-out`` or ``held-out (in time)``."""
        if self.check:
            return "check"
        if self.in_sample:
            return "in-sample"
        return "held-out (in time)" if self.period is not None else "held-out"

    @property
    def observed(self) -> str:
        """The observed value or interval as text (``3.8`` or ``[42, 59]``)."""
        if self.low == self.high:
            return f"{self.low:g}"
        return f"[{self.low:g}, {self.high:g}]"

    @property
    def center(self) -> float:
        """The observed value, or the middle of a finite interval (its low end if open)."""
        return self.low if math.isinf(self.high) else (self.low + self.high) / 2

    def tolerance(self) -> float:
        """How far outside ``[low, high]`` still counts as reproduced (the metric's unit).

        With a ``factor`` tolerance the margin differs on each side (see
        :meth:`accepted_range`); this is the upper one, ``high × (factor − 1)``.
        """
        if self.factor:
            return abs(self.high) * (self.factor - 1.0)
        return max(self.abs_tol, self.rel_tol * abs(self.center))

    @property
    def tolerance_label(self) -> str:
        """The tolerance as text: ``±0.5`` (the metric's unit) or ``×÷1.25`` (a factor)."""
        return f"×÷{self.factor:g}" if self.factor else f"±{self.tolerance():.3g}"

    def accepted_range(self) -> tuple[float, float]:
        """Simulated values that reproduce the pattern: ``[low − tolerance, high + tolerance]``,
        or ``[low / factor, high × factor]``."""
        if self.factor:
            return self.low / self.factor, self.high * self.factor
        tol = self.tolerance()
        return self.low - tol, self.high + tol

    def on_scale(self, value: float) -> float:
        """``value`` on the scale the tolerance is measured on: itself, or its natural log
        with a ``factor`` tolerance (``nan`` for a value <= 0 there)."""
        if not self.factor:
            return float(value)
        return math.log(value) if value > 0 else math.nan

    def scale_tolerance(self) -> float:
        """The tolerance on :meth:`on_scale`'s scale: the metric's unit, or ``ln(factor)``."""
        return math.log(self.factor) if self.factor else self.tolerance()

    def deviation(self, value: float) -> float:
        """How far ``value`` lies outside ``[low, high]`` on :meth:`on_scale`'s scale (0 inside);
        ``inf`` for ``nan`` (the model did not produce the metric) and, with a ``factor``
        tolerance, for a value <= 0 (no factor reaches it)."""
        if value is None or not math.isfinite(value):
            return math.inf
        if self.factor:
            if value <= 0:
                return math.inf
            log_value = math.log(value)  # logs first: high may be inf, value tiny
            return max(math.log(self.low) - log_value, log_value - math.log(self.high), 0.0)
        return max(self.low - value, value - self.high, 0.0)

    def distance(self, value: float) -> float:
        """Distance of a simulated value from the observed interval, in tolerance units.

        0 inside ``[low, high]``, 1 at the edge of what counts as reproduced, ``inf`` for
        ``nan`` (the model did not produce the metric).
        """
        outside = self.deviation(value)
        tol = self.scale_tolerance()
        return outside / tol if tol > 0 else (0.0 if outside == 0 else math.inf)

    def reproduced(self, value: float) -> bool:
        """Whether ``value`` lies within tolerance of the observed value or interval."""
        return self.distance(value) <= 1.0

    @property
    def source(self) -> str:
        """``ref, date: counted`` in one line."""
        return f"{self.ref}, {self.date}: {self.counted}"


@dataclass(frozen=True)
class Preset:
    """A system: its configuration, prior ranges of the unknown parameters, observed patterns."""

    name: str
    description: str
    days: float
    config: tuple[tuple[str, Any], ...]
    priors: tuple[tuple[str, float, float], ...]
    patterns: tuple[Pattern, ...]
    calibration: tuple[tuple[str, Any], ...] = ()
    path: str = field(default="<preset>", compare=False)
    trajectory: Trajectory | None = None

    def params(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Model parameters: ``[config]``, each prior's middle, then ``overrides``."""
        from model.params import PARAMETERS

        params = {name: (low + high) / 2 for name, low, high in self.priors}
        for name in params:
            if PARAMETERS[name].kind is int:
                params[name] = round(params[name])
        params.update(dict(self.config))
        params.update(overrides or {})
        return params

    def in_sample(self) -> list[Pattern]:
        """The in-sample patterns (checks included: see :meth:`fitted`)."""
        return [p for p in self.patterns if p.in_sample]

    def fitted(self) -> list[Pattern]:
        """The patterns calibration's distance uses: in-sample and not checks."""
        return [p for p in self.patterns if p.in_sample and not p.check]

    def checks(self) -> list[Pattern]:
        """The patterns marked ``role = "check"``."""
        return [p for p in self.patterns if p.check]

    def held_out(self) -> list[Pattern]:
        """The patterns kept for validation only."""
        return [p for p in self.patterns if not p.in_sample]

    def settings(self) -> dict[str, Any]:
        """Calibration settings: :data:`CALIBRATION_DEFAULTS` overridden by ``[calibration]``."""
        settings = dict(CALIBRATION_DEFAULTS, days=self.days)
        settings.update(dict(self.calibration))
        return settings


def preset_names() -> list[str]:
    """Names of the shipped presets (``model/presets/*.toml``), sorted."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def resolve(name_or_path: str | Path) -> Path:
    """The file of a shipped preset given its name, or ``name_or_path`` if it is a file.

    Raises :class:`PresetError` naming the valid presets when it is neither.
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise PresetError(str(path), "(file)", "an existing preset file (TOML)")
        return path
    candidate = PRESETS_DIR / f"{name_or_path}.toml"
    if candidate.is_file():
        return candidate
    names = preset_names()
    raise PresetError(
        str(name_or_path),
        "(preset)",
        "a preset name (" + ", ".join(names) + ") or a TOML file" + _hint(str(path), names),
    )


def load_preset(name_or_path: str | Path) -> Preset:
    """Read and validate a preset by name (``nova-2013``) or path.

    Raises
    ------
    PresetError
        For a missing file, bad TOML, an unknown key, parameter or metric, a wrong type, an
        empty or inverted prior range, or an invalid parameter combination.
    """
    path = resolve(name_or_path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise PresetError(source, "(file)", f"a readable UTF-8 TOML file ({err})") from None
    return parse_preset(text, source=source)


def parse_preset(text: str, *, source: str = "<preset>") -> Preset:
    """Validate the TOML ``text`` of a preset (``source`` names it in messages)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PresetError(source, "(syntax)", f"valid TOML ({err})") from None
    return _build(raw, source)


# --------------------------------------------------------------------------- validation
def _build(raw: dict[str, Any], source: str) -> Preset:
    from model.params import PARAMETERS, validate_params

    _keys(source, "", raw, TOP_KEYS)
    for key in ("name", "description"):
        if key not in raw:
            raise PresetError(source, key, "this required key")
    if "pattern" not in raw and "trajectory" not in raw:
        raise PresetError(source, "pattern", "[[pattern]] tables and/or a [trajectory]")
    name = _str(source, "name", raw["name"])
    stem = Path(source).stem
    if Path(source).resolve().parent == PRESETS_DIR and stem != name:
        raise PresetError(source, "name", f"the file's name {stem!r}", name)
    description = _str(source, "description", raw["description"])
    days = raw.get("days", 365)
    if isinstance(days, bool) or not isinstance(days, int | float) or not 0 < days < math.inf:
        raise PresetError(source, "days", "a positive number of days", days)

    config_raw = _table(source, "config", raw.get("config", {}))
    config = []
    for key, value in config_raw.items():
        _param_name(source, f"config.{key}", key)
        try:
            config.append((key, PARAMETERS[key].validate(value)))
        except ValueError:
            raise PresetError(
                source, f"config.{key}", f"{key} to be {PARAMETERS[key].valid_range()}", value
            ) from None

    priors = []
    for key, pair in _table(source, "priors", raw.get("priors", {})).items():
        where = f"priors.{key}"
        _param_name(source, where, key)
        spec = PARAMETERS[key]
        if spec.kind not in (int, float):
            raise PresetError(source, where, f"a numeric parameter ({key} is {spec.kind.__name__})")
        if not isinstance(pair, list) or len(pair) != 2:
            raise PresetError(source, where, "a range [low, high]", pair)
        try:
            low, high = (float(spec.validate(v)) for v in pair)
        except ValueError:
            raise PresetError(
                source, where, f"both ends to be {spec.valid_range()}", pair
            ) from None
        if not low < high:
            raise PresetError(source, where, "a non-empty range [low, high] with low < high", pair)
        if key in config_raw and not low <= config_raw[key] <= high:
            raise PresetError(
                source,
                f"config.{key}",
                f"a value inside its prior range [{low:g}, {high:g}]",
                config_raw[key],
            )
        priors.append((key, low, high))

    calibration = []
    for key, value in _table(source, "calibration", raw.get("calibration", {})).items():
        where = f"calibration.{key}"
        if key not in CALIBRATION_KEYS:
            raise PresetError(
                source,
                where,
                "one of " + ", ".join(CALIBRATION_KEYS) + _hint(key, CALIBRATION_KEYS),
            )
        if key == "distance":
            if value not in DISTANCES:
                raise PresetError(source, where, "one of " + ", ".join(DISTANCES), value)
            calibration.append((key, value))
            continue
        ok = not isinstance(value, bool) and isinstance(value, int | float) and value >= 0
        if key in ("population", "generations", "seed", "seeds_per_particle", "ppc_draws"):
            ok = ok and isinstance(value, int) and (key in ("seed", "ppc_draws") or value >= 1)
        if key in ("min_acceptance_rate", "min_ess"):
            ok = ok and value <= 1
        if not ok:
            raise PresetError(
                source,
                where,
                "a non-negative number (an integer >= 1 for counts, at most 1 for "
                "min_acceptance_rate and min_ess, a share of the population)",
                value,
            )
        calibration.append((key, value))

    patterns = _patterns(source, raw["pattern"]) if "pattern" in raw else ()
    preset = Preset(
        name=name,
        description=description,
        days=float(days),
        config=tuple(config),
        priors=tuple(priors),
        patterns=patterns,
        calibration=tuple(calibration),
        path=source,
    )
    try:
        full = validate_params(preset.params())
    except ValueError as err:
        raise PresetError(source, "config", f"a valid parameter combination ({err})") from None
    need = float(full["warmup_days"])
    if "trajectory" in raw:
        trajectory, periodic = parse_trajectory(source, raw["trajectory"], full["warmup_days"])
        seen = {p.id for p in patterns}
        for p in periodic:
            if p.id in seen:
                raise PresetError(
                    source, "trajectory", "pattern ids not used by a [[pattern]]", p.id
                )
        need = full["warmup_days"] + trajectory.span_days
        preset = Preset(
            name=name,
            description=description,
            days=float(days) if "days" in raw else float(need),
            config=tuple(config),
            priors=tuple(priors),
            patterns=patterns + periodic,
            calibration=tuple(calibration),
            path=source,
            trajectory=trajectory,
        )
    for key in ("days", *(["calibration.days"] if "days" in dict(calibration) else [])):
        value = preset.days if key == "days" else float(dict(calibration)["days"])
        if value <= full["warmup_days"]:
            raise PresetError(
                source, key, f"more days than warmup_days={full['warmup_days']:g}", value
            )
        if value < need:
            raise PresetError(
                source,
                key,
                f"at least warmup_days + the trajectory's span = {need:g} days",
                value,
            )
    return preset


def _tolerance(source: str, where: str, tol: Any) -> tuple[float, float, float]:
    """``(rel, abs, factor)`` of a tolerance table (0 for what it does not set)."""
    tol = _table(source, where, tol)
    _keys(source, f"{where}.", tol, TOLERANCE_KEYS)
    if not tol:
        raise PresetError(
            source, where, "{ rel = share } and/or { abs = amount }, or { factor = f > 1 }"
        )
    for key, value in tol.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise PresetError(source, f"{where}.{key}", "a number >= 0", value)
    if "factor" in tol:
        if len(tol) > 1:
            raise PresetError(
                source, where, "either { factor = ... } or { rel, abs }, not both", dict(tol)
            )
        if not (tol["factor"] > 1 and math.isfinite(tol["factor"])):
            raise PresetError(source, f"{where}.factor", "a finite number > 1", tol["factor"])
    return float(tol.get("rel", 0.0)), float(tol.get("abs", 0.0)), float(tol.get("factor", 0.0))


def _patterns(source: str, raw: Any) -> tuple[Pattern, ...]:
    from model.metrics import METRICS
    from observe.patterns import PATTERNS

    measurable = {**METRICS, **PATTERNS}
    if not isinstance(raw, list) or not raw:
        raise PresetError(source, "pattern", "one or more [[pattern]] tables")
    patterns, seen = [], set()
    for i, item in enumerate(raw):
        where = f"pattern[{i}]"
        if not isinstance(item, dict):
            raise PresetError(source, where, "a [[pattern]] table", item)
        _keys(source, where + ".", item, PATTERN_KEYS)
        for key in ("metric", "observed", "tolerance", "in_sample", "source"):
            if key not in item:
                raise PresetError(source, f"{where}.{key}", "this required key")
        metric = item["metric"]
        if metric not in measurable:
            raise PresetError(
                source,
                f"{where}.metric",
                "a metric of model.METRICS or a pattern of observe.patterns.PATTERNS"
                + _hint(str(metric), measurable),
                metric,
            )
        pid = _str(source, f"{where}.id", item.get("id", metric))
        if pid in seen:
            raise PresetError(source, f"{where}.id", "an id not used by another pattern", pid)
        seen.add(pid)
        rel_tol, abs_tol, factor = _tolerance(source, f"{where}.tolerance", item["tolerance"])
        low, high = _observed(source, f"{where}.observed", item["observed"], factor)
        role = item.get("role", "fit")
        if role not in ROLES:
            raise PresetError(source, f"{where}.role", "one of " + ", ".join(ROLES), role)
        in_sample = item["in_sample"]
        if not isinstance(in_sample, bool):
            raise PresetError(source, f"{where}.in_sample", "true or false", in_sample)
        why = _str(source, f"{where}.why", item.get("why", ""), empty=True)
        if not in_sample and not why:
            raise PresetError(source, f"{where}.why", "a reason why the pattern is held out")
        src = _table(source, f"{where}.source", item["source"])
        keys = OBSERVED_SOURCE_KEYS if "observe" in src else SOURCE_KEYS
        _keys(source, f"{where}.source.", src, keys)
        for key in keys:
            if key not in src:
                raise PresetError(source, f"{where}.source.{key}", "this required key")
            _str(source, f"{where}.source.{key}", src[key])
        if "observe" in src:
            if not src["observe"].startswith("orgscale observe "):
                raise PresetError(
                    source, f"{where}.source.observe", "an 'orgscale observe ...' command"
                )
            src = {
                **src,
                "ref": f"{src['repo']} at {src['commit'][:12]}, by {src['observe']}",
            }
        patterns.append(
            Pattern(
                id=pid,
                metric=metric,
                low=low,
                high=high,
                rel_tol=rel_tol,
                abs_tol=abs_tol,
                factor=factor,
                role=role,
                in_sample=in_sample,
                ref=src["ref"],
                date=src["date"],
                counted=src["counted"],
                command=src.get("observe", ""),
                why=why,
                note=_str(source, f"{where}.note", item.get("note", ""), empty=True),
            )
        )
    return tuple(patterns)


def _observed(source: str, key: str, value: Any, factor: float = 0.0) -> tuple[float, float]:
    """``(low, high)`` of an observed value (a number or an interval); with a ``factor``
    tolerance (> 0) the value must be positive, as no factor reaches 0 or below."""
    low, high = _observed_interval(source, key, value)
    if factor and not low > 0:
        raise PresetError(source, key, "a positive value with a factor tolerance", low)
    return low, high


def _observed_interval(source: str, key: str, value: Any) -> tuple[float, float]:
    def number(v: Any) -> bool:
        return not isinstance(v, bool) and isinstance(v, int | float) and not math.isnan(v)

    if number(value) and math.isfinite(value):
        return float(value), float(value)
    if isinstance(value, list) and len(value) == 2 and all(number(v) for v in value):
        low, high = float(value[0]), float(value[1])
        if math.isfinite(low) and low <= high:
            return low, high
    raise PresetError(source, key, "a number or an interval [low, high] with low <= high", value)


def _keys(source: str, prefix: str, table: dict[str, Any], valid: tuple[str, ...]) -> None:
    for key in table:
        if key not in valid:
            raise PresetError(
                source, f"{prefix}{key}", "one of the keys " + ", ".join(valid) + _hint(key, valid)
            )


def _table(source: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PresetError(source, key, "a table", value)
    return value


def _str(source: str, key: str, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()):
        raise PresetError(source, key, "a non-empty string" if not empty else "a string", value)
    return value


def _param_name(source: str, key: str, name: str) -> None:
    from model.params import PARAMETERS

    if name not in PARAMETERS:
        raise PresetError(source, key, "a model parameter" + _hint(name, PARAMETERS))


def _hint(name: str, valid: Any) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# at the end: trajectory.py uses the helpers above
from model.presets.trajectory import Trajectory, parse_trajectory  # noqa: E402
