"""What a drill will do, decided from the judged root-usage chain before anything is written: the
record, where it goes, what to watch and for how long. Everything that makes a drill meaningless or
unsafe is refused here (``ParameterError``: exit 2), while nothing has been written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rootwatch.catalog import Control
from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.evidence import redact_url
from rootwatch.drill.record import drill_record, message, stream_name
from rootwatch.errors import ParameterError, PatternSyntaxError
from rootwatch.models import SANDBOX_BANNER, Finding, Link, Status
from rootwatch.patterns import compile_pattern
from rootwatch.resources import Alarm, Arn, LogGroupRef, Subscription, Trail, partition_of
from rootwatch.simulate import fires_on_one_event

INTERVAL_S = 15.0  # between two reads while waiting: CloudWatch's own cadence is a minute
DATAPOINT_S = 600.0  # CloudWatch Logs publishes a filter's datapoint within minutes of the event
SLACK_S = 300.0  # beyond the alarm's own worst case (its periods), for CloudWatch's evaluation delay
ACTION_S = 300.0
RECEIPT_S = 300.0


@dataclass(frozen=True)
class Waits:
    """How long each step is waited for, and how often it is read: bounded, so a drill always ends,
    and parameters, so tests never wait for real."""

    interval: float = INTERVAL_S
    datapoint: float = DATAPOINT_S
    transition: float = DATAPOINT_S + SLACK_S
    action: float = ACTION_S
    receipt: float = RECEIPT_S

    def capped(self, longest: float | None = None, interval: float | None = None) -> Waits:
        """Each bound at most ``longest`` seconds, reads every ``interval``: a user's (or a fast sandbox's) limits."""
        def cap(bound: float) -> float:
            return bound if longest is None else min(bound, longest)
        return Waits(self.interval if interval is None else interval, cap(self.datapoint), cap(self.transition),
                     cap(self.action), cap(self.receipt))

    @classmethod
    def for_alarm(cls, alarm_minutes: float | None) -> Waits:
        """The alarm's worst case from the simulator (its period times its evaluation periods) plus slack."""
        return cls(transition=(alarm_minutes or DATAPOINT_S / 60) * 60 + SLACK_S)


@dataclass(frozen=True)
class DrillPlan:
    drill_id: str
    account_id: str
    account_label: str
    region: str  # the log group's, the alarm's
    log_group: str
    stream: str
    record: dict[str, Any]  # its eventTime (and the log event's timestamp) become the moment of writing
    alarm: dict[str, Any]  # as DescribeAlarmsForMetric listed it
    probe_queue: str | None
    waits: Waits
    notes: list[str] = field(default_factory=list)
    sandbox: bool = False  # the sandbox's account: every record of the drill says it is not evidence
    probe_endpoint: str | None = None  # an HTTP(S) subscriber that tells what it received (README); shown
    # only as redact_url shows it: a webhook's path or query may be its credential

    @property
    def probe(self) -> str | None:
        """The probe subscriber the drill waits on, if any: a queue or an endpoint."""
        return self.probe_queue or self.probe_endpoint

    @property
    def mark(self) -> dict[str, str]:
        """What each of the drill's records carries when it drilled the sandbox."""
        return {"not_evidence": SANDBOX_BANNER} if self.sandbox else {}

    @property
    def alarm_name(self) -> str:
        return self.alarm["AlarmName"]

    @property
    def probe_arn(self) -> str | None:
        return queue_arn(self.probe_queue, partition_of(self.record["userIdentity"]["arn"])) \
            if self.probe_queue else None

    def lines(self) -> list[str]:
        """The plan as printed before the go-ahead and kept in the bundle (plan.json holds the same)."""
        a = Alarm(self.alarm)
        probe = f", then its message in SQS queue {self.probe_queue}" if self.probe_queue else \
            f", then its message at endpoint {redact_url(self.probe_endpoint)}" if self.probe_endpoint else \
            " (no --probe-queue or --probe-endpoint: delivery is shown by the action's result only)"
        banner = f" — {SANDBOX_BANNER}" if self.sandbox else ""
        return [f"# rootwatch drill {self.drill_id}: {self.account_label} ({self.account_id}), {self.region}{banner}",
                "# writes (nothing else; nothing is deleted or replaced):",
                f"#   logs:CreateLogStream  log group {self.log_group}  stream {self.stream}  (new, the drill's own)",
                f"#   logs:PutLogEvents     one event on that stream; eventTime and timestamp: the moment of writing",
                f"# then waits for: a datapoint of {a.metric[0]}/{a.metric[1]}, alarm {self.alarm_name} in ALARM, "
                f"its action's result{probe}",
                f"# bounds: datapoint {self.waits.datapoint:.0f} s, ALARM {self.waits.transition:.0f} s, "
                f"action {self.waits.action:.0f} s, probe {self.waits.receipt:.0f} s; read every "
                f"{self.waits.interval:.0f} s",
                *(f"# note: {n}" for n in self.notes),
                "# the record (marked as a drill: eventID, requestID, userAgent, additionalEventData.rootwatchDrill):",
                message(self.record)]

    def to_record(self) -> dict[str, Any]:
        return {"drill_id": self.drill_id, "account_id": self.account_id, "account_label": self.account_label,
                "region": self.region, "log_group": self.log_group, "stream": self.stream, "record": self.record,
                "message": message(self.record), "alarm": self.alarm_name, "probe_queue": self.probe_queue,
                "probe_endpoint": redact_url(self.probe_endpoint) if self.probe_endpoint else None,
                "waits": self.waits.__dict__, "notes": self.notes, **self.mark}


