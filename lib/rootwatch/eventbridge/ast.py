"""The event-pattern syntax tree: frozen nodes, one matcher class per content filter.

An EventBridge pattern is an object whose fields are either nested objects or lists of matchers,
plus ``$or`` lists of alternative objects. Every matcher looks at the values of one field only:
that is what lets ``meaning`` search root events field by field, as ``patterns.compare`` does for
CloudWatch filter patterns.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

Scalar = str | int | float | bool | None
Path = tuple[str, ...]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Exact:
    """A literal: strings equal strings, numbers equal numbers (by value), null only null."""

    value: Scalar

    def test(self, v: Scalar) -> bool:
        if _is_number(self.value):
            return _is_number(v) and float(v) == float(self.value)
        return type(v) is type(self.value) and v == self.value


@dataclass(frozen=True)
class Prefix:
    text: str
    ignore_case: bool = False

    def test(self, v: Scalar) -> bool:
        if not isinstance(v, str):
            return False
        return v.lower().startswith(self.text.lower()) if self.ignore_case else v.startswith(self.text)


@dataclass(frozen=True)
class Suffix:
    text: str
    ignore_case: bool = False

    def test(self, v: Scalar) -> bool:
        if not isinstance(v, str):
            return False
        return v.lower().endswith(self.text.lower()) if self.ignore_case else v.endswith(self.text)


@dataclass(frozen=True)
class EqualsIgnoreCase:
    text: str

    def test(self, v: Scalar) -> bool:
        return isinstance(v, str) and v.lower() == self.text.lower()


@dataclass(frozen=True)
class Wildcard:
    """``*`` stands for any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""

    text: str
    regex: re.Pattern = field(compare=False, repr=False)

    def test(self, v: Scalar) -> bool:
        return isinstance(v, str) and self.regex.fullmatch(v) is not None

    def pieces(self) -> tuple[str, ...]:
        """The literal runs between stars (what a witness string must contain)."""
        out, run, escaped = [], "", False
        for ch in self.text:
            if escaped:
                run, escaped = run + ch, False
            elif ch == "\\":
                escaped = True
            elif ch == "*":
                out.append(run)
                run = ""
            else:
                run += ch
        return (*out, run)


@dataclass(frozen=True)
class Numeric:
    """A range over JSON numbers; ``None`` is an open end. Strings holding digits never match."""

    low: float | None = None
    low_inclusive: bool = False
    high: float | None = None
    high_inclusive: bool = False

    def test(self, v: Scalar) -> bool:
        if not _is_number(v):
            return False
        x = float(v)
        if self.low is not None and (x < self.low or (x == self.low and not self.low_inclusive)):
            return False
        return not (self.high is not None and (x > self.high or (x == self.high and not self.high_inclusive)))

    def bounds(self) -> tuple[float, ...]:
        return tuple(b for b in (self.low, self.high) if b is not None)


@dataclass(frozen=True)
class Cidr:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network

    def test(self, v: Scalar) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in self.network
        except ValueError:
            return False


@dataclass(frozen=True)
class AnythingBut:
    """Matches a present value that none of ``excluded`` matches. An absent field is not matched:
    EventBridge only looks at the values an event has (``exists: false`` is the way to say absent)."""

    excluded: tuple[Exact | Prefix | Suffix | EqualsIgnoreCase | Wildcard, ...]

    def test(self, v: Scalar) -> bool:
        return not any(m.test(v) for m in self.excluded)


@dataclass(frozen=True)
class Exists:
    """Presence of a leaf value: a field holding an object, an empty list or only objects is absent
    (EventBridge: exists matching works on leaf nodes only); ``null`` is present."""

    present: bool


ValueTest = Exact | Prefix | Suffix | EqualsIgnoreCase | Wildcard | Numeric | Cidr | AnythingBut
Matcher = ValueTest | Exists


@dataclass(frozen=True)
class Leaf:
    """A field's list of matchers: it matches when any matcher matches any of the field's values."""

    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class Obj:
    """Every field must match (AND), and each ``$or`` needs one alternative that matches."""

    fields: tuple[tuple[str, Leaf | Obj], ...]
    ors: tuple[tuple[Obj, ...], ...] = ()


def leaves(node: Obj, prefix: Path = ()) -> list[tuple[Path, Leaf]]:
    """Every leaf with the path it looks at, ``$or`` alternatives included (they share the path of
    the object they sit in)."""
    out: list[tuple[Path, Leaf]] = []
    for name, child in node.fields:
        if isinstance(child, Leaf):
            out.append(((*prefix, name), child))
        else:
            out.extend(leaves(child, (*prefix, name)))
    for alternatives in node.ors:
        for alt in alternatives:
            out.extend(leaves(alt, prefix))
    return out
