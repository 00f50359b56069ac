"""Whom a bundle is verified against: the anchors the auditor names (an OpenSSH key, an X.509 CA or
certificate, a KMS public key), never the bundle's own copies (issue 15, item 1; issue 18, item 5)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rootwatch.bundle import sshsig, verify
from rootwatch.bundle.readme import readme
from rootwatch.bundle.sign import X509Signer
from rootwatch.cli import main
from tests.bundle.conftest import (
    PASSPHRASE,
    certificate,
    forge_cms,
    kms_sign,
    make_identity,
    public_key_file,
    rewrite_manifest,
    sign_ssh,
    small_bundle,
)


def verify_cli(capsys, *args: object) -> tuple[int, list[str], str]:
    code = main(["verify", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


def _forged(bundle: Path, kinds: list[str]) -> None:
    """A forger's bundle: content changed, every signature removed, README.txt naming ``kinds``, the
    manifest made again (the forger then signs it with a key of their own)."""
    (bundle / "data" / "alarms.csv").write_text("alarm_name\nforged\n")
    for path in (bundle / "signatures").iterdir():
        path.unlink()
    (bundle / "README.txt").write_text(readme(bundle.name, True, "", kinds))
    rewrite_manifest(bundle)


def test_a_kms_signature_of_any_key_does_not_bypass_the_pinned_ssh_key(copy_of, anchors, capsys):
    bundle = copy_of()
    _forged(bundle, ["kms"])
    kms_sign(bundle, ec.generate_private_key(ec.SECP256R1()))
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-key", anchors["KEY"])
    assert code == 1 and lines[-2:] == ["no signature is by an anchor you gave", "NOT VERIFIED"], lines
    assert any(line.startswith("kms signature: valid, signer not anchored") for line in lines)


def test_a_cms_signature_with_a_self_signed_certificate_does_not_bypass_the_pinned_ssh_key(copy_of, anchors,
                                                                                           capsys):
    bundle = copy_of()
    _forged(bundle, ["x509"])
    forge_cms(bundle)
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-key", anchors["KEY"])
    assert code == 1 and lines[-1] == "NOT VERIFIED", lines
    assert any(line.startswith("x509 signature: valid, signer not anchored") for line in lines)


def test_without_a_pin_a_re_signed_bundle_is_not_verified_and_names_no_signer_as_fact(copy_of, capsys):
    bundle = copy_of()
    _forged(bundle, ["ssh"])
    sign_ssh(bundle, Ed25519PrivateKey.generate(), "Example Compliance audit signing key")
    code, lines, _ = verify_cli(capsys, bundle)
    assert code == 1 and lines[-1].startswith("NOT VERIFIED: integrity intact; signer not pinned"), lines
    assert "Example Compliance audit signing key (as signer.pub says: not checked)" in "\n".join(lines)
    code, lines, _ = verify_cli(capsys, bundle, "--no-pin")
    assert code == 0 and lines[-1].startswith("integrity intact; signer not pinned"), lines
    assert "VERIFIED" not in lines


def test_the_genuine_bundle_without_a_pin_says_integrity_intact_and_exits_0_only_with_no_pin(signed_run, capsys):
    code, lines, _ = verify_cli(capsys, signed_run[0])
    assert code == 1 and lines[-1].startswith("NOT VERIFIED: integrity intact; signer not pinned — name the anchor "
                                              "you were given with --trusted-key, --trusted-ca or --trusted-kms")
    code, lines, _ = verify_cli(capsys, signed_run[0], "--no-pin")
    assert code == 0 and lines[-1] == "integrity intact; signer not pinned (--no-pin: who signed was not checked)"


def test_the_ca_certificate_alone_pins_the_bundle(signed_run, identity, capsys):
    code, lines, _ = verify_cli(capsys, signed_run[0], "--trusted-ca", identity[1])
    assert code == 0 and lines[-1] == "VERIFIED", lines
    assert any(line.startswith("ssh signature: valid, signer not anchored") for line in lines)
    assert "a development key, not an audit identity" in "\n".join(lines)


def test_a_signature_of_an_anchored_kind_by_anyone_else_is_not_verified(copy_of, anchors, pins, capsys):
    """The CMS signer is the auditor's, but the SSH signature (over the same manifest) is a stranger's."""
    bundle = copy_of()
    other = Ed25519PrivateKey.generate()
    (bundle / "signatures" / "manifest.json.sshsig").write_text(sshsig.sign((bundle / "manifest.json").read_bytes(),
                                                                            other))
    public_key_file(bundle / "signatures" / "signer.pub", other, "mallory")
    code, lines, _ = verify_cli(capsys, bundle, *pins)
    assert code == 1 and lines[-1] == "NOT VERIFIED"
    assert any(line.startswith("ssh signature: valid, but NOT by any anchor you gave") for line in lines)
    assert any(line.startswith("x509 signature: valid, by an anchor you gave") for line in lines)


def test_an_allowed_signers_file_pins_as_well(signed_run, anchors, tmp_path, capsys):
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(f"# the auditor's file\nrootwatch,evidence namespaces=\"file\" {anchors['KEY'].read_text()}")
    code, lines, _ = verify_cli(capsys, signed_run[0], "--trusted-key", allowed)
    assert code == 0 and lines[-1] == "VERIFIED", lines


def test_a_signature_that_cannot_be_checked_here_never_passes(signed_run, anchors, monkeypatch, capsys):
    monkeypatch.setattr(verify, "installed", lambda extra: extra != "x509")
    code, lines, _ = verify_cli(capsys, signed_run[0], "--trusted-key", anchors["KEY"])
    assert code == 1 and lines[-1] == "NOT VERIFIED"
    assert any(line.startswith("x509 signature: CANNOT BE CHECKED here") for line in lines)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, the signer's certificate it issued (in a PKCS#12 file), and another CA."""
    directory = tmp_path_factory.mktemp("ca")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("Example Compliance CA", ca_key, ca=True)
    p12, leaf = make_identity(directory, issuer=(ca.subject, ca_key), chain=[ca])
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    other_key = ec.generate_private_key(ec.SECP256R1())
    (directory / "other-ca.der").write_bytes(certificate("Other CA", other_key, ca=True).public_bytes(
        serialization.Encoding.DER))
    return {"p12": p12, "leaf": leaf, "ca": directory / "ca.pem", "other": directory / "other-ca.der"}


