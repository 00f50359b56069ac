"""The configuration over the window: what each interval's snapshot holds, and what it says it
does not know."""

from __future__ import annotations

from rootwatch.history import Kind, RootEvent, operation, parse_changes, reconstruct
from tests.history.chain import TOPIC, healthy, judge, record, when
from tests.history.test_changes import AS_OF, WINDOW, state

TEMP = {"name": "temp", "s3BucketName": "scratch-logs", "isMultiRegionTrail": False}
PENDING = {"subscriptionArn": "pending confirmation"}
SUBSCRIBE = {"topicArn": TOPIC, "protocol": "email", "endpoint": "secops@example.com"}


def _at(intervals, moment):
    return next(iv for iv in intervals if iv.start <= when(moment) < iv.end)


def test_a_trail_created_and_deleted_inside_the_window_exists_only_in_between():
    records = [record("CreateTrail", "2026-07-10T09:00:00Z", TEMP),
               record("DeleteTrail", "2026-07-20T09:00:00Z", {"name": "temp"})]
    intervals = reconstruct(state(), parse_changes(records), WINDOW, AS_OF)
    assert [iv.start for iv in intervals] == [WINDOW.start, when("2026-07-10T09:00:00Z"), when("2026-07-20T09:00:00Z")]
    names = [[t["Name"] for t in iv.snapshot.of(Kind.TRAIL)] for iv in intervals]
    assert names == [["main"], ["main", "temp"], ["main"]]
    temp = intervals[1].snapshot.as_collected()["trails"][1]
    assert (temp["S3BucketName"], temp["IsMultiRegionTrail"], temp["rw:status"]) == ("scratch-logs", False,
                                                                                      {"IsLogging": False})
    assert intervals[1].snapshot.unknown == {}


def test_an_unknown_status_is_handed_to_the_judge_as_a_failed_read_and_named():
    records = [record("UpdateTrail", "2026-08-05T14:00:00Z", {"name": "main", "isMultiRegionTrail": True})]
    before = reconstruct(state(), parse_changes(records), WINDOW, AS_OF)[0].snapshot.as_collected()
    assert before["trails"] == []
    assert before["unknown"] == [{"kind": "trail", "id": "main", "reason": "unknown here: IsMultiRegionTrail"}]


def test_root_events_inside_a_break_are_named():
    records = [record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
               record("StartLogging", "2026-08-12T09:30:00Z", {"name": "main"})]
    root = {"eventTime": "2026-08-11T03:12:45Z", "eventID": "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
            "userIdentity": {"type": "Root"}, "eventName": "ConsoleLogin"}
    outside = {**root, "eventTime": "2026-09-01T08:00:00Z", "eventID": "outside"}
    events = [RootEvent.from_record(r) for r in (root, outside)]
    result = operation(reconstruct(state(), parse_changes(records), WINDOW, AS_OF), judge, WINDOW, events)
    assert [(r.event.event_id, r.brk.status, r.brk.broken_by[0].event_name) for r in result.root_events] == [
        ("6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f", "FAIL", "StopLogging")]
    assert result.summary() == "operated 97.8 % of the window; 1 root event(s) while it was broken"


def test_changes_after_the_window_are_undone_to_reach_it():
    records = [record("StopLogging", "2026-10-01T02:00:00Z", {"name": "main"})]  # after the window, before collection
    intervals = reconstruct(state({"logging": False}), parse_changes(records), WINDOW, AS_OF)
    assert operation(intervals, judge, WINDOW).links["logging"].breaks == ()


def test_an_unlogged_confirmation_leaves_the_subscriber_unknown_until_today():
    # an e-mail subscriber confirms through a link: SNS does not log that ConfirmSubscription
    records = [record("Subscribe", "2026-07-03T09:00:00Z", SUBSCRIBE, PENDING)]
    result = operation(reconstruct(state(), parse_changes(records), WINDOW, AS_OF), judge, WINDOW)
    assert [(b.status, b.start, b.end) for b in result.links["subscriber"].breaks] == [
        ("FAIL", WINDOW.start, when("2026-07-03T09:00:00Z")), ("GAP", when("2026-07-03T09:00:00Z"), WINDOW.end)]


def test_no_subscriber_today_and_no_event_is_a_fail_over_the_whole_window():
    result = operation(reconstruct(state({"subscriptions": []}), [], WINDOW, AS_OF), judge, WINDOW)
    assert [(b.status, b.start, b.end) for b in result.links["subscriber"].breaks] == [
        ("FAIL", WINDOW.start, WINDOW.end)]
    assert result.chain.operated == 0


