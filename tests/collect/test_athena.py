"""Running the generated SQL on Athena and CloudTrail Lake, against stubbed clients: rows come back
as CloudTrail records across result pages, a failed query names AWS's reason, a query that does
not finish in time is stopped, and AWS refusing the call is one rootwatch error."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from rootwatch.collect.athena import AthenaLocation, Polling, athena_events, lake_events
from rootwatch.errors import QueryError
from rootwatch.models import Window
from rootwatch.patterns.sql import ATHENA, CLOUDTRAIL_LAKE, query

WINDOW = Window(datetime(2026, 7, 4, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC))
LOCATION = AthenaLocation(database="audit", workgroup="rootwatch", output_location="s3://audit-results/athena/")
STORE = "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"
LAKE_ID = "0a1b2c3d-0e8e-4f8b-9c91-2d4b5e6f7a8b"  # QueryIds are UUIDs (36 characters)
ROOT_LOGIN = {"eventTime": "2026-08-03T07:41:09Z", "eventName": "ConsoleLogin",
              "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"},
              "additionalEventData": {"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com/"}, "readOnly": False}
ROOT_KEY = {"eventTime": "2026-09-01T12:00:00Z", "eventName": "CreateAccessKey",
            "userIdentity": {"type": "Root", "arn": "arn:aws:iam::111122223333:root"}, "readOnly": False}


def _client(service: str):
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                        aws_secret_access_key="secret")


@pytest.fixture
def sql(catalog):
    return query(catalog.control("4.3").reference, ATHENA, "audit.cloudtrail_logs", WINDOW,
                 columns=("eventTime", "eventName", "userIdentity.type", "userIdentity.arn", "additionalEventData",
                          "readOnly"))


@pytest.fixture
def slept():
    return []


def _polling(slept: list, timeout: float = 60) -> Polling:
    return Polling(interval=5, timeout=timeout, sleep=slept.append)


def _athena_row(*values: str | None) -> dict:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


def _athena_status(state: str, reason: str = "") -> dict:
    status = {"State": state} | ({"StateChangeReason": reason} if reason else {})
    return {"QueryExecution": {"QueryExecutionId": "q-1", "Status": status}}


def _start_athena(stub: Stubber, sql: str) -> None:
    stub.add_response("start_query_execution", {"QueryExecutionId": "q-1"}, {
        "QueryString": sql, "WorkGroup": "rootwatch", "QueryExecutionContext": {"Database": "audit"},
        "ResultConfiguration": {"OutputLocation": "s3://audit-results/athena/"}})


def test_athena_rows_come_back_as_cloudtrail_records_across_pages(sql, slept):
    client = _client("athena")
    with Stubber(client) as stub:
        _start_athena(stub, sql)
        for state in ("QUEUED", "RUNNING", "SUCCEEDED"):
            stub.add_response("get_query_execution", _athena_status(state), {"QueryExecutionId": "q-1"})
        # Athena names the columns in the first row, and may lowercase them
        header = _athena_row("eventtime", "eventname", "useridentity.type", "useridentity.arn",
                             "additionaleventdata", "readonly")
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [header, _athena_row(
            "2026-08-03T07:41:09Z", "ConsoleLogin", "Root", "arn:aws:iam::111122223333:root",
            '{"MFAUsed":"No","LoginTo":"https://console.aws.amazon.com/"}', "false")]}, "NextToken": "page-2"},
            {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_results", {"ResultSet": {"Rows": [_athena_row(
            "2026-09-01T12:00:00Z", "CreateAccessKey", "Root", "arn:aws:iam::111122223333:root", None, "false")]}},
            {"QueryExecutionId": "q-1", "NextToken": "page-2"})
        events = athena_events(client, sql, LOCATION, _polling(slept))
        stub.assert_no_pending_responses()
    assert events == [ROOT_LOGIN, ROOT_KEY]
    assert slept == [5, 5]  # one wait per unfinished check


def test_a_failed_athena_query_names_the_state_change_reason(sql, slept):
    client = _client("athena")
    reason = "TABLE_NOT_FOUND: line 23:6: Table 'awsdatacatalog.audit.cloudtrail_logs' does not exist"
    with Stubber(client) as stub:
        _start_athena(stub, sql)
        stub.add_response("get_query_execution", _athena_status("RUNNING"), {"QueryExecutionId": "q-1"})
        stub.add_response("get_query_execution", _athena_status("FAILED", reason), {"QueryExecutionId": "q-1"})
        with pytest.raises(QueryError) as caught:
            athena_events(client, sql, LOCATION, _polling(slept))
    line = caught.value.one_line()
    assert "Athena query q-1 ended FAILED" in line and reason in line and "\n" not in line


def test_an_athena_query_that_outlives_the_wait_is_stopped(sql, slept):
    client = _client("athena")
    with Stubber(client) as stub:
        _start_athena(stub, sql)
        for _ in range(3):  # 15 s at one check every 5 s
            stub.add_response("get_query_execution", _athena_status("RUNNING"), {"QueryExecutionId": "q-1"})
        stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
        with pytest.raises(QueryError, match="did not finish within 15 s and was stopped"):
            athena_events(client, sql, LOCATION, _polling(slept, timeout=15))
        stub.assert_no_pending_responses()
    assert slept == [5, 5, 5]


def test_athena_refusing_the_call_is_a_query_error_in_aws_words(sql, slept):
    client = _client("athena")
    with Stubber(client) as stub:
        stub.add_client_error("start_query_execution", "InvalidRequestException",
                              "WorkGroup rootwatch is not found.")
        with pytest.raises(QueryError, match="Athena refused the query: InvalidRequestException: WorkGroup "
                                             "rootwatch is not found"):
            athena_events(client, sql, LOCATION, _polling(slept))


@pytest.fixture
def lake_sql(catalog):
    return query(catalog.control("4.3").reference, CLOUDTRAIL_LAKE, STORE, WINDOW,
                 columns=("eventTime", "eventName", "userIdentity.type", "userIdentity.arn", "additionalEventData",
                          "readOnly"))


def _lake_row(event_time: str, name: str, extra: dict | None) -> list[dict]:
    cells = [{"eventTime": event_time}, {"eventName": name}, {"userIdentity.type": "Root"},
             {"userIdentity.arn": "arn:aws:iam::111122223333:root"}, {"readOnly": "false"}]
    return cells + ([{"additionalEventData": extra}] if extra else [])


def test_lake_rows_come_back_as_cloudtrail_records_across_pages(lake_sql, slept):
    client = _client("cloudtrail")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"QueryId": LAKE_ID}, {"QueryStatement": lake_sql})
        stub.add_response("describe_query", {"QueryId": LAKE_ID, "QueryStatus": "QUEUED"}, {"QueryId": LAKE_ID})
        stub.add_response("describe_query", {"QueryId": LAKE_ID, "QueryStatus": "FINISHED"}, {"QueryId": LAKE_ID})
        stub.add_response("get_query_results", {"QueryStatus": "FINISHED", "NextToken": "page-2", "QueryResultRows": [
            _lake_row("2026-08-03T07:41:09Z", "ConsoleLogin",
                      '{"MFAUsed":"No","LoginTo":"https://console.aws.amazon.com/"}')]}, {"QueryId": LAKE_ID})
        stub.add_response("get_query_results", {"QueryStatus": "FINISHED", "QueryResultRows": [
            _lake_row("2026-09-01T12:00:00Z", "CreateAccessKey", None)]}, {"QueryId": LAKE_ID, "NextToken": "page-2"})
        events = lake_events(client, lake_sql, _polling(slept))
        stub.assert_no_pending_responses()
    assert events == [ROOT_LOGIN, ROOT_KEY]
    assert slept == [5]


def test_a_failed_lake_query_names_the_error_message(lake_sql, slept):
    client = _client("cloudtrail")
    message = "Query failed: event data store EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE is not found"
    with Stubber(client) as stub:
        stub.add_response("start_query", {"QueryId": LAKE_ID}, {"QueryStatement": lake_sql})
        stub.add_response("describe_query", {"QueryId": LAKE_ID, "QueryStatus": "FAILED", "ErrorMessage": message},
                          {"QueryId": LAKE_ID})
        with pytest.raises(QueryError, match=f"CloudTrail Lake query {LAKE_ID} ended FAILED") as caught:
            lake_events(client, lake_sql, _polling(slept))
    assert message in caught.value.one_line() and slept == []


def test_a_lake_query_that_outlives_the_wait_is_cancelled(lake_sql, slept):
    client = _client("cloudtrail")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"QueryId": LAKE_ID}, {"QueryStatement": lake_sql})
        for _ in range(2):
            stub.add_response("describe_query", {"QueryId": LAKE_ID, "QueryStatus": "RUNNING"}, {"QueryId": LAKE_ID})
        stub.add_response("cancel_query", {"QueryId": LAKE_ID, "QueryStatus": "CANCELLED"}, {"QueryId": LAKE_ID})
        with pytest.raises(QueryError, match="did not finish within 10 s and was stopped"):
            lake_events(client, lake_sql, _polling(slept, timeout=10))
        stub.assert_no_pending_responses()
