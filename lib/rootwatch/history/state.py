"""The chain's configuration at one moment, as resources keyed by kind and id, each field known or not.

A resource's state is a map of field → value; a field missing from the map is *unknown*. ``EXISTS``
is a field like the others, so "we do not know whether it existed" and "it existed, but we do not
know its pattern" are both said the same way. Only the fields the chain's verdict can depend on
(``FIELDS``) are tracked through history; the rest of a resource's record is carried from the
newest record known (today's, or the event that created it), so they are not history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

EXISTS = "@exists"
PENDING = "PendingConfirmation"

# the links of the CIS chain, by the values of ``models.Link`` (main's chain-link vocabulary)
LINKS = ("trail", "logging", "management-events", "log-group", "metric-filter", "alarm", "subscriber")


class Kind(str, Enum):
    TRAIL = "trail"  # DescribeTrails record
    TRAIL_STATUS = "trail-status"  # GetTrailStatus (IsLogging)
    TRAIL_SELECTORS = "trail-selectors"  # GetEventSelectors
    LOG_GROUP = "log-group"
    METRIC_FILTER = "metric-filter"
    ALARM = "alarm"
    TOPIC = "topic"
    SUBSCRIPTION = "subscription"


Key = tuple[Kind, str]

# ids: trail name; "region:logGroupName"; "region:logGroupName:filterName"; "region:alarmName";
# topic ARN; "topicArn|protocol|endpoint" (a subscription is the same subscriber before and after
# it is confirmed, when its ARN appears)
FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.TRAIL: ("IncludeGlobalServiceEvents", "IsMultiRegionTrail", "IsOrganizationTrail",
                 "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"),
    Kind.TRAIL_STATUS: ("IsLogging",),
    Kind.TRAIL_SELECTORS: ("EventSelectors", "AdvancedEventSelectors"),
    Kind.LOG_GROUP: ("rw:metricFiltersKnown",),  # False/unknown: filters may have existed that no record names
    Kind.METRIC_FILTER: ("filterPattern", "metricTransformations"),
    Kind.ALARM: ("ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions", "MetricName", "Namespace",
                 "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit", "EvaluationPeriods",
                 "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
                 "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId"),
    Kind.TOPIC: ("rw:subscriptionsKnown",),
    Kind.SUBSCRIPTION: ("SubscriptionArn",),
}

Fields = Mapping[str, Any]
_WORDS = {"rw:metricFiltersKnown": "which metric filters it held", "rw:subscriptionsKnown": "which subscribers it had"}


def log_group_id(region: str, name: str) -> str:
    return f"{region}:{name}"


def filter_id(region: str, group: str, name: str) -> str:
    return f"{region}:{group}:{name}"


def alarm_id(region: str, name: str) -> str:
    return f"{region}:{name}"


def subscription_id(topic_arn: str, protocol: str, endpoint: str) -> str:
    return f"{topic_arn}|{protocol}|{endpoint}"


def trail_name(name_or_arn: str) -> str:
    """CloudTrail accepts a trail's name or ARN wherever it asks for ``Name``."""
    return name_or_arn.rsplit(":trail/", 1)[-1]


@dataclass(frozen=True)
class Snapshot:
    """The configuration over one interval: every resource known to exist, with its record in the
    shape collection gives it, and every resource whose existence or chain fields are unknown,
    with why. A judge must treat an unknown resource as a GAP, never as healthy."""

    resources: Mapping[Key, dict]
    unknown: Mapping[Key, str] = field(default_factory=dict)

    def of(self, kind: Kind) -> list[dict]:
        return [r for (k, _), r in sorted(self.resources.items()) if k is kind]

    def unknown_of(self, kind: Kind) -> dict[str, str]:
        return {i: why for (k, i), why in sorted(self.unknown.items()) if k is kind}

    def as_collected(self) -> dict[str, list[dict]]:
        """Trails, metric filters, alarms and subscriptions as ``AccountEvidence`` holds them, so the
        judge of today can judge any interval: a trail's unknown status or selectors are ``None``
        (as a failed read is), an unknown trail, filter, alarm or subscription is left out and
        named in ``unknown`` (which the caller must turn into a GAP)."""
        trails = []
        for key, trail in sorted(self.resources.items()):
            if key[0] is not Kind.TRAIL:
                continue
            status = self.resources.get((Kind.TRAIL_STATUS, key[1]))
            selectors = self.resources.get((Kind.TRAIL_SELECTORS, key[1]))
            trails.append({**trail, "rw:status": status, "rw:selectors": selectors})
        return {"trails": trails, "metric_filters": self.of(Kind.METRIC_FILTER), "alarms": self.of(Kind.ALARM),
                "subscriptions": self.of(Kind.SUBSCRIPTION),
                "unknown": [{"kind": k.value, "id": i, "reason": why} for (k, i), why in sorted(self.unknown.items())]}


