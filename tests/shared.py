"""What several test modules only read — a signed sandbox bundle, the signing identity it names —
built once per test session, by whichever pytest-xdist worker asks first; the others wait for it.

Why: a session-scoped fixture is built once per worker, and `make test` spreads the modules that
read the same end-to-end run over four workers, so the same 30-CPU-second run was made up to four
times on a two-core machine. The workers of one session share the parent of their temporary
directories; a file lock there makes the first build and the rest reuse it (pytest-xdist's own
recipe for session fixtures, with fcntl instead of the filelock package).
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The directory ``build`` filled in this session, building it if no worker has yet. A build
    that fails leaves nothing marked built: the next worker to ask builds it again, and fails the
    same way, so each module's tests report the failure."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    target, done = root / f"shared-{name}", root / f"shared-{name}.built"
    with (root / f"shared-{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            build(target)
            done.touch()
    return target
