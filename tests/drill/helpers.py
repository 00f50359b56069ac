"""A drill against botocore-stubbed AWS: the account's audit (``tests.stubbed``), then the drill's own
calls answered in order, on a clock that moves only when the drill sleeps (no test waits for real)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from botocore import xform_name
from botocore.stub import Stubber

from rootwatch.bundle.sign import SshSigner
from rootwatch.catalog import load_catalog
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.session import Clients
from rootwatch.drill.plan import DrillPlan, Waits, plan_drill
from rootwatch.drill.run import DrillResult, begin, drill
from rootwatch.judge.chain import judge_account
from rootwatch.models import Role
from tests.stubbed import ACCOUNT, REGION, arns, collect_stubbed, healthy_calls

START = datetime(2026, 12, 7, 5, 0, 10, tzinfo=UTC)
DRILL_ID = "rwdrill-00000000-0000-4000-8000-000000000001"
TOPIC = arns(ACCOUNT)[2]
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/rootwatch-drill-probe"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:rootwatch-drill-probe"
FAST = Waits(interval=20, datapoint=60, transition=120, action=60, receipt=60)


@dataclass
class FakeClock:
    """Now moves only when the drill sleeps: a wait of ten minutes takes no time at all."""

    t: datetime = START
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)


def with_probe_subscriber(calls: list) -> list:
    """The healthy account's audit with an SQS queue (the probe) confirmed on the alarm's topic too."""
    subscriptions = [{"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com",
                      "TopicArn": TOPIC},
                     {"SubscriptionArn": f"{TOPIC}:9f8e", "Protocol": "sqs", "Endpoint": QUEUE_ARN, "TopicArn": TOPIC}]
    return [(s, op, {"Subscriptions": subscriptions}) if op == "ListSubscriptionsByTopic" else (s, op, r, *rest)
            for s, op, r, *rest in calls]


def planned(calls: list | None = None, probe: str | None = None, waits: Waits = FAST,
            errors: dict[str, str] | None = None) -> DrillPlan:
    control = load_catalog().by_role(Role.ROOT_USAGE)
    ev = collect_stubbed(calls or healthy_calls(), errors)
    return plan_drill(ev, judge_account(ev, control), control, DRILL_ID, START, probe, waits)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def history(kind: str, seconds: float, summary: str, data: dict) -> dict:
    return {"AlarmName": "root-alarm", "Timestamp": at(seconds), "HistoryItemType": kind, "HistorySummary": summary,
            "HistoryData": json.dumps(data)}


def alarm_message(seconds: float) -> dict:
    alarm = {"AlarmName": "root-alarm", "NewStateValue": "ALARM", "OldStateValue": "OK",
             "StateChangeTime": at(seconds).strftime("%Y-%m-%dT%H:%M:%S.000+0000")}
    body = {"Type": "Notification", "TopicArn": TOPIC, "Message": json.dumps(alarm)}
    return {"MessageId": "m-1", "ReceiptHandle": "r", "Body": json.dumps(body),
            "Attributes": {"SentTimestamp": str(int(at(seconds + 2).timestamp() * 1000))}}


def healthy_steps(probe: bool = True) -> list[tuple]:
    """AWS's answers to a drill of a chain that works: the datapoint on the second read, ALARM a
    minute after the write, SNS's success, the message in the probe queue."""
    calls = [("logs", "CreateLogStream", {}), ("logs", "PutLogEvents", {"nextSequenceToken": "1"}),
             ("cloudwatch", "GetMetricStatistics", {"Datapoints": []}),
             ("cloudwatch", "GetMetricStatistics", {"Datapoints": [{"Timestamp": at(-10), "SampleCount": 1.0,
                                                                    "Sum": 1.0}]}),
             ("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": []}),
             ("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": [history(
                 "StateUpdate", 50, "Alarm updated from OK to ALARM",
                 {"oldState": {"stateValue": "OK"}, "newState": {"stateValue": "ALARM"}})]}),
             ("cloudwatch", "DescribeAlarmHistory", {"AlarmHistoryItems": [history(
                 "Action", 51, f"Successfully executed action {TOPIC}",
                 {"actionState": "Succeeded", "notificationResource": TOPIC})]})]
    if probe:
        calls += [("sqs", "ReceiveMessage", {"Messages": [alarm_message(50)]})]
    return calls


def drill_stubbed(plan: DrillPlan, steps: list[tuple], directory: Path, errors: dict[str, str] | None = None,
                  clock: FakeClock | None = None) -> DrillResult:
    """The drill with each call answered in order (an operation in ``errors`` fails with that code
    instead; a fourth element holds the parameters the call must carry); every answer must be asked for."""
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    clients = Clients(session)
    stubs: dict[str, Stubber] = {}
    for service, operation, response, *expected in steps:
        stub = stubs.setdefault(service, Stubber(clients.get(service, REGION)))
        if operation in (errors or {}):
            stub.add_client_error(xform_name(operation), service_error_code=errors[operation],
                                  service_message=f"{operation} refused", http_status_code=400)
        else:
            stub.add_response(xform_name(operation), response, *expected)
    for stub in stubs.values():
        stub.activate()
    ev = collect_stubbed(with_probe_subscriber(healthy_calls()))
    directory.mkdir()
    begin(directory, plan, ev, judge_account(ev, load_catalog().by_role(Role.ROOT_USAGE)), {"source": "aws"})
    result = drill(plan, Recorder(clients, ACCOUNT), directory, [SshSigner.development()], clock or FakeClock(),
                   say=lambda line: None)
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    return result
