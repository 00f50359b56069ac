"""CloudWatch semantics in the sandbox: filters publish what the judge says they publish, alarms
evaluate as the judge's simulator does, and their actions reach (or fail to reach) subscribers.

The session's sandbox is shared, so these tests work in an account of their own, with the sandbox's
clock held still and moved by hand: each evaluation happens at a sandbox minute the test chose.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import boto3
import pytest

from rootwatch.simulate import Rule, State, Treatment, evaluate, points
from tests.simulate.documented import cells

ACCOUNT = "444455556666"  # no organisation account: the seeded history stays as the other tests read it
REGION = "us-east-1"
ROOT_PATTERN = ('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                '&& $.eventType != "AwsServiceEvent" }')
MINUTE = timedelta(minutes=1)


@pytest.fixture
def clock(sandbox):
    """The sandbox's clock, still for the test (and running again after it)."""
    speed = sandbox.clock.speed
    sandbox.clock.set_speed(0)
    yield sandbox.clock
    sandbox.clock.set_speed(speed)


@pytest.fixture(scope="module")
def aws(sandbox):
    """aws(service) → a client of the test account."""
    sts = sandbox.session().client("sts", endpoint_url=sandbox.endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/cwsem", RoleSessionName="cwsem")["Credentials"]
    session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                            aws_session_token=creds["SessionToken"], region_name=REGION)
    return lambda service: session.client(service, endpoint_url=sandbox.endpoint)


def _minute_passes(clock, aws) -> datetime:
    """Move the clock to the next minute and let the sandbox evaluate it (any request does)."""
    at = clock.now().replace(second=0, microsecond=0) + MINUTE
    clock.advance(at - clock.now())
    aws("cloudwatch").describe_alarms(AlarmNames=["-"])
    return at


def _record(event_type: str = "AwsApiCall", identity: str = "Root", **fields) -> dict:
    return {"eventVersion": "1.09", "userIdentity": {"type": identity, "accountId": ACCOUNT},
            "eventTime": "2026-10-02T10:00:00Z", "eventSource": "iam.amazonaws.com", "eventName": "GetAccountSummary",
            "eventType": event_type, "awsRegion": REGION, "recipientAccountId": ACCOUNT, **fields}


