"""Finite automata over the string values one field is compared with.

Two patterns can only disagree on a string field where the *combination* of its value tests
differs (matches ``"AccessDenied*"`` but not ``"*UnauthorizedOperation"``, say). Running all the
tests' automata in lock-step over a partition of the alphabet finds one shortest string for every
combination that any string can produce: that is what makes ``compare`` exact, not sampled.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from rootwatch.patterns.regex import ANY, MAX_CODEPOINT, Branch, Charset

STATE_LIMIT = 20_000
PREFERRED = "xaeoAE0-_.: "


@dataclass
class NFA:
    edges: list[list[tuple[Charset, int]]] = field(default_factory=list)
    eps: list[list[int]] = field(default_factory=list)
    accept: set[int] = field(default_factory=set)

    def new(self) -> int:
        self.edges.append([])
        self.eps.append([])
        return len(self.edges) - 1

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        stack = list(states)
        seen = set(stack)
        while stack:
            for nxt in self.eps[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return frozenset(seen)

    def step(self, states: frozenset[int], ch: int) -> frozenset[int]:
        return self.closure(t for s in states for chars, t in self.edges[s] if _member(ch, chars))

    def accepts(self, states: frozenset[int]) -> bool:
        return not self.accept.isdisjoint(states)

    def run(self, text: str) -> bool:
        states = self.closure([0])
        for ch in text:
            states = self.step(states, ord(ch))
        return self.accepts(states)


def _member(ch: int, chars: Charset) -> bool:
    return any(lo <= ch <= hi for lo, hi in chars)


def build(branches: tuple[Branch, ...]) -> NFA:
    """Thompson-style construction; state 0 is the start."""
    nfa = NFA()
    start = nfa.new()
    for branch in branches:
        cur = nfa.new()
        nfa.eps[start].append(cur)
        if not branch.anchored_start:
            nfa.edges[cur].append((ANY, cur))
        for piece in branch.pieces:
            for _ in range(piece.lo):
                nxt = nfa.new()
                nfa.edges[cur].append((piece.chars, nxt))
                cur = nxt
            if piece.hi is None:
                loop = nfa.new()
                nfa.eps[cur].append(loop)
                nfa.edges[loop].append((piece.chars, loop))
                cur = loop
            elif piece.hi > piece.lo:
                end, optional = nfa.new(), [cur]
                for _ in range(piece.hi - piece.lo):
                    nxt = nfa.new()
                    nfa.edges[cur].append((piece.chars, nxt))
                    cur = nxt
                    optional.append(cur)
                for state in optional:
                    nfa.eps[state].append(end)
                cur = end
        if not branch.anchored_end:
            tail = nfa.new()
            nfa.eps[cur].append(tail)
            nfa.edges[tail].append((ANY, tail))
            cur = tail
        nfa.accept.add(cur)
    return nfa


def alphabet(nfas: list[NFA]) -> list[int]:
    """One representative character per class of characters no automaton tells apart."""
    cuts = {0, MAX_CODEPOINT + 1}
    for nfa in nfas:
        for edges in nfa.edges:
            for chars, _ in edges:
                for lo, hi in chars:
                    cuts.update((lo, hi + 1))
    bounds = sorted(cuts)
    reps = [_nice(lo, hi - 1) for lo, hi in itertools.pairwise(bounds)]
    return sorted(reps, key=lambda c: (not chr(c).isalpha(), c))  # letters first: readable witnesses


def _nice(lo: int, hi: int) -> int:
    """A readable member of ``[lo, hi]``, so counterexamples print as text people can read."""
    for ch in PREFERRED:
        if lo <= ord(ch) <= hi:
            return ord(ch)
    for start, end in ((97, 122), (65, 90), (48, 57), (33, 126)):
        if lo <= end and hi >= start:
            return max(lo, start)
    return lo


def signatures(nfas: list[NFA], preferred: Iterable[str] = ()) -> tuple[dict[tuple[bool, ...], str], bool]:
    """Map every achievable combination of accept/reject over ``nfas`` to a witness string.

    Preferred strings (realistic values) are used as witnesses where they fall; breadth-first
    search finds a shortest string for the rest. Returns the map and whether it is complete
    (False only if the product exceeded ``STATE_LIMIT`` states).
    """
    found: dict[tuple[bool, ...], str] = {}
    for text in preferred:
        found.setdefault(tuple(n.run(text) for n in nfas), text)
    chars = alphabet(nfas)
    start = tuple(n.closure([0]) for n in nfas)
    seen = {start: ""}
    queue = [start]
    while queue:
        nxt_queue = []
        for state in queue:
            if state is not start:  # the empty string is the witness of last resort
                found.setdefault(tuple(n.accepts(s) for n, s in zip(nfas, state)), seen[state])
            for ch in chars:
                nxt = tuple(n.step(s, ch) for n, s in zip(nfas, state))
                if nxt not in seen:
                    if len(seen) >= STATE_LIMIT:
                        return found, False
                    seen[nxt] = seen[state] + chr(ch)
                    nxt_queue.append(nxt)
        queue = nxt_queue
    found.setdefault(tuple(n.accepts(s) for n, s in zip(nfas, start)), "")
    return found, True
