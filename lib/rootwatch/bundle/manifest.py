"""The bundle manifest: every file of the bundle with its SHA-256 and size, and nothing else.

``manifest.json`` is what the signatures sign; ``SHA256SUMS`` (listed in the manifest) lets an
auditor check the files with ``sha256sum -c`` alone. Neither lists itself nor ``signatures/``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "rootwatch-manifest/1"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SIGNATURES = "signatures"
INCOMPLETE = "INCOMPLETE"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_files(root: Path) -> list[str]:
    """Paths (POSIX, relative) of every file the manifest covers."""
    out = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith(f"{SIGNATURES}/"):
            out.append(rel)
    return sorted(out)


def write(root: Path, run_id: str, created: str, version: str) -> Path:
    """Write SHA256SUMS, then manifest.json over every file (SHA256SUMS included)."""
    entries = [(rel, sha256(root / rel)) for rel in bundle_files(root) if rel != SUMS]
    (root / SUMS).write_text("".join(f"{digest}  {rel}\n" for rel, digest in entries), encoding="utf-8")
    files = [{"path": rel, "sha256": sha256(root / rel), "size": (root / rel).stat().st_size}
             for rel in bundle_files(root)]
    manifest = {"format": FORMAT, "run_id": run_id, "created": created, "rootwatch": version, "files": files}
    path = root / MANIFEST
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


@dataclass
class Check:
    missing: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.modified or self.extra)


def check(root: Path, manifest: dict) -> Check:
    """Re-hash every listed file; name the missing, modified and unlisted ones."""
    result = Check()
    listed = {f["path"]: f for f in manifest.get("files", [])}
    for rel, entry in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            result.missing.append(rel)
        elif path.stat().st_size != entry["size"] or sha256(path) != entry["sha256"]:
            result.modified.append(rel)
    result.extra = [rel for rel in bundle_files(root) if rel not in listed]
    return result