def _chain(aws, name: str, topic_attributes: dict | None = None, pattern: str = ROOT_PATTERN,
           transformation: dict | None = None, **alarm) -> dict:
    """Log group, stream, filter, topic with a subscribed queue, and an alarm on the filter's metric."""
    logs, sns, sqs = aws("logs"), aws("sns"), aws("sqs")
    logs.create_log_group(logGroupName=name)
    logs.create_log_stream(logGroupName=name, logStreamName="drill")
    logs.put_metric_filter(logGroupName=name, filterName=name, filterPattern=pattern, metricTransformations=[
        transformation or {"metricName": name, "metricNamespace": "CWSem", "metricValue": "1"}])
    topic = sns.create_topic(Name=name, Attributes=topic_attributes or {})["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True)
    settings = {"Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1.0,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching", **alarm}
    aws("cloudwatch").put_metric_alarm(AlarmName=name, MetricName=name, Namespace="CWSem", AlarmActions=[topic],
                                       **settings)
    return {"group": name, "topic": topic, "queue": queue, "subscription": sub["SubscriptionArn"]}


def _put(aws, group: str, when: datetime, *records: dict) -> dict:
    stamp = int(when.timestamp() * 1000)
    return aws("logs").put_log_events(logGroupName=group, logStreamName="drill", logEvents=[
        {"timestamp": stamp, "message": json.dumps(r)} for r in records])


def _history(aws, name: str) -> list[dict]:
    items = aws("cloudwatch").describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")
    return items["AlarmHistoryItems"]


def _messages(aws, queue: str) -> list[dict]:
    got = aws("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def _sum(aws, name: str, start: datetime, dimensions: list | None = None) -> float:
    stats = aws("cloudwatch").get_metric_statistics(
        Namespace="CWSem", MetricName=name, Dimensions=dimensions or [], StartTime=start - MINUTE,
        EndTime=start + 10 * MINUTE, Period=600, Statistics=["Sum"])
    return sum(p["Sum"] for p in stats["Datapoints"])


def test_a_matching_event_reaches_the_queue_through_datapoint_alarm_and_topic(clock, aws):
    chain = _chain(aws, "cwsem-e2e")
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    assert _sum(aws, "cwsem-e2e", at) == 1.0  # the datapoint, as GetMetricStatistics answers it
    [series] = aws("cloudwatch").get_metric_data(StartTime=at, EndTime=at + MINUTE, MetricDataQueries=[
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "CWSem", "MetricName": "cwsem-e2e"}, "Period": 60,
                                    "Stat": "Sum"}}])["MetricDataResults"]
    assert series["Values"] == [1.0]  # and GetMetricData
    assert aws("cloudwatch").describe_alarms(AlarmNames=["cwsem-e2e"])["MetricAlarms"][0]["StateValue"] == "OK"

    fired = _minute_passes(clock, aws)
    [alarm] = aws("cloudwatch").describe_alarms(AlarmNames=["cwsem-e2e"])["MetricAlarms"]
    assert alarm["StateValue"] == "ALARM"
    update, action = _history(aws, "cwsem-e2e")
    assert update["HistoryItemType"] == "StateUpdate" and update["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert update["Timestamp"] == fired
    assert action["HistoryItemType"] == "Action"
    assert action["HistorySummary"] == f"Successfully executed action {chain['topic']}"
    [message] = _messages(aws, chain["queue"])
    assert message["TopicArn"] == chain["topic"]
    body = json.loads(message["Message"])
    assert (body["AlarmName"], body["OldStateValue"], body["NewStateValue"]) == ("cwsem-e2e", "OK", "ALARM")

    for _ in range(15):  # the datapoint leaves the evaluation range (N + 2 periods): back to OK
        _minute_passes(clock, aws)
    assert [h["HistorySummary"] for h in _history(aws, "cwsem-e2e")][-1] == "Alarm updated from ALARM to OK"


def test_a_non_matching_event_publishes_nothing_and_changes_nothing(clock, aws):
    chain = _chain(aws, "cwsem-miss")
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record(event_type="AwsServiceEvent"),
         _record(identity="IAMUser"))
    for _ in range(3):
        _minute_passes(clock, aws)
    assert _sum(aws, "cwsem-miss", at) == 0
    assert aws("cloudwatch").list_metrics(Namespace="CWSem", MetricName="cwsem-miss")["Metrics"] == []
    assert _history(aws, "cwsem-miss") == []
    assert _messages(aws, chain["queue"]) == []


def test_metric_value_dimensions_unit_and_default_value_publish_as_documented(clock, aws):
    """``$.field`` values, dimensions from the event, the unit; a non-matching event the default."""
    counted = {"metricName": "cwsem-value", "metricNamespace": "CWSem", "metricValue": "$.requestParameters.count",
               "dimensions": {"Source": "$.eventSource"}, "unit": "Count"}
    _chain(aws, "cwsem-value", transformation=counted)
    aws("logs").put_metric_filter(logGroupName="cwsem-value", filterName="default", filterPattern=ROOT_PATTERN,
                                  metricTransformations=[{"metricName": "cwsem-default", "metricNamespace": "CWSem",
                                                          "metricValue": "1", "defaultValue": 0}])
    at = _minute_passes(clock, aws)
    _put(aws, "cwsem-value", at + timedelta(seconds=5), _record(requestParameters={"count": 7}),
         _record(requestParameters={}), _record(identity="IAMUser"))
    source = [{"Name": "Source", "Value": "iam.amazonaws.com"}]
    assert _sum(aws, "cwsem-value", at, source) == 7.0  # the field's value; the event without it publishes none
    [metric] = aws("cloudwatch").list_metrics(Namespace="CWSem", MetricName="cwsem-value")["Metrics"]
    assert metric["Dimensions"] == source
    stats = aws("cloudwatch").get_metric_statistics(
        Namespace="CWSem", MetricName="cwsem-default", StartTime=at, EndTime=at + MINUTE, Period=60,
        Statistics=["Sum", "SampleCount"])["Datapoints"]
    assert [(p["Sum"], p["SampleCount"]) for p in stats] == [(2.0, 3.0)]  # two matches, one default 0


