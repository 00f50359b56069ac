"""The drill's steps against AWS, in the order the chain works: write the record, see the metric's
datapoint, see the alarm's transition to ALARM, see its action's result, see the probe's receipt.
Each step is bounded in time and read again every ``Waits.interval``; each ends reached (PASS),
stopped for a definite reason (FAIL: the chain did not fire within the bound, or an action failed),
or unobserved (GAP: a call was refused). A step not reached ends the drill: later ones cannot happen."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from rootwatch.collect.evidence import Recorder, redact_url
from rootwatch.drill.plan import DrillPlan
from rootwatch.drill.record import message
from rootwatch.models import Link, Status
from rootwatch.resources import Alarm, json_object
from rootwatch.scope import Clock


class Step(Enum):
    def __new__(cls, id: str, title: str, link: Link) -> Step:  # noqa: A002 - the step's id, as recorded
        member = object.__new__(cls)
        member._value_ = id
        member.title, member.link = title, link
        return member

    title: str
    link: Link  # the chain's link a stop here points at

    WRITE = "write", "record written", Link.LOG_GROUP
    DATAPOINT = "datapoint", "metric datapoint", Link.METRIC_FILTER
    TRANSITION = "alarm", "alarm in ALARM", Link.ALARM
    ACTION = "action", "alarm action succeeded", Link.ALARM
    RECEIPT = "receipt", "probe received the message", Link.SUBSCRIBER


@dataclass(frozen=True)
class StepResult:
    step: Step
    status: Status  # PASS: reached; FAIL: stopped, definitely; GAP: could not be observed
    seen: datetime  # when the drill saw it (or gave up)
    reason: str
    at: datetime | None = None  # when AWS says it happened (the datapoint's minute, the history item's time)
    evidence: tuple[str, ...] = ()  # raw call files

    def to_record(self) -> dict[str, Any]:
        return {"step": self.step.value, "title": self.step.title, "link": self.step.link.id,
                "status": self.status, "seen": self.seen.isoformat(), "at": self.at.isoformat() if self.at else None,
                "reason": self.reason, "evidence": list(self.evidence)}


@dataclass(frozen=True)
class _Seen:
    at: datetime | None
    detail: str


@dataclass(frozen=True)
class _Stopped:
    reason: str
    status: Status = Status.FAIL  # GAP: what was to be watched could not be read


_Read = Callable[[], "_Seen | _Stopped | None"]  # None: not yet
Say = Callable[[str], None]


class Drive:
    """One drill's calls (``rec``: the account's recorder, its role assumed), clock and progress."""

    def __init__(self, plan: DrillPlan, rec: Recorder, clock: Clock, say: Say,
                 on_call: Callable[[], None] = lambda: None) -> None:
        self.plan, self.rec, self.clock, self.say, self.on_call = plan, rec, clock, say, on_call

    def run(self, on_step: Callable[[StepResult], None]) -> list[StepResult]:
        """Every step in order until one is not reached; ``on_step`` hears each as it ends."""
        results: list[StepResult] = []
        written = self.write()
        on_step(written)
        results.append(written)
        if written.status != Status.PASS:
            return results
        start = written.at or written.seen
        chain: list[tuple[Step, float, Callable[[datetime], _Read], str]] = [
            (Step.DATAPOINT, self.plan.waits.datapoint, self._datapoint, "a datapoint of the alarm's metric"),
            (Step.TRANSITION, self.plan.waits.transition, self._transition, f"alarm {self.plan.alarm_name} in ALARM"),
            (Step.ACTION, self.plan.waits.action, self._action, "the alarm action's result" + (
                "" if Alarm(self.plan.alarm).actions_enabled else " (its actions were disabled when audited)")),
        ]
        if self.plan.probe:
            chain.append((Step.RECEIPT, self.plan.waits.receipt,
                          self._receipt if self.plan.probe_queue else self._endpoint_receipt,
                          f"the message at {redact_url(self.plan.probe)}"))
        for step, bound, read, what in chain:
            # the action follows the transition; the rest follow the write
            since = (results[-1].at or results[-1].seen) if step is Step.ACTION else start
            result = self._wait(step, bound, read(since), what)
            on_step(result)
            results.append(result)
            if result.status != Status.PASS:
                break
        return results

    # --- the write -----------------------------------------------------------------------------------

    def write(self) -> StepResult:
        p, rec = self.plan, self.rec
        at = self.clock.now()
        record = {**p.record, "eventTime": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        made = rec.call(p.region, "logs", "CreateLogStream", Link.LOG_GROUP, logGroupName=p.log_group,
                        logStreamName=p.stream)
        self.on_call()
        if made is None:
            return self._gap(Step.WRITE, f"the drill's log stream could not be created ({rec.gaps[-1].text})")
        answer = rec.call(p.region, "logs", "PutLogEvents", Link.LOG_GROUP, logGroupName=p.log_group,
                          logStreamName=p.stream,
                          logEvents=[{"timestamp": int(at.timestamp() * 1000), "message": message(record)}])
        self.on_call()
        if answer is None:
            return self._gap(Step.WRITE, f"the record was not written ({rec.gaps[-1].text})")
        rejected = answer.get("rejectedLogEventsInfo")
        if rejected:
            return self._gap(Step.WRITE, f"CloudWatch Logs rejected the record ({json.dumps(rejected)})")
        return StepResult(Step.WRITE, Status.PASS, self.clock.now(),
                          f"one record written to {p.log_group}/{p.stream} at {at:%H:%M:%S} UTC", at,
                          self._files(2))

    # --- the waits -----------------------------------------------------------------------------------

    def _wait(self, step: Step, bound: float, read: _Read, what: str) -> StepResult:
        started = self.clock.now()
        first = len(self.rec.calls)
        while True:
            gaps = len(self.rec.gaps)
            found = read()
            self.on_call()
            now = self.clock.now()
            files = tuple(f"raw/{c.filename}" for c in self.rec.calls[first:])
            if len(self.rec.gaps) > gaps:
                return StepResult(step, Status.GAP, now, f"could not read {what}: {self.rec.gaps[-1].text}",
                                  None, files[-1:])
            if isinstance(found, _Seen):
                return StepResult(step, Status.PASS, now, found.detail, found.at, files[-1:])
            if isinstance(found, _Stopped):
                return StepResult(step, found.status, now, found.reason, None, files[-1:])
            waited = (now - started).total_seconds()
            if waited >= bound:
                return StepResult(step, Status.FAIL, now, f"{what}: none within {bound:.0f} s ({len(files)} reads, "
                                  "each answered): the chain did not get this far", None, files[-1:])
            self.say(f"rootwatch drill: waiting for {what} ({waited:.0f} s of {bound:.0f} s)")
            self.clock.sleep(min(self.plan.waits.interval, bound - waited))

    def _datapoint(self, since: datetime) -> _Read:
        alarm, p = Alarm(self.plan.alarm), self.plan
        namespace, name = alarm.metric
        minute = since.replace(second=0, microsecond=0)

        def read() -> _Seen | None:
            answer = self.rec.call(p.region, "cloudwatch", "GetMetricStatistics", Link.METRIC_DATA,
                                   Namespace=namespace, MetricName=name, Dimensions=p.alarm.get("Dimensions", []),
                                   StartTime=minute, EndTime=self.clock.now() + timedelta(minutes=1), Period=60,
                                   Statistics=["SampleCount", "Sum"])
            points = sorted((d for d in (answer or {}).get("Datapoints", [])
                             if d.get("SampleCount", 0) > 0 and _utc(d["Timestamp"]) >= minute),
                            key=lambda d: d["Timestamp"])
            if not points:
                return None
            d = points[0]
            return _Seen(_utc(d["Timestamp"]), f"{namespace}/{name}: Sum {d.get('Sum')} over the minute of "
                                               f"{_utc(d['Timestamp']):%H:%M} UTC")
        return read

    def _history(self, kind: str, since: datetime) -> list[dict]:
        p = self.plan
        answer = self.rec.call(p.region, "cloudwatch", "DescribeAlarmHistory", Link.ALARM_HISTORY,
                               AlarmName=p.alarm_name, HistoryItemType=kind, StartDate=since,
                               EndDate=self.clock.now() + timedelta(minutes=1), ScanBy="TimestampAscending")
        return [i for i in (answer or {}).get("AlarmHistoryItems", []) if _utc(i["Timestamp"]) >= since]

    def _transition(self, since: datetime) -> _Read:
        def read() -> _Seen | None:
            for item in self._history("StateUpdate", since):
                data = json_object(item.get("HistoryData"))
                if (data.get("newState") or {}).get("stateValue") == "ALARM":
                    return _Seen(_utc(item["Timestamp"]), f"alarm {self.plan.alarm_name} went to ALARM at "
                                                          f"{_utc(item['Timestamp']):%H:%M:%S} UTC: "
                                                          f"{item.get('HistorySummary', '')}")
            return None
        return read

    def _action(self, since: datetime) -> _Read:
        """Every SNS action of the alarm must report success; the first failure stops the drill."""
        topics = set(Alarm(self.plan.alarm).topics)

        def read() -> _Seen | _Stopped | None:
            done: dict[str, datetime] = {}
            for item in self._history("Action", since):
                data, summary = json_object(item.get("HistoryData")), item.get("HistorySummary", "")
                target = data.get("notificationResource") or next((t for t in topics if t in summary), None)
                state = data.get("actionState") or ("Failed" if summary.startswith("Failed") else
                                                    "Succeeded" if summary.startswith("Successfully") else None)
                if target in topics and state == "Failed":
                    return _Stopped(f"the alarm's action on {target} failed: {summary} "
                                    f"{data.get('error', '')}".strip())
                if target in topics and state == "Succeeded":
                    done.setdefault(target, _utc(item["Timestamp"]))
            if topics and set(done) == topics:
                return _Seen(max(done.values()), f"SNS accepted the alarm's message for {', '.join(sorted(topics))}")
            return None
        return read

    def _receipt(self, since: datetime) -> _Read:
        p = self.plan
        region = p.probe_arn.split(":")[3] if p.probe_arn and p.probe_arn.split(":")[3] != "*" else p.region

        def read() -> _Seen | None:
            # VisibilityTimeout 0: the queue's other readers see every message as before (the drill removes nothing)
            answer = self.rec.call(region, "sqs", "ReceiveMessage", Link.SUBSCRIBER, QueueUrl=p.probe_queue,
                                   MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
                                   MessageSystemAttributeNames=["SentTimestamp"])
            for m in (answer or {}).get("Messages", []):
                alarm = _alarm_message(m.get("Body", ""))
                changed = _parse_time(alarm.get("StateChangeTime"))
                if alarm.get("AlarmName") == p.alarm_name and alarm.get("NewStateValue") == "ALARM" and changed \
                        and changed >= since:
                    sent = m.get("Attributes", {}).get("SentTimestamp")
                    at = datetime.fromtimestamp(int(sent) / 1000, UTC) if sent and sent.isdigit() else None
                    return _Seen(at, f"message {m.get('MessageId')} about alarm {p.alarm_name} (ALARM at "
                                     f"{changed:%H:%M:%S} UTC) is in {p.probe_queue}")
            return None
        return read

    def _endpoint_receipt(self, since: datetime) -> _Read:
        """The probe endpoint's own account of what SNS delivered to it: a GET on the URL SNS posts to
        answers the JSON list of the notifications it received (README, "rootwatch drill")."""
        p = self.plan

        def read() -> _Seen | _Stopped | None:
            received = _received(p.probe_endpoint or "")
            if isinstance(received, str):
                return _Stopped(received, Status.GAP)
            for note in received:
                alarm = _alarm_message(json.dumps(note) if isinstance(note, dict) else "")
                changed = _parse_time(alarm.get("StateChangeTime"))
                if alarm.get("AlarmName") == p.alarm_name and alarm.get("NewStateValue") == "ALARM" and changed \
                        and changed >= since:
                    sent = _parse_time(note.get("Timestamp")) or _iso(note.get("Timestamp"))
                    return _Seen(sent, f"message {note.get('MessageId')} about alarm {p.alarm_name} (ALARM at "
                                       f"{changed:%H:%M:%S} UTC) reached {redact_url(p.probe_endpoint or '')}")
            return None
        return read

    # --- helpers -------------------------------------------------------------------------------------

    def _gap(self, step: Step, reason: str) -> StepResult:
        return StepResult(step, Status.GAP, self.clock.now(), reason, None, self._files(1))

    def _files(self, last: int) -> tuple[str, ...]:
        return tuple(f"raw/{c.filename}" for c in self.rec.calls[-last:])


PROBE_ANSWER_LIMIT = 1 << 20  # bytes of a probe endpoint's answer read: a hostile one costs no more


def _received(url: str) -> list | str:
    """The notifications the probe endpoint says it received, or why they could not be read."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "application/json"}),
                                    timeout=10) as answer:
            body = answer.read(PROBE_ANSWER_LIMIT + 1)
    except (OSError, ValueError) as exc:
        return f"the probe endpoint could not be read: {exc}"
    if len(body) > PROBE_ANSWER_LIMIT:
        return "the probe endpoint's answer is larger than 1 MiB: not the list of notifications rootwatch reads"
    try:
        notes = json.loads(body)
    except ValueError:
        return "the probe endpoint's answer is not JSON: it must be the list of notifications it received"
    if not isinstance(notes, list):
        return "the probe endpoint's answer is not a list of the notifications it received"
    return notes


def _iso(text: Any) -> datetime | None:
    """SNS's envelope ``Timestamp`` (``2026-12-07T05:40:02.123Z``)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC) if isinstance(text, str) else None
    except ValueError:
        return None


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _alarm_message(body: str) -> dict:
    """CloudWatch's alarm message, inside SNS's envelope or raw (raw message delivery)."""
    outer = json_object(body)
    return json_object(outer["Message"]) if "Message" in outer and "TopicArn" in outer else outer


def _parse_time(text: Any) -> datetime | None:
    """CloudWatch's ``StateChangeTime`` (``2026-12-07T05:40:00.123+0000``)."""
    if not isinstance(text, str):
        return None
    for form in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, form).astimezone(UTC)
        except ValueError:
            continue
    return None
