"""WSGI middleware in front of moto: answers the calls moto lacks, the way AWS documents them.

Only the sandbox uses it; production code calls the real APIs unchanged. It serves
- CloudTrail ``LookupEvents`` from the seeded records (last 90 days, newest first, one lookup
  attribute, MaxResults ≤ 50, opaque NextToken);
- CloudWatch ``DescribeAlarmHistory`` from the seeded history and the transitions and actions of
  the sandbox's own alarm evaluation (date range, item type, MaxRecords ≤ 100, NextToken, ScanBy);
- CloudWatch Logs ``PutMetricFilter`` updating a filter of the same name (moto adds a second one);
- CloudWatch Logs ``PutLogEvents`` into moto's store, accepting what AWS accepts relative to the
  sandbox's clock (events from the last 14 days up to 2 hours ahead, in chronological order,
  ``rejectedLogEventsInfo`` for the rest), each accepted event then read by the group's metric
  filters (sandbox/cloudwatch.py: filters publish, alarms evaluate before every answer, actions
  notify);
- CloudWatch Logs ``FilterLogEvents`` over moto's stored log events, applying JSON filter patterns
  (which moto ignores) with rootwatch's own engine, time range inclusive, ``limit`` ≤ 10,000;
- CloudWatch Logs ``TestMetricFilter`` (moto lacks it) with the same engine: 1 to 50 messages, each
  match echoing its message and its 1-based event number;
- SNS ``ListSubscriptionsByTopic``/``ListSubscriptions`` with ``PendingConfirmation`` for the
  subscriptions the organisation marks unconfirmed (moto confirms everything);
- KMS ``Sign`` with ``MessageType=DIGEST`` (moto hashes the digest again, as if it were RAW);
- Organizations ``ListAccounts`` for the management account: the organisation's accounts with the ids
  organisation.yaml gives them (moto's Organizations makes up random ids);
- AWS Config (moto records none of the chain's types): a recorder recording every supported type in
  every account, ``ListDiscoveredResources`` by name and ``GetResourceConfigHistory`` of the chain's
  trails, alarms and topics: one item when the chain was made, then one a few minutes after each
  seeded change Config records (an alarm's actions disabled or enabled), newest first, ``limit`` ≤ 100;
- IAM ``GetCredentialReport`` with the ``<root_account>`` row IAM puts first (moto has no root user),
  drawn from the seeded root records and the organisation's ``root`` block, and ``GetAccountSummary``
  with that root user's MFA and access key.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from rootwatch.errors import PatternSyntaxError
from rootwatch.sandbox.cloudwatch import CLOCK_PATH, CloudWatch, SandboxClock, event_matcher, parsed_message
from rootwatch.sandbox.events import CLI, SDK, AlarmChange, Event, event_time
from rootwatch.sandbox.faults import Call, Faults, describe

ACCESS_KEY = re.compile(r"Credential=([A-Z0-9]{16,128})/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/")
REPORT_CONTENT = re.compile(r"<Content>([^<]*)</Content>")
REPORT_TIME = re.compile(r"<GeneratedTime>[^<]*</GeneratedTime>")
ACCOUNT_OPENED = datetime(2019, 4, 2, 8, 15, 31, tzinfo=UTC)  # when the sandbox's accounts were opened
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class RootCredentials:
    """What IAM knows of an account's root user that its CloudTrail records cannot show: whether MFA is
    enabled now, and whether a root access key exists (an organisation.yaml account's ``root`` block)."""

    mfa_active: bool = True
    access_key_created: datetime | None = None  # an Active root access key, created then
    created: datetime = ACCOUNT_OPENED


READY_PATH = "/rootwatch-sandbox/ready"  # not an AWS path: no client of AWS APIs asks for it
READY_TIMEOUT = 120.0  # seconds a readiness question waits for seeding


@dataclass
class SandboxState:
    """What the sandbox knows beyond moto: seeded records, alarm history, unconfirmed subscriptions,
    root users."""

    now: datetime
    records: dict[str, list[Event]] = field(default_factory=dict)  # account -> CloudTrail records
    history: dict[tuple[str, str], list[AlarmChange]] = field(default_factory=dict)  # (account, region)
    pending: set[str] = field(default_factory=set)  # subscription ARNs shown as PendingConfirmation
    latency: float = 0.0  # seconds added to every request (benchmarks: a real network's round trip)
    faults: Faults = field(default_factory=Faults)  # armed once seeded (sandbox/faults.py)
    root: dict[str, RootCredentials] = field(default_factory=dict)  # account -> its root user (default: sound)
    organization: list[tuple[str, str]] = field(default_factory=list)  # (id, name), the management account first
    seed_s3: Callable[[], None] | None = None  # writes the trails' S3 log files: once, before the first S3 request
    seeded: threading.Event = field(default_factory=threading.Event, repr=False)  # set once seeded, or failed
    failure: str | None = None  # why seeding failed
    clock: InitVar[SandboxClock | None] = None  # the sandbox's time (default: real time from ``now``)
    cloudwatch: CloudWatch = field(init=False, repr=False)  # filters publish, alarms evaluate, actions notify
    _s3_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self, clock: SandboxClock | None) -> None:
        self.cloudwatch = CloudWatch(clock or SandboxClock(self.now), self.history, self.pending)

    def before_s3(self) -> None:
        """Run ``seed_s3`` if it has not run yet; concurrent first S3 requests wait for it."""
        with self._s3_lock:
            if self.seed_s3 is not None:
                self.seed_s3()
                self.seed_s3 = None


