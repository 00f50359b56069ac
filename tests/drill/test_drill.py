"""`rootwatch drill` against stubbed AWS: every step timestamped in a signed bundle when the chain
works, a stop at the failing link with its reason when it does not, a gap when AWS cannot be read,
and each refusal before anything is written."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from rootwatch import cli
from rootwatch.collect.chain import Target
from rootwatch.drill import run
from rootwatch.scope import Scope
from rootwatch.bundle.sign import SshSigner, config_dir
from rootwatch.drill.record import SOURCE_IP, message
from rootwatch.errors import ParameterError
from rootwatch.models import SANDBOX_BANNER, Role, Status
from rootwatch.patterns import compile_pattern
from tests.drill.helpers import (DRILL_ID, QUEUE_URL, START, TOPIC, FakeClock, drill_stubbed, healthy_calls,
                                 healthy_steps, history, planned, with_probe_subscriber)
from tests.stubbed import OTHER, REGION, SUBSCRIBERS, collect_stubbed

PARAMS = Path(__file__).resolve().parents[2] / "parameters" / "sandbox.yaml"


def _verify(directory: Path, capsys) -> tuple[int, str]:
    SshSigner.development()
    capsys.readouterr()
    code = cli.main(["verify", str(directory), "--trusted-key", str(config_dir() / "signing" / "dev_ed25519.pub")])
    return code, capsys.readouterr().out


def _journal(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "steps.jsonl").read_text().splitlines()]


def test_the_record_is_root_usage_by_the_catalogs_reference_and_says_it_is_a_drill(catalog):
    plan = planned()
    record = plan.record
    assert compile_pattern(catalog.by_role(Role.ROOT_USAGE).reference.text).matches(record)
    assert record["eventID"] == record["requestID"] == record["additionalEventData"]["rootwatchDrill"] == DRILL_ID
    assert record["userAgent"] == f"rootwatch-drill/{DRILL_ID}" and record["sourceIPAddress"] == SOURCE_IP
    assert plan.stream == f"rootwatch-drill-{DRILL_ID}" and plan.log_group == "cloudtrail-logs"


def test_the_plan_shows_exactly_what_would_be_written():
    plan = planned()
    lines = plan.lines()
    assert lines[-1] == message(plan.record)
    assert any("logs:CreateLogStream  log group cloudtrail-logs  stream rootwatch-drill-" in line for line in lines)
    assert any("alarm root-alarm in ALARM" in line for line in lines)


def test_the_plan_says_what_the_audit_already_predicts():
    calls = [(s, o, {"MetricAlarms": [{**r["MetricAlarms"][0], "ActionsEnabled": False}]})
             if o == "DescribeAlarmsForMetric" else (s, o, r) for s, o, r in healthy_calls()]
    assert planned(calls).notes == ["alarm root-alarm's actions are disabled: expect the drill to stop at the "
                                    "action's result"]
    narrow = healthy_calls(pattern='{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }')
    [note] = planned(narrow).notes
    assert note.startswith("metric filter root does not match this record") and "metric datapoint" in note
    assert planned().notes == []


def test_a_healthy_chain_reaches_every_step_timestamped_in_a_signed_bundle(tmp_path, capsys):
    plan = planned(with_probe_subscriber(healthy_calls()), probe=QUEUE_URL)
    written = message({**plan.record, "eventTime": "2026-12-07T05:00:10Z"})
    steps = healthy_steps()
    steps[0] = (*steps[0], {"logGroupName": "cloudtrail-logs", "logStreamName": plan.stream})
    steps[1] = (*steps[1], {"logGroupName": "cloudtrail-logs", "logStreamName": plan.stream,
                            "logEvents": [{"timestamp": int(START.timestamp() * 1000), "message": written}]})
    result = drill_stubbed(plan, steps, tmp_path / "drill")
    assert result.status == Status.PASS and result.latency == 52  # the write to the probe's receipt
    assert [(s.step.value, s.status) for s in result.steps] == [
        ("write", "PASS"), ("datapoint", "PASS"), ("alarm", "PASS"), ("action", "PASS"), ("receipt", "PASS")]
    journal = _journal(tmp_path / "drill")
    assert [e["event"] for e in journal] == ["plan", "write", "datapoint", "alarm", "action", "receipt"]
    assert all(e["seen"] and e["at"] for e in journal[1:])
    assert journal[3]["at"] == "2026-12-07T05:01:00+00:00"  # when AWS says the alarm went to ALARM
    assert "every step reached, 52 s" in result.summary()
    code, out = _verify(tmp_path / "drill", capsys)
    assert code == 0, out
    outcome = json.loads((tmp_path / "drill" / "drill.json").read_text())
    assert outcome["status"] == "PASS" and outcome["stopped_at"] is None
    assert not (tmp_path / "drill" / "INCOMPLETE").exists()


def test_the_plan_is_on_disk_before_the_first_write(tmp_path):
    plan = planned()
    result = drill_stubbed(plan, [("logs", "CreateLogStream", {})], tmp_path / "drill",
                           errors={"CreateLogStream": "AccessDeniedException"})
    assert _journal(tmp_path / "drill")[0]["event"] == "plan"
    assert json.loads((tmp_path / "drill" / "plan.json").read_text())["stream"] == plan.stream
    assert result.status == Status.GAP and result.steps[-1].step.value == "write"
    assert "could not observe at 'record written'" in result.summary()


def test_a_drill_of_the_sandbox_says_on_every_record_it_is_not_evidence(tmp_path):
    plan = replace(planned(), sandbox=True)
    result = drill_stubbed(plan, healthy_steps(probe=False), tmp_path / "drill")
    folder = tmp_path / "drill"
    assert SANDBOX_BANNER in result.summary() and SANDBOX_BANNER in plan.lines()[0]
    assert SANDBOX_BANNER in (folder / "README.txt").read_text().splitlines()[1]
    records = [json.loads((folder / name).read_text()) for name in ("drill.json", "plan.json")]
    records += _journal(folder) + json.loads((folder / "before" / "findings.json").read_text())
    assert {r["not_evidence"] for r in records} == {SANDBOX_BANNER}


def test_no_datapoint_stops_the_drill_at_the_metric_filter_after_its_bound(tmp_path, capsys):
    steps = healthy_steps(probe=False)[:2] + [("cloudwatch", "GetMetricStatistics", {"Datapoints": []})] * 4
    clock = FakeClock()
    result = drill_stubbed(planned(), steps, tmp_path / "drill", clock=clock)
    assert result.status == Status.FAIL and clock.slept == [20, 20, 20]
    stop = result.steps[-1]
    assert stop.step.value == "datapoint" and stop.step.link.id == "metric-filter"
    assert "none within 60 s (4 reads, each answered)" in stop.reason
    assert "stopped at 'metric datapoint' (link: metric filter)" in result.summary()
    assert _verify(tmp_path / "drill", capsys)[0] == 0  # a stop is evidence too, signed like the rest


def test_a_failed_action_stops_the_drill_with_sns_reason(tmp_path):
    steps = healthy_steps(probe=False)[:-1] + [("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": [history(
        "Action", 51, f"Failed to execute action {TOPIC}. Received error: 'CloudWatch Alarms does not have "
        "authorization to access the SNS topic encryption key.'",
        {"actionState": "Failed", "notificationResource": TOPIC})]})]
    result = drill_stubbed(planned(), steps, tmp_path / "drill")
    assert result.status == Status.FAIL and result.steps[-1].step.value == "action"
    assert "SNS topic encryption key" in result.steps[-1].reason


def test_unreadable_alarm_history_is_a_gap_not_a_stop(tmp_path):
    steps = healthy_steps(probe=False)[:4] + [("cloudwatch", "DescribeAlarmHistory", {})]
    result = drill_stubbed(planned(), steps, tmp_path / "drill", errors={"DescribeAlarmHistory": "AccessDenied"})
    assert result.status == Status.GAP and result.steps[-1].step.value == "alarm"
    assert "AccessDenied" in result.steps[-1].reason


@pytest.mark.parametrize("case, words", [
    ("no alarm", "has no alarm to prove"),
    ("in alarm", "already in ALARM"),
    ("organization trail", "belongs to account 999999999999"),
    ("probe not subscribed", "is not a confirmed subscriber"),
    ("filters unreadable", "could not be read up to its alarm .log group: log group cloudtrail-logs could not be "
                           "read: DescribeMetricFilters failed with AccessDeniedException"),
])
def test_refusals_before_anything_is_written(case, words):
    calls, probe = healthy_calls(), None
    if case == "no alarm":
        calls = [(s, o, {"MetricAlarms": []}) if o == "DescribeAlarmsForMetric" else (s, o, r)
                 for s, o, r in calls
                 if o not in ("DescribeAlarmHistory", "GetMetricStatistics", *SUBSCRIBERS)]
    elif case == "in alarm":
        calls = [(s, o, {"MetricAlarms": [{**r["MetricAlarms"][0], "StateValue": "ALARM"}]})
                 if o == "DescribeAlarmsForMetric" else (s, o, r) for s, o, r in calls]
    elif case == "filters unreadable":
        calls = [(s, o, r) for s, o, r in calls if o not in ("DescribeAlarmsForMetric", "DescribeAlarmHistory",
                                                             "GetMetricStatistics", *SUBSCRIBERS)]
    elif case == "organization trail":
        calls = healthy_calls(trail_owner=OTHER)
    else:
        probe = QUEUE_URL
    errors = {"DescribeMetricFilters": "AccessDeniedException"} if case == "filters unreadable" else {}
    with pytest.raises(ParameterError, match=words):
        planned(calls, probe, errors=errors)


def test_without_yes_a_drill_that_cannot_ask_exits_2_on_one_line(capsys):
    code = cli.main(["drill", str(PARAMS)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "cannot ask for confirmation; add --yes" in err


def _stubbed_audit(monkeypatch, calls: list) -> None:
    """The command's audit answered by the stubbed account: its scope one account, its collection ``calls``."""
    ev = collect_stubbed(calls)
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    monkeypatch.setattr(run, "opened", lambda params, clock_speed: contextlib.nullcontext(Scope([Target("acct", session)],
                                                                                   [REGION], [])))
    monkeypatch.setattr(run, "collect", lambda *a, **k: [ev])


