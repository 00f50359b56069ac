"""CloudWatch as it behaves, in the sandbox: metric filters publish, alarms evaluate, actions notify.

moto stores metric filters but never applies them, and stores alarms but never evaluates them. Here
the sandbox does both with the engines the judge uses, so what the judge predicts and what the
sandbox then does cannot drift apart:

- **Metric filters** (``publish``): every log event that reaches a log group (``PutLogEvents``
  through the bridge, and the trail's seeded delivery) is read by every metric filter on that group.
  The pattern is rootwatch's own (``rootwatch.patterns``, the bridge's ``FilterLogEvents`` matcher);
  what a match publishes is ``rootwatch.simulate.datapoint``: ``metricValue`` a number or a
  ``$.field`` (absent or not a number: nothing), ``dimensions`` from the event's fields, ``unit``
  (``None`` when unnamed). An event the pattern does not match publishes the ``defaultValue``, if
  any, without dimensions. Each event's datapoint is stamped with the event's own timestamp and
  stored in moto's CloudWatch, so ``GetMetricStatistics``, ``GetMetricData`` and ``ListMetrics``
  answer for it. A transformation CloudWatch's behaviour is not documented for (a numeric string,
  a dimension that is not a string) publishes nothing here.
- **Alarms** (``advance``): every metric alarm is evaluated once a minute of sandbox time, at the
  minute, over its evaluation range (N + 2 periods ending at that minute, the sliding window), each
  period's value being the alarm's statistic over the datapoints stored for its metric, dimensions
  and unit; the state comes from ``rootwatch.simulate.evaluate`` (M of N, TreatMissingData, the
  premature-alarm rule), and ``ignore`` keeps the alarm's current state. A percentile of differing
  samples, which CloudWatch does not document, is taken by nearest rank. A change of state is
  stored as moto's alarm state (``DescribeAlarms``) and as a ``StateUpdate`` item of the alarm
  history (``DescribeAlarmHistory``, served by the bridge). Alarms the simulator cannot model
  (anomaly bands, other metric math) are not evaluated and keep their state.
- **Actions**: with ``ActionsEnabled``, a transition runs the actions of its new state. An SNS
  action publishes the alarm's notification to the topic; the alarm history records an ``Action``
  item "Successfully executed action <topic>" or, as CloudWatch does, "Failed to execute action
  <topic>. Received error: ..." when the topic no longer exists, or when it is encrypted with a KMS
  key whose policy does not let ``cloudwatch.amazonaws.com`` use it (kms:GenerateDataKey* and
  kms:Decrypt; deny statements and conditions are not read). SNS then delivers to the topic's
  confirmed subscribers only (the organisation's unconfirmed ones receive nothing): an SQS queue
  through moto, an HTTP(S) endpoint on loopback by POST (others are never contacted). A subscriber
  that cannot be reached is SNS's delivery failure, not the alarm's: CloudWatch's history still says
  the action succeeded, and the sandbox records the failure in ``SandboxState.deliveries``.
- **Time** (``SandboxClock``): the sandbox's own clock starts at the sandbox's ``now`` when the
  sandbox is made and runs ``speed`` times real time (1 by default; 600 makes a 5-minute period pass in half a
  second; 0 stands it still for tests, which move it with ``advance``). Alarms are evaluated for
  every minute passed, before each request is answered and by a ticker thread between requests, so
  every answer is as of the sandbox's now. ``CLOCK_PATH`` tells a client in another process the
  sandbox's time, the time a log event must carry to be evaluated now.
- **Seeded history**: the seeded records reach the trail's log group as its delivery, read by the
  filters as the chain's history left them at each record's time, so the filters' datapoints over
  the 90 days are real; ``replay`` evaluates the alarms over the window from their creation, and
  their history is that evaluation's (a root event during a narrowed week raises no alarm).
"""

from __future__ import annotations

import bisect
import json
import math
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from rootwatch.errors import PatternSyntaxError
from rootwatch.models import Status
from rootwatch.patterns import compile_pattern
from rootwatch.sandbox.events import AlarmChange
from rootwatch.simulate import CannotSimulate, Datapoint, State, Transformation, datapoint, evaluate
from rootwatch.simulate.datapoints import UNIT_NONE, MetricKey
from rootwatch.simulate.delivery import Publisher, topic_delivery
from rootwatch.simulate.model import AlarmModel, model_of

