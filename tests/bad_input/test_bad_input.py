"""Every bad input the README lists: one line on stderr naming the problem and what to do, exit 2, no
traceback, and nothing written beside the input itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rootwatch.cli import main
from tests.bad_input.table import cases, current, render

FILLERS = {
    "{long}": "x" * 5000,
    "{huge}": "profile: " + "x" * (2 * 1024 * 1024 - len("profile: ")),
    "{long_pattern}": "{ " + " && ".join(f"$.a{i} = {i}" for i in range(3000)) + " }",
}


def _fill(text: str) -> str:
    for key, value in FILLERS.items():
        text = text.replace(key, value)
    return text


@pytest.mark.parametrize("case", cases(), ids=lambda c: c["input"])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    for name, text in case.get("files", {}).items():
        (tmp_path / name).write_text(_fill(text))
    for name, target in case.get("symlinks", {}).items():
        os.symlink(target, tmp_path / name)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(SystemExit) as exited:
        raise SystemExit(main([_fill(a) for a in case["argv"]]))
    captured = capsys.readouterr()
    assert exited.value.code == 2, captured.err
    assert captured.out == ""
    assert captured.err == f"rootwatch: {case['message'].replace('{cwd}', str(tmp_path))}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not Path("/tmp/rootwatch-elsewhere").exists()


def test_readme_bad_input_table_is_rendered_from_the_cases():
    assert current() == render(), "README.md's bad-input table is stale: run python -m tests.bad_input.table --write"
