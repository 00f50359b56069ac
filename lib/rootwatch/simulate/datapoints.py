"""What a metric filter publishes for one log event its pattern matches: the datapoint of a
``metricTransformations`` entry (CloudWatch Logs ``PutMetricFilter``).

- ``metricValue`` is a number, or a ``$.field`` selector resolved on the matching event: a JSON
  number there is the value, an absent or non-numeric field publishes nothing (the field "must have
  been matched"), and ``0`` publishes a datapoint of 0, which no count threshold ever reaches.
- ``defaultValue`` is published for every log event the pattern does *not* match, so a log group
  that receives other events carries that value in every period: the metric is no longer sparse.
- ``dimensions`` make another metric: the datapoint belongs to ``namespace/name{dims}`` and an
  alarm sees it only when it names the same dimensions with the same values.
- ``unit`` (``None`` when omitted) tags the datapoint; an alarm whose ``Unit`` differs never sees it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rootwatch.errors import PatternSyntaxError
from rootwatch.patterns.ast import Path
from rootwatch.patterns.compare import value_at
from rootwatch.patterns.evaluate import MISSING, as_double
from rootwatch.patterns.lexer import NUMBER, tokenize

UNIT_NONE = "None"  # the unit CloudWatch Logs gives a metric transformation that names none


class CannotSimulate(Exception):
    """The configuration needs a behaviour CloudWatch does not document, or that the simulator does
    not model: the caller reports an evidence gap, never a verdict."""

    def __init__(self, reason: str, setting: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.setting = setting


@dataclass(frozen=True)
class MetricKey:
    """One CloudWatch metric: each distinct set of dimensions is a metric of its own."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...] = ()  # sorted by name

    def __str__(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in self.dimensions)
        return f"{self.namespace}/{self.name}" + (f"{{{dims}}}" if dims else "")

    def same_metric(self, other: MetricKey) -> bool:
        """Namespace and name, dimensions aside: the filter and the alarm at least mean one metric."""
        return (self.namespace, self.name) == (other.namespace, other.name)


@dataclass(frozen=True)
class Transformation:
    """One ``metricTransformations`` entry, read once so the simulation never touches raw API shapes."""

    namespace: str
    name: str
    value: str  # metricValue as written: "1", "0", "$.requestParameters.count"
    default: float | None
    dimensions: tuple[tuple[str, str], ...]  # (dimension name, selector), sorted
    unit: str

    @classmethod
    def from_api(cls, raw: Any) -> Transformation:
        raw = mapping(raw, "metricTransformations")
        default = raw.get("defaultValue")
        dimensions = mapping(raw.get("dimensions") or {}, "dimensions")
        return cls(namespace=str(raw.get("metricNamespace", "")), name=str(raw.get("metricName", "")),
                   value=str(raw.get("metricValue", "1")).strip(),
                   default=None if default is None else _number(default, "defaultValue"),
                   dimensions=tuple(sorted((str(k), str(v)) for k, v in dimensions.items())),
                   unit=str(raw.get("unit") or UNIT_NONE))


@dataclass(frozen=True)
class Datapoint:
    """What one matching event publishes."""

    metric: MetricKey
    value: float
    unit: str


@dataclass(frozen=True)
class NoDatapoint:
    """A matching event that publishes nothing, and why (the setting is named for the finding)."""

    reason: str
    setting: str = "metricValue"


def datapoint(transformation: Transformation, event: Mapping[str, Any]) -> Datapoint | NoDatapoint:
    """The datapoint ``transformation`` publishes for ``event``, an event its filter pattern matches.

    Raises ``CannotSimulate`` where CloudWatch's behaviour is not documented (a numeric string, a
    dimension field that is absent or not a string)."""
    value = _metric_value(transformation.value, event)
    if isinstance(value, NoDatapoint):
        return value
    dims = tuple((name, _dimension_value(name, selector, event)) for name, selector in transformation.dimensions)
    return Datapoint(MetricKey(transformation.namespace, transformation.name, dims), value, transformation.unit)


def mapping(raw: Any, setting: str) -> Mapping[str, Any]:
    """``raw`` when it is a JSON object. API shapes come from AWS, a bundle or a sandbox: a malformed
    one is a gap in the evidence, never a crash of the scan."""
    if not isinstance(raw, Mapping):
        raise CannotSimulate(f"{setting} is not an object", setting)
    return raw


def mappings(raw: Any, setting: str) -> list[Mapping[str, Any]]:
    """A JSON array of objects (absent: empty), as ``mapping``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CannotSimulate(f"{setting} is not a list", setting)
    return [mapping(item, setting) for item in raw]


def selector_path(text: str) -> Path | None:
    """``$.a.b[0]`` as a path, read by the filter-pattern lexer (one grammar for selectors), or
    ``None`` when ``text`` is not exactly one JSON selector."""
    try:
        tokens = list(tokenize(text))
    except PatternSyntaxError:
        return None
    if len(tokens) != 2 or tokens[0].kind != "SELECTOR":
        return None
    return Path(tokens[0].value)


def _metric_value(text: str, event: Mapping[str, Any]) -> float | NoDatapoint:
    if NUMBER.match(text):
        return _number(text, "metricValue")
    path = selector_path(text)
    if path is None:
        raise CannotSimulate(f"metricValue {text!r} is neither a number nor a JSON selector ($.field)",
                             "metricValue")
    found = value_at(event, path)
    if found is MISSING:
        return NoDatapoint(f"metricValue {text} is absent on the event, so it publishes no datapoint")
    if isinstance(found, str) and NUMBER.match(found.strip()):
        raise CannotSimulate(f"metricValue {text} is the string {found!r} on the event; whether CloudWatch "
                             "reads a number from a string is not documented", "metricValue")
    if isinstance(found, bool) or not isinstance(found, int | float):
        return NoDatapoint(f"metricValue {text} is {_kind(found)} on the event, not a number, so it publishes "
                           "no datapoint")
    value = as_double(found)
    if math.isnan(value):
        raise CannotSimulate(f"metricValue {text} is NaN on the event; what CloudWatch publishes then is not "
                             "documented", "metricValue")
    return value


def _dimension_value(name: str, selector: str, event: Mapping[str, Any]) -> str:
    path = selector_path(selector)
    found = MISSING if path is None else value_at(event, path)
    if not isinstance(found, str):
        raise CannotSimulate(f"dimension {name} ({selector}) is {_kind(found)} on the event; what CloudWatch "
                             "publishes then is not documented", "dimensions")
    return found


def _number(raw: Any, setting: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise CannotSimulate(f"{setting} {raw!r} is not a number", setting) from None
    if not math.isfinite(value):
        raise CannotSimulate(f"{setting} {raw!r} is not a finite number", setting)
    return value


def _kind(value: Any) -> str:
    if value is MISSING:
        return "absent"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return "a string" if isinstance(value, str) else "a number"
