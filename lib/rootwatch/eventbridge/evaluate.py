"""Does a pattern match an event: EventBridge's documented semantics over a decoded event.

- A field of the pattern matches when any of its matchers matches any of the event's values there:
  a list in the event is a set of values (the documented "intersection is non-empty"), nested lists
  are flattened, objects inside them are not values.
- A field the event lacks matches only ``exists: false``; ``anything-but`` needs a value.
- Where the event holds a list of objects, a nested pattern must match within one element
  (Event Ruler's array consistency: two fields are never matched in different elements).
- Fields the pattern does not name are ignored.
"""

from __future__ import annotations

from typing import Any

from rootwatch.eventbridge.ast import Exists, Leaf, Obj, Scalar

MISSING = object()
MAX_EVENT_DEPTH = 64  # deeper events are not descended further (a real CloudTrail record is < 15 deep)


def matches(pattern: Obj, event: Any) -> bool:
    return _object(pattern, event, 0)


def _object(pattern: Obj, node: Any, depth: int) -> bool:
    if isinstance(node, list):
        elements = list(_flat(node, depth))
        if elements:
            return any(_object(pattern, e, depth + 1) for e in elements)
        node = MISSING
    for name, child in pattern.fields:
        value = node.get(name, MISSING) if isinstance(node, dict) else MISSING
        ok = leaf_matches(child, value, depth) if isinstance(child, Leaf) else _object(child, value, depth + 1)
        if not ok:
            return False
    return all(any(_object(alt, node, depth) for alt in alternatives) for alternatives in pattern.ors)


def values_at(value: Any, depth: int = 0) -> list[Scalar]:
    """The leaf values a field holds: none for absent, an object, or a list of objects."""
    if value is MISSING or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [v for v in _flat(value, depth) if not isinstance(v, dict)]
    return [value]


def leaf_matches(leaf: Leaf, value: Any, depth: int = 0) -> bool:
    """Whether one field's matchers accept the value an event holds there (``MISSING`` if none)."""
    values = values_at(value, depth)
    for m in leaf.matchers:
        if isinstance(m, Exists):
            if m.present == bool(values):
                return True
        elif any(m.test(v) for v in values):
            return True
    return False


def _flat(items: list, depth: int):
    """A list's elements with nested lists flattened, bounded so a hostile event cannot recurse forever."""
    for item in items:
        if isinstance(item, list):
            if depth < MAX_EVENT_DEPTH:
                yield from _flat(item, depth + 1)
        else:
            yield item
