"""The window's management events that change the chain (issue 19): what the history is rebuilt from.

Read from CloudTrail event history (``LookupEvents``, one lookup per change event name and region:
it takes a single lookup attribute, and an event source would also return that service's every
read), or, when the run reads the trails' archive, from the trails' S3 log files, or with one SQL
query (``history_source``) of an Athena table over those files or a CloudTrail Lake event data
store: the same change events (each event name with its event source) of the account, built from
the same filter pattern the archive scan uses. Event history keeps 90 days: what lies before
that, without an archive, is a part of the window whose history cannot be read, named as such and
never assumed healthy. An Athena table or a Lake store is read for the whole window: what it does
not hold (a store's retention, a table's partitions) it cannot say, as the archive cannot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rootwatch.logarchive import S3Archive, scan
from rootwatch.collect.athena import AthenaLocation, athena_events, lake_events
from rootwatch.collect.evidence import Gap, Recorder
from rootwatch.errors import ArchiveError, QueryError
from rootwatch.history import CHANGES, Coverage
from rootwatch.models import Link, Window
from rootwatch.params import HistoryQuery
from rootwatch.patterns import compile_pattern
from rootwatch.patterns.sql import ATHENA, CLOUDTRAIL_LAKE, query
from rootwatch.resources import Trail

EVENT_HISTORY_DAYS = 90
NAMES = tuple(name for names in CHANGES.values() for name in names)
NO_ARCHIVE = (f"CloudTrail event history keeps {EVENT_HISTORY_DAYS} days and no archive was read "
              "(event_source: archive reads the trails' S3 log files, which reach further back)")


@dataclass
class ChangeHistory:
    """The change records of one account from ``readable_from`` to ``as_of`` (when today's state was
    read: changes after the window are undone to reach it). ``coverage``: the part of the window
    before ``readable_from`` that could not be read, with why (None: all of it was)."""

    as_of: datetime
    source: str  # "lookup", "archive", or the query's table ("athena:db.table", "lake:<store ID>")
    records: list[dict] = field(default_factory=list)
    coverage: Coverage | None = None
    sql: str | None = None  # the query that read them (history_source), kept as evidence


def change_history(rec: Recorder, account_id: str, regions: list[str], trails: list[dict], window: Window,
                   as_of: datetime, archive: bool, source: HistoryQuery | None = None) -> ChangeHistory:
    """The account's chain-changing events over the window and up to ``as_of``; a call, file or query
    that could not be read is a gap on ``Link.CHAIN_CHANGES`` (the caller's operating test is then a GAP)."""
    if source is not None:
        return _from_query(rec, account_id, regions[0], window, as_of, source)
    if archive:
        return ChangeHistory(as_of, "archive", _from_archive(rec, account_id, regions, trails, window, as_of))
    oldest = as_of - timedelta(days=EVENT_HISTORY_DAYS)
    history = ChangeHistory(as_of, "lookup", coverage=Coverage(oldest, NO_ARCHIVE) if window.start < oldest else None)
    start = max(window.start, oldest)
    if start >= window.end:
        return history  # nothing of the window is readable: no call could answer
    for region in _chain_regions(account_id, regions, trails):
        for name in NAMES:
            pages = rec.pages(region, "cloudtrail", "LookupEvents", Link.CHAIN_CHANGES,
                              LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}],
                              StartTime=start, EndTime=as_of)
            if pages is None:  # the gap is recorded: the history is unreadable, the other lookups would not mend it
                return history
            items = [i.get("CloudTrailEvent") for page in pages or [] for i in page.get("Events", [])]
            records = [_decode(i) for i in items]
            if None in records:  # a change that cannot be read may be the one that broke the chain
                rec.gaps.append(Gap(account_id, region, Link.CHAIN_CHANGES, "cloudtrail", "LookupEvents",
                                    "RecordUnreadable", f"{records.count(None)} {name} record(s) are not JSON objects",
                                    f"raw/{rec.calls[-1].filename}"))
            history.records += [r for r in records if r is not None
                                and r.get("recipientAccountId", account_id) == account_id]
    return history


def _chain_regions(account_id: str, regions: list[str], trails: list[dict]) -> list[str]:
    """The audited regions and every region the account's own chain lives in: a change is recorded
    where it was made (a trail's StopLogging in its home region, a filter's, alarm's or topic's in
    its log group's), which need not be an audited region."""
    own = [t for t in map(Trail, trails) if t.owner == account_id]
    groups = [g for g in (t.log_group for t in own) if g and g.account_id == account_id]
    return list(dict.fromkeys([*regions, *(t.home_region for t in own if t.home_region), *(g.region for g in groups)]))


