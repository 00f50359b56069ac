"""Plain records shared by the stages: no pandas, no boto3 (papermill's ``models.py`` habit)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum


@dataclass(frozen=True)
class Window:
    """The period the evidence covers, in UTC; ``end`` is exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end:%Y-%m-%d}) before it starts ({self.start:%Y-%m-%d})")

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"


class Status(StrEnum):
    """A verdict. A string, so records, frames and JSON hold the word itself."""

    PASS = "PASS"
    FAIL = "FAIL"  # a definite no about the audited account
    GAP = "GAP"  # could not be read: never a PASS, never a silent FAIL


def roll_up(statuses: Iterable[str]) -> Status:
    """The one verdict of several (a finding's links, a run's findings): any FAIL fails; else any
    GAP leaves it unproven; else it passes (nothing judged is nothing failed)."""
    seen = set(statuses)
    return Status.FAIL if Status.FAIL in seen else Status.GAP if Status.GAP in seen else Status.PASS


class Role(StrEnum):
    """What code asks the catalog for by meaning, never by number: CIS v6.0 renumbers 4.3 as 5.3."""

    ROOT_USAGE = "root-usage"  # its events are the root-activity tables; its alarm's response is judged too


class Link(Enum):
    """What a piece of evidence proves: each link of the CIS chain, and the evidence beside it. The id
    is what a gap records; the title is how reports name it. Collectors, the judge, frames and the
    remediation planner all name links by member, so a misspelt link is an error where it is
    written, not a gap the judge never routes."""

    def __new__(cls, id: str, title: str) -> Link:  # noqa: A002 - the link's id, as recorded
        member = object.__new__(cls)
        member._value_ = id
        member.title = title
        return member

    title: str

    TRAIL = "trail", "multi-region trail"
    LOGGING = "logging", "logging"
    MANAGEMENT_EVENTS = "management-events", "management events"
    LOG_GROUP = "log-group", "log group"
    METRIC_FILTER = "metric-filter", "metric filter"
    ALARM = "alarm", "alarm"
    SUBSCRIBER = "subscriber", "confirmed subscriber"
    # beside the chain
    IDENTITY = "identity", "account identity"
    ORGANIZATION = "organization", "organization's accounts"
    REGIONS = "regions", "enabled regions"
    ROOT_EVENTS = "root-events", "the control's events"
    ALARM_HISTORY = "alarm-history", "alarm history"
    METRIC_DATA = "metric-data", "metric datapoints"
    CREDENTIAL_REPORT = "credential-report", "IAM credential report"
    ALARM_COVERAGE = "alarm-coverage", "alarm coverage"
    NAMES_IN_USE = "names-in-use", "names in use"
    REMEDIATION = "remediation", "remediation change"

    @property
    def id(self) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value


CHAIN_LINKS = (Link.TRAIL, Link.LOGGING, Link.MANAGEMENT_EVENTS, Link.LOG_GROUP, Link.METRIC_FILTER, Link.ALARM,
               Link.SUBSCRIBER)  # in the order evidence flows: each link needs the ones before it
