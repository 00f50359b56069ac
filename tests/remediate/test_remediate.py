"""`rootwatch remediate` against a running `rootwatch sandbox` (its own process: the changes must not
leak into the session's shared sandbox), read as an AWS endpoint, as a user would point it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
import yaml

from tests.sandbox_process import ROOT, SandboxProcess, child_environment, serve

DRIFTED = "222222222222"
ROOT_ALARM = "cis-4.3-root-account-usage"  # the catalog's alarm name for CIS 4.3
DATA_EVENTS = {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "ExcludeManagementEventSources": [],
               "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::drifted-payroll/"]},
                                 {"Type": "AWS::Lambda::Function", "Values": ["arn:aws:lambda"]}]}
# what an alarm is, as DescribeAlarms shows it: its state and the time it was last changed aside
ALARM_SETTINGS = ("AlarmName", "AlarmArn", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
                  "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
                  "EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData")


def _remediate(sandbox: SandboxProcess, tmp_path: Path, out: str | Path, *flags: str,
               **settings: object) -> subprocess.CompletedProcess:
    params = tmp_path / "remediate.yaml"
    params.write_text(yaml.safe_dump({"source": "aws", "accounts": [sandbox.members[DRIFTED]],
                                      "regions": ["us-east-1"], "window": "last-90-days", "controls": "all",
                                      **settings}))
    return subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "remediate", str(params),
                           "--out", str(tmp_path / out), *flags], cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=child_environment(**sandbox.exports), timeout=300, check=False)


def _member(sandbox: SandboxProcess, service: str):
    """A client of the drifted account through its role, as its administrator would change it."""
    base = boto3.Session(aws_access_key_id=sandbox.exports["AWS_ACCESS_KEY_ID"],
                         aws_secret_access_key=sandbox.exports["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    endpoint = sandbox.exports["AWS_ENDPOINT_URL"]
    creds = base.client("sts", endpoint_url=endpoint).assume_role(RoleArn=sandbox.members[DRIFTED],
                                                                  RoleSessionName="admin")["Credentials"]
    return base.client(service, endpoint_url=endpoint, aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def _verdicts(folder: Path) -> dict[str, tuple[str, str]]:
    with (folder / "before-after.csv").open() as f:
        return {row["control"]: (row["before"], row["after"]) for row in csv.DictReader(f)}


def test_apply_without_yes_refuses_when_no_one_can_confirm(sandbox_process, tmp_path):
    done = _remediate(sandbox_process, tmp_path, "refused", "--apply")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "add --yes" in done.stderr
    assert not (tmp_path / "refused").exists()


def test_a_notify_address_sns_cannot_use_is_refused(sandbox_process, tmp_path):
    done = _remediate(sandbox_process, tmp_path, "bad", "--notify", "secops")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--notify 'secops'" in done.stderr
    assert not (tmp_path / "bad").exists()


def test_remediation_turns_the_drifted_account_green_and_a_second_apply_changes_nothing(sandbox_process, tmp_path):
    dry = _remediate(sandbox_process, tmp_path, "dry")
    assert dry.returncode == 1, dry.stderr[-2000:]
    assert "aws logs put-metric-filter" in dry.stdout and "aws cloudwatch put-metric-alarm" in dry.stdout
    assert "cis-4.3-root-account-usage" in dry.stdout
    assert (tmp_path / "dry" / DRIFTED / "cloudformation.yaml").is_file()
    assert (tmp_path / "dry" / DRIFTED / "main.tf").is_file()
    assert not (tmp_path / "dry" / "raw").exists()  # a dry run calls nothing that changes
    assert set(_verdicts(tmp_path / "dry").values()) == {("FAIL", "—")}

    applied = _remediate(sandbox_process, tmp_path, "applied", "--apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-3000:]
    verdicts = _verdicts(tmp_path / "applied")
    assert len(verdicts) == 15 and set(verdicts.values()) == {("FAIL", "PASS")}
    made = [json.loads(p.read_text())["call"] for p in sorted((tmp_path / "applied" / "raw").rglob("*.json"))]
    operations = [c["operation"] for c in made if c["operation"] != "AssumeRole"]
    assert operations.count("PutMetricFilter") == 15 and operations.count("PutMetricAlarm") == 1
    assert all(c["error"] is None for c in made)
    # the drifted account's own filters were not replaced: rootwatch added its own beside them
    names = {c["params"]["filterName"] for c in made if c["operation"] == "PutMetricFilter"}
    assert "cis-4.1-unauthorized-api-calls-rootwatch" in names and "RootUsage" not in names

    again = _remediate(sandbox_process, tmp_path, "again", "--apply", "--yes")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 change(s) planned, 0 made" in again.stderr
    assert not (tmp_path / "again" / "raw").exists()
    assert set(_verdicts(tmp_path / "again").values()) == {("PASS", "—")}


# --- issue 15, 3: an unusable --out is refused before any call -------------------------------------------------
def _unusable(tmp_path: Path, kind: str) -> Path:
    taken = tmp_path / "taken"
    taken.mkdir()
    (tmp_path / "file").write_text("not a directory")
    made = {"existing directory": taken, "file": tmp_path / "file", "under a file": tmp_path / "file" / "run",
            "link to a directory": tmp_path / "link", "dangling link": tmp_path / "dangling"}
    (tmp_path / "link").symlink_to(taken)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    return made[kind]


@pytest.mark.parametrize("kind", ["existing directory", "file", "under a file", "link to a directory",
                                  "dangling link"])
def test_an_unusable_out_is_one_line_before_any_aws_call(tmp_path, kind):
    """Nothing listens on the endpoint: any call would fail. The refusal comes first, in one line."""
    out = _unusable(tmp_path, kind)
    dead = SandboxProcess({"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                           "AWS_SECRET_ACCESS_KEY": "x" * 40, "AWS_DEFAULT_REGION": "us-east-1"},
                          {DRIFTED: f"arn:aws:iam::{DRIFTED}:role/rootwatch-audit"})
    done = _remediate(dead, tmp_path, out, "--apply", "--yes")
    assert (done.returncode, done.stdout) == (2, ""), done.stderr[-2000:]
    assert done.stderr.count("\n") == 1 and f"--out {out}" in done.stderr
    assert not os.path.lexists(tmp_path / "nowhere") and sorted(p.name for p in tmp_path.iterdir()) == [
        "dangling", "file", "link", "remediate.yaml", "taken"]
    assert list((tmp_path / "taken").iterdir()) == []


# --- issue 15, 3: what rootwatch did not create stays as it was --------------------------------------------------
def _state(sandbox: SandboxProcess) -> dict:
    """What the account's own administrator set up: the trail's selectors and the billing alarm."""
    [alarm] = _member(sandbox, "cloudwatch").describe_alarms(AlarmNames=[ROOT_ALARM])["MetricAlarms"]
    selectors = _member(sandbox, "cloudtrail").get_event_selectors(TrailName="main-trail")
    return {"alarm": {k: alarm.get(k) for k in ALARM_SETTINGS},
            "selectors": selectors.get("AdvancedEventSelectors") or selectors["EventSelectors"]}


def test_apply_keeps_data_event_selectors_and_a_colliding_alarm_and_still_fixes_the_chain(tmp_path):
    """The drifted account also logs S3 and Lambda data events (its selector records writes only, so
    the management link fails), and a billing alarm carries the catalog's CIS 4.3 alarm name."""
    with serve(tmp_path) as sandbox:
        billing = _member(sandbox, "sns").create_topic(Name="billing-alerts")["TopicArn"]
        _member(sandbox, "cloudwatch").put_metric_alarm(
            AlarmName=ROOT_ALARM, AlarmDescription="monthly bill above budget", Namespace="AWS/Billing",
            MetricName="EstimatedCharges", Dimensions=[{"Name": "Currency", "Value": "USD"}], Statistic="Maximum",
            Period=21600, EvaluationPeriods=1, Threshold=500.0, ComparisonOperator="GreaterThanThreshold",
            AlarmActions=[billing])
        _member(sandbox, "cloudtrail").put_event_selectors(TrailName="main-trail", EventSelectors=[DATA_EVENTS])
        before = _state(sandbox)
        assert before["selectors"] == [DATA_EVENTS] and before["alarm"]["AlarmActions"] == [billing]

        unusable = _remediate(sandbox, tmp_path, Path("remediate.yaml") / "run", "--apply", "--yes")
        assert unusable.returncode == 2 and unusable.stderr.count("\n") == 1, unusable.stderr[-2000:]
        assert _state(sandbox) == before

        applied = _remediate(sandbox, tmp_path, "applied", "--apply", "--yes")
        assert applied.returncode == 0, applied.stderr[-3000:]
        after = _state(sandbox)
    assert after["alarm"] == before["alarm"]
    kept, added = after["selectors"]
    assert kept == DATA_EVENTS  # every data resource, writes only, as before
    assert {k: v for k, v in added.items() if v != []} == {"ReadWriteType": "All", "IncludeManagementEvents": True}
    verdicts = _verdicts(tmp_path / "applied")
    assert len(verdicts) == 15 and set(verdicts.values()) == {("FAIL", "PASS")}
    plan = json.loads((tmp_path / "applied" / "plan.json").read_text())
    alarms = [a["params"]["AlarmName"] for p in plan for a in p["actions"] if a["operation"] == "PutMetricAlarm"]
    assert alarms == [f"{ROOT_ALARM}-rootwatch"]
    _assert_recorded_before_the_first_change(tmp_path / "applied")


