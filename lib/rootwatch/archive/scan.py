"""Scan CloudTrail log files with a filter pattern, parsing as little as the pattern allows.

Decompression is the floor; JSON parsing is what a naive scan pays on top. So each file is
decompressed and its bytes searched for the literals the pattern requires
(``patterns.literals``): a file without them is skipped unparsed, and in a file with them only the
records around each hit are sliced out (CloudTrail writes each record as ``{"eventVersion":...``)
and parsed. Anything unusual (another layout, ``\\u``-escaped letters, a slice that is not one
record) falls back to parsing the whole file, so skipping never changes the answer. Files stream
through a small pool (zlib releases the GIL), at most two per worker in memory at once.
"""

from __future__ import annotations

import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import orjson

from rootwatch.archive.sources import Archive, LogFile
from rootwatch.patterns import FilterPattern
from rootwatch.patterns.literals import Clause, may_hide_literals, required, satisfied

MARK = b'{"eventVersion"'
HEAD = b'{"Records"'
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Match:
    event: dict
    log_file: str


@dataclass
class FileResult:
    log: LogFile
    records: int = 0
    parsed: int = 0
    matches: list[dict] = field(default_factory=list)
    warning: str | None = None

    @property
    def skipped(self) -> bool:
        return self.warning is None and self.parsed == 0


@dataclass
class ScanStats:
    files_listed: int = 0
    files_read: int = 0
    files_skipped: int = 0     # read, but without the pattern's literals: never parsed
    files_cached: int = 0      # answered from the Parquet cache: not read at all
    files_unreadable: int = 0  # each named in ``warnings``
    records_read: int = 0
    records_skipped: int = 0   # in files read, never parsed
    records_cached: int = 0
    records_matched: int = 0
    bytes_read: int = 0
    warnings: list[str] = field(default_factory=list)

    def add(self, result: FileResult) -> None:
        if result.warning:
            self.files_unreadable += 1
            self.warnings.append(f"{result.log.key}: {result.warning}")
            return
        self.files_read += 1
        self.files_skipped += result.skipped
        self.records_read += result.records
        self.records_skipped += result.records - result.parsed
        self.bytes_read += result.log.size

    def line(self) -> str:
        return (f"{self.files_read:,} files read ({self.files_skipped:,} skipped unparsed), "
                f"{self.files_cached:,} from cache, {self.files_unreadable:,} unreadable; "
                f"{self.records_read:,} records read ({self.records_skipped:,} skipped unparsed), "
                f"{self.records_matched:,} matched")


@dataclass
class ArchiveScan:
    archive: str
    pattern: str
    start: datetime
    end: datetime
    matches: list[Match]
    stats: ScanStats

    @property
    def events(self) -> list[dict]:
        return [m.event for m in self.matches]


class Matcher:
    """One pattern's scan of one decompressed file."""

    def __init__(self, pattern: FilterPattern) -> None:
        self.pattern = pattern
        self.clauses = required(pattern.tree)

    def scan(self, raw: bytes, result: FileResult) -> FileResult:
        result.records = raw.count(MARK)
        if not self.clauses or not raw[:64].lstrip().startswith(HEAD) or may_hide_literals(raw):
            return self._parse_all(raw, result)
        if not satisfied(self.clauses, raw):
            return result
        records = _around(raw, _hits(raw, self.clauses))
        if records is None:
            return self._parse_all(raw, result)
        result.parsed = len(records)
        result.matches = [r for r in records if self.pattern.matches(r)]
        return result

    def _parse_all(self, raw: bytes, result: FileResult) -> FileResult:
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            result.warning = f"not JSON ({exc})"
            return result
        records = document.get("Records") if isinstance(document, dict) else None
        if not isinstance(records, list):
            result.warning = "not a CloudTrail log file (no Records list)"
            return result
        result.records = result.parsed = len(records)
        result.matches = [r for r in records if isinstance(r, dict) and self.pattern.matches(r)]
        return result


def _hits(raw: bytes, clauses: list[Clause]) -> list[int]:
    """Where the rarest clause's literals occur: every record that can match contains one."""
    clause = min(clauses, key=lambda c: sum(raw.count(a) for a in c))
    hits = []
    for literal in clause:
        at = raw.find(literal)
        while at >= 0:
            hits.append(at)
            at = raw.find(literal, at + 1)
    return sorted(hits)


def _around(raw: bytes, hits: list[int]) -> list[dict] | None:
    """The records holding ``hits``, each parsed alone; None when a slice is not exactly one
    record (the caller then parses the whole file)."""
    records, done_until = [], -1
    for at in hits:
        if at < done_until:
            continue
        start = raw.rfind(MARK, 0, at)
        following = raw.find(MARK, at)
        end = following if following >= 0 else len(raw)
        if start < 0:
            return None
        piece = raw[start:end].rstrip()
        piece = piece[:-1] if following >= 0 and piece.endswith(b",") else _unwrap_last(piece)
        try:
            record = orjson.loads(piece)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(record, dict):
            return None
        records.append(record)
        done_until = end
    return records


def _unwrap_last(piece: bytes) -> bytes:
    """The last record is followed by the ``]}`` closing the file."""
    piece = piece.removesuffix(b"}").rstrip()
    return piece.removesuffix(b"]").rstrip()


def gunzip(data: bytes) -> bytes:
    """Every member of a gzip file (CloudTrail writes one; concatenated files have more)."""
    out = []
    while data:
        inflater = zlib.decompressobj(31)
        out.append(inflater.decompress(data))
        if not inflater.eof:
            raise zlib.error("truncated gzip member")
        data = inflater.unused_data
    return b"".join(out)


def read_file(archive: Archive, matcher: Matcher, log: LogFile) -> FileResult:
    result = FileResult(log)
    try:
        data = archive.read(log)
        raw = gunzip(data) if log.key.endswith(".gz") else data
    except zlib.error as exc:
        result.warning = f"corrupt gzip ({exc})"
        return result
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a named warning, never the end of the scan
        result.warning = f"unreadable ({type(exc).__name__}: {exc})"
        return result
    return matcher.scan(raw, result)


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads, in order, with at most two items per worker in
    flight: memory stays bounded whatever the archive's size."""
    with ThreadPoolExecutor(workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def default_workers() -> int:
    return min(8, os.cpu_count() or 1)


def in_window(event: dict, start: datetime, end: datetime) -> bool:
    try:
        when = datetime.fromisoformat(str(event.get("eventTime", "")))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return start <= when < end
