"""What to change so every failing link passes: the benchmark's four steps with the account's real
names, plus the trail fixes, as ``Action`` data.

The plan only adds and strengthens. It never edits or deletes a filter, alarm or topic it did not
create: a wrong filter gets a correct one beside it (under the catalog's names), wired to its own
alarm; an alarm whose actions were switched off is switched back on; one topic serves every
monitoring alarm (an existing topic with a confirmed subscriber is reused, as the benchmark
advises). It is computed from fresh evidence, so after an apply the chain passes and the plan is
empty — a second apply changes nothing. A subscription rootwatch created stays pending until its
owner confirms it; the plan says so instead of subscribing again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rootwatch.catalog import Control
from rootwatch.collect import AccountEvidence
from rootwatch.judge import BENCHMARK_ALARM, CHAIN, FAIL, GAP, LINKS, Finding
from rootwatch.remediate.actions import (
    ALARM,
    ALARM_ACTIONS,
    DELIVERY_ROLE,
    LOG_GROUP,
    METRIC_FILTER,
    SUBSCRIPTION,
    TOPIC,
    TRAIL_LOGGING,
    TRAIL_SELECTORS,
    TRAIL_SETTINGS,
    Action,
    logical_id,
)

TOPIC_NAME = "cis-monitoring-alerts"
ROLE_NAME = "CloudTrail_CloudWatchLogs_Role_rootwatch"
TRAIL_LINKS = set(LINKS[:3])


@dataclass
class AccountPlan:
    account_id: str
    label: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the plan cannot do, or waits for

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def add(self, action: Action) -> None:
        if all((a.operation, a.name, a.params) != (action.operation, action.name, action.params) for a in self.actions):
            self.actions.append(action)


def plan_account(ev: AccountEvidence, findings: list[Finding], controls: dict[str, Control],
                 notify: list[str]) -> AccountPlan:
    """The plan for one account's failing chain findings (``notify``: who to subscribe, if a new
    topic is needed)."""
    plan = AccountPlan(ev.account_id, ev.label)
    failing = [f for f in findings if f.account_id == ev.account_id and f.check == CHAIN and f.status != "PASS"]
    topic = _Topic(plan, ev, notify)
    for f in failing:
        unread = [link.name for link in f.links if link.status == GAP]
        if unread:
            plan.note(f"CIS {f.control}: {', '.join(unread)} could not be read; nothing planned for them "
                              "(see the evidence gaps)")
        bad = {link.name for link in f.links if link.status == FAIL}
        if bad and not _trail_fixes(plan, ev, f, bad):
            continue
        owner = f.anchor.log_group_account
        if owner and owner != ev.account_id:
            plan.note(f"CIS {f.control}: log group {f.anchor.log_group} belongs to account {owner} (organization "
                      "trail): remediate that account")
        elif bad - TRAIL_LINKS:
            _monitoring(plan, ev, f, controls[f.control], bad, topic)
    return plan


def _trail_fixes(plan: AccountPlan, ev: AccountEvidence, f: Finding, bad: set[str]) -> bool:
    """Trail, logging, selectors and CloudWatch Logs delivery; False when there is no trail to fix."""
    a = f.anchor
    if a.trail is None:
        plan.note("no CloudTrail trail — create a multi-region trail with an S3 bucket (aws cloudtrail "
                  "create-trail), then run rootwatch remediate again")
        return False
    region = a.trail_region or ev.regions[0]
    trail = next(t for t in ev.trails if t.get("Name") == a.trail)
    act = _actor(ev.account_id, region, _trail_facts(trail))
    if LINKS[1] in bad:
        plan.add(act("cloudtrail", "StartLogging", {"Name": a.trail}, TRAIL_LOGGING, a.trail, LINKS[1], creates=False))
    if LINKS[2] in bad:
        plan.add(act("cloudtrail", "PutEventSelectors", {"TrailName": a.trail, "EventSelectors": [
            {"ReadWriteType": "All", "IncludeManagementEvents": True}]}, TRAIL_SELECTORS, a.trail, LINKS[2],
            creates=False))
    settings: dict = {}
    refs: dict[str, str] = {}
    if not trail.get("IsMultiRegionTrail"):
        settings["IsMultiRegionTrail"] = True
    if a.log_group is None:
        group = f"aws-cloudtrail-logs-{ev.account_id}"
        plan.add(act("logs", "CreateLogGroup", {"logGroupName": group}, LOG_GROUP, group, LINKS[3], facts={}))
        plan.add(act("iam", "CreateRole", {"RoleName": ROLE_NAME, "AssumeRolePolicyDocument": _trust()},
                     DELIVERY_ROLE, ROLE_NAME, LINKS[3], facts={}))
        plan.add(act("iam", "PutRolePolicy", {"RoleName": ROLE_NAME, "PolicyName": "cloudtrail-to-cloudwatch-logs",
                                              "PolicyDocument": _delivery(ev.account_id, region, group)},
                     DELIVERY_ROLE, ROLE_NAME, LINKS[3], facts={}))
        settings["CloudWatchLogsLogGroupArn"] = f"arn:aws:logs:{region}:{ev.account_id}:log-group:{group}:*"
        settings["CloudWatchLogsRoleArn"] = f"arn:aws:iam::{ev.account_id}:role/{ROLE_NAME}"
        refs = {"CloudWatchLogsLogGroupArn": logical_id(LOG_GROUP, group), "CloudWatchLogsRoleArn": logical_id(DELIVERY_ROLE, ROLE_NAME)}
    elif LINKS[3] in bad:
        plan.add(act("logs", "CreateLogGroup", {"logGroupName": a.log_group}, LOG_GROUP, a.log_group, LINKS[3],
                     facts={}))
    if settings:
        plan.add(act("cloudtrail", "UpdateTrail", {"Name": a.trail, **settings}, TRAIL_SETTINGS, a.trail, LINKS[0],
                     creates=False, refs=refs))
    return True


class _Topic:
    """The account's one monitoring topic, chosen (or planned) once for all alarms."""

    def __init__(self, plan: AccountPlan, ev: AccountEvidence, notify: list[str]) -> None:
        self.plan, self.ev, self.notify, self.arn, self.ref = plan, ev, notify, "", ""

    def arn_for(self, region: str) -> tuple[str, str]:
        if not self.arn:
            self._choose(region)
        return self.arn, self.ref

    def _choose(self, region: str) -> None:
        confirmed = sorted({s["rw:topicArn"] for s in self.ev.subscriptions
                            if s.get("SubscriptionArn", "").startswith("arn:")},
                           key=lambda arn: (not arn.endswith(f":{TOPIC_NAME}"), arn))
        if confirmed:
            self.arn = confirmed[0]
            return
        self.arn = f"arn:aws:sns:{region}:{self.ev.account_id}:{TOPIC_NAME}"
        existing = [s for s in self.ev.subscriptions if s["rw:topicArn"] == self.arn]
        act = _actor(self.ev.account_id, region)
        if not existing and not any(self.arn in a.get("AlarmActions", []) for a in self.ev.alarms):
            self.plan.add(act("sns", "CreateTopic", {"Name": TOPIC_NAME}, TOPIC, TOPIC_NAME, LINKS[6]))
            self.ref = logical_id(TOPIC, TOPIC_NAME)
        subscribed = {s.get("Endpoint") for s in existing}
        for endpoint in self.notify:
            if endpoint in subscribed:
                continue
            self.plan.add(act("sns", "Subscribe", {"TopicArn": self.arn, "Protocol": _protocol(endpoint),
                                                   "Endpoint": endpoint}, SUBSCRIPTION, f"{TOPIC_NAME} {endpoint}",
                              LINKS[6], refs={"TopicArn": self.ref} if self.ref else {}))
        pending = sorted(subscribed | set(self.notify))
        if pending:
            self.plan.note(f"topic {TOPIC_NAME}: subscription(s) of {', '.join(pending)} stay pending until "
                                   "each owner confirms (the subscriber link passes only then)")
        else:
            self.plan.note(f"topic {TOPIC_NAME} has no subscriber: run again with --notify ADDRESS")


