"""Archive scans: the same events as the log group and the evaluator, with most bytes never parsed."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rootwatch.logarchive import LocalArchive, S3Archive, scan
from rootwatch.errors import ArchiveError
from rootwatch.frames.tables import archive_matches
from rootwatch.models import Role
from rootwatch.patterns import compile_pattern
from rootwatch.patterns.literals import required
from rootwatch.sandbox import events as ev
from tests.conftest import SANDBOX_NOW

ROOT = compile_pattern('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
                       '&& $.eventType != "AwsServiceEvent" }')
START, END = SANDBOX_NOW - timedelta(days=90), SANDBOX_NOW
DAY = "AWSLogs/111111111111/CloudTrail/us-east-1/2026/09/01"


@pytest.fixture(scope="module")
def seeded(sandbox):
    """{account: (records, local copy of its S3 log files)} for both sandbox accounts."""
    return {a.account_id: sandbox.state.records[a.account_id] for a in sandbox.accounts}


def _write(root: Path, files: list[tuple[str, bytes]]) -> Path:
    for key, body in files:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    return root


def _file(root: Path, records: list[dict], name: str = "111111111111_CloudTrail_us-east-1_20260901T1200Z_A.json.gz",
          body: bytes | None = None) -> Path:
    body = body if body is not None else json.dumps({"Records": records}, separators=(",", ":")).encode()
    return _write(root, [(f"{DAY}/{name}", gzip.compress(body))])


def _event(**fields) -> dict:
    base = {"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "userName": "alice"},
            "eventTime": "2026-09-01T11:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
            "awsRegion": "us-east-1", "eventType": "AwsApiCall", "eventID": "e-1"}
    return {**base, **fields}


def _ids(events) -> list[str]:
    return sorted(e["eventID"] for e in events)


def test_archive_in_s3_returns_what_the_log_group_query_returns(sandbox, catalog, tmp_path):
    """Every CIS control, every account: the trail's S3 files and its CloudWatch Logs group agree.
    The root-usage control is scanned straight from S3; the others from a copy of the same files made
    through the same S3 reader (listing S3 once per account instead of once per control)."""
    root_usage = catalog.by_role(Role.ROOT_USAGE)
    for account in sandbox.accounts:
        session = sandbox.session(account.account_id)
        bucket = next(b["Name"] for b in session.client("s3", endpoint_url=sandbox.endpoint).list_buckets()["Buckets"])
        archive = S3Archive(session.client("s3", endpoint_url=sandbox.endpoint), bucket)
        copy = _write(tmp_path / account.account_id, [(f.key, archive.read(f)) for f in archive.files(START, END)])
        logs = session.client("logs", endpoint_url=sandbox.endpoint)
        for control in catalog.controls():
            pages = logs.get_paginator("filter_log_events").paginate(
                logGroupName=account.log_group, filterPattern=control.reference.text,
                startTime=int(START.timestamp() * 1000), endTime=int(END.timestamp() * 1000) - 1)
            from_logs = [json.loads(e["message"]) for p in pages for e in p["events"]]
            source = archive if control.id == root_usage.id else LocalArchive(copy)
            from_archive = scan(source, control.reference, START, END).events
            assert _ids(from_archive) == _ids(from_logs), (account.alias, control.id)
            if control.id == root_usage.id:
                assert len(from_archive) > 20


def test_scan_equals_the_evaluator_and_skips_what_cannot_match(tmp_path, seeded, catalog):
    records = [r for rs in seeded.values() for r in rs]
    root = _write(tmp_path, [f for acct, rs in seeded.items() for f in ev.log_files(acct, rs)])
    result = scan(LocalArchive(root), ROOT, START, END)
    expected = [r for r in records if ROOT.matches(r) and START <= ev.event_time(r) < END]
    assert _ids(result.events) == _ids(expected)
    s = result.stats
    assert s.records_read == len(records) and s.records_matched == len(expected)
    assert s.files_skipped > s.files_read / 2  # most days hold no root event: their files are never parsed
    assert s.records_skipped > 0.95 * s.records_read
    for control in catalog.controls():  # sound for every control's pattern, whatever its literals
        got = scan(LocalArchive(root), control.reference, START, END).events
        assert _ids(got) == _ids(r for r in records if control.reference.matches(r)), control.id


def test_unusual_spellings_fall_back_to_parsing_never_to_missing(tmp_path):
    escaped = _event(eventID="escaped", userIdentity={"type": "Root"}, userAgent="<script>é</script>")
    _file(tmp_path, [], name="a.json.gz", body=json.dumps({"Records": [escaped]}).encode())  # é as \u00e9
    pretty = json.dumps({"Records": [_event(eventID="pretty", userIdentity={"type": "Root"})]}, indent=2).encode()
    _file(tmp_path, [], name="b.json.gz", body=pretty)
    nested = _event(eventID="nested", userIdentity={"type": "Root"},
                    requestParameters={"policy": {"eventVersion": "2012-10-17"}})
    _file(tmp_path, [_event(eventID="other"), nested], name="c.json.gz")
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert _ids(result.events) == ["escaped", "nested", "pretty"]


def test_a_file_without_the_literal_is_not_parsed(tmp_path):
    _file(tmp_path, [_event(eventID=str(i), eventName="AssumeRoot") for i in range(50)])
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert result.events == []
    assert (result.stats.files_read, result.stats.files_skipped) == (1, 1)
    assert result.stats.records_read == result.stats.records_skipped == 50


def test_only_the_records_around_a_hit_are_parsed(tmp_path):
    root_login = _event(eventID="root", eventName="ConsoleLogin", userIdentity={"type": "Root"})
    _file(tmp_path, [*(_event(eventID=str(i)) for i in range(40)), root_login, _event(eventID="last")])
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert _ids(result.events) == ["root"]
    assert result.stats.records_read == 42 and result.stats.records_skipped == 41


DAMAGED = {  # file: what is wrong with it, as the scan names it
    "bad-second-member.json.gz": "corrupt gzip (cut short before the end of a member)",
    "bad-checksum.json.gz": "corrupt gzip (Error -6 Incorrect checksum found)",
    "corrupt.json.gz": "corrupt gzip (cut short before the end of a member)",
    "not-gzip.json.gz": "not gzip",
    "other.json.gz": "not a CloudTrail log file (no Records list)",
    "trailing-garbage.json.gz": "corrupt gzip (bytes after the last member are not gzip)",
    "truncated.json.gz": "not JSON (unexpected end of data: line 1 column 40 (char 39))",
}


def damaged_archive(root: Path, only: str | None = None) -> Path:
    """A day of log files with every kind of damage beside good records: a gzip stream cut short,
    a good gzip member followed by garbage, a good member followed by a broken one, truncated JSON,
    a JSON file that is not a CloudTrail log, and records that are not objects (``only``: that file
    alone). A record without ``userIdentity`` is no damage: AWS writes such records."""
    good = gzip.compress(json.dumps({"Records": [_event(eventID="in-damaged-member", userIdentity={"type": "Root"})]})
                         .encode())
    anonymous = _event(eventID="anonymous", eventName="Root")  # holds the literal: parsed, then not matched
    del anonymous["userIdentity"]
    before, after = (_event(eventID=i, userIdentity={"type": "Root"}) for i in ("before", "after"))
    files = [(f"{DAY}/ok.json.gz", _body([_event(eventID="ok", userIdentity={"type": "Root"})])),
             (f"{DAY}/anonymous.json.gz", _body([before, anonymous, "Root", None, after])),
             (f"{DAY}/corrupt.json.gz", gzip.compress(b'{"Records":[]}')[:-9]),
             (f"{DAY}/bad-checksum.json.gz", good[:-8] + bytes(8)),
             (f"{DAY}/not-gzip.json.gz", b'{"Records":[]}'),
             (f"{DAY}/trailing-garbage.json.gz", good + b"not gzip at all"),
             (f"{DAY}/bad-second-member.json.gz", good + gzip.compress(b'{"Records":[]}')[:-12]),
             (f"{DAY}/other.json.gz", gzip.compress(b'{"hello": "Root"}')),
             (f"{DAY}/truncated.json.gz", gzip.compress(b'{"Records":[{"eventVersion":"1.0","Root'))]
    return _write(root, [(key, body) for key, body in files if only is None or key.endswith(f"/{only}")])


def _body(records: list) -> bytes:
    return gzip.compress(json.dumps({"Records": records}, separators=(",", ":")).encode())


def test_broken_files_and_records_are_counted_the_first_few_named_never_fatal(tmp_path):
    result = scan(LocalArchive(damaged_archive(tmp_path)), ROOT, START, END)
    assert _ids(result.events) == ["after", "before", "ok"]  # the good records, even beside broken ones
    s = result.stats
    assert (s.files_listed, s.files_read, s.files_unreadable) == (9, 2, 7)
    assert (s.records_read, s.records_malformed, s.records_matched) == (6, 2, 3)
    assert [w.removeprefix(f"{DAY}/") for w in s.examples] == [  # in the files' order, the first five
        "anonymous.json.gz: Records[2]: not a JSON object (str)",
        "anonymous.json.gz: Records[3]: not a JSON object (NoneType)",
        f"bad-checksum.json.gz: {DAMAGED['bad-checksum.json.gz']}",
        f"bad-second-member.json.gz: {DAMAGED['bad-second-member.json.gz']}",
        f"corrupt.json.gz: {DAMAGED['corrupt.json.gz']}",
    ]
    assert s.counts() == "7 unreadable files and 2 malformed records"
    assert s.warning().startswith("7 unreadable files and 2 malformed records skipped: ")
    assert s.warning().endswith("; and 4 more")
    assert "7 unreadable; 6 records read (0 skipped unparsed, 2 malformed), 3 matched" in s.line()


@pytest.mark.parametrize("name", DAMAGED)
def test_each_broken_file_is_named_with_what_is_wrong(tmp_path, name):
    stats = scan(LocalArchive(damaged_archive(tmp_path, only=name)), ROOT, START, END).stats
    assert stats.examples == [f"{DAY}/{name}: {DAMAGED[name]}"] and stats.files_unreadable == 1


def test_records_without_user_identity_are_ordinary_records_whichever_way_the_file_is_read(tmp_path):
    """AWS's own service events and Insights events carry no ``userIdentity``: the root pattern does
    not match them, as CloudWatch Logs would not, and nothing is wrong with the file."""
    service = _event(eventID="service", eventType="AwsServiceEvent", userAgent="Root",
                     serviceEventDetails={"snapshotId": "Root"})
    insight = {"eventVersion": "1.08", "eventTime": "2026-09-01T11:00:00Z", "awsRegion": "us-east-1",
               "eventID": "insight", "eventType": "AwsCloudTrailInsight", "recipientAccountId": "111111111111",
               "sharedEventID": "s-1", "insightDetails": {"state": "Start", "eventName": "ListRoots"},
               "eventCategory": "Insight"}
    del service["userIdentity"]
    records = [_event(eventID=str(i)) for i in range(5)] + [service, insight,
                                                            _event(eventID="root", userIdentity={"type": "Root"})]
    _file(tmp_path, records, name="sliced.json.gz")  # CloudTrail's layout: only the records with "Root" are parsed
    _file(tmp_path, [], name="whole.json.gz", body=json.dumps({"Records": records}, indent=1).encode())  # parsed whole
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert _ids(result.events) == ["root", "root"]
    assert not result.stats.warned and result.stats.examples == [] and result.stats.records_malformed == 0
    assert result.stats.records_read == 16


def test_a_thousand_malformed_records_are_counted_and_five_named(tmp_path):
    _file(tmp_path, [_event(eventID="root", userIdentity={"type": "Root"}), *range(1000)])
    stats = scan(LocalArchive(tmp_path), ROOT, START, END).stats
    assert stats.records_malformed == 1000 and len(stats.examples) == 5
    assert stats.examples[0].endswith("Records[1]: not a JSON object (int)")
    assert stats.warning().endswith("; and 995 more")


def test_a_day_with_a_warning_is_never_answered_silently_from_the_cache(tmp_path):
    archive, cache = LocalArchive(damaged_archive(tmp_path / "archive")), tmp_path / "cache"
    first = scan(archive, ROOT, START, END, cache=cache)
    again = scan(archive, ROOT, START, END, cache=cache)
    assert again.stats.files_cached == 0 and again.stats.examples == first.stats.examples
    assert _ids(again.events) == _ids(first.events)


def test_invalid_utf8_and_lone_surrogates_cost_only_their_own_bytes(tmp_path):
    """The hostile sandbox account's log files hold a lone surrogate as invalid UTF-8 (as a damaged
    or hostile file would); a ``\\ud800`` escape is the same in JSON's own spelling. Neither costs
    the file: every record is still read, the bad bytes and the escape read as U+FFFD."""
    records = ev.account_events("111111111111", "us-east-1", 11, SANDBOX_NOW, hostile=True)
    root = _write(tmp_path, ev.log_files("111111111111", records))
    escaped = _event(eventID="escaped-surrogate", userIdentity={"type": "Root"}, userAgent="lone \ud800")
    _file(root, [escaped, _event(eventID="neighbour", userIdentity={"type": "Root"})], name="escaped.json.gz")
    result = scan(LocalArchive(root), ROOT, START, END)
    expected = [r["eventID"] for r in records if ROOT.matches(r) and START <= ev.event_time(r) < END]
    assert _ids(result.events) == sorted([*expected, "escaped-surrogate", "neighbour"])
    assert not result.stats.warned and result.stats.files_unreadable == 0
    agents = {e["eventID"]: e.get("userAgent") for e in result.events}
    surrogate = next(r["eventID"] for r in records if r["userAgent"] == "lone \ud800 surrogate")
    assert agents[surrogate] == "lone \ufffd\ufffd\ufffd surrogate"  # the three invalid bytes, each replaced
    assert agents["escaped-surrogate"] == "lone \ufffd"  # valid JSON text, but no character: replaced as read
    matches = archive_matches(result)
    assert "lone \ufffd" in set(matches.user_agent) and "ud800" not in "".join(matches.event)
    matches.to_parquet(tmp_path / "root.parquet")


def test_window_bounds_and_late_delivery(tmp_path):
    inside = _event(eventID="in", eventTime="2026-09-30T23:58:00Z", userIdentity={"type": "Root"})
    before = _event(eventID="before", eventTime="2026-08-31T23:59:59Z", userIdentity={"type": "Root"})
    _file(tmp_path, [before])
    # delivered after midnight: filed under the next day, still inside the window
    _write(tmp_path, [("AWSLogs/111111111111/CloudTrail/us-east-1/2026/10/01/late.json.gz",
                       gzip.compress(json.dumps({"Records": [inside]}).encode()))])
    start, end = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    assert _ids(scan(LocalArchive(tmp_path), ROOT, start, end).events) == ["in"]


def test_cache_answers_unchanged_days_and_rescans_changed_ones(tmp_path, seeded):
    acct = "111111111111"
    root = _write(tmp_path / "archive", ev.log_files(acct, seeded[acct]))
    cache = tmp_path / "cache"
    first = scan(LocalArchive(root), ROOT, START, END, cache=cache)
    again = scan(LocalArchive(root), ROOT, START, END, cache=cache)
    assert _ids(again.events) == _ids(first.events)
    assert again.stats.files_read == 0 and again.stats.files_cached == first.stats.files_read
    assert again.stats.records_cached == first.stats.records_read
    _file(root, [_event(eventID="new-root", userIdentity={"type": "Root"})], name="new.json.gz")
    third = scan(LocalArchive(root), ROOT, START, END, cache=cache)
    assert third.stats.files_read == len(list((root / DAY).iterdir()))  # only the changed day
    assert _ids(third.events) == sorted([*_ids(first.events), "new-root"])


def test_frame_keeps_the_record_and_its_file(tmp_path):
    hostile = _event(eventID="x", userIdentity={"type": "Root"}, userAgent="<script>alert(1)</script>")
    _file(tmp_path, [hostile])
    df = archive_matches(scan(LocalArchive(tmp_path), ROOT, START, END))
    assert list(df.event_id) == ["x"] and df.user_agent[0] == "<script>alert(1)</script>"
    assert json.loads(df.event[0]) == hostile and df.log_file[0].startswith(DAY)
    assert str(df.event_time.dtype) == "datetime64[ns, UTC]"


def test_a_folder_without_cloudtrail_logs_is_an_error(tmp_path):
    with pytest.raises(ArchiveError, match="no CloudTrail log folders"):
        scan(LocalArchive(tmp_path), ROOT, START, END)


@pytest.mark.parametrize(("text", "clauses"), [
    ('{ $.userIdentity.type = "Root" }', [{b'"Root"'}]),  # not AssumeRoot, not ListRoots
    ('{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }',
     [{b'UnauthorizedOperation"', b'"AccessDenied'}]),
    ('{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != "Yes" }', [{b'"ConsoleLogin"'}]),
    ('{ $.a = "123" }', [{b'"123"'}]),                  # a text value never matches the number 123
    ('{ $.eventName = "ab" }', []),                     # too short to skip anything
    ('{ $.a = "Root" || $.b != "x" }', []),             # one side requires nothing
    ('{ $.sourceIPAddress = "signin.amazonaws.com" }', [{b"amazonaws"}]),
    ('{ $.a = "x*middle*y" }', [{b"middle"}]),
])
def test_required_literals(text, clauses):
    assert required(compile_pattern(text).tree) == [frozenset(c) for c in clauses]


def test_processes_give_the_threads_answer(tmp_path, seeded):
    """Large scans run on processes (the byte searches hold the GIL); the answer is the same."""
    root = _write(tmp_path, [f for acct, rs in seeded.items() for f in ev.log_files(acct, rs)])
    threads = scan(LocalArchive(root), ROOT, START, END, processes=0)
    processes = scan(LocalArchive(root), ROOT, START, END, processes=2)
    assert _ids(processes.events) == _ids(threads.events) and len(threads.events) > 20
    assert processes.stats.line() == threads.stats.line()


def test_processes_read_s3_on_threads_and_scan_elsewhere(sandbox):
    account = sandbox.accounts[0]
    s3 = sandbox.session(account.account_id).client("s3", endpoint_url=sandbox.endpoint)
    archive = S3Archive(s3, s3.list_buckets()["Buckets"][0]["Name"])
    on_threads = scan(archive, ROOT, START, END, processes=0)
    on_processes = scan(archive, ROOT, START, END, processes=2)
    assert _ids(on_processes.events) == _ids(on_threads.events) and len(on_threads.events) > 20


def _reexported(record: dict, order: int) -> dict:
    """``record`` as a SIEM writes it back: vendor fields added, keys in another order (``order`` 0:
    ``eventVersion`` first, as CloudTrail writes it; else somewhere after it)."""
    record = {**record, "@timestamp": record["eventTime"], "@version": "1", "siem": {"pipeline": "cloudtrail-s3"}}
    keys = sorted(k for k in record if k != "eventVersion")
    keys = keys[order % len(keys):] + keys[:order % len(keys)]
    keys.insert(0 if order == 0 else 1 + order % (len(keys) - 1), "eventVersion")
    return {key: record[key] for key in keys}


def test_records_in_another_key_order_with_vendor_fields_are_scanned_and_counted_alike(tmp_path):
    """What a SIEM re-export holds: no record begins with ``eventVersion`` (or only some do), so no
    slice can be trusted: a file with the literal is parsed whole; one without is still skipped, its
    records counted by their ``eventVersion`` keys."""
    root = _event(eventID="root", userIdentity={"type": "Root"})
    relayed = _event(eventID="relayed", userIdentity={"type": "Root", "invokedBy": "signin.amazonaws.com"})
    ordinary = [_event(eventID=str(i), eventName="AssumeRoot" if i % 7 == 0 else "GetObject") for i in range(60)]
    layouts = {"shuffled": lambda i: 1 + i % 9, "first-in-order": lambda i: 0 if i == 0 else 1 + i % 9}
    for name, order in layouts.items():
        records = [*ordinary[:30], root, relayed, *ordinary[30:]]
        _file(tmp_path, [_reexported(r, order(i)) for i, r in enumerate(records)], name=f"{name}-with-root.json.gz")
        _file(tmp_path, [_reexported(r, order(i)) for i, r in enumerate(ordinary)], name=f"{name}-without.json.gz")
    assert not any(json.dumps(_reexported(root, o)).startswith('{"eventVersion"') for o in range(1, 10))
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert _ids(result.events) == ["root", "root"]
    s = result.stats
    assert (s.files_read, s.files_skipped, s.records_read, s.records_skipped) == (4, 2, 4 * 60 + 2 * 2, 2 * 60)
    assert not s.warned
