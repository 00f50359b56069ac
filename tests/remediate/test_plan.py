"""The plan from evidence: the benchmark's steps with the account's names, only adding (selectors
merged, names in use never written), one topic for all alarms, trail fixes through a delivery role
the account already has — and nothing when all passes."""

from __future__ import annotations

import copy

import pytest

from rootwatch.judge.chain import FAIL, PASS, judge_all
from rootwatch.models import Link
from rootwatch.remediate.actions import ALARM, CREATED_BY, LOG_GROUP, TOPIC
from rootwatch.remediate.existing import DeliveryRole, Existing, Wanted
from rootwatch.remediate import render
from rootwatch.remediate.plan import (
    MANAGEMENT_SELECTOR,
    TOPIC_NAME,
    advise,
    plan_account,
    wanted,
)

HEALTHY, DRIFTED = "111111111111", "222222222222"
REGION = "us-east-1"
ROLE = DeliveryRole("CloudTrail_CloudWatchLogs_Role", f"arn:aws:iam::{DRIFTED}:role/CloudTrail_CloudWatchLogs_Role")
DATA_EVENTS = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "ExcludeManagementEventSources": [],
               "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::drifted-payroll/"]},
                                 {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}
S3_ADVANCED = {"Name": "payroll objects", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::drifted-payroll/"]}]}


@pytest.fixture(scope="module")
def controls(catalog):
    return catalog.controls()


def _plan(ev, controls, notify=(), existing=None):
    return plan_account(ev, judge_all([ev], controls), {c.id: c for c in controls}, list(notify), existing)


def _calls(plan):
    return [(a.operation, a.name) for a in plan.actions]


def _selectors(ev, selectors):
    """The drifted account with its trail's selectors replaced (GetEventSelectors' answer)."""
    ev = copy.deepcopy(ev)
    ev.trails[0]["rw:selectors"] = selectors
    return ev


def _put_selectors(plan):
    [put] = [a for a in plan.actions if a.operation == "PutEventSelectors"]
    return put.params


def test_a_passing_account_gets_no_plan(evidence, controls):
    plan = _plan(evidence[HEALTHY], controls)
    assert plan.actions == [] and plan.notes == []
    assert wanted(evidence[HEALTHY], judge_all([evidence[HEALTHY]], controls), {c.id: c for c in controls}).empty


def test_drifted_account_gets_filters_beside_its_own_and_reuses_the_confirmed_topic(evidence, controls):
    plan = _plan(evidence[DRIFTED], controls)
    calls = _calls(plan)
    assert ("PutMetricFilter", "cis-4.3-root-account-usage") in calls  # its RootUsage filter is left alone
    assert ("PutMetricFilter", "cis-4.1-unauthorized-api-calls-rootwatch") in calls  # name taken: never replaced
    [alarm] = [a for a in plan.actions if a.operation == "PutMetricAlarm"]
    assert alarm.params["AlarmActions"] == [f"arn:aws:sns:us-east-1:{DRIFTED}:security-alerts"]
    assert (alarm.params["Statistic"], alarm.params["Period"], alarm.params["Threshold"]) == ("Sum", 300, 1.0)
    assert alarm.params["Tags"] == [CREATED_BY]
    assert not any(a.operation in ("CreateTopic", "Subscribe", "EnableAlarmActions") for a in plan.actions)
    pattern = next(a for a in plan.actions if a.name == "cis-4.3-root-account-usage").params["filterPattern"]
    assert "ConsoleLogin" not in pattern and '"Root"' in pattern


def test_without_a_confirmed_subscriber_one_topic_is_created_and_the_subscription_stays_pending(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.subscriptions = []
    plan = _plan(ev, controls, notify=["secops@example.com"])
    assert [c for c in _calls(plan) if c[0] in ("CreateTopic", "Subscribe")] == [
        ("CreateTopic", TOPIC_NAME), ("Subscribe", f"{TOPIC_NAME} secops@example.com")]
    assert next(a for a in plan.actions if a.operation == "CreateTopic").params["Tags"] == [CREATED_BY]
    alarm = next(a for a in plan.actions if a.operation == "PutMetricAlarm")
    assert alarm.params["AlarmActions"] == [f"arn:aws:sns:us-east-1:{DRIFTED}:{TOPIC_NAME}"]
    assert any("stay pending until" in n for n in plan.notes)
    assert not any("secops" in n for n in _plan(ev, controls).notes)  # without --notify it says who is missing
    assert any("--notify" in n for n in _plan(ev, controls).notes)


# --- issue 15, 3: what rootwatch did not create stays as it was ------------------------------------------------
def test_an_alarm_name_in_use_is_never_written(evidence, controls):
    """A billing alarm that happens to carry the catalog's alarm name (the audit never sees it: it is on
    another metric) keeps it: PutMetricAlarm would have replaced it, action and all."""
    ev = copy.deepcopy(evidence[DRIFTED])
    taken = frozenset({"cis-4.3-root-account-usage", "cis-4.3-root-account-usage-rootwatch", "billing-spike"})
    plan = _plan(ev, controls, existing=Existing({(ALARM, REGION): taken}))
    [alarm] = [a for a in plan.actions if a.operation == "PutMetricAlarm"]
    assert alarm.name == alarm.params["AlarmName"] == "cis-4.3-root-account-usage-rootwatch-2"
    assert not any(a.name in taken for a in plan.actions if a.kind == ALARM)


def test_a_topic_name_in_use_is_reused_only_when_rootwatch_made_it(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.subscriptions = []
    theirs = Existing({(TOPIC, REGION): frozenset({TOPIC_NAME})})
    plan = _plan(ev, controls, ["secops@example.com"], theirs)
    name = f"{TOPIC_NAME}-rootwatch"
    assert [c for c in _calls(plan) if c[0] in ("CreateTopic", "Subscribe")] == [
        ("CreateTopic", name), ("Subscribe", f"{name} secops@example.com")]
    ours_arn = f"arn:aws:sns:{REGION}:{DRIFTED}:{TOPIC_NAME}"
    ours = Existing({(TOPIC, REGION): frozenset({TOPIC_NAME})}, ours=frozenset({ours_arn}), subscriptions=[
        {"rw:topicArn": ours_arn, "Endpoint": "secops@example.com", "SubscriptionArn": "PendingConfirmation"}])
    plan = _plan(ev, controls, ["secops@example.com"], ours)
    assert not any(a.operation in ("CreateTopic", "Subscribe") for a in plan.actions)  # made and subscribed before
    assert next(a for a in plan.actions if a.operation == "PutMetricAlarm").params["AlarmActions"] == [ours_arn]


def test_names_that_could_not_be_read_are_not_written(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.subscriptions = []
    why = "DescribeAlarms failed with AccessDenied: no"
    plan = _plan(ev, controls, existing=Existing(unread={(ALARM, REGION): why}))
    assert not any(a.operation == "PutMetricAlarm" for a in plan.actions)
    assert any(why in n and "lest it replace one" in n for n in plan.notes)
    plan = _plan(ev, controls, existing=Existing(unread={(TOPIC, REGION): "ListTopics failed"}))
    assert not any(a.operation in ("CreateTopic", "PutMetricAlarm") for a in plan.actions)


def test_basic_selectors_keep_every_data_event_and_gain_all_management_events(evidence, controls):
    """Issue 15: PutEventSelectors replaced the trail's selectors, and its S3 and Lambda data events with them."""
    excluding = {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                 "ExcludeManagementEventSources": ["kms.amazonaws.com"]}
    ev = _selectors(evidence[DRIFTED], {"EventSelectors": [DATA_EVENTS, excluding]})
    [finding] = [f for f in judge_all([ev], controls) if f.control == "4.3"]
    assert finding.links[2].status == FAIL  # the KMS exclusion: not every management event (CIS 4.7 reads KMS)
    assert _put_selectors(_plan(ev, controls)) == {
        "TrailName": "main-trail", "EventSelectors": [DATA_EVENTS, excluding,
                                                      {"ReadWriteType": "All", "IncludeManagementEvents": True}]}
    write_only = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}
    ev = _selectors(evidence[DRIFTED], {"EventSelectors": [DATA_EVENTS, write_only]})
    assert _put_selectors(_plan(ev, controls))["EventSelectors"] == [  # a management-only selector widened in place
        DATA_EVENTS, {**write_only, "ReadWriteType": "All"}]


def test_advanced_selectors_are_kept_and_a_management_selector_added(evidence, controls):
    reads = {"Name": "management reads", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                            {"Field": "readOnly", "Equals": ["true"]}]}
    no_kms = {"Name": "no KMS", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]},
                                                   {"Field": "eventSource", "NotEquals": ["kms.amazonaws.com"]}]}
    ev = _selectors(evidence[DRIFTED], {"AdvancedEventSelectors": [S3_ADVANCED, no_kms]})
    assert _put_selectors(_plan(ev, controls)) == {"TrailName": "main-trail",
                                                   "AdvancedEventSelectors": [S3_ADVANCED, no_kms, MANAGEMENT_SELECTOR]}
    ev = _selectors(evidence[DRIFTED], {"AdvancedEventSelectors": [S3_ADVANCED, reads]})
    assert _put_selectors(_plan(ev, controls))["AdvancedEventSelectors"] == [
        S3_ADVANCED, {"Name": "management reads", "FieldSelectors": reads["FieldSelectors"][:1]}]
    [finding] = [f for f in judge_all([ev], controls) if f.control == "4.3"]
    assert finding.links[2].status == FAIL


