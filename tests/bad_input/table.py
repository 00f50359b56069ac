"""The README's bad-input table, rendered from the cases ``tests/bad_input/test_bad_input.py`` asserts.

``python -m tests.bad_input.table --write`` rewrites it between the README's markers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests import readme_table

CASES = Path(__file__).with_name("cases.yaml")
BEGIN, END = "<!-- bad-input-table:begin (python -m tests.bad_input.table --write) -->", "<!-- bad-input-table:end -->"


def cases() -> list[dict[str, Any]]:
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("{cwd}/", "")


def render() -> str:
    rows = [f"| {_cell(c['input'])} | `rootwatch {' '.join(c['argv'][:2])} …` | {_cell(c['message'])} |"
            for c in cases()]
    return "\n".join([BEGIN, "| bad input | command | the one line on stderr (exit 2) |", "|---|---|---|", *rows, END])


def current() -> str:
    return readme_table.current(BEGIN, END)


if __name__ == "__main__":
    readme_table.main(BEGIN, END, render)
