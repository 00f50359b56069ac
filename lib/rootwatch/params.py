"""The evidence notebook's parameter contract, validated before anything runs.

Parameter files (``parameters/*.yaml``) and ``--set key=value`` overrides become one mapping;
``RunParams.from_mapping`` checks every key and value and says exactly what is wrong, so a bad
file costs one clear line and exit 2, never a half-written run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from rootwatch.report import pdf
from rootwatch.errors import ParameterError
from rootwatch.models import Window
from rootwatch.patterns.sql import TABLE

if TYPE_CHECKING:
    from rootwatch.bundle.sign import SignerKind

SOURCES = ("sandbox", "aws")
# read by `rootwatch run` or remediate, never by the notebook
RUN_KEYS = ("signing", "pdf", "archive", "remediate", "report", "count_rootwatch_tests")
DEFAULTS: dict[str, Any] = {"profile": None, "accounts": [], "organization": None, "controls": None,
                            "benchmark": None, "out_dir": None, "event_source": "logs",
                            "max_chain_broken_hours": 0, "history_source": None}
EVENT_SOURCES = ("logs", "archive")  # the log group (or event history), or the trails' S3 log files
HISTORY_ENGINES = ("athena", "lake")  # where a query can read the chain's change events from
HISTORY_KEYS = (*HISTORY_ENGINES, "workgroup", "output_location")
REQUIRED = ("source", "regions", "window")
KEYS = (*REQUIRED, *DEFAULTS)
PAPERS = ("A4", "Letter")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
ROLLING = re.compile(r"^last-(\d{1,4})-days$")
ACCOUNT = re.compile(r"^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+|profile:[\w.@-]+|[a-z][a-z0-9-]{0,62})$")
ORGANIZATION_KEYS = ("role", "external_id", "session_name", "include", "exclude")
HINT = "see parameters/quarterly.example.yaml"


@dataclass(frozen=True)
class HistoryQuery:
    """Where rootwatch test RW-2 reads the chain's change events with SQL instead of event history
    or the archive: an Athena table over the trails' S3 files, or a CloudTrail Lake event data store."""

    engine: str  # "athena" or "lake"
    table: str  # db.table, or the event data store's ID
    workgroup: str = "primary"  # Athena only
    output_location: str | None = None  # Athena only: the results' S3 prefix (None: the workgroup's)

    @property
    def label(self) -> str:
        return f"{self.engine}:{self.table}"


@dataclass(frozen=True)
class RunParams:
    source: str
    regions: tuple[str, ...]
    window: Window
    window_label: str
    profile: str | None = None
    accounts: tuple[str, ...] = ()  # account ids / aliases (sandbox); role ARNs or profile:NAME (aws)
    organization: dict[str, Any] | None = None  # aws: list the organization's accounts, assume `role` in each
    controls: tuple[str, ...] = ()  # ("all",): every control; (): the edition's root-usage control
    benchmark: str | None = None
    out_dir: str | None = None
    event_source: str = "logs"
    # rootwatch test RW-2: how long in all the chain may have been broken over the window before it fails
    max_chain_broken_hours: float = 0
    # RW-2's changes by SQL; None: event history (90 days) or, with event_source archive, the archive
    history_source: HistoryQuery | None = None

    @property
    def max_chain_broken(self) -> timedelta:
        return timedelta(hours=self.max_chain_broken_hours)

    def profiles(self) -> list[str]:
        """The profiles named as accounts (``profile:NAME``)."""
        return [a.removeprefix("profile:") for a in self.accounts if a.startswith("profile:")]

    def home_region(self) -> str | None:
        """The region sessions are made in: the first listed (None with ``regions: all``)."""
        return self.regions[0] if self.regions != ("all",) else None

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any], now: datetime | None = None) -> RunParams:
        unknown = sorted(set(mapping) - set(KEYS))
        if unknown:
            raise ParameterError(f"unknown parameter(s): {', '.join(unknown)}", f"use only {', '.join(KEYS)}; {HINT}")
        missing = [k for k in REQUIRED if mapping.get(k) in (None, "", [])]
        if missing:
            raise ParameterError(f"missing parameter(s): {', '.join(missing)}", HINT)
        values = {**DEFAULTS, **mapping}
        source = values["source"]
        if source not in SOURCES:
            raise ParameterError(f"source {source!r} is not one of {', '.join(SOURCES)}", HINT)
        window, label = parse_window(values["window"], now or datetime.now(UTC))
        accounts = _accounts(values["accounts"])
        if source == "aws" and any(not a.startswith(("arn:", "profile:")) for a in accounts):
            raise ParameterError("for source aws, accounts are IAM role ARNs to assume from the profile, or "
                                 "profile:NAME", "leave accounts empty to audit the profile's own account")
        organization = _organization(values["organization"], source, accounts)
        if values["event_source"] not in EVENT_SOURCES:
            raise ParameterError(f"event_source {values['event_source']!r} is not one of {', '.join(EVENT_SOURCES)}",
                                 "logs reads the log group (or event history); archive reads the trails' S3 files")
        allowed = values["max_chain_broken_hours"]
        if isinstance(allowed, bool) or not isinstance(allowed, int | float) or not 0 <= allowed <= 24 * 3650:
            raise ParameterError(f"max_chain_broken_hours {allowed!r} is not a number of hours (0 or more)",
                                 "0: any time the chain was broken over the window fails rootwatch test RW-2")
        return cls(source=source, regions=_regions(values["regions"]), window=window, window_label=label,
                   profile=_optional_str(values, "profile"), accounts=accounts, organization=organization,
                   controls=_strings(values, "controls"), benchmark=_optional_str(values, "benchmark"),
                   out_dir=_optional_str(values, "out_dir"), event_source=values["event_source"],
                   max_chain_broken_hours=allowed, history_source=_history_source(values["history_source"]))


