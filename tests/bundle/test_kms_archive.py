"""KMS signing and Object Lock retention, on the sandbox's moto server."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import ec

from rootwatch.bundle import manifest as mf
from rootwatch.bundle.retention import upload, zip_bundle
from rootwatch.bundle.readme import readme
from rootwatch.bundle.sign import KmsSigner
from rootwatch.bundle.verify import Trust, Verdict, verify_bundle
from rootwatch.errors import RootwatchError, SigningError
from tests.bundle.conftest import kms_sign
from tests.bundle.tamper import by_hand, hand_script


def _bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "20261001T000000Z-sandbox-2026-Q3"
    (bundle / "data").mkdir(parents=True)
    (bundle / "findings.json").write_text('[{"status": "PASS"}]')
    (bundle / "data" / "alarms.csv").write_text("alarm_name\nroot\n")
    (bundle / "README.txt").write_text(readme(bundle.name, False, "not rendered in this test", ["kms"]))
    mf.write(bundle, bundle.name, "2026-10-01T00:00:00+00:00", "test")
    return bundle


@pytest.fixture
def client(sandbox):
    return lambda service: sandbox.session().client(service, endpoint_url=sandbox.endpoint)


@pytest.mark.parametrize("spec", ["ECC_NIST_P256", "RSA_2048"])
def test_kms_signature_verifies_with_openssl_and_rootwatch(tmp_path, client, spec):
    kms = client("kms")
    key = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY", Description="rootwatch evidence")["KeyMetadata"]
    signer = KmsSigner.connect(kms, key["KeyId"])
    assert key["KeyId"] in signer.identity
    bundle = _bundle(tmp_path)
    signatures = bundle / "signatures"
    signatures.mkdir()
    signer.sign_manifest((bundle / "manifest.json").read_bytes(), signatures)
    assert sorted(p.name for p in signatures.iterdir()) == ["kms-public.pem", "manifest.json.kms.sig"]
    if shutil.which("openssl"):
        done = subprocess.run(["openssl", "dgst", "-sha256", "-verify", str(signatures / "kms-public.pem"),
                               "-signature", str(signatures / "manifest.json.kms.sig"), str(bundle / "manifest.json")],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "Verified OK" in done.stdout, done.stdout + done.stderr
    assert verify_bundle(bundle).verdict is Verdict.UNPINNED
    exported = tmp_path / "kms.der"  # what `aws kms get-public-key` gives the auditor
    exported.write_bytes(kms.get_public_key(KeyId=key["Arn"])["PublicKey"])
    pinned = Trust.load(kms=[str(exported)])
    result = verify_bundle(bundle, pinned)
    assert result.ok and "kms signature: valid, by an anchor you gave" in "\n".join(result.lines()), result.lines()
    script = hand_script((bundle / "README.txt").read_text())  # README.txt's KMS steps, verbatim
    if shutil.which("openssl"):
        assert by_hand(script, bundle, {"KMS": exported}).passed
    (bundle / "data" / "alarms.csv").write_text("alarm_name\nforged\n")
    mf.write(bundle, bundle.name, "2026-10-01T00:00:00+00:00", "test")  # a forger re-writes the manifest ...
    kms_sign(bundle, ec.generate_private_key(ec.SECP256R1()))  # ... and signs it with a key of their own
    assert not verify_bundle(bundle, pinned).ok and verify_bundle(bundle).verdict is Verdict.UNPINNED
    if shutil.which("openssl"):
        assert by_hand(script, bundle, {"KMS": exported}).step == 2
        assert by_hand(script, bundle, {"KMS": Path("signatures/kms-public.pem")}).passed  # integrity only


def test_kms_key_that_cannot_sign_is_bad_input(client):
    kms = client("kms")
    key = kms.create_key(KeySpec="SYMMETRIC_DEFAULT", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    with pytest.raises(SigningError, match="cannot (be used|sign)"):
        KmsSigner.connect(kms, key["KeyId"])
    with pytest.raises(SigningError, match="cannot be used"):
        KmsSigner.connect(kms, "alias/does-not-exist")


def test_object_lock_upload_cannot_be_deleted(tmp_path, client):
    s3 = client("s3")
    s3.create_bucket(Bucket="evidence-vault", ObjectLockEnabledForBucket=True)
    bundle = _bundle(tmp_path)
    keys = upload(bundle, s3, "evidence-vault", "cis/2026-Q3", "COMPLIANCE", 30)
    assert keys == [f"cis/2026-Q3/{bundle.name}.zip", f"cis/2026-Q3/{bundle.name}.manifest.json"]
    for key in keys:
        head = s3.head_object(Bucket="evidence-vault", Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockRetainUntilDate"]
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.delete_object(Bucket="evidence-vault", Key=key, VersionId=head["VersionId"])
    body = s3.get_object(Bucket="evidence-vault", Key=keys[1])["Body"].read()
    assert body == (bundle / "manifest.json").read_bytes()


def test_the_retained_zip_holds_the_bundles_files_and_nothing_a_symlink_points_to(tmp_path):
    bundle = _bundle(tmp_path)
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("not part of the evidence")
    (bundle / "data").mkdir(exist_ok=True)
    (bundle / "data" / "planted.txt").symlink_to(secret)
    with zipfile.ZipFile(io.BytesIO(zip_bundle(bundle))) as archive:
        names = set(archive.namelist())
    assert f"{bundle.name}/manifest.json" in names and f"{bundle.name}/data/planted.txt" not in names


def test_bucket_without_object_lock_is_refused(tmp_path, client):
    s3 = client("s3")
    s3.create_bucket(Bucket="plain-bucket")
    with pytest.raises(RootwatchError, match="archive upload to s3://plain-bucket/"):
        upload(_bundle(tmp_path), s3, "plain-bucket", "", "GOVERNANCE", 1)