class BridgeError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


class Bridge:
    def __init__(self, app: Callable, state: SandboxState) -> None:
        self.app, self.state = app, state
        self.json_handlers: dict[str, Callable[[str, str, dict], dict]] = {
            "LookupEvents": self.lookup_events,
            "PutLogEvents": self.put_log_events,
            "DescribeAlarmHistory": self.describe_alarm_history,
            "FilterLogEvents": self.filter_log_events,
            "TestMetricFilter": self.test_metric_filter,
            "SignDigest": self.sign_digest,
            "ListAccounts": self.list_accounts,
            "DescribeConfigurationRecorderStatus": self.config_recorder_status,
            "DescribeConfigurationRecorders": self.config_recorders,
            "ListDiscoveredResources": self.list_discovered_resources,
            "GetResourceConfigHistory": self.resource_config_history,
        }

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == READY_PATH:
            return self._ready(start_response)
        if environ.get("PATH_INFO") == CLOCK_PATH:
            return _text(start_response, "200 OK", self.state.cloudwatch.clock.now().isoformat().encode())
        if self.state.seeded.is_set():
            self.state.cloudwatch.advance()  # every answer is as of the sandbox's now
        if self.state.seed_s3 is not None and _is_s3(environ):
            self.state.before_s3()
        if self.state.latency:
            time.sleep(self.state.latency)
        if self.state.faults.armed:
            spoiled = self.state.faults.answer(_described(environ), start_response)
            if spoiled is not None:
                return spoiled
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rpartition(".")[2]
        if operation == "PutMetricFilter":
            _replace_metric_filter(*_caller(environ), json.loads(_read(environ) or b"{}"))
        if operation in self.json_handlers:
            return self._json(operation, environ, start_response)
        if target == "TrentService.Sign" and json.loads(_read(environ) or b"{}").get("MessageType") == "DIGEST":
            return self._json("SignDigest", environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST" and "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            body = _read(environ)
            action = parse_qs(body.decode()).get("Action", [""])[0]
            if action in ("ListSubscriptionsByTopic", "ListSubscriptions") and self.state.pending:
                return self._rewrite(environ, start_response, self._show_pending)
            if action == "GetCredentialReport":
                account = _caller(environ)[0]
                return self._rewrite(environ, start_response, lambda body: self._add_root_row(account, body))
            if action == "GetAccountSummary":
                root = self.state.root.get(_caller(environ)[0], RootCredentials())
                return self._rewrite(environ, start_response, lambda body: _root_summary(root, body))
        return self.app(environ, start_response)

    def _ready(self, start_response: StartResponse) -> Iterable[bytes]:
        """Answered once seeding has ended: a sandbox served by `rootwatch run` seeds while the kernel
        starts, and the kernel asks here before its first AWS call."""
        done = self.state.seeded.wait(READY_TIMEOUT)
        status = "200 OK" if done and self.state.failure is None else "503 Service Unavailable"
        body = (b"seeded" if status.startswith("200") else
                (self.state.failure or "still seeding").encode("utf-8", "replace"))
        return _text(start_response, status, body)

    # --- plumbing ---------------------------------------------------------------------
    def _json(self, operation: str, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        account, region = _caller(environ)
        try:
            payload, status = self.json_handlers[operation](account, region, json.loads(_read(environ) or b"{}")), 200
        except BridgeError as exc:
            payload, status = {"__type": exc.code, "message": str(exc)}, exc.status
        body = json.dumps(payload).encode()
        start_response(f"{status} {'OK' if status == 200 else 'Bad Request'}",
                       [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body))),
                        ("x-amzn-RequestId", "00000000-0000-4000-8000-sandbox00000")])
        return [body]

    def _rewrite(self, environ: dict, start_response: StartResponse, edit: Callable[[str], str]) -> Iterable[bytes]:
        """moto's answer, edited where moto knows less than AWS would."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> None:
            captured.update(status=status, headers=headers)

        data = edit(b"".join(self.app(environ, capture)).decode()).encode()
        headers = [(k, str(len(data)) if k.lower() == "content-length" else v) for k, v in captured["headers"]]
        start_response(captured["status"], headers)
        return [data]

    def _show_pending(self, body: str) -> str:
        for arn in self.state.pending:
            body = body.replace(f"<SubscriptionArn>{arn}</SubscriptionArn>",
                                "<SubscriptionArn>PendingConfirmation</SubscriptionArn>")
        return body

    # --- IAM GetCredentialReport ------------------------------------------------------------
    def _add_root_row(self, account: str, body: str) -> str:
        """The report with its root row first, generated at the sandbox's now; moto's refusals
        (ReportNotPresent, ...) go through unchanged."""
        content = REPORT_CONTENT.search(body)
        if content is None:
            return body
        header, _, users = base64.b64decode(content.group(1)).decode().partition("\n")
        row = _root_row(account, self.state.records.get(account, []), self.state.root.get(account, RootCredentials()))
        report = base64.b64encode(f"{header}\n{row}\n{users}".encode()).decode()
        body = body[:content.start(1)] + report + body[content.end(1):]
        return REPORT_TIME.sub(f"<GeneratedTime>{_iso(self.state.now)}</GeneratedTime>", body)

    # --- KMS Sign over a digest -----------------------------------------------------------
    def sign_digest(self, account: str, region: str, params: dict) -> dict:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
        from moto.kms.models import kms_backends

        try:
            key = kms_backends[account][region].describe_key(params["KeyId"])
        except Exception:  # noqa: BLE001 - moto raises its own NotFound types
            raise BridgeError("NotFoundException", f"Key '{params.get('KeyId')}' does not exist") from None
        digest = base64.b64decode(params["Message"])
        algorithm = params.get("SigningAlgorithm", "")
        prehashed = utils.Prehashed(hashes.SHA256())
        private = key.private_key.private_key
        if algorithm == "ECDSA_SHA_256":
            signature = private.sign(digest, ec.ECDSA(prehashed))
        elif algorithm == "RSASSA_PKCS1_V1_5_SHA_256":
            signature = private.sign(digest, padding.PKCS1v15(), prehashed)
        else:
            raise BridgeError("UnsupportedOperationException", f"the sandbox signs digests with ECDSA_SHA_256 or "
                              f"RSASSA_PKCS1_V1_5_SHA_256, not {algorithm}")
        return {"KeyId": key.arn, "Signature": base64.b64encode(signature).decode(), "SigningAlgorithm": algorithm}

    # --- CloudTrail LookupEvents ---------------------------------------------------------
    def list_accounts(self, account: str, region: str, params: dict) -> dict:
        """Every account, ACTIVE, the management account first; asked by anyone else, refused as AWS does."""
        if not self.state.organization or account != self.state.organization[0][0]:
            raise BridgeError("AccessDeniedException", "You don't have permissions to access this resource.")
        joined = ACCOUNT_OPENED.timestamp()
        return {"Accounts": [{"Id": i, "Arn": f"arn:aws:organizations::{self.state.organization[0][0]}:account/"
                                         f"o-sandbox0001/{i}", "Name": name, "Email": f"aws+{name}@example.com",
                              "Status": "ACTIVE", "JoinedMethod": "CREATED", "JoinedTimestamp": joined}
                             for i, name in self.state.organization]}

    def lookup_events(self, account: str, region: str, params: dict) -> dict:
        attributes = params.get("LookupAttributes") or []
        if len(attributes) > 1:
            raise BridgeError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
        limit = params.get("MaxResults", 50)
        if not 1 <= limit <= 50:
            raise BridgeError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        oldest = self.state.now - timedelta(days=90)
        start = max(_time(params.get("StartTime"), oldest), oldest)
        end = _time(params.get("EndTime"), self.state.now)
        if start > end:
            raise BridgeError("InvalidTimeRangeException", "Start time must be before end time.")
        selected = [e for e in self.state.records.get(account, [])
                    if _lookup_region(e) == region and start <= event_time(e) <= end
                    and all(_lookup_value(e, a["AttributeKey"]) == a["AttributeValue"] for a in attributes)]
        selected.sort(key=lambda e: (e["eventTime"], e["eventID"]), reverse=True)
        page, token = _page(selected, params.get("NextToken"), limit)
        return {"Events": [_lookup_item(e) for e in page], **({"NextToken": token} if token else {})}

    # --- AWS Config ---------------------------------------------------------------------
    def config_recorder_status(self, account: str, region: str, params: dict) -> dict:
        return {"ConfigurationRecordersStatus": [{"name": "default", "recording": True, "lastStatus": "SUCCESS"}]}

    def config_recorders(self, account: str, region: str, params: dict) -> dict:
        return {"ConfigurationRecorders": [{"name": "default", "roleARN": f"arn:aws:iam::{account}:role/aws-config",
                                            "recordingGroup": {"allSupported": True,
                                                               "includeGlobalResourceTypes": True}}]}

    def list_discovered_resources(self, account: str, region: str, params: dict) -> dict:
        found = [(kind, rid, name) for kind, rid, name, _ in _config_resources(account, region)
                 if kind == params.get("resourceType") and name == params.get("resourceName", name)]
        return {"resourceIdentifiers": [{"resourceType": k, "resourceId": i, "resourceName": n} for k, i, n in found]}

    def resource_config_history(self, account: str, region: str, params: dict) -> dict:
        limit = params.get("limit", 10)
        if not 0 <= limit <= 100:
            raise BridgeError("ValidationException", "limit must be between 0 and 100.")
        resource = next((r for r in _config_resources(account, region)
                         if r[0] == params.get("resourceType") and r[1] == params.get("resourceId")), None)
        if resource is None:
            raise BridgeError("ResourceNotDiscoveredException", f"Resource {params.get('resourceId')} of resourceType:"
                              f"{params.get('resourceType')} is unknown or has not been discovered")
        earlier = _time(params.get("earlierTime"), datetime.fromtimestamp(0, tz=UTC))
        later = _time(params.get("laterTime"), self.state.now)
        items = [i for i in self._config_items(account, region, resource)
                 if earlier <= i["configurationItemCaptureTime"] <= later]
        items.sort(key=lambda i: i["configurationItemCaptureTime"],
                   reverse=params.get("chronologicalOrder") != "Forward")
        page, token = _page(items, params.get("nextToken"), limit or 10)
        for i in page:
            i["configurationItemCaptureTime"] = i["configurationItemCaptureTime"].timestamp()
        return {"configurationItems": page, **({"nextToken": token} if token else {})}

    def _config_items(self, account: str, region: str, resource: tuple[str, str, str, dict]) -> list[dict]:
        """The resource as made (today's configuration, but for what the seeded changes toggled since),
        then after each seeded change Config records: an alarm's actions disabled or enabled."""
        kind, rid, name, configuration = resource
        toggles = sorted((e for e in self.state.records.get(account, [])
                          if e["eventName"] in ("DisableAlarmActions", "EnableAlarmActions") and not e.get("errorCode")
                          and _lookup_region(e) == region and kind == "AWS::CloudWatch::Alarm"
                          and name in (e.get("requestParameters") or {}).get("alarmNames", [])),
                         key=lambda e: e["eventTime"])
        states = [(self.state.now - CONFIG_SINCE, "ResourceDiscovered",
                   {**configuration, **({"actionsEnabled": toggles[0]["eventName"] != "EnableAlarmActions"}
                                        if toggles else {})})]
        states += [(event_time(e) + CONFIG_LAG, "OK",
                    {**configuration, "actionsEnabled": e["eventName"] == "EnableAlarmActions"}) for e in toggles]
        return [{"version": "1.3", "accountId": account, "configurationItemCaptureTime": when,
                 "configurationItemStatus": status, "configurationStateId": str(n), "resourceType": kind,
                 "resourceId": rid, "resourceName": name, "awsRegion": region, "configuration": json.dumps(config)}
                for n, (when, status, config) in enumerate(states)]

    # --- CloudWatch DescribeAlarmHistory -------------------------------------------------
    def describe_alarm_history(self, account: str, region: str, params: dict) -> dict:
        limit = params.get("MaxRecords", 100)
        if not 1 <= limit <= 100:
            raise BridgeError("InvalidParameterValue", "MaxRecords must be between 1 and 100.")
        start = _time(params.get("StartDate"), datetime.min.replace(tzinfo=UTC))
        end = _time(params.get("EndDate"), datetime.max.replace(tzinfo=UTC))
        items = [c for c in self.state.history.get((account, region), [])
                 if (not params.get("AlarmName") or c.alarm_name == params["AlarmName"])
                 and (not params.get("HistoryItemType") or c.kind == params["HistoryItemType"])
                 and start <= c.timestamp <= end]
        items.sort(key=lambda c: c.timestamp, reverse=params.get("ScanBy", "TimestampDescending") != "TimestampAscending")
        page, token = _page(items, params.get("NextToken"), limit)
        return {"AlarmHistoryItems": [
            {"AlarmName": c.alarm_name, "AlarmType": "MetricAlarm", "Timestamp": c.timestamp.timestamp(),
             "HistoryItemType": c.kind, "HistorySummary": c.summary, "HistoryData": json.dumps(c.data)}
            for c in page], **({"NextToken": token} if token else {})}

    # --- CloudWatch Logs PutLogEvents ----------------------------------------------------
    def put_log_events(self, account: str, region: str, params: dict) -> dict:
        from moto.logs.models import logs_backends

        name = params.get("logGroupName") or params.get("logGroupIdentifier", "").split(":log-group:")[-1]
        group = logs_backends[account][region].groups.get(name)
        if group is None:
            raise BridgeError("ResourceNotFoundException", "The specified log group does not exist.")
        stream = group.streams.get(params.get("logStreamName", ""))
        if stream is None:
            raise BridgeError("ResourceNotFoundException", "The specified log stream does not exist.")
        events = params.get("logEvents") or []
        if not 1 <= len(events) <= 10_000:
            raise BridgeError("InvalidParameterException", "logEvents must hold 1 to 10000 events.")
        stamps = [e.get("timestamp") for e in events]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in stamps) or stamps != sorted(stamps):
            raise BridgeError("InvalidParameterException",
                              "Log events in a single PutLogEvents request must be in chronological order.")
        now = self.state.cloudwatch.clock.now()
        oldest, newest = ((now + delta).timestamp() * 1000 for delta in (-timedelta(days=14), timedelta(hours=2)))
        rejected = {**({"tooOldLogEventEndIndex": max(i for i, t in enumerate(stamps) if t < oldest)}
                       if stamps[0] < oldest else {}),
                    **({"tooNewLogEventStartIndex": min(i for i, t in enumerate(stamps) if t > newest)}
                       if stamps[-1] > newest else {})}
        accepted = [{"timestamp": e["timestamp"], "message": str(e.get("message", ""))} for e in events
                    if oldest <= e["timestamp"] <= newest]
        token = stream.put_log_events(accepted) if accepted else None
        self.state.cloudwatch.publish(account, region, name, ((e["timestamp"], e["message"], None) for e in accepted))
        return {**({"nextSequenceToken": token} if token else {}),
                **({"rejectedLogEventsInfo": rejected} if rejected else {})}

    # --- CloudWatch Logs FilterLogEvents -------------------------------------------------
    def filter_log_events(self, account: str, region: str, params: dict) -> dict:
        from moto.logs.models import logs_backends

        name = params.get("logGroupName") or params.get("logGroupIdentifier", "").split(":log-group:")[-1]
        group = logs_backends[account][region].groups.get(name)
        if group is None:
            raise BridgeError("ResourceNotFoundException", "The specified log group does not exist.")
        limit = params.get("limit", 10_000)
        if not 1 <= limit <= 10_000:
            raise BridgeError("InvalidParameterException", "limit must be between 1 and 10000.")
        matches = _matcher(params.get("filterPattern", ""))
        start, end = params.get("startTime", 0), params.get("endTime", 2**63)
        streams = set(params.get("logStreamNames") or group.streams)
        prefix = params.get("logStreamNamePrefix", "")
        found = [(ev.timestamp, ev.event_id, stream_name, ev)
                 for stream_name, stream in group.streams.items()
                 if stream_name in streams and stream_name.startswith(prefix)
                 for ev in stream.events if start <= ev.timestamp <= end and matches(ev.message)]
        found.sort(key=lambda row: row[:2])
        page, token = _page(found, params.get("nextToken"), limit)
        return {"events": [{"logStreamName": s, "timestamp": ev.timestamp, "message": ev.message,
                            "ingestionTime": ev.ingestion_time, "eventId": str(ev.event_id)}
                           for _, _, s, ev in page],
                "searchedLogStreams": [], **({"nextToken": token} if token else {})}


    def test_metric_filter(self, account: str, region: str, params: dict) -> dict:
        messages = params.get("logEventMessages") or []
        if not 1 <= len(messages) <= 50:
            raise BridgeError("InvalidParameterException", "logEventMessages must hold 1 to 50 messages.")
        matches = _matcher(params.get("filterPattern", ""))
        return {"matches": [{"eventNumber": number, "eventMessage": message, "extractedValues": {}}
                            for number, message in enumerate(messages, 1) if matches(message)]}


