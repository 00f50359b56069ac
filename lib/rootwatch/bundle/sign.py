"""Who signs a bundle, and how: an OpenSSH Ed25519 key (SSHSIG), an X.509 identity from a PKCS#12
file (CMS detached signature of the manifest, PAdES signature inside the PDF), an AWS KMS
asymmetric key (``kms:Sign`` over the manifest's SHA-256).

Each signer kind is declared beside its code (``SIGNERS``: its parameter settings, its files) and
writes under ``signatures/`` the plain names an auditor can guess (``FILES``): the signature, then
the public half it verifies with. Keys and passphrases are read, never copied.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from rootwatch.bundle import sshsig
from rootwatch.errors import SigningError

SIGNATURES = "signatures"
DEV_KEY_LABEL = "rootwatch development key (not an audit identity)"


@dataclass(frozen=True)
class SignerKind:
    """A kind of signer, declared beside its code: how the parameter file configures it and what it
    writes. Parameter validation, ``verify`` and README.txt read these declarations."""

    kind: str  # its key under signing: in the parameter file
    files: tuple[str, str]  # under signatures/: the signature of manifest.json, the public half that checks it
    required: tuple[str, ...]  # its settings in the parameter file
    optional: tuple[str, ...] = ()


SIGNERS: dict[str, SignerKind] = {}  # by kind, in the order README.txt and verify list them


def _declare(kind: SignerKind) -> SignerKind:
    SIGNERS[kind.kind] = kind
    return kind


class Signer(Protocol):
    KIND: ClassVar[SignerKind]
    identity: str

    def sign_manifest(self, manifest: bytes, signatures: Path) -> list[Path]: ...


def config_dir() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "rootwatch"


def _passphrase(env: str | None) -> bytes | None:
    if not env:
        return None
    if env not in os.environ:
        raise SigningError(f"environment variable {env} (the key's passphrase) is not set",
                           f"export {env}=... before running")
    return os.environ[env].encode()


def _read(path: Path, what: str) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except FileNotFoundError:
        raise SigningError(f"{what} {path} does not exist", "fix the path under signing: in the parameter file") from None
    except OSError as exc:
        raise SigningError(f"{what} {path} cannot be read: {exc.strerror}", "check its permissions") from None


@dataclass
class SshSigner:
    KIND: ClassVar[SignerKind] = _declare(SignerKind("ssh", ("manifest.json.sshsig", "signer.pub"), ("key",),
                                                     ("passphrase_env",)))
    key: ed25519.Ed25519PrivateKey
    comment: str

    @property
    def identity(self) -> str:
        return f"{self.comment} ({sshsig.fingerprint(self.key.public_key())})"

    @classmethod
    def from_file(cls, path: Path, passphrase_env: str | None = None) -> SshSigner:
        data = _read(path, "SSH key")
        try:
            key = serialization.load_ssh_private_key(data, _passphrase(passphrase_env))
        except (ValueError, TypeError) as exc:
            why = "wrong passphrase" if passphrase_env and "checksum" in str(exc) else str(exc)
            raise SigningError(f"SSH key {path} cannot be loaded ({why})",
                               "give an unencrypted key or its passphrase_env") from None
        except UnsupportedAlgorithm as exc:  # e.g. an encrypted key without bcrypt (its KDF) installed
            raise SigningError(f"SSH key {path} cannot be loaded ({exc})",
                               "an encrypted key needs the bcrypt module (pip install bcrypt)") from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise SigningError(f"SSH key {path} is not Ed25519", "create one with: ssh-keygen -t ed25519")
        pub = Path(str(path.expanduser()) + ".pub")
        comment = pub.read_text().split(None, 2)[2].strip() if pub.is_file() and len(pub.read_text().split()) > 2 \
            else path.name
        return cls(key, comment)

    @classmethod
    def development(cls) -> SshSigner:
        """A key made on first use in the user's config directory, labelled as a development key."""
        path = config_dir() / "signing" / "dev_ed25519"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = ed25519.Ed25519PrivateKey.generate()
            comment = f"{DEV_KEY_LABEL} {getpass.getuser()}@{socket.gethostname()}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
            Path(str(path) + ".pub").write_text(sshsig.public_line(key.public_key(), comment) + "\n")
        return cls.from_file(path)

    def sign_manifest(self, manifest: bytes, signatures: Path) -> list[Path]:
        sig, pub = (signatures / name for name in self.KIND.files)
        sig.write_text(sshsig.sign(manifest, self.key))
        pub.write_text(sshsig.public_line(self.key.public_key(), self.comment) + "\n")
        return [sig, pub]


