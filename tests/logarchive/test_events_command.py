"""`rootwatch events`: the shell's way to root activity in an archive, with counts it can trust."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq

from rootwatch.cli import main
from rootwatch.frames.arrow import ARCHIVE_EVENTS, archive_rows, write_parquet
from rootwatch.frames.tables import archive_matches
from rootwatch.logarchive.scan import ArchiveScan, Match, ScanStats
from rootwatch.sandbox import events as ev
from tests.logarchive.test_scan import DAY, END, START, _event, _file, damaged_archive

ACCOUNT = "111111111111"


def _archive(tmp_path, sandbox):
    for key, body in ev.log_files(ACCOUNT, sandbox.state.records[ACCOUNT]):
        path = tmp_path / "archive" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return tmp_path / "archive"


def test_events_writes_matches_and_prints_counts(tmp_path, sandbox, catalog, capsys):
    archive, out = _archive(tmp_path, sandbox), tmp_path / "root.parquet"
    args = ["events", "--archive", str(archive), "--control", "4.3", "--start", "2026-07-04", "--end", "2026-10-01",
            "--out", str(out), "--cache", str(tmp_path / "cache")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    df = pd.read_parquet(out)
    reference = catalog.control("4.3").reference
    expected = [r for r in sandbox.state.records[ACCOUNT] if reference.matches(r) and r["eventTime"] >= "2026-07-04"]
    assert sorted(df.event_id) == sorted(r["eventID"] for r in expected)
    assert set(df.user_type) == {"Root"}
    assert f"{len(expected)} matched -> {out}" in printed
    assert "files read" in printed and "skipped unparsed" in printed


def test_events_never_overwrites_and_says_why(tmp_path, sandbox, capsys):
    archive, out = _archive(tmp_path, sandbox), tmp_path / "root.parquet"
    out.write_bytes(b"earlier results")
    assert main(["events", "--archive", str(archive), "--control", "4.3", "--out", str(out), "--no-cache"]) == 2
    assert out.read_bytes() == b"earlier results"
    assert "already exists" in capsys.readouterr().err


def test_bad_inputs_exit_2_with_one_line(tmp_path, capsys):
    cases = [["--archive", str(tmp_path / "missing"), "--control", "4.3"],
             ["--archive", str(tmp_path), "--pattern", "{ $.a = "],
             ["--archive", str(tmp_path), "--control", "4.3", "--start", "2026-02-30"],
             ["--archive", str(tmp_path), "--control", "9.9"]]
    for case in cases:
        assert main(["events", *case, "--out", str(tmp_path / "x.parquet")]) == 2, case
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("rootwatch: "), err
    assert not (tmp_path / "x.parquet").exists()


def test_print_sql_for_athena_and_lake_comes_from_the_catalog_pattern(capsys):
    assert main(["events", "--athena", "audit.cloudtrail_logs", "--control", "4.3", "--start", "2026-07-01",
                 "--end", "2026-09-30", "--print-sql"]) == 0
    athena = capsys.readouterr().out
    assert "FROM audit.cloudtrail_logs" in athena and "eventtime >= '2026-07-01T00:00:00Z'" in athena
    assert "useridentity.type = 'Root' AND useridentity.invokedby IS NULL" in athena
    assert main(["events", "--lake", "EDS1234", "--pattern", "{ $.userAgent = \"x'; DROP TABLE t; --\" }",
                 "--print-sql"]) == 0
    lake = capsys.readouterr().out
    assert "userAgent = 'x''; DROP TABLE t; --'" in lake  # the pattern's text stays a literal


def test_print_sql_needs_a_query_service(tmp_path, capsys):
    assert main(["events", "--archive", str(tmp_path), "--control", "4.3", "--print-sql"]) == 2
    assert "--print-sql needs --athena or --lake" in capsys.readouterr().err


def test_damaged_files_and_records_are_counted_on_stderr_the_first_five_named_and_exit_3(tmp_path, capsys):
    archive, out = damaged_archive(tmp_path / "archive"), tmp_path / "root.parquet"
    assert main(["events", "--archive", str(archive), "--control", "4.3", "--start", "2026-08-01", "--end",
                 "2026-09-30", "--out", str(out), "--no-cache"]) == 3  # an evidence gap, not a failure
    printed = capsys.readouterr()
    head, *named = printed.err.splitlines()
    assert head == ("rootwatch events: skipped 7 unreadable files and 2 malformed records (an evidence gap: "
                    "exit 3); the first 5:")
    assert [line.removeprefix(f"rootwatch events:   {DAY}/").split(":")[0] for line in named] == [
        "anonymous.json.gz", "anonymous.json.gz", "bad-checksum.json.gz", "bad-second-member.json.gz",
        "corrupt.json.gz"]
    assert "anonymous.json.gz: Records[2]: not a JSON object (str)" in named[0]
    assert "7 unreadable; 6 records read (0 skipped unparsed, 2 malformed), 3 matched" in printed.out
    assert sorted(pd.read_parquet(out).event_id) == ["after", "before", "ok"]


def test_a_clean_archive_of_real_shaped_records_exits_0_with_one_summary(tmp_path, capsys):
    """Service and Insights events without ``userIdentity`` beside ordinary and root records: nothing
    is wrong, so nothing is on stderr, and the exit code says so."""
    records = [_event(eventID=str(i)) for i in range(300)]
    service = _event(eventID="service", eventType="AwsServiceEvent", eventName="RotateKey",
                     eventSource="kms.amazonaws.com", serviceEventDetails={"keyId": "Root"})
    del service["userIdentity"]
    insight = {"eventVersion": "1.08", "eventTime": "2026-09-01T11:05:00Z", "awsRegion": "us-east-1",
               "eventID": "insight", "eventType": "AwsCloudTrailInsight", "recipientAccountId": ACCOUNT,
               "insightDetails": {"state": "Start", "eventSource": "iam.amazonaws.com"}, "eventCategory": "Insight"}
    root = _event(eventID="root", eventName="ConsoleLogin",
                  userIdentity={"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"})
    _file(tmp_path / "archive", [*records[:150], service, insight, root, *records[150:]])
    out = tmp_path / "root.parquet"
    assert main(["events", "--archive", str(tmp_path / "archive"), "--control", "4.3", "--start", "2026-08-01",
                 "--end", "2026-09-30", "--out", str(out), "--no-cache"]) == 0
    printed = capsys.readouterr()
    assert printed.err == ""
    assert "0 unreadable; 303 records read (301 skipped unparsed, 0 malformed), 1 matched" in printed.out
    assert list(pd.read_parquet(out).event_id) == ["root"]


def test_a_thousand_malformed_records_print_six_lines_not_a_thousand(tmp_path, capsys):
    _file(tmp_path / "archive", [_event(eventID="root", userIdentity={"type": "Root"}), *(["Root"] * 1000)])
    assert main(["events", "--archive", str(tmp_path / "archive"), "--control", "4.3", "--start", "2026-08-01",
                 "--end", "2026-09-30", "--out", str(tmp_path / "root.parquet"), "--no-cache"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 6 and err[0].startswith("rootwatch events: skipped 1,000 malformed records")


def test_a_symlink_planted_while_the_archive_is_scanned_is_never_followed(tmp_path, monkeypatch, capsys):
    """The checks before the scan pass; the partial file is then created exclusively, never through a
    symlink that appeared meanwhile, so its target is never written."""
    import rootwatch.logarchive

    archive, out, target = damaged_archive(tmp_path / "archive", only="ok.json.gz"), tmp_path / "root.parquet", \
        tmp_path / "precious"
    target.write_bytes(b"someone else's file")
    scan = rootwatch.logarchive.scan

    def scan_then_plant(*args, **kwargs):
        (tmp_path / ".root.parquet.partial").symlink_to(target)
        return scan(*args, **kwargs)

    monkeypatch.setattr(rootwatch.logarchive, "scan", scan_then_plant)
    assert main(["events", "--archive", str(archive), "--control", "4.3", "--start", "2026-08-01", "--end",
                 "2026-09-30", "--out", str(out), "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "root.parquet.partial already exists (a symlink)" in err
    assert target.read_bytes() == b"someone else's file" and not out.exists()


def test_the_parquet_file_is_the_one_pandas_writes(tmp_path):
    """`rootwatch events` writes without pandas; an analyst reading the file gets the documented frame."""
    rows = [_event(eventID="plain", userIdentity={"type": "Root"}),
            _event(eventID="odd", userIdentity="not a map", recipientAccountId="222222222222", userAgent="lone \ud800",
                   eventTime="2026-09-01T12:00:01Z", sourceIPAddress=None),
            _event(eventID="no-time", userIdentity={"type": "Root", "invokedBy": "x"}, eventTime=None)]
    matches = [Match(e, f"{DAY}/f{i}.json.gz") for i, e in enumerate(rows)]
    result = ArchiveScan("local", "{ $.x = 1 }", START, END, matches, ScanStats())
    for name, found in (("some", result), ("none", ArchiveScan("local", "{ $.x = 1 }", START, END, [], ScanStats()))):
        with open(tmp_path / f"{name}.parquet", "wb") as handle:
            write_parquet(ARCHIVE_EVENTS, archive_rows(found), handle)
        expected = archive_matches(found)
        expected.to_parquet(tmp_path / f"{name}-pandas.parquet", index=False)
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / f"{name}.parquet"), expected)
        assert pq.read_schema(tmp_path / f"{name}.parquet") == pq.read_schema(tmp_path / f"{name}-pandas.parquet")
        assert pq.read_schema(tmp_path / f"{name}.parquet").metadata == \
            pq.read_schema(tmp_path / f"{name}-pandas.parquet").metadata


def test_events_starts_without_pandas_or_boto3(tmp_path):
    """Start-up is the whole cost of a short run: `rootwatch events` on a local archive imports neither."""
    _file(tmp_path / "archive", [_event(eventID="r", userIdentity={"type": "Root"})])
    code = ("import sys; from rootwatch.cli import main; code = main(sys.argv[1:]); "
            "print(sorted(m for m in ('pandas', 'boto3') if m in sys.modules)); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "events", "--archive", str(tmp_path / "archive"), "--control",
                           "4.3", "--start", "2026-08-01", "--end", "2026-10-01", "--out", str(tmp_path / "r.parquet"),
                           "--no-cache"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
    assert list(pd.read_parquet(tmp_path / "r.parquet").event_id) == ["r"]