def test_put_log_events_accepts_what_aws_accepts_by_the_sandbox_clock(clock, aws):
    chain = _chain(aws, "cwsem-window")
    now = clock.now()
    answer = aws("logs").put_log_events(logGroupName=chain["group"], logStreamName="drill", logEvents=[
        {"timestamp": int((now - timedelta(days=15)).timestamp() * 1000), "message": json.dumps(_record())},
        {"timestamp": int(now.timestamp() * 1000), "message": json.dumps(_record())},
        {"timestamp": int((now + timedelta(hours=3)).timestamp() * 1000), "message": json.dumps(_record())}])
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "tooNewLogEventStartIndex": 2}
    assert _sum(aws, "cwsem-window", now) == 1.0
    with pytest.raises(aws("logs").exceptions.InvalidParameterException):
        aws("logs").put_log_events(logGroupName=chain["group"], logStreamName="drill",
            logEvents=[{"timestamp": 2, "message": "b"}, {"timestamp": 1, "message": "a"}])


def test_a_kms_topic_cloudwatch_may_not_use_records_the_failed_action(clock, aws):
    key = aws("kms").create_key()["KeyMetadata"]["KeyId"]  # the default key policy: the account only
    chain = _chain(aws, "cwsem-kms", topic_attributes={"KmsMasterKeyId": key})
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    _minute_passes(clock, aws)
    update, action = _history(aws, "cwsem-kms")
    assert update["HistorySummary"] == "Alarm updated from OK to ALARM"
    assert action["HistorySummary"] == (f"Failed to execute action {chain['topic']}. Received error: \"CloudWatch "
                                        "Alarms does not have authorization to access the SNS topic encryption key.\"")
    assert json.loads(action["HistoryData"])["actionState"] == "Failed"
    assert _messages(aws, chain["queue"]) == []


def test_a_kms_topic_whose_key_lets_cloudwatch_in_delivers(clock, aws):
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}]}
    key = aws("kms").create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    chain = _chain(aws, "cwsem-kms-ok", topic_attributes={"KmsMasterKeyId": key})
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    _minute_passes(clock, aws)
    assert _history(aws, "cwsem-kms-ok")[-1]["HistorySummary"].startswith("Successfully executed action")
    assert len(_messages(aws, chain["queue"])) == 1


def test_a_deleted_topic_records_the_failed_action(clock, aws):
    chain = _chain(aws, "cwsem-gone")
    aws("sns").delete_topic(TopicArn=chain["topic"])
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    _minute_passes(clock, aws)
    assert _history(aws, "cwsem-gone")[-1]["HistorySummary"] == (
        f"Failed to execute action {chain['topic']}. Received error: \"Topic does not exist\"")


def test_an_unconfirmed_subscriber_receives_nothing(clock, aws, sandbox):
    chain = _chain(aws, "cwsem-pending")
    sandbox.state.pending.add(chain["subscription"])
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    _minute_passes(clock, aws)
    assert _history(aws, "cwsem-pending")[-1]["HistorySummary"].startswith("Successfully executed action")
    assert _messages(aws, chain["queue"]) == []
    [delivery] = [d for d in sandbox.state.cloudwatch.deliveries if d.subscription_arn == chain["subscription"]]
    assert not delivery.delivered and "PendingConfirmation" in delivery.detail


def test_an_http_subscriber_on_loopback_receives_the_notification_and_a_gone_one_is_a_delivery_failure(
        clock, aws, sandbox):
    received = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    chain = _chain(aws, "cwsem-http")
    url = f"http://127.0.0.1:{server.server_address[1]}/notify"
    http = aws("sns").subscribe(TopicArn=chain["topic"], Protocol="http", Endpoint=url, ReturnSubscriptionArn=True)
    try:
        at = _minute_passes(clock, aws)
        _put(aws, chain["group"], at + timedelta(seconds=5), _record())
        _minute_passes(clock, aws)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    [notification] = received
    assert notification["Type"] == "Notification" and json.loads(notification["Message"])["NewStateValue"] == "ALARM"

    for _ in range(15):  # back to OK, then a second event with the endpoint gone
        _minute_passes(clock, aws)
    at = _minute_passes(clock, aws)
    _put(aws, chain["group"], at + timedelta(seconds=5), _record())
    _minute_passes(clock, aws)
    # SNS accepted the publish: CloudWatch's history says so; the delivery failed at SNS
    assert _history(aws, "cwsem-http")[-1]["HistorySummary"].startswith("Successfully executed action")
    last = [d for d in sandbox.state.cloudwatch.deliveries if d.subscription_arn == http["SubscriptionArn"]][-1]
    assert not last.delivered and "unreachable" in last.detail
    assert len(received) == 1


