"""Alarms on a metric, their history over the window, and the metric's daily sums."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link, Window

DAY = 86_400


def alarms_for_metric(rec: Recorder, region: str, namespace: str, metric: str) -> list[dict] | None:
    page = rec.call(region, "cloudwatch", "DescribeAlarmsForMetric", Link.ALARM, MetricName=metric, Namespace=namespace)
    return None if page is None else page.get("MetricAlarms", [])


def alarm_history(rec: Recorder, region: str, alarm_name: str, window: Window) -> list[dict] | None:
    pages = rec.pages(region, "cloudwatch", "DescribeAlarmHistory", Link.ALARM_HISTORY, AlarmName=alarm_name,
                      StartDate=window.start, EndDate=window.end)
    return None if pages is None else [i for page in pages for i in page.get("AlarmHistoryItems", [])]


def daily_sums(rec: Recorder, region: str, namespace: str, metric: str, window: Window) -> list[dict] | None:
    """Daily Sum datapoints (one day per point keeps a 455-day window under the 1,440-point cap)."""
    page = rec.call(region, "cloudwatch", "GetMetricStatistics", Link.METRIC_DATA, Namespace=namespace,
                    MetricName=metric, StartTime=window.start, EndTime=window.end, Period=DAY, Statistics=["Sum"])
    return None if page is None else sorted(page.get("Datapoints", []), key=lambda d: d["Timestamp"])
