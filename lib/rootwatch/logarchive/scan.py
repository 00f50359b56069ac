"""Scan CloudTrail log files with a filter pattern, parsing as little as the pattern allows.

Decompression is the floor; JSON parsing is what a naive scan pays on top. So each file is
decompressed and its bytes searched for the literals the pattern requires
(``patterns.literals``): a file without them is skipped unparsed, and in a file with them only the
records around each hit are sliced out (CloudTrail writes each record as ``{"eventVersion":...``)
and parsed. Anything unusual (a slice that is not one record; records in another key order or with
vendor fields, as a SIEM re-exports them) falls back to parsing the whole file, so skipping never
changes the answer (``patterns.literals`` states the one assumption: letters are not written as
``\\u`` escapes). A file skipped unparsed counts its records by their ``"eventVersion"`` keys,
whatever the order. Files stream through a bounded pipeline: threads read (S3 latency), processes
inflate (ISA-L, about twice zlib's speed) and search, at most two files per worker in memory at
once, and no file beyond ``MAX_INFLATED`` bytes inflated.

Log files are written by AWS but carry text any caller chose, and copies can be damaged. A file
that cannot be inflated or parsed, or is not a CloudTrail log file, is skipped and named; a parsed
record that is not a JSON object is skipped and named by its index (``Records[3]: not a JSON
object (str)``). Any JSON object is a record, judged by the pattern as CloudWatch Logs would judge
it (AWS's own service and Insights events carry no ``userIdentity``: the root pattern simply does
not match them). Both kinds of warning are counted, and only the first few are named.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import TypeVar

import orjson
from isal import isal_zlib

from rootwatch.logarchive.sources import Archive, LocalArchive, LogFile, failure
from rootwatch.patterns import FilterPattern, compile_pattern
from rootwatch.patterns.literals import Clause, required, satisfied
from rootwatch.words import plural

MARK = b'{"eventVersion"'  # how CloudTrail begins each record: it bounds the slices
KEY = MARK[1:]  # every record holds it once, first in CloudTrail's own files, anywhere in a re-export:
# it counts the records (a key inside a string would be spelled \"eventVersion\", never so)
# how a log file begins and ends: a file that does not is parsed whole (and named if broken)
HEAD, TAIL = re.compile(rb'\s*\{"Records"\s*:\s*\['), b"]}"
PROCESS_THRESHOLD = 256
CHUNK = 8  # files per task sent to a process: fewer round trips, memory still bounded
# The most one log file may inflate to. A five-minute CloudTrail file is usually well under 10 MB
# (the benchmark's average is 0.7 MB); a gzip bomb inflates a thousandfold. A file over it is named
# and skipped, and the scan goes on. ``scan(..., max_inflated=...)`` sets another limit.
MAX_INFLATED = 256 * 1024 * 1024
STEP = 16 * 1024 * 1024  # bytes inflated per call: a file over the limit costs at most this beyond it
GZIP_MAGIC = b"\x1f\x8b"
MAX_DEPTH = 64  # containers a kept record may nest: CloudTrail's nest a handful; orjson writes at most 255
EXAMPLES = 5  # warnings named one by one (on stderr, in a gap's message); the rest are counted
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
    warning: str | None = None  # why the whole file was skipped
    malformed: int = 0  # records skipped (not JSON objects)
    examples: list[str] = field(default_factory=list)  # the first EXAMPLES of them, each with its index and why

    @property
    def skipped(self) -> bool:
        return self.warning is None and self.parsed == 0

    @property
    def warned(self) -> bool:
        return self.warning is not None or self.malformed > 0

    def refuse(self, index: int, why: str) -> None:
        self.malformed += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"Records[{index}]: {why}")


@dataclass
class ScanStats:
    files_listed: int = 0
    files_read: int = 0
    files_skipped: int = 0     # read, but without the pattern's literals: never parsed
    files_cached: int = 0      # answered from the Parquet cache: not read at all
    files_unreadable: int = 0  # counted; the first few named in ``examples``
    records_read: int = 0
    records_skipped: int = 0   # in files read, never parsed
    records_cached: int = 0
    records_malformed: int = 0  # parsed, but not JSON objects: counted; the first few named in ``examples``
    records_matched: int = 0
    bytes_read: int = 0
    examples: list[str] = field(default_factory=list)  # "<key>: <why>" of the first EXAMPLES files and records

    def add(self, result: FileResult) -> None:
        if result.warning:
            self.files_unreadable += 1
            self._example(f"{result.log.key}: {result.warning}")
            return
        self.files_read += 1
        self.files_skipped += result.skipped
        self.records_read += result.records
        self.records_skipped += result.records - result.parsed
        self.records_malformed += result.malformed
        for why in result.examples:
            self._example(f"{result.log.key}: {why}")
        self.bytes_read += result.log.size

    def _example(self, text: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append(text)

    @property
    def warned(self) -> bool:
        """Whether some evidence could not be read: an evidence gap, never a silent hole."""
        return self.files_unreadable > 0 or self.records_malformed > 0

    def counts(self) -> str:
        """``2 unreadable files and 1 malformed record``: what ``examples`` begins to name."""
        return " and ".join(plural(n, what) for n, what in
                            ((self.files_unreadable, "unreadable file"), (self.records_malformed, "malformed record"))
                            if n)

    @property
    def unnamed(self) -> int:
        """Unreadable files and malformed records beyond ``examples``."""
        return self.files_unreadable + self.records_malformed - len(self.examples)

    def warning(self) -> str:
        """The unreadable files and records as one line (a gap's message): counts, then the first few."""
        more = f"; and {self.unnamed:,} more" if self.unnamed else ""
        return f"{self.counts()} skipped: " + "; ".join(self.examples) + more

    def line(self) -> str:
        return (f"{self.files_read:,} files read ({self.files_skipped:,} skipped unparsed), "
                f"{self.files_cached:,} from cache, {self.files_unreadable:,} unreadable; "
                f"{self.records_read:,} records read ({self.records_skipped:,} skipped unparsed, "
                f"{self.records_malformed:,} malformed), {self.records_matched:,} matched")


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
        """A file framed as a log file without the pattern's literals is skipped, its records counted
        by their ``eventVersion`` keys (every CloudTrail record has one, whatever the key order);
        with them, only the records around each hit are parsed when each slice from one MARK to the
        next is one record (CloudTrail's own order); else, and for a file not framed so, every record."""
        if not self.clauses or not HEAD.match(raw, 0, 64) or not raw[-64:].rstrip().endswith(TAIL):
            return self._parse_all(raw, result)
        result.records = raw.count(KEY)
        hits = _hits(raw, self.clauses)
        if not hits:
            return result
        records = _around(raw, hits)
        if records is None:
            return self._parse_all(raw, result)
        result.parsed = len(records)
        return self._match(records, result)

    def _parse_all(self, raw: bytes, result: FileResult) -> FileResult:
        try:
            records = _records(raw)
        except ValueError as exc:
            result.warning = str(exc)
            return result
        result.records = result.parsed = len(records)
        return self._match(enumerate(records), result)

    def _match(self, records: Iterable[tuple[int, object]], result: FileResult) -> FileResult:
        """The records (with their index in ``Records``) the pattern matches; a record that is not a
        JSON object is no CloudTrail record at all: skipped, counted, and named among the first few.
        A match is kept only if it nests at most ``MAX_DEPTH`` levels: the evidence's writers (the
        cache's, JSON's, Parquet's) recurse, and a record they cannot write is no evidence."""
        matches = self.pattern.matches
        for index, record in records:
            if type(record) is not dict:
                result.refuse(index, record.why if isinstance(record, Unreadable) else
                              f"not a JSON object ({type(record).__name__})")
            elif matches(record):
                if _nests_deeper(record, MAX_DEPTH):
                    result.refuse(index, f"nested deeper than {MAX_DEPTH} levels")
                else:
                    result.matches.append(record)
        return result


@dataclass(frozen=True)
class Unreadable:
    """A record orjson refuses even alone: in place of the record, why."""

    why: str


def _records(raw: bytes | bytearray) -> list[object]:
    """The file's records, parsed in one go by orjson, which never recurses in Python and refuses
    nesting beyond 1,024 levels. What it refuses is read again with invalid UTF-8 and lone surrogate
    escapes (``\\ud800``: JSON, but no character) replaced by U+FFFD, so no record carries text
    that UTF-8 writers (the cache, Parquet) cannot hold; what it still refuses is parsed record by
    record, so that one record (ten thousand levels deep, an infinite number) costs itself only.
    ValueError: why the file is no CloudTrail log file."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as strict:
        repaired = _repaired(raw)
        try:
            document = orjson.loads(repaired)
        except orjson.JSONDecodeError:
            return _one_by_one(repaired, strict)
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        raise ValueError("not a CloudTrail log file (no Records list)")
    return records


# a \u escape of a surrogate that is not half of a pair, after an even run of backslashes (an odd one
# would make the backslash itself the escaped character)
_LONE_SURROGATE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u([dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                             rb"|[dD][89a-fA-F][0-9a-fA-F]{2})")
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[][{},]', re.DOTALL)  # strings, brackets, commas
_OPEN, _CLOSE, _QUOTE, _COMMA = frozenset(b"[{"), frozenset(b"]}"), ord('"'), ord(",")


def _repaired(raw: bytes | bytearray) -> bytes:
    text = raw.decode("utf-8", "replace").encode()
    return _LONE_SURROGATE.sub(lambda m: m[0] if len(m[2]) > 4 else m[1] + b"\\ufffd", text)


def _one_by_one(raw: bytes, strict: orjson.JSONDecodeError) -> list[object]:
    """The Records array's elements, each parsed alone; ValueError when the array cannot be found
    or every element parses (the damage is elsewhere in the file)."""
    elements = _elements(raw)
    if elements is None:
        raise ValueError(f"not JSON ({strict})")
    records: list[object] = []
    for element in elements:
        try:
            records.append(orjson.loads(element))
        except orjson.JSONDecodeError as exc:
            records.append(Unreadable(f"unreadable JSON ({exc})"))
    if not any(isinstance(r, Unreadable) for r in records):
        raise ValueError(f"not JSON ({strict})")
    return records


def _elements(raw: bytes) -> list[bytes] | None:
    """The bytes of each element of the top-level ``Records`` array, found by the brackets and commas
    outside strings, without parsing (and so without any limit on depth); None when the file has no
    such array or its brackets do not close."""
    depth, elements, start, key = 0, [], -1, False
    for token in _TOKEN.finditer(raw):
        at = token.start()
        char = raw[at]
        if char == _QUOTE:
            key = depth == 1 and token[0] == b'"Records"'
            continue
        if char in _OPEN:
            if depth == 1 and key and char == ord("[") and start == -1:
                start = token.end()
            depth += 1
        elif char in _CLOSE:
            depth -= 1
            if depth == 1 and start >= 0:
                if raw[start:at].strip() or elements:
                    elements.append(raw[start:at])
                start = -2  # the array is done: a second one is not looked for
            if depth < 0:
                return None
        elif char == _COMMA and depth == 2 and start >= 0:
            elements.append(raw[start:at])
            start = token.end()
        key = False
    return elements if depth == 0 and start == -2 else None


def _nests_deeper(value: object, limit: int) -> bool:
    """Whether ``value`` holds containers more than ``limit`` deep (itself counted), found without
    recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _hits(raw: bytes, clauses: list[Clause]) -> list[int]:
    """Where one clause's literals occur (every record that can match holds one), or [] when some
    clause has none in the file. One search per literal: each pass over the bytes costs about a
    third of decompressing them."""
    if len(clauses) > 1 and not satisfied(clauses[1:], raw):
        return []
    hits = []
    for literal in clauses[0]:
        at = raw.find(literal)
        while at >= 0:
            hits.append(at)
            at = raw.find(literal, at + 1)
    return sorted(hits)


def _around(raw: bytes, hits: list[int]) -> list[tuple[int, dict]] | None:
    """The records holding ``hits``, each parsed alone, with their index in the file; None when a
    slice is not exactly one record (the caller then parses the whole file)."""
    records: list[tuple[int, dict]] = []
    done_until, index, counted_to = -1, 0, 0
    for at in hits:
        if at < done_until:
            continue
        start = raw.rfind(MARK, 0, at)
        following = raw.find(MARK, at)
        end = following if following >= 0 else len(raw)
        if start < 0:
            return None
        index += raw.count(KEY, counted_to, start)  # each record before holds one, wherever it holds it
        counted_to = start
        piece = raw[start:end].rstrip()
        piece = piece[:-1] if following >= 0 and piece.endswith(b",") else _unwrap_last(piece)
        try:
            record = orjson.loads(piece)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(record, dict):
            return None
        records.append((index, record))
        done_until = end
    return records


def _unwrap_last(piece: bytes) -> bytes:
    """The last record is followed by the ``]}`` closing the file."""
    piece = piece.removesuffix(b"}").rstrip()
    return piece.removesuffix(b"]").rstrip()


@dataclass(frozen=True)
class Job:
    """What every file of one scan is searched for, and the most a file may inflate to: plain
    values, sent to each scanning process."""

    pattern: str
    max_inflated: int = MAX_INFLATED


def scan_file(log: LogFile, data: bytes | None, error: str | None, job: Job) -> FileResult:
    """Inflate and scan one file's bytes (``error``: why they could not be read). A module-level
    function of plain values, so a process pool can run it."""
    result = FileResult(log, warning=error)
    if data is None:
        return result
    try:
        raw = inflate(data, job.max_inflated) if log.key.endswith(".gz") else data
    except ValueError as exc:
        result.warning = str(exc)
        return result
    return _matcher(job.pattern).scan(raw, result)


def inflate(data: bytes, limit: int) -> bytes | bytearray:
    """Every gzip member of ``data`` (as gzip allows), inflated at most ``STEP`` bytes at a time so
    that a file inflating beyond ``limit`` costs about ``limit`` bytes of memory, not what it would
    inflate to (a 2 MB gzip file can hold 2 GB). ValueError: why the file cannot be read."""
    out: bytes | bytearray = b""
    rest = data
    while True:
        if not rest.startswith(GZIP_MAGIC):
            raise ValueError("not gzip" if rest is data else "corrupt gzip (bytes after the last member are not gzip)")
        member = isal_zlib.decompressobj(31)  # one member, its header and CRC checked
        while not member.eof:
            try:
                piece = member.decompress(rest, min(STEP, limit + 1 - len(out)))
            except isal_zlib.error as exc:
                raise ValueError(f"corrupt gzip ({exc})") from None
            rest = member.unconsumed_tail
            if len(out) + len(piece) > limit:
                raise ValueError(f"over the {limit:,}-byte limit once inflated: not scanned")
            if not piece and not rest:
                raise ValueError("corrupt gzip (cut short before the end of a member)")
            if not out:
                out = piece
            else:
                out = out if isinstance(out, bytearray) else bytearray(out)
                out += piece
        rest = member.unused_data.lstrip(b"\0")  # gzip allows zero padding between members
        if not rest:
            return out


@lru_cache(maxsize=16)
def _matcher(pattern_text: str) -> Matcher:
    return Matcher(compile_pattern(pattern_text))


def read_bytes(archive: Archive, job: Job, log: LogFile) -> tuple[LogFile, bytes | None, str | None]:
    if log.size > job.max_inflated:  # larger than it may inflate to: never read into memory
        return log, None, f"over the {job.max_inflated:,}-byte limit ({log.size:,} bytes): not read"
    try:
        return log, archive.read(log), None
    except Exception as exc:  # noqa: BLE001 - an unreadable file is a named warning, never the end of the scan
        return log, None, f"unreadable ({failure(exc)})"


def scan_files(archive: Archive, logs: list[LogFile], job: Job, workers: int, processes: int) -> Iterator[FileResult]:
    """Results in order. Reading runs on ``workers`` threads (S3 latency), or in the scanning
    processes themselves for a local folder; inflating and searching run on ``processes`` processes
    when given (the byte searches hold the GIL), else on the threads."""
    if processes < 2:
        reads = bounded_map(partial(read_bytes, archive, job), logs, workers)
        yield from bounded_map(lambda item: scan_file(*item, job), reads, workers)
        return
    alone = threading.active_count() == 1  # forking is safe only with no other thread holding a lock
    context = multiprocessing.get_context("fork" if alone else "forkserver")
    if not alone:
        context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        pool.submit(int).result()  # every worker starts now, before any reading thread
        if isinstance(archive, LocalArchive):
            tasks: Iterable[tuple] = ((scan_local, archive.root, logs[i:i + CHUNK])
                                      for i in range(0, len(logs), CHUNK))
        else:
            reads = bounded_map(partial(read_bytes, archive, job), logs, workers)
            tasks = ((scan_read, chunk) for chunk in iter(lambda: list(itertools.islice(reads, CHUNK)), []))
        pending: deque = deque()
        for fn, *args in tasks:
            pending.append(pool.submit(fn, *args, job))
            if len(pending) >= 2 * processes:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def scan_local(root: Path, logs: list[LogFile], job: Job) -> list[FileResult]:
    source = LocalArchive(root)
    return [scan_file(*read_bytes(source, job, log), job) for log in logs]


def scan_read(items: list[tuple[LogFile, bytes | None, str | None]], job: Job) -> list[FileResult]:
    return [scan_file(*item, job) for item in items]


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


def default_processes(files: int) -> int:
    """Processes pay off from a few hundred files (each costs ~0.3 s to start); below, threads."""
    return min(8, os.cpu_count() or 1) if files >= PROCESS_THRESHOLD else 0


def in_window(event: dict, start: datetime, end: datetime) -> bool:
    try:
        when = datetime.fromisoformat(str(event.get("eventTime", "")))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return start <= when < end
