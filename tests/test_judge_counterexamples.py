"""The event a verdict shows (issue 17 family 7): the account's own event from the window when one plays
the part, else a record CloudTrail could write — never RunInstances from s3.amazonaws.com."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rootwatch.catalog import load_catalog
from rootwatch.judge.pattern_coverage import CORPUS, OWN, SYNTHETIC, judge
from rootwatch.judge.chain import FAIL, judge_account
from rootwatch.patterns import compile_pattern
from tests.judge.test_chain import ACCOUNT, WINDOW, healthy

DRIFT = yaml.safe_load((Path(__file__).resolve().parents[1] / "lib/rootwatch/sandbox/drift.yaml").read_text())["drift"]
NO_SIGN_IN = DRIFT["4.3"]["pattern"]  # root console sign-ins excluded "to quieten the alarm"
ROOT = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "accountId": ACCOUNT}
MISSED = {"eventVersion": "1.09", "eventTime": "2026-09-02T22:14:05Z", "eventSource": "signin.amazonaws.com",
          "eventName": "ConsoleLogin", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.77",
          "eventID": "0d6c1f4e-own-missed-sign-in", "eventType": "AwsConsoleSignIn", "recipientAccountId": ACCOUNT,
          "userIdentity": ROOT, "responseElements": {"ConsoleLogin": "Success"},
          "additionalEventData": {"MFAUsed": "No"}}
COUNTED = {"eventVersion": "1.09", "eventTime": "2026-08-30T09:01:44Z", "eventSource": "iam.amazonaws.com",
           "eventName": "CreateAccessKey", "awsRegion": "us-east-1", "eventID": "5e2a-own-counted",
           "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT, "userIdentity": ROOT}


def _finding(pattern: str, events: list[dict]):
    catalog = load_catalog()
    ev = healthy()
    ev.metric_filters[0]["filterPattern"] = pattern
    ev.events = [{"control": "4.3", "source": "logs", "region": "us-east-1", "logGroup": "cloudtrail-logs",
                  "eventId": e["eventID"], "event": e} for e in events]
    return judge_account(ev, catalog.control("4.3"), catalog)


def test_the_accounts_own_missed_root_sign_in_is_the_blind_spot_shown():
    finding = _finding(NO_SIGN_IN, [COUNTED, MISSED])
    assert finding.status == FAIL and finding.coverage.rule == "blind-spot"
    assert finding.coverage.event == MISSED  # not the catalog's example, dated in no window
    assert WINDOW.start.isoformat()[:10] <= finding.coverage.event["eventTime"][:10] < WINDOW.end.isoformat()[:10]
    assert finding.coverage.event_role.endswith(OWN)
    filter_link = finding.links[4]
    assert filter_link.status == FAIL and 'eventName="ConsoleLogin"' in filter_link.reason


def test_without_an_own_event_that_plays_the_part_the_catalogs_realistic_record_is_shown():
    catalog = load_catalog()
    finding = _finding(NO_SIGN_IN, [COUNTED])  # the account's root activity: none the filter misses
    event = finding.coverage.event
    assert event == catalog.control("4.3").example_event and not finding.coverage.event_role.endswith(OWN)
    assert catalog.realistic(event)


def test_a_witness_no_cloudtrail_record_could_be_is_replaced_by_a_realistic_one():
    """A filter that counts everything from EC2 plus one route call: the engine's witness of its 4.1
    blind spot was RunInstances from s3.amazonaws.com (an AccessDenied the filter misses)."""
    catalog = load_catalog()
    control = catalog.control("4.1")
    pattern = '{ ($.eventSource = ec2.amazonaws.com) || ($.eventName = CreateRoute) }'
    coverage = judge(control, pattern, catalog)
    event = coverage.event
    assert coverage.rule == "blind-spot" and catalog.realistic(event), event
    assert (event["eventName"], event["eventSource"]) != ("RunInstances", "s3.amazonaws.com")
    assert control.reference.matches(event) and not compile_pattern(pattern).matches(event)  # still the blind spot
    assert f'eventSource="{event["eventSource"]}"' in coverage.reason  # the reason describes the event shown


def test_realistic_means_the_service_records_the_event_name():
    catalog = load_catalog()
    assert not catalog.realistic({"eventName": "RunInstances", "eventSource": "s3.amazonaws.com"})
    assert catalog.realistic({"eventName": "RunInstances", "eventSource": "ec2.amazonaws.com"})
    assert catalog.realistic({"eventName": "DeletePolicy", "eventSource": "organizations.amazonaws.com"})
    assert catalog.realistic({"eventName": "DeletePolicy", "eventSource": "iam.amazonaws.com"})


def _patterns() -> list[str]:
    catalog = load_catalog()
    texts = [t.text for c in catalog.controls() for t in c.accepted]
    return sorted({*texts, *(t.replace("&&", "||") for t in texts), *(d["pattern"] for d in DRIFT.values())})


@pytest.mark.parametrize("control_id", [c.id for c in load_catalog().controls()])
def test_every_event_shown_is_realistic_or_says_it_is_synthetic(control_id):
    """Every catalog text, each with '&&' swapped for '||', and every drifted pattern, judged for each
    control: the event shown is a record CloudTrail could write, or its part says it is synthetic."""
    catalog = load_catalog()
    control = catalog.control(control_id)
    for pattern in _patterns():
        coverage = judge(control, pattern, catalog)
        if coverage.event is not None:
            assert catalog.realistic(coverage.event) or coverage.event_role.endswith(SYNTHETIC), (pattern, coverage)
            assert not coverage.event_role.endswith(CORPUS) or coverage.event in catalog.corpus
