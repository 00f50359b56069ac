"""A real `rootwatch run`, stopped at several stages: by SIGTERM (a scheduler stopping it), SIGINT
(Ctrl-C) and a full disk. Each leaves a run directory marked incomplete and unsigned, exits with a
code that says so, leaves no kernel behind, and a rerun into the same --out starts clean."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
import yaml

from tests.sandbox_process import ROOT, _pump, child_environment, serve

ROOTWATCH = str(Path(sys.executable).with_name("rootwatch"))
SANDBOX = ROOT / "parameters" / "sandbox.yaml"


class Run:
    """`rootwatch run ... --quiet --log-format json`, its stderr records read as they come."""

    def __init__(self, params: Path, out: Path, env: dict[str, str], pdf: bool = False) -> None:
        """``pdf``: render the PDF (its cost, some seconds, only where the PDF stage is the point)."""
        sets = ["--set", "accounts=[healthy]", *([] if pdf else ["--set", "pdf={renderer: none}"])]
        self.process = subprocess.Popen([ROOTWATCH, "run", str(params), *sets, "--out",
                                         str(out), "--quiet", "--log-format", "json"], cwd=ROOT, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(self.process.stderr, self.lines), daemon=True).start()
        self.records: list[dict] = []

    def until_stage(self, prefix: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, f"the run ended before stage {prefix!r}: {self.records}"
            self.records.append(json.loads(line))
            if self.records[-1]["event"] == "stage" and self.records[-1]["stage"].startswith(prefix):
                return

    def finish(self, timeout: float = 120) -> int:
        code = self.process.wait(timeout)
        while (line := self.lines.get(timeout=10)) is not None:
            self.records.append(json.loads(line))
        return code

    def children(self) -> list[int]:
        """The run's child processes (the notebook's kernel)."""
        mine = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                mine.append(int(stat.parent.name))
        return mine


def _gone(pids: list[int], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if Path(f"/proc/{p}").exists() and "Z" not in _state(p)]:
            return True
        time.sleep(0.2)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "Z"


def run_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment whose development signing key lives under ``tmp_path``."""
    return child_environment(XDG_CONFIG_HOME=str(tmp_path / "config"), **extra)


def dev_key(tmp_path: Path) -> Path:
    """The development key a run with ``run_env(tmp_path)`` signs with: what `rootwatch verify` pins."""
    return tmp_path / "config" / "rootwatch" / "signing" / "dev_ed25519.pub"


def assert_interrupted(run: Run, code: int, out: Path, signal_name: str, stage: str) -> Path:
    errors = [r for r in run.records if r["level"] == "error"]
    assert len(errors) == 1 and errors[0]["event"] == "interrupted", run.records
    assert errors[0]["signal"] == signal_name and errors[0]["stage"].startswith(stage), errors
    assert code == {"SIGINT": 130, "SIGTERM": 143}[signal_name]
    incomplete = Path(errors[0]["incomplete"])
    assert incomplete == out.with_name(f"{out.name}.incomplete") and incomplete.is_dir() and not out.exists()
    assert f"interrupted by {signal_name}" in (incomplete / "INCOMPLETE").read_text()
    assert not (incomplete / "signatures").exists(), "an interrupted run must not be signed"
    assert not list(out.parent.glob(f".{out.name}.partial")), "the staging directory was left behind"
    assert not [r for r in run.records if r["event"] == "summary"]
    return incomplete


# Every GetTrailStatus answered after the client's read timeout, retried ten times: the kernel is
# collecting for half a minute at least, so a signal 10 s into the notebook lands in collection.
SLOW_COLLECTION = "faults: [{kind: timeout, operation: GetTrailStatus}]\n"


@pytest.mark.parametrize(("stage", "sig", "delay", "faults"), [
    ("notebook", signal.SIGINT, 0.5, None),  # the kernel is starting
    ("notebook", signal.SIGTERM, 10.0, SLOW_COLLECTION),  # collecting
    ("PDF", signal.SIGINT, 0.0, None),
], ids=["kernel-start-SIGINT", "collection-SIGTERM", "pdf-export-SIGINT"])
def test_a_run_stopped_by_a_signal_is_left_incomplete_unsigned_and_a_rerun_starts_clean(tmp_path, stage, sig, delay,
                                                                                        faults):
    out = tmp_path / "bundle"
    env = run_env(tmp_path)
    if faults:
        (tmp_path / "faults.yaml").write_text(faults)
        env["ROOTWATCH_SANDBOX_FAULTS"] = str(tmp_path / "faults.yaml")
    run = Run(SANDBOX, out, env, pdf=stage == "PDF")
    run.until_stage(stage)
    time.sleep(delay)
    kernels = run.children()
    run.process.send_signal(sig)
    code = run.finish()
    incomplete = assert_interrupted(run, code, out, sig.name, stage)
    assert _gone(kernels), f"kernel processes {kernels} outlived the interrupted run"
    if sig == signal.SIGINT:
        return
    before = sorted(p.relative_to(incomplete) for p in incomplete.rglob("*"))
    again = Run(SANDBOX, out, run_env(tmp_path))
    assert again.finish() in (0, 1, 3), again.records
    assert subprocess.run([ROOTWATCH, "verify", str(out), "--trusted-key", str(dev_key(tmp_path))], env=env,
                          capture_output=True, check=False).returncode == 0
    assert sorted(p.relative_to(incomplete) for p in incomplete.rglob("*")) == before, "the rerun touched it"