def _root_row(account: str, records: list[Event], root: RootCredentials) -> str:
    """The ``<root_account>`` line of a credential report: the password last used at the account's
    latest successful root console sign-in; a root access key, if the account has one, last used by
    the latest root call made from the CLI or an SDK since it was created."""
    mine = [e for e in records if e.get("userIdentity", {}).get("type") == "Root"]
    sign_ins = [event_time(e) for e in mine if e["eventName"] == "ConsoleLogin"
                and (e.get("responseElements") or {}).get("ConsoleLogin") == "Success"]
    cells = ["<root_account>", f"arn:aws:iam::{account}:root", _iso(root.created), "not_supported",
             _iso(max(sign_ins)) if sign_ins else "no_information", "not_supported", "not_supported",
             str(root.mfa_active).lower(), *_root_key(mine, root.access_key_created),
             "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"]
    return ",".join(cells)


def _root_summary(root: RootCredentials, body: str) -> str:
    """moto's account summary with the root user's MFA and access key as the account's ``root`` block
    says (moto has no root user): the same root the credential report's row shows."""
    for key, value in (("AccountMFAEnabled", root.mfa_active), ("AccountAccessKeysPresent",
                                                                 root.access_key_created is not None)):
        body = re.sub(rf"(<key>{key}</key>\s*<value>)\d+(</value>)", rf"\g<1>{int(value)}\g<2>", body)
    return body


