"""Hostile log files (issue 15, item 8): one file never stops a scan or costs unbounded memory. A
gzip bomb is named over the inflate limit, nesting past any reader's depth costs its record only,
and a lone surrogate reaches neither the cache nor the frame."""

from __future__ import annotations

import gzip
import json

import pytest

from rootwatch.logarchive import LocalArchive, scan
from rootwatch.logarchive.scan import MAX_DEPTH, MAX_INFLATED
from rootwatch.frames.tables import archive_matches
from tests.logarchive.test_scan import DAY, END, ROOT, START, _event, _file, _ids, _write

MiB = 1024 * 1024


def _bomb(megabytes: int) -> bytes:
    """About ``megabytes`` MB of gzip that inflates a thousandfold: 1 MiB of spaces compresses to
    about 1 KB, and gzip allows one member after another."""
    member = gzip.compress(b" " * MiB, compresslevel=9, mtime=0)
    return member * (megabytes * 1_000_000 // len(member))


def _root_file(root, name: str = "good.json.gz"):
    return _file(root, [_event(eventID=name, userIdentity={"type": "Root"})], name=name)


def test_a_2_mb_gzip_bomb_is_named_over_the_limit_and_the_scan_goes_on(tmp_path):
    bomb = _bomb(2)
    assert 1.9e6 < len(bomb) < 2.1e6
    _write(tmp_path, [(f"{DAY}/bomb.json.gz", bomb)])
    _root_file(tmp_path)
    result = scan(LocalArchive(tmp_path), ROOT, START, END)  # the default limit: inflating stops at 256 MiB
    assert _ids(result.events) == ["good.json.gz"]
    assert result.stats.files_unreadable == 1 and result.stats.files_read == 1
    assert result.stats.examples == [f"{DAY}/bomb.json.gz: over the {MAX_INFLATED:,}-byte limit once inflated: "
                                     "not scanned"]


def test_the_limit_holds_for_one_member_and_for_plain_json_which_is_not_even_read(tmp_path):
    one_member = gzip.compress(b'{"Records":[' + b" " * (9 * MiB) + b"]}", mtime=0)
    plain = json.dumps({"Records": [_event(eventID="big", userIdentity={"type": "Root"}, pad="x" * 9 * MiB)]})
    _write(tmp_path, [(f"{DAY}/one-member.json.gz", one_member), (f"{DAY}/plain.json", plain.encode())])
    _root_file(tmp_path)
    result = scan(LocalArchive(tmp_path), ROOT, START, END, max_inflated=8 * MiB)
    assert _ids(result.events) == ["good.json.gz"]
    assert sorted(e.removeprefix(f"{DAY}/") for e in result.stats.examples) == [
        "one-member.json.gz: over the 8,388,608-byte limit once inflated: not scanned",
        f"plain.json: over the 8,388,608-byte limit ({len(plain):,} bytes): not read"]
    assert _ids(scan(LocalArchive(tmp_path), ROOT, START, END, max_inflated=10 * MiB).events) == [
        "big", "good.json.gz"]  # under a higher limit both are read


def _nested(levels: int, leaf: str = '"Root"') -> str:
    return '{"a":' * levels + leaf + "}" * levels


def _records_text(records: list[str], pretty: bool) -> bytes:
    """``records`` (JSON texts) as a log file: CloudTrail's compact layout, or one a re-export
    indents (parsed whole, never sliced)."""
    separator = ",\n  " if pretty else ","
    return ("{\n  \"Records\": [\n  " if pretty else '{"Records":[').encode() + \
        separator.join(records).encode() + (b"\n]}" if pretty else b"]}")


def _record(event_id: str, **fields) -> str:
    return json.dumps(_event(eventID=event_id, userIdentity={"type": "Root"}, **fields), separators=(",", ":"))


@pytest.mark.parametrize("pretty", [False, True], ids=["sliced", "parsed-whole"])
def test_nesting_beyond_any_reader_costs_its_record_only(tmp_path, pretty):
    """Ten thousand levels (orjson reads 1,024, Python's json recursed until RecursionError) and a root
    record nested 100 deep (no evidence writer takes it whole) are each one malformed record; a record
    that does not match may nest as it likes, as it is only read."""
    deep_root = _record("deep-root").replace('"eventType"', f'"requestParameters":{_nested(100)},"eventType"')
    deep_other = json.dumps(_event(eventID="deep-other", requestParameters=json.loads(_nested(100))))
    body = _records_text([_record("first"), '{"eventVersion":"1.09",' + _nested(10_000)[1:], deep_root,
                          deep_other, _record("last")], pretty)
    alone = _records_text([_record("before"), deep_root], pretty)  # a file orjson reads whole
    _write(tmp_path, [(f"{DAY}/deep.json.gz", gzip.compress(body)), (f"{DAY}/e.json.gz", gzip.compress(alone))])
    result = scan(LocalArchive(tmp_path), ROOT, START, END)
    assert _ids(result.events) == ["before", "first", "last"]
    assert result.stats.records_malformed == 3 and result.stats.files_unreadable == 0
    assert [e.removeprefix(f"{DAY}/").split(": line")[0] for e in result.stats.examples] == [
        "deep.json.gz: Records[1]: unreadable JSON (depth limit exceeded",  # orjson's words, then where
        f"deep.json.gz: Records[2]: nested deeper than {MAX_DEPTH} levels",
        f"e.json.gz: Records[1]: nested deeper than {MAX_DEPTH} levels"]


def test_a_lone_surrogate_is_replaced_before_caching_and_a_pair_is_kept(tmp_path):
    r"""``\ud800`` is valid JSON text but no Unicode: the cache's writer (and Parquet, and UTF-8)
    cannot hold it. It becomes U+FFFD as it is read; a surrogate pair is a character and stays; an
    escaped backslash before ``ud800`` is text and stays."""
    lone, pair, text = (_record(i, userAgent=f"agent {v}") for i, v in
                        (("lone", "\ud800 end"), ("pair", "\U0001f600"), ("text", "\\ud800")))
    assert "\\ud800 end" in lone and "\\ud83d\\ude00" in pair and "\\\\ud800" in text
    _write(tmp_path / "archive", [(f"{DAY}/s.json.gz", gzip.compress(_records_text([lone, pair, text], False)))])
    archive, cache = LocalArchive(tmp_path / "archive"), tmp_path / "cache"
    first = scan(archive, ROOT, START, END, cache=cache)
    again = scan(archive, ROOT, START, END, cache=cache)
    assert again.stats.files_cached == 1 and not first.stats.warned
    for result in (first, again):
        agents = {e["eventID"]: e["userAgent"] for e in result.events}
        assert agents == {"lone": "agent \ufffd end", "pair": "agent \U0001f600", "text": "agent \\ud800"}
    archive_matches(first).to_parquet(tmp_path / "root.parquet")
