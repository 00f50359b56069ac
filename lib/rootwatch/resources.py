"""Typed views over the raw AWS responses the evidence keeps (Prowler's service models): a trail, its
event selectors, a metric filter, an alarm, an SNS topic and a subscription. The evidence holds each
response as AWS returned it, with ``rw:`` keys added by the collector; consumers (collector, judge,
frames, remediation planner) read its facts here, by name, and never spell raw keys or ARN prefixes.

ARNs are read for every partition (``aws``, ``aws-us-gov``, ``aws-cn`` ...): an alarm in GovCloud
notifies ``arn:aws-us-gov:sns:...`` topics, which a test for ``arn:aws:sns:`` would not see.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: Any) -> Arn | None:
        """``text`` as ``arn:<partition>:<service>:<region>:<account>:<resource>``; None when it is not one
        (a subscription's ``PendingConfirmation``, an alarm action that is no ARN)."""
        parts = text.split(":", 5) if isinstance(text, str) else []
        if len(parts) != 6 or parts[0] != "arn" or not parts[1].startswith("aws") or not parts[2]:
            return None
        return cls(*parts[1:])

    def __str__(self) -> str:
        return ":".join(("arn", self.partition, self.service, self.region, self.account, self.resource))


def partition_of(arn: str | None, default: str = "aws") -> str:
    """The partition an ARN lives in (the audited identity's, for the ARNs a plan writes)."""
    parsed = Arn.parse(arn)
    return parsed.partition if parsed else default


@dataclass(frozen=True)
class Topic:
    """An SNS topic, known by its ARN."""

    arn: str
    region: str
    account: str
    name: str

    @classmethod
    def parse(cls, text: Any) -> Topic | None:
        """The SNS topic ``text`` names; None for anything else (a Lambda or Auto Scaling action)."""
        arn = Arn.parse(text)
        if arn is None or arn.service != "sns" or not arn.resource or ":" in arn.resource:
            return None
        return cls(text, arn.region, arn.account, arn.resource)

    @staticmethod
    def arn_of(partition: str, region: str, account: str, name: str) -> str:
        return str(Arn(partition, "sns", region, account, name))


@dataclass(frozen=True)
class LogGroupRef:
    account_id: str
    region: str
    name: str

    @classmethod
    def from_arn(cls, text: str) -> LogGroupRef:
        """The log group a trail names: ``arn:<partition>:logs:<region>:<account>:log-group:<name>:*``."""
        arn = Arn.parse(text)
        if arn is None or not arn.resource.startswith("log-group:"):
            raise ValueError(f"not a log group ARN: {text!r}")
        return cls(arn.account, arn.region, arn.resource.split(":")[1])

    def arn(self, partition: str) -> str:
        """The ARN a trail names its log group by (``:*``: every stream in it)."""
        return str(Arn(partition, "logs", self.region, self.account_id, f"log-group:{self.name}:*"))


# a root call each commonly excluded management-event source would take out of the log
DROPPED = {"kms.amazonaws.com": "ScheduleKeyDeletion on a KMS key",
           "rdsdata.amazonaws.com": "ExecuteStatement through the RDS Data API"}


def basic_captures_all(selector: dict) -> bool:
    """A basic event selector that logs every management event: included, read and write, and no
    event source excluded (``ExcludeManagementEventSources`` drops KMS or RDS Data API events, and
    with them what CIS 4.7 watches)."""
    return (selector.get("IncludeManagementEvents", True) and selector.get("ReadWriteType", "All") == "All"
            and not selector.get("ExcludeManagementEventSources"))


def advanced_captures_all(selector: dict) -> bool:
    """An advanced event selector that logs every management event: ``eventCategory`` equals
    ``Management`` and nothing else narrows it (a ``readOnly`` or ``eventSource`` condition drops
    reads, writes or whole services)."""
    fields = selector.get("FieldSelectors", [])
    return [f.get("Field") for f in fields] == ["eventCategory"] and "Management" in fields[0].get("Equals", [])


@dataclass(frozen=True)
class Selectors:
    """A trail's event selectors (GetEventSelectors): basic or advanced, a trail uses one kind."""

    raw: dict

    @property
    def basic(self) -> list[dict]:
        return self.raw.get("EventSelectors") or []

    @property
    def advanced(self) -> list[dict]:
        return self.raw.get("AdvancedEventSelectors") or []

    def basic_capturing_all(self) -> dict | None:
        """The first basic selector that logs every management event, if any."""
        return next((s for s in self.basic if basic_captures_all(s)), None)

    def advanced_capturing_all(self) -> dict | None:
        """The first advanced selector that logs every management event, if any."""
        return next((s for s in self.advanced if advanced_captures_all(s)), None)

    def narrowing(self) -> list[str]:
        """What keeps the management selectors from logging every management event, in words, each with
        a root event the trail would then drop (for the finding's reason)."""
        said = []
        for sel in self.basic:
            if not sel.get("IncludeManagementEvents", True):
                continue
            for source in sel.get("ExcludeManagementEventSources") or []:
                said.append(f"a basic selector excludes the management events of {source} (root's "
                            f"{DROPPED.get(source, 'calls to it')} would not be logged)")
            if sel.get("ReadWriteType", "All") != "All":
                said.append(f"a basic selector logs only {sel['ReadWriteType']} management events")
        for sel in self.advanced:
            fields = {f.get("Field"): f for f in sel.get("FieldSelectors", [])}
            if "Management" not in fields.get("eventCategory", {}).get("Equals", []):
                continue
            name = sel.get("Name") or "unnamed"
            for field, condition in fields.items():
                if field == "eventCategory":
                    continue
                terms = ", ".join(f"{op} {values}" for op, values in condition.items() if op != "Field")
                example = next((f" (root's {DROPPED[v]} would not be logged)" for op, values in condition.items()
                                if op in ("NotEquals", "NotStartsWith", "NotEndsWith") for v in values
                                if v in DROPPED), "")
                said.append(f"advanced selector {name!r} narrows management events by {field} ({terms}){example}")
        return said


@dataclass(frozen=True)
class Trail:
    """A trail as DescribeTrails lists it, with its status (``rw:status``) and selectors
    (``rw:selectors``), None where they could not be read."""

    raw: dict

    @property
    def arn(self) -> str:
        return self.raw["TrailARN"]

    @property
    def name(self) -> str:
        return self.raw.get("Name") or self.arn

    @property
    def home_region(self) -> str | None:
        return self.raw.get("HomeRegion")

    @property
    def owner(self) -> str:
        """The account owning the trail (another one for an organization trail)."""
        arn = Arn.parse(self.arn)
        return arn.account if arn else ""

    @property
    def multi_region(self) -> bool:
        return bool(self.raw.get("IsMultiRegionTrail"))

    @property
    def log_group_arn(self) -> str | None:
        return self.raw.get("CloudWatchLogsLogGroupArn") or None

    @property
    def log_group(self) -> LogGroupRef | None:
        return LogGroupRef.from_arn(self.log_group_arn) if self.log_group_arn else None

    @property
    def bucket(self) -> str | None:
        return self.raw.get("S3BucketName")

    @property
    def prefix(self) -> str | None:
        return self.raw.get("S3KeyPrefix")

    @property
    def status(self) -> dict | None:
        """GetTrailStatus's answer; None when it could not be read."""
        return self.raw.get("rw:status")

    @property
    def logging(self) -> bool | None:
        """IsLogging; None when the status could not be read."""
        return None if self.status is None else bool(self.status.get("IsLogging"))

    @property
    def delivery_error(self) -> str | None:
        status = self.status or {}
        return status.get("LatestDeliveryError") or status.get("LatestCloudWatchLogsDeliveryError")

    @property
    def selectors(self) -> Selectors | None:
        found = self.raw.get("rw:selectors")
        return None if found is None else Selectors(found)


@dataclass(frozen=True)
class MetricFilter:
    """A metric filter as DescribeMetricFilters lists it, with the region (``rw:region``) and account
    (``rw:accountId``) of its log group."""

    raw: dict

    @property
    def name(self) -> str:
        return self.raw.get("filterName", "")

    @property
    def log_group(self) -> str | None:
        return self.raw.get("logGroupName")

    @property
    def region(self) -> str:
        return self.raw["rw:region"]

    @property
    def pattern(self) -> str:
        return self.raw.get("filterPattern", "")

    def on(self, group: LogGroupRef) -> bool:
        return self.log_group == group.name and self.region == group.region

    @property
    def aws_test(self) -> dict | None:
        """AWS's own word on the pattern (``rw:awsTest``, added when the run asked TestMetricFilter):
        the events sent and the indexes of those it matched (``matched`` None when the call failed)."""
        return self.raw.get("rw:awsTest")

    @property
    def metrics(self) -> list[tuple[str, str]]:
        """The (namespace, name) of each metric it publishes; one empty pair when it names none, so the
        chain still reaches the alarm link and says there is none."""
        return [(t.get("metricNamespace", ""), t.get("metricName", ""))
                for t in self.raw.get("metricTransformations") or [{}]]


@dataclass(frozen=True)
class Alarm:
    """A metric alarm as DescribeAlarmsForMetric lists it, with its region (``rw:region``)."""

    raw: dict

    @property
    def name(self) -> str:
        return self.raw["AlarmName"]

    @property
    def region(self) -> str:
        return self.raw["rw:region"]

    @property
    def metric(self) -> tuple[str | None, str | None]:
        return self.raw.get("Namespace"), self.raw.get("MetricName")

    @property
    def actions_enabled(self) -> bool:
        return bool(self.raw.get("ActionsEnabled"))

    @property
    def topics(self) -> tuple[str, ...]:
        """The SNS topics it notifies when it goes to ALARM, in any partition."""
        return tuple(a for a in self.raw.get("AlarmActions", []) if Topic.parse(a))

    def notifies(self, topic_arn: str) -> bool:
        return topic_arn in self.topics


@dataclass(frozen=True)
class Subscription:
    """A subscription as ListSubscriptionsByTopic lists it, with the topic read (``rw:topicArn``)."""

    raw: dict

    @property
    def topic_arn(self) -> str:
        return self.raw["rw:topicArn"]

    @property
    def region(self) -> str | None:
        """The topic's region (where it was read)."""
        arn = Arn.parse(self.topic_arn)
        return arn.region if arn else None

    @property
    def arn(self) -> str:
        return self.raw.get("SubscriptionArn", "")

    @property
    def confirmed(self) -> bool:
        """Live: its ARN is a real ARN, not ``PendingConfirmation`` or ``Deleted``."""
        return Arn.parse(self.arn) is not None

    @property
    def protocol(self) -> str | None:
        return self.raw.get("Protocol")

    @property
    def endpoint(self) -> str | None:
        return self.raw.get("Endpoint")


DRILL_MARK = "rootwatchDrill"  # the additionalEventData key holding a drill record's id (drill/record.py)
DRILL_SOURCE = "rootwatch-drill.local"  # a drill record's eventSource: no AWS service has it


def drill_id(record: Any) -> str | None:
    """The id of a record ``rootwatch drill`` wrote into a log group, None for any other record: a
    drill's root-shaped record tests the alarm and is never root activity, so every later audit sets it
    apart (by both marks, so a real record cannot be set apart by one field an attacker controls)."""
    if not isinstance(record, dict) or record.get("eventSource") != DRILL_SOURCE:
        return None
    extra = record.get("additionalEventData")
    mark = extra.get(DRILL_MARK) if isinstance(extra, dict) else None
    return mark if isinstance(mark, str) and mark == record.get("eventID") else None


def json_object(text: Any) -> dict:
    """A JSON object AWS returns as text (an alarm history item's ``HistoryData``, an SNS message), or
    {} when the text is none: what a reader of such a field can rely on whatever the account holds."""
    try:
        value = json.loads(text) if isinstance(text, str) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

