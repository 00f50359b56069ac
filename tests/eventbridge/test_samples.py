"""The judge's claims checked on real root records (../shared/data/cloudtrail-samples).

Every CIS root record in the public samples, put in the envelope EventBridge gives CloudTrail
events, must be matched by each rule judged COVERS and by none judged NO: the witness set stands
for records it was not built from. The folder is not part of the project: without it these tests skip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rootwatch.eventbridge import Outcome, compile_event_pattern, judge_root_monitor

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "cloudtrail-samples"
pytestmark = pytest.mark.skipif(not (SAMPLES / "INDEX.json").exists(),
                                reason=f"public CloudTrail samples not found at {SAMPLES}")
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "root_monitors.yaml").read_text())
DETAIL_TYPES = {"AwsApiCall": "AWS API Call via CloudTrail", "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail"}


def _root_events() -> list[dict]:
    events = []
    for path in sorted(SAMPLES.glob("*/*.json")):
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = [json.loads(line) for line in text.splitlines() if line.strip()]
        for record in (data.get("Records", [data]) if isinstance(data, dict) else data):
            identity = record.get("userIdentity") or {}
            if identity.get("type") != "Root" or "invokedBy" in identity or record.get("eventType") not in DETAIL_TYPES:
                continue
            events.append({"version": "0", "id": record.get("eventID", ""),
                           "detail-type": DETAIL_TYPES[record["eventType"]],
                           "source": "aws." + record["eventSource"].removesuffix(".amazonaws.com"),
                           "account": record.get("recipientAccountId", ""), "time": record.get("eventTime", ""),
                           "region": record.get("awsRegion", ""), "resources": [], "detail": record})
    return events


def test_every_real_root_record_is_matched_by_rules_judged_to_cover_and_by_none_judged_no():
    events = _root_events()
    assert len(events) >= 10
    judged = 0
    for case in CASES:
        if isinstance(case["pattern"], str) or case.get("account") or case.get("region"):
            continue  # malformed, or judged for one account or region the samples are not in
        text = json.dumps(case["pattern"])
        outcome = judge_root_monitor(text).outcome
        pattern = compile_event_pattern(text)
        if outcome is Outcome.COVERS:
            missed = [e["detail"].get("eventName") for e in events if not pattern.matches(e)]
            assert not missed, f"{case['comment']}: judged to cover root use, misses {missed}"
        elif outcome is Outcome.NO:
            assert not any(pattern.matches(e) for e in events), case["comment"]
        judged += outcome in (Outcome.COVERS, Outcome.NO)
    assert judged >= 8