def _x509_bundle(tmp_path: Path, pki: dict[str, Path]) -> Path:
    bundle = small_bundle(tmp_path / "bundle", Ed25519PrivateKey.generate())
    shutil.rmtree(bundle / "signatures")
    (bundle / "signatures").mkdir()
    X509Signer.from_pkcs12(pki["p12"], "P12").sign_manifest(
        (bundle / "manifest.json").read_bytes(), bundle / "signatures")
    return bundle


@pytest.mark.parametrize(("anchor", "verified"), [("ca", True), ("leaf", True), ("other", False)])
def test_an_x509_ca_or_the_signer_certificate_pins_the_cms_signer(tmp_path, pki, monkeypatch, capsys, anchor,
                                                                  verified):
    monkeypatch.setenv("P12", PASSPHRASE)
    bundle = _x509_bundle(tmp_path, pki)
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-ca", pki[anchor])
    assert (code, lines[-1]) == ((0, "VERIFIED") if verified else (1, "NOT VERIFIED")), lines
    if shutil.which("openssl"):  # the README.txt step gives the same answer
        cms = subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in",
                              "signatures/manifest.json.p7s", "-content", "manifest.json", "-CAfile",
                              _pem(pki[anchor], tmp_path), "-partial_chain", "-purpose", "any", "-out", "/dev/null"],
                             cwd=bundle, capture_output=True, check=False)
        assert (cms.returncode == 0) == verified, cms.stderr


def _pem(path: Path, tmp_path: Path) -> str:
    if path.suffix != ".der":
        return str(path)
    from cryptography import x509

    pem = tmp_path / "anchor.pem"
    pem.write_bytes(x509.load_der_x509_certificate(path.read_bytes()).public_bytes(serialization.Encoding.PEM))
    return str(pem)


@pytest.mark.parametrize("form", ["der", "pem", "another key"])
def test_a_kms_public_key_pins_the_kms_signer(tmp_path, capsys, form):
    bundle = small_bundle(tmp_path / "bundle", Ed25519PrivateKey.generate())
    shutil.rmtree(bundle / "signatures")
    (bundle / "signatures").mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    kms_sign(bundle, key)
    given = ec.generate_private_key(ec.SECP256R1()).public_key() if form == "another key" else key.public_key()
    exported = tmp_path / "kms-public"
    exported.write_bytes(given.public_bytes(serialization.Encoding.PEM if form == "pem" else serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo))
    code, lines, _ = verify_cli(capsys, bundle, "--trusted-kms", exported)
    if form == "another key":
        assert code == 1 and any(line.startswith("kms signature: valid, but NOT by any anchor you gave")
                                 for line in lines), lines
    else:
        assert code == 0 and lines[-1] == "VERIFIED", lines


def test_bad_anchors_are_bad_input_on_one_line(signed_run, tmp_path, anchors, capsys):
    garbage = tmp_path / "garbage"
    garbage.write_text("not a key, not a certificate\n")
    private = tmp_path / "id_ed25519"
    private.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    for args, message in [
        (["--trusted-key", tmp_path / "missing.pub"], f"--trusted-key {tmp_path}/missing.pub does not exist"),
        (["--trusted-key", garbage], "holds no OpenSSH public key"),
        (["--trusted-key", private], "holds no OpenSSH public key"),
        (["--trusted-key", tmp_path], "cannot be read"),
        (["--trusted-ca", garbage], "holds no X.509 certificate"),
        (["--trusted-kms", garbage], "holds no public key"),
        (["--trusted-kms", tmp_path / "missing.der"], "does not exist"),
        (["--no-pin", "--trusted-key", anchors["KEY"]], "--no-pin with a trusted key"),
    ]:
        code, lines, err = verify_cli(capsys, signed_run[0], *args)
        assert code == 2 and lines == [], (args, lines)
        assert err.startswith("rootwatch: ") and err.count("\n") == 1 and message in err, (args, err)
        assert "PRIVATE KEY" not in err and "Traceback" not in err
