"""Alarm response, the second question after the chain: did the alarm really fire for each root
event the account's filters counted over the window (rootwatch's alarm-coverage test, beside the
CIS chain finding). The chain judge says whether the chain would alert today; this says whether it
did, event by event, from the alarm's history (``rootwatch.frames.tables.alarm_coverage``'s rows).
"""

from __future__ import annotations

from rootwatch.catalog import Control
from rootwatch.collect.chain import AccountEvidence
from rootwatch.judge.chain import gap_text
from rootwatch.models import Check, Finding, Link, LinkVerdict, Status, roll_up

PASS, FAIL, GAP = Status.PASS, Status.FAIL, Status.GAP


def judge_alarm_coverage(ev: AccountEvidence, control: Control, rows: list[dict], unseen: int = 0) -> Finding:
    """"The control worked": FAIL when a root event the account's filters count raised no alarm in
    time (each uncovered event listed in the notes), GAP when the events or the alarm history could
    not be read, PASS otherwise. ``unseen``: root events of the window the benchmark's pattern
    matches and no filter counts: with none counted, a PASS would rest on nothing examined while
    those events reached no alarm at all, so they FAIL it (the chain's filter link says why)."""
    finding = Finding(ev.account_id, ev.label, control.id, control.benchmark,
                      f"{control.title}: the alarm fired for every root event counted", control.level, PASS, [],
                      check=Check.ALARM_COVERAGE)
    alarms = {a for r in rows for a in str(r["alarms"]).split(",") if a}
    files = tuple(f"raw/{c.filename}" for c in ev.calls
                  if (c.operation == "DescribeAlarmHistory" and c.params.get("AlarmName") in alarms)
                  or (c.operation == "FilterLogEvents" and c.params.get("filterPattern") == control.evidence_query.text)
                  or (c.operation == "LookupEvents" and c.params.get("LookupAttributes") == [control.lookup]))
    unread = [g for g in ev.gaps if g.link in (Link.ALARM_HISTORY, Link.ROOT_EVENTS, Link.IDENTITY)]
    uncovered = [r for r in rows if not r["covered"]]
    if unread:
        reason = "; ".join(dict.fromkeys(gap_text(g) for g in unread))
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, GAP, f"not evaluated: {reason}", "", files)]
    elif uncovered:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, FAIL, f"{len(uncovered)} of {len(rows)} counted root "
                                                                "event(s) raised no alarm in time", "", files)]
    elif not rows and unseen:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, FAIL, f"{unseen} root event(s) of the window match CIS "
                                     f"{control.id} and no metric filter counted any of them: no alarm could have "
                                     "seen them (nothing was counted, so nothing could be covered)", "", files)]
    else:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, PASS,
                                     f"all {len(rows)} counted root event(s) raised an alarm in time" if rows else
                                     "no counted root event in the window: none was missed", "", files)]
    finding.notes = [f"uncovered: {r['time']} {r['event_name']} (eventID {r['event_id']}): {r['reason']}"
                     for r in uncovered]
    finding.status = roll_up(link.status for link in finding.links)
    finding.remediation_notes = COVERAGE_ADVICE.get(finding.status, [])
    return finding


# What to investigate when rootwatch's alarm-coverage test does not pass: a chain that is right today
# says nothing about the day the event came, and no command fixes the past.
COVERAGE_ADVICE = {
    FAIL: ["for each uncovered event, read the alarm's history around its time (aws cloudwatch "
           "describe-alarm-history --alarm-name NAME --start-date ... --end-date ...): was the alarm missing, "
           "already in ALARM, its actions disabled, or its action failing then?",
           "look in CloudTrail for changes to the chain around those times (PutMetricAlarm, DeleteAlarms, "
           "DisableAlarmActions, PutMetricFilter, DeleteMetricFilter, StopLogging, Unsubscribe) and who made them",
           "confirm with the subscribers whether the notifications for the caught events arrived"],
    GAP: ["let the audit role read what this test needs (cloudwatch:DescribeAlarmHistory and logs:FilterLogEvents "
          "or cloudtrail:LookupEvents; policies/audit.json) and run again"],
}