def test_cloudtrails_selector_limits_are_a_refusal_not_a_failed_call(evidence, controls):
    full = _selectors(evidence[DRIFTED], {"EventSelectors": [DATA_EVENTS] * 5})
    plan = _plan(full, controls)
    assert not any(a.operation == "PutEventSelectors" for a in plan.actions)
    assert any("5 basic event selectors, CloudTrail's limit" in n for n in plan.notes)
    values = [{"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::b{i}/" for i in range(498)]}]
    crowded = {"Name": "many", "FieldSelectors": S3_ADVANCED["FieldSelectors"][:2] + values}
    plan = _plan(_selectors(evidence[DRIFTED], {"AdvancedEventSelectors": [crowded]}), controls)
    assert not any(a.operation == "PutEventSelectors" for a in plan.actions)
    assert any("500 condition values" in n and "CloudTrail's limit of 500" in n for n in plan.notes)


# --- trail fixes ------------------------------------------------------------------------------------------------
def _undelivered(evidence):
    ev = copy.deepcopy(evidence[DRIFTED])
    [trail] = ev.trails
    trail["rw:status"]["IsLogging"] = False
    trail["rw:selectors"] = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}
    trail["IsMultiRegionTrail"] = False
    del trail["CloudWatchLogsLogGroupArn"]
    return ev


