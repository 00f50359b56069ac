"""Reading CloudTrail records into changes: real records' shapes, failed calls, hostile records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootwatch.history import Kind, parse, parse_changes
from rootwatch.history.state import EXISTS
from tests.history.chain import record

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cloudtrail-samples"
STRATUS = "invictus_aws_dataset/218007301253_CloudTrail_us-east-1_20230710T1205Z_{}.json"


def _sample(file_id: str, name: str, failed: bool) -> dict:
    path = SAMPLES / STRATUS.format(file_id)
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared samples are not part of the project)")
    return next(r for r in json.loads(path.read_text())["Records"]
                if r["eventName"] == name and bool(r.get("errorCode")) == failed)


def test_a_real_create_trail_adds_the_trail_not_logging_with_default_selectors():
    change = parse(_sample("SjF3IkuNXJkoHyar", "CreateTrail", failed=False))
    name = "stratus-red-team-ctlr-trail-zqfsvooxqj"
    edits = {e.key: e for e in change.edits}
    assert set(edits) == {(Kind.TRAIL, name), (Kind.TRAIL_STATUS, name), (Kind.TRAIL_SELECTORS, name)}
    assert edits[(Kind.TRAIL, name)].after["IsMultiRegionTrail"] is False
    assert edits[(Kind.TRAIL, name)].before == {EXISTS: False}
    assert edits[(Kind.TRAIL_STATUS, name)].after["IsLogging"] is False
    assert (change.actor_arn, change.source_ip) == ("arn:aws:iam::123837392027:user/bert-jan", "192.168.10.20")


def test_a_real_failed_start_logging_changes_nothing():
    change = parse(_sample("SjF3IkuNXJkoHyar", "StopLogging", failed=True))
    assert (change.error_code, change.edits) == ("TrailNotFoundException", ())


def test_real_event_selectors_are_read_in_the_shape_get_event_selectors_answers():
    change = parse(_sample("UljXNp9xLp8nsAGc", "PutEventSelectors", failed=False))
    (edit,) = change.edits
    assert edit.key == (Kind.TRAIL_SELECTORS, "stratus-red-team-ctes-trail-qyxyekjbtk")
    assert edit.after["EventSelectors"][0]["IncludeManagementEvents"] is False
    assert edit.after["EventSelectors"][0]["DataResources"][0] == {"Type": "AWS::S3::Object", "Values": []}


def test_the_documented_put_metric_alarm_record_by_root():
    # the CloudWatch user guide's CloudTrail example (eventVersion 1.01)
    change = parse({
        "eventVersion": "1.01", "userIdentity": {"type": "Root", "principalId": "EX_PRINCIPAL_ID",
                                                 "arn": "arn:aws:iam::123456789012:root", "accountId": "123456789012",
                                                 "accessKeyId": "EXAMPLE_KEY_ID"},
        "eventTime": "2014-03-23T21:50:34Z", "eventSource": "monitoring.amazonaws.com", "eventName": "PutMetricAlarm",
        "awsRegion": "us-east-1", "sourceIPAddress": "127.0.0.1",
        "requestParameters": {"threshold": 50.0, "period": 60, "metricName": "CloudTrail Test", "evaluationPeriods": 3,
                              "comparisonOperator": "GreaterThanThreshold", "namespace": "AWS/CloudWatch",
                              "alarmName": "CloudTrail Test Alarm", "statistic": "Sum"},
        "responseElements": None, "requestID": "29184022-b2d5-11e3-a63d-9b463e6d0ff0",
        "eventID": "b096d5b7-dcf2-4399-998b-5a53eca76a27"})
    (edit,) = change.edits
    assert edit.key == (Kind.ALARM, "us-east-1:CloudTrail Test Alarm")
    assert edit.whole and edit.after["Threshold"] == 50.0 and edit.after["ActionsEnabled"] is True
    assert edit.after["AlarmActions"] == [] and edit.after["TreatMissingData"] is None
    assert change.actor_type == "Root"


def test_other_events_are_not_changes():
    records = [record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
               {**record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}), "eventName": "DescribeTrails"},
               {**record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}), "eventName": "ConsoleLogin",
                "eventSource": "signin.amazonaws.com"}]
    assert [c.event_name for c in parse_changes(records)] == ["StopLogging"]


@pytest.mark.parametrize("mangle", [
    {"requestParameters": "name=main"},
    {"requestParameters": {"name": ["main"]}},
    {"requestParameters": None},
    {"userIdentity": ["not", "an", "object"], "requestParameters": {}},
    {"awsRegion": None},
], ids=["request-a-string", "name-a-list", "request-null", "identity-a-list", "no-region"])
def test_a_hostile_change_record_is_unreadable_never_an_exception(mangle):
    change = parse({**record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}), **mangle})
    assert change.unreadable
    assert [(e.key, e.whole) for e in change.edits] == [(None, True)]


def test_a_record_without_a_readable_time_is_kept_unplaced():
    change = parse({**record("DeleteTrail", "2026-08-10T10:00:00Z", {"name": "main"}), "eventTime": 1786000000})
    assert change.time is None and "unreadable time" in str(change)


def test_ignores_what_is_not_a_record():
    assert parse_changes([None, "StopLogging", 3, ["eventName"]]) == []


def test_a_record_nested_past_any_reason_is_unreadable_never_an_exception():
    deep: list = []
    for _ in range(5000):
        deep = [{"dataResources": deep}]
    hostile = record("PutEventSelectors", "2026-08-10T10:00:00Z", {"trailName": "main"})
    change = parse({**hostile, "requestParameters": {"trailName": "main", "eventSelectors": deep}})
    assert change.unreadable and change.edits[0].key is None


def test_times_with_an_offset_or_fractions_are_placed_and_times_without_a_zone_are_not():
    base = record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"})
    assert f"{parse({**base, 'eventTime': '2026-08-10T12:00:00.250+02:00'}).time:%H:%M:%S}" == "10:00:00"
    assert parse({**base, "eventTime": "2026-08-10T10:00:00"}).time is None
