"""A fresh machine installs exactly what the tests passed with: the lock matches pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_lock_and_environment_yml_agree_with_pyproject():
    done = subprocess.run([sys.executable, str(ROOT / "lock" / "refresh.py"), "--check"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_a_dependency_added_to_pyproject_without_make_lock_is_caught(tmp_path):
    """The check is not vacuous: a pyproject.toml that asks for something else fails it."""
    copy = tmp_path / "project"
    (copy / "lock").mkdir(parents=True)
    for name in ("pyproject.toml", "environment.yml"):
        (copy / name).write_text((ROOT / name).read_text())
    for path in (ROOT / "lock").iterdir():
        (copy / "lock" / path.name).write_text(path.read_text())
    pyproject = copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"tqdm>=4.66",', '"tqdm>=4.66",\n    "rich>=13",'))
    done = subprocess.run([sys.executable, str(copy / "lock" / "refresh.py"), "--check"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 1
    assert "was resolved from another pyproject.toml" in done.stderr and "rich>=13 is pinned to None" in done.stderr
    assert "rich has no entry in lock/conda-forge.yaml" in done.stderr
