"""The scan over a window: the trail's log files listed, grouped by account, region and delivery day,
each day read from the Parquet cache when a complete earlier scan stored it, the rest scanned on
the bounded pool, and the matches inside the window returned in event order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rootwatch.logarchive.cache import ParquetCache
from rootwatch.logarchive.scan import (MAX_INFLATED, ArchiveScan, FileResult, Job, Match, ScanStats, default_processes,
                                        in_window, scan_files)
from rootwatch.logarchive.sources import Archive, LogFile
from rootwatch.patterns import FilterPattern

Day = tuple[str, str, object]  # account, region, delivery day


def scan(archive: Archive, pattern: FilterPattern, start: datetime, end: datetime, cache: str | Path | None = None,
         workers: int | None = None, processes: int | None = None,
         progress: Callable[[int, int], None] | None = None, max_inflated: int = MAX_INFLATED) -> ArchiveScan:
    """Every event in [start, end) the pattern matches, with what was read, skipped and matched.
    ``workers``: reading threads; ``processes``: scanning processes (default: by the file count);
    ``max_inflated``: the bytes one log file may inflate to (a file over it is named and skipped)."""
    files = archive.files(start, end)
    days: dict[Day, list[LogFile]] = defaultdict(list)
    for log in files:
        days[(log.account_id, log.region, log.day)].append(log)
    store = ParquetCache(Path(cache).expanduser(), pattern.canonical) if cache else None
    stats, found = ScanStats(files_listed=len(files)), []
    todo: list[LogFile] = []
    for group in days.values():
        hit = store.load(group) if store else None
        if hit is None:
            todo += group
            continue
        stats.files_cached += len(group)
        stats.records_cached += hit.records
        found += hit.matches
    per_day: dict[Day, list[FileResult]] = defaultdict(list)
    results = scan_files(archive, todo, Job(pattern.text, max_inflated), workers or archive.workers,
                         default_processes(len(todo)) if processes is None else processes)
    for done, result in enumerate(results, 1):
        stats.add(result)
        found += [(e, result.log.key) for e in result.matches]
        day = (result.log.account_id, result.log.region, result.log.day)
        per_day[day].append(result)
        if len(per_day[day]) == len(days[day]):
            results = per_day.pop(day)
            if store and not any(r.warned for r in results):  # a day with a warning is read (and named) again
                store.store(days[day], [(e, r.log.key) for r in results for e in r.matches],
                            sum(r.records for r in results))
        if progress:
            progress(done, len(todo))
    matches = sorted((Match(e, f) for e, f in found if in_window(e, start, end)),
                     key=lambda m: (str(m.event.get("eventTime")), str(m.event.get("eventID"))))
    stats.records_matched = len(matches)
    return ArchiveScan(archive.label, pattern.text, start, end, matches, stats)
