"""The hostile sandbox organisation: the demo's accounts, plus root events carrying hostile text."""

from __future__ import annotations

import gzip
import json

from rootwatch.catalog import load_catalog
from rootwatch.sandbox import events as ev
from rootwatch.sandbox.hostile import PAYLOADS
from tests.conftest import SANDBOX_NOW

HEALTHY = "111111111111"


def test_hostile_switches_on_the_healthy_accounts_hostile_events_only():
    from rootwatch.sandbox import Sandbox

    assert [a["activity"].get("hostile") for a in Sandbox(hostile=True).spec["accounts"]] == [True, None, None]
    assert [a["activity"].get("hostile") for a in Sandbox().spec["accounts"]] == [False, None, None]


def test_each_payload_rides_one_refused_root_call_counted_by_cis_4_3():
    plain = ev.account_events(HEALTHY, "us-east-1", 11, SANDBOX_NOW)
    records = ev.account_events(HEALTHY, "us-east-1", 11, SANDBOX_NOW, hostile=True)
    added = [r for r in records if r not in plain]
    assert len(added) == len(PAYLOADS) and len(records) == len(plain) + len(PAYLOADS)
    reference = load_catalog().control("4.3").reference
    for record, payload in zip(sorted(added, key=ev.event_time), PAYLOADS.values(), strict=True):
        assert reference.matches(record) and record["eventName"] == "CreateRole"
        assert record["userAgent"] == record["requestParameters"]["roleName"] == payload
        assert f"Value '{payload}' at 'roleName'" in record["errorMessage"]
        assert record["resources"][0]["ARN"] == f"arn:aws:iam::{HEALTHY}:role/{payload}"


def test_log_files_hold_utf8_as_cloudtrail_writes_it_and_the_surrogate_as_invalid_utf8():
    records = ev.account_events(HEALTHY, "us-east-1", 11, SANDBOX_NOW, hostile=True)
    bodies = [gzip.decompress(body) for _, body in ev.log_files(HEALTHY, records)]
    assert sum(b"\xed\xa0\x80" in body for body in bodies) == 1  # U+D800 spelled in UTF-8: invalid
    assert sum("\u202e".encode() in body for body in bodies) == 1  # not escaped as \u202e
    plain = ev.account_events(HEALTHY, "us-east-1", 11, SANDBOX_NOW)
    for body in (gzip.decompress(b) for _, b in ev.log_files(HEALTHY, plain)):
        json.loads(body.decode("utf-8"))  # the demo's files stay valid UTF-8 JSON