CLOCK_PATH = "/rootwatch-sandbox/clock"  # not an AWS path: the sandbox's time, ISO 8601
EVALUATION_EVERY = timedelta(minutes=1)
LOOPBACK = ("127.0.0.1", "localhost", "::1")
DELIVERY_TIMEOUT = 2.0  # seconds an HTTP subscriber has to answer
NOT_JSON = object()  # a log event whose message is not JSON
Row = tuple[datetime, MetricKey, str, float]  # a stored value: time, metric, unit, value
Samples = dict[MetricKey, list[tuple[datetime, str, float]]]  # metric -> (time, unit, value)
KMS_REFUSAL = "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."


class SandboxClock:
    """The sandbox's time: ``start`` until ``run`` is called, then ``speed`` times real time. Tests
    hold it still (``set_speed(0)``) and move it (``advance``), so what they check happens at a
    sandbox time they chose, not at whatever the machine's load made it."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        self.start, self.speed = start, _speed(speed)
        self._since: float | None = None  # monotonic time ``start`` was read at; None: not running
        self._lock = threading.Lock()

    def run(self) -> None:
        with self._lock:
            self._since = time.monotonic()

    def set_speed(self, speed: float) -> None:
        with self._lock:
            self.start, self.speed = self._now(), _speed(speed)
            self._since = None if self._since is None else time.monotonic()

    def advance(self, by: timedelta) -> None:
        with self._lock:
            self.start += by

    def now(self) -> datetime:
        with self._lock:
            return self._now()

    def _now(self) -> datetime:
        ran = 0.0 if self._since is None else (time.monotonic() - self._since) * self.speed
        return self.start + timedelta(seconds=ran)


def _speed(speed: float) -> float:
    if not math.isfinite(speed) or speed < 0:
        raise ValueError(f"clock speed {speed!r} is not a finite number of at least 0")
    return speed


@dataclass(frozen=True)
class Delivery:
    """One notification SNS tried to deliver to one subscriber."""

    time: datetime
    topic_arn: str
    subscription_arn: str
    protocol: str
    endpoint: str
    delivered: bool
    detail: str


@dataclass
class CloudWatch:
    """Filters, alarms and actions over moto's backends (see the module's docstring)."""

    clock: SandboxClock
    history: dict[tuple[str, str], list[AlarmChange]]  # (account, region) -> DescribeAlarmHistory items
    pending: set[str]  # subscription ARNs the organisation marks unconfirmed
    deliveries: list[Delivery] = field(default_factory=list)
    _evaluated: datetime | None = None  # the last minute evaluated
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _stores: dict[tuple[str, str], _Store] = field(default_factory=dict, repr=False)

    def _store(self, account: str, region: str, backend: Any) -> _Store:
        store = self._stores.get((account, region))
        if store is None or store.backend is not backend:
            store = self._stores[(account, region)] = _Store(backend)
        store.update()
        return store

    # --- metric filters ---------------------------------------------------------------------
    def publish(self, account: str, region: str, log_group: str,
                events: Iterable[tuple[int, str, Mapping[str, Any] | None]]) -> None:
        """Datapoints of the group's metric filters for ``events`` ((timestamp ms, message, the
        message parsed when the caller has it)), stored in moto's CloudWatch."""
        from moto.cloudwatch.models import cloudwatch_backends
        from moto.logs.models import logs_backends

        readers = []
        for f in logs_backends[account][region].filters.get_matching_filters(log_group_name=log_group):
            try:
                readers.append((event_matcher(f["filterPattern"] or ""),
                                Transformation.from_api((f["metricTransformations"] or [{}])[0])))
            except (CannotSimulate, PatternSyntaxError):
                continue  # CloudWatch Logs refuses such a filter; moto stored it anyway
        by_namespace: dict[str, list[dict]] = {}
        for timestamp, text, parsed in events if readers else ():
            record = parsed if parsed is not None else parsed_message(text)
            when = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
            for matches, transformation in readers:
                point = _point(transformation, record, matches(text, record))
                if point is not None:
                    by_namespace.setdefault(point.metric.namespace, []).append(_datum(point, when))
        backend = cloudwatch_backends[account][region]
        with self._lock:
            for namespace, data in by_namespace.items():
                backend.put_metric_data(namespace, data)

    # --- alarms -----------------------------------------------------------------------------
    def advance(self) -> None:
        """Evaluate every metric alarm at each minute of sandbox time since the last evaluation."""
        with self._lock:
            now = _minute(self.clock.now())
            if self._evaluated is None:
                self._evaluated = now - EVALUATION_EVERY
            while self._evaluated < now:
                self._evaluated += EVALUATION_EVERY
                self._evaluate_all(self._evaluated)

    def _evaluate_all(self, at: datetime) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        for account, regions in list(cloudwatch_backends.items()):
            for region, backend in list(regions.items()):
                models = _models(backend)
                if models:
                    samples = _samples(self._store(account, region, backend).between(at - _reach(models), at))
                    for alarm, model in models:
                        self._evaluate(account, region, alarm, model, samples, at)

    def replay(self, account: str, region: str, since: datetime, until: datetime) -> None:
        """Evaluate one account's alarms over a past span as if the sandbox had run through it (the
        seeded history): each alarm at every minute whose
        evaluation range can hold one of its datapoints, and at the first minute after; in between its
        range is empty, and an empty range evaluates the same minute after minute, so skipping those
        minutes changes nothing. Of those minutes, one whose range holds the same datapoints in the same
        periods as the minute evaluated before it is skipped too: an evaluation of the same range from
        the state that range just gave gives that state again (``evaluate``), so it would change nothing."""
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[account][region]
        with self._lock:
            store = self._store(account, region, backend)
            first = _minute(since) + EVALUATION_EVERY
            for alarm, model in _models(backend):
                reach = _reach([(alarm, model)])
                metrics = {op.metric for op in model.operands}
                mine = [row for row in store.between(since - reach, until) if row[1] in metrics]
                times = [row[0] for row in mine]
                ticks = {first} | {_minute(when) + EVALUATION_EVERY * (k + 1) for when in times
                                   for k in range(int(reach / EVALUATION_EVERY) + 1)}
                evaluated = None  # what the last evaluated range held: its rows and each one's period
                for at in sorted(t for t in ticks if first <= t <= until):
                    lo, hi = bisect.bisect_left(times, at - reach), bisect.bisect_left(times, at)
                    held = _held(model, times, lo, hi, at)
                    if held is not None and held == evaluated:
                        continue
                    evaluated = held
                    self._evaluate(account, region, alarm, model, _samples(mine[lo:hi]), at)

    def _evaluate(self, account: str, region: str, alarm: Any, model: AlarmModel, samples: Samples,
                  at: datetime) -> None:
        previous = State(alarm.state_value)
        try:
            window = [_breach(model, _period_value(model, samples, end - timedelta(seconds=model.period), end))
                      for end in _period_ends(model, at)]
        except CannotSimulate:
            return  # a statistic the simulator cannot take of these samples: the alarm keeps its state
        result = evaluate(window, model.rule, previous)
        if result.state is previous:
            return
        reason = f"Sandbox evaluation at {at:%Y-%m-%dT%H:%M:%SZ}: {result.why}"
        alarm.update_state(reason, json.dumps({"version": "1.0", "evaluatedAt": at.isoformat()}),
                           result.state.value)
        alarm.state_updated_timestamp = at
        changes = self.history.setdefault((account, region), [])
        changes.append(AlarmChange(
            alarm.name, at, "StateUpdate", f"Alarm updated from {previous.value} to {result.state.value}",
            {"version": "1.0", "oldState": {"stateValue": previous.value},
             "newState": {"stateValue": result.state.value, "stateReason": reason}}))
        if alarm.actions_enabled:
            actions = {State.ALARM: alarm.alarm_actions, State.OK: alarm.ok_actions,
                       State.INSUFFICIENT_DATA: alarm.insufficient_data_actions}[result.state]
            for arn in actions or []:
                changes.append(self._act(account, region, alarm, arn, previous, reason, at))

    # --- actions ----------------------------------------------------------------------------
    def _act(self, account: str, region: str, alarm: Any, arn: str, previous: State, reason: str,
             at: datetime) -> AlarmChange:
        error = self._notify(alarm, arn, previous, reason, at) if arn.startswith("arn:aws:sns:") else \
            "the sandbox runs SNS actions only"
        stamp = {"stateUpdateTimestamp": int(at.timestamp() * 1000)}
        if error is None:
            return AlarmChange(alarm.name, at + timedelta(seconds=1), "Action", f"Successfully executed action {arn}",
                               {"actionState": "Succeeded", "notificationResource": arn, **stamp})
        return AlarmChange(alarm.name, at + timedelta(seconds=1), "Action",
                           f"Failed to execute action {arn}. Received error: \"{error}\"",
                           {"actionState": "Failed", "notificationResource": arn, "error": error, **stamp})

    def _notify(self, alarm: Any, topic_arn: str, previous: State, reason: str, at: datetime) -> str | None:
        """Publish the alarm's notification; the error CloudWatch would record, or None."""
        from moto.sns.exceptions import SNSNotFoundError
        from moto.sns.models import sns_backends

        parts = topic_arn.split(":")
        if len(parts) != 6:
            return "Invalid parameter: TopicArn"
        region, account = parts[3], parts[4]
        try:
            topic = sns_backends[account][region].get_topic(topic_arn)
        except (SNSNotFoundError, KeyError):
            return "Topic does not exist"
        if topic.kms_master_key_id and not _key_lets_cloudwatch(topic_arn, account, region, topic.kms_master_key_id,
                                                                alarm.alarm_arn):
            return KMS_REFUSAL
        subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:100]
        message = json.dumps(_notification(alarm, account, region, previous, reason, at))
        message_id = f"sandbox-{alarm.name}-{int(at.timestamp())}"
        topic.sent_notifications.append((message_id, message, subject, None, None))
        for sub in [s for s in sns_backends[account][region].subscriptions.values() if s.topic_arn == topic_arn]:
            self.deliveries.append(self._deliver(sub, message, message_id, subject, at))
        return None

    def _deliver(self, sub: Any, message: str, message_id: str, subject: str, at: datetime) -> Delivery:
        def done(ok: bool, detail: str) -> Delivery:
            return Delivery(at, sub.topic_arn, sub.arn, sub.protocol, sub.endpoint, ok, detail)

        if sub.arn in self.pending:
            return done(False, "PendingConfirmation: SNS delivers only to confirmed subscriptions")
        if sub.protocol == "sqs":
            try:
                sub.publish(message, message_id, subject=subject)
            except Exception as exc:  # noqa: BLE001 - moto's own errors: the queue is gone
                return done(False, f"{type(exc).__name__}: {exc}")
            return done(True, "sent to the queue")
        if sub.protocol in ("http", "https"):
            return done(*_post(sub.endpoint, sub.get_post_data(message, message_id, subject)))
        return done(False, f"the sandbox does not deliver {sub.protocol} notifications")


