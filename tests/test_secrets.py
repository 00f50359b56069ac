"""No secret rootwatch is handed or issued ever lands in a notebook, report, log, bundle or error
message (issue 9, section 4).

Recognisable fake secrets are planted wherever rootwatch reads them from — AWS keys in the
environment, in a profile and from a credential_process; the SSH key and the PKCS#12 signing
identity with their passphrases — and every byte a run writes is searched for them: the bundle (raw
responses, CSV and the rows of every Parquet frame, the notebook, the HTML, the PDF and its text,
the signatures), the run's stdout and stderr, and anything else that appears in its working
directory. The AssumeRole credentials moto issues during the runs are read back from moto's own
state and searched for too. Refused input — a wrong passphrase, a passphrase written into the
parameter file, credentials that cannot be loaded — exits 2 with one line that names the problem
and holds no secret.

The runs go to `rootwatch sandbox` in its own process: moto accepts any key, so the fake ones work.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pandas as pd
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import pkcs12

from rootwatch.bundle.sign import X509Signer
from rootwatch.cli import main
from rootwatch.collect.session import Clients
from tests.bundle.conftest import make_identity
from tests.sandbox_process import SandboxProcess, child_environment

MARK = b"rwcanary"  # in every planted secret (any case), and in no name, path or variable of the tests
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIARWCANARYENV00001", "AWS_SECRET_ACCESS_KEY": "RwCanaryEnvSecretKey" + "0" * 20,
            "AWS_SESSION_TOKEN": "RwCanaryEnvSessionToken" + "0" * 40}
PROFILE_KEYS = {"aws_access_key_id": "AKIARWCANARYPROFILE1", "aws_secret_access_key": "RwCanaryProfileSecret" + "0" * 19,
                "aws_session_token": "RwCanaryProfileSessionToken" + "0" * 40}
PROCESS_KEYS = {"AccessKeyId": "AKIARWCANARYPROCESS1", "SecretAccessKey": "RwCanaryProcessSecret" + "0" * 19,
                "SessionToken": "RwCanaryProcessSessionToken" + "0" * 40}
SSH_VAR, P12_VAR = "RW_TEST_SSH_PASSPHRASE", "RW_TEST_P12_PASSPHRASE"
PASSPHRASES = {SSH_VAR: "RwCanarySshPassphrase0001", P12_VAR: "RwCanaryP12Passphrase0001"}
WRONG_PASSPHRASE, LITERAL_PASSPHRASE = "RwCanaryWrongPassphrase01", "RwCanaryLiteralPassphrase1"
DRIFTED = "222222222222"  # the sandbox account the runs audit (it FAILs: exit 1)
MOTO_TOKEN_PREFIX = b"FQoGZXIvYXdzEBYaD"  # every session token moto issues starts so (moto/sts/utils.py)
# a credential field followed by a value (JSON, HTML-escaped JSON, Python, INI): "<redacted>" is no value
CREDENTIAL_FIELD = re.compile(rb"(SecretAccessKey|SessionToken|secret_access_key|session_token)"
                              rb"(?:\W|&quot;|&#3[49];|&#x2[27];){1,12}?[A-Za-z0-9/+=]{16,}")
PDFTOTEXT = shutil.which("pdftotext")
RUN_TIMEOUT = 600

# A credential_process that answers as often as its second argument says, then fails as a lapsed
# session does: with the refused keys in its error output (a real helper may well print them).
CREDENTIAL_PROCESS = """\
import datetime, json, pathlib, sys
state, good = pathlib.Path(sys.argv[1]), int(sys.argv[2])
calls = int(state.read_text()) + 1 if state.exists() else 1
state.write_text(str(calls))
keys = KEYS
if calls > good:
    sys.exit("session expired, refused: " + " ".join(keys.values()))
expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=2)  # botocore refreshes within 10 min
print(json.dumps({"Version": 1, **keys, "Expiration": expires.isoformat()}))
"""
# profile -> answers before it fails. Credentials this close to expiry are fetched anew at each use, and
# rootwatch run uses them twice before writing anything (loading the profile; the preflight's
# GetCallerIdentity): "lapsing" fails as the kernel loads the profile, "expiring" during collection.
PROCESS_PROFILES = {"expiring": 3, "lapsing": 2, "broken": 0}


@dataclass(frozen=True)
class Planted:
    """The secrets runs are given, where they are, and the bytes that must never be seen again."""

    inputs: Path  # keys, PKCS#12, AWS config: the only files allowed to hold secrets
    ssh_key: Path
    p12: Path
    needles: dict[str, bytes]

    def signing(self, kms_key: str | None = None) -> dict[str, Any]:
        """Every signer, each named by path and passphrase variable only."""
        signing: dict[str, Any] = {"ssh": {"key": str(self.ssh_key), "passphrase_env": SSH_VAR},
                                   "x509": {"path": str(self.p12), "passphrase_env": P12_VAR}}
        return {**signing, "kms": {"key_id": kms_key, "region": "us-east-1"}} if kms_key else signing

    def parameters(self, path: Path, **values: Any) -> Path:
        """A parameter file for ``source: aws`` with ``values`` over a short default scope."""
        path.write_text(yaml.safe_dump({"source": "aws", "regions": ["us-east-1"], "window": "last-90-days",
                                        "controls": ["4.3"], "pdf": {"renderer": "weasyprint"}, **values}))
        return path

    def environment(self, out: Path, **extra: str) -> dict[str, str]:
        """The caller's environment without its AWS settings, with the planted AWS files and
        passphrases (``extra`` last: a test may replace one)."""
        return child_environment(**{"AWS_CONFIG_FILE": str(self.inputs / "aws-config"),
                                    "AWS_SHARED_CREDENTIALS_FILE": str(self.inputs / "aws-credentials"),
                                    "AWS_EC2_METADATA_DISABLED": "true", "XDG_CONFIG_HOME": str(out / "config"),
                                    **PASSPHRASES, **extra})


@dataclass(frozen=True)
class Run:
    """One `rootwatch run`: its exit code and the directory holding everything it wrote."""

    returncode: int
    out: Path

    @property
    def bundle(self) -> Path:
        return self.out / "bundle"

    def log(self, stream: str) -> str:
        return (self.out / f"{stream}.log").read_text(errors="replace")


def _secret_forms(label: str, secret: bytes) -> dict[str, bytes]:
    """``secret`` as any writer could put it: raw, hex, and base64 at each of the three alignments it
    can take inside a longer base64 text (PEM, OpenSSH, PKCS#8, JSON) — only the characters that
    depend on the secret alone, so no match can come from the public half bundles rightly carry."""
    forms = {f"{label} (raw)": secret, f"{label} (hex)": secret.hex().encode()}
    for offset in range(3):
        text = base64.b64encode(bytes(offset) + secret)
        first, end = -(-offset // 3), (offset + len(secret)) // 3  # the 3-byte groups of the secret alone
        forms[f"{label} (base64 at offset {offset})"] = text[4 * first:4 * end]
    return forms


def _ssh_key(directory: Path) -> tuple[Path, dict[str, bytes]]:
    """An Ed25519 key encrypted with the planted passphrase, as ssh-keygen writes it, and its needles."""
    key = ed25519.Ed25519PrivateKey.generate()
    path = directory / "id_ed25519"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.BestAvailableEncryption(PASSPHRASES[SSH_VAR].encode())))
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path.with_name("id_ed25519.pub").write_bytes(public + b" auditor@example.com\n")
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())
    body = path.read_bytes().splitlines()[1:-1]
    return path, {**_secret_forms("SSH private key", seed), "SSH key file (a line of its encrypted body)": body[-2]}


def _pkcs12(directory: Path) -> tuple[Path, dict[str, bytes]]:
    """A self-signed identity in a PKCS#12 file under the planted passphrase, and its needles."""
    p12, _ = make_identity(directory, passphrase=PASSPHRASES[P12_VAR])
    key, _, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), PASSPHRASES[P12_VAR].encode())
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return p12, {**_secret_forms("PKCS#12 private key", scalar),
                 "PKCS#12 file (its last 32 bytes: MAC and salt)": p12.read_bytes()[-32:]}


def _aws_files(inputs: Path) -> None:
    """A profile with static keys, and credential_process profiles that fail after a few answers."""
    script = inputs / "credential_process.py"
    script.write_text(CREDENTIAL_PROCESS.replace("KEYS", repr(PROCESS_KEYS)))
    config = ["[profile auditor]", "region = us-east-1"]
    for name, good in PROCESS_PROFILES.items():
        config += [f"[profile {name}]", "region = us-east-1",
                   f"credential_process = {sys.executable} {script} {inputs / (name + '.calls')} {good}"]
    config += ["[profile garbled]", f"credential_process = {sys.executable} -c \"print('not json', {PROCESS_KEYS!r})\""]
    (inputs / "aws-config").write_text("\n".join(config) + "\n")
    (inputs / "aws-credentials").write_text("[auditor]\n" + "".join(f"{k} = {v}\n" for k, v in PROFILE_KEYS.items()))


