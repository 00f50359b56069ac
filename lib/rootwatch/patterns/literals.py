"""Byte strings an event's raw JSON must contain for a pattern to match it, for cheap skipping.

A scanner of CloudTrail archives decompresses gigabytes; parsing them is what costs. If a pattern
can only match records whose text contains ``Root``, a file (or record) without those bytes can be
skipped unparsed. The requirement is kept in conjunctive form: every clause must be met, a clause
by any one of its alternatives. It is sound, never exact: the evaluator still decides.

Only runs of ASCII letters and digits are used. JSON must escape quotes, backslashes and control
characters and may escape anything else as ``\\u00XX``; encoders do so for non-ASCII and some for
``<``, ``>``, ``&`` — none for letters or digits, and CloudTrail (whose files a digest proves
unaltered) never. A file spelling ``Root`` as ``R\\u006fot`` would be skipped: checking for that
costs a full pass over the bytes, as much as everything else the scan does but decompressing.
"""

from __future__ import annotations

import re

from rootwatch.patterns.ast import And, Compare, Node, Or, Text

Clause = frozenset[bytes]
MIN_LENGTH = 3  # shorter runs occur everywhere and would skip nothing
_RUN = re.compile(r"[A-Za-z0-9]+")




def required(node: Node) -> list[Clause]:
    """The clauses a record's bytes must satisfy for ``node`` to match it (empty: no skipping)."""
    if isinstance(node, And):
        return [clause for child in node.operands for clause in required(child)]
    if isinstance(node, Or):
        best = [_strongest(required(child)) for child in node.operands]
        return [] if any(b is None for b in best) else [frozenset().union(*best)]
    if isinstance(node, Compare) and node.op == "=" and isinstance(node.value, Text):
        literal = _literal(node.value.parts)
        return [frozenset({literal})] if literal else []
    return []


def _literal(parts: tuple[str, ...]) -> bytes:
    """A string value is written between quotes: an exact word is required as ``"Root"``, a prefix
    as ``"AccessDenied`` and a suffix as ``UnauthorizedOperation"`` (the quote rules out AssumeRoot
    and ListRoots). A text value matches only a string (``"123"`` never the number 123), so the
    quotes are always there."""
    first, last = parts[0], parts[-1]
    if _RUN.fullmatch(first) and len(first) >= MIN_LENGTH:
        return f'"{first}"'.encode() if len(parts) == 1 else f'"{first}'.encode()
    if _RUN.fullmatch(last) and len(last) >= MIN_LENGTH:
        return f'{last}"'.encode()
    run = max((r for part in parts for r in _RUN.findall(part)), key=len, default="")
    return run.encode() if len(run) >= MIN_LENGTH else b""


def satisfied(clauses: list[Clause], data: bytes) -> bool:
    return all(any(alt in data for alt in clause) for clause in clauses)


def _strongest(clauses: list[Clause]) -> Clause | None:
    """The clause with the fewest, longest alternatives: it skips the most."""
    if not clauses:
        return None
    return min(clauses, key=lambda c: (len(c), -min(len(a) for a in c)))
