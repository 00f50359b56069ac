"""A real signed bundle, made once per session by `rootwatch run` with every local signer."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"


def make_identity(directory: Path, name: str = "Audit Signer", passphrase: str = PASSPHRASE) -> tuple[Path, Path]:
    """A self-signed signing certificate in a PKCS#12 file, and the certificate as PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example Compliance")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
            .sign(key, hashes.SHA256()))
    p12 = directory / f"{name.replace(' ', '_')}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"signer", key, cert, None, serialization.BestAvailableEncryption(passphrase.encode())))
    pem = directory / f"{name.replace(' ', '_')}.crt.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


def run_env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CONFIG_HOME": str(tmp / "config"), "ROOTWATCH_P12_PASSPHRASE": PASSPHRASE}


def rootwatch(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rootwatch", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)


@pytest.fixture(scope="session")
def identity(tmp_path_factory) -> tuple[Path, Path]:
    return make_identity(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def signed_run(tmp_path_factory, identity):
    """(bundle directory, environment) for a sandbox run signed with the SSH dev key and X.509."""
    tmp = tmp_path_factory.mktemp("signed")
    p12, _ = identity
    params = tmp / "params.yaml"
    params.write_text((ROOT / "parameters" / "sandbox.yaml").read_text() + f"""
signing:
  ssh: dev
  x509: {{path: {p12}, passphrase_env: ROOTWATCH_P12_PASSPHRASE}}
pdf: {{renderer: weasyprint, paper: A4}}
""")
    env = run_env(tmp)
    done = rootwatch("run", str(params), "--out", str(tmp / "bundle"), "--quiet", env=env)
    assert done.returncode == 1, done.stderr[-3000:]
    return tmp / "bundle", env


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
