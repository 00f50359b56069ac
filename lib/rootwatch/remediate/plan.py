"""What to change so every failing link passes: the benchmark's four steps with the account's real
names, plus the trail fixes, as ``Action`` data.

The plan only adds. The events a trail captures only grow: its event selectors are merged, never
replaced (every data-event selector and advanced selector stays as it was). It never writes under a
name in use: ``existing`` (read from the account just before planning) and the audit's evidence
say which alarm, filter, topic and log group names are taken, and a taken name is never reused
unless the topic there carries rootwatch's tag. A wrong filter gets a correct one beside it, wired
to its own alarm; an alarm whose actions were switched off is switched back on; one topic serves
every monitoring alarm (an existing topic with a confirmed subscriber is reused, as the benchmark
advises). CloudWatch Logs delivery goes through a role the account already has, named in the
parameters: rootwatch creates no IAM role. It is computed from fresh evidence, so after an apply
the chain passes and the plan is empty — a second apply changes nothing. A subscription rootwatch
created stays pending until its owner confirms it; the plan says so instead of subscribing again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rootwatch.catalog import Control
from rootwatch.collect.chain import AccountEvidence
from rootwatch.simulate import BENCHMARK_SETTINGS
from rootwatch.models import Anchor, Check, Finding, Link, Status
from rootwatch.remediate import render
from rootwatch.remediate.actions import (
    ALARM,
    ALARM_ACTIONS,
    CREATED_BY,
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
from rootwatch.remediate.existing import Existing, Wanted, common_prefix, free_name
from rootwatch.resources import (
    Alarm,
    LogGroupRef,
    MetricFilter,
    Selectors,
    Subscription,
    Topic,
    Trail,
    advanced_captures_all,
    basic_captures_all,
    partition_of,
)

TOPIC_NAME = "cis-monitoring-alerts"
GROUP_PREFIX = "aws-cloudtrail-logs-"  # + account id: the log group a trail without one gets
TRAIL_LINKS = {Link.TRAIL, Link.LOGGING, Link.MANAGEMENT_EVENTS}
ALL_MANAGEMENT = {"ReadWriteType": "All", "IncludeManagementEvents": True}
MANAGEMENT_SELECTOR = {"Name": "All management events (rootwatch)",
                       "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
MAX_BASIC_SELECTORS = 5           # CloudTrail's quotas per trail, which cannot be raised
MAX_ADVANCED_VALUES = 500
PROVISIONAL = ("names checked against the audit's evidence only: rootwatch remediate reads the names in use "
               "before it writes, and takes another free name where one is taken")
ROLE_HINT = ("name a role CloudTrail can assume to write to CloudWatch Logs in the parameters "
             "(remediate: {delivery_role: NAME}; policies/README.md, 'The delivery role'), then run again")


@dataclass
class Advice:
    """What the plan does for one finding: the actions it needs (some shared with other findings,
    made once: the trail's fixes, the one topic) and what the plan cannot do for it."""

    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class AccountPlan:
    account_id: str
    label: str
    actions: list[Action] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the plan cannot do, or waits for
    advice: dict[str, Advice] = field(default_factory=dict)  # by finding key, in plan order
    serving: str = ""  # the key of the finding being planned

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
        said = self.advice.setdefault(self.serving, Advice()).notes
        if text not in said:
            said.append(text)

    def add(self, action: Action) -> None:
        same = next((a for a in self.actions if (a.operation, a.name, a.params) ==
                     (action.operation, action.name, action.params)), None)
        if same is None:
            self.actions.append(action)
        needed = self.advice.setdefault(self.serving, Advice()).actions
        if (same or action) not in needed:
            needed.append(same or action)


@dataclass(frozen=True)
class _Group:
    """The log group the chain's filters go on."""

    name: str
    region: str
    planned: bool  # created by this plan: the filters refer to it


def plan_account(ev: AccountEvidence, findings: list[Finding], controls: dict[str, Control], notify: list[str],
                 existing: Existing | None = None) -> AccountPlan:
    """The plan for one account's failing chain findings (``notify``: who to subscribe, if a new
    topic is needed; ``existing``: the names in use that the evidence does not show, from
    ``existing.read`` over ``wanted``; without it only the evidence's names count as taken, which
    is enough to show a plan but not to make one: each finding it creates something for says so)."""
    provisional, existing = existing is None, existing or Existing()
    plan = AccountPlan(ev.account_id, ev.label)
    topic = _Topic(plan, ev, notify, existing)
    for f in _failing(ev, findings):
        plan.serving = f.key
        unread = [link.link.title for link in f.links if link.status == Status.GAP]
        if unread:
            plan.note(f"CIS {f.control}: {', '.join(unread)} could not be read; nothing planned for them "
                      "(see the evidence gaps)")
        bad = {link.link for link in f.links if link.status == Status.FAIL}
        group = _trail_fixes(plan, ev, f, bad, existing) if bad else None
        if group is None:
            continue
        owner = f.anchor.log_group_account
        if owner and owner != ev.account_id:
            plan.note(f"CIS {f.control}: log group {f.anchor.log_group} belongs to account {owner} (organization "
                      "trail): remediate that account")
        elif bad - TRAIL_LINKS:
            _monitoring(plan, ev, f, controls[f.control], bad, topic, group, existing)
    for key, advice in plan.advice.items() if provisional else ():
        if any(a.creates for a in advice.actions) and PROVISIONAL not in advice.notes:
            advice.notes.append(PROVISIONAL)
    return plan


def advise(findings: list[Finding], plan: AccountPlan) -> None:
    """Give each of the plan's findings its part of the plan, in the CLI form ``rootwatch remediate``
    prints: the report advises exactly what the remediation would do, never another name."""
    for f in findings:
        advice = plan.advice.get(f.key) if f.account_id == plan.account_id else None
        if advice is not None:
            f.remediation = [render.step(a) for a in advice.actions]
            f.remediation_notes = list(advice.notes)


def wanted(ev: AccountEvidence, findings: list[Finding], controls: dict[str, Control]) -> Wanted:
    """Where ``plan_account`` could write for these findings, so that the names there can be read
    before planning: the alarm and topic regions, and where a trail without a log group gets one."""
    failing = [f for f in _failing(ev, findings)
               if f.anchor.trail is not None and any(link.status == Status.FAIL for link in f.links)]
    if not failing:
        return Wanted()
    delivery = [f for f in failing if f.anchor.log_group is None]
    return Wanted(frozenset(_monitoring_region(ev, f.anchor) for f in failing),
                  common_prefix([controls[f.control].remediation.alarm_name for f in failing]), TOPIC_NAME,
                  GROUP_PREFIX + ev.account_id if delivery else None,
                  frozenset(_trail_region(ev, f.anchor) for f in delivery))


def _failing(ev: AccountEvidence, findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.account_id == ev.account_id and f.check == Check.CHAIN and f.status != Status.PASS]


def _trail_region(ev: AccountEvidence, a: Anchor) -> str:
    return a.trail_region or ev.regions[0]


def _monitoring_region(ev: AccountEvidence, a: Anchor) -> str:
    return a.log_group_region or _trail_region(ev, a)


def _trail_fixes(plan: AccountPlan, ev: AccountEvidence, f: Finding, bad: set[Link],
                 existing: Existing) -> _Group | None:
    """Trail, logging, selectors and CloudWatch Logs delivery; the log group the chain continues on,
    or None when nothing after the trail can be planned (no trail, or no way to deliver)."""
    a = f.anchor
    if a.trail is None:
        plan.note("no CloudTrail trail — create a multi-region trail with an S3 bucket (aws cloudtrail "
                  "create-trail), then run rootwatch remediate again")
        return None
    region = _trail_region(ev, a)
    trail = next(t for t in map(Trail, ev.trails) if t.name == a.trail)
    act = _actor(ev.account_id, region, _trail_facts(trail))
    if Link.LOGGING in bad:
        plan.add(act("cloudtrail", "StartLogging", {"Name": a.trail}, TRAIL_LOGGING, a.trail, Link.LOGGING,
                     creates=False))
    if Link.MANAGEMENT_EVENTS in bad:
        _selectors(plan, act, a.trail, trail.selectors or Selectors({}))
    settings: dict = {} if trail.multi_region else {"IsMultiRegionTrail": True}
    refs: dict[str, str] = {}
    if a.log_group is not None:
        group = _Group(a.log_group, _monitoring_region(ev, a),
                       Link.LOG_GROUP in bad and a.log_group_account in (None, ev.account_id))
        if group.planned:  # the trail names a log group of its account that no longer exists: that name again
            plan.add(act("logs", "CreateLogGroup", {"logGroupName": a.log_group}, LOG_GROUP, a.log_group,
                         Link.LOG_GROUP, facts={}))
    else:
        group = _delivery(plan, ev, a.trail, region, existing)
        if group is not None:
            plan.add(act("logs", "CreateLogGroup", {"logGroupName": group.name}, LOG_GROUP, group.name, Link.LOG_GROUP,
                         facts={}))
            settings["CloudWatchLogsLogGroupArn"] = LogGroupRef(ev.account_id, region, group.name).arn(_partition(ev))
            settings["CloudWatchLogsRoleArn"] = existing.role.arn
            refs = {"CloudWatchLogsLogGroupArn": logical_id(LOG_GROUP, group.name)}
    if settings:
        plan.add(act("cloudtrail", "UpdateTrail", {"Name": a.trail, **settings}, TRAIL_SETTINGS, a.trail, Link.TRAIL,
                     creates=False, refs=refs))
    return group


def _delivery(plan: AccountPlan, ev: AccountEvidence, trail: str, region: str, existing: Existing) -> _Group | None:
    """A new log group for a trail that delivers to none, under a free name, written to through the
    named delivery role; None (and a note saying why) when that cannot be planned."""
    role = existing.role
    if role is None or role.problem:
        why = "no delivery role is named" if role is None else f"delivery role {role.name} {role.problem}"
        plan.note(f"trail {trail} delivers to no CloudWatch Logs group and {why}: no log group, filter or alarm "
                  f"planned for it; {ROLE_HINT}")
        return None
    if (LOG_GROUP, region) in existing.unread:
        plan.note(f"trail {trail}: the log groups of {region} could not be listed "
                  f"({existing.unread[LOG_GROUP, region]}): no log group planned, lest it take a name in use")
        return None
    return _Group(free_name(GROUP_PREFIX + ev.account_id, existing.taken(LOG_GROUP, region)), region, True)


def _selectors(plan: AccountPlan, act, name: str, current: Selectors) -> None:
    """Merge a selector capturing every management event into the trail's own, in the kind it uses
    (PutEventSelectors with one kind replaces all selectors, and switching kinds drops the other's).
    A management-only selector narrowed only to reads or writes is widened in place; otherwise a
    selector is added beside the others — also beside one that excludes event sources, which stays
    as it was: CloudTrail logs an event that matches any selector, so the trail then captures every
    management event and still everything it captured before."""
    advanced = current.advanced
    if advanced:
        merged = _widened(advanced, _widen_advanced)
        if merged is None and _values(advanced) + 1 > MAX_ADVANCED_VALUES:
            plan.note(f"trail {name}: its advanced event selectors hold {_values(advanced)} condition values and one "
                      f"more would pass CloudTrail's limit of {MAX_ADVANCED_VALUES}: no selector change planned; make "
                      "room, then run again")
            return
        key, selectors = "AdvancedEventSelectors", merged or [*advanced, MANAGEMENT_SELECTOR]
    else:
        basic = current.basic
        merged = _widened(basic, _widen_basic)
        if merged is None and len(basic) >= MAX_BASIC_SELECTORS:
            plan.note(f"trail {name}: it has {len(basic)} basic event selectors, CloudTrail's limit, and none is a "
                      "management-only selector to widen: no selector change planned; make room (e.g. merge two "
                      "data-event selectors), then run again")
            return
        key, selectors = "EventSelectors", merged or [*basic, ALL_MANAGEMENT]
    plan.add(act("cloudtrail", "PutEventSelectors", {"TrailName": name, key: selectors}, TRAIL_SELECTORS, name,
                 Link.MANAGEMENT_EVENTS, creates=False))


def _widened(selectors: list[dict], widen) -> list[dict] | None:
    """The selectors with the first one ``widen`` can widen widened, the others as they are."""
    for i, s in enumerate(selectors):
        wider = widen(s)
        if wider is not None:
            return [*selectors[:i], wider, *selectors[i + 1:]]
    return None


def _widen_basic(s: dict) -> dict | None:
    """Management only (no data resources: their reads would come too) and narrowed by its read/write
    type alone: the same selector with ``All``."""
    wider = {**s, "ReadWriteType": "All"}
    return wider if not s.get("DataResources") and basic_captures_all(wider) else None


def _widen_advanced(s: dict) -> dict | None:
    """Management events narrowed by ``readOnly`` alone: the same selector without that condition."""
    fields = [f for f in s.get("FieldSelectors", []) if f.get("Field") != "readOnly"]
    wider = {**s, "FieldSelectors": fields}
    return wider if len(fields) < len(s.get("FieldSelectors", [])) and advanced_captures_all(wider) else None


def _values(advanced: list[dict]) -> int:
    """Condition values across the advanced selectors, as CloudTrail counts them against its limit."""
    return sum(len(v) for s in advanced for f in s.get("FieldSelectors", []) for k, v in f.items()
               if k != "Field" and isinstance(v, list))


class _Topic:
    """The account's one monitoring topic, chosen (or planned) once for all alarms."""

    def __init__(self, plan: AccountPlan, ev: AccountEvidence, notify: list[str], existing: Existing) -> None:
        self.plan, self.ev, self.notify, self.existing = plan, ev, notify, existing
        self.chosen, self.arn, self.ref = False, "", ""
        self.subscriptions = [Subscription(s) for s in ev.subscriptions + existing.subscriptions]
        self.actions: list[Action] = []  # what choosing it planned, and said: every finding using it needs them
        self.notes: list[str] = []

    def arn_for(self, region: str) -> tuple[str, str]:
        """The topic's ARN ("" when none can be planned: a note says why) and its logical id when
        this plan creates it."""
        if not self.chosen:
            self.chosen = True
            self._choose(region)
        for action in self.actions:
            self.plan.add(action)
        for text in self.notes:
            self.plan.note(text)
        return self.arn, self.ref

    def _choose(self, region: str) -> None:
        confirmed = sorted({s.topic_arn for s in self.subscriptions if s.confirmed},
                           key=lambda arn: (arn not in self.existing.ours, arn))
        if confirmed:
            self.arn = confirmed[0]
            return
        if (TOPIC, region) in self.existing.unread:
            self.notes.append(f"the topics of {region} could not be listed ({self.existing.unread[TOPIC, region]}): "
                              "no topic or alarm planned, lest it take a name in use")
            return
        taken = self.existing.taken(TOPIC, region)
        partition = _partition(self.ev)
        theirs = {n for n in taken if Topic.arn_of(partition, region, self.ev.account_id, n) not in self.existing.ours}
        name = free_name(TOPIC_NAME, theirs)
        self.arn = Topic.arn_of(partition, region, self.ev.account_id, name)
        act = _actor(self.ev.account_id, region)
        if name not in taken:
            self.actions.append(act("sns", "CreateTopic", {"Name": name, "Tags": [CREATED_BY]}, TOPIC, name,
                                    Link.SUBSCRIBER))
            self.ref = logical_id(TOPIC, name)
        subscribed = {s.endpoint for s in self.subscriptions if s.topic_arn == self.arn}
        for endpoint in self.notify:
            if endpoint not in subscribed:
                self.actions.append(act("sns", "Subscribe", {"TopicArn": self.arn, "Protocol": _protocol(endpoint),
                                                             "Endpoint": endpoint}, SUBSCRIPTION, f"{name} {endpoint}",
                                        Link.SUBSCRIBER, refs={"TopicArn": self.ref} if self.ref else {}))
        pending = sorted(subscribed | set(self.notify))
        if pending:
            self.notes.append(f"topic {name}: subscription(s) of {', '.join(pending)} stay pending until each "
                              "owner confirms (the subscriber link passes only then)")
        else:
            self.notes.append(f"topic {name} has no subscriber: run again with --notify ADDRESS")


def _monitoring(plan: AccountPlan, ev: AccountEvidence, f: Finding, control: Control, bad: set[Link],
                topic: _Topic, group: _Group, existing: Existing) -> None:
    """The benchmark's four steps for the links after the log group."""
    a, rem = f.anchor, control.remediation
    act = _actor(ev.account_id, group.region)
    metric = a.metric
    if Link.METRIC_FILTER in bad or metric is None:
        metric = (rem.namespace, rem.metric_name)
        taken = {x.name for x in map(MetricFilter, ev.metric_filters)
                 if x.log_group == group.name and x.region == group.region}
        name = free_name(rem.filter_name, taken)
        plan.add(act("logs", "PutMetricFilter", {
            "logGroupName": group.name, "filterName": name, "filterPattern": control.intended.canonical,
            "metricTransformations": [{"metricName": rem.metric_name, "metricNamespace": rem.namespace,
                                       "metricValue": "1"}]}, METRIC_FILTER, name, Link.METRIC_FILTER,
            refs={"logGroupName": logical_id(LOG_GROUP, group.name)} if group.planned else {}))
    elif a.alarm and Link.SUBSCRIBER not in bad and not _enabled(ev, a.alarm):
        plan.add(act("cloudwatch", "EnableAlarmActions", {"AlarmNames": [a.alarm]}, ALARM_ACTIONS, a.alarm,
                     Link.ALARM, creates=False))
        return
    arn, ref = topic.arn_for(group.region)
    if not arn:
        return
    if any(x.notifies(arn) and x.actions_enabled and x.region == group.region and x.metric == metric
           for x in map(Alarm, ev.alarms)):
        return  # an alarm on the metric already notifies the topic; only its subscriber's confirmation is missing
    if (ALARM, group.region) in existing.unread:
        plan.note(f"CIS {control.id}: the alarms of {group.region} could not be listed "
                  f"({existing.unread[ALARM, group.region]}): no alarm planned, lest it replace one")
        return
    taken = {x.name for x in map(Alarm, ev.alarms)} | existing.taken(ALARM, group.region)
    alarm = free_name(rem.alarm_name, taken)
    plan.add(act("cloudwatch", "PutMetricAlarm", {
        "AlarmName": alarm, "AlarmDescription": f"CIS {control.id}: {control.title} (rootwatch)",
        "MetricName": metric[1], "Namespace": metric[0], **BENCHMARK_SETTINGS, "TreatMissingData": "notBreaching",
        "ActionsEnabled": True, "AlarmActions": [arn], "Tags": [CREATED_BY]}, ALARM, alarm, Link.ALARM,
        refs={"AlarmActions": ref} if ref else {}))


def _enabled(ev: AccountEvidence, alarm: str) -> bool:
    return any(x.name == alarm and x.actions_enabled for x in map(Alarm, ev.alarms))


def _partition(ev: AccountEvidence) -> str:
    """The partition of the account's own ARNs (``aws-us-gov`` in GovCloud): the audited identity's."""
    return partition_of(ev.caller_arn)


def _actor(account_id: str, region: str, facts: dict | None = None):
    """A maker of this account's and region's actions (``facts``: the trail's, for trail actions)."""
    def act(service: str, operation: str, params: dict, kind: str, name: str, why: Link, creates: bool = True,
            refs: dict[str, str] | None = None, facts: dict | None = facts) -> Action:
        return Action(account_id, region, service, operation, params, kind, name, why, creates, refs or {},
                      facts or {})
    return act


TRAIL_FACTS = ("S3BucketName", "S3KeyPrefix", "IncludeGlobalServiceEvents", "IsMultiRegionTrail",
               "LogFileValidationEnabled", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn", "KmsKeyId",
               "IsOrganizationTrail", "SnsTopicName")


def _trail_facts(trail: Trail) -> dict:
    """The trail's settings as DescribeTrails reports them, and its selectors of the kind it uses: a
    template that takes the trail over must declare them, or applying it would drop them."""
    facts = {k: trail.raw[k] for k in TRAIL_FACTS if trail.raw.get(k) is not None}
    selectors = trail.selectors or Selectors({})
    return {**facts, **({"AdvancedEventSelectors": selectors.advanced} if selectors.advanced else
                        {"EventSelectors": selectors.basic})}


def _protocol(endpoint: str) -> str:
    return "email" if "@" in endpoint else "https" if endpoint.startswith("https://") else "sms"