MAX_FILE_BYTES = 1 << 20  # a parameter file is a screenful; a megabyte is no parameter file
MAX_VALUE_CHARS = 4096  # one value (a role ARN, a pattern of names) is far shorter
MAX_ALIASES = 16  # YAML *aliases: a few are convenient, thousands expand into gigabytes (billion laughs)


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark: yaml.Mark | None) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _StrictLoader(yaml.SafeLoader):
    """YAML as a parameter file needs it: a key given twice is refused (the last would silently win — a
    second ``source: aws`` once switched a run to real AWS), keys are names, aliases and values are
    bounded, and a date stays the text the user typed (``window: {start: 2026-10-01}``): the notebook's
    parameters travel as JSON, which has no dates."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(f"more than {MAX_ALIASES} aliases (*name)", self.peek_event().start_mark)
        elif self.check_event(yaml.ScalarEvent) and len(self.peek_event().value) > MAX_VALUE_CHARS:
            event = self.peek_event()
            raise _Refused(f"a value of {len(event.value):,} characters (at most {MAX_VALUE_CHARS:,})",
                           event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[str, yaml.Mark] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise _Refused(f"the key {key!r} is not a name", key_node.start_mark)
            if key in seen:
                raise _Refused(f"the key {key!r} is given twice (first at line {seen[key].line + 1})",
                               key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _yaml(text: str, what: str) -> Any:
    """``text`` read by the strict loader; any problem is one line naming ``what`` and where."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = exc.problem if isinstance(exc, _Refused) else "is not valid YAML"
        raise ParameterError(f"{what}{where}: {problem}" if isinstance(exc, _Refused) else
                             f"{what} {problem}{where}", HINT) from None
    finally:
        loader.dispose()


def load_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ParameterError(f"parameter file {path} is {path.stat().st_size:,} bytes, more than any parameter "
                                 f"file needs ({MAX_FILE_BYTES:,})", HINT)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"parameter file {path} does not exist", HINT) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"parameter file {path} cannot be read: {exc}", HINT) from None
    data = _yaml(text, f"parameter file {path}")
    if not isinstance(data, dict):
        raise ParameterError(f"parameter file {path} must be a mapping of key: value", HINT)
    return data


def apply_sets(mapping: dict[str, Any], sets: list[str]) -> dict[str, Any]:
    """``--set key=value`` overrides; values are YAML (``regions=[us-east-1, eu-west-1]``)."""
    out = dict(mapping)
    for item in sets:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--set {item!r} is not key=value", "write e.g. --set window=2026-Q3")
        out[key.strip()] = _yaml(value, f"--set {key.strip()}") if value.strip() else None
    return out


