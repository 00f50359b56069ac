"""The README's fault → outcome table, rendered from the cases the fault tests assert.

``python -m tests.faults.table --write`` rewrites the table between the README's markers; the
tests fail when the README and the cases disagree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests import readme_table

CASES = Path(__file__).with_name("cases.yaml")
BEGIN, END = "<!-- fault-table:begin (python -m tests.faults.table --write) -->", "<!-- fault-table:end -->"


def cases() -> list[dict[str, Any]]:
    return yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]


def outcome(expect: dict[str, Any]) -> str:
    parts = [f"retried {n}× by botocore" for n in expect.get("retried", {}).values()]
    parts += [f"retried {n}×, then given up" for n in expect.get("gave_up", {}).values()]
    gaps = expect.get("gaps")
    if expect.get("gaps_all"):
        parts.append(f"every later call a gap ({expect['gaps_all']})")
    elif gaps:
        parts.append("gap: " + ", ".join(f"{op} {code}" for op, code in gaps))
    else:
        parts.append("no gap")
    verdicts = f"4.3 **{expect['chain']}**" + (f", alarm coverage **{expect['coverage']}**"
                                               if "coverage" in expect else "")
    return f"{'; '.join(parts)} → {verdicts}"


def render() -> str:
    rows = [f"| {c['fault']} | {outcome(c['expect'])} |" for c in cases()]
    return "\n".join([BEGIN, "| fault injected | outcome (asserted by tests/faults) |", "|---|---|", *rows, END])


def current() -> str:
    return readme_table.current(BEGIN, END)


if __name__ == "__main__":
    readme_table.main(BEGIN, END, render)
