"""The seeded organisation, and `rootwatch sandbox` as a user starts and stops it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3

HEALTHY, DRIFTED = "111111111111", "222222222222"


def _records(sandbox, account):
    return sandbox.state.records[account]


def test_two_accounts_with_their_aliases(clients):
    for account, alias in ((HEALTHY, "healthy"), (DRIFTED, "drifted")):
        assert clients(account, "iam").list_account_aliases()["AccountAliases"] == [alias]
        assert clients(account, "sts").get_caller_identity()["Account"] == account


def test_ninety_days_of_mostly_ordinary_activity_and_a_few_dozen_root_events(sandbox):
    for account in (HEALTHY, DRIFTED):
        records = _records(sandbox, account)
        root = [r for r in records if r["userIdentity"].get("type") == "Root"]
        assert len(records) > 2000 and 24 <= len(root) <= 60
        days = {r["eventTime"][:10] for r in records}
        assert len(days) >= 88
        kinds = {r["userIdentity"].get("type") for r in records}
        assert {"IAMUser", "AssumedRole", "AWSService", "Root"} <= kinds
        names = {(r["eventName"], r.get("responseElements", {}) and json.dumps(r.get("responseElements"))) for r in root}
        assert any(n == "ConsoleLogin" and "Failure" in str(resp) for n, resp in names)
        logins = [r for r in root if r["eventName"] == "ConsoleLogin"]
        assert {r["additionalEventData"]["MFAUsed"] for r in logins} == {"Yes", "No"}
        assert any(r["eventName"] == "CreateAccessKey" for r in root)
        assert any("invokedBy" in r["userIdentity"] for r in root)
        assert any(r["eventType"] == "AwsServiceEvent" for r in root)
        assert any(r["userAgent"] == "<script>alert(1)</script>" for r in root)


def test_log_groups_hold_every_record(clients, sandbox):
    for account in sandbox.accounts:
        logs = clients(account.account_id, "logs")
        held = [e for page in logs.get_paginator("filter_log_events").paginate(logGroupName=account.log_group)
                for e in page["events"]]
        assert len(held) == len(_records(sandbox, account.account_id))
        assert {json.loads(e["message"])["recipientAccountId"] for e in held} == {account.account_id}


def test_sandbox_command_serves_boto3_and_stops_on_sigint():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rootwatch", "sandbox"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(6)]
        exports = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines if line.startswith("export"))
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        session = boto3.Session(aws_access_key_id=exports["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=exports["AWS_SECRET_ACCESS_KEY"],
                                region_name=exports["AWS_DEFAULT_REGION"])
        sts = session.client("sts", endpoint_url=exports["AWS_ENDPOINT_URL"])
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{DRIFTED}:role/rootwatch-audit",
                                RoleSessionName="test")["Credentials"]
        member = boto3.client("cloudtrail", endpoint_url=exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                              aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                              aws_session_token=creds["SessionToken"])
        assert member.describe_trails()["trailList"][0]["Name"] == "main-trail"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert not Path(f"/proc/{proc.pid}").exists() or proc.poll() is not None