def queue_arn(url: str, partition: str) -> str | None:
    """An SQS queue URL (``https://sqs.<region>.amazonaws.com/<account>/<name>``, or a local endpoint's
    ``.../<account>/<name>``) as the ARN a subscription names it by; None when it is not one."""
    parts = url.rstrip("/").split("/")
    host = parts[2] if len(parts) > 2 else ""
    if len(parts) < 5 or not parts[-2].isdigit() or not parts[-1]:
        return None
    region = host.split(".")[1] if host.startswith("sqs.") else None
    return f"arn:{partition}:sqs:{region or '*'}:{parts[-2]}:{parts[-1]}"


def plan_drill(ev: AccountEvidence, finding: Finding, control: Control, drill_id: str, now: datetime,
               probe_queue: str | None = None, waits: Waits | None = None,
               probe_endpoint: str | None = None) -> DrillPlan:
    """The drill of ``finding``'s chain (the root-usage control's, judged from ``ev``), or a refusal."""
    anchor = finding.anchor
    who = f"{ev.label} ({ev.account_id})"
    group = LogGroupRef(anchor.log_group_account or "", anchor.log_group_region or "", anchor.log_group or "")
    trail = next((Trail(t) for t in ev.trails if Trail(t).name == anchor.trail), None)
    if anchor.log_group and (trail is None or trail.log_group != group or group.account_id != ev.account_id):
        owner = f"; it belongs to account {group.account_id}: drill that account (--account)" \
            if trail is not None and trail.log_group == group else ""
        raise ParameterError(f"log group {group.name} is not the log group trail {anchor.trail} of {who} delivers "
                             f"to in this account{owner}", "the drill writes only where the account's own trail "
                                                           "delivers")
    if not anchor.alarm or not anchor.metric:
        unread = next((v for v in finding.links if v.status == Status.GAP), None)
        if unread is not None:  # no alarm was seen, which is not the same as none existing
            raise ParameterError(f"the {control.id} chain of {who} could not be read up to its alarm "
                                 f"({unread.link.title}: {unread.reason})",
                                 "grant the reads of policies/audit.json, then drill again")
        why = next((f"{v.link.title}: {v.reason}" for v in finding.links if v.status != Status.PASS),
                   "no alarm was found")
        raise ParameterError(f"the {control.id} chain of {who} has no alarm to prove ({why})",
                             "run rootwatch remediate for a plan that adds one, then drill again")
    alarm = next((a for a in ev.alarms if a.get("AlarmName") == anchor.alarm and
                  a.get("rw:region") == group.region), None)
    if alarm is None:
        raise ParameterError(f"alarm {anchor.alarm} of {who} is not in {group.region}, the log group's region",
                             "the drill proves alarms on the log group's own metrics")
    if alarm.get("StateValue") == "ALARM":
        raise ParameterError(f"alarm {anchor.alarm} of {who} is already in ALARM, so a drill cannot show its "
                             "transition", "run the drill once the alarm is back to OK")
    partition = partition_of(ev.caller_arn)
    record = drill_record(drill_id, ev.account_id, partition, group.region, now)
    notes = _expectations(ev, anchor.filter_name, group, alarm, record)
    if probe_queue is not None:
        _check_probe(ev, probe_queue, partition, Alarm(alarm))
    if probe_endpoint is not None:
        _check_endpoint(ev, probe_endpoint, Alarm(alarm))
    outcome = fires_on_one_event(_filter(ev, anchor.filter_name, group) or {}, alarm, record)
    return DrillPlan(drill_id, ev.account_id, ev.label, group.region, group.name, stream_name(drill_id), record, alarm,
                     probe_queue, waits or Waits.for_alarm(outcome.minutes), notes, probe_endpoint=probe_endpoint)


