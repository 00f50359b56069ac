"""A ``DescribeAlarms`` metric alarm read into what its evaluation depends on.

A metric-math alarm is read when its expression is one metric or a plain sum of metrics (``m1``,
``m1 + m2``, ``SUM([m1, m2])``): basic arithmetic counts a missing value as 0 ("Metric math syntax
and functions"), so the sum has a datapoint wherever one of its metrics has. Any other expression,
an anomaly-detection threshold, or a period finer than the minute a metric filter publishes at,
cannot be simulated: the caller reports a gap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rootwatch.simulate.alarm import Comparison, Rule, State, comparison, treatment
from rootwatch.simulate.datapoints import CannotSimulate, MetricKey, mapping, mappings
from rootwatch.simulate.statistics import STANDARD, Statistic, number_text, statistic

# CloudWatch caps EvaluationPeriods x Period at a day: 1,440 one-minute periods. Each evaluation reads
# the whole range, so a hostile count beyond that is a gap, not unbounded work.
MAX_EVALUATION_PERIODS = 1440
ID = r"[a-z][A-Za-z0-9_]*"
SUM_OF_IDS = re.compile(rf"{ID}(?:\+{ID})*\Z")
SUM_FUNCTION = re.compile(rf"SUM\(\[({ID}(?:,{ID})*)\]\)\Z")


@dataclass(frozen=True)
class Operand:
    """One metric the alarm reads, with the statistic and unit it reads it by."""

    metric: MetricKey
    statistic: Statistic
    unit: str | None  # None: any unit

    def label(self) -> str:
        return f"{self.statistic.name} of {self.metric}" + (f" (Unit {self.unit})" if self.unit else "")


@dataclass(frozen=True)
class AlarmModel:
    name: str
    operands: tuple[Operand, ...]  # summed per period; one for a plain metric alarm
    expression: str | None  # the metric-math expression, for the finding's text
    period: int  # seconds
    threshold: float
    comparison: Comparison
    rule: Rule
    low_sample_ignore: bool  # EvaluateLowSampleCountPercentile: ignore
    wall_clock: bool  # EvaluationWindow WallClockWindow: whole clock-aligned periods only
    state: State | None  # StateValue now: what TreatMissingData ignore keeps

    def describe(self) -> str:
        series = self.expression or self.operands[0].label()
        return (f"{series} over {self.period} s {self.comparison.symbol} {number_text(self.threshold)}, "
                f"{self.rule}")


def model_of(raw: Any) -> AlarmModel:
    """Read a ``MetricAlarms`` entry; raises ``CannotSimulate`` naming the setting it cannot follow."""
    alarm = mapping(raw, "the alarm")
    if alarm.get("ThresholdMetricId"):
        raise CannotSimulate("the alarm's threshold is an anomaly-detection band (ThresholdMetricId)",
                             "ThresholdMetricId")
    op = comparison(alarm.get("ComparisonOperator"))
    queries = mappings(alarm.get("Metrics"), "Metrics")
    if queries:
        operands, expression, period = _math(queries)
    else:
        operands = (_operand(alarm.get("Namespace"), alarm.get("MetricName"), alarm.get("Dimensions"),
                             alarm.get("Statistic"), alarm.get("ExtendedStatistic"), alarm.get("Unit")),)
        expression, period = None, _period(alarm.get("Period"))
    n = _count(alarm.get("EvaluationPeriods"), "EvaluationPeriods")
    if n > MAX_EVALUATION_PERIODS:
        raise CannotSimulate(f"EvaluationPeriods {n} is more than the {MAX_EVALUATION_PERIODS} simulated",
                             "EvaluationPeriods")
    m = alarm.get("DatapointsToAlarm")
    m = None if m is None else _count(m, "DatapointsToAlarm")
    return AlarmModel(
        name=str(alarm.get("AlarmName", "")), operands=operands, expression=expression, period=period,
        threshold=_threshold(alarm.get("Threshold")), comparison=op,
        rule=Rule.of(n, m, treatment(alarm.get("TreatMissingData"))),
        low_sample_ignore=alarm.get("EvaluateLowSampleCountPercentile") == "ignore",
        wall_clock="WallClockWindow" in mapping(alarm.get("EvaluationWindow") or {}, "EvaluationWindow"),
        state=_state(alarm.get("StateValue")))


def _math(queries: Sequence[Mapping[str, Any]]) -> tuple[tuple[Operand, ...], str, int]:
    returned = [q for q in queries if q.get("ReturnData", True)]
    if len(returned) != 1:
        raise CannotSimulate(f"the alarm's metric math returns {len(returned)} series, not one", "Metrics")
    stats = {q.get("Id"): mapping(q["MetricStat"], "MetricStat") for q in queries if q.get("MetricStat")}
    top = returned[0]
    if top.get("MetricStat"):
        ids, expression = [top.get("Id")], str(top.get("Id"))
    else:
        expression = str(top.get("Expression") or "")
        ids = _summed_ids(expression)
    missing = [i for i in ids if i not in stats]
    if missing:
        raise CannotSimulate(f"metric-math expression {expression!r} uses {missing[0]!r}, which is not a metric "
                             "(only a metric or a sum of metrics is simulated)", "Metrics")
    if any(q.get("AccountId") for q in queries if q.get("Id") in ids):
        raise CannotSimulate("the alarm reads a metric of another account (AccountId)", "Metrics")
    periods = {_period(stats[i].get("Period")) for i in ids}
    if len(periods) != 1:
        raise CannotSimulate("the expression's metrics have different periods", "Period")
    return tuple(_stat_operand(stats[i]) for i in ids), expression, periods.pop()


def _summed_ids(expression: str) -> list[str]:
    """``m1``, ``m1 + m2`` or ``SUM([m1, m2])``: the metric ids summed."""
    compact = "".join(expression.split())
    if SUM_OF_IDS.match(compact):
        return compact.split("+")
    match = SUM_FUNCTION.match(compact)
    if match:
        return match.group(1).split(",")
    raise CannotSimulate(f"metric-math expression {expression!r} is not one metric or a sum of metrics",
                         "Metrics")


def _stat_operand(stat: Mapping[str, Any]) -> Operand:
    """A ``MetricStat``: its ``Stat`` holds a standard or an extended statistic alike."""
    metric = mapping(stat.get("Metric"), "Metric")
    name = stat.get("Stat")
    standard, extended = (name, None) if name in STANDARD else (None, name)
    return _operand(metric.get("Namespace"), metric.get("MetricName"), metric.get("Dimensions"), standard,
                    extended, stat.get("Unit"))


def _operand(namespace: Any, name: Any, dimensions: Any, standard: Any, extended: Any, unit: Any) -> Operand:
    dims = tuple(sorted((str(d.get("Name")), str(d.get("Value"))) for d in mappings(dimensions, "Dimensions")))
    return Operand(MetricKey(str(namespace or ""), str(name or ""), dims), statistic(standard, extended),
                   str(unit) if unit else None)


def _period(raw: Any) -> int:
    period = _count(raw, "Period")
    if period % 60:
        raise CannotSimulate(f"Period {period} s is not a whole number of minutes; a metric filter publishes "
                             "one-minute data", "Period")
    return period


def _count(raw: Any, setting: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise CannotSimulate(f"{setting} {raw!r} is not a whole number of at least 1", setting)
    return raw


def _threshold(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise CannotSimulate(f"Threshold {raw!r} is not a finite number", "Threshold")
    return float(raw)


def _state(raw: Any) -> State | None:
    try:
        return State(raw)
    except ValueError:
        return None
