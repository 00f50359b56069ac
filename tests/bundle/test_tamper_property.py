"""Random tampering with a signed bundle — modify, add, delete, rename, the manifest made again,
re-signed with another key, signatures replaced or removed, in any order — never yields VERIFIED with
exit 0 when the auditor gives anchors, unless the signed evidence is byte for byte what was signed.

(Only the evidence: the bytes of signatures/ are signed by nothing, so some changes there are
harmless — signer.pub's comment, an ECDSA signature's other valid form — and verify alike.)
``derandomize=True``: CI runs the same examples every time.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rootwatch.bundle import manifest as mf
from rootwatch.bundle.verify import Trust, verify_bundle
from rootwatch.errors import BundleError
from tests.bundle.conftest import forge_cms, kms_sign, rewrite_manifest, sign_ssh

NAMES = ["extra.csv", "README.txt", "findings.json", "signer.pub", "manifest.json.kms.sig", "kms-public.pem",
         "manifest.json", "SHA256SUMS", ".hidden", "x\nVERIFIED", "INCOMPLETE"]
PICK = st.integers(0, 10**6)  # an index into whatever the bundle holds at that point
OPERATIONS = st.one_of(
    st.tuples(st.just("modify"), PICK, st.integers(0, 10**7), st.integers(1, 255)),
    st.tuples(st.just("add"), PICK, st.sampled_from(NAMES), st.binary(max_size=64)),
    st.tuples(st.just("delete"), PICK),
    st.tuples(st.just("rename"), PICK, st.sampled_from(NAMES)),
    st.tuples(st.just("rewrite manifest")),
    st.tuples(st.just("re-sign ssh")),
    st.tuples(st.just("forge cms")),
    st.tuples(st.just("add kms")),
    st.tuples(st.just("drop"), st.sampled_from([("manifest.json.sshsig", "signer.pub"),
                                                ("manifest.json.p7s", "signer.crt.pem")])),
)


def evidence(bundle: Path) -> dict[str, str]:
    """Every entry outside signatures/: a regular file's SHA-256, anything else its kind."""
    inventory = mf.walk(bundle)
    out = {rel: hashlib.sha256((bundle / rel).read_bytes()).hexdigest() for rel in inventory.files
           if not rel.startswith("signatures/")}
    return out | {o.path: o.what for o in inventory.odd}


def apply(bundle: Path, operation: tuple) -> None:
    files = sorted(mf.walk(bundle).files)
    directories = sorted({str(Path(f).parent) for f in files} | {".", "signatures"})
    kind, *args = operation
    if kind == "modify" and files:
        path = bundle / files[args[0] % len(files)]
        data = bytearray(path.read_bytes()) or bytearray(b"\0")
        data[args[1] % len(data)] ^= args[2]
        path.write_bytes(bytes(data))
    elif kind == "add":
        target = bundle / directories[args[0] % len(directories)] / args[1]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(args[2])
    elif kind == "delete" and files:
        (bundle / files[args[0] % len(files)]).unlink()
    elif kind == "rename" and files:
        source = bundle / files[args[0] % len(files)]
        source.rename(source.with_name(args[1]))
    elif kind == "rewrite manifest":
        rewrite_manifest(bundle)
    elif kind == "re-sign ssh":
        sign_ssh(bundle, Ed25519PrivateKey.generate(), "Example Compliance evidence key")
    elif kind == "forge cms":
        (bundle / "signatures").mkdir(exist_ok=True)
        forge_cms(bundle)
    elif kind == "add kms":
        (bundle / "signatures").mkdir(exist_ok=True)
        kms_sign(bundle, ec.generate_private_key(ec.SECP256R1()))
    elif kind == "drop":
        for name in args[0]:
            (bundle / "signatures" / name).unlink(missing_ok=True)


def test_random_tampering_is_never_verified_when_anchors_are_given(signed_run, anchors):
    original, _ = signed_run
    expected = evidence(original)
    trust = Trust.load([str(anchors["KEY"])], [str(anchors["CA"])])

    @settings(deadline=None, max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(OPERATIONS, min_size=1, max_size=4))
    def tampered(operations: list[tuple]) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            bundle = Path(scratch) / original.name
            shutil.copytree(original, bundle)
            for operation in operations:
                apply(bundle, operation)
            try:
                result = verify_bundle(bundle, trust)
            except BundleError:  # manifest.json deleted or renamed: not a bundle, exit 2
                return
            if result.ok:
                assert evidence(bundle) == expected, (operations, result.lines())

    tampered()