def parse_window(value: Any, now: datetime) -> tuple[Window, str]:
    """A quarter (``2026-Q3``), ``last-N-days``, or ``{start: YYYY-MM-DD, end: YYYY-MM-DD}``
    (end inclusive). A window still running ends now; one that has not started is an error."""
    if isinstance(value, str) and (m := QUARTER.match(value.strip())):
        year, q = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2999:  # CloudTrail began in 2013; beyond, a date library's limits
            raise ParameterError(f"window {value!r}: the year must be 2000 to 2999", HINT)
        start = datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
        label = value.strip()
    elif isinstance(value, str) and (m := ROLLING.match(value.strip())):
        days = int(m.group(1))
        if not 1 <= days <= 3650:
            raise ParameterError(f"window {value!r}: the number of days must be 1 to 3650", HINT)
        end = now.replace(microsecond=0)
        start, label = end - timedelta(days=days), f"last {days} days"
    elif isinstance(value, dict) and set(value) == {"start", "end"}:
        first, last = _date(value["start"], "start"), _date(value["end"], "end")
        if last < first:
            raise ParameterError(f"window end {last} is before its start {first}", HINT)
        start = datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
        label = f"{first} to {last}"
    else:
        raise ParameterError(f"window {value!r} is not a quarter (2026-Q3), last-N-days, or {{start, end}} dates",
                             HINT)
    if start >= now:
        raise ParameterError(f"window {label} has not started yet", "choose a past or current period")
    if end > now:
        end, label = now.replace(microsecond=0), f"{label} (to date)"
    return Window(start, end), label


def instant_range(start: str | None, end: str | None, now: datetime | None = None,
                  default_days: int = 90) -> tuple[datetime, datetime]:
    """``--start``/``--end`` of the shell commands: a day (the end day included) or an ISO 8601
    instant (naive means UTC); without a start, ``default_days`` before the end; without an end, now."""
    last = _instant(end, "--end", end_of_day=True) if end else (now or datetime.now(UTC)).replace(microsecond=0)
    first = _instant(start, "--start", end_of_day=False) if start else last - timedelta(days=default_days)
    if last <= first:
        raise ParameterError(f"--end {end} is not after --start {start}", "give an end after the start")
    return first, last


def _instant(value: str, flag: str, end_of_day: bool) -> datetime:
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=end_of_day)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ParameterError(f"{flag} {value!r} is not a date (YYYY-MM-DD) or ISO 8601 instant",
                             "e.g. 2026-07-01 or 2026-07-01T12:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _date(value: Any, which: str) -> date:
    try:
        day = value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"window {which} {value!r} is not a date (YYYY-MM-DD)", HINT) from None
    if not 2000 <= day.year <= 2999:
        raise ParameterError(f"window {which} {value!r}: the year must be 2000 to 2999", HINT)
    return day


def _organization(value: Any, source: str, accounts: tuple[str, ...]) -> dict[str, Any] | None:
    if value is None:
        return None
    if source != "aws" or accounts:
        raise ParameterError("organization needs source: aws and no explicit accounts", HINT)
    if not isinstance(value, dict) or not isinstance(value.get("role"), str):
        raise ParameterError("organization needs role: the IAM role name to assume in each account", HINT)
    unknown = sorted(set(value) - set(ORGANIZATION_KEYS))
    if unknown:
        raise ParameterError(f"unknown organization setting(s): {', '.join(unknown)}",
                             f"use {', '.join(ORGANIZATION_KEYS)}")
    for key in ("include", "exclude"):
        if not isinstance(value.get(key, []), list):
            raise ParameterError(f"organization.{key} must be a list of account ids or names (wildcards allowed)",
                                 HINT)
    return {"session_name": "rootwatch", "include": [], "exclude": [], "external_id": None, **value}


def _regions(value: Any) -> tuple[str, ...]:
    import boto3

    if value == "all":
        return ("all",)  # every enabled region, resolved when collecting
    regions = [value] if isinstance(value, str) else value
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ParameterError("regions must be a list of region names", HINT)
    session = boto3.Session()
    known = {r for p in session.get_available_partitions() for r in session.get_available_regions("cloudtrail", p)}
    unknown = [r for r in regions if r not in known]
    if unknown:
        raise ParameterError(f"unknown region(s): {', '.join(unknown)}", "use AWS region codes such as us-east-1")
    return tuple(dict.fromkeys(regions))


