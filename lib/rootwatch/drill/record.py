"""The drill's one synthetic record: root-shaped, so the root-usage filter counts it, and marked in
every field a reader looks at first, so no one can take it for real root use.

The markers (README "rootwatch drill" lists them): ``eventID`` and ``requestID`` are the drill id,
``additionalEventData.rootwatchDrill`` holds it too, ``userAgent`` is ``rootwatch-drill/<id>``,
``eventSource``/``eventName`` are ``rootwatch-drill.local``/``RootwatchDrill`` (no AWS service has
them), and ``sourceIPAddress`` is ``192.0.2.1`` from TEST-NET-1 (RFC 5737), never routed. It goes on
a log stream of its own named after the id, never onto CloudTrail's."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

from rootwatch.resources import DRILL_MARK, DRILL_SOURCE

EVENT_SOURCE = DRILL_SOURCE
EVENT_NAME = "RootwatchDrill"
SOURCE_IP = "192.0.2.1"  # RFC 5737 TEST-NET-1: documentation only, never a real caller
NOTE = "synthetic record written by rootwatch drill to test the root-usage alarm; not root activity"
STREAM_PREFIX = "rootwatch-drill-"


def new_drill_id() -> str:
    """A fresh id: the stream, the record and the evidence all carry it."""
    return f"rwdrill-{uuid.uuid4()}"


def stream_name(drill_id: str) -> str:
    """The drill's own log stream: a name CloudTrail never uses (its streams are ``<account>_CloudTrail_<region>``)."""
    return f"{STREAM_PREFIX}{drill_id}"


def drill_record(drill_id: str, account_id: str, partition: str, region: str, at: datetime) -> dict:
    """The record as CloudTrail would deliver a root call, with the drill's markers in place of a real
    call's identifiers."""
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "Root", "principalId": account_id, "arn": f"arn:{partition}:iam::{account_id}:root",
                         "accountId": account_id},
        "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": EVENT_SOURCE,
        "eventName": EVENT_NAME,
        "awsRegion": region,
        "sourceIPAddress": SOURCE_IP,
        "userAgent": f"rootwatch-drill/{drill_id}",
        "requestParameters": None,
        "responseElements": None,
        "additionalEventData": {DRILL_MARK: drill_id, "note": NOTE},
        "requestID": drill_id,
        "eventID": drill_id,
        "readOnly": True,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account_id,
        "eventCategory": "Management",
    }


def message(record: dict) -> str:
    """The log event's text, exactly as written and as the plan shows it."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True)
