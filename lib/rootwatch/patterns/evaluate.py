"""Compile a syntax tree to one Python function, so matching costs about what a hand-written
predicate costs (see ``bench/patterns.py``).

Semantics (``../shared/reference/filter-patterns.md``; where the reference is silent, the choice
is written here and pinned by ``tests/patterns/cases``):
- a selector resolves through objects (``.name``) and arrays (``[n]``); anything else is *absent*;
- a comparison holds only on a present scalar of the value's type: strings for quoted, unquoted
  and regex values, numbers (not booleans) for numeric ones — so ``!=`` on an absent field, on an
  object or on a value of the other type is false; numbers compare as doubles;
- ``= "*"`` means the field exists with a non-null scalar value; ``*`` inside a value is a wildcard;
- ``IS NULL`` / ``IS TRUE`` / ``IS FALSE`` hold only for JSON ``null`` / ``true`` / ``false``;
- ``NOT EXISTS`` holds when the selector does not resolve.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rootwatch.patterns import regex
from rootwatch.patterns.ast import And, Compare, Is, Node, NotExists, Number, Or, Path, Regex, Text

Predicate = Callable[[dict[str, Any]], bool]
MISSING = object()
PYTHON_OPS = {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}


def as_double(number: float) -> float:
    """JSON numbers compare as IEEE doubles (as CloudWatch Logs reads them): integers beyond 2**53
    round, and integers beyond the double range become infinite instead of raising."""
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def flatten(node: Node) -> Node:
    """Merge nested ``&&`` into ``&&`` and ``||`` into ``||`` (what parentheses leave behind)."""
    if isinstance(node, (And, Or)):
        kind = type(node)
        operands: list[Node] = []
        for child in map(flatten, node.operands):
            operands.extend(child.operands if isinstance(child, kind) else (child,))
        return kind(tuple(operands))
    return node


def compile_node(node: Node) -> Predicate:
    """Turn ``node`` into a predicate over one decoded JSON event."""
    gen = _Generator()
    body = gen.node(flatten(node), {})
    source = f"def _match(e):\n    return type(e) is dict and ({body})\n"
    namespace: dict[str, Any] = {"_M": MISSING, "_num": as_double, **gen.constants}
    exec(compile(source, "<filter-pattern>", "exec"), namespace)  # noqa: S102 - our own generated code
    fn = namespace["_match"]
    fn.source = source
    return fn


class _Generator:
    """Emits one expression per node; within an ``&&`` chain, containers already resolved by an
    earlier (true) comparison are reused instead of looked up again."""

    def __init__(self) -> None:
        self.constants: dict[str, Any] = {}
        self.names = 0

    def fresh(self) -> str:
        self.names += 1
        return f"_v{self.names}"

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.constants)}"
        self.constants[name] = value
        return name

    def node(self, node: Node, bound: dict[tuple, str]) -> str:
        if isinstance(node, And):
            scope = dict(bound)
            parts = []
            for child in node.operands:
                parts.append(self.node(child, scope))
                if isinstance(child, (Compare, Is)):
                    scope.update(self.last_resolved)
            return "(" + " and ".join(parts) + ")"
        if isinstance(node, Or):
            return "(" + " or ".join(self.node(child, dict(bound)) for child in node.operands) + ")"
        return self.atom(node, bound)

    def resolve(self, path: Path, bound: dict[tuple, str]) -> tuple[list[str], str]:
        """Conditions that hold when every container on ``path`` resolves, and the variable holding
        the innermost container. Records the variables bound on the way in ``last_resolved``, keyed
        by (prefix, container type) so a dict is never reused where a list is needed."""
        segments = path.segments

        def kind(k: int) -> str:
            return "list" if isinstance(segments[k], int) else "dict"

        start = max((k for k in range(1, len(segments)) if (segments[:k], kind(k)) in bound), default=0)
        var = bound[(segments[:start], kind(start))] if start else "e"
        conds: list[str] = []
        self.last_resolved = {}
        for k in range(start, len(segments) - 1):
            seg, child = segments[k], self.fresh()
            if isinstance(seg, int):
                conds.append(f"len({var}) > {seg}")
                conds.append(f"type({child} := {var}[{seg}]) is {kind(k + 1)}")
            else:
                conds.append(f"type({child} := {var}.get({seg!r})) is {kind(k + 1)}")
            var = child
            self.last_resolved[(segments[:k + 1], kind(k + 1))] = child
        return conds, var

    def atom(self, atom: Compare | Is | NotExists, bound: dict[tuple, str]) -> str:
        conds, container = self.resolve(atom.path, bound)
        last = atom.path.segments[-1]
        if isinstance(atom, NotExists):
            present = f"len({container}) > {last}" if isinstance(last, int) else f"{last!r} in {container}"
            return "not (" + " and ".join(conds + [present]) + ")"
        if isinstance(last, int):
            conds.append(f"len({container}) > {last}")
            leaf = f"{container}[{last}]"
        else:
            leaf = f"{container}.get({last!r}, _M)"
        return "(" + " and ".join(conds + [self.test(atom, leaf)]) + ")"

    def test(self, atom: Compare | Is, leaf: str) -> str:
        if isinstance(atom, Is):
            return f"{leaf} is { {'NULL': 'None', 'TRUE': 'True', 'FALSE': 'False'}[atom.what]}"
        value, op = atom.value, atom.op
        v = self.fresh()
        if isinstance(value, Number):
            return f"type({v} := {leaf}) in (int, float) and _num({v}) {PYTHON_OPS[op]} {value.value!r}"
        if isinstance(value, Text) and value.parts == ("", ""):
            exists = f"({v} := {leaf}) is not _M and {v} is not None and type({v}) not in (dict, list)"
            return exists if op == "=" else "False"
        if isinstance(value, Text) and not value.is_wildcard and op == "=":
            return f"{leaf} == {value.parts[0]!r}"
        held = self.string_test(value, v)
        return f"type({v} := {leaf}) is str and " + (held if op == "=" else f"not ({held})")

    def string_test(self, value: Text | Regex, v: str) -> str:
        if isinstance(value, Regex):
            return f"{self.constant(regex.to_python(regex.parse_regex(value.source)).search)}({v}) is not None"
        parts = value.parts
        if len(parts) == 1:
            return f"{v} == {parts[0]!r}"
        if len(parts) == 2:
            head, tail = parts
            checks = [f"len({v}) >= {len(head) + len(tail)}"] if head and tail else []
            checks += [f"{v}.startswith({head!r})"] if head else []
            checks += [f"{v}.endswith({tail!r})"] if tail else []
            return " and ".join(checks) or "True"
        matcher = regex.to_python(regex.glob_branches(parts)).search
        return f"{self.constant(matcher)}({v}) is not None"
