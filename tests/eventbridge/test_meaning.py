"""EventBridge rules judged as root-use monitors: each case's outcome, with its root event.

A counterexample must be root use in the CIS sense and missed by the rule; a matched event must
be root use the rule matches: the verdict is shown by its events, never only asserted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from rootwatch.eventbridge import Outcome, compile_event_pattern, judge_root_monitor
from rootwatch.eventbridge.evaluate import MISSING
from rootwatch.eventbridge.meaning import _read

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "root_monitors.yaml").read_text())


def _is_root_use(event: dict) -> bool:
    detail = event["detail"]
    return (detail["userIdentity"]["type"] == "Root" and "invokedBy" not in detail["userIdentity"]
            and detail["eventType"] != "AwsServiceEvent"
            and event["detail-type"] in ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail")
            and event["source"] == "aws." + detail["eventSource"].removesuffix(".amazonaws.com"))


@pytest.mark.parametrize("case", CASES, ids=[c["comment"] for c in CASES])
def test_rule_is_judged_against_root_use_with_its_event(case):
    text = case["pattern"] if isinstance(case["pattern"], str) else json.dumps(case["pattern"])
    verdict = judge_root_monitor(text, account_id=case.get("account"), region=case.get("region"))
    assert verdict.outcome is Outcome(case["outcome"]), verdict.reason
    if verdict.outcome is Outcome.CANNOT_JUDGE:
        assert "\n" not in verdict.reason
        return
    pattern = compile_event_pattern(text)
    if verdict.missed is not None:
        assert _is_root_use(verdict.missed) and not pattern.matches(verdict.missed)
    if verdict.matched is not None:
        assert _is_root_use(verdict.matched) and pattern.matches(verdict.matched)
    assert (verdict.missed is None) is (verdict.outcome is Outcome.COVERS)
    assert (verdict.matched is None) is (verdict.outcome is Outcome.NO)
    for dotted, value in case.get("missed", {}).items():
        found = _read(verdict.missed, tuple(dotted.split(".")))
        assert ("absent" if found is MISSING else found) == value, verdict.reason


def test_narrower_reason_names_the_fields_that_decide_it():
    verdict = judge_root_monitor('{"source": ["aws.signin"], "detail": {"userIdentity": {"type": ["Root"]}}}')
    assert 'source="aws.iam"' in verdict.reason and "root calling an API" in verdict.reason


@pytest.mark.parametrize("text", [
    '{"a":' * 5_000 + "[1]" + "}" * 5_000,  # deep nesting
    json.dumps({"source": ["aws.s3"] * 100_000}),  # a huge list
    json.dumps({"detail": {f"f{i}": [{"prefix": str(i)}] for i in range(3_000)}}),  # too many fields
    "[" * 60_000,  # deep JSON that is not a pattern
])
def test_hostile_pattern_is_refused_in_one_line_quickly(text):
    start = time.monotonic()
    verdict = judge_root_monitor(text)
    assert verdict.outcome is Outcome.CANNOT_JUDGE and "\n" not in verdict.reason
    assert time.monotonic() - start < 5


def test_pattern_with_too_many_combinations_is_not_judged_rather_than_searched_for_ever():
    fields = ("errorCode", "errorMessage", "apiVersion", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
              "addendum", "sessionCredentialFromConsole")
    alternatives = [{"detail": {f: [{"prefix": c}]}} for f in fields for c in "abcde"]
    pattern = {"$or": [{"detail": {"userIdentity": {"type": ["Root"]}}}, *alternatives]}
    start = time.monotonic()
    verdict = judge_root_monitor(json.dumps(pattern))
    assert verdict.outcome is Outcome.CANNOT_JUDGE and "more than 100,000" in verdict.reason
    assert time.monotonic() - start < 5