def _monitoring(plan: AccountPlan, ev: AccountEvidence, f: Finding, control: Control, bad: set[str],
                topic: _Topic) -> None:
    """The benchmark's four steps for the links after the log group."""
    a, rem = f.anchor, control.remediation
    group = a.log_group or f"aws-cloudtrail-logs-{ev.account_id}"
    region = a.log_group_region or a.trail_region or ev.regions[0]
    act = _actor(ev.account_id, region)
    metric = a.metric
    if LINKS[4] in bad or metric is None:
        metric = (rem.namespace, rem.metric_name)
        name = _free_name(rem.filter_name, {f.get("filterName") for f in ev.metric_filters
                                            if f.get("logGroupName") == group})
        plan.add(act("logs", "PutMetricFilter", {
            "logGroupName": group, "filterName": name, "filterPattern": control.intended.canonical,
            "metricTransformations": [{"metricName": rem.metric_name, "metricNamespace": rem.namespace,
                                       "metricValue": "1"}]}, METRIC_FILTER, name, LINKS[4],
            refs={"logGroupName": logical_id(LOG_GROUP, group)} if a.log_group is None else {}))
    elif a.alarm and LINKS[6] not in bad and not _enabled(ev, a.alarm):
        plan.add(act("cloudwatch", "EnableAlarmActions", {"AlarmNames": [a.alarm]}, ALARM_ACTIONS, a.alarm,
                     LINKS[5], creates=False))
        return
    arn, ref = topic.arn_for(region)
    if any(x["AlarmName"] in (rem.alarm_name, f"{rem.alarm_name}-rootwatch") and arn in x.get("AlarmActions", [])
           and (x.get("Namespace"), x.get("MetricName")) == metric for x in ev.alarms):
        return  # rootwatch's alarm is in place; only its subscriber's confirmation is missing (see notes)
    alarm = _free_name(rem.alarm_name, {x["AlarmName"] for x in ev.alarms})
    plan.add(act("cloudwatch", "PutMetricAlarm", {
        "AlarmName": alarm, "AlarmDescription": f"CIS {control.id}: {control.title} (rootwatch)",
        "MetricName": metric[1], "Namespace": metric[0], **BENCHMARK_ALARM, "TreatMissingData": "notBreaching",
        "ActionsEnabled": True, "AlarmActions": [arn]}, ALARM, alarm, LINKS[5],
        refs={"AlarmActions": ref} if ref else {}))