@pytest.mark.parametrize(("table", "row", "treatment"), list(cells()))
def test_m_of_n_and_missing_data_agree_with_the_judges_simulator(clock, aws, table, row, treatment):
    """Each documented case, as datapoints in the sandbox, evaluated from OK and from ALARM: the
    sandbox's state is the simulator's, which is the page's."""
    window = points(row["points"])
    rule = Rule.of(table["evaluation_periods"], table["datapoints_to_alarm"], treatment, span=table["range"])
    cw = aws("cloudwatch")
    for previous in (State.OK, State.ALARM):
        name = (f"cwsem-case-{row['points'].replace(' ', '')}-{treatment.value}-{previous.value}-"
                f"{table['datapoints_to_alarm']}")
        at = _minute_passes(clock, aws) + MINUTE  # the evaluation that reads the case
        cw.put_metric_alarm(AlarmName=name, Namespace="CWSem", MetricName=name, Statistic="Sum", Period=60,
                            EvaluationPeriods=rule.evaluation_periods, DatapointsToAlarm=rule.datapoints_to_alarm,
                            Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                            TreatMissingData=treatment.value)
        data = [{"MetricName": name, "Value": 1.0 if point else 0.0,
                 "Timestamp": at - (len(window) - i) * MINUTE + timedelta(seconds=30)}
                for i, point in enumerate(window) if point is not None]
        if data:
            cw.put_metric_data(Namespace="CWSem", MetricData=data)
        cw.set_alarm_state(AlarmName=name, StateValue=previous.value, StateReason="the case's state before")
        _minute_passes(clock, aws)
        [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        cw.delete_alarms(AlarmNames=[name])
        assert alarm["StateValue"] == evaluate(window, rule, previous).state.value
        expected = row[treatment.value]
        if expected == "retain":
            assert alarm["StateValue"] == previous.value
        elif expected == "not ALARM":
            assert alarm["StateValue"] != "ALARM"
        else:
            assert alarm["StateValue"] == expected


def test_a_fast_served_sandbox_answers_the_drills_calls_in_seconds(tmp_path):
    """`rootwatch sandbox --clock-speed 600` in its own process: the calls `rootwatch drill` makes,
    on the healthy account's trail log group, answer with the datapoint, the transition to ALARM, the
    executed action and the message in a probe queue, each waited for (bounded, never timed)."""
    import time
    import urllib.request

    from rootwatch.sandbox.cloudwatch import CLOCK_PATH
    from tests.sandbox_process import serve

    with serve(tmp_path, "--clock-speed", "600") as served:
        endpoint = served.exports["AWS_ENDPOINT_URL"]
        base = boto3.Session(aws_access_key_id=served.exports["AWS_ACCESS_KEY_ID"],
                             aws_secret_access_key=served.exports["AWS_SECRET_ACCESS_KEY"], region_name=REGION)
        creds = base.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn=served.members["111111111111"], RoleSessionName="drill")["Credentials"]
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"], region_name=REGION)
        client = lambda service: session.client(service, endpoint_url=endpoint)  # noqa: E731
        topic = next(t["TopicArn"] for t in client("sns").list_topics()["Topics"]
                     if t["TopicArn"].endswith(":security-alerts"))
        queue = client("sqs").create_queue(QueueName="drill-probe")["QueueUrl"]
        queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
        client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["QueueArn"])
        group = "aws-cloudtrail-logs-healthy"
        client("logs").create_log_stream(logGroupName=group, logStreamName="rootwatch-drill")
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with no_proxy.open(endpoint + CLOCK_PATH, timeout=10) as answer:
            written = datetime.fromisoformat(answer.read().decode())
        client("logs").put_log_events(logGroupName=group, logStreamName="rootwatch-drill", logEvents=[
            {"timestamp": int(written.timestamp() * 1000), "message": json.dumps(_record(eventName="DrillProbe"))}])

        def waited(what, found):
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                got = found()
                if got:
                    return got
                time.sleep(0.2)
            pytest.fail(f"no {what} within 60 s")

        cw = client("cloudwatch")
        stats = waited("datapoint", lambda: cw.get_metric_statistics(
            Namespace="CISBenchmark", MetricName="RootAccountUsage", StartTime=written - MINUTE,
            EndTime=written + MINUTE, Period=60, Statistics=["Sum"])["Datapoints"])
        assert sum(p["Sum"] for p in stats) == 1.0

        def since_written(kind):
            return [h for h in cw.describe_alarm_history(
                AlarmName="cis-4.3-root-account-usage", HistoryItemType=kind, StartDate=written,
                ScanBy="TimestampAscending")["AlarmHistoryItems"]]
        [update, *_] = waited("transition to ALARM", lambda: since_written("StateUpdate"))
        assert update["HistorySummary"] == "Alarm updated from OK to ALARM"
        [action, *_] = waited("action", lambda: since_written("Action"))
        assert action["HistorySummary"] == f"Successfully executed action {topic}"
        [message] = waited("message in the probe queue", lambda: client("sqs").receive_message(
            QueueUrl=queue, WaitTimeSeconds=0).get("Messages"))
        assert json.loads(json.loads(message["Body"])["Message"])["NewStateValue"] == "ALARM"


