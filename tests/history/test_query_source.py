"""The chain's changes read with one SQL query (issue 19): an Athena table over the trails' files or a
CloudTrail Lake event data store, the rows fed to the same reconstruction; stubbed clients."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
import pytest
from botocore.stub import Stubber

from rootwatch.collect.changes import change_history
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.session import Clients
from rootwatch.errors import ParameterError
from rootwatch.judge.chain import chain_operation, judge_operation
from rootwatch.params import HistoryQuery, RunParams
from rootwatch.patterns.sql import DEFAULT_COLUMNS, DOCUMENT, FIELDS, FLAG
from tests.history.chain import ACCOUNT, BENCHMARK, REGION, record
from tests.history.test_changes import AS_OF, WINDOW
from tests.history.test_story import FILTER
from tests.history.test_wiring import evidence

STORY = [record("PutMetricFilter", "2026-07-01T08:00:00Z", {**FILTER, "filterPattern": BENCHMARK}),
         record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
         record("StartLogging", "2026-08-10T12:00:00Z", {"name": "main"})]
ATHENA_SOURCE = HistoryQuery("athena", "audit.cloudtrail_logs", "rootwatch", "s3://audit-results/athena/")
LAKE_SOURCE = HistoryQuery("lake", "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE")
LAKE_ID = "0a1b2c3d-0e8e-4f8b-9c91-2d4b5e6f7a8b"


def _value(event: dict, name: str, lake: bool) -> str | None:
    node = event
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return None
    if FIELDS.get(name) == DOCUMENT:  # Lake's map<string,string>: a list inside is its JSON text
        return json.dumps({k: json.dumps(v) if lake and isinstance(v, list | dict) else v for k, v in node.items()})
    return ("true" if node else "false") if FIELDS.get(name) == FLAG else str(node)


def _recorder() -> Recorder:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    return Recorder(Clients(session), ACCOUNT)


def _athena(rec: Recorder, rows: list[dict], state: str = "SUCCEEDED") -> Stubber:
    stub = Stubber(rec.clients.get("athena", REGION))
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    stub.add_response("get_query_execution", {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {
        "State": state, **({"StateChangeReason": "Table audit.cloudtrail_logs does not exist"}
                           if state == "FAILED" else {})}}}, {"QueryExecutionId": "q-1"})
    if state == "SUCCEEDED":
        cells = [[c.lower() for c in DEFAULT_COLUMNS]] + [[_value(e, c, False) for c in DEFAULT_COLUMNS] for e in rows]
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [
            {"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in cells]}},
            {"QueryExecutionId": "q-1"})
    return stub


def test_athena_rows_are_the_changes_the_reconstruction_judges(catalog):
    rec = _recorder()
    with _athena(rec, STORY) as stub:
        history = change_history(rec, ACCOUNT, [REGION], [], WINDOW, AS_OF, archive=False, source=ATHENA_SOURCE)
        stub.assert_no_pending_responses()
    sent = rec.clients.get("athena", REGION)  # the SQL asked for the change events, name with source, of the account
    assert sent and history.source == "athena:audit.cloudtrail_logs" and history.coverage is None
    assert "eventname IN ('StopLogging'" not in history.sql  # each name goes with its own event source
    assert ("(eventsource = 'cloudtrail.amazonaws.com' AND eventname IN ('CreateTrail', 'UpdateTrail', 'DeleteTrail', "
            "'StartLogging', 'StopLogging', 'PutEventSelectors'))") in history.sql
    assert f"recipientaccountid = '{ACCOUNT}'" in history.sql and "FROM audit.cloudtrail_logs" in history.sql
    assert [r["eventName"] for r in history.records] == ["PutMetricFilter", "StopLogging", "StartLogging"]
    control = catalog.control("4.3")
    ev = evidence(history.records)
    ev.changes = history
    op = chain_operation(ev, control, catalog)
    assert [(b.broken_by[0].event_name, b.fixed_by[0].event_name, b.duration) for b in op.chain.failed] == [
        ("StopLogging", "StartLogging", timedelta(hours=2))]
    finding = judge_operation(ev, control, op, timedelta(hours=1))
    assert finding.status == "FAIL"
    assert any(n.startswith("the chain's changes were read with one query of athena:audit.cloudtrail_logs: SELECT")
               for n in finding.notes)


def test_lake_rows_with_their_lists_as_json_text_are_read_back(catalog):
    rec = _recorder()
    stub = Stubber(rec.clients.get("cloudtrail", REGION))
    stub.add_response("start_query", {"QueryId": LAKE_ID})
    stub.add_response("describe_query", {"QueryId": LAKE_ID, "QueryStatus": "FINISHED"}, {"QueryId": LAKE_ID})
    stub.add_response("get_query_results", {"QueryStatus": "FINISHED", "QueryResultRows": [
        [{c: v} for c in DEFAULT_COLUMNS if (v := _value(e, c, True)) is not None] for e in STORY]},
        {"QueryId": LAKE_ID})
    with stub:
        history = change_history(rec, ACCOUNT, [REGION], [], WINDOW, AS_OF, archive=False, source=LAKE_SOURCE)
    assert "FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE" in history.sql and "eventName IN (" in history.sql
    [put] = [r for r in history.records if r["eventName"] == "PutMetricFilter"]
    assert put["requestParameters"]["metricTransformations"] == FILTER["metricTransformations"]
    ev = evidence(history.records)
    ev.changes = history
    op = chain_operation(ev, catalog.control("4.3"), catalog)
    # the filter is known from its PutMetricFilter on (read whole from Lake's text), not before it
    assert [(b.start, b.end) for b in op.chain.breaks if b.status == "GAP"] == [
        (WINDOW.start, WINDOW.start + timedelta(hours=8))]
    assert [b.broken_by[0].event_name for b in op.chain.failed] == ["StopLogging"]


def test_a_failed_query_is_the_historys_gap_with_its_reason(catalog):
    rec = _recorder()
    with _athena(rec, [], "FAILED"):
        history = change_history(rec, ACCOUNT, [REGION], [], WINDOW, AS_OF, archive=False, source=ATHENA_SOURCE)
    [gap] = rec.gaps
    assert history.records == [] and gap.operation == "StartQueryExecution"
    ev = evidence([])
    ev.changes, ev.gaps = history, rec.gaps
    control = catalog.control("4.3")
    finding = judge_operation(ev, control, chain_operation(ev, control, catalog), timedelta(0))
    assert finding.status == "GAP" and "Table audit.cloudtrail_logs does not exist" in finding.links[0].reason


@pytest.mark.parametrize("given, problem", [
    ({"athena": "audit.cloudtrail_logs; DROP TABLE x"}, "is not a table name"),
    ({"athena": "a.b", "lake": "c"}, "names one of athena or lake"),
    ({"lake": "store", "workgroup": "primary"}, "takes only the event data store's ID"),
    ({"athena": "a.b", "output_location": "/tmp/x"}, "an s3:// URL"),
])
def test_history_source_is_checked_before_anything_runs(given, problem):
    with pytest.raises(ParameterError, match=problem):
        RunParams.from_mapping({"source": "aws", "regions": ["us-east-1"], "window": "2026-Q3",
                                "history_source": given})
    ok = RunParams.from_mapping({"source": "aws", "regions": ["us-east-1"], "window": "2026-Q3",
                                 "history_source": {"athena": "audit.cloudtrail_logs"}})
    assert ok.history_source == HistoryQuery("athena", "audit.cloudtrail_logs")
