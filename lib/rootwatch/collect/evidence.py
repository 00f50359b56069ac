"""Every API call kept as evidence, and every unreadable link kept as a gap.

A collector never swallows an error: the failed call is recorded with its error, a ``Gap`` names
the link it leaves unproven, and collection goes on with the rest (Prowler's habit of logging and
returning ``None`` is what this replaces).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore import xform_name

from rootwatch.collect.session import Clients, attempts, error_of
from rootwatch.models import Link


@dataclass
class RawCall:
    seq: int
    account_id: str
    region: str
    service: str
    operation: str
    params: dict[str, Any]
    started: datetime
    seconds: float = 0.0
    pages: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None
    retries: int = 0  # throttling and transient errors retried by botocore (adaptive mode)

    @property
    def filename(self) -> str:
        """Where the call is kept in a bundle: ``raw/<account>/<region>/<seq>-<service>.<Operation>.json``."""
        return (f"{path_component(self.account_id)}/{path_component(self.region)}/"
                f"{self.seq:04d}-{self.service}.{self.operation}.json")

    def to_json(self) -> str:
        call = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pages"}  # no deep copy of the pages
        return json.dumps({"call": call, "responses": self.pages}, indent=1, default=_jsonable, sort_keys=True)


@dataclass(frozen=True)
class Gap:
    """A link of the chain that could not be read: never a PASS, never a silent FAIL."""

    account_id: str
    region: str
    link: Link
    service: str
    operation: str
    error_code: str
    message: str
    evidence: str  # the raw call file that shows the error ("" when no call could be made)

    def __post_init__(self) -> None:
        if not isinstance(self.link, Link):  # a link named by text could be one the judge never routes
            raise TypeError(f"a gap names its link as a rootwatch.models.Link, not {self.link!r}")

    @property
    def text(self) -> str:
        """The gap in a reason's words, the same wherever a verdict or a plan names it."""
        return f"{self.operation} failed with {self.error_code}: {self.message}"


def path_component(text: str) -> str:
    """``text`` as one safe directory name: an account is filed under its label until AWS names it, and a
    label can be anyone's text (an Organizations account name such as ``../../etc``)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "unnamed"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Recorder:
    """Makes the calls of one account and keeps them; failures become gaps. Thread-safe: the
    collector calls one account's regions from several threads."""

    def __init__(self, clients: Clients, account_id: str, start_seq: int = 0) -> None:
        self.clients, self.account_id = clients, account_id
        self.calls: list[RawCall] = []
        self.gaps: list[Gap] = []
        self._seq = start_seq
        self._lock = threading.Lock()

    def call(self, region: str, service: str, operation: str, link: Link, **params: Any) -> dict | None:
        """One call; the response, or None after recording a gap."""
        pages = self._run(region, service, operation, link, params, paginate=False)
        return pages[0] if pages is not None else None

    def pages(self, region: str, service: str, operation: str, link: Link, **params: Any) -> list[dict] | None:
        """Every page of a paginated call; None after recording a gap."""
        return self._run(region, service, operation, link, params, paginate=True)

    def _run(self, region: str, service: str, operation: str, link: Link, params: dict[str, Any],
             paginate: bool) -> list[dict] | None:
        self._seq += 1
        record = RawCall(self._seq, self.account_id, region, service, operation, params,
                         datetime.now(UTC))
        self.calls.append(record)
        started, sent, pages = time.perf_counter(), attempts(), []
        try:
            client = self.clients.get(service, region)
            method = xform_name(operation)
            if paginate:
                pages.extend(client.get_paginator(method).paginate(**params))
            else:
                pages.append(getattr(client, method)(**params))
            if service == "sns":  # what the collector reads is what the evidence keeps: no webhook token
                pages[:] = [_without_endpoint_secrets(p) for p in pages]
            record.pages = [_redact(p) for p in pages] if service == "sts" else pages
            record.retries = max(attempts() - sent - len(pages), 0)  # 0 when stubbed: nothing was sent
            return pages
        except Exception as exc:  # noqa: BLE001 - error_of re-raises anything that is not AWS's
            code, message = error_of(exc)
            record.error = {"code": code, "message": message}
            record.retries = max(attempts() - sent - len(pages) - 1, 0)  # the pages before it, and its own try
            with self._lock:
                self.gaps.append(Gap(self.account_id, region, link, service, operation, code, message,
                                     f"raw/{record.filename}"))
            return None
        finally:
            record.seconds = time.perf_counter() - started


SECRETS = {"SecretAccessKey", "SessionToken"}


def _redact(value: Any) -> Any:
    """A copy without secrets: evidence bundles must never carry credentials."""
    if isinstance(value, dict):
        return {k: "<redacted>" if k in SECRETS else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def redact_url(endpoint: str) -> str:
    """An HTTP(S) subscription endpoint without what may be a credential — user info, path, query (a
    webhook's token is any of them) — but with a hash of the whole URL, so one subscriber can still be
    told from another and matched against the URL its owner holds. Other endpoints (e-mail, SMS, ARNs)
    pass unchanged."""
    parts = urlsplit(endpoint)
    if parts.scheme.lower() not in ("http", "https") or not (parts.username or parts.password or
                                                             parts.path.strip("/") or parts.query or parts.fragment):
        return endpoint
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}/<redacted sha256:{digest}>"


def _without_endpoint_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: redact_url(v) if k == "Endpoint" and isinstance(v, str) else _without_endpoint_secrets(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_without_endpoint_secrets(v) for v in value]
    return value


def write_raw(calls: list[RawCall], directory: Path) -> list[Path]:
    """Write each call with its responses (or error) under ``directory``; returns the paths."""
    written = []
    for call in calls:
        path = directory / call.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(call.to_json(), encoding="utf-8")
        written.append(path)
    return written