def changes_pattern(account_id: str | None = None) -> str:
    """The change events, each name with its event source, as one filter pattern: what an archive
    scan keeps and (with the account, for a table of many) what a history query selects."""
    names = " || ".join(f'($.eventSource = "{source}" && (' + " || ".join(f'$.eventName = "{n}"' for n in names) + "))"
                        for source, names in CHANGES.items())
    return "{ " + (f'$.recipientAccountId = "{account_id}" && ({names})' if account_id else names) + " }"


# CloudTrail Lake keeps requestParameters and responseElements as map<string,string>: a list or an
# object inside them comes back as its JSON text. The chain's changes carry these.
LAKE_NESTED = ("metricTransformations", "alarmActions", "oKActions", "insufficientDataActions", "dimensions",
               "metrics", "alarmNames", "eventSelectors", "advancedEventSelectors")


def _from_query(rec: Recorder, account_id: str, region: str, window: Window, as_of: datetime,
                source: HistoryQuery) -> ChangeHistory:
    """One query of the account's change events from the window's start to ``as_of``, run with the
    account's own credentials in ``region``; each row re-checked with the pattern (SQL reads values
    inside JSON more loosely). A refused or failed query is the history's gap, with AWS's words."""
    pattern = compile_pattern(changes_pattern(account_id))
    sql = query(pattern, ATHENA if source.engine == "athena" else CLOUDTRAIL_LAKE, source.table,
                Window(window.start, as_of))
    history = ChangeHistory(as_of, source.label, sql=sql)
    try:
        if source.engine == "athena":
            rows = athena_events(rec.clients.get("athena", region), sql,
                                 AthenaLocation(source.table.split(".")[0], source.workgroup, source.output_location))
        else:
            rows = [_lake_record(r) for r in lake_events(rec.clients.get("cloudtrail", region), sql)]
    except QueryError as exc:
        service, operation = ("athena", "StartQueryExecution") if source.engine == "athena" else ("cloudtrail",
                                                                                                  "StartQuery")
        rec.gaps.append(Gap(account_id, region, Link.CHAIN_CHANGES, service, operation, "QueryFailed", exc.message,
                            ""))
        return history
    history.records = [r for r in rows if pattern.matches(r)]
    return history


def _lake_record(record: dict) -> dict:
    """A Lake row with the chain's lists and objects parsed back from their JSON text."""
    for part in ("requestParameters", "responseElements"):
        values = record.get(part)
        if isinstance(values, dict):
            record[part] = {k: _parsed(v) if k in LAKE_NESTED else v for k, v in values.items()}
    return record


def _parsed(value: object) -> object:
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return value  # left as text: the change that needs it is then unreadable, never guessed


def _from_archive(rec: Recorder, account_id: str, regions: list[str], trails: list[dict], window: Window,
                  as_of: datetime) -> list[dict]:
    records: list[dict] = []
    seen: set[tuple[str, str]] = set()
    pattern = compile_pattern(changes_pattern())
    for trail in map(Trail, trails):
        location = (trail.bucket or "", trail.prefix or "")
        if not location[0] or location in seen:
            continue
        seen.add(location)
        region = trail.home_region or regions[0]
        source = S3Archive(rec.clients.get("s3", region), *location)
        try:
            result = scan(source, pattern, window.start, as_of)
        except ArchiveError as exc:
            rec.gaps.append(Gap(account_id, region, Link.CHAIN_CHANGES, "s3", "ListObjectsV2", "ArchiveUnreadable",
                                exc.message, ""))
            continue
        if result.stats.warned:  # a file not read may hold a change: the history is not whole
            rec.gaps.append(Gap(account_id, region, Link.CHAIN_CHANGES, "s3", "GetObject", "LogFileUnreadable",
                                f"{source.label}: {result.stats.warning()}", ""))
        records += [m.event for m in result.matches if m.event.get("recipientAccountId", account_id) == account_id]
    if not seen:
        rec.gaps.append(Gap(account_id, regions[0], Link.CHAIN_CHANGES, "s3", "ListObjectsV2", "NoArchive",
                            "no trail of the account names an S3 bucket: there is no archive to read the changes from",
                            ""))
    return records


def _decode(text: object) -> dict | None:
    try:
        record = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