def _root_key(events: list[Event], created: datetime | None) -> list[str]:
    """access_key_1_active, _last_rotated, _last_used_date, _last_used_region, _last_used_service."""
    if created is None:
        return ["false", "N/A", "N/A", "N/A", "N/A"]
    calls = [e for e in events if e.get("userAgent") in (CLI, SDK) and event_time(e) >= created]
    if not calls:
        return ["true", _iso(created), "N/A", "N/A", "N/A"]
    last = max(calls, key=event_time)
    return ["true", _iso(created), _iso(event_time(last)), last["awsRegion"], last["eventSource"].split(".")[0]]


def _iso(when: datetime) -> str:
    """A time as IAM writes it in credential reports: 2026-09-24T08:33:42+00:00."""
    return when.astimezone(UTC).isoformat(timespec="seconds")


def _caller(environ: dict) -> tuple[str, str]:
    """(account, region) of a signed request, from its access key as moto maps keys to accounts."""
    return _scope(environ)[:2]


def _scope(environ: dict) -> tuple[str, str, str]:
    """(account, region, service) of a signed request."""
    from moto.iam.models import get_account_id_from

    match = ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (get_account_id_from(match.group(1)), match.group(2), match.group(3)) if match else \
        ("123456789012", "us-east-1", "")


def _is_s3(environ: dict) -> bool:
    """Signed for S3, in the Authorization header or a presigned URL's X-Amz-Credential."""
    return "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", "") or \
        "%2Fs3%2Faws4_request" in environ.get("QUERY_STRING", "")