def _minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def event_matcher(pattern: str) -> Callable[[str, Any], bool]:
    """A filter pattern as CloudWatch Logs applies it to a log event (its text, and the text parsed
    as JSON: ``parsed_message``): JSON patterns through rootwatch's engine, terms as all-present words.
    Raises ``PatternSyntaxError``."""
    if not pattern.strip():
        return lambda text, record: True
    if pattern.lstrip().startswith("{"):
        compiled = compile_pattern(pattern)
        return lambda text, record: record is not NOT_JSON and compiled.matches(record)
    terms = re.findall(r'"([^"]*)"|(\S+)', pattern)
    words = [quoted or bare for quoted, bare in terms]
    return lambda text, record: all(w in text for w in words)


def parsed_message(message: str) -> Any:
    """The log event's message as JSON, or ``NOT_JSON`` (which no JSON pattern matches)."""
    try:
        return json.loads(message)
    except ValueError:
        return NOT_JSON


def _point(transformation: Transformation, record: Mapping[str, Any], matched: bool) -> Datapoint | None:
    if not matched:
        if transformation.default is None:
            return None
        return Datapoint(MetricKey(transformation.namespace, transformation.name), transformation.default,
                         transformation.unit)
    try:
        point = datapoint(transformation, record)
    except CannotSimulate:
        return None
    return point if isinstance(point, Datapoint) else None


