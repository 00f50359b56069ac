"""A drill's record stays in the trail's log group: every later audit sets it apart from root activity
(it tests the alarm; nobody signed in as root), and says so on the root-usage finding."""

from __future__ import annotations

from datetime import UTC, datetime

from rootwatch.catalog import load_catalog
from rootwatch.drill.record import drill_record
from rootwatch.judge.chain import judge_account
from rootwatch.resources import drill_id
from tests.stubbed import ACCOUNT, REGION, collect_stubbed, healthy_calls

AT = datetime(2026, 9, 1, 12, tzinfo=UTC)
ROOT_LOGIN = {"eventVersion": "1.09", "userIdentity": {"type": "Root", "accountId": ACCOUNT}, "eventTime":
              "2026-08-30T09:00:00Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
              "eventType": "AwsConsoleSignIn", "eventID": "5f0e8c2a-real"}


def test_a_drill_record_is_set_apart_from_root_activity_and_named_on_the_finding():
    drill = drill_record("rwdrill-7", ACCOUNT, "aws", REGION, AT)
    ev = collect_stubbed(healthy_calls(events=(ROOT_LOGIN, drill)))
    assert [e["event"]["eventID"] for e in ev.events] == ["5f0e8c2a-real"]
    assert [d["drillId"] for d in ev.drill_records] == ["rwdrill-7"]
    catalog = load_catalog()
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    assert any("1 rootwatch drill record(s) in the log group set apart, not root activity: rwdrill-7" in n
               for n in finding.notes)


def test_only_both_marks_make_a_drill_record():
    drill = drill_record("rwdrill-7", ACCOUNT, "aws", REGION, AT)
    assert drill_id(drill) == "rwdrill-7"
    assert drill_id({**drill, "eventSource": "iam.amazonaws.com"}) is None  # a real call carrying the mark
    assert drill_id({**drill, "eventID": "other"}) is None
    assert drill_id({**ROOT_LOGIN, "additionalEventData": {"rootwatchDrill": "5f0e8c2a-real"}}) is None
