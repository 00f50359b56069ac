"""What an account already holds under the names a plan would use, read just before planning.

PutMetricAlarm replaces any alarm of the name it is given, PutMetricFilter any filter of its name
on the log group, CreateTopic hands back an existing topic of its name, CreateLogGroup fails on an
existing group. The audit's evidence knows only the chain it followed (the alarms on the filters'
metrics, the topics those alarms notify), so a billing alarm that happens to carry the catalog's
alarm name is invisible to it. These reads cover the rest, in the regions the plan would write to:
every alarm whose name starts as the catalog's names do, the region's topics (and the tags of those
rootwatch might reuse, with their subscriptions), the log groups named like the one it would
create, and the delivery role the parameters name. Each read is kept as evidence; one that fails
leaves its names unknown, and the plan refuses what depends on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import chain, count

from rootwatch.collect.evidence import Gap, Recorder
from rootwatch.models import Link
from rootwatch.remediate.actions import ALARM, CREATED_BY, LOG_GROUP, TOPIC
from rootwatch.resources import Topic

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@dataclass(frozen=True)
class Wanted:
    """Where a plan would write: computed from the failing findings (``plan.wanted``)."""

    regions: frozenset[str] = frozenset()           # alarms and topics (and log groups: delivery_regions)
    alarm_prefix: str = ""                          # what every alarm name the plan could use starts with
    topic_prefix: str = ""
    group_prefix: str | None = None                 # a log group to create (None: none needed)
    delivery_regions: frozenset[str] = frozenset()  # where such a log group would be

    @property
    def empty(self) -> bool:
        return not self.regions


@dataclass(frozen=True)
class DeliveryRole:
    """The role the parameters name for CloudTrail's CloudWatch Logs delivery, as IAM describes it."""

    name: str
    arn: str = ""
    problem: str = ""  # why CloudTrail could not use it ("" when it can)


@dataclass
class Existing:
    """Names in use, per resource kind and region. A kind and region absent from ``names`` holds
    nothing (``Existing()`` is an account with nothing beyond the audit's evidence); one in
    ``unread`` could not be read, and nothing is planned under its names."""

    names: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    ours: frozenset[str] = frozenset()  # ARNs of topics carrying rootwatch's CREATED_BY tag
    subscriptions: list[dict] = field(default_factory=list)  # of those topics, as the collector keeps them
    role: DeliveryRole | None = None  # None: the parameters name no delivery role
    unread: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, region) -> why

    def taken(self, kind: str, region: str) -> frozenset[str]:
        return self.names.get((kind, region), frozenset())


def free_name(name: str, taken: set[str] | frozenset[str]) -> str:
    """``name``, or the first of ``<name>-rootwatch``, ``<name>-rootwatch-2``, ... that nothing has:
    a plan never writes under a name in use."""
    candidates = chain([name, f"{name}-rootwatch"], (f"{name}-rootwatch-{n}" for n in count(2)))
    return next(c for c in candidates if c not in taken)


def read(rec: Recorder, wanted: Wanted, delivery_role: str | None, home: str) -> Existing:
    """The names ``wanted`` asks about, read with the account's recorder (``home``: where IAM, a
    global service, is called)."""
    found = Existing()
    for region in sorted(wanted.regions):
        _alarms(rec, region, wanted.alarm_prefix, found)
        _topics(rec, region, wanted.topic_prefix, found)
    if wanted.group_prefix is not None and delivery_role:  # without a role no log group is planned
        for region in sorted(wanted.delivery_regions):
            _log_groups(rec, region, wanted.group_prefix, found)
        found.role = delivery(rec, home, delivery_role)
    return found


def unreadable(wanted: Wanted, delivery_role: str | None, gap: Gap) -> Existing:
    """Nothing known where the plan would write (the account's role could not be assumed again)."""
    why = gap.text
    unread = {(kind, region): why for region in wanted.regions for kind in (ALARM, TOPIC)}
    unread |= {(LOG_GROUP, region): why for region in wanted.delivery_regions}
    role = DeliveryRole(delivery_role, problem=f"could not be read ({why})") if delivery_role else None
    return Existing(unread=unread, role=role)


