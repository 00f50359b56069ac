"""The filter-pattern syntax tree: frozen, hashable nodes so patterns can be compared and cached.

Every leaf (``Compare``, ``Is``, ``NotExists``) looks at exactly one field; that property is what
makes exact comparison of two patterns possible (see ``compare``).
"""

from __future__ import annotations

from dataclasses import dataclass

Segment = str | int


@dataclass(frozen=True, order=True)
class Path:
    """A selector such as ``$.userIdentity.type`` or ``$.coordinates[0][1]``."""

    segments: tuple[Segment, ...]

    def __str__(self) -> str:
        out = "$"
        for seg in self.segments:
            out += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
        return out

    @property
    def dotted(self) -> str:
        """The path as people write it in prose (``userIdentity.type``)."""
        return str(self)[2:]

    def prefixes(self) -> tuple[Path, ...]:
        """Every proper ancestor, outermost first."""
        return tuple(Path(self.segments[:i]) for i in range(1, len(self.segments)))


@dataclass(frozen=True)
class Text:
    """A string value; ``parts`` are the literal pieces between ``*`` wildcards.

    ``"Root"`` is ``("Root",)``; ``"AccessDenied*"`` is ``("AccessDenied", "")``; ``"*"`` is ``("", "")``.
    """

    parts: tuple[str, ...]

    @property
    def is_wildcard(self) -> bool:
        return len(self.parts) > 1


@dataclass(frozen=True)
class Number:
    """A numeric value; ``text`` keeps the spelling the author used for rendering."""

    value: float
    text: str


@dataclass(frozen=True)
class Regex:
    """A ``%regex%`` value, kept as its source (validated against AWS's supported subset)."""

    source: str


Value = Text | Number | Regex


@dataclass(frozen=True)
class Compare:
    path: Path
    op: str  # one of = != < > <= >=
    value: Value


@dataclass(frozen=True)
class Is:
    path: Path
    what: str  # NULL, TRUE or FALSE


@dataclass(frozen=True)
class NotExists:
    path: Path


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Atom = Compare | Is | NotExists
Node = Compare | Is | NotExists | And | Or


def atoms(node: Node) -> tuple[Atom, ...]:
    """The leaves of a tree, left to right."""
    if isinstance(node, (And, Or)):
        return tuple(a for child in node.operands for a in atoms(child))
    return (node,)