def test_trail_fixes_start_logging_select_management_events_and_deliver_through_the_named_role(evidence, controls):
    ev = _undelivered(evidence)
    group = f"aws-cloudtrail-logs-{DRIFTED}"
    plan = _plan(ev, controls, existing=Existing({(LOG_GROUP, REGION): frozenset({group})}, role=ROLE))
    calls = _calls(plan)
    assert calls[:2] == [("StartLogging", "main-trail"), ("PutEventSelectors", "main-trail")]
    assert ("CreateLogGroup", f"{group}-rootwatch") in calls  # the group of that name is someone else's
    assert not any(a.service == "iam" for a in plan.actions)  # rootwatch creates no role
    update = next(a for a in plan.actions if a.operation == "UpdateTrail")
    assert update.params["IsMultiRegionTrail"] is True and update.params["CloudWatchLogsLogGroupArn"].endswith(
        f":log-group:{group}-rootwatch:*") and update.params["CloudWatchLogsRoleArn"] == ROLE.arn
    assert len([c for c in calls if c[0] == "UpdateTrail"]) == 1  # once, whatever the number of controls
    assert {a.params["logGroupName"] for a in plan.actions if a.operation == "PutMetricFilter"} == {f"{group}-rootwatch"}
    names = judge_all([ev], controls), {c.id: c for c in controls}
    assert wanted(ev, *names) == Wanted(frozenset({REGION}), "cis-4.", TOPIC_NAME, group, frozenset({REGION}))


