"""Where CloudTrail log files live: a local copy or the trail's S3 bucket, in CloudTrail's layout.

``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`` (an organization trail adds
``<org id>/`` after ``AWSLogs/``). The day folders are what make a window cheap: only the days of
the window are listed, never the whole archive. A file is filed under the day it was delivered,
which is at or after its events, so the day after the window is listed too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from rootwatch.errors import ArchiveError, botocore_message

ACCOUNT = re.compile(r"^\d{12}$")
ORG = re.compile(r"^o-[a-z0-9]{10,32}$")
SUFFIXES = (".json.gz", ".json")
NO_TRAILS = "pass the folder (or bucket and prefix) that holds AWSLogs/<account>/CloudTrail/<region>/"


@dataclass(frozen=True)
class LogFile:
    """One log file; ``version`` (mtime or ETag) tells the cache whether it changed."""

    key: str
    size: int
    version: str
    account_id: str
    region: str
    day: date


class Archive(Protocol):
    label: str
    workers: int  # reading threads that pay off: the cores for a disk, many for S3's latency

    def files(self, start: datetime, end: datetime) -> list[LogFile]: ...

    def read(self, log: LogFile) -> bytes: ...


def days(start: datetime, end: datetime) -> list[date]:
    """The delivery days to list for events in [start, end)."""
    first, last = start.date(), (end + timedelta(days=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class _Trail:
    """One account's CloudTrail folder for one region."""

    account_id: str
    region: str
    prefix: str  # ends with "/"


class LocalArchive:
    """A directory holding ``AWSLogs/`` (or a folder inside it), e.g. an ``aws s3 sync`` copy."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.workers = min(8, os.cpu_count() or 1)
        if not self.root.is_dir():
            raise ArchiveError(f"archive directory {self.root} does not exist",
                               "pass a folder holding AWSLogs/<account>/CloudTrail/... or s3://BUCKET/PREFIX")
        self.label = str(self.root)

    def files(self, start: datetime, end: datetime) -> list[LogFile]:
        out = []
        for trail in self._trails():
            for day in days(start, end):
                folder = self.root / trail.prefix / f"{day:%Y/%m/%d}"
                if not folder.is_dir():
                    continue
                for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                    if entry.is_file() and entry.name.endswith(SUFFIXES):
                        stat = entry.stat()
                        out.append(LogFile(f"{trail.prefix}{day:%Y/%m/%d}/{entry.name}", stat.st_size,
                                           str(stat.st_mtime_ns), trail.account_id, trail.region, day))
        return out

    def read(self, log: LogFile) -> bytes:
        return (self.root / log.key).read_bytes()

    def _trails(self) -> list[_Trail]:
        trails = [_Trail(acct.name, region.name, f"{region.relative_to(self.root).as_posix()}/")
                  for acct in _account_dirs(self.root, depth=3)
                  for region in sorted((acct / "CloudTrail").iterdir()) if region.is_dir()]
        if not trails:
            raise ArchiveError(f"no CloudTrail log folders under {self.label}", NO_TRAILS)
        return trails


def _account_dirs(folder: Path, depth: int) -> Iterator[Path]:
    """Account folders (those holding ``CloudTrail/``) at most ``depth`` levels down."""
    if ACCOUNT.match(folder.name) and (folder / "CloudTrail").is_dir():
        yield folder
    elif depth > 0:
        for child in sorted(folder.iterdir()):
            if child.is_dir() and (child.name == "AWSLogs" or ACCOUNT.match(child.name) or ORG.match(child.name)):
                yield from _account_dirs(child, depth - 1)


class S3Archive:
    """A trail's bucket (and key prefix). Listing and downloads run on a pool of threads: S3 answers
    each request in tens of milliseconds, so throughput comes from having many in flight."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", workers: int = 16) -> None:
        self.client, self.bucket, self.workers = client, bucket, workers
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self.label = f"s3://{bucket}/{self.prefix}"

    def files(self, start: datetime, end: datetime) -> list[LogFile]:
        folders = [(t, day) for t in self._trails() for day in days(start, end)]
        with ThreadPoolExecutor(self.workers) as pool:
            listed = pool.map(lambda td: self._day(*td), folders)
            return [f for chunk in listed for f in chunk]

    def read(self, log: LogFile) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=log.key)["Body"].read()

    def _day(self, trail: _Trail, day: date) -> list[LogFile]:
        prefix = f"{trail.prefix}{day:%Y/%m/%d}/"
        return [LogFile(o["Key"], o["Size"], o["ETag"], trail.account_id, trail.region, day)
                for page in self._pages(Prefix=prefix) for o in page.get("Contents", [])
                if o["Key"].endswith(SUFFIXES)]

    def _trails(self) -> list[_Trail]:
        trails = []
        for account_prefix in self._accounts(f"{self.prefix}AWSLogs/", depth=2):
            account_id = account_prefix.rstrip("/").rsplit("/", 1)[-1]
            for region in self._children(f"{account_prefix}CloudTrail/"):
                trails.append(_Trail(account_id, region.rstrip("/").rsplit("/", 1)[-1], region))
        if not trails:
            raise ArchiveError(f"no CloudTrail log folders under {self.label}", NO_TRAILS)
        return trails

    def _accounts(self, prefix: str, depth: int) -> Iterator[str]:
        for child in self._children(prefix):
            name = child.rstrip("/").rsplit("/", 1)[-1]
            if ACCOUNT.match(name):
                yield child
            elif ORG.match(name) and depth > 1:
                yield from self._accounts(child, depth - 1)

    def _children(self, prefix: str) -> list[str]:
        return [p["Prefix"] for page in self._pages(Prefix=prefix, Delimiter="/")
                for p in page.get("CommonPrefixes", [])]

    def _pages(self, **params: str) -> Iterator[dict]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield from self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, **params)
        except ClientError as exc:
            raise ArchiveError(f"cannot list {self.label}: {exc}",
                               "check the bucket name and s3:ListBucket permission") from None
        except BotoCoreError as exc:
            raise ArchiveError(f"cannot list {self.label}: {failure(exc)}",
                               "check the AWS credentials (run a credential_process yourself to see its error) "
                               "and the network") from None


def failure(exc: Exception) -> str:
    """What went wrong reading an archive, fit to print and to keep in a bundle: botocore's words,
    except the output of a credential provider, which may hold the very keys it handles."""
    from botocore.exceptions import BotoCoreError

    return f"{type(exc).__name__}: {botocore_message(exc) if isinstance(exc, BotoCoreError) else exc}"


def open_archive(location: str, session: Any = None, endpoint_url: str | None = None) -> Archive:
    """``s3://BUCKET/PREFIX`` (read with ``session``, a boto3 session) or a local directory."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[5:].partition("/")
        if not bucket or session is None:
            raise ArchiveError(f"{location!r} names no bucket" if not bucket else f"no AWS session to read {location}",
                               "write s3://BUCKET/PREFIX, with AWS credentials for it")
        return S3Archive(session.client("s3", endpoint_url=endpoint_url), bucket, prefix)
    return LocalArchive(location)