def _plant(inputs: Path) -> Planted:
    ssh_key, ssh_needles = _ssh_key(inputs)
    p12, p12_needles = _pkcs12(inputs)
    _aws_files(inputs)
    texts = {**ENV_KEYS, **PROFILE_KEYS, **{f"credential_process {k}": v for k, v in PROCESS_KEYS.items()},
             **PASSPHRASES, "a wrong passphrase": WRONG_PASSPHRASE, "a passphrase in the file": LITERAL_PASSPHRASE}
    return Planted(inputs, ssh_key, p12, {**{name: value.encode() for name, value in texts.items()},
                                          **ssh_needles, **p12_needles,
                                          "a session token moto issued (its prefix)": MOTO_TOKEN_PREFIX})


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Planted:
    return _plant(tmp_path_factory.mktemp("inputs"))


def _views(path: Path) -> Iterator[tuple[str, bytes]]:
    """What a reader of ``path`` can see: its bytes, its bytes with line breaks taken out (base64
    wrapped over lines), a Parquet frame's rows (its pages are compressed), a PDF's text (so are its
    streams)."""
    data = path.read_bytes()
    yield "bytes", data
    yield "unwrapped", re.sub(rb"\r|\n|\\n", b"", data)
    if path.suffix == ".parquet":
        yield "rows", pd.read_parquet(path).to_csv(index=False).encode()
    if path.suffix == ".pdf" and PDFTOTEXT:
        yield "text", subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, check=True).stdout


def _leaks(root: Path, needles: dict[str, bytes]) -> list[str]:
    """Every file under ``root``, view and secret where a secret shows: a needle, the planted mark,
    or a credential field with a value."""
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for view, data in _views(path):
            hits = [name for name, needle in needles.items() if needle in data]
            if not hits and MARK in data.lower():
                hits.append("a planted secret (its mark)")
            hits += [f"a {m.group(1).decode()} with a value" for m in CREDENTIAL_FIELD.finditer(data)]
            found += [f"{path.relative_to(root)} [{view}]: {hit}" for hit in hits]
    return found


def _issued(sandbox: SandboxProcess) -> dict[str, bytes]:
    """Every AssumeRole credential moto has issued so far (the runs' among them), from its state."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, never a proxy
    with opener.open(f"{sandbox.exports['AWS_ENDPOINT_URL']}/moto-api/data.json", timeout=60) as response:
        roles = json.load(response)["sts"]["AssumedRole"]
    return {f"the {kind} moto issued with {r['access_key_id']}": r[kind].encode()
            for r in roles for kind in ("secret_access_key", "session_token")}


def _assume_role_credentials(bundle: Path) -> list[dict[str, str]]:
    """The credentials of every AssumeRole response kept in the bundle."""
    calls = [json.loads(p.read_text()) for p in sorted((bundle / "raw").rglob("*-sts.AssumeRole.json"))]
    return [page["Credentials"] for call in calls for page in call["responses"]]


def _run(params: Path, out: Path, env: dict[str, str], *flags: str) -> Run:
    """`rootwatch run` as a scheduler starts it: stdout and stderr into log files, in a working
    directory of its own, so whatever it writes outside --out is searched too."""
    with (out / "stdout.log").open("wb") as stdout, (out / "stderr.log").open("wb") as stderr:
        done = subprocess.run([sys.executable, "-m", "rootwatch", "run", str(params), "--out", str(out / "bundle"),
                               *flags], cwd=out, env=env, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                              timeout=RUN_TIMEOUT, check=False)
    return Run(done.returncode, out)


def _endpoint(sandbox: SandboxProcess) -> dict[str, str]:
    """Where the sandbox is, without its own credentials: the planted ones must be the only ones."""
    return {key: sandbox.exports[key] for key in ("AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION")}


@pytest.fixture(scope="module")
def kms_key(sandbox_process: SandboxProcess) -> str:
    """An asymmetric KMS key in the sandbox, so the runs sign with every kind of signer."""
    kms = boto3.client("kms", endpoint_url=sandbox_process.exports["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       **{key.lower(): value for key, value in ENV_KEYS.items()})
    return kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]


def _audited(sandbox: SandboxProcess) -> list[str]:
    """The drifted member's role: every kind of output (an assumed role's credentials, a FAIL, charts, the
    PDF) comes from one account as from three, but for the organisation's charts (labels and counts only),
    which the profile run, two accounts with the lapsing profile's, still draws."""
    return [sandbox.members[DRIFTED]]


