"""An HTTPS probe subscriber (``--probe-endpoint``): the drill's last step is the endpoint's own word that
the alarm's notification reached it (a GET on the URL SNS posts to answers what it received)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.collect.evidence import redact_url
from rootwatch.drill.plan import plan_drill
from rootwatch.drill.steps import Step
from rootwatch.errors import ParameterError
from rootwatch.judge.chain import judge_account
from rootwatch.models import Role, Status
from tests.drill.helpers import DRILL_ID, FAST, START, TOPIC, alarm_message, at, drill_stubbed, healthy_steps
from tests.stubbed import collect_stubbed, healthy_calls


class _Probe(BaseHTTPRequestHandler):
    """A subscriber that keeps what SNS posts and answers a GET with it (``answer`` replaces that)."""

    received: list[dict] = []
    answer: bytes | None = None

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = self.answer if self.answer is not None else json.dumps(self.received).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    _Probe.received, _Probe.answer = [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Probe)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/probe"
    server.shutdown()


def _plan(url: str, subscribed: bool = True):
    subs = [{"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com", "TopicArn": TOPIC}]
    if subscribed:
        subs.append({"SubscriptionArn": f"{TOPIC}:7d6c", "Protocol": "http", "Endpoint": url, "TopicArn": TOPIC})
    calls = [(s, op, {"Subscriptions": subs}) if op == "ListSubscriptionsByTopic" else (s, op, r, *rest)
             for s, op, r, *rest in healthy_calls()]
    if subscribed:  # the probe's own attributes (no filter policy)
        calls.append(("sns", "GetSubscriptionAttributes", {"Attributes": {}}))
    control = load_catalog().by_role(Role.ROOT_USAGE)
    ev = collect_stubbed(calls)
    return plan_drill(ev, judge_account(ev, control), control, DRILL_ID, START, waits=FAST, probe_endpoint=url)


def test_the_endpoints_word_that_the_notification_arrived_is_the_last_step(endpoint, tmp_path):
    envelope = json.loads(alarm_message(50)["Body"])
    _Probe.received = [{**envelope, "MessageId": "sns-1", "Timestamp": at(52).strftime("%Y-%m-%dT%H:%M:%S.000Z")}]
    result = drill_stubbed(_plan(endpoint), healthy_steps(probe=False), tmp_path / "drill")
    last = result.steps[-1]
    assert result.status == Status.PASS and last.step is Step.RECEIPT and last.at == at(52)
    assert "message sns-1 about alarm root-alarm (ALARM at" in last.reason
    assert last.reason.endswith(f"reached {redact_url(endpoint)}")  # its path may be a webhook's credential


def test_an_endpoint_that_answers_no_list_is_a_gap_never_a_pass(endpoint, tmp_path):
    _Probe.answer = b"<html>ok</html>"
    result = drill_stubbed(_plan(endpoint), healthy_steps(probe=False), tmp_path / "drill")
    assert result.status == Status.GAP and "not JSON" in result.steps[-1].reason


def test_an_endpoint_that_is_not_a_confirmed_subscriber_is_refused(endpoint):
    with pytest.raises(ParameterError, match="is not a confirmed subscriber"):
        _plan(endpoint, subscribed=False)
    with pytest.raises(ParameterError, match="is not an http"):
        _plan("ftp://probe.example.com/x")


def test_a_webhook_token_in_the_endpoint_never_reaches_the_plan_or_the_bundle(endpoint, tmp_path):
    secret = f"{endpoint}?token=hunter2-webhook-secret"
    _Probe.received = []
    plan = _plan(secret)
    assert "hunter2" not in json.dumps(plan.to_record()) and "hunter2" not in "\n".join(plan.lines())
    result = drill_stubbed(plan, healthy_steps(probe=False), tmp_path / "drill")
    assert result.status == Status.FAIL and result.steps[-1].step is Step.RECEIPT  # nothing arrived in time
    assert not any("hunter2" in p.read_text(errors="replace") for p in (tmp_path / "drill").rglob("*") if p.is_file())