def _accounts(value: Any) -> tuple[str, ...]:
    accounts = [value] if isinstance(value, (str, int)) else value or []
    if not isinstance(accounts, list):
        raise ParameterError("accounts must be a list of account ids, aliases or role ARNs", HINT)
    bad = [str(a) for a in accounts if not ACCOUNT.match(str(a))]
    if bad:
        raise ParameterError(f"account(s) not understood: {', '.join(bad)}",
                             "give 12-digit account ids, account aliases, or role ARNs to assume")
    return tuple(str(a) for a in accounts)


def _strings(values: dict[str, Any], key: str) -> tuple[str, ...]:
    value = values[key]
    if value is None:
        return ()  # the catalog's default: the root-usage control, whatever the edition numbers it
    if value == "all":
        return ("all",)  # every control of the benchmark
    items = [value] if isinstance(value, (str, int, float)) else value
    if not isinstance(items, list) or not items:
        raise ParameterError(f"{key} must be a non-empty list", HINT)
    if any(isinstance(i, float) for i in items):  # YAML reads 4.10 as the number 4.1
        raise ParameterError(f"{key}: control ids must be quoted", "write [\"4.3\", \"4.10\"], not [4.3, 4.10]")
    return tuple(str(i) for i in items)


def _history_source(value: Any) -> HistoryQuery | None:
    if value is None:
        return None
    hint = ("history_source: {athena: db.table, workgroup: primary, output_location: s3://bucket/prefix/} or "
            "{lake: <event data store ID>}; leave it out to read event history or the archive")
    if not isinstance(value, dict) or set(value) - set(HISTORY_KEYS) or len(set(value) & set(HISTORY_ENGINES)) != 1:
        raise ParameterError("history_source names one of athena or lake (and for athena its workgroup and "
                             "output_location) and nothing else", hint)
    engine = next(e for e in HISTORY_ENGINES if e in value)
    table, workgroup, output = value[engine], value.get("workgroup", "primary"), value.get("output_location")
    if not isinstance(table, str) or not TABLE.fullmatch(table):
        raise ParameterError(f"history_source {engine} {table!r} is not a table name", hint)
    if engine == "lake" and set(value) != {"lake"}:
        raise ParameterError("history_source lake takes only the event data store's ID", hint)
    if not isinstance(workgroup, str) or not workgroup or (output is not None and not (
            isinstance(output, str) and output.startswith("s3://"))):
        raise ParameterError("history_source's workgroup is a name and its output_location an s3:// URL", hint)
    return HistoryQuery(engine, table, workgroup, output)


def _optional_str(values: dict[str, Any], key: str) -> str | None:
    value = values[key]
    if value is not None and not isinstance(value, str):
        raise ParameterError(f"{key} must be a string", HINT)
    return value or None


@dataclass(frozen=True)
class SshKey:
    key: str | None  # path to an OpenSSH Ed25519 private key; None: the development key
    passphrase_env: str | None = None


@dataclass(frozen=True)
class Pkcs12:
    path: str
    passphrase_env: str | None = None


@dataclass(frozen=True)
class KmsKey:
    key_id: str
    region: str | None = None


@dataclass(frozen=True)
class Archive:
    bucket: str
    prefix: str
    mode: str
    days: int
    region: str | None = None


@dataclass(frozen=True)
class Attribution:
    """Who the report is for and who stands behind it, as the cover names them: an auditor's working
    paper names its preparer and reviewer; rootwatch cannot know them, so it says when they are not
    given rather than leaving the line out."""

    organisation: str | None = None  # the audited entity (not the AWS organization: see ``organization``)
    preparer: str | None = None
    reviewer: str | None = None

    @classmethod
    def from_mapping(cls, report: dict[str, Any]) -> Attribution:
        return cls(**{key: _name(report.get(key), f"report.{key}") for key in ATTRIBUTION})


ATTRIBUTION = ("organisation", "preparer", "reviewer")


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(f"{key} must be true or false", HINT)
    return value