def test_replaying_a_past_span_gives_the_transitions_of_an_evaluation_every_minute(clock, aws, sandbox):
    """The seeded history's replay evaluates only the minutes whose range can hold a datapoint; the
    transitions are those of the simulator run at every minute of the span."""
    cw, name = aws("cloudwatch"), "cwsem-replay"
    rule = Rule.of(3, 2, Treatment.MISSING)
    cw.put_metric_alarm(AlarmName=name, Namespace="CWSem", MetricName=name, Statistic="Sum", Period=60,
                        EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=1.0,
                        ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="missing")
    since = clock.now().replace(second=0, microsecond=0) - timedelta(days=2)
    minutes = [30, 31, 33, 200, 202, 203, 204, 600, 1400]  # after since: bursts, a lone one, long gaps
    cw.put_metric_data(Namespace="CWSem", MetricData=[
        {"MetricName": name, "Value": 1.0, "Timestamp": since + m * MINUTE + timedelta(seconds=20)} for m in minutes])
    until = since + timedelta(days=1)
    sandbox.state.cloudwatch.replay(ACCOUNT, REGION, since, until)

    expected, state = [], State.OK  # moto creates alarms in OK
    for k in range(1, 24 * 60 + 1):
        window = [True if any(k - rule.span + i <= m < k - rule.span + i + 1 for m in minutes) else None
                  for i in range(rule.span)]
        new = evaluate(window, rule, state).state
        if new is not state:
            expected.append((since + k * MINUTE, state.value, new.value))
            state = new
    got = [(h["Timestamp"], *json.loads(h["HistoryData"])["oldState"].values(),
            json.loads(h["HistoryData"])["newState"]["stateValue"])
           for h in _history(aws, name) if h["HistoryItemType"] == "StateUpdate"]
    cw.delete_alarms(AlarmNames=[name])
    assert got == expected and len(expected) >= 4


@pytest.mark.parametrize("speed", ["-1", "nan", "inf"])
def test_a_clock_speed_that_is_not_a_speed_is_bad_input(speed):
    import subprocess
    import sys

    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "sandbox", f"--clock-speed={speed}"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"rootwatch: --clock-speed {speed} is out of range; give a number >= 0 (1 is real time)\n"


def test_an_alarm_the_simulator_cannot_follow_keeps_its_state_and_the_sandbox_keeps_answering(clock, aws):
    """p100 with EvaluateLowSampleCountPercentile ignore has no documented sample minimum."""
    cw, name = aws("cloudwatch"), "cwsem-p100"
    cw.put_metric_alarm(AlarmName=name, Namespace="CWSem", MetricName=name, ExtendedStatistic="p100", Period=60,
                        EvaluationPeriods=1, Threshold=1.0, ComparisonOperator="GreaterThanOrEqualToThreshold",
                        EvaluateLowSampleCountPercentile="ignore")
    at = _minute_passes(clock, aws)  # no datapoint yet: INSUFFICIENT_DATA, as the simulator says
    before = _history(aws, name)
    cw.put_metric_data(Namespace="CWSem", MetricData=[{"MetricName": name, "Value": 5.0,
                                                       "Timestamp": at + timedelta(seconds=5)}])
    _minute_passes(clock, aws)
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    cw.delete_alarms(AlarmNames=[name])
    assert alarm["StateValue"] == "INSUFFICIENT_DATA" and _history(aws, name) == before
