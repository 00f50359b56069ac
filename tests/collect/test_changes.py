"""Reading the chain's changes (issue 19): one LookupEvents per change event name and region, paced
within AWS's 2 requests per second per account and region; what cannot be read is a gap."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
from botocore.stub import Stubber

from rootwatch.collect import session as sessions
from rootwatch.collect.changes import NAMES, NO_ARCHIVE, change_history
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.session import Clients, Pace
from rootwatch.models import Link, Window

ACCOUNT = "111111111111"
AS_OF = datetime(2026, 10, 1, 6, tzinfo=UTC)
STOP = {"eventVersion": "1.09", "eventTime": "2026-08-10T10:00:00Z", "eventName": "StopLogging",
        "eventSource": "cloudtrail.amazonaws.com", "awsRegion": "us-east-1", "eventID": "e-stop",
        "recipientAccountId": ACCOUNT, "requestParameters": {"name": "main"},
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/bob"}}


def test_requests_are_spaced_at_the_rate_whatever_asks():
    now, slept = [100.0], []
    pace = Pace(2, clock=lambda: now[0], sleep=slept.append)
    for _ in range(3):
        pace.wait()
    assert slept == [0.5, 1.0]  # each booked its turn: the third waits for the second
    now[0] = 200.0
    pace.wait()
    assert slept == [0.5, 1.0]  # after a pause, the next goes at once


def _recorder(monkeypatch) -> tuple[Recorder, Stubber]:
    monkeypatch.setattr(sessions, "LOOKUP_RATE", 1e9)  # stubbed: nothing is sent, nothing to pace
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
    rec = Recorder(Clients(session), ACCOUNT)
    return rec, Stubber(rec.clients.get("cloudtrail", "us-east-1"))


def test_each_change_event_is_looked_up_by_name_from_the_window_to_as_of(monkeypatch):
    rec, stub = _recorder(monkeypatch)
    window = Window(datetime(2026, 7, 4, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    for name in NAMES:
        events = [{"EventId": "e-stop", "EventName": name, "CloudTrailEvent": json.dumps(STOP)}] \
            if name == "StopLogging" else []
        stub.add_response("lookup_events", {"Events": events}, {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}], "StartTime": window.start,
            "EndTime": AS_OF})
    with stub:
        history = change_history(rec, ACCOUNT, ["us-east-1"], [], window, AS_OF, archive=False)
    assert history.records == [STOP] and history.coverage is None and history.source == "lookup"
    assert [c.params["LookupAttributes"][0]["AttributeValue"] for c in rec.calls] == list(NAMES) and not rec.gaps


def test_a_window_reaching_beyond_event_history_reads_what_it_keeps_and_names_the_rest(monkeypatch):
    rec, stub = _recorder(monkeypatch)
    window = Window(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    for name in NAMES:
        stub.add_response("lookup_events", {"Events": []}, {
            "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
            "StartTime": AS_OF - timedelta(days=90), "EndTime": AS_OF})
    with stub:
        history = change_history(rec, ACCOUNT, ["us-east-1"], [], window, AS_OF, archive=False)
    assert history.coverage.readable_from == AS_OF - timedelta(days=90) and history.coverage.reason == NO_ARCHIVE


def test_a_refused_lookup_is_a_gap_and_asks_no_more(monkeypatch):
    rec, stub = _recorder(monkeypatch)
    stub.add_client_error("lookup_events", "AccessDeniedException", "not authorized to perform cloudtrail:LookupEvents")
    window = Window(datetime(2026, 7, 4, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    with stub:
        history = change_history(rec, ACCOUNT, ["us-east-1"], [], window, AS_OF, archive=False)
    assert history.records == [] and len(rec.calls) == 1
    [gap] = rec.gaps
    assert gap.link is Link.CHAIN_CHANGES and gap.error_code == "AccessDeniedException"


def test_changes_are_read_where_the_chain_lives_not_only_in_the_audited_regions(monkeypatch):
    """A trail's StopLogging is recorded in its home region, a filter's change in its log group's:
    looking only in the audited regions misses the break, and RW-2 would call the chain unbroken."""
    rec, east = _recorder(monkeypatch)
    west = Stubber(rec.clients.get("cloudtrail", "eu-west-1"))
    window = Window(datetime(2026, 7, 4, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    stop = {**STOP, "awsRegion": "eu-west-1"}
    trail = {"Name": "main", "TrailARN": f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/main",
             "HomeRegion": "eu-west-1", "IsMultiRegionTrail": True,
             "CloudWatchLogsLogGroupArn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:cloudtrail-main:*"}
    for stub, events in ((east, {}), (west, {"StopLogging": [{"EventId": "e-stop", "EventName": "StopLogging",
                                                              "CloudTrailEvent": json.dumps(stop)}]})):
        for name in NAMES:
            stub.add_response("lookup_events", {"Events": events.get(name, [])}, {
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": window.start, "EndTime": AS_OF})
    with east, west:
        history = change_history(rec, ACCOUNT, ["us-east-1"], [trail], window, AS_OF, archive=False)
    assert history.records == [stop] and not rec.gaps
    assert {c.region for c in rec.calls} == {"us-east-1", "eu-west-1"}