def _free_name(name: str, taken: set) -> str:
    """The catalog's name, or ``<name>-rootwatch`` when a filter or alarm of someone else's already
    has it: PutMetricFilter and PutMetricAlarm on an existing name silently replace what is there."""
    return name if name not in taken else f"{name}-rootwatch"


def _enabled(ev: AccountEvidence, alarm: str) -> bool:
    return any(x["AlarmName"] == alarm and x.get("ActionsEnabled") for x in ev.alarms)


def _actor(account_id: str, region: str, facts: dict | None = None):
    """A maker of this account's and region's actions (``facts``: the trail's, for trail actions)."""
    def act(service: str, operation: str, params: dict, kind: str, name: str, why: str, creates: bool = True,
            refs: dict[str, str] | None = None, facts: dict | None = facts) -> Action:
        return Action(account_id, region, service, operation, params, kind, name, f"fixes the {why} link", creates,
                      refs or {}, facts or {})
    return act


TRAIL_FACTS = ("S3BucketName", "S3KeyPrefix", "IncludeGlobalServiceEvents", "IsMultiRegionTrail",
               "LogFileValidationEnabled", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "KmsKeyId",
               "IsOrganizationTrail", "SnsTopicName")


def _trail_facts(trail: dict) -> dict:
    """The trail's settings as DescribeTrails reports them, and its selectors: a template that takes
    the trail over must declare them, or applying it would drop them."""
    facts = {k: trail[k] for k in TRAIL_FACTS if trail.get(k) is not None}
    return {**facts, "EventSelectors": (trail.get("rw:selectors") or {}).get("EventSelectors") or []}


def _protocol(endpoint: str) -> str:
    return "email" if "@" in endpoint else "https" if endpoint.startswith("https://") else "sms"


def _trust() -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _delivery(account_id: str, region: str, group: str) -> str:
    arn = f"arn:aws:logs:{region}:{account_id}:log-group:{group}:log-stream:*"
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": arn}]})
