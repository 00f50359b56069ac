"""The chain judge, link by link: each link's pass and fail case, and gaps that stay gaps."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.evidence import Gap, RawCall
from rootwatch.judge.chain import FAIL, GAP, PASS, judge_account
from rootwatch.models import CHAIN_LINKS, Link, Window

ACCOUNT, REGION = "111122223333", "us-east-1"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"
GROUP = "cloudtrail-logs"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
REF = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
WINDOW = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def _call(seq: int, service: str, operation: str, **params) -> RawCall:
    return RawCall(seq, ACCOUNT, REGION, service, operation, params, WINDOW.start)


def healthy() -> AccountEvidence:
    ev = AccountEvidence("acct", ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/x", [REGION], WINDOW)
    ev.trails = [{"Name": "main", "TrailARN": TRAIL_ARN, "HomeRegion": REGION, "IsMultiRegionTrail": True,
                  "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
                  "rw:seenIn": [REGION], "rw:status": {"IsLogging": True},
                  "rw:selectors": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}}]
    ev.metric_filters = [{"filterName": "root", "logGroupName": GROUP, "filterPattern": REF, "rw:region": REGION,
                          "rw:accountId": ACCOUNT, "metricTransformations": [
                              {"metricName": "RootUsage", "metricNamespace": "CISBenchmark", "metricValue": "1"}]}]
    ev.alarms = [{"AlarmName": "root-alarm", "Namespace": "CISBenchmark", "MetricName": "RootUsage",
                  "ActionsEnabled": True, "AlarmActions": [TOPIC], "Statistic": "Sum", "Period": 300,
                  "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1,
                  "rw:region": REGION}]
    ev.subscriptions = [{"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com",
                         "rw:topicArn": TOPIC, "rw:attributes": {}}]
    ev.topic_attributes = {TOPIC: {"TopicArn": TOPIC}}
    ev.calls = [_call(1, "sts", "GetCallerIdentity"), _call(2, "cloudtrail", "DescribeTrails"),
                _call(3, "cloudtrail", "GetTrailStatus", Name=TRAIL_ARN),
                _call(4, "cloudtrail", "GetEventSelectors", TrailName=TRAIL_ARN),
                _call(5, "logs", "DescribeMetricFilters", logGroupName=GROUP),
                _call(6, "cloudwatch", "DescribeAlarmsForMetric", MetricName="RootUsage", Namespace="CISBenchmark"),
                _call(7, "sns", "ListSubscriptionsByTopic", TopicArn=TOPIC),
                _call(8, "sns", "GetTopicAttributes", TopicArn=TOPIC),
                _call(9, "sns", "GetSubscriptionAttributes", SubscriptionArn=f"{TOPIC}:1b2c")]
    return ev


def verdicts(ev: AccountEvidence, catalog) -> dict[Link | str, tuple[str, str]]:
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    return {link.link: (link.status, link.reason) for link in finding.links} | {"*": (finding.status, "")}


def test_healthy_chain_passes_every_link_with_evidence(catalog):
    finding = judge_account(healthy(), catalog.control("4.3"), catalog)
    assert finding.status == PASS and [link.link for link in finding.links] == list(CHAIN_LINKS)
    assert all(link.status == PASS and link.evidence for link in finding.links)
    assert finding.links[4].evidence == (f"raw/{ACCOUNT}/{REGION}/0005-logs.DescribeMetricFilters.json",)
    assert [n.split(":")[0] for n in finding.notes] == ["caveat of the benchmark's pattern"]  # 4.3's invokedBy caveat


def _mutate(change):
    ev = healthy()
    change(ev)
    return ev


FAILS = {
    "single-region trail": (lambda ev: ev.trails[0].update(IsMultiRegionTrail=False), Link.TRAIL,
                            "only its home region"),
    "no log delivery": (lambda ev: ev.trails[0].pop("CloudWatchLogsLogGroupArn"), Link.TRAIL, "delivers to no"),
    "no trail": (lambda ev: ev.trails.clear(), Link.TRAIL, "no CloudTrail trail"),
    "logging off": (lambda ev: ev.trails[0]["rw:status"].update(IsLogging=False), Link.LOGGING, "not logging"),
    "write-only": (lambda ev: ev.trails[0]["rw:selectors"]["EventSelectors"][0].update(ReadWriteType="WriteOnly"),
                   Link.MANAGEMENT_EVENTS, "no selector captures"),
    "no management events": (lambda ev: ev.trails[0]["rw:selectors"]["EventSelectors"][0].update(
        IncludeManagementEvents=False), Link.MANAGEMENT_EVENTS, "no selector captures"),
    "KMS excluded": (lambda ev: ev.trails[0]["rw:selectors"]["EventSelectors"][0].update(
        ExcludeManagementEventSources=["kms.amazonaws.com"]), Link.MANAGEMENT_EVENTS,
        "excludes the management events of kms.amazonaws.com (root's ScheduleKeyDeletion on a KMS key would not be "
        "logged)"),
    "advanced, RDS Data API excluded": (lambda ev: ev.trails[0].update({"rw:selectors": {"AdvancedEventSelectors": [
        {"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                            {"Field": "eventSource", "NotEquals": ["rdsdata.amazonaws.com"]}]}]}}),
        Link.MANAGEMENT_EVENTS, "advanced selector 'mgmt' narrows management events by eventSource (NotEquals "
        "['rdsdata.amazonaws.com']) (root's ExecuteStatement through the RDS Data API would not be logged)"),
    "advanced, writes only": (lambda ev: ev.trails[0].update({"rw:selectors": {"AdvancedEventSelectors": [
        {"Name": "w", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                         {"Field": "readOnly", "Equals": ["false"]}]}]}}),
        Link.MANAGEMENT_EVENTS, "narrows management events by readOnly (Equals ['false'])"),
    "no filter": (lambda ev: ev.metric_filters.clear(), Link.METRIC_FILTER, "no metric filter"),
    "blind spot": (lambda ev: ev.metric_filters[0].update(filterPattern=REF[:-1] + '&& $.eventName != "ConsoleLogin" }'),
                   Link.METRIC_FILTER, 'eventName="ConsoleLogin"'),
    "noisy": (lambda ev: ev.metric_filters[0].update(filterPattern=REF.replace("&& $.userIdentity.invokedBy",
                                                                               "|| $.userIdentity.invokedBy")),
              Link.METRIC_FILTER, "ordinary activity"),
    "invalid pattern": (lambda ev: ev.metric_filters[0].update(filterPattern="{ $.a == 1 }"), Link.METRIC_FILTER,
                        "'=='"),
    "no alarm": (lambda ev: ev.alarms.clear(), Link.ALARM, "no alarm on metric CISBenchmark/RootUsage"),
    "alarm on another namespace": (lambda ev: ev.alarms[0].update(Namespace="Other"), Link.ALARM, "no alarm on metric"),
    "actions disabled": (lambda ev: ev.alarms[0].update(ActionsEnabled=False), Link.ALARM, "actions disabled"),
    "no SNS action": (lambda ev: ev.alarms[0].update(AlarmActions=["arn:aws:lambda:us-east-1:1:function:f"]),
                      Link.ALARM, "notifies no SNS topic"),
    "pending subscriber": (lambda ev: ev.subscriptions[0].update(SubscriptionArn="PendingConfirmation"),
                           Link.SUBSCRIBER, "PendingConfirmation"),
    "no subscriber": (lambda ev: ev.subscriptions.clear(), Link.SUBSCRIBER, "no subscriber"),
}


@pytest.mark.parametrize("case", sorted(FAILS))
def test_each_link_fails_for_its_reason(catalog, case):
    change, link, text = FAILS[case]
    result = verdicts(_mutate(change), catalog)
    assert result["*"][0] == FAIL
    assert result[link][0] == FAIL and text in result[link][1], result[link]
    before = CHAIN_LINKS[:CHAIN_LINKS.index(link)]
    assert all(result[name][0] == PASS for name in before if case not in ("no trail", "no log delivery"))


# Issue 17 family 2 and 3: settings that keep one root event from bringing the alarm to ALARM. Each
# passed before with a "deviation" note; the alarm simulator fails them, naming the setting.
CANNOT_FIRE = {
    "threshold above one event": (lambda ev: ev.alarms[0].update(Threshold=2.0), "Threshold"),
    "greater than one": (lambda ev: ev.alarms[0].update(ComparisonOperator="GreaterThanThreshold"),
                         "ComparisonOperator"),
    "less than": (lambda ev: ev.alarms[0].update(ComparisonOperator="LessThanThreshold"), "ComparisonOperator"),
    "2 of 3, missing not breaching": (lambda ev: ev.alarms[0].update(EvaluationPeriods=3, DatapointsToAlarm=2,
                                                                     TreatMissingData="notBreaching"),
                                      "DatapointsToAlarm"),
    "metric value 0": (lambda ev: ev.metric_filters[0]["metricTransformations"][0].update(metricValue="0"),
                       "metricValue"),
    "metric value from an absent field": (
        lambda ev: ev.metric_filters[0]["metricTransformations"][0].update(metricValue="$.noSuchField"),
        "metricValue"),
}


@pytest.mark.parametrize("case", sorted(CANNOT_FIRE))
def test_an_alarm_one_event_cannot_fire_fails_naming_the_setting(catalog, case):
    change, setting = CANNOT_FIRE[case]
    result = verdicts(_mutate(change), catalog)
    status, reason = result[Link.ALARM]
    assert status == FAIL and result["*"][0] == FAIL, reason
    assert "cannot go to ALARM on one root event" in reason and setting in reason, reason


@pytest.mark.parametrize(("change", "note"), [
    (lambda ev: ev.alarms[0].update(Threshold=0.0, ComparisonOperator="GreaterThanThreshold"), None),  # > 0
    (lambda ev: ev.alarms[0].update(EvaluationPeriods=3, DatapointsToAlarm=1), None),  # 1 of 3
    (lambda ev: ev.alarms[0].update(Period=3600, Statistic="Average"), None),  # Average over an hour
    (lambda ev: ev.alarms[0].update(EvaluationPeriods=3, DatapointsToAlarm=3), "min later"),  # premature-alarm rule
], ids=["greater than 0", "1 of 3", "average over an hour", "3 of 3, missing data"])
def test_an_alarm_that_fires_on_one_event_passes_whatever_its_settings(catalog, change, note):
    ev = _mutate(change)
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    alarm = next(link for link in finding.links if link.link is Link.ALARM)
    assert alarm.status == PASS and "one root event brings it to ALARM" in alarm.reason, alarm.reason
    assert note is None or any(note in n for n in finding.notes), finding.notes


def test_an_alarm_the_simulator_cannot_model_is_a_gap_never_a_pass(catalog):
    ev = _mutate(lambda ev: ev.alarms[0].update(ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
                                                ThresholdMetricId="ad1"))
    status, reason = verdicts(ev, catalog)[Link.ALARM]
    assert status == GAP and "cannot be told" in reason, reason


def test_alarm_deviations_are_notes_not_failures(catalog):
    ev = _mutate(lambda ev: ev.alarms[0].update(Period=3600, Statistic="Maximum"))
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    assert finding.status == PASS
    assert any("Period is 3600" in n for n in finding.notes) and any("Statistic is 'Maximum'" in n for n in finding.notes)


def test_best_chain_is_reported_when_siblings_are_broken(catalog):
    def add_broken_sibling(ev):
        ev.alarms.insert(0, {**ev.alarms[0], "AlarmName": "old", "ActionsEnabled": False})
        ev.trails.insert(0, {**copy.deepcopy(ev.trails[0]), "Name": "legacy", "TrailARN": TRAIL_ARN + "-legacy",
                             "IsMultiRegionTrail": False})
    assert verdicts(_mutate(add_broken_sibling), catalog)["*"][0] == PASS


def _gap(link: Link, service: str, operation: str, code: str = "AccessDenied", seq: int = 9) -> Gap:
    return Gap(ACCOUNT, REGION, link, service, operation, code, "not authorized",
               f"raw/{ACCOUNT}/{REGION}/{seq:04d}-{service}.{operation}.json")


# Each link of the chain, the call that reads it (its seq in ``healthy``) and what an unread call leaves
# behind: a gap recorded on that link, with that call's file, must be routed to that link.
READS = {
    Link.TRAIL: ("cloudtrail", "DescribeTrails", 2, lambda ev: ev.trails.clear()),
    Link.LOGGING: ("cloudtrail", "GetTrailStatus", 3, lambda ev: ev.trails[0].update({"rw:status": None})),
    Link.MANAGEMENT_EVENTS: ("cloudtrail", "GetEventSelectors", 4,
                             lambda ev: ev.trails[0].update({"rw:selectors": None})),
    Link.LOG_GROUP: ("logs", "DescribeMetricFilters", 5, lambda ev: ev.metric_filters.clear()),
    Link.METRIC_FILTER: ("logs", "DescribeMetricFilters", 5, lambda ev: ev.metric_filters.clear()),
    Link.ALARM: ("cloudwatch", "DescribeAlarmsForMetric", 6, lambda ev: ev.alarms.clear()),
    Link.SUBSCRIBER: ("sns", "ListSubscriptionsByTopic", 7, lambda ev: ev.subscriptions.clear()),
}


def test_every_link_of_the_chain_has_a_read_below():
    assert list(READS) == list(CHAIN_LINKS)


@pytest.mark.parametrize("link", CHAIN_LINKS, ids=lambda link: link.id)
def test_a_gap_on_each_link_is_routed_to_gap_never_pass_or_fail(catalog, link):
    service, operation, seq, unread = READS[link]
    ev = _mutate(lambda ev: (unread(ev), ev.gaps.append(_gap(link, service, operation, seq=seq))))
    result = verdicts(ev, catalog)
    assert result[link][0] == GAP, result[link]
    assert "AccessDenied" in result[link][1] or "could not be read" in result[link][1]
    if link in (Link.LOGGING, Link.MANAGEMENT_EVENTS):  # nothing downstream depends on them
        assert [name for name in CHAIN_LINKS if result[name][0] != PASS] == [link]
    else:  # everything downstream depends on the unreadable link
        assert all(result[name][0] == GAP for name in CHAIN_LINKS[CHAIN_LINKS.index(link):])
    assert result["*"][0] == GAP  # a gap alone makes the account GAP, not PASS and not FAIL


def test_an_unreadable_account_is_a_gap_on_every_link(catalog):
    ev = _mutate(lambda ev: (ev.trails.clear(), ev.gaps.append(_gap(Link.IDENTITY, "sts", "AssumeRole", seq=1))))
    result = verdicts(ev, catalog)
    assert all(result[name][0] == GAP and "AccessDenied" in result[name][1] for name in CHAIN_LINKS)
    assert result["*"][0] == GAP


def test_a_gap_cannot_name_a_link_by_text():
    """A link spelt as text could be one no judge routes ("log-groups"): it is refused where it is written."""
    with pytest.raises(TypeError):
        Gap(ACCOUNT, REGION, "log-groups", "logs", "DescribeMetricFilters", "AccessDenied", "not authorized", "")


def test_a_gap_beside_a_failure_is_still_a_failure(catalog):
    ev = _mutate(lambda ev: (ev.alarms[0].update(ActionsEnabled=False), ev.subscriptions.clear(),
                             ev.gaps.append(_gap(Link.SUBSCRIBER, "sns", "ListSubscriptionsByTopic", seq=7))))
    result = verdicts(ev, catalog)
    assert result["*"][0] == FAIL and result[Link.SUBSCRIBER][0] == GAP


@pytest.mark.parametrize("partition", ["aws-us-gov", "aws-cn"])
def test_a_chain_in_another_partition_passes(catalog, partition):
    """GovCloud and China alarms notify arn:aws-us-gov:sns: and arn:aws-cn:sns: topics: still SNS topics."""
    ev = healthy()
    for raw in (ev.trails[0], ev.alarms[0], ev.subscriptions[0]):
        text = json.dumps(raw).replace("arn:aws:", f"arn:{partition}:")
        raw.clear()
        raw.update(json.loads(text))
    topic = ev.alarms[0]["AlarmActions"][0]
    ev.topic_attributes = {topic: {"TopicArn": topic}}
    for call in ev.calls[-3:-1]:
        call.params["TopicArn"] = topic
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    assert finding.status == PASS, [(v.link.id, v.reason) for v in finding.failing]
    assert finding.anchor.topics == (f"arn:{partition}:sns:{REGION}:{ACCOUNT}:alerts",)


MANAGEMENT = "999999999999"


def _member_of_org() -> AccountEvidence:
    """A member whose only trail is the organization trail, delivering to the management account."""
    ev = healthy()
    ev.trails[0].update(TrailARN=f"arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/org", Name="org",
                        IsOrganizationTrail=True,
                        CloudWatchLogsLogGroupArn=f"arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:{GROUP}:*")
    ev.metric_filters, ev.alarms, ev.subscriptions = [], [], []
    return ev


def _management() -> AccountEvidence:
    owner = healthy()
    owner.account_id, owner.label = MANAGEMENT, "management"
    owner.calls = [RawCall(c.seq, MANAGEMENT, c.region, c.service, c.operation, c.params, c.started)
                   for c in owner.calls]
    return owner


def test_organization_trail_is_judged_where_its_log_group_lives(catalog):
    member, owner = _member_of_org(), _management()
    finding = judge_account(member, catalog.control("4.3"), catalog, {MANAGEMENT: owner, ACCOUNT: member})
    assert finding.status == PASS
    assert MANAGEMENT in finding.links[3].reason and "owner of organization trail org" in finding.links[3].reason
    assert finding.links[4].evidence[0].startswith(f"raw/{MANAGEMENT}/")


def test_organization_trail_with_unreadable_owner_is_a_gap(catalog):
    member, owner = _member_of_org(), _management()
    owner.caller_arn, owner.trails = None, []
    owner.gaps = [Gap(MANAGEMENT, REGION, Link.IDENTITY, "sts", "AssumeRole", "AccessDenied", "not authorized",
                      f"raw/{MANAGEMENT}/{REGION}/0001-sts.AssumeRole.json")]
    finding = judge_account(member, catalog.control("4.3"), catalog, {MANAGEMENT: owner})
    assert finding.status == GAP and all(link.status == GAP for link in finding.links[3:])
    assert "could not be read" in finding.links[3].reason and "AccessDenied" in finding.links[3].reason
    alone = judge_account(member, catalog.control("4.3"), catalog)
    assert alone.status == GAP and "not part of this run" in alone.links[3].reason


def test_sns_not_found_for_the_audited_accounts_topic_is_a_definite_no(catalog):
    """Issue 17 family 4: NotFound for a topic of the audited account means no topic, so no one is
    told (FAIL); the same answer about another account's topic may only mean we cannot see it (GAP)."""
    ev = _mutate(lambda ev: (ev.subscriptions.clear(), ev.gaps.append(_gap(Link.SUBSCRIBER, "sns",
                                                                         "ListSubscriptionsByTopic", "NotFound", 7))))
    status, reason = verdicts(ev, catalog)[Link.SUBSCRIBER]
    assert status == FAIL and "does not exist" in reason and TOPIC in reason, reason
    elsewhere = TOPIC.replace(f":{ACCOUNT}:", ":999999999999:")
    ev = _mutate(lambda ev: (ev.subscriptions.clear(), ev.alarms[0].update(AlarmActions=[elsewhere]),
                             ev.calls.__setitem__(6, _call(7, "sns", "ListSubscriptionsByTopic", TopicArn=elsewhere)),
                             ev.gaps.append(_gap(Link.SUBSCRIBER, "sns", "ListSubscriptionsByTopic", "NotFound", 7))))
    assert verdicts(ev, catalog)[Link.SUBSCRIBER][0] == GAP
