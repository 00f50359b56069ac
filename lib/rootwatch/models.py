"""Plain records shared by the stages: no pandas, no boto3 (papermill's ``models.py`` habit)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from typing import Any


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
    # the root user's credentials (CIS section 1, 2 from v6.0), judged from IAM's credential report
    ROOT_ACCESS_KEYS = "root-access-keys"
    ROOT_MFA = "root-mfa"
    ROOT_HARDWARE_MFA = "root-hardware-mfa"
    ROOT_EVERYDAY_USE = "root-everyday-use"


@dataclass(frozen=True)
class Requirement:
    """Another requirement the same verdict answers: the control's number in another CIS edition, or a
    framework's control mapped to it (with where that mapping is published, so a reader can check it)."""

    framework: str  # "CIS Amazon Web Services Foundations Benchmark v1.2.0", "NIST SP 800-53 Rev. 5" ...
    id: str  # "3.3", "AU-12"
    title: str = ""  # the edition's title of the control (CIS editions)
    source: str = ""  # where the mapping is published (frameworks)


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
    FILTER_TEST = "filter-test", "AWS's own test of the metric filter"
    CREDENTIAL_REPORT = "credential-report", "IAM credential report"
    ALARM_COVERAGE = "alarm-coverage", "alarm coverage"
    CHAIN_CHANGES = "chain-changes", "changes to the chain"  # the window's management events that change it
    CHAIN_OPERATION = "chain-operation", "chain operated throughout"
    CONFIG_HISTORY = "config-history", "AWS Config's configuration history"  # the history's second witness
    VIRTUAL_MFA = "virtual-mfa", "virtual MFA devices"
    ACCOUNT_SUMMARY = "account-summary", "IAM account summary"
    ALTERNATIVE_MONITOR = "alternative-monitor", "alternative monitor (EventBridge rule)"
    NAMES_IN_USE = "names-in-use", "names in use"
    REMEDIATION = "remediation", "remediation change"

    @property
    def id(self) -> str:
        return self.value

    def __str__(self) -> str:
        return self.value


CHAIN_LINKS = (Link.TRAIL, Link.LOGGING, Link.MANAGEMENT_EVENTS, Link.LOG_GROUP, Link.METRIC_FILTER, Link.ALARM,
               Link.SUBSCRIBER)  # in the order evidence flows: each link needs the ones before it


class Check(StrEnum):
    """What a finding judges about a control."""

    CHAIN = "chain"  # every link of the chain is in place: the benchmark's control itself
    ROOT_CREDENTIALS = "root credentials"  # a root-hygiene control of the benchmark, from the credential report
    ALARM_COVERAGE = "alarm coverage"  # the alarm fired for every event the filter counted
    OPERATION = "chain operated throughout"  # every link held over the whole window, not only today
    ALTERNATIVE = "alternative monitor"  # an EventBridge rule tells a confirmed subscriber of root use

    @property
    def test_id(self) -> str | None:
        """rootwatch's own id for a check beyond the benchmark (None for the CIS control itself): such
        a test is related to a control but is not it, so it never wears the control's number."""
        return ROOTWATCH_TESTS.get(self)


ROOTWATCH_TESTS = {Check.ALARM_COVERAGE: "RW-1", Check.OPERATION: "RW-2", Check.ALTERNATIVE: "RW-3"}


@dataclass(frozen=True)
class Coverage:
    """Whether a stored metric-filter pattern covers a control (``coverage.judge``), with the event
    that decides it."""

    control: str
    benchmark: str
    pattern: str
    canonical: str
    status: Status  # PASS or FAIL
    rule: str  # blind-spot | benchmark-text | broader-quiet | broader-noisy
    relation: str  # how the pattern relates to the printed reference
    reason: str
    event: dict | None  # the event that decides the verdict
    event_role: str | None  # what that event is: blind spot, noise, ordinary activity, trap
    warning: str | None
    exact: bool

    @property
    def covers(self) -> bool:
        return self.status == Status.PASS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LinkVerdict:
    link: Link
    status: Status
    reason: str
    subject: str = ""  # the object judged (trail, filter, alarm name ...)
    evidence: tuple[str, ...] = ()  # raw call files behind the verdict


@dataclass(frozen=True)
class Step:
    """One change of the remediation plan (``remediate.render.step``) for a failing link: what it is
    for, and the AWS CLI command that makes it, with the account's real names."""

    link: Link
    title: str
    command: str


@dataclass(frozen=True)
class Anchor:
    """Where the reported chain lives, by name: what a remediation plan acts on."""

    trail: str | None = None            # trail name
    trail_region: str | None = None     # its home region
    trail_bucket: str | None = None
    log_group: str | None = None
    log_group_region: str | None = None
    log_group_account: str | None = None
    filter_name: str | None = None
    metric: tuple[str, str] | None = None  # (namespace, name)
    alarm: str | None = None
    topics: tuple[str, ...] = ()


