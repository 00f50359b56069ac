"""The bundle manifest: every file of the bundle with its SHA-256 and size, and nothing else.

``manifest.json`` is what the signatures sign; ``SHA256SUMS`` (listed in the manifest) lets an
auditor check the files with ``sha256sum -c`` alone. Neither lists itself nor ``signatures/``.

``check`` is the other half: the bundle on disk holds exactly the listed files, each a regular file.
The walk follows no link and opens nothing but regular files, so a symlink, FIFO, socket, device or
empty directory is named, never read: a FIFO would block, a link would vouch for a file outside the
bundle. A manifest that is not one rootwatch writes (wrong types, a path outside the bundle, a path
listed twice) is a ``ManifestError``, one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from rootwatch.jsonschemas import jsonschema


FORMAT = "rootwatch-manifest/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURES = "signatures"
INCOMPLETE = "INCOMPLETE"
MANIFEST_LIMIT = 64 << 20  # bytes; a bundle of 100,000 files has a manifest of about 15 MB

SCHEMA = {
    "type": "object",
    "required": ["format", "run_id", "created", "rootwatch", "files"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "run_id": {"type": "string"},
        "created": {"type": "string"},
        "rootwatch": {"type": "string"},
        "files": {"type": "array", "items": {
            "type": "object",
            "required": ["path", "sha256", "size"],
            "additionalProperties": False,
            "properties": {"path": {"type": "string"},
                           "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "maxLength": 64},
                           "size": {"type": "integer", "minimum": 0}}}},
    },
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# names sha256sum would escape and a terminal would act on: never in a name rootwatch writes
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class ManifestError(ValueError):
    """manifest.json is not a manifest rootwatch writes; the message says where, on one line."""


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    run_id: str
    created: str
    files: tuple[Entry, ...]


def sha256(path: Path) -> str:
    with open_regular(path) as handle:
        return _digest(handle)


def _digest(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file: a link is not followed, a FIFO not waited
    on (``OSError`` otherwise)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path} is not a regular file")
    return os.fdopen(fd, "rb")


def read_regular(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most ``limit`` of them (``ValueError`` beyond: hostile sizes cost nothing)."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit:,} bytes")
    return data


@dataclass(frozen=True)
class Odd:
    """An entry of the bundle that is neither a regular file nor a directory holding something."""

    path: str
    what: str


@dataclass(frozen=True)
class Inventory:
    files: frozenset[str]  # relative POSIX paths of every regular file
    odd: tuple[Odd, ...]


_KINDS = ((stat.S_ISLNK, "symlink"), (stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
          (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"))


def walk(root: Path) -> Inventory:
    """Every entry under ``root``, found without following a link (``lstat``), iteratively: no
    recursion limit for a hostile depth."""
    files: set[str] = set()
    odd: list[Odd] = []
    pending = [""]
    while pending:
        rel = pending.pop()
        try:
            with os.scandir(root / rel) as listing:
                entries = list(listing)
        except OSError as exc:
            odd.append(Odd(rel, f"unreadable directory ({exc.strerror})"))
            continue
        if rel and not entries:
            odd.append(Odd(rel, "empty directory"))
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                odd.append(Odd(path, f"unreadable ({exc.strerror})"))
                continue
            if stat.S_ISDIR(mode):
                pending.append(path)
            elif stat.S_ISREG(mode):
                files.add(path)
            else:
                odd.append(Odd(path, next((what for test, what in _KINDS if test(mode)), "special file")))
    return Inventory(frozenset(files), tuple(sorted(odd, key=lambda o: o.path)))


def bundle_files(root: Path) -> list[str]:
    """Paths (POSIX, relative) of every file the manifest covers."""
    return sorted(rel for rel in walk(root).files if rel != MANIFEST and not rel.startswith(f"{SIGNATURES}/"))


def sums_text(entries: list[tuple[str, str]]) -> str:
    """SHA256SUMS for ``(path, sha256)`` pairs, as ``sha256sum`` writes and ``sha256sum -c`` reads it."""
    return "".join(f"{digest}  {rel}\n" for rel, digest in entries)


def write(root: Path, run_id: str, created: str, version: str) -> Path:
    """Write SHA256SUMS, then manifest.json over every file (SHA256SUMS included)."""
    (root / SUMS).write_text(sums_text([(rel, sha256(root / rel)) for rel in bundle_files(root) if rel != SUMS]),
                             encoding="utf-8")
    files = [{"path": rel, "sha256": sha256(root / rel), "size": (root / rel).stat().st_size}
             for rel in bundle_files(root)]
    manifest = {"format": FORMAT, "run_id": run_id, "created": created, "rootwatch": version, "files": files}
    path = root / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose key repeats means two things at once (JSON parsers keep either): refused."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ManifestError(f"key {next(k for k in keys if keys.count(k) > 1)!r} appears twice in one object")
    return dict(pairs)


def parse(raw: bytes) -> Manifest:
    """The manifest in ``raw``, checked against ``SCHEMA`` and ``path_problem``."""
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys)
    except ManifestError:
        raise
    except (ValueError, RecursionError) as exc:
        raise ManifestError(f"not JSON ({type(exc).__name__}: {exc})") from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the top level"
        raise ManifestError(f"{where}: {error.message}")
    files = tuple(Entry(f["path"], f["sha256"], f["size"]) for f in data["files"])
    seen: set[str] = set()
    for entry in files:
        problem = path_problem(entry.path) or ("is listed twice" if entry.path in seen else None)
        if problem:
            raise ManifestError(f"path {entry.path!r} {problem}")
        seen.add(entry.path)
    return Manifest(data["run_id"], data["created"], files)


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a file of a bundle: only relative, normalised POSIX paths inside it,
    in names ``sha256sum`` and a terminal show as they are, and never what the manifest cannot cover."""
    parts = path.split("/")
    if _UNSHOWABLE.search(path):
        return "holds a control character or an unpaired surrogate"
    if path.startswith("/"):
        return "is absolute"
    if "\\" in path:
        return "holds a backslash"
    if any(part in ("", ".", "..") for part in parts):
        return "is not a normalised path inside the bundle (an empty, '.' or '..' part)"
    if path == MANIFEST or parts[0] == SIGNATURES:
        return f"is {MANIFEST} or under {SIGNATURES}/, which the manifest never lists"
    return None