def _filter(ev: AccountEvidence, name: str | None, group: LogGroupRef) -> dict | None:
    return next((f for f in ev.metric_filters if f.get("filterName") == name and f.get("logGroupName") == group.name
                 and f.get("rw:region") == group.region), None)


def _expectations(ev: AccountEvidence, name: str | None, group: LogGroupRef, alarm: dict, record: dict) -> list[str]:
    """What the audit already predicts about this drill, said before it runs (it runs anyway: only
    AWS's answer proves or disproves the chain)."""
    found = _filter(ev, name, group)
    if found is None:
        return [f"metric filter {name} was not read: the drill will show whether a datapoint appears"]
    try:
        matched = compile_pattern(found.get("filterPattern", "")).matches(record)
    except PatternSyntaxError as exc:
        return [f"metric filter {name}'s pattern could not be evaluated ({exc.reason})"]
    if not matched:
        return [f"metric filter {name} does not match this record ({found.get('filterPattern')!r}): expect the drill "
                "to stop at the metric datapoint"]
    outcome = fires_on_one_event(found, alarm, record)
    notes = [f"the alarm simulator says one event will not do it: {outcome.reason}"] if outcome.fires is False else []
    a = Alarm(alarm)
    if not a.actions_enabled:
        notes.append(f"alarm {a.name}'s actions are disabled: expect the drill to stop at the action's result")
    elif not a.topics:
        notes.append(f"alarm {a.name} notifies no SNS topic: expect the drill to stop at the action's result")
    return notes


def _check_probe(ev: AccountEvidence, url: str, partition: str, alarm: Alarm) -> None:
    """The probe queue must be a confirmed subscriber of a topic the alarm notifies: otherwise its
    silence would prove nothing and its message could not come."""
    arn = queue_arn(url, partition)
    if arn is None:
        raise ParameterError(f"--probe-queue {url!r} is not an SQS queue URL",
                             "give the queue's URL, e.g. https://sqs.us-east-1.amazonaws.com/111122223333/rootwatch-drill-probe")
    wanted = Arn.parse(arn)
    subscribed = [s for s in map(Subscription, ev.subscriptions) if s.confirmed and s.protocol == "sqs" and
                  alarm.notifies(s.topic_arn) and _same_queue(Arn.parse(s.endpoint), wanted)]
    if not subscribed:
        raise ParameterError(f"--probe-queue {url} is not a confirmed subscriber of the topic(s) alarm {alarm.name} "
                             f"notifies ({', '.join(alarm.topics) or 'none'})",
                             "subscribe the queue to the alarm's topic, or drill without --probe-queue")


def _check_endpoint(ev: AccountEvidence, url: str, alarm: Alarm) -> None:
    """The probe endpoint must be an HTTP(S) URL confirmed as a subscriber of a topic the alarm notifies."""
    if not url.startswith(("https://", "http://")):
        raise ParameterError(f"--probe-endpoint {url!r} is not an http(s) URL",
                             "give the URL SNS delivers to, e.g. https://probe.example.com/rootwatch")
    subscribed = [s for s in map(Subscription, ev.subscriptions) if s.confirmed and s.protocol in ("http", "https")
                  and alarm.notifies(s.topic_arn) and s.endpoint == redact_url(url)]  # as collected
    if not subscribed:
        raise ParameterError(f"--probe-endpoint {redact_url(url)} is not a confirmed subscriber of the topic(s) alarm {alarm.name} "
                             f"notifies ({', '.join(alarm.topics) or 'none'})",
                             "subscribe the endpoint to the alarm's topic and confirm it, or drill without it")


def _same_queue(found: Arn | None, wanted: Arn | None) -> bool:
    return bool(found and wanted) and (found.account, found.resource) == (wanted.account, wanted.resource) and \
        wanted.region in ("*", found.region)

