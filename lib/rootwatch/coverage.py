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

from typing import Any

from rootwatch.catalog import Catalog, Control, load_catalog
from rootwatch.models import Coverage, Status
from rootwatch.patterns import FilterPattern, Relation, compare, compile_pattern, describe_event

PASS, FAIL = Status.PASS, Status.FAIL

# A pattern whose events relate so to the reference's is meant for the control (it counts a subset or
# a superset of them); "overlapping" shares some events (another control's filter), "unrelated" none.
MEANT_FOR = ("equivalent", "narrower", "broader")


def judge(control: Control, stored: FilterPattern | str, catalog: Catalog | None = None) -> Coverage:
    """Judge ``stored`` against ``control``; raises ``PatternSyntaxError`` for an invalid pattern."""
    catalog = catalog or load_catalog()
    pattern = compile_pattern(stored) if isinstance(stored, str) else stored
    samples = [o.event for o in catalog.ordinary]
    results = [(text, compare(text, pattern, control.example_event, samples)) for text in control.accepted]
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
        return verdict(FAIL, "blind-spot",
                       f"misses events the control exists to catch ({control.subject}), for example "
                       f"{describe_event(reference.blind_spot, reference.fields)}",
                       reference.blind_spot, "blind spot: counted by the reference, missed by this pattern")
    for text, cmp in covering:
        if cmp.relation is Relation.EQUIVALENT:
            return _benchmark_text(control, text, catalog, verdict)
    text, cmp = covering[0]
    noisy = next((o for o in catalog.ordinary if pattern.matches(o.event)), None)
    if noisy:
        return verdict(FAIL, "broader-noisy",
                       f"counts every event the control exists to catch but also ordinary activity "
                       f"({noisy.name}), so its alarm cannot tell {control.subject} from everyday traffic",
                       noisy.event, f"ordinary activity: {noisy.name}")
    return verdict(PASS, "broader-quiet",
                   f"counts every event the control exists to catch and more, but no ordinary activity; "
                   f"it also counts "
                   f"{describe_event(cmp.noise, cmp.fields)}",
                   cmp.noise, "noise: counted by this pattern, not by the reference")


def _benchmark_text(control: Control, text: FilterPattern, catalog: Catalog, verdict: Any) -> Coverage:
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
        event, example = trap.noise, describe_event(trap.noise, trap.fields)
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
