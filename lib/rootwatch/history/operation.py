"""Did the chain operate throughout the window? Each interval's configuration judged by the caller's
judge (the same one that judges today), turned into per-link broken intervals with the change that
broke each and the one that fixed it, the share of the window each link operated, and the root
events that fell while it was broken.

A link is operating only where the judge says PASS; a FAIL is a break; a GAP (or a part of the
window whose history could not be read) is neither: it is counted apart and never as operated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rootwatch.history.changes import Change, event_time
from rootwatch.history.replay import Interval
from rootwatch.history.state import LINKS, Snapshot
from rootwatch.history.witness import Witness
from rootwatch.models import Window

PASS, FAIL, GAP = "PASS", "FAIL", "GAP"
CHAIN = "chain"  # every link at once: the control operated only where all of them did

Judge = Callable[[Snapshot], Mapping[str, Any]]  # link id → PASS / FAIL / GAP (a string or an enum of them)


@dataclass(frozen=True)
class Break:
    """One stretch in which a link did not operate (FAIL) or could not be judged (GAP)."""

    link: str
    status: str
    start: datetime
    end: datetime
    broken_by: tuple[Change, ...]  # the change(s) that opened it; empty: so since the window (or its reading) began
    fixed_by: tuple[Change, ...]  # the change(s) after which it operated again; empty: not (or not known) so
    reason: str = ""  # why a GAP: the history was not readable there

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class RootEvent:
    time: datetime
    event_id: str

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RootEvent | None:
        when = event_time(record.get("eventTime"))
        event_id = record.get("eventID")
        return None if when is None else cls(when, event_id if isinstance(event_id, str) else "")


@dataclass(frozen=True)
class RootInBreak:
    """A root event that fell while a link was broken (FAIL: it would not have alarmed) or unknown."""

    event: RootEvent
    brk: Break


@dataclass(frozen=True)
class LinkOperation:
    link: str
    breaks: tuple[Break, ...]
    operated: float  # share of the window judged PASS
    unknown: float  # share of the window judged GAP (or unreadable)

    @property
    def failed(self) -> tuple[Break, ...]:
        return tuple(b for b in self.breaks if b.status == FAIL)

    @property
    def broken_for(self) -> timedelta:
        return sum((b.duration for b in self.failed), timedelta())


@dataclass(frozen=True)
class Operation:
    window: Window
    links: Mapping[str, LinkOperation]  # per link id, in chain order, and CHAIN for all of them
    root_events: tuple[RootInBreak, ...]  # root events inside a chain break or gap
    witness: Witness | None = None  # AWS Config's word on the same past, when it was asked

    @property
    def chain(self) -> LinkOperation:
        return self.links[CHAIN]

    def summary(self) -> str:
        chain = self.chain
        text = f"operated {chain.operated * 100:.1f} % of the window"
        if chain.unknown:
            text += f", unknown for {chain.unknown * 100:.1f} %"
        missed = [r for r in self.root_events if r.brk.status == FAIL]
        if missed:
            text += f"; {len(missed)} root event(s) while it was broken"
        return text


def operation(intervals: list[Interval], judge: Judge, window: Window,
              root_events: Iterable[RootEvent] = ()) -> Operation:
    """Judge each interval's configuration and gather, per link and for the whole chain, the
    stretches it did not operate."""
    verdicts = [_verdicts(iv, judge) for iv in intervals]
    links = list(LINKS) + sorted({k for v in verdicts for k in v} - set(LINKS) - {CHAIN})
    for v in verdicts:
        v[CHAIN] = _worst(v.get(link, GAP) for link in links)
    total = (window.end - window.start).total_seconds()
    result = {}
    for link in links + [CHAIN]:
        statuses = [v.get(link, GAP) for v in verdicts]
        breaks = _breaks(link, intervals, statuses)
        ok = sum((iv.end - iv.start).total_seconds() for iv, s in zip(intervals, statuses) if s == PASS)
        gap = sum((b.duration.total_seconds() for b in breaks if b.status == GAP))
        result[link] = LinkOperation(link, breaks, ok / total, gap / total)
    inside = tuple(RootInBreak(e, b) for e in sorted(root_events, key=lambda e: (e.time, e.event_id))
                   for b in result[CHAIN].breaks if b.start <= e.time < b.end)
    return Operation(window, result, inside)


def _verdicts(interval: Interval, judge: Judge) -> dict[str, str]:
    if interval.snapshot is None:
        return {}
    return {link: _status(s) for link, s in judge(interval.snapshot).items()}


def _status(value: Any) -> str:
    text = str(getattr(value, "value", value)).upper()
    return text if text in (PASS, FAIL) else GAP


def _worst(statuses: Iterable[str]) -> str:
    seen = set(statuses)
    return FAIL if FAIL in seen else GAP if GAP in seen else PASS


def _breaks(link: str, intervals: list[Interval], statuses: list[str]) -> tuple[Break, ...]:
    breaks: list[Break] = []
    i = 0
    while i < len(intervals):
        if statuses[i] == PASS:
            i += 1
            continue
        j = i
        while j + 1 < len(intervals) and statuses[j + 1] == statuses[i] and intervals[j + 1].gap == intervals[i].gap:
            j += 1
        fixed = intervals[j + 1].opened_by if j + 1 < len(intervals) and statuses[j + 1] == PASS else ()
        breaks.append(Break(link, statuses[i], intervals[i].start, intervals[j].end, intervals[i].opened_by, fixed,
                            intervals[i].gap))
        i = j + 1
    return tuple(breaks)
