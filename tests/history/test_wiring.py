"""The history wired to the real judge (issue 19): each past configuration judged by ``judge_account``,
and rootwatch test RW-2 "chain operated throughout" built from it, beside today's CIS verdict."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.changes import ChangeHistory
from rootwatch.collect.evidence import Gap
from rootwatch.history import Coverage
from rootwatch.judge.chain import chain_operation, judge_account, judge_operation
from rootwatch.models import Check, Link, Window, dump_findings, load_findings
from tests.history.chain import ACCOUNT, BENCHMARK, REGION, SUBSCRIPTION, TOPIC, healthy, record
from tests.history.test_changes import AS_OF, WINDOW
from tests.history.test_story import FILTER, NARROWED, OLD, SUBSCRIBE

ROOT = {"eventVersion": "1.09", "eventTime": "2026-08-18T03:12:45Z", "eventName": "PutAlternateContact",
        "eventSource": "account.amazonaws.com", "awsRegion": REGION, "eventID": "6f1c2d3e-root-in-the-narrowed-week",
        "eventType": "AwsApiCall", "sourceIPAddress": "203.0.113.42", "recipientAccountId": ACCOUNT,
        "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                         "accountId": ACCOUNT}}
STORY = [
    record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
    record("StartLogging", "2026-08-12T09:30:00Z", {"name": "main"}),
    record("PutMetricFilter", "2026-07-01T08:00:00Z", {**FILTER, "filterPattern": BENCHMARK}),
    record("PutMetricFilter", "2026-08-15T12:00:00Z", {**FILTER, "filterPattern": NARROWED}),
    record("PutMetricFilter", "2026-08-22T12:00:00Z", {**FILTER, "filterPattern": BENCHMARK}),
    record("Unsubscribe", "2026-08-25T10:00:00Z", {"subscriptionArn": OLD}),
    record("Subscribe", "2026-08-26T10:00:00Z", SUBSCRIBE, {"subscriptionArn": "pending confirmation"}),
    record("ConfirmSubscription", "2026-08-26T10:10:00Z", {"topicArn": TOPIC, "token": "2336412f"},
           {"subscriptionArn": SUBSCRIPTION}),
]


def evidence(records: list[dict] | None = None, coverage: Coverage | None = None) -> AccountEvidence:
    ev = AccountEvidence("healthy", ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/x", [REGION], WINDOW,
                         **healthy())
    ev.events = [{"control": "4.3", "source": "logs", "region": REGION, "logGroup": "cloudtrail-main",
                  "eventId": ROOT["eventID"], "event": ROOT}]
    ev.changes = ChangeHistory(AS_OF, "lookup", list(STORY if records is None else records), coverage)
    return ev


def test_today_is_judged_as_the_judge_judges_it_today(catalog):
    ev = evidence()
    op = chain_operation(ev, catalog.control("4.3"), catalog)
    assert judge_account(ev, catalog.control("4.3"), catalog).status == "PASS"
    assert op.links["chain"].breaks[-1].end < WINDOW.end  # the last stretch, today's configuration, operated


def test_passing_today_yet_broken_with_a_root_event_inside_fails_rw2(catalog):
    control = catalog.control("4.3")
    ev = evidence()
    op = chain_operation(ev, control, catalog)
    finding = judge_operation(ev, control, op, timedelta(0))
    assert finding.status == "FAIL" and finding.check is Check.OPERATION and finding.key == "RW-2 chain operated " \
        "throughout (4.3)"
    [link] = finding.links
    assert link.link is Link.CHAIN_OPERATION and link.reason.startswith(
        "root events fell while the chain was broken: operated ")
    assert link.reason.endswith("operated 88.8 % of the window, unknown for 0.4 %; 1 root event(s) while it was broken")
    broken = [(b.link, f"{b.start:%m-%d %H:%M}", f"{b.end:%m-%d %H:%M}") for b in op.chain.failed]
    assert broken == [("chain", "08-10 10:00", "08-12 09:30"), ("chain", "08-15 12:00", "08-22 12:00"),
                      ("chain", "08-25 10:00", "08-26 10:10")]
    # the narrowed filter: judged by meaning by the real judge, its week a break of the metric-filter link
    assert [(f"{b.start:%m-%d}", f"{b.end:%m-%d}") for b in op.links["metric-filter"].failed] == [("08-15", "08-22")]
    # one note for the break the root event fell in (one event: said in the singular), the event after it
    assert finding.notes[0].startswith("1 root event fell while the chain was broken 2026-08-15 12:00 – 2026-08-22 "
                                       "12:00 UTC (7.0 days), broken by PutMetricFilter 2026-08-15 12:00:00 UTC by "
                                       f"arn:aws:iam::{ACCOUNT}:user/alice from 198.51.100.10")
    assert f", fixed by PutMetricFilter 2026-08-22 12:00:00 UTC by arn:aws:iam::{ACCOUNT}:user/alice from " \
        "198.51.100.10 (event " in finding.notes[0]
    assert finding.notes[0].endswith(f"): 2026-08-18 03:12:45 UTC (event {ROOT['eventID']})")
    assert not any("root event" in n for n in finding.notes[1:])  # the other breaks held no root event
    assert any(n.startswith("logging: broken 2026-08-10 10:00 – 2026-08-12 09:30 UTC (47.5 h), broken by StopLogging")
               and "fixed by StartLogging 2026-08-12 09:30:00 UTC" in n for n in finding.notes)
    assert finding.remediation_notes  # what to investigate, never "nothing to do" beside a failing test
    [back] = load_findings(dump_findings([finding]))  # findings.json carries the test by its own id
    assert back.key == finding.key and back.status == "FAIL"


def test_each_break_is_said_once_with_every_root_event_that_fell_in_it(catalog):
    """Three root events in the narrowed week (one with no eventID), one while logging was stopped, one
    after every fix: two notes, one per break, in time order, each listing its own events in time order
    and in the right number; the event after the fixes is in neither."""
    control = catalog.control("4.3")
    ev = evidence()
    at = [("2026-08-20T09:00:00Z", "root-late-in-the-week"), ("2026-08-11T07:00:00Z", "root-while-not-logging"),
          ("2026-08-16T01:00:00Z", None), ("2026-08-30T00:00:00Z", "root-after-every-fix")]
    ev.events += [{**ev.events[0], "eventId": i, "event": {**ROOT, "eventTime": t, "eventID": i}} for t, i in at]
    finding = judge_operation(ev, control, chain_operation(ev, control, catalog), timedelta(0))
    logging, narrowed = [n for n in finding.notes if "root event" in n]
    assert logging.startswith("1 root event fell while the chain was broken 2026-08-10 10:00 – 2026-08-12 09:30 UTC "
                              "(47.5 h), broken by StopLogging ")
    assert logging.endswith("): 2026-08-11 07:00:00 UTC (event root-while-not-logging)")
    assert narrowed.startswith("3 root events fell while the chain was broken 2026-08-15 12:00 – 2026-08-22 12:00 UTC")
    assert narrowed.endswith(f"): 2026-08-16 01:00:00 UTC (no event id), 2026-08-18 03:12:45 UTC (event "
                             f"{ROOT['eventID']}), 2026-08-20 09:00:00 UTC (event root-late-in-the-week)")
    assert "root-after-every-fix" not in " ".join(finding.notes)
    assert finding.links[0].reason.endswith("; 4 root event(s) while it was broken")


def test_breaks_within_the_allowance_pass_and_beyond_it_fail(catalog):
    control = catalog.control("4.3")
    stop = [record("PutMetricFilter", "2026-07-01T08:00:00Z", {**FILTER, "filterPattern": BENCHMARK}),
            record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
            record("StartLogging", "2026-08-10T12:00:00Z", {"name": "main"})]
    ev = evidence(stop)
    op = chain_operation(ev, control, catalog)
    assert op.root_events == ()  # the root event came later: nothing fell inside
    # the window's first eight hours: the filter before its first PutMetricFilter is not known
    assert judge_operation(ev, control, op, timedelta(hours=3)).status == "GAP"
    failed = judge_operation(ev, control, op, timedelta(hours=1))
    assert failed.status == "FAIL" and "broken for 2.0 h (allowed: 1.0 h)" in failed.links[0].reason


def test_unreadable_history_is_a_gap_with_its_reason(catalog):
    control = catalog.control("4.3")
    ev = evidence()
    ev.gaps.append(Gap(ACCOUNT, REGION, Link.CHAIN_CHANGES, "cloudtrail", "LookupEvents", "AccessDeniedException",
                       "not authorized to perform cloudtrail:LookupEvents", "raw/x.json"))
    op = chain_operation(ev, control, catalog)
    finding = judge_operation(ev, control, op, timedelta(0))
    assert op is None and finding.status == "GAP"
    assert finding.links[0].reason == ("not evaluated: LookupEvents failed with AccessDeniedException: not authorized "
                                       "to perform cloudtrail:LookupEvents")


@pytest.mark.parametrize("shift", [timedelta(0), timedelta(days=120)])
def test_a_window_older_than_event_history_without_archive_is_a_gap_never_healthy(catalog, shift):
    """Its first two days (or, shifted back, all of it) lie beyond event history's 90 days: not known."""
    control = catalog.control("4.3")
    reason = "CloudTrail event history keeps 90 days and no archive was read"
    ev = evidence([], Coverage(AS_OF - timedelta(days=90), reason))
    ev.window = Window(WINDOW.start - shift, WINDOW.end - shift)
    op = chain_operation(ev, control, catalog)
    finding = judge_operation(ev, control, op, timedelta(0))
    assert finding.status == "GAP" and "could not be judged" in finding.links[0].reason
    assert any(n.endswith(reason) and n.startswith(f"not judged {ev.window.start:%Y-%m-%d}") for n in finding.notes)
    assert ("unknown for 100.0 %" in finding.links[0].reason) == bool(shift)


def test_a_pass_within_the_allowance_says_the_chain_was_broken_never_that_every_link_held(catalog):
    control = catalog.control("4.3")
    ev = evidence([record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
                   record("StartLogging", "2026-08-10T12:00:00Z", {"name": "main"})])
    op = chain_operation(ev, control, catalog)
    finding = judge_operation(ev, control, op, timedelta(hours=3))
    assert finding.status == "PASS"
    assert "every link held" not in finding.links[0].reason
    assert finding.links[0].reason.startswith("the chain was broken for 2.0 h (allowed: 3.0 h) and no root event fell "
                                              "while it was")
