"""A credential helper that fails may print the very keys it was refused (issue 15, item 9): reading an
archive in S3 never shows its output, on stderr or in a run's gaps."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from botocore.exceptions import CredentialRetrievalError

from rootwatch.logarchive import S3Archive, scan
from rootwatch.logarchive.sources import LogFile
from rootwatch.cli import main
from tests.logarchive.test_scan import END, ROOT, START

SECRET = "RwArchiveCanarySecretKey0123456789abcdef"
REFUSED = f"session expired, refused: AKIARWARCHIVECANARY1 {SECRET}"
# answers once (rootwatch events loads the credentials before anything else), then fails as a lapsed
# session does, printing the keys it was refused; the keys expire within botocore's refresh margin,
# so the first request asks again
HELPER = """\
import datetime, json, pathlib, sys
state = pathlib.Path(sys.argv[1])
calls = int(state.read_text()) + 1 if state.exists() else 1
state.write_text(str(calls))
if calls > 1:
    sys.exit(REFUSED)
expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)
print(json.dumps({"Version": 1, "AccessKeyId": "AKIARWARCHIVECANARY1", "SecretAccessKey": SECRET,
                  "Expiration": expires.isoformat()}))
"""


class _Refusing:
    """An S3 client whose credential provider has just failed with the keys in its output."""

    def get_paginator(self, name: str) -> _Refusing:
        return self

    def paginate(self, **params: str) -> list:
        raise CredentialRetrievalError(provider="custom-process", error_msg=REFUSED)

    def get_object(self, **params: str) -> dict:
        raise CredentialRetrievalError(provider="custom-process", error_msg=REFUSED)


def test_events_with_a_lapsing_credential_process_says_so_without_its_output(tmp_path, monkeypatch, capsys):
    helper = tmp_path / "helper.py"
    helper.write_text(HELPER.replace("REFUSED", repr(REFUSED)).replace("SECRET", repr(SECRET)))
    (tmp_path / "config").write_text(f"[profile lapsing]\nregion = us-east-1\n"
                                     f"credential_process = {sys.executable} {helper} {tmp_path / 'calls'}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: signing fails first
    code = main(["events", "--archive", "s3://trail-bucket/org", "--profile", "lapsing", "--control", "4.3",
                 "--out", str(tmp_path / "root.parquet"), "--no-cache"])
    captured = capsys.readouterr()
    assert (tmp_path / "calls").read_text() == "2"  # the helper did fail, after answering once
    assert code == 2 and captured.err.count("\n") == 1, captured.err
    assert "custom-process failed (its output is not shown" in captured.err
    assert SECRET not in captured.err + captured.out and "AKIARWARCHIVECANARY1" not in captured.err


def test_a_file_that_cannot_be_read_for_lack_of_credentials_is_named_without_the_helper_output():
    archive = S3Archive(_Refusing(), "trail-bucket")
    log = LogFile("AWSLogs/111111111111/CloudTrail/us-east-1/2026/09/01/a.json.gz", 100, "etag", "111111111111",
                  "us-east-1", datetime(2026, 9, 1, tzinfo=UTC).date())
    archive.files = lambda start, end: [log]  # listed earlier, while the credentials still worked
    stats = scan(archive, ROOT, START, END, processes=0).stats
    assert stats.examples == [f"{log.key}: unreadable (CredentialRetrievalError: custom-process failed (its output "
                              "is not shown: it may hold secrets))"]
    assert SECRET not in stats.warning()


def test_an_archive_run_keeps_no_helper_output_in_its_gaps(window, catalog):
    """With ``event_source: archive`` a bucket that cannot be listed is a gap of the bundle: it names
    the provider, never what the provider printed."""
    from rootwatch.collect.chain import AccountEvidence, _archive_events
    from rootwatch.collect.evidence import Recorder

    rec = Recorder(type("Clients", (), {"get": lambda self, service, region: _Refusing()})(), "111111111111")
    ev = AccountEvidence("lapsing", "111111111111", None, ["us-east-1"], window,
                         trails=[{"S3BucketName": "trail-bucket", "HomeRegion": "us-east-1"}])
    _archive_events(rec, ev, catalog.control("4.3"), window)
    [gap] = rec.gaps
    assert gap.error_code == "ArchiveUnreadable" and "custom-process failed (its output is not shown" in gap.message
    assert SECRET not in repr(rec.gaps) + repr(ev.archive_scans)
