"""Issue 19 end to end on the sandbox: the healthy account passes CIS 4.3 today, yet its chain did not
operate throughout the window (logging stopped, the filter narrowed while root acted, the subscriber
removed and re-added), so rootwatch test RW-2 fails naming the breaks and the root event inside;
a window beyond event history's 90 days without an archive is a GAP with that reason."""

from __future__ import annotations

from datetime import timedelta

from rootwatch import evidence_run
from rootwatch.collect.chain import Target, collect
from rootwatch.collect.changes import NAMES, NO_ARCHIVE
from rootwatch.models import Check, Window
from tests.conftest import SANDBOX_NOW

HEALTHY, DRIFTED = "111111111111", "222222222222"


def test_healthy_today_yet_its_chain_was_broken_with_a_root_event_inside(evidence, catalog):
    control = catalog.control("4.3")
    evs = list(evidence.values())
    operations = evidence_run.chain_operations(evs, [control], catalog)
    _, findings = evidence_run.judged(evs, [control], catalog, timedelta(0), operations)
    healthy = {f.key: f for f in findings if f.account_id == HEALTHY}
    assert healthy["4.3"].status == "PASS"  # today's CIS verdict, unchanged by the history
    rw2 = healthy["RW-2 chain operated throughout (4.3)"]
    assert rw2.status == "FAIL" and rw2.check is Check.OPERATION
    assert rw2.links[0].reason.startswith("root events fell while the chain was broken: operated ")
    # the changes were read with one LookupEvents per change event name, kept as raw evidence
    assert len(rw2.links[0].evidence) == len(NAMES)
    op = operations[HEALTHY]
    broken = {link: [(b.broken_by[0].event_name, b.fixed_by[0].event_name) for b in lo.failed]
              for link, lo in op.links.items() if lo.failed}
    assert broken == {"logging": [("StopLogging", "StartLogging")],
                      "metric-filter": [("PutMetricFilter", "PutMetricFilter")],
                      "subscriber": [("Unsubscribe", "ConfirmSubscription")],
                      "chain": [("StopLogging", "StartLogging"), ("PutMetricFilter", "PutMetricFilter"),
                                ("Unsubscribe", "ConfirmSubscription")]}
    [inside] = [r for r in op.root_events if r.brk.status == "FAIL"]
    assert inside.event.time.date() == (SANDBOX_NOW - timedelta(days=90 - 44)).date()  # root changed the contact
    assert inside.brk.broken_by[0].actor_arn == f"arn:aws:iam::{HEALTHY}:user/bob"
    assert rw2.notes[0].startswith("1 root event fell while the chain was broken ")
    assert rw2.notes[0].endswith(f": {inside.event.time:%Y-%m-%d %H:%M:%S} UTC (event {inside.event.event_id})")
    drifted = next(f for f in findings if f.account_id == DRIFTED and f.check is Check.OPERATION)
    # its one break held dozens of root events: the break is said once, and every event named after it,
    # in time order (the break's own "(event …)" comes first: the change that opened it)
    missed = [r for r in operations[DRIFTED].root_events if r.brk.status == "FAIL"]
    brk = missed[0].brk
    assert all(r.brk == brk for r in missed)
    [note] = [n for n in drifted.notes if "root event" in n]
    assert len(missed) > 20 and note.startswith(f"{len(missed)} root events fell while the chain was broken "
                                                f"{brk.start:%Y-%m-%d %H:%M} – ")
    assert note.count(" broken by ") == 1 and note.endswith("not fixed within the window: " + ", ".join(
        f"{r.event.time:%Y-%m-%d %H:%M:%S} UTC (event {r.event.event_id})" for r in missed))
    metric_filter = operations[DRIFTED].links["metric-filter"].failed
    assert drifted.status == "FAIL" and [b.start.date() for b in metric_filter] == [
        (SANDBOX_NOW - timedelta(days=60)).date()]  # drifted on day 30 of the plan, and never fixed
    assert metric_filter[0].fixed_by == ()


