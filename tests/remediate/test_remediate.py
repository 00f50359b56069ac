"""`rootwatch remediate` against a running `rootwatch sandbox` (its own process: the changes must not
leak into the session's shared sandbox), read as an AWS endpoint, as a user would point it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.sandbox_process import ROOT, SandboxProcess, child_environment

DRIFTED = "222222222222"


def _remediate(sandbox: SandboxProcess, tmp_path: Path, out: str, *flags: str) -> subprocess.CompletedProcess:
    params = tmp_path / "remediate.yaml"
    params.write_text(yaml.safe_dump({"source": "aws", "accounts": [sandbox.members[DRIFTED]],
                                      "regions": ["us-east-1"], "window": "last-90-days", "controls": "all"}))
    return subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "remediate", str(params),
                           "--out", str(tmp_path / out), *flags], cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=child_environment(**sandbox.exports), timeout=300, check=False)


def _verdicts(folder: Path) -> dict[str, tuple[str, str]]:
    with (folder / "before-after.csv").open() as f:
        return {row["control"]: (row["before"], row["after"]) for row in csv.DictReader(f)}


def test_apply_without_yes_refuses_when_no_one_can_confirm(sandbox_process, tmp_path):
    done = _remediate(sandbox_process, tmp_path, "refused", "--apply")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "add --yes" in done.stderr
    assert not (tmp_path / "refused").exists()


def test_a_notify_address_sns_cannot_use_is_refused(sandbox_process, tmp_path):
    done = _remediate(sandbox_process, tmp_path, "bad", "--notify", "secops")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--notify 'secops'" in done.stderr
    assert not (tmp_path / "bad").exists()


def test_remediation_turns_the_drifted_account_green_and_a_second_apply_changes_nothing(sandbox_process, tmp_path):
    dry = _remediate(sandbox_process, tmp_path, "dry")
    assert dry.returncode == 1, dry.stderr[-2000:]
    assert "aws logs put-metric-filter" in dry.stdout and "aws cloudwatch put-metric-alarm" in dry.stdout
    assert "cis-4.3-root-account-usage" in dry.stdout
    assert (tmp_path / "dry" / DRIFTED / "cloudformation.yaml").is_file()
    assert (tmp_path / "dry" / DRIFTED / "main.tf").is_file()
    assert not (tmp_path / "dry" / "raw").exists()  # a dry run calls nothing that changes
    assert set(_verdicts(tmp_path / "dry").values()) == {("FAIL", "—")}

    applied = _remediate(sandbox_process, tmp_path, "applied", "--apply", "--yes")
    assert applied.returncode == 0, applied.stderr[-3000:]
    verdicts = _verdicts(tmp_path / "applied")
    assert len(verdicts) == 15 and set(verdicts.values()) == {("FAIL", "PASS")}
    made = [json.loads(p.read_text())["call"] for p in sorted((tmp_path / "applied" / "raw").rglob("*.json"))]
    operations = [c["operation"] for c in made if c["operation"] != "AssumeRole"]
    assert operations.count("PutMetricFilter") == 15 and operations.count("PutMetricAlarm") == 1
    assert all(c["error"] is None for c in made)
    # the drifted account's own filters were not replaced: rootwatch added its own beside them
    names = {c["params"]["filterName"] for c in made if c["operation"] == "PutMetricFilter"}
    assert "cis-4.1-unauthorized-api-calls-rootwatch" in names and "RootUsage" not in names

    again = _remediate(sandbox_process, tmp_path, "again", "--apply", "--yes")
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 change(s) planned, 0 made" in again.stderr
    assert not (tmp_path / "again" / "raw").exists()
    assert set(_verdicts(tmp_path / "again").values()) == {("PASS", "—")}