def _datum(point: Datapoint, when: datetime) -> dict[str, Any]:
    """A datum for moto's store, which keeps naive UTC times."""
    return {"MetricName": point.metric.name, "Value": point.value, "Timestamp": when.replace(tzinfo=None),
            "Unit": point.unit,
            "Dimensions": [{"Name": k, "Value": v} for k, v in point.metric.dimensions]}


def _described(alarm: Any) -> dict[str, Any]:
    """moto's alarm as ``DescribeAlarms`` gives it, for the simulator's reader."""
    raw: dict[str, Any] = {
        "AlarmName": alarm.name, "Namespace": alarm.namespace, "MetricName": alarm.metric_name,
        "Dimensions": [{"Name": d.name, "Value": d.value} for d in alarm.dimensions],
        "Statistic": alarm.statistic, "ExtendedStatistic": alarm.extended_statistic, "Unit": alarm.unit,
        "Period": _int(alarm.period), "EvaluationPeriods": _int(alarm.evaluation_periods),
        "DatapointsToAlarm": _int(alarm.datapoints_to_alarm), "Threshold": _float(alarm.threshold),
        "ComparisonOperator": alarm.comparison_operator, "TreatMissingData": alarm.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
        "ThresholdMetricId": alarm.threshold_metric_id, "StateValue": alarm.state_value}
    if alarm.metric_data_queries:
        raw["Metrics"] = [_query(q) for q in alarm.metric_data_queries]
    return {k: v for k, v in raw.items() if v is not None}


