"""The calls moto lacks, bridged inside the sandbox, behave like AWS documents them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import SANDBOX_NOW

HEALTHY, DRIFTED = "111111111111", "222222222222"


def test_lookup_events_pages_newest_first_by_50(clients):
    ct = clients(HEALTHY, "cloudtrail")
    first = ct.lookup_events(MaxResults=50)
    assert len(first["Events"]) == 50 and first["NextToken"]
    times = [e["EventTime"] for e in first["Events"]]
    assert times == sorted(times, reverse=True)
    second = ct.lookup_events(MaxResults=50, NextToken=first["NextToken"])
    assert {e["EventId"] for e in first["Events"]}.isdisjoint(e["EventId"] for e in second["Events"])
    assert second["Events"][0]["EventTime"] <= times[-1]


def test_lookup_events_attribute_and_time_range(clients):
    ct = clients(HEALTHY, "cloudtrail")
    start, end = SANDBOX_NOW - timedelta(days=30), SANDBOX_NOW - timedelta(days=10)
    pages = ct.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"}], StartTime=start, EndTime=end)
    events = [e for page in pages for e in page["Events"]]
    assert events and all(e["Username"] == "root" for e in events)
    assert all(start <= e["EventTime"] <= end for e in events)
    record = json.loads(events[0]["CloudTrailEvent"])
    assert record["userIdentity"]["type"] == "Root" and record["eventID"] == events[0]["EventId"]


def test_lookup_events_rejects_what_aws_rejects(clients):
    ct = clients(HEALTHY, "cloudtrail")
    with pytest.raises(ClientError, match="InvalidLookupAttributesException"):
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "Colour", "AttributeValue": "x"}])
    with pytest.raises(ClientError, match="InvalidLookupAttributesException"):
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "root"},
                                           {"AttributeKey": "EventName", "AttributeValue": "ConsoleLogin"}])
    with pytest.raises(ClientError, match="InvalidTimeRangeException"):
        ct.lookup_events(StartTime=SANDBOX_NOW, EndTime=SANDBOX_NOW - timedelta(days=1))


def test_filter_log_events_applies_json_patterns_and_pages(clients, sandbox):
    logs = clients(DRIFTED, "logs")
    group = next(a.log_group for a in sandbox.accounts if a.account_id == DRIFTED)
    pattern = '{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }'
    first = logs.filter_log_events(logGroupName=group, filterPattern=pattern, limit=5)
    assert len(first["events"]) == 5 and first["nextToken"]
    everything = [e for page in logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, filterPattern=pattern) for e in page["events"]]
    assert len(everything) > 5
    for item in everything:
        record = json.loads(item["message"])
        assert record["userIdentity"]["type"] == "Root" and record["eventName"] == "ConsoleLogin"
        assert item["logStreamName"] and item["eventId"]
    assert [e["timestamp"] for e in everything] == sorted(e["timestamp"] for e in everything)


def test_filter_log_events_time_bounds_are_inclusive(clients, sandbox):
    logs = clients(HEALTHY, "logs")
    group = next(a.log_group for a in sandbox.accounts if a.account_id == HEALTHY)
    some = logs.filter_log_events(logGroupName=group, limit=3)["events"]
    t = some[1]["timestamp"]
    exact = logs.filter_log_events(logGroupName=group, startTime=t, endTime=t)["events"]
    assert exact and all(e["timestamp"] == t for e in exact)


def test_filter_log_events_errors(clients):
    logs = clients(HEALTHY, "logs")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        logs.filter_log_events(logGroupName="no-such-group")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.filter_log_events(logGroupName="aws-cloudtrail-logs-healthy", filterPattern="{ $.a == 1 }")


def test_test_metric_filter_answers_with_the_engine_echoing_each_match(clients):
    logs = clients(HEALTHY, "logs")
    root, user = ({"userIdentity": {"type": kind}, "eventName": "ConsoleLogin"} for kind in ("Root", "IAMUser"))
    messages = [json.dumps(user), json.dumps(root)]
    matches = logs.test_metric_filter(filterPattern='{ $.userIdentity.type = "Root" }',
                                      logEventMessages=messages)["matches"]
    assert [(m["eventNumber"], m["eventMessage"]) for m in matches] == [(2, messages[1])]
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.test_metric_filter(filterPattern="{ $.a == 1 }", logEventMessages=messages)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.test_metric_filter(filterPattern="{ $.a = 1 }", logEventMessages=messages * 26)


def test_describe_alarm_history_pages_and_filters(clients):
    cw = clients(HEALTHY, "cloudwatch")
    first = cw.describe_alarm_history(AlarmName="cis-4.3-root-account-usage", MaxRecords=10)
    assert len(first["AlarmHistoryItems"]) == 10 and first["NextToken"]
    stamps = [i["Timestamp"] for i in first["AlarmHistoryItems"]]
    assert stamps == sorted(stamps, reverse=True)
    ascending = cw.describe_alarm_history(AlarmName="cis-4.3-root-account-usage", ScanBy="TimestampAscending",
                                          HistoryItemType="StateUpdate", MaxRecords=5)["AlarmHistoryItems"]
    assert all(i["HistoryItemType"] == "StateUpdate" for i in ascending)
    assert [i["Timestamp"] for i in ascending] == sorted(i["Timestamp"] for i in ascending)
    data = json.loads(ascending[0]["HistoryData"])  # the first: the alarm's first evaluation after its creation
    assert (data["oldState"]["stateValue"], data["newState"]["stateValue"]) == ("INSUFFICIENT_DATA", "OK")
    start = SANDBOX_NOW - timedelta(days=20)
    recent = cw.describe_alarm_history(AlarmName="cis-4.3-root-account-usage", StartDate=start)["AlarmHistoryItems"]
    assert all(i["Timestamp"] >= start for i in recent)
    assert cw.describe_alarm_history(AlarmName="no-such-alarm")["AlarmHistoryItems"] == []


def test_pending_subscription_shows_as_aws_shows_it(clients):
    sns = clients(DRIFTED, "sns")
    topic = "arn:aws:sns:us-east-1:222222222222:root-alerts"
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]] == [
        "PendingConfirmation"]
    healthy = clients(HEALTHY, "sns").list_subscriptions_by_topic(
        TopicArn="arn:aws:sns:us-east-1:111111111111:security-alerts")["Subscriptions"]
    assert healthy[0]["SubscriptionArn"].startswith("arn:aws:sns:")
