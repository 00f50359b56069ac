"""Helpers for the history tests: CloudTrail records shaped as AWS writes them, a healthy account's
collected state, and a small judge of a snapshot (the real judge is wired in by the workbook)."""

from __future__ import annotations

import copy
import hashlib
import uuid
from datetime import datetime, timezone
from typing import Any

from rootwatch.history import CHANGES, FAIL, GAP, LINKS, PASS, Kind, Snapshot

ACCOUNT, REGION = "111111111111", "us-east-1"
GROUP = "cloudtrail-main"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts"
SUBSCRIPTION = f"{TOPIC}:5f2a9c1e-2b8e-4f0e-9d55-0c7c8e3b1a11"
BENCHMARK = ('{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) '
             '&& ($.eventType != "AwsServiceEvent") }')
SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
              "ExcludeManagementEventSources": []}]
TRANSFORMATIONS = [{"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}]


def when(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def healthy() -> dict:
    """A healthy account as collection holds it (``AccountEvidence``'s lists)."""
    trail = {"Name": "main", "S3BucketName": "org-trail-logs", "IncludeGlobalServiceEvents": True,
             "IsMultiRegionTrail": True, "HomeRegion": REGION,
             "TrailARN": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main", "LogFileValidationEnabled": True,
             "CloudWatchLogsLogGroupArn": GROUP_ARN,
             "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/CloudTrail_CloudWatchLogs_Role",
             "HasCustomEventSelectors": False, "HasInsightSelectors": False, "IsOrganizationTrail": False,
             "rw:seenIn": [REGION],
             "rw:status": {"IsLogging": True, "LatestDeliveryTime": "2026-10-01T05:55:00Z"},
             "rw:selectors": {"TrailARN": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main",
                              "EventSelectors": copy.deepcopy(SELECTORS)}}
    metric_filter = {"filterName": "root-usage", "filterPattern": BENCHMARK,
                     "metricTransformations": copy.deepcopy(TRANSFORMATIONS), "creationTime": 1751328000000,
                     "logGroupName": GROUP, "rw:region": REGION, "rw:accountId": ACCOUNT}
    alarm = {"AlarmName": "root-usage", "AlarmArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root-usage",
             "ActionsEnabled": True, "OKActions": [], "AlarmActions": [TOPIC], "InsufficientDataActions": [],
             "StateValue": "OK", "MetricName": "RootAccountUsage", "Namespace": "CISBenchmark", "Statistic": "Sum",
             "Dimensions": [], "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
             "ComparisonOperator": "GreaterThanOrEqualToThreshold", "rw:region": REGION}
    subscription = {"SubscriptionArn": SUBSCRIPTION, "Owner": ACCOUNT, "Protocol": "email",
                    "Endpoint": "secops@example.com", "TopicArn": TOPIC, "rw:topicArn": TOPIC, "rw:attributes": {}}
    return {"trails": [trail], "metric_filters": [metric_filter], "alarms": [alarm], "subscriptions": [subscription],
            "topic_attributes": {TOPIC: {"TopicArn": TOPIC}}}


def record(name: str, at: str, request: dict | None, response: dict | None = None, error: str | None = None,
           event_id: str | None = None, region: str = REGION) -> dict[str, Any]:
    """A management event as CloudTrail writes it (eventVersion 1.09, an IAM user from the office)."""
    source = next(s for s, names in CHANGES.items() if name in names)
    seed = hashlib.sha256(f"{name}{at}{request}".encode()).digest()
    event = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDA6ON6E4XEGITEXAMPLE",
                         "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT,
                         "accessKeyId": "AKIA6ON6E4XEXAMPLE01", "userName": "alice"},
        "eventTime": at, "eventSource": source, "eventName": name, "awsRegion": region,
        "sourceIPAddress": "198.51.100.10",
        "userAgent": "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8",
        "requestParameters": request, "responseElements": response,
        "requestID": str(uuid.UUID(bytes=seed[:16], version=4)),
        "eventID": event_id or str(uuid.UUID(bytes=seed[16:], version=4)),
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        event["errorCode"], event["errorMessage"] = error, f"User: arn:aws:iam::{ACCOUNT}:user/alice is not authorized"
    return event


def judge(snapshot: Snapshot) -> dict[str, str]:
    """The chain's links for one configuration, the way the real judge reads them: an object that
    is missing makes its link (and what hangs on it) FAIL, one that is unknown makes it GAP."""
    trails = [t for t in snapshot.of(Kind.TRAIL) if t.get("IsMultiRegionTrail")]
    if not trails:
        return dict.fromkeys(LINKS, GAP if snapshot.unknown_of(Kind.TRAIL) else FAIL)
    name = trails[0]["Name"]
    verdict = {"trail": PASS,
               "logging": _one(snapshot, (Kind.TRAIL_STATUS, name), lambda s: s["IsLogging"]),
               "management-events": _one(snapshot, (Kind.TRAIL_SELECTORS, name), lambda s: any(
                   e.get("IncludeManagementEvents") and e.get("ReadWriteType") == "All"
                   for e in s.get("EventSelectors") or []))}
    arn = (trails[0].get("CloudWatchLogsLogGroupArn") or "").split(":")
    group = f"{arn[3]}:{arn[6]}" if len(arn) > 6 else ""
    verdict["log-group"] = _one(snapshot, (Kind.LOG_GROUP, group), lambda g: True)
    if verdict["log-group"] != PASS:
        return {**verdict, **dict.fromkeys(LINKS[4:], verdict["log-group"])}
    filters = [f for (k, i), f in snapshot.resources.items() if k is Kind.METRIC_FILTER and i.startswith(group + ":")]
    unknown_filters = [i for i in snapshot.unknown_of(Kind.METRIC_FILTER) if i.startswith(group + ":")]
    verdict["metric-filter"] = _best([f["filterPattern"] == BENCHMARK for f in filters], bool(unknown_filters))
    metrics = {(t["metricNamespace"], t["metricName"]) for f in filters for t in f["metricTransformations"]}
    alarms = [a for a in snapshot.of(Kind.ALARM) if (a.get("Namespace"), a.get("MetricName")) in metrics]
    verdict["alarm"] = _best([a["ActionsEnabled"] and bool(a["AlarmActions"]) and a["Threshold"] <= 1
                              for a in alarms], bool(unknown_filters or snapshot.unknown_of(Kind.ALARM)))
    topics = {t for a in alarms for t in a["AlarmActions"]}
    subs = [s for s in snapshot.of(Kind.SUBSCRIPTION) if s.get("TopicArn") in topics]
    unknown_subs = [i for i in snapshot.unknown_of(Kind.SUBSCRIPTION) if i.split("|")[0].removeprefix("arn:")
                    .rsplit(":", 1)[0] in topics or i.split("|")[0] in topics]
    unknown_topics = [t for t in snapshot.unknown_of(Kind.TOPIC) if t in topics]
    verdict["subscriber"] = _best([s["SubscriptionArn"].startswith("arn:") for s in subs],
                                  bool(unknown_subs or unknown_topics or verdict["alarm"] == GAP))
    return verdict


def _one(snapshot: Snapshot, key, ok) -> str:
    if key in snapshot.unknown:
        return GAP
    found = snapshot.resources.get(key)
    return PASS if found is not None and ok(found) else FAIL


def _best(oks: list[bool], unknown: bool) -> str:
    return PASS if any(oks) else GAP if unknown else FAIL
