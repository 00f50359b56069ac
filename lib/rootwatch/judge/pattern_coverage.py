"""Does a stored metric-filter pattern cover a catalog control? The four-step rule of
``filter-patterns.md``, always with the event that decides it.

1. Blind spot → FAIL: some event the control exists to catch is not counted.
2. The benchmark's own text (equivalent to its reference or a variant it accepts) → PASS; where
   that text is a trap, PASS with the warning and the event the trap counts by mistake.
3. Broader but quiet (counts no ordinary activity of the catalog) → PASS with a note.
4. Broader and noisy (counts ordinary activity) → FAIL, naming the ordinary event.
A text the edition accepts defines coverage: a pattern with a blind spot against the printed
reference still covers the control if it has none against an accepted variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rootwatch.catalog import Catalog, Control, load_catalog
from rootwatch.errors import PatternSyntaxError
from rootwatch.models import Coverage, Status
from rootwatch.patterns import Comparison, FilterPattern, Relation, compare, compile_pattern, describe_event

PASS, FAIL = Status.PASS, Status.FAIL

# A pattern whose events relate so to the reference's is meant for the control (it counts a subset or
# a superset of them); "overlapping" shares some events (another control's filter), "unrelated" none.
MEANT_FOR = ("equivalent", "narrower", "broader")


@dataclass(frozen=True, eq=False)
class _Same:
    """A key by identity: a ``Control`` holds dicts (not hashable), and a catalog is one object."""

    obj: Any

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Same) and other.obj is self.obj


@lru_cache(maxsize=2048)
def _comparisons(same_control: _Same, text: str, same_catalog: _Same) -> list[tuple[FilterPattern, Comparison]]:
    """How a pattern relates to each text the control's edition accepts. Pure, and the judge's costliest
    step (automata compared, tens of milliseconds per text), while an organization's accounts, and each
    account's trails and links, share a handful of patterns: computed once per (control, pattern text,
    catalog). The cache holds its keys, so an identity is never reused."""
    control, pattern = same_control.obj, compile_pattern(text)
    samples = [o.event for o in same_catalog.obj.ordinary]
    return [(accepted, compare(accepted, pattern, control.example_event, samples)) for accepted in control.accepted]


def judge(control: Control, stored: FilterPattern | str, catalog: Catalog | None = None,
          seen: Iterable[dict] = ()) -> Coverage:
    """Judge ``stored`` against ``control``; raises ``PatternSyntaxError`` for an invalid pattern.
    ``seen``: the account's own events of the window; the event shown for the verdict is one of them
    when one plays its part (``_shown``)."""
    catalog = catalog or load_catalog()
    own = sorted(seen, key=lambda e: str(e.get("eventTime", "")))
    pattern = compile_pattern(stored) if isinstance(stored, str) else stored
    results = _comparisons(_Same(control), pattern.text, _Same(catalog))
    reference = results[0][1]
    exact = all(cmp.exact for _, cmp in results)

    def verdict(status: str, rule: str, reason: str, event: dict | None, role: str | None,
                warning: str | None = None) -> Coverage:
        if not exact:
            reason += " (string values too complex for an exhaustive comparison: verify by hand)"
        return Coverage(control.id, control.benchmark, pattern.text, pattern.canonical, status, rule,
                        reference.relation.value, reason, event, role, warning, exact)

    covering = [(text, cmp) for text, cmp in results if cmp.blind_spot is None]
    if not covering:
        event, origin = _shown(reference.blind_spot, lambda e: control.reference.matches(e) and not pattern.matches(e),
                               own, catalog)
        return verdict(FAIL, "blind-spot",
                       f"misses events the control exists to catch ({control.subject}), for example "
                       f"{describe_event(event, reference.fields)}",
                       event, f"blind spot: counted by the reference, missed by this pattern{origin}")
    for text, cmp in covering:
        if cmp.relation is Relation.EQUIVALENT:
            return _benchmark_text(control, text, catalog, verdict, own)
    text, cmp = covering[0]
    noisy = next((o for o in catalog.ordinary if pattern.matches(o.event)), None)
    if noisy:
        return verdict(FAIL, "broader-noisy",
                       f"counts every event the control exists to catch but also ordinary activity "
                       f"({noisy.name}), so its alarm cannot tell {control.subject} from everyday traffic",
                       noisy.event, f"ordinary activity: {noisy.name}")
    event, origin = _shown(cmp.noise, lambda e: pattern.matches(e) and not text.matches(e), own, catalog)
    return verdict(PASS, "broader-quiet",
                   f"counts every event the control exists to catch and more, but no ordinary activity; "
                   f"it also counts "
                   f"{describe_event(event, cmp.fields)}",
                   event, f"noise: counted by this pattern, not by the reference{origin}")


OWN, CORPUS = " (the account's own event from the window)", " (a record of the catalog's corpus)"
SYNTHETIC = " (synthetic: no record of the window or of the catalog's corpus plays this part)"


def _shown(synthetic: dict, plays: Callable[[dict], bool], own: list[dict], catalog: Catalog) -> tuple[dict, str]:
    """The event a verdict shows, and where it comes from: the account's own event of the window that
    plays the part (a blind spot the account really had beats any illustration); else the engine's
    witness when it is a record CloudTrail could write; else a realistic record of the catalog's corpus
    that plays the part, or the witness made consistent (the service that records its eventName, or an
    eventName its service records); never a combination such as RunInstances from s3.amazonaws.com
    when any of these plays the part."""
    mine = next((e for e in own if plays(e)), None)
    if mine is not None:
        return mine, OWN
    if catalog.realistic(synthetic):
        return synthetic, ""
    corpus = next((e for e in catalog.corpus if plays(e)), None)
    if corpus is not None:
        return corpus, CORPUS
    name, source = synthetic.get("eventName"), synthetic.get("eventSource")
    repaired = [fixed for fixed in (*({**synthetic, "eventSource": s} for s in sorted(catalog.event_sources[name])),
                                    *({**synthetic, "eventName": n} for n, s in sorted(catalog.event_sources.items())
                                      if source in s)) if plays(fixed)]
    return (repaired[0], "") if repaired else (synthetic, SYNTHETIC)


def witnesses(controls: list[Control], catalog: Catalog | None = None) -> Callable[[str], list[dict]]:
    """For a stored pattern, the events its verdicts rest on — for each control, the event deciding
    ``judge`` (blind spot, noise, trap) and the control's example event, which a covering pattern must
    count: what the collector asks AWS's TestMetricFilter about, so that no verdict rests on the engine's
    reading of an event AWS reads otherwise. An invalid pattern has none (its verdict is the syntax error)."""
    return _Witnesses(list(controls), catalog)


@dataclass
class _Witnesses:
    """``witnesses`` as an object rather than a closure: it pickles, so an organisation's collection
    spread over processes (collect/spread.py) takes it along. Cached by pattern: an organisation's
    accounts mostly store the same filters."""

    controls: list[Control]
    catalog: Catalog | None
    known: dict[str, list[dict]] = field(default_factory=dict, repr=False)

    def __call__(self, pattern: str) -> list[dict]:
        if pattern not in self.known:
            self.known[pattern] = self._deciding(pattern)
        return self.known[pattern]

    def _deciding(self, pattern: str) -> list[dict]:
        events: list[dict] = []
        for control in self.controls:
            try:
                coverage = judge(control, pattern, self.catalog)
            except PatternSyntaxError:
                return []
            events += [e for e in (coverage.event, control.example_event) if e]
        return events


def _benchmark_text(control: Control, text: FilterPattern, catalog: Catalog, verdict: Any,
                    own: list[dict]) -> Coverage:
    if text is not control.reference:
        note = next(v.note for v in control.variants if v.pattern is text)
        return verdict(PASS, "benchmark-text", f"equivalent to a text {control.benchmark} accepts ({note})",
                       None, None)
    if not control.trap:
        return verdict(PASS, "benchmark-text", f"equivalent to the {control.benchmark} reference pattern",
                       None, None)
    noisy = next((o for o in catalog.ordinary if control.reference.matches(o.event)), None)
    if noisy:
        event, example = noisy.event, f"ordinary activity ({noisy.name})"
    else:
        trap = compare(control.intended, control.reference, control.example_event)
        event, origin = _shown(trap.noise, lambda e: control.reference.matches(e) and not control.intended.matches(e),
                               own, catalog)
        example = f"{describe_event(event, trap.fields)}{origin}"
    return verdict(PASS, "benchmark-text",
                   f"equivalent to the {control.benchmark} reference pattern, whose own text is a trap",
                   event, "counted only because of the benchmark's trap",
                   warning=f"{control.trap} Example of an event it counts by mistake: {example}.")


def judge_catalog(benchmark: str | None = None, catalog: Catalog | None = None
                  ) -> list[tuple[Control, str, Coverage]]:
    """Every text the catalog knows for each control (any edition), judged under one benchmark:
    shows at a glance which editions' texts are equivalent, broader or traps."""
    catalog = catalog or load_catalog()
    rows = []
    for control in catalog.controls(benchmark):
        texts: dict[str, tuple[FilterPattern, list[str]]] = {}
        for (cid, bench), edition in sorted(catalog.entries.items()):
            if cid != control.id:
                continue
            labelled = [(edition.reference, f"{bench} reference")]
            labelled += [(v.pattern, f"{bench} variant") for v in edition.variants]
            for text, label in labelled:
                texts.setdefault(text.text, (text, []))[1].append(label)
        for text, labels in texts.values():
            rows.append((control, ", ".join(labels), judge(control, text, catalog)))
    return rows


def edition_relations(catalog: Catalog | None = None) -> list[tuple[str, dict[str, str]]]:
    """For each control: how every edition's printed reference relates to the default edition's
    (equivalent, broader, narrower, ...), decided by the engine, traps marked."""
    catalog = catalog or load_catalog()
    rows = []
    for control in catalog.controls():
        base = control.reference
        cells = {}
        for bench in catalog.benchmarks:
            other = next((c for (_, b), c in catalog.entries.items() if b == bench and c.key == control.key), None)
            if other is None:
                cells[bench] = "—"
                continue
            relation = compare(base, other.reference).relation.value
            cells[bench] = f"{other.id} {relation}" + (" (trap)" if other.trap else "")
        rows.append((control.id, cells))
    return rows
