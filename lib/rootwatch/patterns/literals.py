"""Byte strings an event's raw JSON must contain for a pattern to match it, for cheap skipping.

A scanner of CloudTrail archives decompresses gigabytes; parsing them is what costs. If a pattern
can only match records whose text contains ``Root``, a file (or record) without those bytes can be
skipped unparsed. The requirement is kept in conjunctive form: every clause must be met, a clause
by any one of its alternatives. It is sound, never exact: the evaluator still decides.

Only runs of ASCII letters and digits are used: no JSON encoder escapes them, except by ``\\u``
sequences, which ``may_hide_literals`` detects so a scanner can fall back to parsing.
"""

from __future__ import annotations

import re

from rootwatch.patterns.ast import And, Compare, Node, Or, Text

Clause = frozenset[bytes]
MIN_LENGTH = 3  # shorter runs occur everywhere and would skip nothing
_RUN = re.compile(r"[A-Za-z0-9]+")
# \u escapes of ASCII letters and digits (0-9, A-Z, a-z): the only way a JSON text could spell a
# required literal without containing its bytes
_HIDDEN = re.compile(rb"\\u00(?:3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|6[1-9A-Fa-f]|7[0-9Aa])")


def required(node: Node) -> list[Clause]:
    """The clauses a record's bytes must satisfy for ``node`` to match it (empty: no skipping)."""
    if isinstance(node, And):
        return [clause for child in node.operands for clause in required(child)]
    if isinstance(node, Or):
        best = [_strongest(required(child)) for child in node.operands]
        return [] if any(b is None for b in best) else [frozenset().union(*best)]
    if isinstance(node, Compare) and node.op == "=" and isinstance(node.value, Text):
        run = max((r for part in node.value.parts for r in _RUN.findall(part)), key=len, default="")
        return [frozenset({run.encode()})] if len(run) >= MIN_LENGTH else []
    return []


def satisfied(clauses: list[Clause], data: bytes) -> bool:
    return all(any(alt in data for alt in clause) for clause in clauses)


def may_hide_literals(data: bytes) -> bool:
    """True when ``data`` spells a letter or digit as a ``\\u`` escape, so a missing literal
    proves nothing (a hostile or unusual encoder); CloudTrail's own files never do."""
    return b"\\u00" in data and _HIDDEN.search(data) is not None


def _strongest(clauses: list[Clause]) -> Clause | None:
    """The clause with the fewest, longest alternatives: it skips the most."""
    if not clauses:
        return None
    return min(clauses, key=lambda c: (len(c), -min(len(a) for a in c)))
