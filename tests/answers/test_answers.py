"""Every row of rootwatch.answers, through a botocore-stubbed collection and the judge: the error AWS
answers on the link's call decides the link's verdict (FAIL: a definite no about the audited
account; GAP: unreadable), and the link's reason says what the error means."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber

from rootwatch.answers import ANSWERS, UNLISTED, Answer, Owner, answer
from rootwatch.collect import Target, collect_account
from rootwatch.collect.session import Clients
from rootwatch.judge import judge_account
from rootwatch.catalog import load_catalog
from rootwatch.models import Link, Status, Window
from tests.answers.table import current, render

ACCOUNT, OTHER, REGION = "111122223333", "999999999999", "us-east-1"
GROUP = "cloudtrail-logs"
WINDOW = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
REF = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
SERVICE = {"DescribeTrails": "cloudtrail", "GetTrailStatus": "cloudtrail", "GetEventSelectors": "cloudtrail",
           "DescribeMetricFilters": "logs", "DescribeAlarmsForMetric": "cloudwatch",
           "ListSubscriptionsByTopic": "sns"}
# the calls a failed call means the collector never makes: what it would have read them from is missing
NEVER_MADE = {"DescribeTrails": {"GetTrailStatus", "GetEventSelectors", "DescribeMetricFilters",
                                 "DescribeAlarmsForMetric", "DescribeAlarmHistory", "GetMetricStatistics",
                                 "ListSubscriptionsByTopic", "FilterLogEvents"},
              "DescribeMetricFilters": {"DescribeAlarmsForMetric", "DescribeAlarmHistory", "GetMetricStatistics",
                                        "ListSubscriptionsByTopic"},
              "DescribeAlarmsForMetric": {"DescribeAlarmHistory", "ListSubscriptionsByTopic"}}


def _arns(owner: str) -> tuple[str, str, str]:
    """The trail, its log group and the alarm's topic: the trail's or the topic's in ``owner``'s account."""
    return (f"arn:aws:cloudtrail:{REGION}:{owner}:trail/main",
            f"arn:aws:logs:{REGION}:{owner}:log-group:{GROUP}:*", f"arn:aws:sns:{REGION}:{owner}:alerts")


def _calls(row: Answer) -> list[tuple[str, str, dict]]:
    """A healthy account's calls in the collector's order; the trail (or topic) another account's when
    the row is about another account's resource (an organization trail delivers to its owner's log
    group, so this account reads its events from event history instead)."""
    other = row.owner is Owner.OTHER
    trail_arn, group_arn, _ = _arns(OTHER if other and row.link is not Link.SUBSCRIBER else ACCOUNT)
    topic = _arns(OTHER if other and row.link is Link.SUBSCRIBER else ACCOUNT)[2]
    org_trail = trail_arn.split(":")[4] != ACCOUNT
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
                      {"filterName": "root", "logGroupName": GROUP, "filterPattern": REF,
                       "metricTransformations": [metric]}]}),
                  ("cloudwatch", "DescribeAlarmsForMetric", {"MetricAlarms": [alarm]}),
                  ("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": []}),
                  ("cloudwatch", "GetMetricStatistics", {"Datapoints": []}),
                  ("sns", "ListSubscriptionsByTopic", {"Subscriptions": [
                      {"SubscriptionArn": f"{topic}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com",
                       "TopicArn": topic}]})]
    calls.append(("iam", "GetCredentialReport", {"Content": b"user,arn\n<root_account>,x\n",
                                                  "ReportFormat": "text/csv"}))
    calls.append(("logs", "FilterLogEvents", {"events": []}) if not org_trail and row.operations[0] != "DescribeTrails"
                 else ("cloudtrail", "LookupEvents", {"Events": []}))
    return calls


def _judged(row: Answer, code: str | None = None):
    """Collect a stubbed account whose ``row.operations[0]`` call fails with the row's error, and judge 4.3."""
    catalog = load_catalog()
    failing = row.operations[0]
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    clients = Clients(session)
    stubs: dict[str, Stubber] = {}

    def stub(service: str) -> Stubber:
        if service not in stubs:
            stubs[service] = Stubber(clients.get(service, REGION))
        return stubs[service]

    stub("sts").add_response("get_caller_identity", {"Account": ACCOUNT, "UserId": "x",
                                                     "Arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/x"})
    for service, operation, response in _calls(row):
        method = xform_name(operation)
        if operation == failing:
            stub(service).add_client_error(method, service_error_code=code or row.code,
                                           service_message=f"{operation} refused", http_status_code=400)
        elif operation not in NEVER_MADE.get(failing, ()):
            stub(service).add_response(method, response)
    for s in stubs.values():
        s.activate()
    ev = collect_account(Target("acct", session), [REGION], WINDOW, [catalog.control("4.3")], clients=clients)
    for s in stubs.values():
        s.assert_no_pending_responses()
    return ev, judge_account(ev, catalog.control("4.3"), catalog)


@pytest.mark.parametrize("row", ANSWERS, ids=lambda a: f"{a.link.id}-{a.code}-{a.owner.name.lower()}")
def test_each_error_decides_its_link_as_the_table_says(row):
    ev, finding = _judged(row)
    assert [g.error_code for g in ev.gaps] == [row.code] * len(row.operations)
    verdict = next(v for v in finding.links if v.link is row.link)
    assert verdict.status == row.status, verdict.reason
    assert row.meaning in verdict.reason and row.code in verdict.reason, verdict.reason
    assert finding.status == (Status.FAIL if row.status == Status.FAIL else Status.GAP)  # never a PASS
    if row.status == Status.GAP and row.link not in (Link.LOGGING, Link.MANAGEMENT_EVENTS):  # others depend on it
        assert all(v.status == Status.GAP for v in finding.links[finding.links.index(verdict):]), finding.links


@pytest.mark.parametrize("link", [Link.LOGGING, Link.LOG_GROUP, Link.SUBSCRIBER], ids=lambda link: link.id)
def test_an_error_the_table_does_not_list_is_a_gap(link):
    row = next(a for a in ANSWERS if a.link is link)
    ev, finding = _judged(row, code="SomethingNewException")
    verdict = next(v for v in finding.links if v.link is link)
    assert verdict.status == Status.GAP and UNLISTED in verdict.reason and "SomethingNewException" in verdict.reason
    assert answer(link, "SomethingNewException").status == Status.GAP


def test_not_found_is_a_definite_no_only_about_the_audited_accounts_resources():
    for link, code in {(a.link, a.code) for a in ANSWERS if a.status == Status.FAIL}:
        assert answer(link, code, own=True).status == Status.FAIL
        assert answer(link, code, own=False).status == Status.GAP, (link, code)


def test_every_row_names_a_call_of_its_link_and_is_unique():
    keys = [(a.link, a.code, a.owner) for a in ANSWERS]
    assert len(keys) == len(set(keys))
    assert all(a.operations and all(op in SERVICE for op in a.operations) for a in ANSWERS)


def test_readme_answers_table_is_rendered_from_the_data():
    assert current() == render(), "README.md's answers table is stale: run python -m tests.answers.table --write"
