"""The plan from evidence: the benchmark's steps with the account's names, only adding and
strengthening, one topic for all alarms, trail fixes — and nothing when all passes."""

from __future__ import annotations

import copy
import json

import pytest

from rootwatch.judge import judge_all
from rootwatch.remediate.plan import ROLE_NAME, TOPIC_NAME, plan_account

HEALTHY, DRIFTED = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def controls(catalog):
    return catalog.controls()


def _plan(ev, controls, notify=()):
    return plan_account(ev, judge_all([ev], controls), {c.id: c for c in controls}, list(notify))


def _calls(plan):
    return [(a.operation, a.name) for a in plan.actions]


def test_a_passing_account_gets_no_plan(evidence, controls):
    plan = _plan(evidence[HEALTHY], controls)
    assert plan.actions == [] and plan.notes == []


def test_drifted_account_gets_filters_beside_its_own_and_reuses_the_confirmed_topic(evidence, controls):
    plan = _plan(evidence[DRIFTED], controls)
    calls = _calls(plan)
    assert ("PutMetricFilter", "cis-4.3-root-account-usage") in calls  # its RootUsage filter is left alone
    assert ("PutMetricFilter", "cis-4.1-unauthorized-api-calls-rootwatch") in calls  # name taken: never replaced
    [alarm] = [a for a in plan.actions if a.operation == "PutMetricAlarm"]
    assert alarm.params["AlarmActions"] == [f"arn:aws:sns:us-east-1:{DRIFTED}:security-alerts"]
    assert (alarm.params["Statistic"], alarm.params["Period"], alarm.params["Threshold"]) == ("Sum", 300, 1.0)
    assert not any(a.operation in ("CreateTopic", "Subscribe", "EnableAlarmActions") for a in plan.actions)
    pattern = next(a for a in plan.actions if a.name == "cis-4.3-root-account-usage").params["filterPattern"]
    assert "ConsoleLogin" not in pattern and '"Root"' in pattern


def test_without_a_confirmed_subscriber_one_topic_is_created_and_the_subscription_stays_pending(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.subscriptions = []
    plan = _plan(ev, controls, notify=["secops@example.com"])
    assert [c for c in _calls(plan) if c[0] in ("CreateTopic", "Subscribe")] == [
        ("CreateTopic", TOPIC_NAME), ("Subscribe", f"{TOPIC_NAME} secops@example.com")]
    alarm = next(a for a in plan.actions if a.operation == "PutMetricAlarm")
    assert alarm.params["AlarmActions"] == [f"arn:aws:sns:us-east-1:{DRIFTED}:{TOPIC_NAME}"]
    assert any("stay pending until" in n for n in plan.notes)
    assert not any("secops" in n for n in _plan(ev, controls).notes)  # without --notify it says who is missing
    assert any("--notify" in n for n in _plan(ev, controls).notes)


def test_trail_fixes_start_logging_select_management_events_and_deliver_to_logs(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    [trail] = ev.trails
    trail["rw:status"]["IsLogging"] = False
    trail["rw:selectors"] = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}
    trail["IsMultiRegionTrail"] = False
    del trail["CloudWatchLogsLogGroupArn"]
    plan = _plan(ev, controls)
    calls = _calls(plan)
    assert calls[:2] == [("StartLogging", "main-trail"), ("PutEventSelectors", "main-trail")]
    group = f"aws-cloudtrail-logs-{DRIFTED}"
    assert ("CreateLogGroup", group) in calls and ("CreateRole", ROLE_NAME) in calls
    update = next(a for a in plan.actions if a.operation == "UpdateTrail")
    assert update.params["IsMultiRegionTrail"] is True and update.params["CloudWatchLogsLogGroupArn"].endswith(
        f":log-group:{group}:*") and update.refs
    policy = json.loads(next(a for a in plan.actions if a.operation == "PutRolePolicy").params["PolicyDocument"])
    assert policy["Statement"][0]["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert len([c for c in calls if c[0] == "UpdateTrail"]) == 1  # once, whatever the number of controls


def test_an_account_without_a_trail_is_told_what_to_create(evidence, controls):
    ev = copy.deepcopy(evidence[DRIFTED])
    ev.trails = []
    plan = _plan(ev, controls)
    assert plan.actions == [] and len(plan.notes) == 1 and "create-trail" in plan.notes[0]
