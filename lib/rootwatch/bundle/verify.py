"""``rootwatch verify``: is this bundle exactly what was signed, and signed by someone the auditor trusts?

Stands alone (no AWS, no network). The verdict:

- **VERIFIED** (exit 0): the bundle holds exactly the files ``manifest.json`` lists, each as listed,
  and nothing else (no other file, no symlink, FIFO, socket, device or empty directory;
  ``signatures/`` holds the files the signed README.txt names and no other); every
  signature present is valid; at least one signature over the manifest is by a trust anchor the
  auditor named (``Trust``: an OpenSSH key, an X.509 CA or certificate, a KMS public key), and every
  signature of a kind the auditor anchored is by one of those anchors.
- **integrity intact; signer not pinned**: all of that, but the auditor named no anchor, so nothing
  says who signed. Exit 1, unless the auditor said a pin is not needed (``--no-pin``): exit 0.
- **NOT VERIFIED** (exit 1) otherwise, each reason named.

A path that is not a bundle, or an anchor file that cannot be read, is bad input (``BundleError``,
``ParameterError``: exit 2). What is wrong *inside* a bundle — a malformed manifest included — is a
reason it is not verified. Every bundle's README.txt gives the same checks as shell commands
(``readme``); tests hold the two to the same answer for every tamper case. Everything printed goes
through ``untrusted.terminal``: a file name or signer name cannot write on the auditor's terminal.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from rootwatch.bundle import manifest as mf
from rootwatch.bundle import sshsig
from rootwatch.bundle.readme import declared_signatures
from rootwatch.bundle.sign import DEV_KEY_LABEL, FILES
from rootwatch.errors import BundleError, ParameterError
from rootwatch.extras import installed, require
from rootwatch.untrusted import terminal

SIGNATURE_LIMIT = 1 << 20  # bytes of a signature, public key, certificate or anchor file
SHOWN = 20  # files named per kind of problem; the rest are counted


# --- what the auditor trusts ------------------------------------------------------------------------

@dataclass(frozen=True)
class Trust:
    """The trust anchors an auditor names, each given to them out of band (never the bundle's copies)."""

    keys: tuple[sshsig.PublicKey, ...] = ()
    cas: tuple[bytes, ...] = ()  # DER X.509 certificates: a CA, an intermediate, or the signer's own
    kms: tuple[bytes, ...] = ()  # DER SubjectPublicKeyInfo of KMS keys (aws kms get-public-key)
    accept_unpinned: bool = False  # the auditor needs integrity only: no anchor, exit 0 all the same

    @property
    def pinned_kinds(self) -> set[str]:
        return {kind for kind, given in (("ssh", self.keys), ("x509", self.cas), ("kms", self.kms)) if given}

    @classmethod
    def load(cls, keys: Sequence[str] = (), cas: Sequence[str] = (), kms: Sequence[str] = (),
             accept_unpinned: bool = False) -> Trust:
        """The anchors in the files the auditor names (``ParameterError``, one line, when one is unusable)."""
        if accept_unpinned and (keys or cas or kms):
            raise ParameterError("--no-pin with a trusted key, CA or KMS key",
                                 "pin the signer, or accept an unpinned signer with --no-pin, not both")
        if cas:
            require("x509", "rootwatch verify --trusted-ca")
        return cls(tuple(k for path in keys for k in _ssh_anchor(Path(path))),
                   tuple(c for path in cas for c in _ca_anchor(Path(path))),
                   tuple(_kms_anchor(Path(path)) for path in kms), accept_unpinned)


def _anchor_bytes(path: Path, option: str) -> bytes:
    try:
        return mf.read_regular(path, SIGNATURE_LIMIT)
    except FileNotFoundError:
        raise ParameterError(f"{option} {path} does not exist", "give the file you were given") from None
    except (OSError, ValueError) as exc:
        raise ParameterError(f"{option} {path} cannot be read ({getattr(exc, 'strerror', None) or exc})",
                             "give the file you were given") from None


def _ssh_anchor(path: Path) -> list[sshsig.PublicKey]:
    keys = sshsig.public_keys(_anchor_bytes(path, "--trusted-key").decode("utf-8", errors="replace"))
    if not keys:
        raise ParameterError(f"--trusted-key {path} holds no OpenSSH public key",
                             "give the signer's .pub file (ssh-ed25519 AAAA...) or an allowed_signers line")
    return keys


def _ca_anchor(path: Path) -> list[bytes]:
    data = _anchor_bytes(path, "--trusted-ca")
    try:
        certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise ParameterError(f"--trusted-ca {path} holds no X.509 certificate",
                             "give your CA certificate (PEM or DER), or the signer's certificate itself") from None
    return [c.public_bytes(serialization.Encoding.DER) for c in certs]


def _kms_anchor(path: Path) -> bytes:
    data = _anchor_bytes(path, "--trusted-kms")
    try:
        key = serialization.load_pem_public_key(data) if b"-----BEGIN" in data else \
            serialization.load_der_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ParameterError(f"--trusted-kms {path} holds no public key", "export it: aws kms get-public-key "
                             "--key-id ARN --query PublicKey --output text | base64 -d > kms-public.der") from None
    return _spki(key)


def _spki(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- what was found ---------------------------------------------------------------------------------

class Status(Enum):
    VALID = "valid"
    INVALID = "INVALID"
    UNCHECKED = "CANNOT BE CHECKED here"  # e.g. the x509 extra is missing: never passes silently


class Anchor(Enum):
    PINNED = "by an anchor you gave"
    STRANGER = "but NOT by any anchor you gave"  # anchors of this kind were given; none made it
    NONE = "signer not anchored"  # no anchor of this kind was given


@dataclass(frozen=True)
class SignatureCheck:
    kind: str
    status: Status
    detail: str
    signer: str = "?"
    anchor: Anchor = Anchor.NONE
    over_manifest: bool = True  # False: the PDF's own signature, which vouches for report.pdf alone

    def line(self) -> str:
        state = self.status.value
        if self.status is Status.VALID and self.over_manifest:
            state += f", {self.anchor.value}"
        return f"{self.kind} signature: {state} — {self.detail}; signer: {self.signer}"


class Verdict(Enum):
    VERIFIED = "VERIFIED"
    UNPINNED = "integrity intact; signer not pinned"
    NOT_VERIFIED = "NOT VERIFIED"


@dataclass
class Verification:
    bundle: Path
    trust: Trust
    run_id: str = "?"
    created: str = "?"
    problems: list[str] = field(default_factory=list)  # what is wrong besides files and signatures
    files: mf.Check = field(default_factory=mf.Check)
    signatures: list[SignatureCheck] = field(default_factory=list)
    looked: bool = False  # signatures/ was examined (not when manifest.json cannot be read)

    @property
    def verdict(self) -> Verdict:
        over = [s for s in self.signatures if s.over_manifest]
        if (self.problems or not self.files.ok or not over or any(s.status is not Status.VALID for s in self.signatures)
                or any(s.anchor is Anchor.STRANGER for s in over)):
            return Verdict.NOT_VERIFIED
        if any(s.anchor is Anchor.PINNED for s in over):
            return Verdict.VERIFIED
        return Verdict.NOT_VERIFIED if self.trust.pinned_kinds else Verdict.UNPINNED

    @property
    def ok(self) -> bool:
        """Exit 0: verified, or intact and unpinned when the auditor said a pin is not needed."""
        return self.verdict is Verdict.VERIFIED or (self.verdict is Verdict.UNPINNED and self.trust.accept_unpinned)

    def lines(self) -> list[str]:
        return [terminal(line) for line in self._lines()]

    def _lines(self) -> list[str]:
        out = [f"bundle {self.bundle} (run {terminal(self.run_id, 200)}, created {terminal(self.created, 200)})"]
        out += self.problems
        check = self.files
        under = [p for p in check.extra if p.startswith(f"{mf.SIGNATURES}/")]
        for label, paths in (("missing file", check.missing), ("modified file", check.modified),
                             ("extra file (not in the manifest)", [p for p in check.extra if p not in under]),
                             ("extra file (not a signature file README.txt names)", under)):
            out += [f"{label}: {terminal(p, 300)}" for p in paths[:SHOWN]]
            if len(paths) > SHOWN:
                out.append(f"{label}: ... and {len(paths) - SHOWN:,} more")
        out += [f"{o.what} (never part of a bundle): {terminal(o.path, 300)}" for o in check.odd[:SHOWN]]
        if len(check.odd) > SHOWN:
            out.append(f"... and {len(check.odd) - SHOWN:,} more entries that are not regular files")
        if check.sums:
            out.append(check.sums)
        if check.ok and not self.problems:
            out.append("files: every file matches manifest.json (SHA-256 and size), and nothing else is here")
        if self.looked and not any(s.over_manifest for s in self.signatures):
            out.append("no signature of manifest.json under signatures/")
        out += [s.line() for s in self.signatures]
        verdict = self.verdict
        if verdict is Verdict.UNPINNED:
            out.append(f"{verdict.value} (--no-pin: who signed was not checked)" if self.trust.accept_unpinned else
                       f"NOT VERIFIED: {verdict.value} — name the anchor you were given with --trusted-key, "
                       "--trusted-ca or --trusted-kms (or accept an unpinned signer with --no-pin)")
            return out
        if verdict is Verdict.NOT_VERIFIED and self.trust.pinned_kinds and \
                not any(s.anchor is Anchor.PINNED for s in self.signatures):
            out.append("no signature is by an anchor you gave")
        out.append(verdict.value)
        return out


# --- the checks -------------------------------------------------------------------------------------

def verify_bundle(bundle: Path, trust: Trust = Trust()) -> Verification:
    bundle = Path(bundle)
    manifest_path = bundle / mf.MANIFEST
    if not bundle.is_dir() or not (manifest_path.exists() or manifest_path.is_symlink()):
        raise BundleError(f"{bundle} is not a rootwatch bundle (no {mf.MANIFEST})", "give a reports/<run-id> directory")
    result = Verification(bundle, trust)
    inventory = mf.walk(bundle)
    if mf.INCOMPLETE in inventory.files:
        result.problems.append("INCOMPLETE: the run did not finish; this is not evidence")
    raw: bytes | None = None
    manifest = None
    try:
        raw = mf.read_regular(manifest_path, mf.MANIFEST_LIMIT)
        manifest = mf.parse(raw)
        result.run_id, result.created = manifest.run_id, manifest.created
    except OSError:
        result.problems.append(f"{mf.MANIFEST} is not a regular file")
    except ValueError as exc:  # ManifestError, or larger than any manifest rootwatch writes
        result.problems.append(f"{mf.MANIFEST} is malformed: {exc}")
    present = {p.split("/", 1)[1] for p in inventory.files if p.startswith(f"{mf.SIGNATURES}/") and p.count("/") == 1}
    declared = _declared(bundle, manifest, inventory)
    known = {name for names in FILES.values() for name in names}
    allowed = known if declared is None else declared & known
    result.problems += [f"missing signature file: {mf.SIGNATURES}/{name} (README.txt names it)"
                        for name in sorted(allowed - present) if declared is not None]
    besides = frozenset({mf.MANIFEST} | {f"{mf.SIGNATURES}/{name}" for name in present & allowed})
    result.files = mf.check(bundle, manifest, inventory, besides)
    if raw is not None:
        result.looked = True
        result.signatures = _signatures(bundle, raw, present & allowed, trust)
        pdf = "report.pdf"
        if any(s.kind == "x509" for s in result.signatures) and pdf in inventory.files and installed("x509"):
            result.signatures.append(_pades(bundle / pdf))
    return result


def _signatures(bundle: Path, manifest: bytes, present: set[str], trust: Trust) -> list[SignatureCheck]:
    """Each signer kind with a file under signatures/, checked; a kind with one of its two files is invalid."""
    sig_dir = bundle / mf.SIGNATURES
    checks = []
    for kind, (signature, public) in FILES.items():
        if signature not in present and public not in present:
            continue
        missing = next((name for name in (signature, public) if name not in present), None)
        if missing:
            checks.append(SignatureCheck(kind, Status.INVALID, f"{mf.SIGNATURES}/{missing} is missing"))
            continue
        checks.append(_CHECKS[kind](sig_dir / signature, sig_dir / public, manifest, trust))
    return checks


def _declared(bundle: Path, manifest: mf.Manifest | None, inventory: mf.Inventory) -> set[str] | None:
    """The files the signed README.txt says signatures/ holds: no more, no fewer, so no signature can be
    added beside the signer's, nor one removed, unnoticed (the by-hand steps hold it to the same list)."""
    name = "README.txt"
    if manifest is None or name not in inventory.files or name not in {e.path for e in manifest.files}:
        return None
    try:
        return declared_signatures(mf.read_regular(bundle / name, SIGNATURE_LIMIT).decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return None


def _ssh(sig_path: Path, pub_path: Path, manifest: bytes, trust: Trust) -> SignatureCheck:
    try:
        made = sshsig.verify(manifest, mf.read_regular(sig_path, SIGNATURE_LIMIT).decode("ascii"))
        listed = sshsig.public_keys(mf.read_regular(pub_path, SIGNATURE_LIMIT).decode("utf-8", errors="replace"))
    except (OSError, ValueError) as exc:
        return SignatureCheck("ssh", Status.INVALID, str(exc))
    key = sshsig.PublicKey(sshsig.public_blob(made.key), "")
    claimed = listed[0].comment if listed else ""
    if [k.blob for k in listed] != [key.blob]:
        return SignatureCheck("ssh", Status.INVALID, "the signature was made by another key than "
                              f"{mf.SIGNATURES}/{pub_path.name}", key.fingerprint)
    detail = f"SSHSIG (namespace file) over manifest.json, key {key.fingerprint}"
    anchored = next((k for k in trust.keys if k.blob == key.blob), None)
    anchor = Anchor.PINNED if anchored else Anchor.STRANGER if trust.keys else Anchor.NONE
    signer = terminal((anchored.comment if anchored else claimed) or key.fingerprint, 200)
    if anchored:
        detail += ", which your --trusted-key names"
    elif trust.keys:
        detail += ", which no --trusted-key you gave names"
    if DEV_KEY_LABEL in claimed or (anchored and DEV_KEY_LABEL in anchored.comment):
        detail += "; a development key, not an audit identity"
    return SignatureCheck("ssh", Status.VALID, detail, signer if anchored else f"{signer} (as {pub_path.name} "
                          "says: not checked)", anchor)


def _cms(sig_path: Path, cert_path: Path, manifest: bytes, trust: Trust) -> SignatureCheck:
    if not installed("x509"):
        return SignatureCheck("x509", Status.UNCHECKED, "the CMS signature needs rootwatch's x509 extra "
                              "(pip install 'rootwatch[x509]'), or check it with openssl cms -verify (README.txt)")
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        content = cms.ContentInfo.load(mf.read_regular(sig_path, SIGNATURE_LIMIT))
        status = asyncio.run(async_validate_detached_cms(manifest, content["content"], **_validation(trust)))
        listed = x509.load_pem_x509_certificates(mf.read_regular(cert_path, SIGNATURE_LIMIT))[0]
        signer = terminal(status.signing_cert.subject.human_friendly, 300)
    except Exception as exc:  # noqa: BLE001 - any parse or validation failure means: not valid
        return SignatureCheck("x509", Status.INVALID, f"CMS signature or certificate unreadable: {exc}")
    if not (status.intact and status.valid):
        return SignatureCheck("x509", Status.INVALID, "the CMS signature does not match manifest.json", signer)
    if listed.public_bytes(serialization.Encoding.DER) != status.signing_cert.dump():
        return SignatureCheck("x509", Status.INVALID, "the signature was made with another certificate than "
                              f"{mf.SIGNATURES}/{cert_path.name}", signer)
    when = status.signer_reported_dt.isoformat() if status.signer_reported_dt else "no signing time"
    detail = f"CMS detached signature over manifest.json, signed {when}"
    if status.trusted:
        return SignatureCheck("x509", Status.VALID, f"{detail}; the certificate chains to your --trusted-ca", signer,
                              Anchor.PINNED)
    if trust.cas:
        why = status.trust_problem_indic.name if status.trust_problem_indic else "no path"
        return SignatureCheck("x509", Status.VALID, f"{detail}; the certificate does not chain to any --trusted-ca "
                              f"you gave ({why})", signer, Anchor.STRANGER)
    return SignatureCheck("x509", Status.VALID, detail, signer)


def _kms(sig_path: Path, pub_path: Path, manifest: bytes, trust: Trust) -> SignatureCheck:
    try:
        public = serialization.load_pem_public_key(mf.read_regular(pub_path, SIGNATURE_LIMIT))
        signature = mf.read_regular(sig_path, SIGNATURE_LIMIT)
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        return SignatureCheck("kms", Status.INVALID, f"{pub_path.name} or the signature unusable: {exc}")
    spki = _spki(public)
    signer = f"AWS KMS public key sha256:{hashlib.sha256(spki).hexdigest()[:16]}"
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, manifest, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, manifest, padding.PKCS1v15(), hashes.SHA256())
        else:
            return SignatureCheck("kms", Status.INVALID, "unsupported public key type", signer)
    except InvalidSignature:
        return SignatureCheck("kms", Status.INVALID, "the KMS signature does not match manifest.json", signer)
    detail = "kms:Sign (SHA-256) over manifest.json"
    if spki in trust.kms:
        return SignatureCheck("kms", Status.VALID, f"{detail}; the key is your --trusted-kms", signer, Anchor.PINNED)
    if trust.kms:
        return SignatureCheck("kms", Status.VALID, f"{detail}; the key is no --trusted-kms you gave", signer,
                              Anchor.STRANGER)
    return SignatureCheck("kms", Status.VALID, detail, signer)


_CHECKS = {"ssh": _ssh, "x509": _cms, "kms": _kms}


def _pades(pdf: Path) -> SignatureCheck:
    """The PDF's own signature, for when the PDF travels alone: one, over the whole file, intact."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    try:
        with mf.open_regular(pdf) as handle:
            signatures = PdfFileReader(handle).embedded_signatures
            if len(signatures) != 1:
                return SignatureCheck("pdf", Status.INVALID, f"report.pdf carries {len(signatures)} signatures, "
                                      "not the one rootwatch makes", over_manifest=False)
            status = validate_pdf_signature(signatures[0], **_validation(Trust()))
            signer = terminal(status.signing_cert.subject.human_friendly, 300) if status.signing_cert else "?"
    except Exception as exc:  # noqa: BLE001 - a damaged PDF is simply not verified
        return SignatureCheck("pdf", Status.INVALID, f"report.pdf cannot be checked: {exc}", over_manifest=False)
    if status.intact and status.valid and status.coverage.name == "ENTIRE_FILE":
        return SignatureCheck("pdf", Status.VALID, "PAdES signature inside report.pdf covers the whole file", signer,
                              over_manifest=False)
    return SignatureCheck("pdf", Status.INVALID, "the PAdES signature inside report.pdf does not match the file",
                          signer, over_manifest=False)


def _validation(trust: Trust) -> dict[str, Any]:
    """pyHanko's settings: the auditor's anchors as the only trust roots (an intermediate or the signer's
    own certificate included, as ``openssl -partial_chain``), any key usage (as ``-purpose any``), no
    fetching. pyHanko logs each certificate it cannot chain, with a traceback: expected when no anchor is
    given, and said in the verdict line, so it is not printed over it."""
    import logging

    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.ERROR)
    roots = [asn1_x509.Certificate.load(der) for der in trust.cas]
    return {"signer_validation_context": ValidationContext(trust_roots=roots, allow_fetching=False),
            "key_usage_settings": KeyUsageConstraints()}