def _described(environ: dict) -> Call:
    account, region, service = _scope(environ)
    body = _read(environ) if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", "") else b""
    return describe(environ, body, account, service, region)


def _replace_metric_filter(account: str, region: str, params: dict) -> None:
    """PutMetricFilter creates or updates: an existing filter of that name on that log group is replaced
    (moto appends a second one, which would count events for both patterns)."""
    from moto.logs.models import logs_backends

    filters = logs_backends[account][region].filters.metric_filters
    filters[:] = [f for f in filters if (f["logGroupName"], f["filterName"]) !=
                  (params.get("logGroupName"), params.get("filterName"))]


def _read(environ: dict) -> bytes:
    """Read the request body and put it back, so the wrapped app can read it too."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


CONFIG_SINCE = timedelta(days=120)  # the sandbox's chain was made, and Config recorded it, before the window
CONFIG_LAG = timedelta(minutes=3)  # Config records a change a few minutes after it is made


def _config_resources(account: str, region: str) -> list[tuple[str, str, str, dict]]:
    """The account's chain resources of Config's types in moto today: (type, id, name, configuration)."""
    from moto.cloudtrail.models import cloudtrail_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.sns.models import sns_backends

    out = [("AWS::CloudTrail::Trail", t.trail_name, t.trail_name,
            {k[:1].lower() + k[1:]: v for k, v in t.description().items()})
           for t in cloudtrail_backends[account][region].trails.values()]
    out += [("AWS::CloudWatch::Alarm", a.name, a.name, _alarm_configuration(a))
            for a in cloudwatch_backends[account][region].alarms.values()]
    out += [("AWS::SNS::Topic", arn, arn.rsplit(":", 1)[-1], {"topicArn": arn})
            for arn in sns_backends[account][region].topics]
    return out


def _alarm_configuration(alarm: Any) -> dict:
    return {"alarmName": alarm.name, "alarmArn": alarm.alarm_arn, "actionsEnabled": alarm.actions_enabled,
            "alarmActions": alarm.alarm_actions, "okactions": alarm.ok_actions,
            "insufficientDataActions": alarm.insufficient_data_actions, "metricName": alarm.metric_name,
            "namespace": alarm.namespace, "statistic": alarm.statistic, "extendedStatistic": alarm.extended_statistic,
            "dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions], "period": alarm.period,
            "unit": alarm.unit, "evaluationPeriods": alarm.evaluation_periods,
            "datapointsToAlarm": alarm.datapoints_to_alarm, "threshold": alarm.threshold,
            "comparisonOperator": alarm.comparison_operator, "treatMissingData": alarm.treat_missing_data,
            "evaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile}


def _time(value: Any, default: datetime) -> datetime:
    return default if value is None else datetime.fromtimestamp(float(value), tz=UTC)


def _page(items: list, token: str | None, limit: int) -> tuple[list, str | None]:
    try:
        offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
    except ValueError:
        raise BridgeError("InvalidNextTokenException", "The NextToken is invalid.") from None
    end = offset + limit
    nxt = base64.urlsafe_b64encode(str(end).encode()).decode() if end < len(items) else None
    return items[offset:end], nxt


def _matcher(pattern: str) -> Callable[[str], bool]:
    """A filter pattern over log events' messages (sandbox/cloudwatch.py ``event_matcher``)."""
    try:
        matches = event_matcher(pattern)
    except PatternSyntaxError as exc:
        raise BridgeError("InvalidParameterException", f"Invalid filter pattern: {exc.reason}") from None
    return lambda message: matches(message, parsed_message(message))


