"""`rootwatch drill` as a user runs it, against a `rootwatch sandbox` process (its own: the drill
writes), reached as an AWS endpoint. moto's metric filters publish no datapoints yet (issue 20's
sandbox semantics are another part of the issue), so the sandbox's healthy chain stops at the
datapoint: the write is real, the stop is signed evidence, and the exit code is 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from rootwatch.bundle.sign import SshSigner, config_dir
from tests.sandbox_process import ROOT, child_environment

HEALTHY = "111111111111"


@pytest.fixture(scope="module")
def drilled(sandbox_process, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    tmp = tmp_path_factory.mktemp("drill")
    params = tmp / "drill.yaml"
    params.write_text(yaml.safe_dump({"source": "aws", "accounts": [sandbox_process.members[HEALTHY]],
                                      "regions": ["us-east-1"], "window": "last-90-days"}))
    SshSigner.development()  # the key the child signs with (it shares this process's config directory)
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "drill", str(params), "--yes",
                           "--max-wait", "2", "--interval", "1", "--out", str(tmp / "bundle")], cwd=ROOT,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=child_environment(**sandbox_process.exports), timeout=300, check=False)
    return done, tmp / "bundle"


def test_the_drill_writes_its_record_and_stops_at_the_missing_datapoint(drilled, sandbox_process):
    done, bundle = drilled
    assert done.returncode == 1, done.stderr
    assert "stopped at 'metric datapoint' (link: metric filter): a datapoint of the alarm's metric: none within " \
           "2 s" in done.stdout
    assert "rootwatch drill: waiting for a datapoint of the alarm's metric" in done.stderr
    plan = json.loads((bundle / "plan.json").read_text())
    role = sandbox_process.members[HEALTHY]
    sts = boto3.client("sts", endpoint_url=sandbox_process.exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id=sandbox_process.exports["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=sandbox_process.exports["AWS_SECRET_ACCESS_KEY"])
    creds = sts.assume_role(RoleArn=role, RoleSessionName="check")["Credentials"]
    logs = boto3.client("logs", endpoint_url=sandbox_process.exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])
    [event] = logs.get_log_events(logGroupName=plan["log_group"], logStreamName=plan["stream"])["events"]
    written = json.loads(event["message"])
    assert written == {**plan["record"], "eventTime": written["eventTime"]}  # the plan's record, timed at the write
    assert written["eventID"] == plan["drill_id"]


def test_the_stopped_drill_is_a_signed_bundle_rootwatch_verify_accepts(drilled, capsys):
    from rootwatch import cli

    _, bundle = drilled
    code = cli.main(["verify", str(bundle), "--trusted-key", str(config_dir() / "signing" / "dev_ed25519.pub")])
    assert code == 0, capsys.readouterr().out
    steps = [json.loads(line)["event"] for line in (bundle / "steps.jsonl").read_text().splitlines()]
    assert steps == ["plan", "write", "datapoint"]
