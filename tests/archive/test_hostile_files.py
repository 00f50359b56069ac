"""Hostile log files (issue 15, item 8): one file never stops a scan or costs unbounded memory. A
gzip bomb is named over the inflate limit, nesting past any reader's depth costs its record only,
and a lone surrogate reaches neither the cache nor the frame."""

from __future__ import annotations

import gzip
import json

from rootwatch.archive import LocalArchive, scan
from rootwatch.archive.scan import MAX_INFLATED
from tests.archive.test_scan import DAY, END, ROOT, START, _event, _file, _ids, _write

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