def _text(start_response: StartResponse, status: str, body: bytes) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _lookup_region(event: Event) -> str:
    return event.get("awsRegion", "")


def _username(event: Event) -> str:
    ui = event.get("userIdentity", {})
    if ui.get("type") == "Root":
        return "root"
    if ui.get("type") == "AssumedRole":
        return ui.get("arn", "").rsplit("/", 1)[-1]
    return ui.get("userName") or ui.get("invokedBy", "")


def _lookup_value(event: Event, key: str) -> str:
    values = {
        "EventId": event.get("eventID"), "EventName": event.get("eventName"),
        "ReadOnly": str(event.get("readOnly", False)).lower(), "Username": _username(event),
        "EventSource": event.get("eventSource"), "AccessKeyId": event.get("userIdentity", {}).get("accessKeyId"),
        "ResourceType": None, "ResourceName": None,
    }
    if key not in values:
        raise BridgeError("InvalidLookupAttributesException", f"Invalid attribute key: {key}")
    return values[key]


def _lookup_item(event: Event) -> dict:
    return {"EventId": event["eventID"], "EventName": event["eventName"],
            "ReadOnly": str(event.get("readOnly", False)).lower(),
            "AccessKeyId": event.get("userIdentity", {}).get("accessKeyId", ""),
            "EventTime": event_time(event).timestamp(), "EventSource": event["eventSource"],
            "Username": _username(event), "Resources": [],
            "CloudTrailEvent": json.dumps(event)}
