"""EventBridge event pattern (JSON text or a decoded object) → ``ast.Obj``, or one clear error.

The grammar is the documented one (EventBridge user guide, "Event patterns", "Content filtering",
"Comparison operators"; the Event Ruler library that implements it): values are always lists;
matchers are ``prefix``, ``suffix`` (each also ``{"equals-ignore-case": …}``), ``equals-ignore-case``,
``wildcard``, ``anything-but`` (a value, a list of strings or of numbers, or ``prefix``/``suffix``/
``equals-ignore-case``/``wildcard``), ``numeric``, ``exists``, ``cidr``; ``$or`` takes a list of two
or more objects (Event Ruler reads anything else under ``$or`` as an ordinary field name, and so do we).

A pattern comes from an account being audited, so its size and depth are bounded before anything
else is done with it, and every refusal is an ``EventPatternError`` naming the field.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from typing import Any

from rootwatch.errors import RootwatchError
from rootwatch.eventbridge.ast import (AnythingBut, Cidr, EqualsIgnoreCase, Exact, Exists, Leaf, Matcher, Numeric, Obj,
                                       Path, Prefix, Suffix, Wildcard)

MAX_TEXT = 65_536  # characters; EventBridge's own limit is smaller, this only keeps hostile input cheap
MAX_DEPTH = 24  # nested objects and $or levels
MAX_MATCHERS = 2_000  # fields and values in the whole pattern
NUMERIC_LIMIT = 5.0e9  # Event Ruler: numeric matching works between -5.0e9 and +5.0e9
OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr")
_LOWER = {">": False, ">=": True}
_UPPER = {"<": False, "<=": True}


class EventPatternError(RootwatchError):
    """An event pattern EventBridge would refuse, or one too large to read safely."""

    def __init__(self, reason: str, path: Path = ()) -> None:
        self.reason = reason
        self.path = path
        where = f" at {_dotted(path)}" if path else ""
        super().__init__(f"invalid event pattern{where}: {reason}",
                         "fix the rule's EventPattern (EventBridge event pattern syntax)")


def parse(pattern: str | dict) -> Obj:
    """The pattern's tree; raises ``EventPatternError`` (never anything else) for what cannot be read."""
    if isinstance(pattern, str):
        if len(pattern) > MAX_TEXT:
            raise EventPatternError(f"{len(pattern):,} characters, more than the {MAX_TEXT:,} rootwatch reads")
        try:
            pattern = json.loads(pattern, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        except RecursionError:
            raise EventPatternError(f"nested deeper than {MAX_DEPTH} levels") from None
        except ValueError as exc:
            raise EventPatternError(f"not JSON ({_short(exc, 120)})") from None
    return _Parser().object(pattern, (), 0)


class _Parser:
    def __init__(self) -> None:
        self.count = 0

    def object(self, value: Any, path: Path, depth: int) -> Obj:
        if depth > MAX_DEPTH:
            raise EventPatternError(f"nested deeper than {MAX_DEPTH} levels", path)
        if not isinstance(value, dict):
            raise EventPatternError("a pattern is a JSON object of fields", path)
        if not value:
            raise EventPatternError("an empty object matches nothing EventBridge accepts", path)
        self.count += len(value)
        if self.count > MAX_MATCHERS:
            raise EventPatternError(f"more than {MAX_MATCHERS} fields and values in the pattern", path)
        fields, ors = [], []
        for name, child in value.items():
            where = (*path, name)
            if name == "$or" and isinstance(child, list) and len(child) >= 2 and all(isinstance(c, dict)
                                                                                   for c in child):
                ors.append(tuple(self.object(alt, path, depth + 1) for alt in child))
            elif isinstance(child, dict):
                fields.append((name, self.object(child, where, depth + 1)))
            elif isinstance(child, list):
                fields.append((name, self.leaf(child, where)))
            else:
                raise EventPatternError(f"values must be in a list, e.g. [{_short(child)}]", where)
        return Obj(tuple(fields), tuple(ors))

    def leaf(self, values: list, path: Path) -> Leaf:
        if not values:
            raise EventPatternError("an empty list matches nothing", path)
        self.count += len(values)
        if self.count > MAX_MATCHERS:
            raise EventPatternError(f"more than {MAX_MATCHERS} fields and values in the pattern", path)
        return Leaf(tuple(self.matcher(v, path) for v in values))

    def matcher(self, value: Any, path: Path) -> Matcher:
        if value is None or isinstance(value, (str, bool)) or _number(value):
            return Exact(value)
        if isinstance(value, list):
            raise EventPatternError("a list inside a list of values", path)
        if not isinstance(value, dict) or len(value) != 1:
            raise EventPatternError("a content filter is an object with one operator, e.g. {\"prefix\": \"aws.\"}",
                                    path)
        (op, arg), = value.items()
        if op not in OPERATORS:
            raise EventPatternError(f"unknown operator {_short(op)} (known: {', '.join(OPERATORS)})", path)
        return getattr(self, "op_" + op.replace("-", "_"))(arg, path)

    # --- operators ----------------------------------------------------------------------
    def op_prefix(self, arg: Any, path: Path) -> Matcher:
        text, ignore = _text_or_ignore_case(arg, "prefix", path)
        return Prefix(text, ignore)

    def op_suffix(self, arg: Any, path: Path) -> Matcher:
        text, ignore = _text_or_ignore_case(arg, "suffix", path)
        return Suffix(text, ignore)

    def op_equals_ignore_case(self, arg: Any, path: Path) -> Matcher:
        return EqualsIgnoreCase(_string(arg, "equals-ignore-case", path))

    def op_wildcard(self, arg: Any, path: Path) -> Matcher:
        return _wildcard(_string(arg, "wildcard", path), path)

    def op_exists(self, arg: Any, path: Path) -> Matcher:
        if not isinstance(arg, bool):
            raise EventPatternError("exists takes true or false", path)
        return Exists(arg)

    def op_cidr(self, arg: Any, path: Path) -> Matcher:
        try:
            return Cidr(ipaddress.ip_network(_string(arg, "cidr", path), strict=False))
        except ValueError:
            raise EventPatternError(f"cidr takes an IPv4 or IPv6 block such as \"10.0.0.0/24\", not {_short(arg)}",
                                    path) from None

    def op_numeric(self, arg: Any, path: Path) -> Matcher:
        if not isinstance(arg, list) or len(arg) not in (2, 4):
            raise EventPatternError("numeric takes one or two comparisons, e.g. [\">\", 0, \"<=\", 5]", path)
        pairs = [(arg[i], arg[i + 1]) for i in range(0, len(arg), 2)]
        for op, number in pairs:
            if op not in ("=", *_LOWER, *_UPPER):
                raise EventPatternError(f"numeric operator {_short(op)} is not one of =, <, <=, >, >=", path)
            if not _number(number) or abs(number) > NUMERIC_LIMIT:
                raise EventPatternError(f"numeric bound {_short(number)} is not a number within ±5e9", path)
        if len(pairs) == 1 and pairs[0][0] == "=":
            x = float(pairs[0][1])
            return Numeric(x, True, x, True)
        lows = [(float(n), _LOWER[o]) for o, n in pairs if o in _LOWER]
        highs = [(float(n), _UPPER[o]) for o, n in pairs if o in _UPPER]
        if any(o == "=" for o, _ in pairs) or len(lows) > 1 or len(highs) > 1:
            raise EventPatternError("numeric takes \"=\" alone, or at most one lower and one upper bound", path)
        low, low_inc = lows[0] if lows else (None, False)
        high, high_inc = highs[0] if highs else (None, False)
        if low is not None and high is not None and (low > high or (low == high and not (low_inc and high_inc))):
            raise EventPatternError("numeric range is empty", path)
        return Numeric(low, low_inc, high, high_inc)

    def op_anything_but(self, arg: Any, path: Path) -> Matcher:
        if isinstance(arg, str) or _number(arg):
            return AnythingBut((Exact(arg),))
        if isinstance(arg, list):
            if arg and (all(isinstance(a, str) for a in arg) or all(_number(a) for a in arg)):
                return AnythingBut(tuple(Exact(a) for a in arg))
            raise EventPatternError("anything-but takes a non-empty list of only strings or only numbers", path)
        if isinstance(arg, dict) and len(arg) == 1:
            (op, inner), = arg.items()
            if op in ("prefix", "suffix"):
                text = _string(inner, f"anything-but {op}", path)
                return AnythingBut(((Prefix if op == "prefix" else Suffix)(text),))
            if op in ("equals-ignore-case", "wildcard"):
                items = inner if isinstance(inner, list) and inner else [inner]
                texts = [_string(i, f"anything-but {op}", path) for i in items]
                return AnythingBut(tuple(EqualsIgnoreCase(t) if op == "equals-ignore-case" else _wildcard(t, path)
                                         for t in texts))
        raise EventPatternError("anything-but takes a value, a list, or one of prefix, suffix, equals-ignore-case, "
                                "wildcard", path)


def _text_or_ignore_case(arg: Any, op: str, path: Path) -> tuple[str, bool]:
    if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"]:
        return _string(arg["equals-ignore-case"], op, path), True
    return _string(arg, op, path), False


def _string(arg: Any, op: str, path: Path) -> str:
    if not isinstance(arg, str):
        raise EventPatternError(f"{op} takes a string, not {_short(arg)}", path)
    return arg


def _wildcard(text: str, path: Path) -> Wildcard:
    """Event Ruler's rules: no two stars in a row; a backslash escapes only a star or a backslash."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "*\\":
                raise EventPatternError("in a wildcard a backslash may only escape * or \\", path)
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        if ch == "*":
            if i + 1 < len(text) and text[i + 1] == "*":
                raise EventPatternError("a wildcard may not hold two * in a row", path)
            out.append(".*")
        else:
            out.append(re.escape(ch))
        i += 1
    return Wildcard(text, re.compile("".join(out), re.DOTALL))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"field {_short(key)} given twice")
        seen[key] = value
    return seen


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = str(value) if isinstance(value, Exception) else json.dumps(value, ensure_ascii=True)
    except (RecursionError, ValueError):
        text = type(value).__name__
    return text if len(text) <= limit else text[:limit - 1] + "..."


def _dotted(path: Path) -> str:
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_$-]+", p) else json.dumps(p, ensure_ascii=True)
                    for p in path)[:200]
