"""What `rootwatch verify` holds a bundle to: every regular file listed and nothing else present, no
link followed, no path outside, a manifest of the right shape, and nothing printed raw (issue 15, item 2)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rootwatch.bundle import manifest as mf
from rootwatch.cli import main
from tests.bundle.conftest import public_key_file, sign_ssh, small_bundle

RAW = ("\x1b", "\x07", "\u202e", "\x9b")  # ESC, BEL, RIGHT-TO-LEFT OVERRIDE, CSI: never printed as they are


@pytest.fixture
def signed(tmp_path):
    """(a small signed bundle, its signing key, the auditor's copy of the public key)"""
    key = Ed25519PrivateKey.generate()
    return small_bundle(tmp_path / "bundle", key), key, public_key_file(tmp_path / "given.pub", key)


def verify_cli(capsys, bundle: Path, *args: object) -> tuple[int, list[str], str]:
    code = main(["verify", str(bundle), *map(str, args)])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def test_the_small_bundle_verifies(signed, capsys):
    bundle, _, given = signed
    code, lines, err = verify_cli(capsys, bundle, "--trusted-key", given)
    assert (code, lines[-1], err) == (0, "VERIFIED", ""), lines


@pytest.mark.parametrize(("change", "says"), [
    (lambda b: (b / "signatures" / "notes.txt").write_text("x"),
     "extra file (not a signature file README.txt names): signatures/notes.txt"),
    (lambda b: (b / "signatures" / "old").mkdir() or (b / "signatures" / "old" / "signer.pub").write_text("x"),
     "extra file (not a signature file README.txt names): signatures/old/signer.pub"),
    (lambda b: os.mkfifo(b / "data" / "pipe"), "FIFO (never part of a bundle): data/pipe"),
    (lambda b: (b / "findings.json").unlink() or os.mkfifo(b / "findings.json"),
     "FIFO (never part of a bundle): findings.json"),
    (lambda b: (b / "empty").mkdir(), "empty directory (never part of a bundle): empty"),
    (lambda b: (b / "data" / "empty").mkdir(), "empty directory (never part of a bundle): data/empty"),
], ids=["extra file in signatures", "directory in signatures", "FIFO added", "listed file replaced by a FIFO",
        "empty directory", "nested empty directory"])
def test_anything_but_the_listed_regular_files_is_not_verified(signed, capsys, change, says):
    bundle, _, given = signed
    change(bundle)
    code, lines, err = verify_cli(capsys, bundle, "--trusted-key", given)
    assert code == 1 and lines[-1] == "NOT VERIFIED" and says in lines, lines
    assert err == ""


@pytest.mark.parametrize("what", ["findings.json", "data"])
def test_a_symlink_to_an_identical_copy_is_not_followed(signed, tmp_path, capsys, what):
    bundle, _, given = signed
    elsewhere = tmp_path / "elsewhere" / what
    elsewhere.parent.mkdir()
    shutil.move(bundle / what, elsewhere)
    (bundle / what).symlink_to(elsewhere)
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-key", given)
    assert code == 1 and f"symlink (never part of a bundle): {what}" in lines, lines


def _listing(bundle: Path, key: Ed25519PrivateKey, edit) -> None:
    """The signer itself lists ``edit(files)`` in the manifest and signs it."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"] = edit(manifest["files"])
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))
    sign_ssh(bundle, key)


def _entry(path: Path, listed_as: str) -> dict:
    return {"path": listed_as, "sha256": mf.sha256(path), "size": path.stat().st_size}


@pytest.mark.parametrize(("listed_as", "problem"), [
    ("../outside.txt", "is not a normalised path inside the bundle"),
    ("{outside}", "is absolute"),
    ("data/../../outside.txt", "is not a normalised path inside the bundle"),
    ("./findings.json", "is not a normalised path inside the bundle"),
    ("data//alarms.csv", "is not a normalised path inside the bundle"),
    ("data\\alarms.csv", "holds a backslash"),
    ("findings.json", "is listed twice"),
    ("signatures/signer.pub", "is manifest.json or under signatures/"),
    ("data/\x1b[2Jalarms.csv", "holds a control character"),
])
def test_a_manifest_path_outside_the_bundle_or_not_normalised_is_refused(signed, tmp_path, capsys, listed_as,
                                                                         problem):
    bundle, key, given = signed
    outside = tmp_path / "outside.txt"
    outside.write_text("a file the signer pointed at, outside the bundle\n")
    listed_as = listed_as.format(outside=outside)
    target = outside if "outside" in listed_as else bundle / "findings.json"
    _listing(bundle, key, lambda files: [*files, _entry(target, listed_as)])
    code, lines, err = verify_cli(capsys, bundle, "--trusted-key", given)
    malformed = [line for line in lines if line.startswith("manifest.json is malformed: ")]
    assert code == 1 and lines[-1] == "NOT VERIFIED" and len(malformed) == 1 and problem in malformed[0], lines
    assert err == "" and not any(c in "\n".join(lines) for c in RAW)


WRONG = {
    "an array": b"[]",
    "files not a list": b'{"format": "rootwatch-manifest/1", "run_id": "r", "created": "c", "rootwatch": "t", '
                        b'"files": "x"}',
    "a size as a string": None,
    "a path as a number": None,
    "a hash that is not hex": None,
    "a key missing": b'{"format": "rootwatch-manifest/1", "run_id": "r", "created": "c", "rootwatch": "t"}',
    "another format": b'{"format": "rootwatch-manifest/9", "run_id": "r", "created": "c", "rootwatch": "t", '
                      b'"files": []}',
    "a key twice": b'{"format": "rootwatch-manifest/1", "run_id": "r", "run_id": "s", "created": "c", '
                   b'"rootwatch": "t", "files": []}',
    "not UTF-8": b"\xff\xfe{",
    "not JSON": b"{ this is not json",
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "empty": b"",
}


@pytest.mark.parametrize("case", sorted(WRONG))
def test_a_wrong_typed_manifest_is_not_verified_on_one_line_without_a_traceback(signed, capsys, case):
    bundle, key, given = signed
    manifest = json.loads((bundle / "manifest.json").read_text())
    entry = manifest["files"][0]
    edits = {"a size as a string": ("size", str(entry["size"])), "a path as a number": ("path", 7),
             "a hash that is not hex": ("sha256", "z" * 64)}
    if WRONG[case] is None:
        entry[edits[case][0]] = edits[case][1]
        (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))
    else:
        (bundle / "manifest.json").write_bytes(WRONG[case])
    sign_ssh(bundle, key)  # signed as it is: the manifest's shape alone is wrong
    code, lines, err = verify_cli(capsys, bundle, "--trusted-key", given)
    malformed = [line for line in lines if line.startswith("manifest.json is malformed: ")]
    assert code == 1 and lines[-1] == "NOT VERIFIED" and len(malformed) == 1, lines
    assert err == "" and all(len(line) < 2_000 for line in lines)


def test_a_manifest_larger_than_any_rootwatch_writes_is_not_read(signed, monkeypatch, capsys):
    bundle, _, given = signed
    monkeypatch.setattr(mf, "MANIFEST_LIMIT", 100)
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-key", given)
    assert code == 1 and "manifest.json is malformed: manifest.json is larger than 100 bytes" in lines, lines


def test_names_comments_and_run_ids_with_terminal_escapes_are_printed_escaped(tmp_path, capsys):
    key = Ed25519PrivateKey.generate()
    comment = "\x1b[32mExample Compliance\x1b[0m \u202egnp.exe \x9b2J"
    bundle = small_bundle(tmp_path / "bundle", key, comment)
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["run_id"] = "\x1b[2J\x1b[H"
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=1))
    sign_ssh(bundle, key, comment)
    (bundle / "data" / "\x1b[2J\x1b[HVERIFIED").write_text("x")
    (bundle / "data" / "x\nVERIFIED").write_text("x")
    code, lines, _ = verify_cli(capsys, bundle)
    text = "\n".join(lines)
    assert code == 1 and not any(c in text for c in RAW), text
    assert lines.count("VERIFIED") == 0 and lines[-1] == "NOT VERIFIED"
    assert "extra file (not in the manifest): data/\\x1b[2J\\x1b[HVERIFIED" in lines
    assert "extra file (not in the manifest): data/x\\x0aVERIFIED" in lines
    assert "\\x1b[32mExample Compliance\\x1b[0m \\u202egnp.exe \\x9b2J (as signer.pub says: not checked)" in text
    assert lines[0].endswith("(run \\x1b[2J\\x1b[H, created 2026-10-01T00:00:00+00:00)")


def test_a_path_that_is_not_a_bundle_is_bad_input(tmp_path, capsys):
    code, lines, err = verify_cli(capsys, tmp_path / "nothing-here")
    assert code == 2 and lines == [] and err.count("\n") == 1 and "is not a rootwatch bundle" in err
