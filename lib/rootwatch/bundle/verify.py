"""``rootwatch verify``: is this bundle exactly what was signed, and who signed it?

Stands alone (no AWS, no network): re-hashes every file against ``manifest.json``, names every
missing, extra or modified file, and checks each signature present — SSHSIG, CMS, KMS over the
manifest, PAdES inside the PDF. An auditor can do the same with ``sha256sum``, ``ssh-keygen``,
``openssl`` and ``pdfsig`` (see the bundle's README.txt).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from rootwatch.bundle import manifest as mf
from rootwatch.bundle import sshsig
from rootwatch.errors import BundleError
from rootwatch.extras import installed


@dataclass(frozen=True)
class SignatureCheck:
    kind: str
    ok: bool
    signer: str
    detail: str


@dataclass
class Verification:
    bundle: Path
    run_id: str
    created: str
    files: mf.Check
    signatures: list[SignatureCheck] = field(default_factory=list)
    incomplete: bool = False

    @property
    def ok(self) -> bool:
        return self.files.ok and bool(self.signatures) and all(s.ok for s in self.signatures) and not self.incomplete

    def lines(self) -> list[str]:
        out = [f"bundle {self.bundle} (run {self.run_id}, created {self.created})"]
        if self.incomplete:
            out.append("INCOMPLETE: the run did not finish; this is not evidence")
        out += [f"missing file: {p}" for p in self.files.missing]
        out += [f"modified file: {p}" for p in self.files.modified]
        out += [f"extra file (not in the manifest): {p}" for p in self.files.extra]
        if self.files.ok:
            out.append("files: every file matches manifest.json (SHA-256 and size)")
        if not self.signatures:
            out.append("no signature found under signatures/")
        for s in self.signatures:
            out.append(f"{s.kind} signature: {'valid' if s.ok else 'INVALID'} — {s.detail}; signer: {s.signer}")
        out.append("VERIFIED" if self.ok else "NOT VERIFIED")
        return out


def verify_bundle(bundle: Path, trusted_key: Path | None = None) -> Verification:
    bundle = Path(bundle)
    manifest_path = bundle / mf.MANIFEST
    if not bundle.is_dir() or not manifest_path.is_file():
        raise BundleError(f"{bundle} is not a rootwatch bundle (no {mf.MANIFEST})", "give a reports/<run-id> directory")
    raw = manifest_path.read_bytes()
    try:
        manifest = json.loads(raw)
        ok_format = manifest.get("format") == mf.FORMAT and isinstance(manifest.get("files"), list)
    except (ValueError, AttributeError):
        ok_format = False
    result = Verification(bundle, "?", "?", mf.Check(), incomplete=(bundle / mf.INCOMPLETE).exists())
    if not ok_format:
        result.files.modified.append(mf.MANIFEST)
        result.signatures = _signatures(bundle, raw, trusted_key)
        return result
    result.run_id, result.created = manifest.get("run_id", "?"), manifest.get("created", "?")
    result.files = mf.check(bundle, manifest)
    result.signatures = _signatures(bundle, raw, trusted_key)
    pdf = bundle / "report.pdf"
    if pdf.is_file() and (bundle / "signatures" / "manifest.json.p7s").is_file() and installed("x509"):
        result.signatures.append(_pades(pdf))
    return result


def _signatures(bundle: Path, manifest: bytes, trusted_key: Path | None) -> list[SignatureCheck]:
    sig_dir = bundle / "signatures"
    checks = []
    if (sig_dir / "manifest.json.sshsig").is_file():
        checks.append(_ssh(sig_dir, manifest, trusted_key))
    if (sig_dir / "manifest.json.p7s").is_file():
        checks.append(_cms(sig_dir, manifest) if installed("x509") else SignatureCheck(
            "x509", False, "?", "the CMS signature cannot be checked here: install rootwatch's x509 extra "
                                "(pip install 'rootwatch[x509]'), or check it with openssl cms -verify"))
    if (sig_dir / "manifest.json.kms.sig").is_file():
        checks.append(_kms(sig_dir, manifest))
    return checks


def _ssh(sig_dir: Path, manifest: bytes, trusted_key: Path | None) -> SignatureCheck:
    pub_path = sig_dir / "signer.pub"
    signer = pub_path.read_text().strip() if pub_path.is_file() else "(signer.pub missing)"
    try:
        verified = sshsig.verify(manifest, (sig_dir / "manifest.json.sshsig").read_text())
    except ValueError as exc:
        return SignatureCheck("ssh", False, signer, str(exc))
    made_by = sshsig.public_line(verified.key, "").split()[1]
    listed = signer.split()[1] if len(signer.split()) > 1 else ""
    if made_by != listed:
        return SignatureCheck("ssh", False, signer, "the signature was made by another key than signatures/signer.pub")
    detail = f"SSHSIG namespace file over manifest.json, key {sshsig.fingerprint(verified.key)}"
    if trusted_key is not None:
        trusted = Path(trusted_key).read_text().split()
        if len(trusted) < 2 or trusted[1] != made_by:
            return SignatureCheck("ssh", False, signer, detail + "; NOT the trusted key you gave")
        detail += "; matches the trusted key you gave"
    elif "development key" in signer:
        detail += "; a development key, not an audit identity"
    return SignatureCheck("ssh", True, " ".join(signer.split()[2:]) or signer, detail)


def _cms(sig_dir: Path, manifest: bytes) -> SignatureCheck:
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        content = cms.ContentInfo.load((sig_dir / "manifest.json.p7s").read_bytes())
        status = asyncio.run(async_validate_detached_cms(manifest, content["content"],
                                                         signer_validation_context=_no_trust_store()))
    except Exception as exc:  # noqa: BLE001 - any parse or validation failure means: not valid
        return SignatureCheck("x509", False, "?", f"CMS signature unreadable: {exc}")
    signer = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
    when = status.signer_reported_dt.isoformat() if status.signer_reported_dt else "no signing time"
    if not (status.intact and status.valid):
        return SignatureCheck("x509", False, signer, "the CMS signature does not match manifest.json")
    trust = "certificate trusted" if status.trusted else "certificate chain not checked here (check it with "\
        "openssl cms -verify -CAfile <your CA>)"
    return SignatureCheck("x509", True, signer, f"CMS detached signature over manifest.json, signed {when}; {trust}")


def _kms(sig_dir: Path, manifest: bytes) -> SignatureCheck:
    try:
        public = serialization.load_pem_public_key((sig_dir / "kms-public.pem").read_bytes())
    except (FileNotFoundError, ValueError) as exc:
        return SignatureCheck("kms", False, "?", f"kms-public.pem unusable: {exc}")
    signature = (sig_dir / "manifest.json.kms.sig").read_bytes()
    fingerprint = hashlib.sha256(public.public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, manifest, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, manifest, padding.PKCS1v15(), hashes.SHA256())
        else:
            return SignatureCheck("kms", False, "?", "unsupported public key type")
    except InvalidSignature:
        return SignatureCheck("kms", False, f"public key sha256:{fingerprint[:16]}",
                              "the KMS signature does not match manifest.json")
    return SignatureCheck("kms", True, f"AWS KMS public key sha256:{fingerprint[:16]}",
                          "kms:Sign (SHA-256) over manifest.json")


def _pades(pdf: Path) -> SignatureCheck:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        with pdf.open("rb") as handle:
            signatures = PdfFileReader(handle).embedded_signatures
            if not signatures:
                return SignatureCheck("pdf", False, "?", "report.pdf carries no signature")
            status = validate_pdf_signature(signatures[-1], signer_validation_context=_no_trust_store())
            signer = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
            whole = status.coverage.name == "ENTIRE_FILE"
    except Exception as exc:  # noqa: BLE001 - a damaged PDF is simply not verified
        return SignatureCheck("pdf", False, "?", f"report.pdf cannot be checked: {exc}")
    ok = status.intact and status.valid and whole
    return SignatureCheck("pdf", ok, signer, "PAdES signature inside report.pdf " +
                          ("covers the whole file" if ok else "does not match the file"))


def _no_trust_store():
    """Signatures are checked here, trust is the auditor's call (their CA file, their pinned key).
    pyhanko logs each certificate it cannot chain to a root, with a traceback: expected here (the
    check's detail says the chain is not checked), so it is not printed over the verdict lines."""
    import logging

    from pyhanko_certvalidator import ValidationContext

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.ERROR)

    return ValidationContext(trust_roots=[])
