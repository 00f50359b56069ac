"""Malformed API shapes (a bundle, a sandbox, a hostile account) are an evidence gap naming the
setting, never an exception out of the simulator."""

from __future__ import annotations

import pytest

from rootwatch.simulate import Fires, composite_fires, evaluate, fires_on_one_event

FILTER = {"metricTransformations": [{"metricNamespace": "CIS", "metricName": "Root", "metricValue": "1"}]}
ALARM = {"AlarmName": "a", "Namespace": "CIS", "MetricName": "Root", "Statistic": "Sum", "Period": 300,
         "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1}


@pytest.mark.parametrize(("alarm", "setting"), [
    ("not an alarm", "the alarm"),
    ({**ALARM, "Dimensions": "Account=1"}, "Dimensions"),
    ({**ALARM, "Dimensions": [["Account", "1"]]}, "Dimensions"),
    ({**ALARM, "Metrics": {"Id": "m1"}}, "Metrics"),
    ({**ALARM, "Metrics": [1]}, "Metrics"),
    ({**ALARM, "Metrics": [{"Id": "m1", "MetricStat": "Sum"}]}, "MetricStat"),
    ({**ALARM, "Metrics": [{"Id": "m1", "MetricStat": {"Metric": [], "Period": 300, "Stat": "Sum"}}]}, "Metric"),
    ({**ALARM, "Period": "300"}, "Period"),
    ({**ALARM, "Period": 0}, "Period"),
    ({**ALARM, "EvaluationPeriods": True}, "EvaluationPeriods"),
    ({**ALARM, "EvaluationPeriods": 0}, "EvaluationPeriods"),
    ({**ALARM, "DatapointsToAlarm": 2}, "DatapointsToAlarm"),
    ({**ALARM, "Threshold": "1"}, "Threshold"),
    ({**ALARM, "Threshold": float("nan")}, "Threshold"),
    ({**ALARM, "TreatMissingData": "sometimes"}, "TreatMissingData"),
    ({**ALARM, "ComparisonOperator": None}, "ComparisonOperator"),
    ({**ALARM, "Statistic": "Median"}, "Statistic"),
    ({**ALARM, "Statistic": None}, "Statistic"),
    ({**ALARM, "EvaluationWindow": "WallClockWindow"}, "EvaluationWindow"),
])
def test_a_malformed_alarm_is_a_gap(alarm, setting):
    outcome = fires_on_one_event(FILTER, alarm, {})
    assert outcome.verdict is Fires.CANNOT_SIMULATE and outcome.prevented_by == (setting,), outcome.reason


@pytest.mark.parametrize(("metric_filter", "setting"), [
    ("not a filter", "the metric filter"),
    ({"metricTransformations": {"metricName": "Root"}}, "metricTransformations"),
    ({"metricTransformations": []}, "metricTransformations"),
    ({"metricTransformations": ["Root"]}, "metricTransformations"),
    ({"metricTransformations": [{**FILTER["metricTransformations"][0], "dimensions": ["$.a"]}]}, "dimensions"),
    ({"metricTransformations": [{**FILTER["metricTransformations"][0], "defaultValue": "zero"}]}, "defaultValue"),
    ({"metricTransformations": [{**FILTER["metricTransformations"][0], "metricValue": "$.n"}]}, "metricValue"),
])
def test_a_malformed_filter_is_a_gap(metric_filter, setting):
    outcome = fires_on_one_event(metric_filter, ALARM, {"n": float("nan")})
    assert outcome.verdict is Fires.CANNOT_SIMULATE and outcome.prevented_by == (setting,), outcome.reason


def test_a_hostile_event_is_read_like_any_other():
    for event in ([], "text", None, {"n": [1] * 1000}):
        assert fires_on_one_event(FILTER, ALARM, event).verdict is Fires.AS_BENCHMARK


def test_a_day_of_minute_periods_costs_a_few_evaluations(monkeypatch):
    """The work does not grow with EvaluationPeriods (capped at 1,440): each timeline is evaluated at
    the ages where its state can change, never at every one of a day's minutes."""
    from rootwatch.simulate import one_event

    calls = []
    monkeypatch.setattr(one_event, "evaluate", lambda *args: calls.append(1) or evaluate(*args))
    alarm = {**ALARM, "Period": 60, "EvaluationPeriods": 1440, "TreatMissingData": "ignore", "Threshold": 2.0}
    busy = {"metricTransformations": [{**FILTER["metricTransformations"][0], "defaultValue": 0}]}
    assert fires_on_one_event(busy, alarm, {}).verdict is Fires.NEVER
    assert len(calls) < 1440


def test_a_hostile_composite_rule_is_a_gap():
    rule = 'ALARM("a") OR ' * 20000 + "ALARM("
    outcome = composite_fires({"AlarmName": "c", "AlarmRule": rule}, {})
    assert outcome.verdict is Fires.CANNOT_SIMULATE and outcome.prevented_by == ("AlarmRule",)
    assert composite_fires("not a composite", {}).verdict is Fires.CANNOT_SIMULATE
