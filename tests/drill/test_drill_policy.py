"""policies/drill.json against the calls a drill really makes (recorded as tests/test_policies.py
records the audit's and the remediator's): it allows each one, grants nothing no drill used, and
can neither delete, replace nor forge anything."""

from __future__ import annotations

from rootwatch.drill.record import stream_name
from rootwatch.models import Status
from tests.drill.helpers import QUEUE_URL, drill_stubbed, healthy_calls, healthy_steps, planned, with_probe_subscriber
from tests.test_policies import POLICIES, SWITCH_OFF, Call, _denied, _granted, _policy, _role_part, recording

GROUP = "cloudtrail-logs"


def test_drill_policy_allows_every_call_and_grants_nothing_unused(tmp_path):
    with recording() as log:  # the audit the drill is planned from, then the drill, probe included
        plan = planned(with_probe_subscriber(healthy_calls()), probe=QUEUE_URL)
        result = drill_stubbed(plan, healthy_steps(), tmp_path / "drill")
    assert result.status == Status.PASS
    audit_role, drill = _role_part(_policy("audit.json")), _policy("drill.json")["Statement"]
    assert _denied(log.calls, audit_role + drill) == []  # the audit role's statements plus drill.json
    assert _granted(drill) == log.actions() - _granted(audit_role)
    assert {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:ReceiveMessage"} == _granted(drill)


def test_drill_policy_can_neither_forge_nor_remove_anything():
    drill = _policy("drill.json")["Statement"]
    forged = [Call("k", "us-east-1", "logs", "PutLogEvents",  # CloudTrail's own stream: a drill never writes there
                   {"logGroupName": GROUP, "logStreamName": "123456789012_CloudTrail_us-east-1"}),
              Call("k", "us-east-1", "logs", "DeleteLogStream", {"logGroupName": GROUP,
                                                                 "logStreamName": stream_name("x")}),
              Call("k", "us-east-1", "sqs", "SendMessage", {"QueueUrl": QUEUE_URL}),  # a faked receipt
              Call("k", "us-east-1", "sqs", "DeleteMessage", {"QueueUrl": QUEUE_URL}),
              Call("k", "us-east-1", "sqs", "ReceiveMessage", {"QueueUrl": "https://sqs/1/payments"}),
              Call("k", "us-east-1", "sns", "Publish", {}),
              *(Call("k", "us-east-1", service, operation, params) for service, operation, params in SWITCH_OFF)]
    assert [c for c in forged if not _denied([c], drill)] == []
    own = Call("k", "us-east-1", "logs", "PutLogEvents", {"logGroupName": GROUP, "logStreamName": stream_name("x")})
    assert _denied([own], drill) == []


def test_every_drill_statement_is_documented():
    readme = (POLICIES / "README.md").read_text(encoding="utf-8")
    assert [s["Sid"] for s in _policy("drill.json")["Statement"] if f"`{s['Sid']}`" not in readme] == []
