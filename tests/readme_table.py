"""A README table rendered from the test cases that assert it: the text between two markers is
replaced by ``write`` and compared by the tests, so the README never claims what no test checks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def current(begin: str, end: str) -> str:
    text = README.read_text(encoding="utf-8")
    start, stop = text.find(begin), text.find(end)
    return text[start:stop + len(end)] if start >= 0 and stop >= 0 else ""


def main(begin: str, end: str, render: Callable[[], str]) -> None:
    """``python -m tests.<table> [--write]``: print the rendered table, and with --write put it in the README."""
    if sys.argv[1:] == ["--write"]:
        write(begin, end, render())
    print(render())


def write(begin: str, end: str, rendered: str) -> None:
    old = current(begin, end)
    if not old:
        raise SystemExit(f"README.md has no {begin} ... {end} block to rewrite")
    README.write_text(README.read_text(encoding="utf-8").replace(old, rendered), encoding="utf-8")
