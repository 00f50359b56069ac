"""Optional retention: upload the finished bundle (one zip, plus its manifest) to S3 under
Object Lock, so neither can be changed or deleted before the retention date."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rootwatch.bundle.manifest import MANIFEST
from rootwatch.errors import RootwatchError


def zip_bundle(bundle: Path) -> bytes:
    """The bundle's regular files only: a symlink in it (which `rootwatch verify` refuses) would
    otherwise put whatever it points to into the retained copy."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(bundle.rglob("*")):
            if stat.S_ISREG(path.lstat().st_mode):
                archive.write(path, f"{bundle.name}/{path.relative_to(bundle).as_posix()}")
    return buffer.getvalue()


def upload(bundle: Path, s3: Any, bucket: str, prefix: str, mode: str, days: int) -> list[str]:
    """Put ``<prefix>/<run-id>.zip`` and ``<prefix>/<run-id>.manifest.json`` with Object Lock retention;
    returns the object keys. Raises ``RootwatchError`` when the bucket cannot take locked objects."""
    from botocore.exceptions import ClientError

    until = datetime.now(UTC) + timedelta(days=days)
    keys = []
    for suffix, body in ((".zip", zip_bundle(bundle)), (".manifest.json", (bundle / MANIFEST).read_bytes())):
        key = f"{prefix}/{bundle.name}{suffix}".lstrip("/")
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body, ObjectLockMode=mode, ObjectLockRetainUntilDate=until,
                          ChecksumAlgorithm="SHA256")  # Object Lock requires an integrity checksum
        except ClientError as exc:
            err = exc.response.get("Error", {})
            raise RootwatchError(f"archive upload to s3://{bucket}/{key} failed: {err.get('Code')}: "
                                 f"{err.get('Message')}", "the bundle is complete locally; check that the bucket "
                                 "has Object Lock enabled and that you may s3:PutObject and s3:PutObjectRetention") \
                from None
        keys.append(key)
    return keys

