"""README.md's table of what each AWS error means for a link, rendered from rootwatch.answers.

``python -m tests.answers.table --write`` rewrites the table between the README's markers; the tests
fail when the README and the data disagree, and tests/answers asserts every row.
"""

from __future__ import annotations

from rootwatch.answers import ANSWERS, UNLISTED, Owner
from tests import readme_table

BEGIN, END = "<!-- answers-table:begin (python -m tests.answers.table --write) -->", "<!-- answers-table:end -->"


def render() -> str:
    rows = [f"| {a.link.title} | {', '.join(a.operations)} | `{a.code}` | "
            f"{'any' if a.owner is Owner.ANY else a.owner.value} | **{a.status}** | {a.meaning} |" for a in ANSWERS]
    rows.append(f"| any link | any call | any other error | any | **GAP** | {UNLISTED} |")
    return "\n".join([BEGIN, "| link | call | error code | resource | verdict | what the link's reason says |",
                      "|---|---|---|---|---|---|", *rows, END])


def current() -> str:
    return readme_table.current(BEGIN, END)


if __name__ == "__main__":
    readme_table.main(BEGIN, END, render)
