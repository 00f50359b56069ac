"""A real signed bundle, made once per session by `rootwatch run` with every local signer."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from rootwatch.bundle import manifest as mf
from rootwatch.bundle import sshsig
from rootwatch.bundle.sign import SshSigner, X509Signer
from tests.shared import built_once

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"


def certificate(name: str, key, issuer: tuple[x509.Name, object] | None = None, ca: bool = False) -> x509.Certificate:
    """A certificate for ``key``: self-signed, or issued by ``issuer`` (its name and private key)."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Compliance")])
    issuer_name, issuer_key = issuer or (subject, key)
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False) if ca else \
        x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365)).add_extension(usage, True)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
            .sign(issuer_key, hashes.SHA256()))


def make_identity(directory: Path, name: str = "Audit Signer", passphrase: str = PASSPHRASE,
                  issuer: tuple[x509.Name, object] | None = None, chain: list[x509.Certificate] = ()) -> tuple[Path, Path]:
    """A signing certificate (self-signed, or issued by ``issuer``) in a PKCS#12 file, and the
    certificate as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = certificate(name, key, issuer)
    p12 = directory / f"{name.replace(' ', '_')}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"signer", key, cert, list(chain) or None, serialization.BestAvailableEncryption(passphrase.encode())))
    pem = directory / f"{name.replace(' ', '_')}.crt.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


def public_key_file(path: Path, key: Ed25519PrivateKey, comment: str = "auditor's copy") -> Path:
    path.write_text(sshsig.public_line(key.public_key(), comment) + "\n")
    return path


def small_bundle(directory: Path, key: Ed25519PrivateKey, comment: str = "Example Compliance evidence key") -> Path:
    """A bundle with a few files, its manifest and an SSH signature: what `rootwatch run` makes, small."""
    (directory / "data").mkdir(parents=True)
    (directory / "findings.json").write_text('[{"status": "PASS"}]')
    (directory / "data" / "alarms.csv").write_text("alarm_name\nroot\n")
    (directory / "environment.json").write_text(json.dumps({"signers": [{"kind": "ssh", "identity": comment}]}))
    mf.write(directory, directory.name, "2026-10-01T00:00:00+00:00", "test")
    sign_ssh(directory, key, comment)
    return directory


def rewrite_manifest(bundle: Path) -> None:
    """What a forger does after changing files: SHA256SUMS and manifest.json made again to match."""
    old = json.loads((bundle / "manifest.json").read_text())
    mf.write(bundle, old["run_id"], old["created"], old["rootwatch"])


def forge_cms(bundle: Path) -> None:
    """The CMS signature and signer.crt.pem replaced by the forger's, a self-signed "Audit Signer"."""
    key = ec.generate_private_key(ec.SECP256R1())
    X509Signer(Path("forged.p12"), None, key, certificate("Audit Signer", key), []).sign_manifest(
        (bundle / "manifest.json").read_bytes(), bundle / "signatures")


def kms_sign(bundle: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """What `kms:Sign` (ECDSA_SHA_256) writes under signatures/, made with a local key."""
    (bundle / "signatures" / "manifest.json.kms.sig").write_bytes(
        key.sign((bundle / "manifest.json").read_bytes(), ec.ECDSA(hashes.SHA256())))
    (bundle / "signatures" / "kms-public.pem").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def sign_ssh(bundle: Path, key: Ed25519PrivateKey, comment: str = "mallory") -> None:
    """(Re-)sign the bundle's manifest.json with ``key``: the signature and signer.pub."""
    (bundle / "signatures").mkdir(exist_ok=True)
    SshSigner(key, comment).sign_manifest((bundle / "manifest.json").read_bytes(), bundle / "signatures")


def run_env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config"), "ROOTWATCH_P12_PASSPHRASE": PASSPHRASE}


def rootwatch(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rootwatch", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)


def _signed_run(tmp: Path, p12: Path) -> None:
    params = tmp / "params.yaml"
    params.write_text((ROOT / "parameters" / "sandbox.yaml").read_text() + f"""
signing:
  ssh: dev
  x509: {{path: {p12}, passphrase_env: ROOTWATCH_P12_PASSPHRASE}}
pdf: {{renderer: weasyprint, paper: A4}}
""")
    done = rootwatch("run", str(params), "--out", str(tmp / "bundle"), "--quiet", env=run_env(tmp))
    (tmp / "run.json").write_text(json.dumps({"args": done.args, "returncode": done.returncode,
                                              "stdout": done.stdout, "stderr": done.stderr}))
    assert done.returncode == 1, done.stderr[-3000:]


def signed_sandbox_run(factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path, dict[str, str]]:
    """`rootwatch run parameters/sandbox.yaml` signed with the SSH development key and X.509 (A4
    paper), made once per test session for every module that reads it (tests that change a bundle
    change a copy): how it ended, its bundle and its environment."""
    pki = built_once(factory, "pki", make_identity)
    tmp = built_once(factory, "signed-run", lambda tmp: _signed_run(tmp, pki / "Audit_Signer.p12"))
    return subprocess.CompletedProcess(**json.loads((tmp / "run.json").read_text())), tmp / "bundle", run_env(tmp)


@pytest.fixture(scope="session")
def identity(tmp_path_factory) -> tuple[Path, Path]:
    """The X.509 signer of the signed run: its PKCS#12 file and certificate."""
    pki = built_once(tmp_path_factory, "pki", make_identity)
    return pki / "Audit_Signer.p12", pki / "Audit_Signer.crt.pem"


@pytest.fixture(scope="session")
def signed_run(tmp_path_factory):
    """(bundle directory, environment) of the signed sandbox run."""
    _, bundle, env = signed_sandbox_run(tmp_path_factory)
    return bundle, env


@pytest.fixture(scope="session")
def anchors(signed_run, identity) -> dict[str, Path]:
    """What the auditor was given out of band, by the README.txt variable naming it: the signing SSH
    key (the development key `rootwatch run` made) and the X.509 signer's certificate."""
    return {"KEY": Path(signed_run[1]["XDG_CONFIG_HOME"]) / "rootwatch" / "signing" / "dev_ed25519.pub",
            "CA": identity[1]}


@pytest.fixture(scope="session")
def pins(anchors) -> list[str]:
    """``rootwatch verify`` options pinning the signed run's signers."""
    return ["--trusted-key", str(anchors["KEY"]), "--trusted-ca", str(anchors["CA"])]


@pytest.fixture
def copy_of(signed_run, tmp_path):
    """A fresh copy of the signed bundle to tamper with."""
    count = iter(range(1000))

    def make() -> Path:
        target = tmp_path / f"copy{next(count)}"
        shutil.copytree(signed_run[0], target)
        return target
    make.original_signer = (signed_run[0] / "signatures" / "signer.pub").read_text()
    return make
