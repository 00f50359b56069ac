"""Decide how two patterns relate by meaning, with the events that show it.

Every comparison in a pattern looks at one field, so two patterns can only disagree through the
values of the fields they name. Per field we enumerate one value for each distinct behaviour
under that field's tests — absent, null, true, false, an object, each number region cut by the
numeric bounds, and each string class found by the automata of ``automata.py`` — and search the
product depth-first, pruning branches where three-valued evaluation already settles both
patterns. The result is exact (``Comparison.exact``) unless a string automaton grew past its
state limit.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rootwatch.patterns import automata, regex
from rootwatch.patterns.ast import And, Atom, Compare, Node, Number, Or, Path, Regex, Text, atoms
from rootwatch.patterns.evaluate import MISSING, Predicate, compile_node


class Relation(str, Enum):
    EQUIVALENT = "equivalent"
    BROADER = "broader"  # the second pattern counts every event of the first, and more
    NARROWER = "narrower"  # the second pattern misses some events of the first
    OVERLAPPING = "overlapping"  # each counts events the other misses, and some in common
    UNRELATED = "unrelated"  # no event is counted by both


@dataclass(frozen=True)
class Comparison:
    relation: Relation
    blind_spot: dict | None  # counted by the reference, missed by the other pattern
    noise: dict | None  # counted by the other pattern, not by the reference
    fields: tuple[Path, ...]  # the fields either pattern looks at, for describing the events
    exact: bool


@dataclass(frozen=True)
class _Container:
    kind: type  # dict or list
    length: int = 0  # lists only

    def __repr__(self) -> str:
        return "{...}" if self.kind is dict else f"[{self.length} items]"


def compare(reference: Node, other: Node, template: dict | None = None,
            samples: Iterable[dict] = ()) -> Comparison:
    """How ``other`` relates to ``reference``, with a blind-spot and a noise event where they exist.

    ``template`` is a realistic event that witnesses are built on (fields neither pattern names
    keep their template values); ``samples`` supply realistic values tried first for each field.
    """
    search = _Search(reference, other, template, list(samples))
    blind, noise, common = search.run()
    if blind is None and noise is None:
        relation = Relation.EQUIVALENT
    elif blind is None:
        relation = Relation.BROADER
    elif noise is None:
        relation = Relation.NARROWER
    else:
        relation = Relation.OVERLAPPING if common is not None else Relation.UNRELATED
    return Comparison(relation, blind, noise, search.fields, search.exact)


class _Search:
    def __init__(self, reference: Node, other: Node, template: dict | None, samples: list[dict]) -> None:
        self.trees = (reference, other)
        self.template = template or {}
        self.predicates = [compile_node(reference), compile_node(other)]
        self.exact = True
        by_path: dict[Path, list[Atom]] = {}
        for atom in atoms(reference) + atoms(other):
            by_path.setdefault(atom.path, []).append(atom)
        self.atom_checks: dict[Atom, Predicate] = {a: compile_node(a) for group in by_path.values() for a in group}
        paths = set(by_path)
        for path in list(paths):
            paths.update(path.prefixes())
        self.fields = tuple(sorted(by_path, key=str))
        self.order = sorted(paths, key=lambda p: tuple((isinstance(s, int), s) for s in p.segments))
        self.children = {p: [c for c in self.order if c.segments[:-1] == p.segments] for p in self.order}
        self.atoms_at = by_path
        self.choices = {p: self._choices(p, samples) for p in self.order}

    # --- candidate values -------------------------------------------------------------
    def _choices(self, path: Path, samples: list[dict]) -> list[Any]:
        """One value per distinct behaviour of this field's own tests, realistic values first."""
        tests = self.atoms_at.get(path, [])
        realistic = [v for e in [self.template, *samples] if (v := value_at(e, path)) is not MISSING
                     and not isinstance(v, (dict, list))]
        candidates = realistic + self._strings(tests, [v for v in realistic if isinstance(v, str)])
        candidates += [MISSING, *self._numbers(tests), None, True, False]
        kept, seen = [], set()
        for value in candidates:
            signature = tuple(self.atom_checks[a](_single(path, value)) for a in tests)
            if signature not in seen:
                seen.add(signature)
                kept.append(value)
        children = [c.segments[-1] for c in self.children[path]]
        if not children:
            return kept + [_Container(dict)]
        containers = [_Container(dict)] if any(isinstance(c, str) for c in children) else []
        indexes = [c for c in children if isinstance(c, int)]
        containers += [_Container(list, n) for n in range(max(indexes) + 2)] if indexes else []
        return containers + kept  # a container first: witnesses then keep the template's shape

    def _strings(self, tests: list[Atom], preferred: list[str]) -> list[str]:
        values = sorted({a.value for a in tests if isinstance(a, Compare) and isinstance(a.value, (Text, Regex))},
                        key=repr)
        if not values:
            return preferred[:1] or ["x"]
        if all(isinstance(v, Text) and not v.is_wildcard for v in values):
            # plain literals: each is its own class, plus one string equal to none of them (no automata needed)
            literals = [v.parts[0] for v in values]
            other = next((p for p in [*preferred, "x"] if p not in literals), "x" + max(literals, key=len))
            return [*preferred, *literals, other]
        nfas = [automata.build(regex.parse_regex(v.source) if isinstance(v, Regex)
                               else regex.glob_branches(v.parts)) for v in values]
        found, complete = automata.signatures(nfas, preferred)
        self.exact &= complete
        return list(found.values())

    @staticmethod
    def _numbers(tests: list[Atom]) -> list[float]:
        bounds = sorted({a.value.value for a in tests if isinstance(a, Compare) and isinstance(a.value, Number)})
        if not bounds:
            return [0]
        between = [mid for a, b in itertools.pairwise(bounds) if a < (mid := (a + b) / 2) < b]
        return [bounds[0] - max(1.0, abs(bounds[0])), *bounds, *between, bounds[-1] + max(1.0, abs(bounds[-1]))]

    # --- depth-first search -----------------------------------------------------------
    def run(self) -> tuple[dict | None, dict | None, dict | None]:
        self.found: dict[str, dict] = {}
        self._dfs(0, {}, {})
        return self.found.get("blind"), self.found.get("noise"), self.found.get("common")

    def _open(self, r: bool | None, s: bool | None) -> list[str]:
        goals = {"blind": r is not False and s is not True, "noise": s is not False and r is not True,
                 "common": r is not False and s is not False}
        return [g for g, possible in goals.items() if possible and g not in self.found]

    def _dfs(self, i: int, assignment: dict[Path, Any], truths: dict[Atom, bool]) -> None:
        r, s = (_tri(tree, truths) for tree in self.trees)
        if not self._open(r, s):
            return
        if i == len(self.order):
            self._record(assignment)
            return
        path = self.order[i]
        for value in self._allowed(path, assignment):
            assignment[path] = value
            event = _build({}, assignment)
            known = dict(truths)
            known.update((a, self.atom_checks[a](event)) for a in self.atoms_at.get(path, []))
            self._dfs(i + 1, assignment, known)
            del assignment[path]
            if len(self.found) == 3:
                return

    def _allowed(self, path: Path, assignment: dict[Path, Any]) -> Iterator[Any]:
        if len(path.segments) > 1:
            parent = assignment[Path(path.segments[:-1])]
            last = path.segments[-1]
            if not isinstance(parent, _Container) or (parent.kind is list) != isinstance(last, int):
                yield MISSING
                return
            if parent.kind is list:
                present = last < parent.length
                yield from (v for v in self.choices[path] if (v is not MISSING) == present)
                return
        yield from self.choices[path]

    def _record(self, assignment: dict[Path, Any]) -> None:
        bare = _build({}, assignment)
        r, s = (p(bare) for p in self.predicates)
        rich = _build(copy.deepcopy(self.template), assignment)
        event = rich if (r, s) == tuple(p(rich) for p in self.predicates) else bare
        goal = "common" if r and s else "blind" if r else "noise" if s else None
        if goal:
            self.found.setdefault(goal, event)


