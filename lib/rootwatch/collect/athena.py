"""Events from an organization trail's S3 archive through Athena, or from a CloudTrail Lake event
data store: run a query built by ``patterns.sql.query`` and read its rows back as CloudTrail
records, so the rest of rootwatch handles them like events from any other source.

Both services run a query asynchronously: start it, poll until it ends, page through the rows.
The wait is bounded, and a query that outlives it is stopped, because it would go on scanning
(and billing) the archive after rootwatch has given up on it. For example::

    sql = query(control.reference, ATHENA, "audit.cloudtrail_logs", window)
    rows = athena_events(session.client("athena"), sql, AthenaLocation("audit"))
    events = [e for e in rows if control.reference.matches(e)]  # drops what SQL reads more loosely
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from rootwatch.collect.session import error_of
from rootwatch.errors import QueryError
from rootwatch.patterns.sql import DOCUMENT, EVENT_TIME, FIELDS, FLAG

WAITING = {"QUEUED", "RUNNING"}  # the states of a query still to finish, in both services
_FIELD_NAMES = {name.lower(): name for name in (*FIELDS, EVENT_TIME)}  # engines may lowercase column labels


@dataclass(frozen=True)
class Polling:
    """How long to wait for a query, checking every ``interval`` seconds; ``sleep`` is injectable
    so tests do not wait."""

    interval: float = 2.0
    timeout: float = 900.0
    sleep: Callable[[float], None] = time.sleep

    @property
    def checks(self) -> int:
        return max(1, math.ceil(self.timeout / self.interval))


@dataclass(frozen=True)
class AthenaLocation:
    """Where Athena runs the query: the database holding the CloudTrail table, the workgroup, and
    the S3 prefix for results (``None``: the workgroup's own setting)."""

    database: str
    workgroup: str = "primary"
    output_location: str | None = None


def athena_events(client: Any, sql: str, location: AthenaLocation, polling: Polling = Polling()) -> list[dict]:
    """The CloudTrail records an Athena query selects (``client``: a boto3 Athena client)."""
    params: dict[str, Any] = {"QueryString": sql, "WorkGroup": location.workgroup,
                              "QueryExecutionContext": {"Database": location.database}}
    if location.output_location:
        params["ResultConfiguration"] = {"OutputLocation": location.output_location}
    with _aws_errors("Athena"):
        query_id = client.start_query_execution(**params)["QueryExecutionId"]

        def status() -> tuple[str, str]:
            state = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            return state["State"], state.get("StateChangeReason", "")

        _wait("Athena", query_id, status, "SUCCEEDED", lambda: client.stop_query_execution(QueryExecutionId=query_id),
              polling)
        pages = client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        rows = [[cell.get("VarCharValue") for cell in row["Data"]] for page in pages for row in page["ResultSet"]["Rows"]]
    header, *data = rows  # Athena's first row names the columns
    return [record(dict(zip(header, values, strict=True))) for values in data]


def lake_events(client: Any, sql: str, polling: Polling = Polling()) -> list[dict]:
    """The CloudTrail records a CloudTrail Lake query selects (``client``: a boto3 CloudTrail client;
    the SQL names the event data store)."""
    with _aws_errors("CloudTrail Lake"):
        query_id = client.start_query(QueryStatement=sql)["QueryId"]

        def status() -> tuple[str, str]:
            described = client.describe_query(QueryId=query_id)
            return described["QueryStatus"], described.get("ErrorMessage", "")

        _wait("CloudTrail Lake", query_id, status, "FINISHED", lambda: client.cancel_query(QueryId=query_id),
              polling)
        return [record({name: value for cell in row for name, value in cell.items()})
                for row in _lake_rows(client, query_id)]


def record(row: Mapping[str, str | None]) -> dict[str, Any]:
    """A CloudTrail record from one result row of ``patterns.sql.query``, whose columns are named by
    the fields they hold (``userIdentity.type``): NULL is an absent field, JSON-object fields are
    parsed back, readOnly is a boolean again."""
    event: dict[str, Any] = {}
    for label, value in row.items():
        if value is None:
            continue
        name = _FIELD_NAMES.get(label.lower(), label)
        *parents, leaf = name.split(".")
        node = event
        for parent in parents:
            node = node.setdefault(parent, {})
        kind = FIELDS.get(name)
        node[leaf] = json.loads(value) if kind == DOCUMENT else value == "true" if kind == FLAG else value
    return event


def _lake_rows(client: Any, query_id: str) -> Iterator[list[dict[str, str]]]:
    token: dict[str, str] = {}
    while True:
        page = client.get_query_results(QueryId=query_id, **token)
        yield from page.get("QueryResultRows", [])
        if not page.get("NextToken"):
            return
        token = {"NextToken": page["NextToken"]}


def _wait(service: str, query_id: str, status: Callable[[], tuple[str, str]], done: str, stop: Callable[[], Any],
          polling: Polling) -> None:
    for _ in range(polling.checks):
        state, reason = status()
        if state == done:
            return
        if state not in WAITING:
            raise QueryError(f"{service} query {query_id} ended {state}: {reason or 'no reason given'}",
                             "fix what the reason names (table, permissions, SQL) and run again")
        polling.sleep(polling.interval)
    stop()
    raise QueryError(f"{service} query {query_id} did not finish within {polling.timeout:g} s and was stopped",
                     "narrow the window or allow a longer timeout")


@contextmanager
def _aws_errors(service: str) -> Iterator[None]:
    """AWS refusing a call becomes a ``QueryError`` naming the service and AWS's own words."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        code, message = error_of(exc)
        raise QueryError(f"{service} refused the query: {code}: {message}",
                         "check the credentials' permissions and the names given") from exc
