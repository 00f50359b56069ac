"""AWS's own word on a metric filter (issue 17): with ``source: aws`` the collector sends each filter's
pattern to CloudWatch Logs' TestMetricFilter with the events its verdict rests on and a sample of
the account's own events; where AWS and the engine disagree on any of them the filter link is GAP,
naming the event, never resolved either way. AWS's answers are botocore-stubbed."""

from __future__ import annotations

import json

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.judge.pattern_coverage import witnesses
from rootwatch.judge.chain import FAIL, GAP, PASS, judge_account
from rootwatch.models import Link
from rootwatch.patterns import compile_pattern
from tests.stubbed import ACCOUNT, REF, collect_stubbed, healthy_calls

SIGN_IN = {"eventVersion": "1.09", "eventTime": "2026-08-12T06:02:11Z", "eventSource": "signin.amazonaws.com",
           "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "eventID": "3f0c9a1e-root-sign-in",
           "eventType": "AwsConsoleSignIn", "recipientAccountId": ACCOUNT,
           "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                            "accountId": ACCOUNT}, "responseElements": {"ConsoleLogin": "Success"}}
RELAYED = {"eventVersion": "1.09", "eventTime": "2026-08-20T11:40:02Z", "eventSource": "s3.amazonaws.com",
           "eventName": "GetBucketAcl", "awsRegion": "us-east-1", "eventID": "77b1d2c4-relayed",
           "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
           "userIdentity": {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                            "accountId": ACCOUNT, "invokedBy": "cloudtrail.amazonaws.com"}}
OWN = (SIGN_IN, RELAYED)  # the account's root events of the window: one the filter counts, one it does not


def _sent(pattern: str = REF) -> list[tuple[str, dict]]:
    """What the collector sends AWS for the filter: the deciding events, then the account's own."""
    catalog = load_catalog()
    deciding = witnesses([catalog.control("4.3")], catalog)(pattern)
    return list({json.dumps(e, sort_keys=True): e for e in [*deciding, *OWN]}.items())


def _judged(aws_counts, error: str | None = None, ask: bool = True, pattern: str = REF):
    """The 4.3 finding when AWS's TestMetricFilter counts the messages ``aws_counts`` picks."""
    catalog = load_catalog()
    sent = _sent(pattern)
    messages = [text for text, _ in sent]
    answer = {"matches": [{"eventNumber": i, "eventMessage": text, "extractedValues": {}}
                          for i, (text, event) in enumerate(sent, 1) if aws_counts(event)]}
    calls = healthy_calls(events=OWN, pattern=pattern)
    if ask:
        calls.append(("logs", "TestMetricFilter", answer, {"filterPattern": pattern, "logEventMessages": messages}))
    ev = collect_stubbed(calls, {"TestMetricFilter": error} if error else {},
                         witnesses([catalog.control("4.3")], catalog) if ask else None)
    return ev, judge_account(ev, catalog.control("4.3"), catalog)


def _filter_link(finding):
    return next(v for v in finding.links if v.link is Link.METRIC_FILTER)


ENGINE = compile_pattern(REF).matches


def test_the_deciding_and_own_events_are_sent_and_agreement_keeps_the_verdict():
    sent = _sent()
    assert SIGN_IN in [e for _, e in sent] and RELAYED in [e for _, e in sent]
    assert len(sent) > len(OWN)  # the control's example event decides a covering pattern's verdict too
    ev, finding = _judged(ENGINE)
    link = _filter_link(finding)
    assert finding.status == PASS and link.status == PASS
    assert any(f.endswith("logs.TestMetricFilter.json") for f in link.evidence)
    assert f"AWS's TestMetricFilter agrees with the engine on all {len(sent)} event(s) sent" in " ".join(finding.notes)


@pytest.mark.parametrize("aws_counts, event, engine_says, aws_says", [
    (lambda e: ENGINE(e) and e.get("eventID") != SIGN_IN["eventID"], SIGN_IN,
     "counts", "does not"),
    (lambda e: ENGINE(e) or e.get("eventID") == RELAYED["eventID"], RELAYED, "does not count", "does"),
], ids=["AWS misses what the engine counts", "AWS counts what the engine does not"])
def test_a_disagreement_makes_the_filter_gap_naming_the_event(aws_counts, event, engine_says, aws_says):
    _, finding = _judged(aws_counts)
    link = _filter_link(finding)
    assert link.status == GAP and finding.status == GAP
    assert link.reason.startswith(f"the engine and AWS disagree on event {json.dumps(event['eventName'])} from "
                                  f"{json.dumps(event['eventSource'])} (eventID {json.dumps(event['eventID'])}")
    assert f"engine says filter root {engine_says} it, AWS's TestMetricFilter says it {aws_says}" in link.reason
    assert "(PASS: filter root covers CIS 4.3" in link.reason  # what the engine alone would have said


def test_a_pattern_the_engine_refuses_and_aws_evaluates_is_a_disagreement():
    """A stored pattern is one AWS accepted (PutMetricFilter): the engine refusing it is a disagreement."""
    bad = '{ $.userIdentity.type = }'
    _, finding = _judged(lambda e: False, pattern=bad)
    link = _filter_link(finding)
    assert link.status == GAP and "rootwatch's engine calls it invalid" in link.reason, link.reason


def test_a_test_aws_refuses_leaves_the_engines_verdict_with_a_note():
    ev, finding = _judged(ENGINE, error="AccessDeniedException")
    assert [g.link for g in ev.gaps] == [Link.FILTER_TEST]
    assert finding.status == PASS
    assert any("AWS's own test of its pattern could not be made (TestMetricFilter failed with AccessDeniedException"
               in n and "rests on rootwatch's engine alone" in n for n in finding.notes)


def test_without_source_aws_no_test_is_asked():
    ev, finding = _judged(ENGINE, ask=False)
    assert "TestMetricFilter" not in {c.operation for c in ev.calls} and finding.status == PASS
    assert not any("TestMetricFilter" in n for n in finding.notes)


def test_a_failing_filter_whose_blind_spot_aws_confirms_stays_fail():
    narrow = '{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }'
    _, finding = _judged(compile_pattern(narrow).matches, pattern=narrow)
    link = _filter_link(finding)
    assert link.status == FAIL and "does not cover" in link.reason