def _tri(node: Node, truths: dict[Atom, bool]) -> bool | None:
    """Kleene three-valued evaluation: None where unassigned fields leave the answer open."""
    if isinstance(node, (And, Or)):
        decisive = isinstance(node, Or)
        values = [_tri(child, truths) for child in node.operands]
        if decisive in values:
            return decisive
        return None if None in values else not decisive
    return truths.get(node)


def value_at(event: Any, path: Path) -> Any:
    """The value ``path`` resolves to in ``event``, or ``MISSING``."""
    for seg in path.segments:
        if isinstance(seg, int):
            if not isinstance(event, list) or seg >= len(event):
                return MISSING
            event = event[seg]
        elif isinstance(event, dict) and seg in event:
            event = event[seg]
        else:
            return MISSING
    return event


def _single(path: Path, value: Any) -> dict:
    """A minimal event holding ``value`` at ``path`` (or lacking it), to classify a candidate."""
    assignment: dict[Path, Any] = {}
    for prefix, nxt in zip(path.prefixes(), path.segments[1:]):
        is_last = prefix == path.prefixes()[-1]
        length = nxt + (0 if is_last and value is MISSING else 1) if isinstance(nxt, int) else 0
        assignment[prefix] = _Container(list, length) if isinstance(nxt, int) else _Container(dict)
    if value is not MISSING or not isinstance(path.segments[-1], int):
        assignment[path] = value
    return _build({}, assignment)


def _build(base: dict, assignment: dict[Path, Any]) -> dict:
    """Write ``assignment`` into ``base`` (a template copy or ``{}``), parents before children."""
    for path in sorted(assignment, key=lambda p: len(p.segments)):
        value = assignment[path]
        parent = value_at(base, Path(path.segments[:-1])) if len(path.segments) > 1 else base
        last = path.segments[-1]
        if not isinstance(parent, (dict, list)) or isinstance(parent, list) != isinstance(last, int):
            continue
        current = value_at(base, path)
        if isinstance(value, _Container):
            if value.kind is dict:
                new: Any = current if isinstance(current, dict) else {}
            else:
                new = (list(current) if isinstance(current, list) else [])[:value.length]
                new += [None] * (value.length - len(new))
        else:
            new = value
        if isinstance(parent, list):
            if last < len(parent):
                parent[last] = new
        elif new is MISSING:
            parent.pop(last, None)
        else:
            parent[last] = new
    return base