@dataclass(frozen=True)
class Resource:
    """One resource as known at one moment: ``fields`` (missing = unknown, ``EXISTS`` included) and
    the rest of its record (``extra``), carried and not judged by history."""

    fields: Fields
    extra: Fields = field(default_factory=dict)
    inferred: frozenset[str] = frozenset()  # fields that are a likely reading: a known change outranks them


def known(kind: Kind, record: Fields, extra_keys_out: Iterable[str] = ()) -> Resource:
    """A record as AWS answers it today: every chain field is known, a field AWS left out is ``None``."""
    fields = {EXISTS: True, **{f: record.get(f) for f in FIELDS[kind]}}
    skip = set(FIELDS[kind]) | set(extra_keys_out)
    return Resource(fields, {k: v for k, v in record.items() if k not in skip})


def today(trails: Iterable[dict] = (), metric_filters: Iterable[dict] = (), alarms: Iterable[dict] = (),
          subscriptions: Iterable[dict] = (), log_groups: Iterable[tuple[str, str]] | None = None,
          topics: Iterable[str] | None = None) -> dict[Key, Resource]:
    """Today's collected state (``AccountEvidence``'s lists) as resources. Log groups and topics are
    not collected as such: unless named, a log group is known to exist when a filter is read from it
    and a topic when a subscriber is listed; one a trail delivers to or an alarm notifies is thought
    to exist (a change that says otherwise wins)."""
    state: dict[Key, Resource] = {}
    groups = dict.fromkeys(log_groups or (), False)  # → proven: a filter was read from it, or it was named
    names = dict.fromkeys(topics or (), False)
    for trail in trails:
        name = trail.get("Name") or trail_name(trail["TrailARN"])
        state[(Kind.TRAIL, name)] = known(Kind.TRAIL, trail, ("rw:status", "rw:selectors"))
        if trail.get("rw:status") is not None:
            state[(Kind.TRAIL_STATUS, name)] = known(Kind.TRAIL_STATUS, trail["rw:status"])
        if trail.get("rw:selectors") is not None:
            state[(Kind.TRAIL_SELECTORS, name)] = known(Kind.TRAIL_SELECTORS, trail["rw:selectors"])
        arn = (trail.get("CloudWatchLogsLogGroupArn") or "").split(":")
        if log_groups is None and len(arn) > 6:
            groups.setdefault((arn[3], arn[6]), True)
    for f in metric_filters:
        region = f["rw:region"]
        state[(Kind.METRIC_FILTER, filter_id(region, f["logGroupName"], f["filterName"]))] = known(
            Kind.METRIC_FILTER, f)
        if log_groups is None:
            groups[(region, f["logGroupName"])] = False
    for alarm in alarms:
        state[(Kind.ALARM, alarm_id(alarm["rw:region"], alarm["AlarmName"]))] = known(Kind.ALARM, alarm)
        if topics is None:
            for action in alarm.get("AlarmActions", []):
                if action.startswith("arn:aws:sns:"):
                    names.setdefault(action, True)
    for sub in subscriptions:
        topic = sub.get("TopicArn") or sub["rw:topicArn"]
        state[(Kind.SUBSCRIPTION, subscription_id(topic, sub.get("Protocol", ""), sub.get("Endpoint", "")))] = known(
            Kind.SUBSCRIPTION, sub)
        if topics is None:
            names[topic] = False
    # a trail delivering to a log group, or an alarm notifying a topic, does not prove it exists
    for (region, name), guessed in groups.items():
        state[(Kind.LOG_GROUP, log_group_id(region, name))] = Resource(
            {EXISTS: True, "rw:metricFiltersKnown": True}, {"logGroupName": name, "rw:region": region},
            frozenset({EXISTS} if guessed else ()))
    for arn, guessed in names.items():
        state[(Kind.TOPIC, arn)] = Resource({EXISTS: True, "rw:subscriptionsKnown": True}, {"TopicArn": arn},
                                            frozenset({EXISTS} if guessed else ()))
    return state


def render(state: Mapping[Key, Resource]) -> Snapshot:
    """Resources whose every chain field is known become records; the others are named unknown."""
    resources: dict[Key, dict] = {}
    unknown: dict[Key, str] = {}
    for key, res in state.items():
        exists = res.fields.get(EXISTS, None)
        if exists is False:
            continue
        missing = [_WORDS.get(f, f) for f in FIELDS[key[0]] if f not in res.fields]
        if exists is None:
            unknown[key] = "whether it existed is unknown"
        elif missing:
            unknown[key] = "unknown here: " + ", ".join(missing)
        else:
            record = {**res.extra, **{f: v for f, v in res.fields.items() if f != EXISTS and v is not None
                                      and not f.startswith("rw:")}}
            resources[key] = record
    return Snapshot(resources, unknown)

