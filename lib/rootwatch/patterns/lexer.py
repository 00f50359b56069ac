"""Tokens of the JSON filter-pattern language, each with its offset for error messages.

Unquoted values are runs of anything but whitespace, parentheses, braces and the ``&&``/``||``
operators: real stored patterns use ``delivery.logs.amazonaws.com`` and ``123.123.*`` unquoted,
and CloudWatch Logs accepts them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from rootwatch.errors import PatternSyntaxError

NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z")
SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
INDEX = re.compile(r"\[(\d{1,9})\]")
OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
SINGLE = {"{": "LBRACE", "}": "RBRACE", "(": "LPAREN", ")": "RPAREN"}
STOP = set(" \t\r\n(){}")


@dataclass(frozen=True)
class Token:
    kind: str  # LBRACE RBRACE LPAREN RPAREN AND OR OP SELECTOR STRING WORD REGEX EOF
    text: str
    start: int
    value: object = None


def tokenize(pattern: str) -> Iterator[Token]:
    """Yield the tokens of ``pattern``; raise ``PatternSyntaxError`` at the first bad character."""
    pos, n = 0, len(pattern)
    while pos < n:
        ch = pattern[pos]
        if ch.isspace():
            pos += 1
        elif ch in SINGLE:
            yield Token(SINGLE[ch], ch, pos)
            pos += 1
        elif pattern.startswith("&&", pos) or pattern.startswith("||", pos):
            yield Token("AND" if ch == "&" else "OR", pattern[pos:pos + 2], pos)
            pos += 2
        elif ch in "&|":
            raise PatternSyntaxError(f"'{ch}' alone is not an operator; use '{ch * 2}'", pattern, pos)
        elif ch in "=!<>":
            token = _operator(pattern, pos)
            yield token
            pos += len(token.text)
        elif ch == "$":
            token = _selector(pattern, pos)
            yield token
            pos += len(token.text)
        elif ch == '"':
            token = _quoted(pattern, pos)
            yield token
            pos += len(token.text)
        elif ch == "%":
            end = pattern.find("%", pos + 1)
            if end < 0:
                raise PatternSyntaxError("regular expression not closed with '%'", pattern, pos)
            yield Token("REGEX", pattern[pos:end + 1], pos, pattern[pos + 1:end])
            pos = end + 1
        else:
            end = pos
            while end < n and pattern[end] not in STOP and not pattern.startswith(("&&", "||"), end):
                end += 1
            yield Token("WORD", pattern[pos:end], pos)
            pos = end
    yield Token("EOF", "", n)


def _operator(pattern: str, pos: int) -> Token:
    if pattern.startswith("==", pos):
        raise PatternSyntaxError("'==' is not an operator; use '='", pattern, pos)
    for op in OPERATORS:
        if pattern.startswith(op, pos):
            return Token("OP", op, pos)
    raise PatternSyntaxError("'!' must be followed by '=' (use '!=' or NOT EXISTS)", pattern, pos)


def _selector(pattern: str, pos: int) -> Token:
    if not pattern.startswith("$.", pos):
        raise PatternSyntaxError("a selector starts with '$.' followed by a field name", pattern, pos)
    segments: list[str | int] = []
    i = pos + 1
    while i < len(pattern) and pattern[i] in ".[":
        if pattern[i] == ".":
            m = SEGMENT.match(pattern, i + 1)
            if not m:
                raise PatternSyntaxError("expected a field name after '.'", pattern, i + 1)
            segments.append(m.group())
        else:
            m = INDEX.match(pattern, i)
            if not m:
                raise PatternSyntaxError("an array index is written [n] with n a whole number below 10^9",
                                         pattern, i)
            segments.append(int(m.group(1)))
        i = m.end()
    if i < len(pattern) and pattern[i] not in STOP and pattern[i] not in "=!<>":
        raise PatternSyntaxError(f"unexpected character {pattern[i]!r} in selector", pattern, i)
    return Token("SELECTOR", pattern[pos:i], pos, tuple(segments))


def _quoted(pattern: str, pos: int) -> Token:
    """A double-quoted value; ``\\"`` and ``\\\\`` escape, ``\\*`` is a literal star.

    The value is returned as the list of literal parts between unescaped ``*`` wildcards.
    """
    parts, current, i = [], [], pos + 1
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if ch == '"':
            parts.append("".join(current))
            return Token("STRING", pattern[pos:i + 1], pos, tuple(parts))
        if ch == "*":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    raise PatternSyntaxError("quoted value is not closed with '\"'", pattern, pos)
