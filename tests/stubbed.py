"""One account's collection with every AWS call answered by botocore's Stubber, in the collector's
order: a healthy 4.3 chain by default, any call made to fail with an error code, any call added."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import boto3
from botocore import xform_name
from botocore.stub import Stubber

from rootwatch.catalog import load_catalog
from rootwatch.collect.chain import AccountEvidence, Target, collect
from rootwatch.collect.session import Clients
from rootwatch.models import Window

ACCOUNT, OTHER, REGION = "111122223333", "999999999999", "us-east-1"
GROUP = "cloudtrail-logs"
REF = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
WINDOW = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
Call = tuple  # (service, operation, response[, expected parameters])
SUBSCRIBERS = ("ListSubscriptionsByTopic", "GetTopicAttributes", "GetSubscriptionAttributes")  # an alarm topic's reads


def arns(owner: str) -> tuple[str, str, str]:
    """The trail, its log group and the alarm's topic, in ``owner``'s account."""
    return (f"arn:aws:cloudtrail:{REGION}:{owner}:trail/main",
            f"arn:aws:logs:{REGION}:{owner}:log-group:{GROUP}:*", f"arn:aws:sns:{REGION}:{owner}:alerts")


def healthy_calls(trail_owner: str = ACCOUNT, topic_owner: str = ACCOUNT, events: tuple[dict, ...] = (),
                  pattern: str = REF) -> list[Call]:
    """A healthy account's calls for 4.3; an organization trail (``trail_owner`` another account) delivers
    to its owner's log group, so this account reads its ``events`` from event history instead."""
    trail_arn, group_arn, _ = arns(trail_owner)
    topic = arns(topic_owner)[2]
    org_trail = trail_owner != ACCOUNT
    trail = {"Name": "main", "TrailARN": trail_arn, "HomeRegion": REGION, "IsMultiRegionTrail": True,
             "IsOrganizationTrail": org_trail, "CloudWatchLogsLogGroupArn": group_arn, "S3BucketName": "trail-logs"}
    metric = {"metricName": "RootUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}
    alarm = {"AlarmName": "root-alarm", "Namespace": "CISBenchmark", "MetricName": "RootUsage", "ActionsEnabled": True,
             "AlarmActions": [topic], "Statistic": "Sum", "Period": 300, "Threshold": 1.0,
             "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1}
    calls = [("iam", "GenerateCredentialReport", {"State": "COMPLETE"}),
             ("cloudtrail", "DescribeTrails", {"trailList": [trail]}),
             ("cloudtrail", "GetTrailStatus", {"IsLogging": True}),
             ("cloudtrail", "GetEventSelectors", {"TrailARN": trail_arn, "EventSelectors": [
                 {"ReadWriteType": "All", "IncludeManagementEvents": True}]})]
    if not org_trail:
        calls += [("logs", "DescribeMetricFilters", {"metricFilters": [
                      {"filterName": "root", "logGroupName": GROUP, "filterPattern": pattern,
                       "metricTransformations": [metric]}]}),
                  ("cloudwatch", "DescribeAlarmsForMetric", {"MetricAlarms": [alarm]}),
                  ("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": []}),
                  ("cloudwatch", "GetMetricStatistics", {"Datapoints": []}),
                  ("sns", "ListSubscriptionsByTopic", {"Subscriptions": [
                      {"SubscriptionArn": f"{topic}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com",
                       "TopicArn": topic}]}),
                  ("sns", "GetTopicAttributes", {"Attributes": {"TopicArn": topic}}),
                  ("sns", "GetSubscriptionAttributes", {"Attributes": {"SubscriptionArn": f"{topic}:1b2c"}})]
    calls.append(("events", "ListRules", {"Rules": []}))
    calls.append(("iam", "GetCredentialReport", {"Content": b"user,arn\n<root_account>,x\n",
                                                  "ReportFormat": "text/csv"}))
    if org_trail:
        calls.append(("cloudtrail", "LookupEvents", {"Events": [
            {"EventId": e.get("eventID", ""), "CloudTrailEvent": json.dumps(e)} for e in events]}))
    else:
        calls.append(("logs", "FilterLogEvents", {"events": [
            {"eventId": e.get("eventID", ""), "timestamp": 0, "message": json.dumps(e)} for e in events]}))
    return calls


def collect_stubbed(calls: list[Call], errors: Mapping[str, str] | None = None,
                    witnesses: Callable[[str], list[dict]] | None = None) -> AccountEvidence:
    """Collect 4.3 for one account with ``calls`` answered in order (each operation in ``errors`` fails
    with that code instead; a fourth element holds the parameters the call must be made with); every
    stubbed answer must have been asked for."""
    errors = errors or {}
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    clients = Clients(session)
    stubs: dict[str, Stubber] = {}

    def stub(service: str) -> Stubber:
        if service not in stubs:
            stubs[service] = Stubber(clients.get(service, REGION))
        return stubs[service]

    stub("sts").add_response("get_caller_identity", {"Account": ACCOUNT, "UserId": "x",
                                                     "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/x"})
    for service, operation, response, *expected in calls:
        if operation in errors:
            stub(service).add_client_error(xform_name(operation), service_error_code=errors[operation],
                                           service_message=f"{operation} refused", http_status_code=400)
        else:
            stub(service).add_response(xform_name(operation), response, *expected)
    for s in stubs.values():
        s.activate()
    [ev] = collect([Target("acct", session)], [REGION], WINDOW, [load_catalog().control("4.3")], concurrency=2,
                   clients=clients, witnesses=witnesses, history=False)  # the chain of today only
    for s in stubs.values():
        s.assert_no_pending_responses()
    return ev