def _alarms(rec: Recorder, region: str, prefix: str, found: Existing) -> None:
    """Metric and composite alarms share one namespace of names: both are read."""
    params = {"AlarmTypes": ["MetricAlarm", "CompositeAlarm"], **({"AlarmNamePrefix": prefix} if prefix else {})}
    pages = rec.pages(region, "cloudwatch", "DescribeAlarms", Link.NAMES_IN_USE, **params)
    if pages is None:
        found.unread[ALARM, region] = _why(rec)
        return
    found.names[ALARM, region] = frozenset(a["AlarmName"] for p in pages
                                           for a in p.get("MetricAlarms", []) + p.get("CompositeAlarms", []))


def _topics(rec: Recorder, region: str, prefix: str, found: Existing) -> None:
    pages = rec.pages(region, "sns", "ListTopics", Link.NAMES_IN_USE)
    if pages is None:
        found.unread[TOPIC, region] = _why(rec)
        return
    topics = [topic for p in pages for t in p.get("Topics", []) if (topic := Topic.parse(t.get("TopicArn")))]
    found.names[TOPIC, region] = frozenset(t.name for t in topics)
    for arn in (t.arn for t in topics if t.name.startswith(prefix)):
        tags = rec.call(region, "sns", "ListTagsForResource", Link.NAMES_IN_USE, ResourceArn=arn)
        if tags is not None and CREATED_BY in tags.get("Tags", []):
            found.ours |= {arn}
            subs = rec.pages(region, "sns", "ListSubscriptionsByTopic", Link.NAMES_IN_USE, TopicArn=arn)
            found.subscriptions += [{**s, "rw:topicArn": arn} for p in subs or [] for s in p.get("Subscriptions", [])]


def _log_groups(rec: Recorder, region: str, prefix: str, found: Existing) -> None:
    pages = rec.pages(region, "logs", "DescribeLogGroups", Link.NAMES_IN_USE, logGroupNamePrefix=prefix)
    if pages is None:
        found.unread[LOG_GROUP, region] = _why(rec)
        return
    found.names[LOG_GROUP, region] = frozenset(g["logGroupName"] for p in pages for g in p.get("logGroups", []))


def delivery(rec: Recorder, region: str, name: str) -> DeliveryRole:
    """The named role, usable when it exists and its trust policy lets CloudTrail assume it (what
    it may write is CloudTrail's to check: UpdateTrail refuses a role that cannot deliver)."""
    page = rec.call(region, "iam", "GetRole", Link.NAMES_IN_USE, RoleName=name)
    if page is None:
        gap = rec.gaps[-1]
        problem = "does not exist" if gap.error_code == "NoSuchEntity" else \
            f"could not be read ({gap.error_code}: {gap.message})"
        return DeliveryRole(name, problem=problem)
    role = page["Role"]
    if not _trusts(role.get("AssumeRolePolicyDocument") or {}, CLOUDTRAIL):
        return DeliveryRole(name, role["Arn"], f"does not let {CLOUDTRAIL} assume it (its trust policy)")
    return DeliveryRole(name, role["Arn"])


def _trusts(document: dict, service: str) -> bool:
    """An Allow statement for ``sts:AssumeRole`` naming the service as principal."""
    for s in _listed(document.get("Statement", [])):
        principal = s.get("Principal") or {}
        services = _listed(principal.get("Service", [])) if isinstance(principal, dict) else []
        actions = _listed(s.get("Action", []))
        if s.get("Effect") == "Allow" and service in services and {"sts:AssumeRole", "sts:*", "*"} & set(actions):
            return True
    return False


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _why(rec: Recorder) -> str:
    return rec.gaps[-1].text


def common_prefix(names: list[str]) -> str:
    """What every name starts with: one DescribeAlarms by prefix reads them all."""
    return os.path.commonprefix(names)
