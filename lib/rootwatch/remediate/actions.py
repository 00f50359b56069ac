"""One change to an account, as data: the API call that makes it, and the resource it leaves.

The same list is printed as AWS CLI commands, rendered as CloudFormation and as Terraform, and
(with ``--apply``) made with boto3, so the four forms cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rootwatch.models import Link

# resource kinds, each with a CloudFormation type and a Terraform type (see remediate/render.py)
METRIC_FILTER, TOPIC, SUBSCRIPTION, ALARM = "metric_filter", "topic", "subscription", "alarm"
ALARM_ACTIONS = "alarm_actions"            # EnableAlarmActions on an existing alarm
LOG_GROUP = "log_group"
TRAIL_SETTINGS, TRAIL_LOGGING, TRAIL_SELECTORS = "trail_settings", "trail_logging", "trail_selectors"

# The tag on what rootwatch creates where AWS takes tags at creation (alarms, topics): the proof,
# read back before a topic is reused, that rootwatch made it. Filters and subscriptions take no
# tags; rootwatch never writes under a name already in use, so it never needs to prove it made them.
CREATED_BY = {"Key": "rootwatch:created-by", "Value": "rootwatch remediate"}


@dataclass(frozen=True)
class Action:
    account_id: str
    region: str
    service: str            # boto3 service name: logs, sns, cloudwatch, cloudtrail
    operation: str          # API operation, e.g. PutMetricFilter
    params: dict[str, Any]  # the call's parameters, as boto3 takes them
    kind: str               # one of the resource kinds above
    name: str               # the resource's name (filter, topic, alarm, trail, log group)
    link: Link              # the failing link it fixes
    creates: bool = True    # a resource rootwatch makes (False: a setting of an existing one)
    refs: dict[str, str] = field(default_factory=dict)  # param -> logical_id of another action's resource it uses
    facts: dict[str, Any] = field(default_factory=dict)  # an existing resource's current settings, for templates

    @property
    def why(self) -> str:
        """What it is for, as the plan, its templates and the evidence say it."""
        return f"fixes the {self.link.title} link"

    @property
    def logical_id(self) -> str:
        """A CloudFormation / Terraform identifier for the resource: letters and digits only. The
        settings of one trail, made by up to three calls, are one resource."""
        return logical_id(TRAIL if self.kind in TRAIL_KINDS else self.kind, self.name)


TRAIL = "trail"
TRAIL_KINDS = (TRAIL_SETTINGS, TRAIL_LOGGING, TRAIL_SELECTORS)


def logical_id(kind: str, name: str) -> str:
    words = "".join(ch if ch.isalnum() else " " for ch in f"{kind} {name}").split()
    return "".join(w[:1].upper() + w[1:] for w in words)
