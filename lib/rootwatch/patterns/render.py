"""Canonical text of a pattern: one spelling per meaning-preserving rewrite, for reports and diffs.

Operands of ``&&``/``||`` are flattened, de-duplicated and sorted; strings are always quoted;
numbers are written in plain decimal; an ``&&`` inside ``||`` is parenthesised so that the
precedence trap of the benchmark's own 4.1 text is visible to a reader.
"""

from __future__ import annotations

from rootwatch.patterns.ast import And, Is, Node, NotExists, Number, Or, Regex, Text
from rootwatch.patterns.evaluate import flatten


def canonical(node: Node) -> str:
    return "{ " + _render(_normalize(flatten(node))) + " }"


def _normalize(node: Node) -> Node:
    if isinstance(node, (And, Or)):
        # children first: de-duplicating a child can leave an operand of this node's own kind
        merged = flatten(type(node)(tuple(map(_normalize, node.operands))))
        unique = {_render(child): child for child in merged.operands}
        operands = tuple(unique[key] for key in sorted(unique))
        return operands[0] if len(operands) == 1 else type(node)(operands)
    return node


def _render(node: Node) -> str:
    if isinstance(node, And):
        return " && ".join(f"({_render(c)})" if isinstance(c, Or) else _render(c) for c in node.operands)
    if isinstance(node, Or):
        return " || ".join(f"({_render(c)})" if isinstance(c, And) else _render(c) for c in node.operands)
    if isinstance(node, NotExists):
        return f"{node.path} NOT EXISTS"
    if isinstance(node, Is):
        return f"{node.path} IS {node.what}"
    return f"{node.path} {node.op} {render_value(node.value)}"


def render_value(value: Text | Number | Regex) -> str:
    if isinstance(value, Regex):
        return f"%{value.source}%"
    if isinstance(value, Number):
        v = value.value
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    escaped = ("*".join(p.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*") for p in value.parts))
    return f'"{escaped}"'

