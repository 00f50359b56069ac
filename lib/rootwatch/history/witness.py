"""AWS Config's configuration history as a second witness of the chain's past (issue 19).

The reconstruction reads CloudTrail's change events; AWS Config, where it records, keeps its own
configuration items of some of the chain's resources. Each item is set beside the reconstructed
configuration of its moment: a resource one says existed and the other not, or a recorded field
the two read differently, is a disagreement, shown with both words. Config knows trails, alarms
and topics; log groups, metric filters and SNS subscriptions are no Config resource type (nor
is a trail's logging status or its event selectors a field of its item), so only CloudTrail's
events tell their history. A witness that could not be read is named, never silently absent, and
never makes the verdict a PASS: agreement only leaves CloudTrail's verdict as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rootwatch.history.changes import event_time, pascal
from rootwatch.history.replay import Interval
from rootwatch.history.state import FIELDS, Key, Kind, alarm_id

# the chain's resource types among AWS Config's (its API's ResourceType): no log group, metric filter or
# SNS subscription type exists there
CONFIG_TYPES = {"AWS::CloudTrail::Trail": Kind.TRAIL, "AWS::CloudWatch::Alarm": Kind.ALARM,
                "AWS::SNS::Topic": Kind.TOPIC}
TYPE_OF = {kind: name for name, kind in CONFIG_TYPES.items()}
NOT_CONFIG = ("log groups, metric filters and SNS subscriptions are no AWS Config resource type, nor are a trail's "
              "logging status and event selectors fields of its configuration item: only CloudTrail's events tell their "
              "history")
EXISTS_STATUS = {"OK": True, "ResourceDiscovered": True, "ResourceDeleted": False, "ResourceDeletedNotRecorded": False}
# Config records a change minutes after it is made: an item agrees when the reconstruction said the same
# at any moment of this span before it was captured
LAG = timedelta(minutes=15)


@dataclass(frozen=True)
class ConfigItem:
    """One configuration item read as the reconstruction's terms: whether the resource existed and
    the chain fields Config recorded (a field it did not record is not compared)."""

    key: Key
    time: datetime
    exists: bool
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Disagreement:
    key: Key
    time: datetime  # the item's capture time, or the window's start for the item in effect when it began
    field: str  # "exists" or the chain field
    config: Any  # what AWS Config recorded
    events: Any  # what CloudTrail's events give at that moment

    def __str__(self) -> str:
        return (f"{self.time:%Y-%m-%d %H:%M:%S} UTC {self.key[0].value} {self.key[1]}: AWS Config recorded "
                f"{self.field} = {self.config!r}, CloudTrail's events give {self.events!r}")


@dataclass(frozen=True)
class Witness:
    """What AWS Config's history says of the reconstruction: ``compared`` items, the disagreements
    among them, and why part of it could not be read (``unread``: the witness is a GAP there)."""

    compared: int
    disagreements: tuple[Disagreement, ...]
    unread: tuple[str, ...]

    @property
    def agrees(self) -> bool:
        """Read whole and never contradicting: only then is the second witness an agreement."""
        return not self.unread and not self.disagreements

    def summary(self) -> str:
        words = [f"AWS Config: {self.compared} configuration item(s) compared with CloudTrail's events, "
                 f"{len(self.disagreements)} disagreement(s)"]
        words += [f"not read: {why}" for why in self.unread]
        return "; ".join(words) + f" ({NOT_CONFIG})"


def config_items(items: Iterable[Mapping[str, Any]]) -> list[ConfigItem]:
    """Config's items (``GetResourceConfigHistory``'s, each with ``rw:region``) of the chain's types;
    an item that does not say whether the resource existed (``ResourceNotRecorded``) says nothing."""
    out = []
    for item in items:
        kind = CONFIG_TYPES.get(item.get("resourceType", ""))
        exists = EXISTS_STATUS.get(item.get("configurationItemStatus", ""))
        when = item.get("configurationItemCaptureTime")
        when = when if isinstance(when, datetime) else event_time(when)
        key = _key(kind, item) if kind else None
        if key is None or exists is None or when is None:
            continue
        out.append(ConfigItem(key, when, exists, _fields(kind, item.get("configuration")) if exists else {}))
    return out


def _key(kind: Kind, item: Mapping[str, Any]) -> Key | None:
    name = item.get("resourceName") or item.get("resourceId") or ""
    region = item.get("awsRegion") or item.get("rw:region") or ""
    if kind is Kind.TOPIC:
        arn = item.get("arn") or item.get("resourceId") or ""
        return (kind, arn) if arn.startswith("arn:") else None
    if not name:
        return None
    if kind is Kind.TRAIL:
        return kind, name.rsplit(":trail/", 1)[-1]
    return (kind, alarm_id(region, name)) if region else None


def _fields(kind: Kind, configuration: Any) -> dict[str, Any]:
    """The chain fields Config's item records, in the Describe shape the reconstruction keeps
    (Config writes ``alarmActions``, ``dimensions[].name``; its item may be a JSON string)."""
    if isinstance(configuration, str):
        try:
            configuration = json.loads(configuration)
        except ValueError:
            return {}
    if not isinstance(configuration, Mapping):
        return {}
    given = {k.lower(): v for k, v in pascal(dict(configuration)).items()}
    return {f: given[f.lower()] for f in FIELDS[kind] if not f.startswith("rw:") and f.lower() in given}


def witness(intervals: list[Interval], items: Iterable[ConfigItem], unread: Iterable[str] = ()) -> Witness:
    """Each item beside the reconstruction at its moment (or within ``LAG`` before it): the newest
    item before the window tells the configuration the window began with, and is set beside its
    first interval. Items where the reconstruction could not be read, or does not know the
    resource, are not compared (that part is the reconstruction's own GAP)."""
    if not intervals:
        return Witness(0, (), tuple(dict.fromkeys(unread)))
    start, end = intervals[0].start, intervals[-1].end
    compared, found = 0, []
    for item in _in_window(items, start, end):
        at = max(item.time, start)
        views = [_view(iv, item.key) for iv in intervals if iv.start <= at and iv.end > at - (LAG if item.time >= start
                                                                                              else timedelta(0))]
        views = [v for v in views if v is not None]
        if not views:
            continue
        compared += 1
        differences = [_differs(item, v, at) for v in views]
        if all(differences):
            found.append(differences[-1])  # the reading at the item's own moment
    return Witness(compared, tuple(found), tuple(dict.fromkeys(unread)))


def _in_window(items: Iterable[ConfigItem], start: datetime, end: datetime) -> list[ConfigItem]:
    """The items captured within the window, and per resource the newest one before it."""
    ordered = sorted(items, key=lambda i: (i.time, i.key))
    before = {i.key: i for i in ordered if i.time < start}
    return sorted([*before.values(), *(i for i in ordered if start <= i.time < end)],
                  key=lambda i: (max(i.time, start), i.key))


_ABSENT = object()


def _view(interval: Interval, key: Key) -> Mapping[str, Any] | object | None:
    """The reconstruction's record of ``key`` over the interval, ``_ABSENT`` when it did not exist,
    None when not known."""
    snapshot = interval.snapshot
    if snapshot is None or key in snapshot.unknown:
        return None
    return snapshot.resources.get(key, _ABSENT)


def _differs(item: ConfigItem, view: Mapping[str, Any] | object, at: datetime) -> Disagreement | None:
    if (view is not _ABSENT) != item.exists:
        return Disagreement(item.key, at, "exists", item.exists, view is not _ABSENT)
    if view is _ABSENT:
        return None
    record: Mapping[str, Any] = view  # type: ignore[assignment]
    for name, value in item.fields.items():
        theirs = record.get(name)
        if not _same(value, theirs):
            return Disagreement(item.key, at, name, value, theirs)
    return None


def _same(config: Any, events: Any) -> bool:
    """Equal as the chain reads them: an empty list, an absent field and null say the same."""
    empty = (None, [], {}, "")
    if config in empty and events in empty:
        return True
    if isinstance(config, list) and isinstance(events, list):
        return sorted(map(repr, config)) == sorted(map(repr, events))
    return bool(config == events)