@dataclass
class Finding:
    account_id: str
    account_label: str
    control: str
    benchmark: str
    title: str
    level: int
    status: Status
    links: list[LinkVerdict]
    notes: list[str] = field(default_factory=list)
    remediation: list[Step] = field(default_factory=list)  # the remediation plan's changes for it, as CLI commands
    remediation_notes: list[str] = field(default_factory=list)  # what that plan cannot do, or waits for
    coverage: Coverage | None = None  # the metric filter's verdict, with its deciding event
    check: Check = Check.CHAIN
    anchor: Anchor = field(default_factory=Anchor)
    requirements: tuple[Requirement, ...] = ()  # the other editions' numbers and the frameworks it answers

    @property
    def key(self) -> str:
        """The finding's name among an account's findings: the control id, or for rootwatch's own
        test its id, what it checks and the control it relates to (``RW-1 alarm coverage (4.3)``)."""
        return self.control if self.check.test_id is None else f"{self.check.test_id} {self.check} ({self.control})"

    @property
    def uid(self) -> str:
        """The finding's id wherever it is referred to: OCSF's finding uid, and the report's anchor on
        its heading (``rootwatch-111111111111-cis-v5.0.0-RW-1-alarm-coverage-4.3``)."""
        return f"rootwatch-{self.account_id}-{self.benchmark}-{re.sub(r'[^A-Za-z0-9.]+', '-', self.key).strip('-')}"

    @property
    def benchmark_control(self) -> bool:
        """A verdict of the benchmark's control itself (what the exit code follows by default)."""
        return self.check.test_id is None

    @property
    def name(self) -> str:
        """How prose names it: ``CIS 4.3``, or ``rootwatch test RW-1 (alarm coverage, related to CIS 4.3)``."""
        if self.benchmark_control:
            return f"CIS {self.control}"
        return f"rootwatch test {self.check.test_id} ({self.check}, related to CIS {self.control})"

    @property
    def failing(self) -> list[LinkVerdict]:
        """The links that fail or could not be read."""
        return [link for link in self.links if link.status != Status.PASS]

    @property
    def what_fails(self) -> str:
        """The cover's words for it: its failing or unread links by title; for a root-hygiene control
        (the credential report is its only link) the verdict's reason, since "IAM credential report"
        alone would read as a report that could not be read."""
        if self.check is Check.ROOT_CREDENTIALS and self.failing:
            return self.failing[-1].reason
        return ", ".join(link.link.title for link in self.failing)

    def to_record(self) -> dict[str, Any]:
        """The finding as ``findings.json`` keeps it (``from_record`` reads it back): each link by
        id, with its title for readers of the file."""
        return {"account_id": self.account_id, "account_label": self.account_label, "control": self.control,
                "check": self.check, "key": self.key, "test": self.check.test_id,
                "related_control": None if self.benchmark_control else self.control,
                "benchmark": self.benchmark, "title": self.title,
                "level": self.level, "status": self.status,
                "links": [{"link": v.link.id, "name": v.link.title, "status": v.status, "reason": v.reason,
                           "subject": v.subject, "evidence": list(v.evidence)} for v in self.links],
                "notes": list(self.notes),
                "remediation": [{"link": s.link.id, "title": s.title, "command": s.command} for s in self.remediation],
                "remediation_notes": list(self.remediation_notes),
                "coverage": self.coverage.to_dict() if self.coverage else None,
                "anchor": asdict(self.anchor),
                "requirements": [asdict(r) for r in self.requirements]}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Finding:
        anchor = record["anchor"]
        return cls(record["account_id"], record["account_label"], record["control"], record["benchmark"],
                   record["title"], record["level"], Status(record["status"]),
                   [LinkVerdict(Link(v["link"]), Status(v["status"]), v["reason"], v["subject"], tuple(v["evidence"]))
                    for v in record["links"]],
                   list(record["notes"]),
                   [Step(Link(s["link"]), s["title"], s["command"]) for s in record["remediation"]],
                   list(record["remediation_notes"]),
                   Coverage(**record["coverage"]) if record["coverage"] else None, Check(record["check"]),
                   Anchor(**{**anchor, "metric": tuple(anchor["metric"]) if anchor["metric"] else None,
                             "topics": tuple(anchor["topics"])}),
                   tuple(Requirement(**r) for r in record.get("requirements", [])))


SANDBOX_BANNER = "SANDBOX — not evidence of any AWS account"  # on every page and record of a sandbox run


def tally(findings: Iterable[Finding], benchmark: bool = True) -> dict[Status, int]:
    """Findings by status: the benchmark's controls, or (``benchmark=False``) rootwatch's own tests,
    always counted apart — a test of rootwatch's is not a CIS control."""
    chosen = [f for f in findings if f.benchmark_control == benchmark]
    return {s: sum(f.status == s for f in chosen) for s in Status}


def dump_findings(findings: Iterable[Finding], sandbox: bool = False) -> str:
    """``findings.json``: one record per finding; each says ``not_evidence`` when the run read the
    sandbox, since a record travels without the report around it. A catalog example event may hold a
    date: it is written as text."""
    mark = {"not_evidence": SANDBOX_BANNER} if sandbox else {}
    return json.dumps([{**f.to_record(), **mark} for f in findings], indent=2, default=str)


def load_findings(text: str) -> list[Finding]:
    return [Finding.from_record(r) for r in json.loads(text)]
