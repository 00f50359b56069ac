"""A dependency's warnings never break a command's output contract: JSON logs stay JSON, and
`rootwatch verify` prints its verdict alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sandbox_process import child_environment

ROOT = Path(__file__).resolve().parents[1]

# `rootwatch` as installed, except that importing MODULE warns first, as a dependency deprecating
# something at import time does (cryptography 51 made pyHanko's import print a DSA warning)
FORCED = """
import importlib.abc, logging, sys, warnings

class Warn(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            warnings.warn("forced at import time by the test", UserWarning)
            logging.getLogger(name).warning("a library's own log line\\nspanning two lines")
        return None

sys.meta_path.insert(0, Warn())
from rootwatch.cli import main
sys.exit(main())
"""


def forced(module: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FORCED.format(module=module), *args], capture_output=True,
                          text=True, cwd=cwd, env=child_environment(), timeout=120, check=False)


def test_with_json_logs_every_stderr_line_is_json_whatever_a_dependency_warns(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\ncontrols: ['9.99']\n")
    done = forced("yaml", "run", str(params), "--out", str(tmp_path / "run"), "--log-format", "json")
    assert done.returncode == 2, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]
    warned = [r for r in records if r["event"] == "python-warning"]
    assert warned and warned[0]["category"] == "UserWarning" and "forced at import time" in warned[0]["message"]
    logged = [r for r in records if r["event"] == "library-log"]
    assert logged and logged[0]["logger"] == "yaml" and "\n" not in logged[0]["message"]
    assert logged[0]["level"] == "debug" and logged[0]["severity"] == "warning"
    assert records[-1]["event"] == "error" and "unknown control '9.99'" in records[-1]["message"]
    assert not (tmp_path / "run").exists()


def test_text_logs_give_a_dependency_warning_one_line_and_keep_library_logs_out(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\ncontrols: ['9.99']\n")
    done = forced("yaml", "run", str(params), "--out", str(tmp_path / "run"))
    lines = done.stderr.splitlines()
    assert lines[0] == "rootwatch: warning (UserWarning): forced at import time by the test", lines
    assert lines[1].startswith("rootwatch: unknown control '9.99'") and len(lines) == 2  # a library's log is JSON's


def test_verify_prints_its_verdict_alone_whatever_a_dependency_warns(tmp_path):
    done = forced("cryptography", "verify", str(tmp_path))  # not a bundle: the verdict is the one-line error
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"rootwatch: {tmp_path} is not a rootwatch bundle (no manifest.json); "
                                        "give a reports/<run-id> directory"]