def _assert_recorded_before_the_first_change(folder: Path) -> None:
    """Issue 15: a run that failed after changing the account kept no plan and no evidence. Now the
    plan, the verdicts and every read are on disk before the first change, and each change is a line
    before it is made and one after, with its call and response under raw/."""
    journal = [json.loads(line) for line in (folder / "changes.jsonl").read_text().splitlines()]
    assert journal and [j["event"] for j in journal] == ["intent", "made"] * (len(journal) // 2)
    first_change = min(datetime.fromisoformat(j["at"]) for j in journal)
    written = [folder / "plan.json", folder / "plan.sh", folder / DRIFTED / "main.tf",
               folder / "before" / "findings.json", *(folder / "before" / "raw").rglob("*.json")]
    assert max(datetime.fromtimestamp(p.stat().st_mtime, UTC) for p in written) < first_change
    reads = {json.loads(p.read_text())["call"]["operation"] for p in (folder / "before" / "raw").rglob("*.json")}
    assert {"DescribeTrails", "DescribeMetricFilters", "DescribeAlarms", "ListTopics"} <= reads
    made = {j["evidence"] for j in journal if j["event"] == "made"}
    assert made == {f"raw/{p.relative_to(folder / 'raw')}" for p in (folder / "raw").rglob("*.json")
                    if "AssumeRole" not in p.name}
