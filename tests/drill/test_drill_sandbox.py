"""`rootwatch drill` as a user runs it on the sandbox, whose metric filters, alarms and SNS really
evaluate (its clock fast, so an alarm period passes in seconds): the healthy account's drill reaches
every step, the drifted account's stops where its chain is broken (alarm actions disabled); each is a
signed bundle `rootwatch verify` accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rootwatch.bundle.sign import SshSigner, config_dir
from tests.sandbox_process import ROOT, child_environment


def _drill(out: Path, account: str, *options: str) -> subprocess.CompletedProcess:
    SshSigner.development()  # the key the child signs with (it shares this process's config directory)
    return subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "drill",
                           str(ROOT / "parameters" / "sandbox.yaml"), "--account", account, "--yes", "--out", str(out),
                           *options], cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env=child_environment(), timeout=300, check=False)


@pytest.fixture(scope="module")
def drilled(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    tmp = tmp_path_factory.mktemp("drill")
    return {"healthy": (_drill(tmp / "healthy", "healthy"), tmp / "healthy"),
            "drifted": (_drill(tmp / "drifted", "drifted", "--max-wait", "120"), tmp / "drifted")}


def _steps(bundle: Path) -> list[dict]:
    return [json.loads(line) for line in (bundle / "steps.jsonl").read_text().splitlines()]


def test_the_healthy_drill_reaches_every_step_with_its_time(drilled):
    done, bundle = drilled["healthy"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "every step reached" in done.stdout and "sandbox" in done.stdout
    steps = _steps(bundle)
    assert [s["event"] for s in steps] == ["plan", "write", "datapoint", "alarm", "action"]
    assert all(s.get("at") for s in steps[1:])
    record = json.loads((bundle / "plan.json").read_text())["record"]
    assert record["eventID"] == record["additionalEventData"]["rootwatchDrill"]  # marked as a drill


def test_the_drifted_drill_stops_at_the_disabled_alarm_actions(drilled):
    done, bundle = drilled["drifted"]
    assert done.returncode == 1, done.stderr[-3000:]
    assert "stopped at 'alarm action succeeded' (link: alarm): the alarm action's result (its actions were disabled " \
           "when audited): none within" in done.stdout
    assert [s["event"] for s in _steps(bundle)] == ["plan", "write", "datapoint", "alarm", "action"]


@pytest.mark.parametrize("account", ["healthy", "drifted"])
def test_each_drill_is_a_signed_bundle_rootwatch_verify_accepts(drilled, account, capsys):
    from rootwatch import cli

    _, bundle = drilled[account]
    code = cli.main(["verify", str(bundle), "--trusted-key", str(config_dir() / "signing" / "dev_ed25519.pub")])
    assert code == 0, capsys.readouterr().out
