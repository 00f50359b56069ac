"""CloudTrail management events that change the chain, read into typed changes.

Each change says, per resource it touches, what it set (``after``: what is known once it ran) and
what held before it (``before``: what undoing it restores), and whether that ``before`` is a fact
(a resource a Create made did not exist) or an inference (a trail StopLogging stopped was logging:
AWS also accepts stopping a stopped trail). Request and response fields are read as CloudTrail
writes them: the API's parameter names with a lower-case first letter (``alarmName``,
``oKActions``). A call with an ``errorCode`` changed nothing. A chain-changing call whose record
cannot be read changes "everything" (``key`` ``None``): no knowledge crosses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rootwatch.history.state import (EXISTS, FIELDS, PENDING, Fields, Key, Kind, alarm_id, filter_id, log_group_id,
                                     subscription_id, trail_name)

CLOUDTRAIL, LOGS, CLOUDWATCH, SNS = ("cloudtrail.amazonaws.com", "logs.amazonaws.com", "monitoring.amazonaws.com",
                                     "sns.amazonaws.com")
DEFAULT_SELECTORS = [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": [],
                      "ExcludeManagementEventSources": []}]  # a new trail's, until PutEventSelectors


class Unreadable(ValueError):
    """A chain-changing record whose fields are missing or of the wrong shape."""


@dataclass(frozen=True)
class Edit:
    """What one change did to one resource (``key`` ``None``: to any resource; unreadable record)."""

    key: Key | None
    after: Fields  # fields known once it ran
    before: Fields = field(default_factory=dict)  # fields undoing it restores
    whole: bool = False  # after/before cover the whole resource: any other field is unknown on that side
    inferred: bool = False  # ``before`` is a likely reading, not a fact: a known later fact outranks it
    # children (a log group's filters, a topic's subscriptions): none once it ran; before it, none
    # if it created the resource, else unknown (no record names what a deleted log group held)
    cascade: Kind | None = None
    # ``after`` fields the call left to AWS's default: likely, but a Describe may render them otherwise
    defaults: frozenset[str] = frozenset()
    extra: Fields = field(default_factory=dict)  # record fields outside the chain's (name, ARN) from a create


@dataclass(frozen=True)
class Change:
    """One management event that changes the chain: who, when, from where, and what it did."""

    event_id: str
    event_name: str
    event_source: str
    time: datetime | None  # None: no readable eventTime (the replay cannot place it)
    region: str
    actor_arn: str
    actor_type: str
    source_ip: str
    edits: tuple[Edit, ...] = ()
    error_code: str | None = None  # the call failed: it changed nothing
    unreadable: str | None = None  # why the record could not be read (its edit then spares nothing)

    @property
    def who(self) -> str:
        return f"{self.actor_arn or self.actor_type or 'unknown principal'} from {self.source_ip or 'unknown address'}"

    def __str__(self) -> str:
        when = f"{self.time:%Y-%m-%d %H:%M:%S} UTC" if self.time else "at an unreadable time"
        return f"{self.event_name} {when} by {self.who} (event {self.event_id or 'without id'})"


CHANGES = {
    CLOUDTRAIL: ("CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging", "PutEventSelectors"),
    LOGS: ("CreateLogGroup", "DeleteLogGroup", "PutMetricFilter", "DeleteMetricFilter"),
    CLOUDWATCH: ("PutMetricAlarm", "DeleteAlarms", "EnableAlarmActions", "DisableAlarmActions"),
    SNS: ("CreateTopic", "DeleteTopic", "Subscribe", "ConfirmSubscription", "Unsubscribe"),
}


def is_change(record: Mapping[str, Any]) -> bool:
    return record.get("eventName") in CHANGES.get(record.get("eventSource"), ())  # type: ignore[arg-type]


def parse_changes(records: Iterable[Mapping[str, Any]]) -> list[Change]:
    """The chain-changing events among ``records``, in the order given (the replay sorts them)."""
    return [parse(r) for r in records if isinstance(r, Mapping) and is_change(r)]


def parse(record: Mapping[str, Any]) -> Change:
    """One chain-changing record; never raises on a malformed one (it becomes ``unreadable``)."""
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), Mapping) else {}
    head = dict(event_id=_text(record.get("eventID")), event_name=_text(record.get("eventName")),
                event_source=_text(record.get("eventSource")), time=event_time(record.get("eventTime")),
                region=_text(record.get("awsRegion")), actor_arn=_text(identity.get("arn")),
                actor_type=_text(identity.get("type")), source_ip=_text(record.get("sourceIPAddress")))
    if record.get("errorCode"):
        return Change(**head, error_code=_text(record["errorCode"]))
    try:
        edits = _EDITS[head["event_name"]](_Record(record, head["region"]))
    except (ValueError, LookupError, TypeError, AttributeError, RecursionError) as exc:
        why = exc.args[0] if isinstance(exc, Unreadable) else f"{type(exc).__name__}: {exc}"
        return Change(**head, edits=(Edit(None, {}, whole=True),), unreadable=str(why)[:200])
    return Change(**head, edits=tuple(edits))


class _Record:
    """A record's request and response, read strictly: a missing field is ``Unreadable``."""

    def __init__(self, record: Mapping[str, Any], region: str) -> None:
        self.request = record.get("requestParameters") or {}
        self.response = record.get("responseElements") or {}
        if not isinstance(self.request, Mapping) or not isinstance(self.response, Mapping):
            raise Unreadable("requestParameters or responseElements is not an object")
        if not region:
            raise Unreadable("no awsRegion in the record")  # log groups, filters and alarms are per region
        self.region = region
        self.account = _text(record.get("recipientAccountId"))

    def need(self, name: str, source: Mapping[str, Any] | None = None) -> str:
        value = (self.request if source is None else source).get(name)
        if not isinstance(value, str) or not value:
            raise Unreadable(f"no {name} in the record")
        return value

    def names(self, name: str) -> list[str]:
        value = self.request.get(name)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise Unreadable(f"no {name} in the record")
        return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def event_time(value: Any) -> datetime | None:
    """CloudTrail's ``2026-08-10T10:00:00Z``, or any ISO 8601 time with its offset (Lake, Athena)."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None


def pascal(value: Any) -> Any:
    """CloudTrail's request shape (``alarmActions``, ``dimensions[].name``) → the Describe shape."""
    if isinstance(value, Mapping):
        return {("OKActions" if k.lower() == "okactions" else k[:1].upper() + k[1:]): pascal(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [pascal(v) for v in value]
    return value


# --- CloudTrail -----------------------------------------------------------------------------

_TRAIL = {"includeGlobalServiceEvents": "IncludeGlobalServiceEvents", "isMultiRegionTrail": "IsMultiRegionTrail",
          "isOrganizationTrail": "IsOrganizationTrail", "cloudWatchLogsLogGroupArn": "CloudWatchLogsLogGroupArn",
          "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn"}
_TRAIL_DEFAULTS = {"IncludeGlobalServiceEvents": True, "IsMultiRegionTrail": False, "IsOrganizationTrail": False}


def _trail_fields(source: Mapping[str, Any]) -> dict[str, Any]:
    return {_TRAIL[k]: (v if v != "" else None) for k, v in source.items() if k in _TRAIL}


def _trail_keys(name: str) -> list[Key]:
    return [(Kind.TRAIL, name), (Kind.TRAIL_STATUS, name), (Kind.TRAIL_SELECTORS, name)]


def _create_trail(r: _Record) -> list[Edit]:
    name = trail_name(r.need("name"))
    given = _trail_fields(r.response or r.request)
    config = {f: given.get(f, _TRAIL_DEFAULTS.get(f)) for f in FIELDS[Kind.TRAIL]}
    arn = r.response.get("trailARN") or f"arn:aws:cloudtrail:{r.region}:{r.account}:trail/{name}"
    absent = {EXISTS: False}
    return [Edit((Kind.TRAIL, name), {EXISTS: True, **config}, absent, whole=True,
                 defaults=frozenset(FIELDS[Kind.TRAIL]) - set(given),
                 extra={"Name": name, "TrailARN": arn, "HomeRegion": r.region,
                        "S3BucketName": (r.response or r.request).get("s3BucketName")}),
            Edit((Kind.TRAIL_STATUS, name), {EXISTS: True, "IsLogging": False}, absent, whole=True),
            Edit((Kind.TRAIL_SELECTORS, name), {EXISTS: True, "EventSelectors": DEFAULT_SELECTORS,
                                               "AdvancedEventSelectors": None}, absent, whole=True)]


def _update_trail(r: _Record) -> list[Edit]:
    name = trail_name(r.need("name"))
    asked = _trail_fields(r.request)
    if _trail_fields(r.response):  # the whole trail after the update: what it did not ask was so before too
        given = _trail_fields(r.response)
        config = {f: given.get(f) for f in FIELDS[Kind.TRAIL]}
        kept = {f: v for f, v in config.items() if f not in asked}
        return [Edit((Kind.TRAIL, name), {EXISTS: True, **config}, {EXISTS: True, **kept}, whole=True,
                     defaults=frozenset(FIELDS[Kind.TRAIL]) - set(given))]
    return [Edit((Kind.TRAIL, name), asked)]


def _delete_trail(r: _Record) -> list[Edit]:
    return [Edit(key, {EXISTS: False}, {EXISTS: True}, whole=True) for key in _trail_keys(trail_name(r.need("name")))]


def _logging(on: bool):
    def edits(r: _Record) -> list[Edit]:
        key = (Kind.TRAIL_STATUS, trail_name(r.need("name")))
        return [Edit(key, {"IsLogging": on}, {"IsLogging": not on}, inferred=True)]
    return edits


def _put_event_selectors(r: _Record) -> list[Edit]:
    name = trail_name(r.need("trailName"))
    source = r.response if ("eventSelectors" in r.response or "advancedEventSelectors" in r.response) else r.request
    basic, advanced = source.get("eventSelectors"), source.get("advancedEventSelectors")
    if not isinstance(basic, list) and not isinstance(advanced, list):
        raise Unreadable("no eventSelectors or advancedEventSelectors in the record")
    after = {"EventSelectors": pascal(basic) if isinstance(basic, list) and basic else None,
             "AdvancedEventSelectors": pascal(advanced) if isinstance(advanced, list) and advanced else None}
    return [Edit((Kind.TRAIL_SELECTORS, name), after)]


# --- CloudWatch Logs ------------------------------------------------------------------------

def _create_log_group(r: _Record) -> list[Edit]:
    name = r.need("logGroupName")
    return [Edit((Kind.LOG_GROUP, log_group_id(r.region, name)), {EXISTS: True, "rw:metricFiltersKnown": True},
                 {EXISTS: False}, whole=True, cascade=Kind.METRIC_FILTER,
                 extra={"logGroupName": name, "rw:region": r.region})]


def _delete_log_group(r: _Record) -> list[Edit]:
    # its metric filters go with it; which ones there were, no record says
    return [Edit((Kind.LOG_GROUP, log_group_id(r.region, r.need("logGroupName"))), {EXISTS: False}, {EXISTS: True},
                 whole=True, cascade=Kind.METRIC_FILTER)]


def _put_metric_filter(r: _Record) -> list[Edit]:
    group, name = r.need("logGroupName"), r.need("filterName")
    pattern, transformations = r.request.get("filterPattern"), r.request.get("metricTransformations")
    if not isinstance(pattern, str) or not isinstance(transformations, list):
        raise Unreadable("no filterPattern or metricTransformations in the record")
    return [Edit((Kind.METRIC_FILTER, filter_id(r.region, group, name)),
                 {EXISTS: True, "filterPattern": pattern, "metricTransformations": transformations}, whole=True,
                 extra={"filterName": name, "logGroupName": group, "rw:region": r.region})]


def _delete_metric_filter(r: _Record) -> list[Edit]:
    key = (Kind.METRIC_FILTER, filter_id(r.region, r.need("logGroupName"), r.need("filterName")))
    return [Edit(key, {EXISTS: False}, {EXISTS: True}, whole=True)]


# --- CloudWatch -----------------------------------------------------------------------------

_ALARM_DEFAULTS = {"ActionsEnabled": True, "AlarmActions": [], "OKActions": [], "InsufficientDataActions": [],
                   "Dimensions": []}


def _put_metric_alarm(r: _Record) -> list[Edit]:
    name = r.need("alarmName")
    given = pascal(dict(r.request))
    if "ComparisonOperator" not in given or "EvaluationPeriods" not in given:
        raise Unreadable("no comparisonOperator or evaluationPeriods in the record")
    # PutMetricAlarm replaces the whole configuration: a field not given is absent (or its default)
    config = {f: given.get(f, _ALARM_DEFAULTS.get(f)) for f in FIELDS[Kind.ALARM]}
    return [Edit((Kind.ALARM, alarm_id(r.region, name)), {EXISTS: True, **config}, whole=True,
                 defaults=frozenset(FIELDS[Kind.ALARM]) - set(given),
                 extra={"AlarmName": name, "AlarmArn": f"arn:aws:cloudwatch:{r.region}:{r.account}:alarm:{name}",
                        "rw:region": r.region})]


def _delete_alarms(r: _Record) -> list[Edit]:
    return [Edit((Kind.ALARM, alarm_id(r.region, n)), {EXISTS: False}, {EXISTS: True}, whole=True)
            for n in r.names("alarmNames")]


def _alarm_actions(on: bool):
    def edits(r: _Record) -> list[Edit]:
        return [Edit((Kind.ALARM, alarm_id(r.region, n)), {"ActionsEnabled": on}, {"ActionsEnabled": not on},
                     inferred=True) for n in r.names("alarmNames")]
    return edits


# --- SNS ------------------------------------------------------------------------------------

def _create_topic(r: _Record) -> list[Edit]:
    arn = r.response.get("topicArn") or f"arn:aws:sns:{r.region}:{r.account}:{r.need('name')}"
    # CreateTopic on an existing name returns it unchanged: that it did not exist is inferred
    return [Edit((Kind.TOPIC, arn), {EXISTS: True, "rw:subscriptionsKnown": True}, {EXISTS: False}, whole=True,
                 inferred=True, extra={"TopicArn": arn})]


def _delete_topic(r: _Record) -> list[Edit]:
    return [Edit((Kind.TOPIC, r.need("topicArn")), {EXISTS: False}, {EXISTS: True}, whole=True,
                 cascade=Kind.SUBSCRIPTION)]


def _subscribe(r: _Record) -> list[Edit]:
    topic, protocol, endpoint = r.need("topicArn"), r.need("protocol"), r.need("endpoint")
    arn = r.response.get("subscriptionArn")
    confirmed = isinstance(arn, str) and arn.startswith("arn:")
    # Subscribe on an endpoint already subscribed returns the existing subscription: inferred absent
    return [Edit((Kind.SUBSCRIPTION, subscription_id(topic, protocol, endpoint)),
                 {EXISTS: True, "SubscriptionArn": arn if confirmed else PENDING}, {EXISTS: False}, whole=True,
                 inferred=True, extra={"TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint,
                                       "Owner": r.account})]


def _confirm_subscription(r: _Record) -> list[Edit]:
    arn = r.need("subscriptionArn", r.response)
    # which endpoint it confirms is not in the record: the replay finds it by ARN or on the topic
    return [Edit((Kind.SUBSCRIPTION, "arn:" + arn), {EXISTS: True, "SubscriptionArn": arn},
                 {EXISTS: True, "SubscriptionArn": PENDING}, extra={"TopicArn": r.need("topicArn")})]


def _unsubscribe(r: _Record) -> list[Edit]:
    arn = r.need("subscriptionArn")
    return [Edit((Kind.SUBSCRIPTION, "arn:" + arn), {EXISTS: False}, {EXISTS: True, "SubscriptionArn": arn},
                 whole=True, extra={"TopicArn": arn.rsplit(":", 1)[0]})]


_EDITS = {
    "CreateTrail": _create_trail, "UpdateTrail": _update_trail, "DeleteTrail": _delete_trail,
    "StartLogging": _logging(True), "StopLogging": _logging(False), "PutEventSelectors": _put_event_selectors,
    "CreateLogGroup": _create_log_group, "DeleteLogGroup": _delete_log_group, "PutMetricFilter": _put_metric_filter,
    "DeleteMetricFilter": _delete_metric_filter, "PutMetricAlarm": _put_metric_alarm, "DeleteAlarms": _delete_alarms,
    "EnableAlarmActions": _alarm_actions(True), "DisableAlarmActions": _alarm_actions(False),
    "CreateTopic": _create_topic, "DeleteTopic": _delete_topic, "Subscribe": _subscribe,
    "ConfirmSubscription": _confirm_subscription, "Unsubscribe": _unsubscribe,
}
