"""Matches of one day's log files, kept as Parquet so a rerun reads only what changed.

The unit is a delivery day of one account and region: a past day's files never change, so a
quarterly rerun scans only the newest days. The key covers the pattern's canonical text, the
files' names, sizes and versions (mtime or ETag) and rootwatch's version: any change is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from rootwatch import __version__
from rootwatch.logarchive.sources import LogFile


@dataclass(frozen=True)
class CachedDay:
    matches: list[tuple[dict, str]]  # (event, log file)
    records: int


class ParquetCache:
    def __init__(self, folder: str | Path, canonical_pattern: str) -> None:
        self.folder = Path(folder)
        self.pattern = canonical_pattern

    def load(self, files: list[LogFile]) -> CachedDay | None:
        path = self._path(files)
        if not path.is_file():
            return None
        table = pq.read_table(path)
        records = int(table.schema.metadata[b"rootwatch.records"])
        return CachedDay([(orjson.loads(e), f) for e, f in zip(table.column("event").to_pylist(),
                                                                table.column("log_file").to_pylist())], records)

    def store(self, files: list[LogFile], matches: list[tuple[dict, str]], records: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        table = pa.table({"event": pa.array([orjson.dumps(e).decode() for e, _ in matches], pa.string()),
                          "log_file": pa.array([f for _, f in matches], pa.string())},
                         metadata={"rootwatch.records": str(records), "rootwatch.pattern": self.pattern})
        path = self._path(files)
        partial = path.with_suffix(".partial")
        pq.write_table(table, partial)
        os.replace(partial, path)  # a crash leaves no half-written entry

    def _path(self, files: list[LogFile]) -> Path:
        key = json.dumps([__version__, self.pattern, [(f.key, f.size, f.version) for f in files]])
        return self.folder / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.parquet"