@dataclass
class X509Signer:
    path: Path
    passphrase: bytes | None = field(repr=False)  # a repr (a Plan in a traceback, a debugger) must not show it
    key: Any
    certificate: Any
    chain: list[Any]
    KIND: ClassVar[SignerKind] = _declare(SignerKind("x509", ("manifest.json.p7s", "signer.crt.pem"), ("path",),
                                                     ("passphrase_env",)))

    @property
    def identity(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @classmethod
    def from_pkcs12(cls, path: Path, passphrase_env: str | None = None) -> X509Signer:
        data, secret = _read(path, "PKCS#12 file"), _passphrase(passphrase_env)
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(data, secret)
        except ValueError:
            raise SigningError(f"PKCS#12 file {path} cannot be opened: wrong passphrase or not a PKCS#12 file",
                               "check passphrase_env and the file") from None
        if key is None or cert is None:
            raise SigningError(f"PKCS#12 file {path} holds no private key and certificate", "export both into it")
        return cls(path.expanduser(), secret, key, cert, list(chain or []))

    def sign_manifest(self, manifest: bytes, signatures: Path) -> list[Path]:
        builder = pkcs7.PKCS7SignatureBuilder().set_data(manifest).add_signer(self.certificate, self.key,
                                                                                hashes.SHA256())
        for extra in self.chain:
            builder = builder.add_certificate(extra)
        der = builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                         pkcs7.PKCS7Options.Binary])
        sig, crt = (signatures / name for name in self.KIND.files)
        sig.write_bytes(der)
        crt.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [self.certificate, *self.chain]))
        return [sig, crt]

    def sign_pdf(self, pdf: Path) -> None:
        """PAdES (B-B) signature inside the PDF, in place."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        signer = signers.SimpleSigner.load_pkcs12(str(self.path), passphrase=self.passphrase)
        if signer is None:
            raise SigningError(f"pyHanko cannot load {self.path}", "check the PKCS#12 file")
        meta = signers.PdfSignatureMetadata(field_name="rootwatch-evidence", md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES,
                                            reason="rootwatch evidence bundle", name=self.identity)
        with pdf.open("rb") as source:
            signed = signers.sign_pdf(IncrementalPdfFileWriter(source), meta, signer=signer)
        pdf.write_bytes(signed.getvalue())


@dataclass
class KmsSigner:
    KIND: ClassVar[SignerKind] = _declare(SignerKind("kms", ("manifest.json.kms.sig", "kms-public.pem"),
                                                     ("key_id",), ("region",)))
    client: Any
    key_id: str
    key_arn: str = ""
    public_pem: bytes = b""
    algorithm: str = ""

    @property
    def identity(self) -> str:
        return f"AWS KMS key {self.key_arn or self.key_id}"

    @classmethod
    def connect(cls, client: Any, key_id: str) -> KmsSigner:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = client.get_public_key(KeyId=key_id)
        except (ClientError, BotoCoreError) as exc:
            raise SigningError(f"KMS key {key_id} cannot be used: {exc}", "check the key id and kms:GetPublicKey") \
                from None
        public = serialization.load_der_public_key(response["PublicKey"])
        algorithm = kms_algorithm(public)
        if algorithm not in response.get("SigningAlgorithms", []):
            raise SigningError(f"KMS key {key_id} cannot sign with {algorithm}", "use an ECC_NIST_P256 or RSA key "
                               "with key usage SIGN_VERIFY")
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        return cls(client, key_id, key_arn=response["KeyId"], public_pem=pem, algorithm=algorithm)

    def sign_manifest(self, manifest: bytes, signatures: Path) -> list[Path]:
        """``kms:Sign`` over the manifest's SHA-256 (MessageType DIGEST: no 4 KB message limit),
        which ``openssl dgst -sha256 -verify kms-public.pem`` checks against the manifest itself."""
        response = self.client.sign(KeyId=self.key_id, Message=hashlib.sha256(manifest).digest(),
                                    MessageType="DIGEST", SigningAlgorithm=self.algorithm)
        sig, pub = (signatures / name for name in self.KIND.files)
        sig.write_bytes(response["Signature"])
        pub.write_bytes(self.public_pem)
        return [sig, pub]


# kind -> (signature of manifest.json, the public half that checks it), under signatures/: all that
# directory may hold (``verify``), and what README.txt tells the auditor to expect there
FILES = {kind: declared.files for kind, declared in SIGNERS.items()}


def kms_algorithm(public: Any) -> str:
    if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp256r1":
        return "ECDSA_SHA_256"
    if isinstance(public, rsa.RSAPublicKey):
        return "RSASSA_PKCS1_V1_5_SHA_256"
    raise SigningError("KMS key type is not supported", "use an ECC_NIST_P256 or RSA signing key")