def _query(q: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": q.id, "ReturnData": str(q.return_data).lower() != "false"}
    if q.expression:
        out["Expression"] = q.expression
    if q.metric_stat:
        metric = q.metric_stat.metric
        out["MetricStat"] = {"Metric": {"Namespace": metric.namespace, "MetricName": metric.metric_name,
                                        "Dimensions": [{"Name": d.name, "Value": d.value} for d in metric.dimensions]},
                             "Period": _int(q.metric_stat.period), "Stat": q.metric_stat.stat}
        if q.metric_stat.unit:
            out["MetricStat"]["Unit"] = q.metric_stat.unit
    return out


def _int(raw: Any) -> int | None:
    return None if raw is None else int(raw)


def _float(raw: Any) -> float | None:
    return None if raw is None else float(raw)


def _period_ends(model: AlarmModel, at: datetime) -> list[datetime]:
    """The ends of the evaluation range's periods, oldest first: the sliding window ends at the
    evaluation; a wall-clock window at the last whole clock-aligned period."""
    period = timedelta(seconds=model.period)
    last = at
    if model.wall_clock:
        last = datetime.fromtimestamp(at.timestamp() // model.period * model.period, tz=UTC)
    return [last - period * k for k in range(model.rule.span - 1, -1, -1)]


def _held(model: AlarmModel, times: list[datetime], lo: int, hi: int, at: datetime) -> tuple | None:
    """Which rows (``lo``..``hi`` of the alarm's) the evaluation range at ``at`` holds, and in which of
    its sliding periods each one falls (0: the latest, ending at ``at``); None for a wall-clock window,
    whose periods do not move with ``at``."""
    if model.wall_clock:
        return None
    period = timedelta(seconds=model.period)
    return lo, hi, tuple((at - when - timedelta.resolution) // period for when in times[lo:hi])


def _models(backend: Any) -> list[tuple[Any, AlarmModel]]:
    """The backend's alarms the simulator models; the others (anomaly bands, other metric math,
    composites) are not evaluated and keep their state."""
    models = []
    for alarm in list(backend.alarms.values()):
        try:
            models.append((alarm, model_of(_described(alarm))))
        except CannotSimulate:
            continue
    return models


def _reach(models: list[tuple[Any, AlarmModel]]) -> timedelta:
    """How far back the longest evaluation range reads."""
    return max(timedelta(seconds=m.period * m.rule.span) for _, m in models)


class _Store:
    """One backend's single values (not statistic sets) in time order, kept up with moto's store as
    it grows: an evaluation reads the minutes it needs, not every datapoint of 90 days."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.seen = backend, 0
        self.times: list[datetime] = []
        self.rows: list[Row] = []

    def update(self) -> None:
        from moto.cloudwatch.models import MetricDatum

        stored = list(self.backend.metric_data)
        if len(stored) < self.seen:
            self.seen, self.times, self.rows = 0, [], []
        for d in stored[self.seen:]:
            if isinstance(d, MetricDatum):
                when = _aware(d.timestamp)
                at = bisect.bisect_right(self.times, when)
                self.times.insert(at, when)
                self.rows.insert(at, (when, _key(d), d.unit or UNIT_NONE, d.value))
        self.seen = len(stored)

    def between(self, since: datetime, until: datetime) -> list[Row]:
        """The values stamped in [since, until)."""
        return self.rows[bisect.bisect_left(self.times, since):bisect.bisect_left(self.times, until)]


def _samples(rows: Iterable[Row]) -> Samples:
    """The values by metric: one pass per evaluation, however many alarms read them."""
    found: Samples = {}
    for when, key, unit, value in rows:
        found.setdefault(key, []).append((when, unit, value))
    return found


def _period_value(model: AlarmModel, samples: Samples, start: datetime, end: datetime) -> float | None:
    """The alarm's series in one period: each operand's statistic over its samples, summed (None:
    no operand has a sample)."""
    values = []
    for op in model.operands:
        mine = [v for when, unit, v in samples.get(op.metric, ()) if start <= when < end
                and (op.unit is None or unit == op.unit)]
        if not mine or (model.low_sample_ignore and op.statistic.too_few(len(mine))):
            continue
        if op.statistic.extended:
            ranked = sorted(mine)
            values.append(ranked[max(0, math.ceil((op.statistic.percentile or 0) * len(ranked)) - 1)])
        else:
            values.append(op.statistic.of(mine).low)
    return sum(values) if values else None


def _breach(model: AlarmModel, value: float | None) -> bool | None:
    return None if value is None else model.comparison.holds(value, model.threshold)


def _key(datum: Any) -> MetricKey:
    return MetricKey(datum.namespace, datum.name, tuple(sorted((d.name, d.value) for d in datum.dimensions)))


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _notification(alarm: Any, account: str, region: str, previous: State, reason: str, at: datetime) -> dict:
    """The JSON CloudWatch publishes for an alarm's state change (the fields a subscriber reads)."""
    return {"AlarmName": alarm.name, "AlarmDescription": alarm.description or None, "AWSAccountId": account,
            "NewStateValue": alarm.state_value, "NewStateReason": reason,
            "StateChangeTime": at.strftime("%Y-%m-%dT%H:%M:%S.000+0000"), "Region": region,
            "AlarmArn": alarm.alarm_arn, "OldStateValue": previous.value,
            "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                        "Statistic": (alarm.statistic or "").upper(), "Period": _int(alarm.period),
                        "EvaluationPeriods": _int(alarm.evaluation_periods),
                        "ComparisonOperator": alarm.comparison_operator, "Threshold": _float(alarm.threshold),
                        "TreatMissingData": alarm.treat_missing_data or "missing"}}


def _key_lets_cloudwatch(topic_arn: str, account: str, region: str, key_id: str, alarm_arn: str) -> bool:
    """Whether the key lets CloudWatch publish to a topic it encrypts, by the judge's own reading of key
    policies (simulate/delivery.py): an AWS managed key, such as alias/aws/sns, never does, and a policy
    the judge cannot settle counts as a refusal here."""
    from moto.kms.models import kms_backends

    try:
        key = kms_backends[account][region].describe_key(key_id)
    except Exception:  # noqa: BLE001 - moto raises its own NotFound types
        return False
    attributes = {"KmsMasterKeyId": key_id}
    metadata = {"KeyId": key.id, "Arn": key.arn, "KeyManager": key.key_manager, "KeyState": key.key_state,
                "rw:policy": key.policy}
    return topic_delivery(topic_arn, attributes, metadata, Publisher.CLOUDWATCH, alarm_arn, account).status \
        is Status.PASS


def _post(endpoint: str, body: Mapping[str, Any]) -> tuple[bool, str]:
    """POST a notification to an HTTP(S) subscriber on loopback, as SNS does."""
    if urlsplit(endpoint).hostname not in LOOPBACK:
        return False, "the sandbox delivers only to endpoints on loopback"
    request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "text/plain; charset=UTF-8",
                                              "x-amz-sns-message-type": "Notification"})
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with no_proxy.open(request, timeout=DELIVERY_TIMEOUT) as answer:
            return True, f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except OSError as exc:
        return False, f"endpoint unreachable: {exc}"