def _name(value: Any, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200 or not value.isprintable():
        raise ParameterError(f"{key} must be a name of at most 200 printable characters", HINT)
    return value.strip()


@dataclass(frozen=True)
class RunOptions:
    """How `rootwatch run` finishes a bundle: PDF, signatures, archive. Credentials never appear:
    keys are paths, passphrases are names of environment variables."""

    ssh: SshKey | None = SshKey(None)
    x509: Pkcs12 | None = None
    kms: KmsKey | None = None
    renderer: str = pdf.DEFAULT
    paper: str = "A4"
    archive: Archive | None = None
    attribution: Attribution = Attribution()
    count_tests: bool = False  # rootwatch's own tests (RW-…) count in the exit code, not only the CIS verdicts

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> RunOptions:
        """The signers and renderers the parameter file may name are the ones registered beside their code
        (``bundle.sign.SIGNERS``, ``pdf.RENDERERS``)."""
        from rootwatch.bundle.sign import SIGNERS  # cryptography: only `rootwatch run` pays for it

        signing = _section(mapping, "signing", tuple(SIGNERS))
        rendering = _section(mapping, "pdf", ("renderer", "paper"))
        archive = _section(mapping, "archive", ("bucket", "prefix", "mode", "days", "region"))
        report = _section(mapping, "report", ATTRIBUTION)
        ssh = signing.get("ssh", "dev" if not signing else None)
        return cls(ssh=_ssh(ssh, SIGNERS["ssh"]), x509=_pkcs12(signing.get("x509"), SIGNERS["x509"]),
                   kms=_kms(signing.get("kms"), SIGNERS["kms"]),
                   renderer=_choice(rendering.get("renderer", pdf.DEFAULT), tuple(pdf.RENDERERS), "pdf.renderer"),
                   paper=_choice(rendering.get("paper", "A4"), PAPERS, "pdf.paper"), archive=_archive(archive),
                   attribution=Attribution.from_mapping(report),
                   count_tests=_flag(mapping.get("count_rootwatch_tests", False), "count_rootwatch_tests"))


def _section(mapping: dict[str, Any], key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    value = mapping.get(key) or {}
    if not isinstance(value, dict):
        raise ParameterError(f"{key} must be a mapping with {', '.join(allowed)}", HINT)
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ParameterError(f"unknown {key} setting(s): {', '.join(unknown)}", f"use {', '.join(allowed)}")
    return value


def _choice(value: Any, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise ParameterError(f"{key} {value!r} is not one of {', '.join(allowed)}", HINT)
    return value


def _fields(value: Any, key: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict) or any(not value.get(r) for r in required):
        raise ParameterError(f"{key} needs {', '.join(required)}", HINT)
    if any(k in value for k in ("passphrase", "password", "secret")):
        raise ParameterError(f"{key}: never put a passphrase in the parameter file", "use passphrase_env: VARIABLE")
    unknown = sorted(set(value) - set(required) - set(optional))
    if unknown:
        raise ParameterError(f"unknown {key} setting(s): {', '.join(unknown)}", f"use {', '.join(required + optional)}")
    return value


def _ssh(value: Any, kind: SignerKind) -> SshKey | None:
    if value in (None, False):
        return None
    if value == "dev":
        return SshKey(None)
    return SshKey(**_settings(value, kind))


def _pkcs12(value: Any, kind: SignerKind) -> Pkcs12 | None:
    return None if value is None else Pkcs12(**_settings(value, kind))


def _kms(value: Any, kind: SignerKind) -> KmsKey | None:
    return None if value is None else KmsKey(**_settings(value, kind))


def _settings(value: Any, kind: SignerKind) -> dict[str, Any]:
    """A signer's settings, as its kind declares them."""
    return _fields(value, f"signing.{kind.kind}", kind.required, kind.optional)


def _archive(value: dict[str, Any]) -> Archive | None:
    if not value:
        return None
    fields = _fields(value, "archive", ("bucket", "mode", "days"), ("prefix", "region"))
    days = fields["days"]
    if not isinstance(days, int) or not 1 <= days <= 36500:
        raise ParameterError("archive.days must be a whole number of days (1 to 36500)", HINT)
    return Archive(fields["bucket"], str(fields.get("prefix", "")).strip("/"),
                   _choice(fields["mode"], LOCK_MODES, "archive.mode"), days, fields.get("region"))
