"""Faults injected in front of the sandbox: the failures real accounts produce — throttling, 5xx,
timeouts, AccessDenied, credentials expiring mid-run, an opt-in region that is not enabled, a log
group deleted between two calls — answered the way AWS answers them, in each wire protocol, so the
production client (botocore's retries and error parsing included) meets them unchanged.

A fault names the calls it hits (operation, region, account), how many it lets through first
(``after``: "mid-run") and how many it spoils (``times``; none: every one from then on). The
kinds and their codes are data (faults.yaml). Only the sandbox uses this module.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

import yaml

from rootwatch.errors import ParameterError

KINDS: dict[str, dict[str, Any]] = yaml.safe_load(Path(__file__).with_name("faults.yaml").read_text("utf-8"))["kinds"]
REQUEST_ID = "00000000-0000-4000-8000-fault0000000"
StartResponse = Callable[..., Any]


@dataclass
class Fault:
    kind: str
    operation: str = "*"  # API operation (DescribeTrails, AssumeRole, GetObject...), or every one
    region: str | None = None
    account: str | None = None
    after: int = 0  # matching requests let through before the fault starts
    times: int | None = None  # requests spoiled; None: every matching request once started
    seen: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParameterError(f"unknown sandbox fault kind {self.kind!r}", f"use one of {', '.join(KINDS)}")

    def describe(self) -> str:
        where = " ".join(x for x in (self.operation if self.operation != "*" else "every call",
                                     f"in {self.region}" if self.region else "",
                                     f"of account {self.account}" if self.account else "") if x)
        when = (f", after {self.after} went through" if self.after else "") + \
            (f", {self.times} time(s)" if self.times is not None else ", every time")
        return f"{KINDS[self.kind]['what']} on {where}{when}"

    def hits(self, call: Call) -> bool:
        """Whether this request is spoiled (counting it either way when it matches)."""
        if (self.operation not in ("*", call.operation) or self.region not in (None, call.region)
                or self.account not in (None, call.account)):
            return False
        self.seen += 1
        spoiled = self.seen - self.after
        return spoiled > 0 and (self.times is None or spoiled <= self.times)


@dataclass(frozen=True)
class Call:
    """What a request asks, as far as faults care."""

    protocol: str  # json | query | s3
    service: str
    operation: str
    region: str
    account: str
    query_compatible: bool  # a JSON service that also answers with awsQuery error codes (CloudWatch)


def load(path: str | Path) -> list[Fault]:
    """``faults: [{kind: throttling, operation: DescribeTrails, times: 2}, ...]`` from a YAML file."""
    try:
        items = (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("faults") or []
    except (OSError, yaml.YAMLError, AttributeError) as exc:
        raise ParameterError(f"sandbox faults file {path} cannot be read ({exc})",
                             "give a YAML file with a 'faults:' list") from None
    names = {f.name for f in fields(Fault)} - {"seen"}
    for item in items:
        unknown = set(item) - names if isinstance(item, dict) else {"(not a mapping)"}
        if unknown:
            raise ParameterError(f"sandbox fault {item!r} has unknown keys {sorted(unknown)}",
                                 f"use {', '.join(sorted(names))}")
    return [Fault(**item) for item in items]


class Faults:
    """The armed faults of a sandbox; thread-safe (the server answers requests on many threads)."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._faults = list(faults)
        self._lock = threading.Lock()

    def set(self, faults: Iterable[Fault]) -> None:
        with self._lock:
            self._faults = list(faults)

    def clear(self) -> None:
        self.set([])

    @property
    def armed(self) -> bool:
        return bool(self._faults)

    @property
    def holds(self) -> list[float]:
        with self._lock:
            return [KINDS[f.kind]["hold"] for f in self._faults if "hold" in KINDS[f.kind]]

    def answer(self, call: Call, start_response: StartResponse) -> Iterable[bytes] | None:
        """The spoiled answer to ``call``, or None to let it through (after holding it, for a timeout)."""
        with self._lock:
            fault = next((f for f in self._faults if f.hits(call)), None)
        if fault is None:
            return None
        kind = KINDS[fault.kind]
        if "hold" in kind:
            time.sleep(kind["hold"])  # the client has given up by now; the late answer goes nowhere
            return None
        return _error(call, kind, start_response)


def _error(call: Call, kind: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    wire = kind[call.protocol]
    message = kind["message"].format(account=call.account, action=f"{call.service}:{call.operation}")
    headers = [("x-amzn-RequestId", REQUEST_ID)]
    if call.protocol == "json":
        body = json.dumps({"__type": wire["code"], "message": message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.1"))
        if call.query_compatible:
            headers.append(("x-amzn-query-error", f"{wire.get('query_code', wire['code'])};Sender"))
    elif call.protocol == "query":
        body = (f'<ErrorResponse xmlns="https://{call.service}.amazonaws.com/doc/"><Error><Type>Sender</Type>'
                f"<Code>{wire['code']}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{REQUEST_ID}</RequestId></ErrorResponse>").encode()
        headers.append(("Content-Type", "text/xml"))
    else:
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{wire['code']}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{REQUEST_ID}</RequestId></Error>").encode()
        headers.append(("Content-Type", "application/xml"))
    start_response(f"{wire['status']} Fault", [*headers, ("Content-Length", str(len(body)))])
    return [body]


def describe(environ: dict, body: bytes, account: str, service: str, region: str) -> Call:
    """The ``Call`` a WSGI request makes, from its target header, query action or S3 path."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return Call("json", service, target.rpartition(".")[2], region, account,
                    bool(environ.get("HTTP_X_AMZN_QUERY_MODE")))
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        return Call("query", service, action, region, account, False)
    return Call("s3", service, _s3_operation(environ), region, account, False)


def _s3_operation(environ: dict) -> str:
    method, path, query = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"), \
        environ.get("QUERY_STRING", "")
    keyed = path.strip("/").count("/") >= 1
    if method == "GET":
        return "GetObject" if keyed else "ListObjectsV2" if "list-type=2" in query else "ListObjects"
    return {"PUT": "PutObject" if keyed else "CreateBucket", "HEAD": "HeadObject" if keyed else "HeadBucket",
            "DELETE": "DeleteObject" if keyed else "DeleteBucket"}.get(method, method)
