"""The credential report as a second witness of root use: collected as evidence, and in the sandbox
agreeing with the seeded CloudTrail records."""

from __future__ import annotations

import json

import boto3
import pandas as pd
from botocore.stub import Stubber

from rootwatch.collect.evidence import Recorder, write_raw
from rootwatch.collect.iam import INTERVAL, credential_report, start_credential_report
from rootwatch.collect.session import Clients
from rootwatch.frames.credential_report import ROOT_USER, parse_credential_report, root_usage
from rootwatch.sandbox.events import event_time
from tests.conftest import SANDBOX_NOW

HEALTHY, DRIFTED = "111111111111", "222222222222"
REPORT = b"user,arn\n<root_account>,arn:aws:iam::999999999999:root\n"


def collected(sandbox, account: str) -> tuple[Recorder, str | None]:
    rec = Recorder(Clients(sandbox.session(account), sandbox.endpoint), account)
    return rec, credential_report(rec, "us-east-1", sleep=lambda seconds: None)


def root_records(sandbox, account: str) -> list[dict]:
    return [e for e in sandbox.state.records[account] if e["userIdentity"].get("type") == "Root"]


def last_console_sign_in(sandbox, account: str):
    return max(event_time(e) for e in root_records(sandbox, account)
               if e["eventName"] == "ConsoleLogin" and e["responseElements"]["ConsoleLogin"] == "Success")


def test_root_row_agrees_with_the_seeded_records(sandbox, tmp_path):
    usage = {}
    for account in (HEALTHY, DRIFTED):
        rec, text = collected(sandbox, account)
        assert rec.gaps == [] and text is not None
        assert [c.operation for c in rec.calls][-1] == "GetCredentialReport"
        assert {c.operation for c in rec.calls[:-1]} == {"GenerateCredentialReport"}
        assert rec.calls[-1].pages[0]["GeneratedTime"] == SANDBOX_NOW  # not moto's fixed 2015 date
        frame = parse_credential_report(text, account)
        assert frame["user"].iloc[0] == ROOT_USER  # first, as IAM writes it
        [usage[account]] = root_usage(frame).to_dict("records")
        kept = json.loads(write_raw(rec.calls, tmp_path)[-1].read_text())
        assert f"arn:aws:iam::{account}:root" in kept["responses"][0]["Content"]  # the CSV lands in raw/

    healthy, drifted = usage[HEALTHY], usage[DRIFTED]
    for account, root in usage.items():
        assert root["password_last_used"] == last_console_sign_in(sandbox, account)
        assert root["password_last_used_status"] == "recorded"
    assert healthy["mfa_active"] and not healthy["access_keys_active"]
    assert healthy["last_used_with"] == "password"
    assert pd.isna(healthy["access_key_1_last_used_date"])

    assert not drifted["mfa_active"] and drifted["access_keys_active"]
    from_the_cli = max((e for e in root_records(sandbox, DRIFTED) if e["userAgent"].startswith("aws-cli/")),
                       key=event_time)
    assert drifted["access_key_1_last_used_date"] == event_time(from_the_cli)
    assert (drifted["access_key_1_last_used_region"], drifted["access_key_1_last_used_service"]) == \
        (from_the_cli["awsRegion"], from_the_cli["eventSource"].split(".")[0])


def test_report_generation_is_polled_until_complete():
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1")
    clients = Clients(session)
    stub = Stubber(clients.get("iam", "us-east-1"))
    stub.add_response("generate_credential_report", {"State": "STARTED", "Description": "No report exists."})
    stub.add_response("generate_credential_report", {"State": "INPROGRESS"})
    stub.add_response("generate_credential_report", {"State": "COMPLETE"})
    stub.add_response("get_credential_report", {"Content": REPORT, "ReportFormat": "text/csv",
                                                "GeneratedTime": SANDBOX_NOW})
    stub.activate()
    slept: list[float] = []
    rec = Recorder(clients, "999999999999")
    assert credential_report(rec, "us-east-1", sleep=slept.append) == REPORT.decode()
    assert slept == [INTERVAL, 2 * INTERVAL]  # backing off
    assert [c.operation for c in rec.calls] == ["GenerateCredentialReport"] * 3 + ["GetCredentialReport"]
    assert rec.gaps == []
    stub.assert_no_pending_responses()


def test_a_report_started_before_the_chain_is_read_without_waiting():
    """The collector starts the report first and reads it last: the first poll is already made."""
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1")
    clients = Clients(session)
    stub = Stubber(clients.get("iam", "us-east-1"))
    stub.add_response("generate_credential_report", {"State": "STARTED", "Description": "No report exists."})
    stub.add_response("generate_credential_report", {"State": "COMPLETE"})
    stub.add_response("get_credential_report", {"Content": REPORT, "ReportFormat": "text/csv",
                                                "GeneratedTime": SANDBOX_NOW})
    stub.activate()
    slept: list[float] = []
    rec = Recorder(clients, "999999999999")
    started = start_credential_report(rec, "us-east-1")
    assert credential_report(rec, "us-east-1", sleep=slept.append, started=started) == REPORT.decode()
    assert slept == []
    assert [c.operation for c in rec.calls] == ["GenerateCredentialReport"] * 2 + ["GetCredentialReport"]
    stub.assert_no_pending_responses()


def test_a_report_never_finished_or_refused_is_a_gap():
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="secret", region_name="us-east-1")
    clients = Clients(session)
    stub = Stubber(clients.get("iam", "us-east-1"))
    for _ in range(2):
        stub.add_response("generate_credential_report", {"State": "INPROGRESS"})
    stub.add_client_error("get_credential_report", "ReportInProgress", "Report is still being generated.", 404)
    stub.add_client_error("generate_credential_report", "AccessDenied", "not authorized to perform: "
                          "iam:GenerateCredentialReport", 403)
    stub.activate()
    rec = Recorder(clients, "999999999999")
    assert credential_report(rec, "us-east-1", polls=2, sleep=lambda seconds: None) is None
    assert credential_report(rec, "us-east-1", sleep=lambda seconds: None) is None
    assert [(g.link.id, g.operation, g.error_code) for g in rec.gaps] == [
        ("credential-report", "GetCredentialReport", "ReportInProgress"),
        ("credential-report", "GenerateCredentialReport", "AccessDenied")]
    assert [c.operation for c in rec.calls][-1] == "GenerateCredentialReport"  # nothing asked after a refusal
    stub.assert_no_pending_responses()