@pytest.fixture(scope="module")
def env_run(sandbox_process, planted, kms_key, tmp_path_factory) -> Run:
    """Keys in the environment; progress and text lines on stderr, as at a terminal."""
    out = tmp_path_factory.mktemp("env-run")
    params = planted.parameters(planted.inputs / "env-run.yaml", accounts=_audited(sandbox_process),
                                signing=planted.signing(kms_key))
    return _run(params, out, planted.environment(out, **_endpoint(sandbox_process), **ENV_KEYS))


@pytest.fixture(scope="module")
def profile_run(sandbox_process, planted, kms_key, tmp_path_factory) -> Run:
    """Keys in a profile, plus an account read through a credential_process whose session lapses
    mid-run (its error holds its keys); quiet, JSON lines on stderr, as a scheduler runs it."""
    out = tmp_path_factory.mktemp("profile-run")
    params = planted.parameters(planted.inputs / "profile-run.yaml", profile="auditor", signing=planted.signing(kms_key),
                                accounts=[*_audited(sandbox_process), "profile:expiring"])
    return _run(params, out, planted.environment(out, **_endpoint(sandbox_process)), "--quiet", "--log-format",
                "json")


def test_the_runs_used_the_planted_secrets(env_run, profile_run):
    """Otherwise the search below would prove nothing: both runs assumed the member role with the
    planted keys, signed with all three signers and wrote a signed PDF."""
    for run in (env_run, profile_run):
        assert run.returncode == 1, run.log("stderr")[-3000:]  # the drifted account fails
        signatures = {p.name for p in (run.bundle / "signatures").iterdir()}
        assert {"manifest.json.sshsig", "manifest.json.p7s", "manifest.json.kms.sig"} <= signatures
        assert (run.bundle / "report.pdf").is_file()
        credentials = _assume_role_credentials(run.bundle)
        assert len(credentials) == 1 and all(c["AccessKeyId"].startswith("ASIA") for c in credentials)
        assert {c["SecretAccessKey"] for c in credentials} == {c["SessionToken"] for c in credentials} == {"<redacted>"}
    assert all(json.loads(line)["level"] for line in profile_run.log("stderr").splitlines())
    gaps = pd.read_csv(profile_run.bundle / "data" / "gaps.csv")
    lapsed = gaps[gaps.account_id == "expiring"]
    assert list(lapsed.error_code) == ["CredentialRetrievalError"]
    assert "custom-process failed (its output is not shown" in lapsed.message.iloc[0]


def test_the_search_sees_a_secret_however_it_is_written(planted, tmp_path):
    """A clean search proves something only if the search can see: a key in a compressed Parquet
    page, the private key re-encoded as a wrapped PKCS#8 PEM, a token field in JSON inside JSON (a
    notebook output), and a copy of the PKCS#12 file are each found; a redacted field is not."""
    key = serialization.load_ssh_private_key(planted.ssh_key.read_bytes(), PASSPHRASES[SSH_VAR].encode())
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    pd.DataFrame({"message": [f"refused: {ENV_KEYS['AWS_SECRET_ACCESS_KEY']}"] * 50}).to_parquet(
        tmp_path / "gaps.parquet")
    tokens = {"Credentials": {"SessionToken": "IQoJb3JpZ2luX2VjEXAMPLEtoken"}, "Redacted": {"SessionToken": "<redacted>"}}
    (tmp_path / "notebook.ipynb").write_text(json.dumps({"text": json.dumps(tokens)}))
    shutil.copy(planted.p12, tmp_path / "copy.p12")
    found = _leaks(tmp_path, planted.needles)
    assert "gaps.parquet [rows]: AWS_SECRET_ACCESS_KEY" in found
    assert any(f.startswith("key.pem [unwrapped]: SSH private key (base64") for f in found)
    assert [f for f in found if f.startswith("notebook.ipynb [bytes]")] == [
        "notebook.ipynb [bytes]: a SessionToken with a value"]
    assert "copy.p12 [bytes]: PKCS#12 file (its last 32 bytes: MAC and salt)" in found


@pytest.mark.parametrize("run_name", ["env_run", "profile_run"])
def test_no_secret_lands_in_any_file_a_run_writes(request, sandbox_process, planted, run_name):
    run: Run = request.getfixturevalue(run_name)
    issued = _issued(sandbox_process)
    used = {c["AccessKeyId"] for c in _assume_role_credentials(run.bundle)}
    assert used <= {name.rsplit(" ", 1)[1] for name in issued}  # this run's own AssumeRole secrets are searched
    assert _leaks(run.out, {**planted.needles, **issued}) == []


