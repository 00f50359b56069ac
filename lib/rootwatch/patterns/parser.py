"""Recursive-descent parser: tokens → syntax tree, with precedence ``()`` > ``&&`` > ``||``.

Everything CloudWatch Logs rejects is rejected here with the column of the first bad token, so a
pattern that parses is one AWS would store.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from rootwatch.errors import PatternSyntaxError
from rootwatch.patterns import regex
from rootwatch.patterns.ast import And, Compare, Is, Node, NotExists, Number, Or, Path, Regex, Text, Value
from rootwatch.patterns.lexer import NUMBER, Token, tokenize

MAX_REGEXES = 2
MAX_DEPTH = 100  # parentheses; far beyond any real pattern, well within Python's recursion limit
MAX_LENGTH = 1024  # characters: the longest filterPattern CloudWatch Logs stores (PutMetricFilter's limit)
NUMERIC_ONLY = {"<", ">", "<=", ">="}


def parse(pattern: str) -> Node:
    """Parse a JSON filter pattern (``{ ... }``) into its syntax tree."""
    if len(pattern) > MAX_LENGTH:  # also what keeps the comparator's search bounded on hostile input
        raise PatternSyntaxError(f"{len(pattern):,} characters, longer than the {MAX_LENGTH:,} CloudWatch Logs "
                                 "stores in a metric filter", pattern, MAX_LENGTH)
    return _Parser(pattern).parse()


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens = list(tokenize(pattern))
        self.i = 0
        self.regexes = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, token: Token | None = None) -> PatternSyntaxError:
        return PatternSyntaxError(message, self.pattern, (token or self.tok).start)

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def parse(self) -> Node:
        if self.tok.kind != "LBRACE":
            if self.tok.kind == "EOF":
                raise self.error("empty pattern; a JSON filter pattern is written { $.field = value }")
            raise self.error("a JSON filter pattern starts with '{' (term and space-delimited patterns "
                             "cannot be judged by meaning)")
        self.take()
        if self.tok.kind == "RBRACE":
            raise self.error("empty braces; expected a comparison such as $.field = value")
        node = self.disjunction()
        if self.tok.kind == "RPAREN":
            raise self.error("unmatched ')'")
        if self.tok.kind != "RBRACE":
            raise self.error(f"expected '&&', '||' or '}}', found {self.describe(self.tok)}")
        self.take()
        if self.tok.kind != "EOF":
            raise self.error("unexpected text after the closing '}'")
        return node

    def disjunction(self) -> Node:
        return self._series("OR", self.conjunction, Or)

    def conjunction(self) -> Node:
        return self._series("AND", self.primary, And)

    def _series(self, operator: str, operand: Callable[[], Node], kind: type[And | Or]) -> Node:
        """``operand (operator operand)*``; one operand stays itself, more become ``kind``."""
        operands = [operand()]
        while self.tok.kind == operator:
            self.take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else kind(tuple(operands))

    def primary(self) -> Node:
        token = self.tok
        if token.kind == "LPAREN":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"parentheses nested more than {MAX_DEPTH} deep", token)
            self.take()
            if self.tok.kind == "RPAREN":
                raise self.error("empty parentheses")
            node = self.disjunction()
            if self.tok.kind != "RPAREN":
                if self.tok.kind in ("RBRACE", "EOF"):
                    raise self.error("'(' is never closed", token)
                raise self.error(f"expected '&&', '||' or ')', found {self.describe(self.tok)}")
            self.take()
            self.depth -= 1
            return node
        if token.kind == "SELECTOR":
            return self.comparison()
        previous = self.tokens[self.i - 1]
        if previous.kind in ("AND", "OR"):
            raise self.error(f"'{previous.text}' is not followed by a comparison", previous)
        raise self.error(f"expected a comparison such as $.field = value, found {self.describe(token)}")

    def comparison(self) -> Node:
        path = Path(self.take().value)
        token = self.take()
        if token.kind == "OP":
            return Compare(path, token.text, self.value(token.text))
        word = token.text if token.kind == "WORD" else ""
        if word == "IS":
            what = self.take()
            if what.kind == "WORD" and what.text in ("NULL", "TRUE", "FALSE"):
                return Is(path, what.text)
            if what.text == "NOT":
                raise self.error("'IS NOT' is not supported; use '!=' or 'NOT EXISTS'", what)
            raise self.error("IS must be followed by NULL, TRUE or FALSE", what)
        if word == "NOT":
            nxt = self.take()
            if nxt.kind == "WORD" and nxt.text == "EXISTS":
                return NotExists(path)
            raise self.error("NOT must be followed by EXISTS", nxt)
        if word == "EXISTS":
            raise self.error("'EXISTS' is not supported; use $.field = \"*\" (exists) or NOT EXISTS", token)
        raise self.error(f"expected an operator (= != < > <= >=), IS or NOT EXISTS after {path}, "
                         f"found {self.describe(token)}", token)

    def value(self, op: str) -> Value:
        token = self.take()
        if token.kind == "STRING":
            if op in NUMERIC_ONLY:
                raise self.error(f"operator '{op}' compares numbers; {token.text} is a string", token)
            return Text(token.value)
        if token.kind == "WORD":
            if NUMBER.match(token.text):
                number = float(token.text)
                if not math.isfinite(number):
                    raise self.error(f"number {token.text} is out of range", token)
                return Number(number, token.text)
            if op in NUMERIC_ONLY:
                raise self.error(f"operator '{op}' compares numbers; {token.text!r} is not a number", token)
            return Text(tuple(token.text.split("*")))
        if token.kind == "REGEX":
            return self.regex(op, token)
        if token.kind == "SELECTOR":
            raise self.error("a value is expected here; comparing two fields is not supported", token)
        raise self.error(f"expected a value after '{op}', found {self.describe(token)}", token)

    def regex(self, op: str, token: Token) -> Regex:
        if op in NUMERIC_ONLY:
            raise self.error(f"operator '{op}' compares numbers, not regular expressions", token)
        self.regexes += 1
        if self.regexes > MAX_REGEXES:
            raise self.error(f"at most {MAX_REGEXES} regular expressions are allowed in one pattern", token)
        try:
            regex.parse_regex(token.value)
        except regex.RegexError as exc:
            raise PatternSyntaxError(str(exc), self.pattern, token.start + 1 + exc.offset) from None
        return Regex(token.value)

    @staticmethod
    def describe(token: Token) -> str:
        return "the end of the pattern" if token.kind == "EOF" else repr(token.text)
