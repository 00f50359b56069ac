"""A signed bundle as an auditor receives it: layout, external verification, tamper detection."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rootwatch.bundle import manifest as mf
from rootwatch.bundle import sshsig
from rootwatch.bundle.verify import Status, Trust, verify_bundle
from tests.bundle.conftest import PASSPHRASE, rootwatch

needs = {tool: shutil.which(tool) for tool in ("ssh-keygen", "openssl", "pdfsig")}


def test_layout_and_manifest_list_every_other_file_and_nothing_else(signed_run):
    bundle, _ = signed_run
    for name in ("report.html", "report.pdf", "root_usage_evidence.ipynb", "findings.json", "README.txt",
                 "environment.json", "parameters.yaml", "collection.json", "SHA256SUMS", "manifest.json"):
        assert (bundle / name).is_file(), name
    assert (bundle / "data" / "root_events.parquet").is_file() and list((bundle / "raw").rglob("*.json"))
    assert sorted(p.name for p in (bundle / "signatures").iterdir()) == [
        "manifest.json.p7s", "manifest.json.sshsig", "signer.crt.pem", "signer.pub"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"} - {p for p in on_disk if p.startswith("signatures/")}
    assert all(len(f["sha256"]) == 64 and f["size"] > 0 for f in manifest["files"])
    contents = (bundle / "README.txt").read_text().partition("Contents")[2]
    for part in {p.relative_to(bundle).parts[0] for p in bundle.rglob("*")}:
        assert f"  {part}" in contents, f"README.txt does not say what {part} is"
    env = json.loads((bundle / "environment.json").read_text())
    assert env["pdf"]["produced"] and {s["kind"] for s in env["signers"]} == {"ssh", "x509"}
    assert env["git"]["commit"] and env["caller_identities"]["111111111111"].startswith("arn:aws:sts::111111111111:")


def test_no_secret_reaches_the_bundle(signed_run):
    bundle, _ = signed_run
    for path in bundle.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSPHRASE.encode() not in data and b"sandbox-secret" not in data, path
            assert b"PRIVATE KEY" not in data, path


def test_rootwatch_verify_names_the_signers(signed_run, pins):
    bundle, env = signed_run
    done = rootwatch("verify", str(bundle), *pins, env=env)
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1] == "VERIFIED" and "ssh signature: valid" in done.stdout
    assert "x509 signature: valid" in done.stdout and "Audit Signer" in done.stdout
    assert "pdf signature: valid" in done.stdout and "development key" in done.stdout
    assert done.stderr == "", "verify prints its verdict, not the PDF library's warnings"


@pytest.mark.skipif(not needs["ssh-keygen"], reason="ssh-keygen not installed")
def test_ssh_keygen_accepts_the_signature(signed_run, tmp_path):
    bundle, _ = signed_run
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("rootwatch " + (bundle / "signatures" / "signer.pub").read_text())
    done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "rootwatch", "-n", "file", "-s",
                           str(bundle / "signatures" / "manifest.json.sshsig")],
                          stdin=(bundle / "manifest.json").open("rb"), capture_output=True, text=True, check=False)
    assert done.returncode == 0 and 'Good "file" signature' in done.stdout, done.stderr


@pytest.mark.skipif(not needs["ssh-keygen"], reason="ssh-keygen not installed")
def test_signatures_made_by_ssh_keygen_verify_with_rootwatch(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "auditor", "-f", str(tmp_path / "k")],
                   check=True)
    message = tmp_path / "m.txt"
    message.write_text("evidence")
    subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(tmp_path / "k"), "-n", "file", str(message)],
                   check=True, capture_output=True)
    verified = sshsig.verify(b"evidence", (tmp_path / "m.txt.sig").read_text())
    assert sshsig.public_line(verified.key, "auditor") == (tmp_path / "k.pub").read_text().strip()


@pytest.mark.skipif(not needs["openssl"], reason="openssl not installed")
def test_openssl_accepts_the_cms_signature(signed_run, identity):
    bundle, _ = signed_run
    _, ca = identity
    done = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                           str(bundle / "signatures" / "manifest.json.p7s"), "-content", str(bundle / "manifest.json"),
                           "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Verification successful" in done.stderr, done.stderr


@pytest.mark.skipif(not needs["pdfsig"], reason="poppler's pdfsig not installed")
def test_pdfsig_accepts_the_pdf_signature(signed_run):
    bundle, _ = signed_run
    done = subprocess.run(["pdfsig", str(bundle / "report.pdf")], capture_output=True, text=True, check=False)
    assert "Signature Validation: Signature is Valid." in done.stdout, done.stdout + done.stderr
    assert "Audit Signer" in done.stdout


def test_pdf_has_a_cover_and_repeats_table_headers(signed_run):
    bundle, _ = signed_run
    from pypdf import PdfReader

    reader = PdfReader(str(bundle / "report.pdf"))
    first = reader.pages[0].extract_text()
    assert "evidence report" in first and bundle.name in first and "Audit Signer" in first
    assert "healthy" in first and "FAIL" in first and "last 90 days" in first
    assert len(reader.pages) >= 5
    starts = [" ".join(p.extract_text().split()).count("time event_name event_source") for p in reader.pages]
    assert sum(starts) > 2  # two root-activity tables (one per account), their headers repeated on new pages
    assert sum(1 for n in starts if n) > 2


def _flip(path: Path, offset: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[min(offset, len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


TAMPER = {
    "byte in a CSV": (lambda b: _flip(b / "data" / "alarms.csv"), "modified file: data/alarms.csv"),
    "byte in the PDF": (lambda b: _flip(b / "report.pdf", 5000), "modified file: report.pdf"),
    "byte in the manifest": (lambda b: (b / "manifest.json").write_text(
        (b / "manifest.json").read_text().replace('"size": ', '"size":  ', 1)), "signature: INVALID"),
    "file added": (lambda b: (b / "data" / "extra.csv").write_text("a,b\n"), ("extra file (not in the manifest): "
                                                                          "data/extra.csv")),
    "file deleted": (lambda b: (b / "findings.json").unlink(), "missing file: findings.json"),
    "signature swapped for another key's": (
        lambda b: (b / "signatures" / "manifest.json.sshsig").write_text(
            sshsig.sign((b / "manifest.json").read_bytes(), Ed25519PrivateKey.generate())),
        "the signature was made by another key than signatures/signer.pub"),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampering_is_detected_and_named(copy_of, case):
    bundle = copy_of()
    change, expected = TAMPER[case]
    change(bundle)
    result = verify_bundle(bundle)
    assert not result.ok
    text = "\n".join(result.lines())
    assert expected in text, text
    assert text.endswith("NOT VERIFIED")


def test_tampered_bundle_fails_the_command_and_external_tools(copy_of, signed_run):
    bundle = copy_of()
    _flip(bundle / "data" / "alarms.csv")
    done = rootwatch("verify", str(bundle), env=signed_run[1])
    assert done.returncode == 1 and "modified file: data/alarms.csv" in done.stdout
    sums = subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True,
                          check=False)
    assert sums.returncode != 0 and "data/alarms.csv: FAILED" in sums.stdout


def test_whole_signature_swap_is_caught_by_pinning_the_key(copy_of, tmp_path):
    bundle = copy_of()
    other = Ed25519PrivateKey.generate()
    (bundle / "signatures" / "manifest.json.sshsig").write_text(sshsig.sign((bundle / "manifest.json").read_bytes(),
                                                                            other))
    (bundle / "signatures" / "signer.pub").write_text(sshsig.public_line(other.public_key(), "mallory") + "\n")
    assert verify_bundle(bundle).signatures[0].status is Status.VALID  # consistent on its own ...
    expected = tmp_path / "expected.pub"  # the key the auditor was given out of band
    expected.write_text(copy_of.original_signer)
    result = verify_bundle(bundle, Trust.load(keys=[str(expected)]))
    text = "\n".join(result.lines())
    assert not result.ok and "ssh signature: valid, but NOT by any anchor you gave" in text  # ... but not the auditor's
    assert verify_bundle(copy_of(), Trust.load(keys=[str(expected)])).ok


def test_not_a_bundle_is_bad_input(tmp_path, signed_run):
    done = rootwatch("verify", str(tmp_path), env=signed_run[1])
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is not a rootwatch bundle" in done.stderr
    assert mf.MANIFEST not in {p.name for p in tmp_path.iterdir()}