def test_a_chain_without_alarm_exits_2_through_the_command(monkeypatch, capsys, tmp_path):
    _stubbed_audit(monkeypatch, [(s, o, {"MetricAlarms": []}) if o == "DescribeAlarmsForMetric" else (s, o, r)
                                 for s, o, r in healthy_calls()
                                 if o not in ("DescribeAlarmHistory", "GetMetricStatistics", *SUBSCRIBERS)])
    code = cli.main(["drill", str(PARAMS), "--yes", "--out", str(tmp_path / "drill")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "has no alarm to prove" in err
    assert not (tmp_path / "drill").exists()


def test_a_dry_run_prints_the_plan_and_writes_nothing(monkeypatch, capsys, tmp_path):
    _stubbed_audit(monkeypatch, healthy_calls())
    code = cli.main(["drill", str(PARAMS), "--dry-run", "--out", str(tmp_path / "drill")])
    out = capsys.readouterr().out
    assert code == 0 and "dry run: nothing was written" in out
    assert '"userAgent":"rootwatch-drill/rwdrill-' in out and "stream rootwatch-drill-rwdrill-" in out
    assert not (tmp_path / "drill").exists()


def test_answering_no_at_the_prompt_writes_nothing_and_exits_2(monkeypatch, capsys, tmp_path):
    _stubbed_audit(monkeypatch, healthy_calls())
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code = cli.main(["drill", str(PARAMS), "--out", str(tmp_path / "drill")])
    captured = capsys.readouterr()
    assert code == 2 and "not confirmed; nothing was written" in captured.err
    assert "logs:PutLogEvents" in captured.out  # the plan was shown before the question
    assert not (tmp_path / "drill").exists()
