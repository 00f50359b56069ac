"""Issue 19's story on one account: today every link passes, yet over the quarter logging stopped for
two days, the filter was narrowed for a week and the only subscriber was removed and re-added, and
a root sign-in fell while logging was stopped."""

from __future__ import annotations

from rootwatch.history import RootEvent, operation, parse_changes, reconstruct
from tests.history.chain import BENCHMARK, SUBSCRIPTION, TOPIC, TRANSFORMATIONS, judge, record, when
from tests.history.test_changes import AS_OF, WINDOW, state

NARROWED = '{ $.userIdentity.type = "Root" && $.sourceIPAddress = "203.0.113.17" }'
FILTER = {"logGroupName": "cloudtrail-main", "filterName": "root-usage", "metricTransformations": TRANSFORMATIONS}
OLD = f"{TOPIC}:9a8b7c6d-0000-4e0c-a0b6-000000000001"
SUBSCRIBE = {"topicArn": TOPIC, "protocol": "email", "endpoint": "secops@example.com"}


def test_passes_today_and_did_not_operate_all_quarter():
    records = [
        record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
        record("StartLogging", "2026-08-12T09:30:00Z", {"name": "main"}),
        record("PutMetricFilter", "2026-08-15T12:00:00Z", {**FILTER, "filterPattern": NARROWED}),
        record("PutMetricFilter", "2026-08-22T12:00:00Z", {**FILTER, "filterPattern": BENCHMARK}),
        record("Unsubscribe", "2026-08-25T10:00:00Z", {"subscriptionArn": OLD}),
        record("Subscribe", "2026-08-26T10:00:00Z", SUBSCRIBE, {"subscriptionArn": "pending confirmation"}),
        record("ConfirmSubscription", "2026-08-26T10:10:00Z", {"topicArn": TOPIC, "token": "2336412f"},
               {"subscriptionArn": SUBSCRIPTION}),
    ]
    root = RootEvent(when("2026-08-11T03:12:45Z"), "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
    intervals = reconstruct(state(), parse_changes(records[::-1]), WINDOW, AS_OF)
    assert set(judge(intervals[-1].snapshot).values()) == {"PASS"}  # today's verdict is unchanged
    result = operation(intervals, judge, WINDOW, [root, RootEvent(when("2026-09-10T08:00:00Z"), "later")])
    assert [(b.status, f"{b.start:%m-%d %H:%M}", f"{b.end:%m-%d %H:%M}") for b in result.chain.breaks] == [
        ("GAP", "07-01 00:00", "08-10 10:00"),  # the filter before its first PutMetricFilter: no record says
        ("FAIL", "08-10 10:00", "08-12 09:30"),
        ("GAP", "08-12 09:30", "08-15 12:00"),
        ("FAIL", "08-15 12:00", "08-22 12:00"),
        ("FAIL", "08-25 10:00", "08-26 10:10")]
    assert [(r.event.event_id, r.brk.broken_by[0].event_name) for r in result.root_events] == [
        (root.event_id, "StopLogging")]
    operated = (when("2026-08-25T10:00:00Z") - when("2026-08-22T12:00:00Z")) + (
        WINDOW.end - when("2026-08-26T10:10:00Z"))
    assert result.chain.operated == operated / (WINDOW.end - WINDOW.start)