@dataclass
class Check:
    missing: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    odd: list[Odd] = field(default_factory=list)
    sums: str = ""  # why SHA256SUMS is not the manifest's list, when it is not

    @property
    def ok(self) -> bool:
        return not (self.missing or self.modified or self.extra or self.odd or self.sums)


def check(root: Path, manifest: Manifest | None, inventory: Inventory, besides: frozenset[str]) -> Check:
    """Re-hash every listed file; name the missing, modified and unlisted ones and every entry that is
    not a regular file. ``besides``: the unlisted files a bundle holds (manifest.json, signatures).
    Without a manifest (it is malformed) only the entries that may never be in a bundle are named."""
    result = Check(odd=list(inventory.odd))
    if manifest is None:
        return result
    odd = {o.path for o in inventory.odd}
    for entry in manifest.files:
        if entry.path not in inventory.files:
            if entry.path not in odd:
                result.missing.append(entry.path)
        elif not _matches(root / entry.path, entry):
            result.modified.append(entry.path)
    result.extra = sorted(inventory.files - {e.path for e in manifest.files} - besides)
    if not (result.missing or result.modified):
        result.sums = _sums_problem(root, manifest)
    return result


def _matches(path: Path, entry: Entry) -> bool:
    try:
        with open_regular(path) as handle:
            return os.fstat(handle.fileno()).st_size == entry.size and _digest(handle) == entry.sha256
    except OSError:
        return False


def _sums_problem(root: Path, manifest: Manifest) -> str:
    """SHA256SUMS must be exactly the manifest's list (but itself): an auditor checking by hand reads it."""
    if SUMS not in {e.path for e in manifest.files}:
        return f"{SUMS} is not listed in the manifest"
    expected = sums_text([(e.path, e.sha256) for e in manifest.files if e.path != SUMS]).encode()
    try:
        actual = read_regular(root / SUMS, len(expected))
    except (OSError, ValueError):
        actual = b""
    return "" if actual == expected else f"{SUMS} does not list exactly the files of the manifest, as signed"
