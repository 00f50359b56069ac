"""`rootwatch run` with `organization:` audits the organization's accounts (the listing, minus
exclusions), never only the profile's own account; an account's name never becomes a path."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from rootwatch.collect.evidence import RawCall, write_raw
from tests.sandbox_process import SandboxProcess, child_environment

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp: Path, sandbox: SandboxProcess, organization: dict) -> tuple[subprocess.CompletedProcess, Path]:
    params = {"source": "aws", "regions": ["us-east-1"], "window": "last-30-days", "organization": organization,
              "pdf": {"renderer": "none"}}
    (tmp / "params.yaml").write_text(yaml.safe_dump(params))
    env = child_environment(XDG_CONFIG_HOME=str(tmp / "config"), **sandbox.exports)
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "run", "params.yaml", "--out", "bundle",
                           "--quiet"], cwd=tmp, env=env, capture_output=True, text=True, timeout=600, check=False)
    return done, tmp / "bundle"


def test_an_organization_run_audits_the_listed_accounts_minus_exclusions(tmp_path, sandbox_process):
    done, bundle = _run(tmp_path, sandbox_process, {"role": "rootwatch-audit", "exclude": ["management"]})
    assert done.returncode == 1, done.stderr[-3000:]  # the drifted member fails
    findings = json.loads((bundle / "findings.json").read_text())
    assert {(f["account_label"], f["account_id"]) for f in findings} == {
        ("healthy", "111111111111"), ("drifted", "222222222222"), ("eventbridge-only", "333333333333")}
    listing = [p.name for p in (bundle / "raw").rglob("*organizations.ListAccounts.json")]
    assert len(listing) == 1  # the scope's own evidence
    assert sorted(p.name for p in (bundle / "raw").iterdir()) == ["111111111111", "123456789012", "222222222222",
                                                                   "333333333333"]


def test_an_organization_filter_that_matches_no_account_is_bad_input(tmp_path, sandbox_process):
    done, bundle = _run(tmp_path, sandbox_process, {"role": "rootwatch-audit", "include": ["prod-*"]})
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith("the organization lists no ACTIVE account matching organization.include "
                                        "and exclude; check the ids and names (wildcards * and ?) in the parameter "
                                        "file")
    assert not bundle.exists()


def test_an_account_name_never_escapes_the_raw_folder(tmp_path):
    """Until AWS names an account its evidence is filed under its label, and an Organizations account
    name is anyone's text."""
    call = RawCall(1, "../../../etc/cron.d/x", "us-east-1", "sts", "AssumeRole", {}, datetime.now(UTC))
    (written,) = write_raw([call], tmp_path / "raw")
    assert written.resolve().is_relative_to((tmp_path / "raw").resolve())
    assert written.relative_to(tmp_path / "raw").parts[0] == "etc-cron-d-x"
