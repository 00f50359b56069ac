"""`rootwatch sandbox` in its own process, as a user starts it: for tests that need a sandbox they
may change (remediation) or reach from other processes (JupyterLab kernels). The pytest session's
in-process sandbox cannot serve them: moto's state is per process and shared by every test.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANDBOX_START_TIMEOUT = 60.0  # seeding 90 days of CloudTrail for each account takes a few seconds

_EXPORT = re.compile(r"^export (AWS_[A-Z_]+)=(.*)$")
_MEMBER = re.compile(r"^#\s+(\d{12})\s+(\S+)\s+(arn:aws:iam::\d{12}:role/\S+)$")


@dataclass(frozen=True)
class SandboxProcess:
    """What `rootwatch sandbox` printed: the environment for a shell or JupyterLab, and whom to audit."""

    exports: dict[str, str]
    members: dict[str, str]  # account id -> audit role ARN


def child_environment(**extra: str) -> dict[str, str]:
    """This process's environment without the caller's own AWS settings (a profile or keys of a real
    account must never mix with the sandbox's), loopback never proxied, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {**env, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **extra}


def stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM to the process group we created (the server's own shutdown ends its kernels), SIGKILL
    if it lingers: a test must not leave servers behind."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Every line of ``stream`` into ``lines``, then None at its end; keeps the pipe drained."""
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _banner(process: subprocess.Popen[str], timeout: float) -> list[str]:
    """The sandbox's banner: lines until the member accounts are listed, then until the output goes
    quiet. It prints everything in one flush once seeded, then nothing until it stops, so a second of
    silence after the first member line means the list is complete."""
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True, name="sandbox-stdout").start()
    deadline, banner = time.monotonic() + timeout, []
    while True:
        listed = any(_MEMBER.match(line) for line in banner)
        wait = 1.0 if listed else deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(wait, 0))
        except queue.Empty:
            if listed:
                return banner
            pytest.fail(f"rootwatch sandbox printed no member accounts within {timeout:.0f} s:\n" + "\n".join(banner))
        if line is None:
            pytest.fail(f"rootwatch sandbox exited ({process.wait()}) before serving:\n" + "\n".join(banner))
        banner.append(line)


def _parse_banner(banner: list[str]) -> SandboxProcess:
    """The ``export`` lines and the ``#   <id>  <alias>  <role arn>`` lines, as a user would copy them."""
    exports = dict(m.groups() for m in map(_EXPORT.match, banner) if m)
    members = {m[1]: m[3] for m in map(_MEMBER.match, banner) if m}
    assert exports.get("AWS_ENDPOINT_URL", "").startswith("http://127.0.0.1:"), banner
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= exports.keys() and members, banner
    return SandboxProcess(exports, members)


@contextlib.contextmanager
def serve(directory: Path, *options: str) -> Iterator[SandboxProcess]:
    """`rootwatch sandbox OPTIONS` in its own process group (not the in-process Sandbox: moto's state
    is per process and the pytest session already seeded one); its stderr goes to ``directory``."""
    with (directory / "stderr.log").open("w") as stderr:
        process = subprocess.Popen([str(Path(sys.executable).with_name("rootwatch")), "sandbox", *options], cwd=ROOT,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                   env=child_environment(), start_new_session=True)
        try:
            yield _parse_banner(_banner(process, SANDBOX_START_TIMEOUT))
        finally:
            stop(process)


@pytest.fixture(scope="module")
def sandbox_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """The sandbox organisation served by `rootwatch sandbox`, for a module's tests."""
    with serve(tmp_path_factory.mktemp("sandbox")) as served:
        yield served