@pytest.mark.parametrize("role, why", [(None, "no delivery role is named"),
                                       (DeliveryRole("Missing", problem="does not exist"),
                                        "delivery role Missing does not exist")])
def test_delivery_without_a_usable_role_is_refused_with_one_note(evidence, controls, role, why):
    plan = _plan(_undelivered(evidence), controls, existing=Existing(role=role))
    assert not any(a.operation in ("CreateLogGroup", "PutMetricFilter", "PutMetricAlarm") for a in plan.actions)
    assert "CloudWatchLogsRoleArn" not in next(a for a in plan.actions if a.operation == "UpdateTrail").params
    [note] = [n for n in plan.notes if "delivers to no CloudWatch Logs group" in n]
    assert why in note and "delivery_role" in note


def test_an_account_without_a_trail_is_told_what_to_create(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.trails = []
    plan = _plan(ev, controls)
    assert plan.actions == [] and len(plan.notes) == 1 and "create-trail" in plan.notes[0]


def test_the_management_link_passes_only_for_every_management_event(evidence, controls):
    verdicts = {}
    for label, selectors in {"all": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]},
                             "advanced": {"AdvancedEventSelectors": [S3_ADVANCED, MANAGEMENT_SELECTOR]},
                             "no kms": {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True,
                                                            "ExcludeManagementEventSources": ["kms.amazonaws.com"]}]},
                             }.items():
        [finding] = [f for f in judge_all([_selectors(evidence[DRIFTED], selectors)], controls) if f.control == "4.3"]
        verdicts[label] = next(v.status for v in finding.links if v.link is Link.MANAGEMENT_EVENTS)
    assert verdicts == {"all": PASS, "advanced": PASS, "no kms": FAIL}


def test_the_drifted_accounts_report_advises_exactly_the_remediation_plan(as_aws, evidence):
    """The evidence workbook's remediation (report, findings.json) is the plan `rootwatch remediate`
    makes, in its CLI form: never the account's own filter or alarm names, which it would overwrite."""
    from rootwatch.notebook import workbook
    from rootwatch.remediate import apply as remediate

    params = {"source": "aws", "accounts": [as_aws[DRIFTED]], "regions": [REGION],
              "window": {"start": "2026-07-04", "end": "2026-10-01"}}
    run = workbook.start(params)
    finding = run.finding(DRIFTED)
    assert finding.status == FAIL and finding.remediation
    [plan] = remediate.start(params).plans
    advised = "\n".join(f"# {s.title}\n{s.command}" for s in finding.remediation)
    assert advised == render.cli(plan.actions)
    own = {f["filterName"] for f in evidence[DRIFTED].metric_filters} | \
        {a["AlarmName"] for a in evidence[DRIFTED].alarms}
    written = {a.params.get("filterName") or a.params.get("AlarmName") for a in plan.actions}
    assert own and not own & written
    assert "names checked against the audit's evidence only" in " ".join(finding.remediation_notes)


def test_each_failing_finding_is_advised_its_part_of_one_plan(evidence, controls):
    """Shared changes (the trail's, the one topic) are advised to every finding that needs them, made once."""
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.subscriptions = []  # no confirmed topic: one is created, for every alarm
    findings = judge_all([ev], controls)
    plan = plan_account(ev, findings, {c.id: c for c in controls}, [])
    advise(findings, plan)
    failing = [f for f in findings if f.status == FAIL]
    assert len(failing) == 15 and all(f.remediation for f in failing)
    topic = [s for s in failing[0].remediation if "create-topic" in s.command]
    assert topic and all(topic[0] in f.remediation for f in failing)
    steps = list(dict.fromkeys(s for f in failing for s in f.remediation))
    assert "\n".join(f"# {s.title}\n{s.command}" for s in steps) == render.cli(plan.actions)