def test_a_change_that_cannot_be_placed_in_time_makes_the_window_a_gap():
    unplaced = {**record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}), "eventTime": "yesterday"}
    intervals = reconstruct(state(), parse_changes([unplaced]), WINDOW, AS_OF)
    assert [(iv.start, iv.end, iv.snapshot) for iv in intervals] == [(WINDOW.start, WINDOW.end, None)]
    assert "no readable time" in intervals[0].gap
    assert operation(intervals, judge, WINDOW).chain.unknown == 1


def test_a_filter_in_a_log_group_collection_did_not_read_is_unknown_before_it_is_put():
    put = {"logGroupName": "cloudtrail", "filterName": "root", "filterPattern": '{ $.userIdentity.type = "Root" }',
           "metricTransformations": [{"metricName": "Root", "metricNamespace": "CIS", "metricValue": "1"}]}
    intervals = reconstruct(state(), parse_changes([record("PutMetricFilter", "2026-08-01T00:00:00Z", put)]), WINDOW,
                            AS_OF)
    assert "us-east-1:cloudtrail:root" in intervals[0].snapshot.unknown_of(Kind.METRIC_FILTER)
    assert "us-east-1:cloudtrail:root" not in intervals[1].snapshot.unknown_of(Kind.METRIC_FILTER)


def test_deleting_a_topic_removes_a_subscriber_known_by_its_arn_only():
    arn = f"{TOPIC}:9a8b7c6d-0000-4e0c-a0b6-000000000001"  # confirmed, but no record names its endpoint
    records = [record("ConfirmSubscription", "2026-08-01T00:00:00Z", {"topicArn": TOPIC, "token": "2336412f"},
                      {"subscriptionArn": arn}),
               record("DeleteTopic", "2026-08-02T00:00:00Z", {"topicArn": TOPIC})]
    intervals = reconstruct(state({"subscriptions": []}), parse_changes(records), WINDOW, AS_OF)
    assert [(s["SubscriptionArn"], s["TopicArn"]) for s in intervals[1].snapshot.of(Kind.SUBSCRIPTION)] == [
        (arn, TOPIC)]
    assert intervals[2].snapshot.of(Kind.SUBSCRIPTION) == []
    assert judge(intervals[1].snapshot)["subscriber"] == "PASS"
    assert judge(intervals[2].snapshot)["subscriber"] == "FAIL"


def test_a_default_the_describe_call_renders_does_not_make_the_alarm_unknown():
    collected = {"alarms": [{**healthy()["alarms"][0], "TreatMissingData": "missing", "DatapointsToAlarm": 1}]}
    put = {"alarmName": "root-usage", "metricName": "RootAccountUsage", "namespace": "CISBenchmark",
           "statistic": "Sum", "period": 300, "evaluationPeriods": 1, "comparisonOperator":
           "GreaterThanOrEqualToThreshold", "alarmActions": [TOPIC]}
    records = [record("PutMetricAlarm", "2026-08-03T10:00:00Z", {**put, "threshold": 1000.0}),
               record("PutMetricAlarm", "2026-08-04T10:00:00Z", {**put, "threshold": 1.0})]
    result = operation(reconstruct(state(collected), parse_changes(records), WINDOW, AS_OF), judge, WINDOW)
    assert [(b.status, b.start, b.end) for b in result.links["alarm"].breaks] == [
        ("GAP", WINDOW.start, when("2026-08-03T10:00:00Z")),
        ("FAIL", when("2026-08-03T10:00:00Z"), when("2026-08-04T10:00:00Z"))]


def test_an_update_trail_answered_in_full_leaves_what_it_did_not_ask_known_before_it():
    response = {"name": "main", "s3BucketName": "new-bucket", "includeGlobalServiceEvents": True,
                "isMultiRegionTrail": True, "trailARN": "arn:aws:cloudtrail:us-east-1:111111111111:trail/main",
                "logFileValidationEnabled": True, "isOrganizationTrail": False,
                "cloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111111111111:log-group:cloudtrail-main:*",
                "cloudWatchLogsRoleArn": "arn:aws:iam::111111111111:role/CloudTrail_CloudWatchLogs_Role"}
    records = [record("UpdateTrail", "2026-08-05T14:00:00Z", {"name": "main", "s3BucketName": "new-bucket"},
                      response)]
    result = operation(reconstruct(state(), parse_changes(records), WINDOW, AS_OF), judge, WINDOW)
    assert result.chain.breaks == ()
