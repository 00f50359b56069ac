"""What rootwatch prints on a terminal: plain aligned text, no colour, nothing from data
interpreted (patterns and events are printed as data)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rootwatch.models import Coverage

RELATION = {
    "equivalent": "equivalent to the reference",
    "broader": "broader than the reference",
    "narrower": "narrower than the reference",
    "overlapping": "overlaps the reference",
    "unrelated": "shares no event with the reference",
}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip()
             for line in [headers, ["-" * w for w in widths], *rows]]
    return "\n".join(lines)


def coverage_text(cov: Coverage, title: str) -> str:
    rows = [
        ("Control", f"{cov.control} {title} ({cov.benchmark})"),
        ("Verdict", f"{cov.status} ({cov.rule}); {RELATION[cov.relation]}"),
        ("Reason", cov.reason),
        ("Canonical", cov.canonical),
    ]
    if cov.warning:
        rows.append(("Warning", cov.warning))
    if cov.event is not None:
        rows.append(("Event", f"{cov.event_role}"))
        rows.append(("", json.dumps(cov.event, sort_keys=True)))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)
