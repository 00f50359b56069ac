"""By-hand benchmark (not a test) of the chain's history over the window: `make bench-history`.

Why: rootwatch test RW-2 rebuilds every account's chain over the window from its change events and
judges each past configuration with the judge of today; an organization of 100 accounts over a
90-day quarter must stay a small part of a run. This builds 100 accounts with a healthy chain today
and, over 90 days, a history of changes as CloudTrail records them (logging stopped and restarted,
the filter narrowed and put back, the subscriber removed and re-added, each pair a few hours apart,
spread across the window), then times `judge.chain.chain_operation` for every account: reading the
records, the reconstruction and the judge of each interval. The baseline, measured in the same run,
is the judge alone on today's evidence, called as many times as there are intervals: the ratio is
what the history costs beyond judging that many configurations. Reading the events is not timed:
from event history it is paced at AWS's 2 LookupEvents per second per account and region (19 lookups
per account-region: about 9.5 s each, the accounts in parallel), from the archive or a query it is
the scan's or query's time. It always exits 0: it is a report; wall time depends on what else the
machine runs, so the CPU seconds and their ratio are printed too.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from rootwatch.catalog import load_catalog
from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.changes import ChangeHistory
from rootwatch.history import parse_changes, reconstruct, today
from rootwatch.judge.chain import chain_operation, judge_account
from rootwatch.models import Window

REGION = "us-east-1"
NOW = datetime(2026, 10, 1, 6, tzinfo=UTC)
NARROWED = '{ ($.userIdentity.type = "Root") && ($.sourceIPAddress = "198.51.100.7") }'


def account(index: int, days: int, pairs: int, benchmark: str, rng: random.Random) -> AccountEvidence:
    """One account: today's healthy chain and ``pairs`` breaks-and-fixes over the window."""
    acct = f"{300000000000 + index}"
    group, topic = f"arn:aws:logs:{REGION}:{acct}:log-group:cloudtrail:*", f"arn:aws:sns:{REGION}:{acct}:alerts"
    subscription = f"{topic}:5f2a9c1e-2b8e-4f0e-9d55-{index:012d}"
    transform = [{"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}]
    trail = {"Name": "main", "S3BucketName": "logs", "IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": True,
             "HomeRegion": REGION, "TrailARN": f"arn:aws:cloudtrail:{REGION}:{acct}:trail/main",
             "CloudWatchLogsLogGroupArn": group, "CloudWatchLogsRoleArn": f"arn:aws:iam::{acct}:role/ct",
             "IsOrganizationTrail": False, "rw:seenIn": [REGION], "rw:status": {"IsLogging": True},
             "rw:selectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                                  "DataResources": [], "ExcludeManagementEventSources": []}]}}
    mf = {"filterName": "root-usage", "filterPattern": benchmark, "metricTransformations": transform,
          "logGroupName": "cloudtrail", "rw:region": REGION, "rw:accountId": acct}
    alarm = {"AlarmName": "root-usage", "ActionsEnabled": True, "OKActions": [], "AlarmActions": [topic],
             "InsufficientDataActions": [], "MetricName": "RootAccountUsage", "Namespace": "CISBenchmark",
             "Statistic": "Sum", "Dimensions": [], "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
             "ComparisonOperator": "GreaterThanOrEqualToThreshold", "rw:region": REGION}
    sub = {"SubscriptionArn": subscription, "Owner": acct, "Protocol": "email", "Endpoint": "secops@example.com",
           "TopicArn": topic, "rw:topicArn": topic}
    window = Window(NOW - timedelta(days=days), NOW)
    put = {"logGroupName": "cloudtrail", "filterName": "root-usage", "metricTransformations": transform}
    kinds = [("StopLogging", {"name": "main"}, "StartLogging", {"name": "main"}, None),
             ("PutMetricFilter", {**put, "filterPattern": NARROWED}, "PutMetricFilter",
              {**put, "filterPattern": benchmark}, None),
             ("Unsubscribe", {"subscriptionArn": f"{topic}:removed-{index}"}, "Subscribe",
              {"topicArn": topic, "protocol": "email", "endpoint": "secops@example.com"},
              {"subscriptionArn": subscription})]
    records = [_record(acct, "PutMetricFilter", window.start - timedelta(days=1), {**put, "filterPattern": benchmark})]
    for n in range(pairs):
        broke, asked, fixed, fix_asked, answer = kinds[n % len(kinds)]
        at = window.start + timedelta(days=days * (n + 0.5) / pairs, minutes=rng.randrange(-600, 600))
        records += [_record(acct, broke, at, asked), _record(acct, fixed, at + timedelta(hours=rng.randrange(1, 30)),
                                                             fix_asked, answer)]
    ev = AccountEvidence(f"acct-{index:03d}", acct, f"arn:aws:sts::{acct}:assumed-role/audit/x", [REGION], window,
                         trails=[trail], metric_filters=[mf], alarms=[alarm], subscriptions=[sub])
    ev.changes = ChangeHistory(NOW, "archive", records)
    return ev


def _record(acct: str, name: str, at: datetime, request: dict, response: dict | None = None) -> dict:
    source = {"StopLogging": "cloudtrail", "StartLogging": "cloudtrail", "PutMetricFilter": "logs"}.get(name, "sns")
    return {"eventVersion": "1.09", "eventTime": f"{at:%Y-%m-%dT%H:%M:%SZ}", "eventSource": f"{source}.amazonaws.com",
            "eventName": name, "awsRegion": REGION, "eventID": f"{acct}-{name}-{at:%s}", "recipientAccountId": acct,
            "sourceIPAddress": "198.51.100.10",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{acct}:user/ops"},
            "requestParameters": request, "responseElements": response}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--pairs", type=int, default=12, help="breaks (each with its fix) per account")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    catalog = load_catalog()
    control = catalog.control("4.3")
    rng = random.Random(19)
    evidence = [account(i, args.days, args.pairs, control.reference.text, rng) for i in range(args.accounts)]
    start, cpu = time.perf_counter(), time.process_time()
    operations = [chain_operation(ev, control, catalog) for ev in evidence]
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    counts = [len(reconstruct(today(ev.trails, ev.metric_filters, ev.alarms, ev.subscriptions),
                              parse_changes(ev.changes.records), ev.window, NOW)) for ev in evidence]
    intervals = sum(counts)
    judged = [ev for ev, n in zip(evidence, counts) for _ in range(n)]
    base_start, base_cpu = time.perf_counter(), time.process_time()
    for ev in judged:
        judge_account(ev, control, catalog)
    baseline, base_cpu = time.perf_counter() - base_start, time.process_time() - base_cpu
    broken = sum(len(op.chain.failed) for op in operations)
    result = {"accounts": len(evidence), "days": args.days, "changes": sum(len(ev.changes.records) for ev in evidence),
              "intervals": intervals, "breaks_found": broken, "wall_seconds": round(wall, 2),
              "cpu_seconds": round(cpu, 2), "ms_per_account": round(wall / len(evidence) * 1000, 1),
              "baseline_seconds": round(baseline, 2), "baseline_cpu_seconds": round(base_cpu, 2),
              "ratio": round(wall / baseline, 2), "cpu_ratio": round(cpu / base_cpu, 2)}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['accounts']} accounts x {args.days} days, {result['changes']} change events, "
              f"{intervals} intervals judged, {broken} chain breaks found")
        print(f"  history (read records, rebuild, judge each interval) {wall:.2f} s wall, {cpu:.2f} s CPU, "
              f"{result['ms_per_account']} ms per account")
        print(f"  baseline (today's judge, {intervals} times) {baseline:.2f} s wall, {base_cpu:.2f} s CPU   "
              f"ratio {result['ratio']} (wall), {result['cpu_ratio']} (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
