"""`event_source: archive` in a run: each trail bucket's scan becomes events and, when something could
not be read, one gap that counts it and names the first few, never one gap per record."""

from __future__ import annotations

import gzip
import json
import uuid

from rootwatch.collect.chain import AccountEvidence, _archive_events
from rootwatch.collect.evidence import Recorder
from tests.logarchive.test_scan import DAY, _event

ACCOUNT = "111111111111"


def _bucket(sandbox, files: dict[str, list]) -> tuple[object, str]:
    """A new bucket in the healthy sandbox account holding ``files`` (name: records) under ``DAY``."""
    s3 = sandbox.session(ACCOUNT).client("s3", endpoint_url=sandbox.endpoint)
    bucket = f"zz-archive-run-{uuid.uuid4().hex[:12]}"  # after the trail's own bucket in any listing
    s3.create_bucket(Bucket=bucket)
    for name, records in files.items():
        s3.put_object(Bucket=bucket, Key=f"{DAY}/{name}", Body=gzip.compress(json.dumps({"Records": records}).encode()))
    return s3, bucket


def _collect(s3, bucket: str, window, catalog) -> AccountEvidence:
    rec = Recorder(type("Clients", (), {"get": lambda self, service, region: s3})(), ACCOUNT)
    ev = AccountEvidence("healthy", ACCOUNT, None, ["us-east-1"], window,
                         trails=[{"S3BucketName": bucket, "HomeRegion": "us-east-1"}])
    _archive_events(rec, ev, catalog.control("4.3"), window)
    ev.gaps = rec.gaps
    return ev


def test_a_clean_archive_with_service_events_leaves_no_gap(sandbox, window, catalog):
    service = _event(eventID="service", eventType="AwsServiceEvent", serviceEventDetails={"note": "Root"})
    del service["userIdentity"]
    root = _event(eventID="root", userIdentity={"type": "Root"}, recipientAccountId=ACCOUNT)
    s3, bucket = _bucket(sandbox, {"a.json.gz": [_event(eventID="x"), service, root]})
    ev = _collect(s3, bucket, window, catalog)
    assert ev.gaps == [] and [e["eventId"] for e in ev.events] == ["root"]
    assert ev.archive_scans[0]["records_malformed"] == 0


def test_unreadable_files_and_records_are_one_gap_with_counts_and_the_first_five(sandbox, window, catalog):
    root = _event(eventID="root", userIdentity={"type": "Root"}, recipientAccountId=ACCOUNT)
    s3, bucket = _bucket(sandbox, {"a.json.gz": [root, *range(300)], "b.json.gz": {"not": "records"}})
    ev = _collect(s3, bucket, window, catalog)
    [gap] = ev.gaps
    assert gap.error_code == "LogFileUnreadable"
    assert gap.message.startswith(f"s3://{bucket}/: 1 unreadable file and 300 malformed records skipped: "
                                  f"{DAY}/a.json.gz: Records[1]: not a JSON object (int); ")
    assert gap.message.endswith("; and 296 more") and gap.message.count("Records[") == 5
    assert [e["eventId"] for e in ev.events] == ["root"]


def test_a_record_ten_thousand_levels_deep_is_a_gap_not_the_end_of_the_run(sandbox, window, catalog):
    """It once raised RecursionError through the collector, and every archive run exited 4."""
    root = _event(eventID="root", userIdentity={"type": "Root"}, recipientAccountId=ACCOUNT)
    s3, bucket = _bucket(sandbox, {})
    deep = '{"eventVersion":"1.09","a":' + '{"a":' * 10_000 + '"Root"' + "}" * 10_001
    s3.put_object(Bucket=bucket, Key=f"{DAY}/deep.json.gz",
                  Body=gzip.compress(f'{{"Records":[{json.dumps(root)},{deep}]}}'.encode()))
    ev = _collect(s3, bucket, window, catalog)
    [gap] = ev.gaps
    assert gap.error_code == "LogRecordUnreadable" and "1 malformed record skipped" in gap.message
    assert "Records[1]: unreadable JSON (depth limit exceeded" in gap.message
    assert [e["eventId"] for e in ev.events] == ["root"]
