"""CloudWatch Logs JSON filter patterns, read by meaning: parse, match, compare, render.

The public surface is small on purpose (as jmespath's ``compile``/``search``)::

    p = compile_pattern('{ $.userIdentity.type = "Root" }')
    p.matches(event)            # bool, compiled once per pattern
    p.canonical                 # stable text for reports
    compare(reference, p)       # Relation plus blind-spot / noise events
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from dataclasses import dataclass, field
from functools import lru_cache

from rootwatch.patterns.ast import And, Node, Path
from rootwatch.patterns.compare import Comparison, Relation, value_at
from rootwatch.patterns.compare import compare as _compare_trees
from rootwatch.patterns.evaluate import MISSING, Predicate, compile_node, flatten
from rootwatch.patterns.parser import parse
from rootwatch.patterns.render import canonical

__all__ = ["Comparison", "FilterPattern", "Relation", "compare", "compile_pattern", "describe_event", "parse"]


@dataclass(frozen=True, eq=False)
class FilterPattern:
    text: str
    tree: Node
    matches: Predicate = field(repr=False)

    @property
    def canonical(self) -> str:
        return canonical(self.tree)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickled as its text, compiled again on arrival: the predicate is generated code, which does not
        pickle, and a collection spread over processes sends the controls (collect/spread.py)."""
        return compile_pattern, (self.text,)


@lru_cache(maxsize=1024)
def compile_pattern(text: str) -> FilterPattern:
    """Parse and compile once; raises ``PatternSyntaxError`` for text CloudWatch Logs would reject."""
    tree = parse(text)
    return FilterPattern(text, tree, compile_node(tree))


def compare(reference: FilterPattern | str, other: FilterPattern | str, template: dict | None = None,
            samples: Iterable[dict] = ()) -> Comparison:
    """How ``other`` relates to ``reference`` by meaning (see ``compare.compare``)."""
    ref, oth = (compile_pattern(p) if isinstance(p, str) else p for p in (reference, other))
    return _compare_trees(ref.tree, oth.tree, template, samples)


def describe_event(event: dict, fields: Iterable[Path]) -> str:
    """The values an event has at the fields two patterns look at, e.g.
    ``userIdentity.type="Root", userIdentity.invokedBy absent``: the part of a counterexample
    that decides it."""
    values = [(path, value_at(event, path)) for path in fields]
    return ", ".join(f"{path.dotted} absent" if value is MISSING else f"{path.dotted}={json.dumps(value)}"
                     for path, value in values)


def failing_clauses(pattern: FilterPattern, event: dict) -> list[str]:
    """Why ``pattern`` does not count ``event``: its top-level ``&&`` clauses that are false (or the
    whole pattern when it is not a conjunction), in canonical text."""
    tree = flatten(pattern.tree)
    clauses = tree.operands if isinstance(tree, And) else (tree,)
    return [canonical(c)[2:-2] for c in clauses if not compile_node(c)(event)]
