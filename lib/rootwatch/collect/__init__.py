"""Collect once, judge many: every link of the CIS chain for each account, as raw evidence.

For each account: caller identity; trails (shadow trails included) with status and event
selectors; the metric filters of each trail's log group, in the log group's region; the alarms on
each filter's metric (name + namespace) with their history and daily sums; the subscribers of
every SNS topic an alarm notifies; and each control's events over the window from the log group
(``FilterLogEvents``) or, without one, from event history (``LookupEvents``). Every event the
server returns is re-checked with rootwatch's own evaluator, because a server may ignore the
pattern (moto does). Each API object is kept as AWS returned it, with ``rw:`` keys added.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import boto3

from rootwatch.catalog import Control
from rootwatch.collect import cloudtrail, cloudwatch, logs, sns
from rootwatch.collect.evidence import Gap, RawCall, Recorder
from rootwatch.collect.session import Clients
from rootwatch.models import Window

Progress = Callable[[str, str], None]


@dataclass(frozen=True)
class Target:
    """One account to collect: a session, and optionally a role to assume from it first (the
    AssumeRole call is evidence too, and its failure a gap)."""

    label: str
    session: boto3.Session
    role_arn: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class LogGroupRef:
    account_id: str
    region: str
    name: str

    @classmethod
    def from_arn(cls, arn: str) -> LogGroupRef:
        # arn:aws:logs:<region>:<account>:log-group:<name>:*
        parts = arn.split(":")
        return cls(parts[4], parts[3], parts[6])


@dataclass
class AccountEvidence:
    label: str
    account_id: str
    caller_arn: str | None
    regions: list[str]
    window: Window
    trails: list[dict] = field(default_factory=list)
    metric_filters: list[dict] = field(default_factory=list)
    alarms: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    alarm_history: list[dict] = field(default_factory=list)
    datapoints: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    calls: list[RawCall] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def collect(targets: Iterable[Target], regions: list[str], window: Window, controls: list[Control],
            endpoint_url: str | None = None, progress: Progress | None = None) -> list[AccountEvidence]:
    """Collect every target; one account failing never stops the others (its failure is a gap)."""
    return [collect_account(t, regions, window, controls, endpoint_url, progress) for t in targets]


def collect_account(target: Target, regions: list[str], window: Window, controls: list[Control],
                    endpoint_url: str | None = None, progress: Progress | None = None,
                    clients: Clients | None = None) -> AccountEvidence:
    """``clients`` replaces the session's own clients (tests pass botocore-stubbed ones)."""
    say = progress or (lambda stage, label: None)
    rec = Recorder(clients or Clients(target.session, endpoint_url), target.label)
    say("identity", target.label)
    identity = None
    if target.role_arn is None or _assume(rec, target, regions[0], endpoint_url):
        identity = rec.call(regions[0], "sts", "GetCallerIdentity", "identity")
    account_id = identity["Account"] if identity else target.label
    for call in rec.calls:  # the first calls were made before the account id was known
        call.account_id = account_id
    rec.account_id = account_id
    ev = AccountEvidence(target.label, account_id, identity["Arn"] if identity else None, regions, window)
    if identity:
        say("trails", target.label)
        ev.trails = cloudtrail.trails(rec, regions)
        groups = _log_groups(rec, ev)
        say("metric filters", target.label)
        for group in groups:
            for f in logs.metric_filters(rec, group.region, group.name) or []:
                ev.metric_filters.append({**f, "rw:region": group.region, "rw:accountId": group.account_id})
        say("alarms", target.label)
        _alarms(rec, ev, window)
        say("events", target.label)
        for control in controls:
            _events(rec, ev, control, groups, window)
    ev.calls, ev.gaps = rec.calls, rec.gaps
    return ev


def _assume(rec: Recorder, target: Target, region: str, endpoint_url: str | None) -> bool:
    """Switch the recorder to the target's role; False (and a gap) when AssumeRole fails."""
    params = {"RoleArn": target.role_arn, "RoleSessionName": "rootwatch"}
    if target.external_id:
        params["ExternalId"] = target.external_id
    response = rec.call(region, "sts", "AssumeRole", "identity", **params)
    if response is None:
        return False
    creds = response["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name=region)
    rec.clients = Clients(session, endpoint_url)
    return True


def _log_groups(rec: Recorder, ev: AccountEvidence) -> list[LogGroupRef]:
    """Log groups the trails deliver to that this account can read; others become gaps."""
    groups: dict[LogGroupRef, None] = {}
    for trail in ev.trails:
        arn = trail.get("CloudWatchLogsLogGroupArn")
        if not arn:
            continue
        ref = LogGroupRef.from_arn(arn)
        if ref.account_id != ev.account_id:
            rec.gaps.append(Gap(ev.account_id, ref.region, "log-group", "logs", "DescribeMetricFilters",
                                "CrossAccountLogGroup",
                                f"trail {trail['Name']} delivers to log group {ref.name} in account {ref.account_id}, "
                                "which this account cannot read", ""))
            continue
        groups[ref] = None
    return list(groups)


def _alarms(rec: Recorder, ev: AccountEvidence, window: Window) -> None:
    metrics = {(f["rw:region"], t["metricNamespace"], t["metricName"])
               for f in ev.metric_filters for t in f.get("metricTransformations", [])}
    topics: dict[str, None] = {}
    for region, namespace, metric in sorted(metrics):
        for alarm in cloudwatch.alarms_for_metric(rec, region, namespace, metric) or []:
            ev.alarms.append({**alarm, "rw:region": region})
            for item in cloudwatch.alarm_history(rec, region, alarm["AlarmName"], window) or []:
                ev.alarm_history.append({**item, "rw:region": region})
            topics.update((a, None) for a in alarm.get("AlarmActions", []) if a.startswith("arn:aws:sns:"))
        for point in cloudwatch.daily_sums(rec, region, namespace, metric, window) or []:
            ev.datapoints.append({**point, "rw:region": region, "rw:namespace": namespace, "rw:metric": metric})
    for topic in topics:
        for sub in sns.subscriptions(rec, topic) or []:
            ev.subscriptions.append({**sub, "rw:topicArn": topic})


def _events(rec: Recorder, ev: AccountEvidence, control: Control, groups: list[LogGroupRef], window: Window) -> None:
    query = control.evidence_query
    if groups:
        for group in groups:
            for item in logs.filter_events(rec, group.region, group.name, query.text, window) or []:
                event = _decode(item["message"])
                if event is not None and query.matches(event):
                    ev.events.append({"control": control.id, "source": "logs", "region": group.region,
                                      "logGroup": group.name, "eventId": item.get("eventId"), "event": event})
        return
    if control.lookup is None:
        rec.gaps.append(Gap(ev.account_id, ev.regions[0], "events", "cloudtrail", "LookupEvents", "NoLogGroup",
                            f"no trail delivers to CloudWatch Logs and event history cannot be narrowed to "
                            f"{control.subject}", ""))
        return
    for region in ev.regions:
        for raw in cloudtrail.lookup_events(rec, region, window, [control.lookup]) or []:
            event = _decode(raw)
            if event is not None and query.matches(event):
                ev.events.append({"control": control.id, "source": "lookup", "region": region, "logGroup": None,
                                  "eventId": event.get("eventID"), "event": event})


def _decode(message: str) -> dict | None:
    try:
        event = json.loads(message)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
