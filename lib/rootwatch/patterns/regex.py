"""AWS's regex subset for ``%...%`` values, and the glob form of ``*`` wildcards, as one structure.

Both become *branches* of *pieces* (a character set repeated ``lo..hi`` times), so the evaluator
(through a Python regex built here) and the comparator (through automata built from the same
pieces) can never disagree about what a value matches. The subset is the one CloudWatch Logs
documents: letters, digits, ``: _ # = @ / ; , -``, the operators ``^ $ ? [ ] { } | \\ * + .``,
no parentheses, search semantics (unanchored unless ``^``/``$``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CODEPOINT = 0x10FFFF
ANY: tuple[tuple[int, int], ...] = ((0, MAX_CODEPOINT),)
MAX_REPEAT = 1000
ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_#=@/;,-^$?[]{}|\\*+.")
CLASS_ESCAPES = {
    "d": ((48, 57),),
    "w": ((48, 57), (65, 90), (95, 95), (97, 122)),
    "s": ((9, 13), (32, 32)),
}

Charset = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Piece:
    chars: Charset
    lo: int
    hi: int | None  # None: unbounded


@dataclass(frozen=True)
class Branch:
    pieces: tuple[Piece, ...]
    anchored_start: bool
    anchored_end: bool


class RegexError(ValueError):
    """Carries the offset inside the regex source so the parser can point at the column."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def normalize(ranges: list[tuple[int, int]]) -> Charset:
    """Sort and merge intervals."""
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return tuple(out)


def complement(chars: Charset) -> Charset:
    out, nxt = [], 0
    for lo, hi in chars:
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= MAX_CODEPOINT:
        out.append((nxt, MAX_CODEPOINT))
    return tuple(out)


def glob_branches(parts: tuple[str, ...]) -> tuple[Branch, ...]:
    """A wildcard value: literal parts joined by ``*`` (any run of characters), whole-value match."""
    pieces: list[Piece] = []
    for i, part in enumerate(parts):
        if i:
            pieces.append(Piece(ANY, 0, None))
        pieces.extend(Piece(((ord(c), ord(c)),), 1, 1) for c in part)
    return (Branch(tuple(pieces), True, True),)


def parse_regex(source: str) -> tuple[Branch, ...]:
    """Parse AWS's regex subset; raise ``RegexError`` naming the offending offset."""
    if not source:
        raise RegexError("empty regular expression", 0)
    for i, ch in enumerate(source):
        if ch not in ALLOWED:
            what = "parentheses are" if ch in "()" else f"{ch!r} is"
            raise RegexError(f"{what} not supported in CloudWatch Logs regular expressions", i)
    branches, start = [], 0
    for i in _alternation_bars(source) + [len(source)]:
        branches.append(_branch(source, start, i))
        start = i + 1
    return tuple(branches)


def _alternation_bars(source: str) -> list[int]:
    """Offsets of the ``|`` that separate alternatives (not escaped, not inside ``[...]``)."""
    bars, i, in_class = [], 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class, i = True, i + 1
            i += source.startswith("^", i)
            i += source.startswith("]", i)  # a leading ']' is a literal member
            continue
        if ch == "]" and in_class:
            in_class = False
        elif ch == "|" and not in_class:
            bars.append(i)
        i += 1
    return bars


def _branch(source: str, start: int, end: int) -> Branch:
    i, pieces = start, []
    anchored_start = anchored_end = False
    if i < end and source[i] == "^":
        anchored_start, i = True, i + 1
    while i < end:
        ch = source[i]
        if ch == "$":
            if i != end - 1:
                raise RegexError("'$' only anchors the end of an alternative", i)
            anchored_end, i = True, i + 1
            continue
        if ch == "^":
            raise RegexError("'^' only anchors the start of an alternative", i)
        if ch in "?*+{":
            raise RegexError(f"{ch!r} has nothing to repeat", i)
        if ch in "]}":
            raise RegexError(f"unmatched {ch!r}", i)
        if ch == "[":
            chars, i = _class(source, i, end)
        elif ch == "\\":
            chars, i = _escape(source, i, end)
        elif ch == ".":
            chars, i = ANY, i + 1
        else:
            chars, i = ((ord(ch), ord(ch)),), i + 1
        lo, hi, i = _quantifier(source, i, end)
        pieces.append(Piece(chars, lo, hi))
    return Branch(tuple(pieces), anchored_start, anchored_end)


def _escape(source: str, i: int, end: int) -> tuple[Charset, int]:
    if i + 1 >= end:
        raise RegexError("'\\' at the end of the expression escapes nothing", i)
    nxt = source[i + 1]
    if nxt.lower() in CLASS_ESCAPES:
        chars = CLASS_ESCAPES[nxt.lower()]
        return (complement(chars) if nxt.isupper() else chars), i + 2
    if nxt.isalnum():
        raise RegexError(f"unknown escape '\\{nxt}'", i)
    return ((ord(nxt), ord(nxt)),), i + 2


def _class(source: str, i: int, end: int) -> tuple[Charset, int]:
    j = i + 1
    negate = j < end and source[j] == "^"
    j += negate
    ranges: list[tuple[int, int]] = []
    first = True
    while j < end and (source[j] != "]" or first):
        first = False
        if source[j] == "\\":
            chars, j = _escape(source, j, end)
            ranges.extend(chars)
            continue
        lo = ord(source[j])
        if j + 2 < end and source[j + 1] == "-" and source[j + 2] != "]":
            hi = ord(source[j + 2])
            if hi < lo:
                raise RegexError("character range out of order", j)
            ranges.append((lo, hi))
            j += 3
        else:
            ranges.append((lo, lo))
            j += 1
    if j >= end:
        raise RegexError("'[' without a closing ']'", i)
    chars = normalize(ranges)
    return (complement(chars) if negate else chars), j + 1


def _quantifier(source: str, i: int, end: int) -> tuple[int, int | None, int]:
    if i >= end:
        return 1, 1, i
    ch = source[i]
    if ch in "?*+":
        lo, hi = {"?": (0, 1), "*": (0, None), "+": (1, None)}[ch]
        i += 1
    elif ch == "{":
        m = re.compile(r"\{(\d{1,4})(,(\d{0,4}))?\}").match(source, i, end)
        if not m:
            raise RegexError("a repetition is written {m}, {m,} or {m,n}", i)
        lo = int(m.group(1))
        hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
        if (hi is not None and hi < lo) or max(lo, hi or 0) > MAX_REPEAT:
            raise RegexError(f"repetition bounds must satisfy m <= n <= {MAX_REPEAT}", i)
        i = m.end()
    else:
        return 1, 1, i
    if i < end and source[i] in "?*+{":
        raise RegexError("a repetition cannot be repeated", i)
    return lo, hi, i


def to_python(branches: tuple[Branch, ...]) -> re.Pattern[str]:
    """A Python regex (search semantics) equivalent to ``branches``, built from the same pieces."""
    alternatives = []
    for branch in branches:
        body = "".join(_piece_regex(p) for p in branch.pieces)
        alternatives.append(("^" if branch.anchored_start else "") + body + (r"\Z" if branch.anchored_end else ""))
    return re.compile("|".join(f"(?:{a})" for a in alternatives), re.DOTALL)


def _piece_regex(piece: Piece) -> str:
    if piece.chars == ANY:
        chars = "."
    else:
        inner = "".join(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}"
                        for lo, hi in piece.chars)
        chars = f"[{inner}]"
    if (piece.lo, piece.hi) == (1, 1):
        return chars
    return f"{chars}{{{piece.lo},{'' if piece.hi is None else piece.hi}}}"
