"""Metric filters of a log group and the events it holds (FilterLogEvents)."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link, Window


def metric_filters(rec: Recorder, region: str, log_group: str) -> list[dict] | None:
    pages = rec.pages(region, "logs", "DescribeMetricFilters", Link.METRIC_FILTER, logGroupName=log_group)
    return None if pages is None else [f for page in pages for f in page.get("metricFilters", [])]


def filter_events(rec: Recorder, region: str, log_group: str, pattern: str, window: Window) -> list[dict] | None:
    """Events of the window the server says match ``pattern``; the caller re-checks every one."""
    pages = rec.pages(region, "logs", "FilterLogEvents", Link.ROOT_EVENTS, logGroupName=log_group,
                      filterPattern=pattern, startTime=_ms(window.start), endTime=_ms(window.end) - 1)
    return None if pages is None else [e for page in pages for e in page.get("events", [])]


def test_metric_filter(rec: Recorder, region: str, pattern: str, messages: list[str]) -> list[int] | None:
    """Which of ``messages`` CloudWatch Logs itself says ``pattern`` matches (their indexes), read by
    the message AWS echoes back: its ``eventNumber`` is documented only as "the event number"."""
    page = rec.call(region, "logs", "TestMetricFilter", Link.FILTER_TEST, filterPattern=pattern,
                    logEventMessages=messages)
    if page is None:
        return None
    echoed = {m.get("eventMessage") for m in page.get("matches", [])}
    return [i for i, message in enumerate(messages) if message in echoed]


def _ms(moment) -> int:
    return int(moment.timestamp() * 1000)
