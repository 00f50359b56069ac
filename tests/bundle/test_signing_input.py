"""Bad signing input and broken runs: one clear line, exit 2, nothing signed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.bundle.conftest import ROOT, make_identity, rootwatch, run_env

SANDBOX = (ROOT / "parameters" / "sandbox.yaml").read_text()


def _params(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "params.yaml"
    path.write_text(SANDBOX + extra)
    return path


@pytest.fixture
def p12(tmp_path):
    return make_identity(tmp_path)[0]


def _bad(tmp_path, p12):
    garbage = tmp_path / "garbage.p12"
    garbage.write_bytes(b"not a certificate at all")
    unreadable = tmp_path / "locked.p12"
    unreadable.write_bytes(p12.read_bytes())
    unreadable.chmod(0)
    return [
        (f"signing: {{x509: {{path: {p12}, passphrase_env: WRONG_PASSPHRASE}}}}\n", "wrong passphrase"),
        (f"signing: {{x509: {{path: {p12}, passphrase_env: UNSET_PASSPHRASE}}}}\n", "UNSET_PASSPHRASE"),
        (f"signing: {{x509: {{path: {tmp_path}/missing.p12}}}}\n", "missing.p12 does not exist"),
        (f"signing: {{x509: {{path: {garbage}, passphrase_env: ROOTWATCH_P12_PASSPHRASE}}}}\n", "cannot be opened"),
        ("signing: {ssh: {key: /nonexistent/id_ed25519}}\n", "SSH key /nonexistent/id_ed25519 does not exist"),
        (f"signing: {{x509: {{path: {p12}, passphrase: hunter2}}}}\n", "never put a passphrase in the parameter file"),
        ("pdf: {renderer: word}\n", "pdf.renderer 'word' is not one of"),
        ("archive: {bucket: b, mode: FOREVER, days: 3}\n", "archive.mode 'FOREVER'"),
    ] + ([(f"signing: {{x509: {{path: {unreadable}, passphrase_env: ROOTWATCH_P12_PASSPHRASE}}}}\n",
           "cannot be read")] if os.geteuid() != 0 else [])


def test_bad_signing_input_exits_2_and_signs_nothing(tmp_path, p12):
    env = run_env(tmp_path) | {"WRONG_PASSPHRASE": "nope"}
    for extra, message in _bad(tmp_path, p12):
        out = tmp_path / "bundle"
        done = rootwatch("run", str(_params(tmp_path, extra)), "--out", str(out), "--quiet", env=env)
        assert done.returncode == 2, (extra, done.stderr)
        assert done.stderr.startswith("rootwatch: ") and done.stderr.count("\n") == 1, done.stderr
        assert message in done.stderr, (message, done.stderr)
        assert not out.exists() and not list(tmp_path.glob(".bundle*")) and not list(tmp_path.glob("bundle*"))


def test_a_failed_run_is_left_incomplete_and_unsigned(tmp_path):
    out = tmp_path / "bundle"
    done = rootwatch("run", str(_params(tmp_path, "")),
                     "--set", "accounts=[nosuch]", "--out", str(out), "--quiet", env=run_env(tmp_path))
    assert done.returncode == 2 and "the sandbox has no account nosuch" in done.stderr
    failed = tmp_path / "bundle.incomplete"
    assert not out.exists() and failed.is_dir()
    assert "did not complete" in (failed / "INCOMPLETE").read_text()
    assert not (failed / "signatures").exists() and not (failed / "manifest.json").exists()
    verify = rootwatch("verify", str(failed), env=run_env(tmp_path))
    assert verify.returncode == 2 and "is not a rootwatch bundle" in verify.stderr


def test_no_pdf_renderer_still_completes_and_says_what_to_install(tmp_path):
    out = tmp_path / "bundle"
    env = run_env(tmp_path) | {"PATH": str(Path(os.sys.executable).parent)}  # no chromium on PATH
    done = rootwatch("run", str(_params(tmp_path, "pdf: {renderer: chromium}\n")), "--set", "accounts=[drifted]",
                     "--out", str(out), "--quiet", env=env)
    assert done.returncode == 1, done.stderr
    assert "no PDF: Chromium was not found: install it (Debian: apt-get install chromium)" in done.stderr
    assert not (out / "report.pdf").exists() and (out / "report.html").is_file()
    recorded = json.loads((out / "environment.json").read_text())["pdf"]
    assert recorded["produced"] is False and "apt-get install chromium" in recorded["message"]
    assert "NOT PRODUCED in this run" in (out / "README.txt").read_text()
    dev_key = tmp_path / "config" / "rootwatch" / "signing" / "dev_ed25519.pub"
    assert rootwatch("verify", str(out), "--trusted-key", str(dev_key), env=env).returncode == 0


def test_an_existing_bundle_is_never_overwritten(tmp_path):
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "manifest.json").write_text("{}")
    done = rootwatch("run", str(_params(tmp_path, "")), "--out", str(out), "--quiet", env=run_env(tmp_path))
    assert done.returncode == 2 and "already exists" in done.stderr
    assert [p.name for p in out.iterdir()] == ["manifest.json"]