def _use(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """This process's environment becomes ``env`` (rootwatch runs in-process, as `main` does)."""
    for key in set(os.environ) - set(env):
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)


ParamsOf = Callable[[Planted], dict[str, Any]]
REFUSED: dict[str, tuple[ParamsOf, dict[str, str], str]] = {
    "a wrong PKCS#12 passphrase": (lambda p: {"signing": {"x509": p.signing()["x509"]}},
                                   {**ENV_KEYS, P12_VAR: WRONG_PASSPHRASE}, "cannot be opened: wrong passphrase"),
    "a wrong SSH key passphrase": (lambda p: {"signing": {"ssh": p.signing()["ssh"]}},
                                   {**ENV_KEYS, SSH_VAR: WRONG_PASSPHRASE}, "id_ed25519 cannot be loaded (wrong passphrase)"),
    "a PKCS#12 passphrase in the file": (lambda p: {"signing": {"x509": {"path": str(p.p12),
                                                                         "passphrase": LITERAL_PASSPHRASE}}},
                                         ENV_KEYS, "signing.x509: never put a passphrase in the parameter file"),
    "an SSH passphrase in the file": (lambda p: {"signing": {"ssh": {"key": str(p.ssh_key),
                                                                     "passphrase": LITERAL_PASSPHRASE}}},
                                      ENV_KEYS, "signing.ssh: never put a passphrase in the parameter file"),
    "a credential_process that fails with its keys": (lambda p: {"profile": "broken"}, {},
                                                      "profile 'broken' cannot be loaded: custom-process failed"),
    "a credential_process that prints its keys but no JSON": (
        lambda p: {"profile": "garbled"}, {}, "profile 'garbled' cannot be loaded: the credential provider's output"),
    "keys without their secret": (lambda p: {}, {k: ENV_KEYS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN")},
                                  "missing: AWS_SECRET_ACCESS_KEY"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_refused_input_is_one_line_that_holds_no_secret(planted, tmp_path, monkeypatch, capsys, case):
    params_of, env, message = REFUSED[case]
    _use(monkeypatch, planted.environment(tmp_path, **env))
    out = tmp_path / "bundle"
    assert main(["run", str(planted.parameters(tmp_path / "params.yaml", **params_of(planted))), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("rootwatch: ") and captured.err.count("\n") == 1
    assert message in captured.err, captured.err
    assert [name for name, needle in planted.needles.items() if needle in captured.err.encode()] == []
    assert MARK not in captured.err.lower().encode() and not out.exists()


def test_credentials_that_lapse_before_the_kernel_reads_them_leave_no_secret_behind(planted, tmp_path,
                                                                                   sandbox_process):
    """The profile answers `rootwatch run` (checked before anything is written) and then fails in the
    notebook's kernel: the run stops with one line, and its .incomplete directory — the executed
    notebook with the traceback, the INCOMPLETE note — holds no secret either."""
    params = planted.parameters(tmp_path / "params.yaml", profile="lapsing", signing=planted.signing())
    run = _run(params, tmp_path, planted.environment(tmp_path, **_endpoint(sandbox_process)), "--quiet")
    stderr = run.log("stderr")
    assert run.returncode == 2 and stderr.count("\n") == 1, stderr[-3000:]
    assert "profile 'lapsing' cannot be loaded: custom-process failed" in stderr
    incomplete = tmp_path / "bundle.incomplete"
    assert "CredentialsError" in (incomplete / "root_usage_evidence.ipynb").read_text()
    assert "did not complete" in (incomplete / "INCOMPLETE").read_text()
    assert _leaks(tmp_path, planted.needles) == []


def test_objects_holding_secrets_do_not_show_them(planted, monkeypatch):
    """A signer's passphrase and an assumed role's keys stay out of reprs: a Plan in a traceback, a
    debugger or a log line would print them."""
    monkeypatch.setenv(P12_VAR, PASSPHRASES[P12_VAR])
    signer = X509Signer.from_pkcs12(planted.p12, P12_VAR)
    clients = Clients(boto3.Session(region_name="us-east-1"), "http://127.0.0.1:9",
                      {key.lower(): value for key, value in ENV_KEYS.items()})
    for shown in (repr(signer), repr(clients)):
        assert MARK not in shown.lower().encode(), shown