def test_aws_configs_history_of_the_sandbox_agrees_with_cloudtrails_events(evidence, catalog):
    """The sandbox's Config records its trails, alarms and topics: the witness reads it and agrees."""
    control = catalog.control("4.3")
    evs = list(evidence.values())
    operations = evidence_run.chain_operations(evs, [control], catalog)
    _, findings = evidence_run.judged(evs, [control], catalog, timedelta(0), operations)
    seen = operations[HEALTHY].witness
    assert seen.agrees and seen.compared >= 3  # the trail, the alarm and the topic as the window began
    rw2 = next(f for f in findings if f.account_id == HEALTHY and f.check is Check.OPERATION)
    assert rw2.status == "FAIL" and rw2.links[1].status == "PASS" and rw2.links[1].evidence


def test_the_evidence_report_shows_configs_word_beside_the_breaks(evidence, catalog, monkeypatch):
    from datetime import UTC, datetime

    from rootwatch.notebook import workbook
    from rootwatch.params import RunParams

    control = catalog.control("4.3")
    evs = list(evidence.values())
    operations = evidence_run.chain_operations(evs, [control], catalog)
    built, findings = evidence_run.judged(evs, [control], catalog, timedelta(0), operations)
    params = RunParams.from_mapping({"source": "sandbox", "regions": ["us-east-1"], "window": "last-90-days"},
                                    now=SANDBOX_NOW)
    now = datetime.now(UTC)
    run = evidence_run.EvidenceRun(params, [control], evs, built, findings, now, now, {}, [], operations=operations)
    shown: list = []
    monkeypatch.setattr(workbook, "show", lambda df, title=None: shown.append((title, df)))
    monkeypatch.setattr(workbook, "show_chart", lambda chart: None)
    monkeypatch.setattr(workbook, "heading", lambda text: None)
    workbook.show_chain_operation(run)
    config = [df for title, df in shown if title == "AWS Config's configuration history beside CloudTrail's events"]
    assert len(config) == len([f for f in findings if f.check is Check.OPERATION])  # one per account judged
    assert config[0].iloc[0, 0].startswith("AWS Config: ") and "0 disagreement(s)" in config[0].iloc[0, 0]


def test_a_window_beyond_event_history_without_archive_is_a_gap_with_its_reason(sandbox, catalog):
    window = Window(SANDBOX_NOW - timedelta(days=200), SANDBOX_NOW - timedelta(days=120))
    control = catalog.control("4.3")
    [ev] = collect([Target("healthy", sandbox.session(HEALTHY))], ["us-east-1"], window, [control],
                   endpoint_url=sandbox.endpoint, lookup_rate=None, now=SANDBOX_NOW)
    assert not [c for c in ev.calls if c.operation == "LookupEvents" and c.params["LookupAttributes"][0][
        "AttributeKey"] == "EventName"]  # nothing of the window is in event history: no call could answer
    _, findings = evidence_run.judged([ev], [control], catalog)
    rw2 = next(f for f in findings if f.check is Check.OPERATION)
    assert rw2.status == "GAP" and "unknown for 100.0 %" in rw2.links[0].reason
    assert rw2.notes == [f"not judged {window.start:%Y-%m-%d %H:%M} – {window.end:%Y-%m-%d %H:%M} UTC: {NO_ARCHIVE}"]


def test_the_same_window_with_the_archive_is_read_from_the_trails_log_files(sandbox, catalog):
    """Beyond event history, the archive answers: no part of the window is a gap for want of it, and
    the changes after the window (the sandbox's quarter) are read from the trail's bucket and undone."""
    window = Window(SANDBOX_NOW - timedelta(days=200), SANDBOX_NOW - timedelta(days=120))
    control = catalog.control("4.3")
    [ev] = collect([Target("healthy", sandbox.session(HEALTHY))], ["us-east-1"], window, [control],
                   endpoint_url=sandbox.endpoint, lookup_rate=None, archive=True, now=SANDBOX_NOW)
    assert ev.changes.source == "archive" and ev.changes.coverage is None
    assert sorted({r["eventName"] for r in ev.changes.records}) == [
        "ConfirmSubscription", "PutMetricFilter", "StartLogging", "StopLogging", "Subscribe", "Unsubscribe"]
    _, findings = evidence_run.judged([ev], [control], catalog)
    rw2 = next(f for f in findings if f.check is Check.OPERATION)
    assert not any(NO_ARCHIVE in n for n in rw2.notes)
    # before the day-0 PutMetricFilter no record says what the filter was: judged, and not known
    assert rw2.status == "GAP" and rw2.notes == [
        f"not judged {window.start:%Y-%m-%d %H:%M} – {window.end:%Y-%m-%d %H:%M} UTC: the configuration then is "
        "not fully known"]