@pytest.fixture(scope="module")
def slow_kms(tmp_path_factory):
    """A sandbox whose every answer takes 1.5 s, holding a KMS signing key: signing is then slow
    enough to be interrupted on cue."""
    with serve(tmp_path_factory.mktemp("slow"), "--latency-ms", "1500") as served:
        kms = boto3.client("kms", region_name="us-east-1", endpoint_url=served.exports["AWS_ENDPOINT_URL"],
                           aws_access_key_id=served.exports["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=served.exports["AWS_SECRET_ACCESS_KEY"])
        key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
        yield served, key


def test_a_run_stopped_while_signing_is_left_unsigned(tmp_path, slow_kms):
    served, key = slow_kms
    params = tmp_path / "kms.yaml"
    params.write_text(SANDBOX.read_text() + yaml.safe_dump({"signing": {"kms": {"key_id": key,
                                                                               "region": "us-east-1"}}}))
    out = tmp_path / "bundle"
    run = Run(params, out, run_env(tmp_path, **served.exports))
    run.until_stage("signatures")
    run.process.send_signal(signal.SIGTERM)
    incomplete = assert_interrupted(run, run.finish(), out, "SIGTERM", "signatures")
    assert (incomplete / "manifest.json").is_file(), "the run was stopped before signing, not while"


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs: the bundle (about 2 MB for one account) cannot fit."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_leaves_the_run_incomplete_unsigned_and_says_so(tmp_path, small_disk):
    out = small_disk / "bundle"
    run = Run(SANDBOX, out, run_env(tmp_path), pdf=True)  # with its PDF, the bundle is sure not to fit
    code = run.finish()
    errors = [r for r in run.records if r["level"] == "error"]
    assert code == 4 and len(errors) == 1 and errors[0]["event"] == "incomplete", run.records
    assert "No space left on device" in errors[0]["message"] and "not evidence, not signed" in errors[0]["message"]
    incomplete = small_disk / "bundle.incomplete"
    assert incomplete.is_dir() and (incomplete / "INCOMPLETE").exists() and not out.exists()
    assert not (incomplete / "signatures").exists()


def test_a_run_killed_outright_is_set_aside_by_the_next_run_into_the_same_out(tmp_path):
    """SIGKILL cannot be handled: the staging directory stays, marked INCOMPLETE from its first
    moment. The next run into that --out keeps it, renamed <out>.incomplete, and starts clean."""
    out = tmp_path / "bundle"
    env = run_env(tmp_path)
    run = Run(SANDBOX, out, env)
    run.until_stage("notebook")
    kernels = run.children()
    run.process.kill()
    run.finish()
    staging = tmp_path / ".bundle.partial"
    assert staging.is_dir() and "not evidence" in (staging / "INCOMPLETE").read_text()
    for pid in kernels:
        os.kill(pid, signal.SIGKILL)
    again = Run(SANDBOX, out, env)
    assert again.finish() in (0, 1, 3), again.records
    assert not staging.exists() and (tmp_path / "bundle.incomplete" / "INCOMPLETE").is_file()
    assert subprocess.run([ROOTWATCH, "verify", str(out), "--trusted-key", str(dev_key(tmp_path))], env=env,
                          capture_output=True, check=False).returncode == 0


# A library that swallows the signal's exception and then waits forever, as urllib3's connection pool
# once did when SIGTERM landed while it held its lock.
HANGS_ON_THE_SIGNAL = """
import os, signal, threading, time
from rootwatch import cli
from rootwatch.errors import Interrupted
cli.INTERRUPT_GRACE_S = 1.0

def set_aside(exc):
    print("partial run set aside after", exc.name, flush=True)
    return cli.Exit(128 + exc.signum)

with cli._interruptible(set_aside) as stop:
    threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM)).start()
    try:
        try:
            time.sleep(30)
        except Interrupted:
            threading.Event().wait()
    except Interrupted as exc:
        raise SystemExit(stop(exc))
"""


def test_a_run_whose_unwinding_hangs_on_the_signal_still_stops_with_its_partial_run_set_aside():
    done = subprocess.run([sys.executable, "-c", HANGS_ON_THE_SIGNAL], capture_output=True, text=True, timeout=60)
    assert done.returncode == 143 and done.stdout == "partial run set aside after SIGTERM\n", done
