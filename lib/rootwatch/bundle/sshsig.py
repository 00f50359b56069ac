"""OpenSSH signatures (the SSHSIG format of ``ssh-keygen -Y sign``), Ed25519 only.

Written here rather than shelling out to ssh-keygen so signing works wherever Python does; the
tests check every signature with ``ssh-keygen -Y verify``. Format: OpenSSH PROTOCOL.sshsig.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAGIC = b"SSHSIG"
NAMESPACE = "file"
HASH = "sha512"
KEY_TYPE = b"ssh-ed25519"
BEGIN, END = "-----BEGIN SSH SIGNATURE-----", "-----END SSH SIGNATURE-----"
# the key types OpenSSH writes in .pub and allowed_signers files (only Ed25519 signs bundles)
KEY_TYPES = re.compile(r"ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)"
                       r"@openssh\.com")


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _read(blob: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(blob):
        raise ValueError("truncated SSH signature")
    (length,) = struct.unpack(">I", blob[pos:pos + 4])
    end = pos + 4 + length
    if end > len(blob):
        raise ValueError("truncated SSH signature")
    return blob[pos + 4:end], end


def public_blob(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return _string(KEY_TYPE) + _string(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_line(key: Ed25519PublicKey, comment: str) -> str:
    """One OpenSSH public-key line, as in ``id_ed25519.pub``."""
    return f"ssh-ed25519 {base64.b64encode(public_blob(key)).decode()} {comment}".strip()


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
    return PublicKey(public_blob(key), "").fingerprint


@dataclass(frozen=True)
class PublicKey:
    blob: bytes  # the key as the wire format encodes it: what a signature names its key by
    comment: str

    @property
    def fingerprint(self) -> str:
        return "SHA256:" + base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")


def public_keys(text: str) -> list[PublicKey]:
    """Every key of an OpenSSH public key file (``type base64 comment``) or allowed_signers file
    (principals and options before the type), so an auditor can pin with whichever they were given."""
    keys = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        for at, word in enumerate(words[:-1]):
            if KEY_TYPES.fullmatch(word):
                try:
                    blob = base64.b64decode(words[at + 1], validate=True)
                    named, _ = _read(blob, 0)
                except ValueError:
                    continue
                if named == word.encode():
                    keys.append(PublicKey(blob, " ".join(words[at + 2:])))
                    break
    return keys


def _signed_data(message: bytes, namespace: str) -> bytes:
    return (MAGIC + _string(namespace.encode()) + _string(b"") + _string(HASH.encode())
            + _string(hashlib.sha512(message).digest()))


def sign(message: bytes, key: Ed25519PrivateKey, namespace: str = NAMESPACE) -> str:
    """The armored signature ``ssh-keygen -Y sign -n <namespace>`` would write."""
    signature = key.sign(_signed_data(message, namespace))
    blob = (MAGIC + struct.pack(">I", 1) + _string(public_blob(key.public_key())) + _string(namespace.encode())
            + _string(b"") + _string(HASH.encode()) + _string(_string(KEY_TYPE) + _string(signature)))
    text = base64.b64encode(blob).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


@dataclass(frozen=True)
class Verified:
    key: Ed25519PublicKey
    namespace: str


def verify(message: bytes, armored: str, namespace: str = NAMESPACE) -> Verified:
    """Check an armored SSHSIG over ``message``; raise ``ValueError`` saying what is wrong."""
    lines = armored.strip().splitlines()
    if len(lines) < 3 or lines[0] != BEGIN or lines[-1] != END:
        raise ValueError("not an armored SSH signature")
    body = "".join(lines[1:-1])
    try:
        blob = base64.b64decode(body, validate=True)
    except ValueError:
        raise ValueError("the SSH signature is not valid base64") from None
    if not blob.startswith(MAGIC) or blob[6:10] != struct.pack(">I", 1):
        raise ValueError("not an SSHSIG version 1 signature")
    pos = 10
    key_blob, pos = _read(blob, pos)
    ns, pos = _read(blob, pos)
    _, pos = _read(blob, pos)
    hash_alg, pos = _read(blob, pos)
    sig_blob, pos = _read(blob, pos)
    key_type, kpos = _read(key_blob, 0)
    raw_key, _ = _read(key_blob, kpos)
    sig_type, spos = _read(sig_blob, 0)
    raw_sig, _ = _read(sig_blob, spos)
    if key_type != KEY_TYPE or sig_type != KEY_TYPE:
        raise ValueError(f"unsupported key type {key_type.decode(errors='replace')}")
    if ns.decode() != namespace:
        raise ValueError(f"signature namespace is {ns.decode(errors='replace')!r}, expected {namespace!r}")
    if hash_alg != HASH.encode():
        raise ValueError(f"unsupported hash {hash_alg.decode(errors='replace')}")
    key = Ed25519PublicKey.from_public_bytes(raw_key)
    try:
        key.verify(raw_sig, _signed_data(message, namespace))
    except InvalidSignature:
        raise ValueError("the SSH signature does not match the signed file") from None
    return Verified(key, namespace)
