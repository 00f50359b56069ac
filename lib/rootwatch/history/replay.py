"""Rebuild the configuration over the window: backwards from today's state, forwards from each change.

Two readings are merged for every interval between changes. Undoing the changes one by one from
today's collected state (newest first) gives what held before each; applying them one by one
from an unknown start gives what each change made certain. A field either reading knows is known;
where both know it and disagree, a change went unrecorded between them (an e-mail subscriber
confirms or unsubscribes through a link, and such calls are not logged), so it is unknown. An
undo that is only a likely reading (``Edit.inferred``) gives way to a known fact. What neither
reading knows is unknown: a GAP for the judge, never a healthy default.

Changes are ordered by ``eventTime`` and then by event id: CloudTrail delivers them in no order
and times them to the second, so the input order is never trusted and two changes in one second
open no interval between them. Which of two changes to one resource in one second came first is
unknown (the event id is no clock): across that second nothing is known of the resource but what
the other side of it tells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from rootwatch.history.changes import Change, Edit
from rootwatch.history.state import EXISTS, PENDING, Key, Kind, Resource, Snapshot, render
from rootwatch.models import Window

_Known = tuple[Any, bool]  # value, inferred
_Back = dict[Key, dict[str, _Known]]
_Fwd = dict[Key, dict[str, _Known]]

# kinds collection lists in full (for the groups and topics it read): missing today means absent
_PARENT = {Kind.METRIC_FILTER: Kind.LOG_GROUP, Kind.SUBSCRIPTION: Kind.TOPIC}
_ENUMERATED = {Kind.TRAIL, Kind.TRAIL_STATUS, Kind.TRAIL_SELECTORS, Kind.ALARM}


@dataclass(frozen=True)
class Coverage:
    """The part of the window whose history could be read: from ``readable_from`` on. Before it
    (event history keeps 90 days; no archive was given) the chain is a gap for ``reason``."""

    readable_from: datetime
    reason: str


@dataclass(frozen=True)
class Interval:
    """The configuration from ``start`` (inclusive) to ``end`` (exclusive). ``opened_by``: the
    changes at ``start`` (several in one second), empty for the window's first interval; ``gap``:
    why the configuration could not be read at all (then ``snapshot`` is ``None``)."""

    start: datetime
    end: datetime
    snapshot: Snapshot | None
    opened_by: tuple[Change, ...] = ()
    gap: str = ""


def reconstruct(today: Mapping[Key, Resource], changes: Iterable[Change], window: Window, as_of: datetime,
                coverage: Coverage | None = None) -> list[Interval]:
    """Intervals covering ``window``: the configuration as it stood over each. ``today`` is the state
    collected at ``as_of``; ``changes`` must hold every chain change from the start of the readable
    window to ``as_of`` (those after the window are undone, not shown). Failed calls are skipped."""
    readable = max(window.start, coverage.readable_from) if coverage else window.start
    applied = [c for c in changes if not c.error_code]
    unplaced = [c for c in applied if c.time is None]
    head = [Interval(window.start, min(readable, window.end), None, gap=coverage.reason)] \
        if coverage and readable > window.start else []
    if readable >= window.end:
        return head
    if unplaced:
        return head + [Interval(readable, window.end, None,
                                gap=f"a chain change has no readable time ({unplaced[0]}): it cannot be placed")]
    ordered = sorted((c for c in applied if readable <= c.time <= as_of),  # type: ignore[operator]
                     key=lambda c: (c.time, c.event_id, c.event_name))
    ordered = _same_second(_resolve_subscriptions(today, ordered))
    keys = _keys(today, ordered)
    states = _merged(today, ordered, keys)
    at: dict[datetime, tuple[Change, ...]] = {}
    for change in ordered:
        at[change.time] = at.get(change.time, ()) + (change,)  # type: ignore[index]
    intervals = head
    bounds = [readable] + [c.time for c in ordered] + [window.end]  # type: ignore[misc]
    for i, state in enumerate(states):
        start, end = max(bounds[i], readable), min(bounds[i + 1], window.end)
        if start < end:
            intervals.append(Interval(start, end, render(state), at[start] if i else ()))
    return intervals


def _same_second(changes: list[Change]) -> list[Change]:
    """Two changes to one resource in one second: neither reading may carry it across that second."""
    seen: dict[tuple[datetime | None, Key], int] = {}
    for change in changes:
        for edit in change.edits:
            if edit.key is not None:
                seen[(change.time, edit.key)] = seen.get((change.time, edit.key), 0) + 1
    return [replace(change, edits=tuple(
        Edit(e.key, {}, whole=True) if e.key is not None and seen[(change.time, e.key)] > 1 else e
        for e in change.edits)) for change in changes]


def _keys(today: Mapping[Key, Resource], changes: list[Change]) -> set[Key]:
    return set(today) | {e.key for c in changes for e in c.edits if e.key is not None}


def _merged(today: Mapping[Key, Resource], changes: list[Change], keys: set[Key]) -> list[dict[Key, Resource]]:
    """One state per interval: before the first change, then after each."""
    back: list[_Back] = [_today(today, keys)]
    for change in reversed(changes):
        back.append(_undo(change, back[-1], keys))
    back.reverse()
    fwd: list[_Fwd] = [{}]
    for change in changes:
        fwd.append(_apply(change, fwd[-1], keys))
    extras = _extras(today, changes)
    return [{k: Resource(_merge(f.get(k, {}), b.get(k, {})), extras.get(k, {})) for k in keys}
            for f, b in zip(fwd, back)]


def _today(today: Mapping[Key, Resource], keys: set[Key]) -> _Back:
    state: _Back = {k: {f: (v, f in r.inferred) for f, v in r.fields.items()} for k, r in today.items()}
    for key in keys - set(today):
        parent = _PARENT.get(key[0])
        listed = parent is not None and any(
            p[0] is parent and _child_of(p, key[1]) and today[p].fields.get(_children_known(parent)) is True
            for p in today)
        state[key] = {EXISTS: (False, False)} if key[0] in _ENUMERATED or listed else {}
    return state


def _children_known(kind: Kind) -> str:
    return "rw:metricFiltersKnown" if kind is Kind.LOG_GROUP else "rw:subscriptionsKnown"


def _targets(edit: Edit, keys: set[Key]) -> list[Key]:
    return sorted(keys) if edit.key is None else [edit.key]


def _children(edit: Edit, keys: set[Key]) -> list[Key]:
    if edit.cascade is None or edit.key is None:
        return []
    return [k for k in keys if k[0] is edit.cascade and _child_of(edit.key, k[1])]


def _child_of(parent: Key, child_id: str) -> bool:
    """A filter's id extends its group's; a subscriber's, its topic's (or, known by ARN only, the ARN does)."""
    if parent[0] is Kind.LOG_GROUP:
        return child_id.startswith(parent[1] + ":")
    return child_id.startswith((parent[1] + "|", f"arn:{parent[1]}:"))


def _undo(change: Change, after: _Back, keys: set[Key]) -> _Back:
    before = dict(after)
    for edit in change.edits:
        for key in _targets(edit, keys):
            restored = {f: (v, edit.inferred) for f, v in edit.before.items()}
            if edit.whole:
                before[key] = restored
            else:
                kept = {f: v for f, v in before.get(key, {}).items() if f not in edit.after}
                before[key] = {**kept, **restored}
        created = edit.before.get(EXISTS) is False
        for child in _children(edit, keys):  # before a create: none; before a delete: unknown ones
            before[child] = {EXISTS: (False, edit.inferred)} if created else {}
    return before


def _apply(change: Change, state: _Fwd, keys: set[Key]) -> _Fwd:
    after = dict(state)
    for edit in change.edits:
        for key in _targets(edit, keys):
            made = {f: (v, f in edit.defaults) for f, v in edit.after.items()}
            after[key] = made if edit.whole else {**after.get(key, {}), **made}
        for child in _children(edit, keys):
            after[child] = {EXISTS: (False, False)}
    return after


def _merge(forward: Mapping[str, _Known], backward: Mapping[str, _Known]) -> dict[str, Any]:
    """A field either reading knows; where both do, the fact over the likely reading, and nothing
    where two facts (or two likely readings) disagree: an unrecorded change lies between them."""
    merged: dict[str, Any] = {}
    for name in forward.keys() | backward.keys():
        (ahead, guessed_ahead), (behind, guessed_behind) = forward.get(name, _NONE), backward.get(name, _NONE)
        if name not in backward or (guessed_behind and not guessed_ahead and name in forward):
            merged[name] = ahead
        elif name not in forward or (guessed_ahead and not guessed_behind) or ahead == behind:
            merged[name] = behind
    return merged


_NONE: _Known = (None, True)


def _extras(today: Mapping[Key, Resource], changes: list[Change]) -> dict[Key, dict]:
    extras: dict[Key, dict] = {}
    for change in changes:
        for edit in change.edits:
            if edit.key is not None and edit.extra:
                extras[edit.key] = {**extras.get(edit.key, {}), **edit.extra}
    for key, res in today.items():
        extras[key] = {**extras.get(key, {}), **res.extra}
    return extras


def _resolve_subscriptions(today: Mapping[Key, Resource], changes: list[Change]) -> list[Change]:
    """ConfirmSubscription and Unsubscribe name a subscription by ARN only: find its subscriber
    (topic, protocol, endpoint) from today's list, a Subscribe that returned the ARN, or the one
    subscriber pending on the topic; an ARN found nowhere stays a subscriber of its own."""
    by_arn = {r.extra.get("SubscriptionArn") or r.fields.get("SubscriptionArn"): k for k, r in today.items()
              if k[0] is Kind.SUBSCRIPTION}
    pending: dict[str, set[Key]] = {}
    resolved = []
    for change in changes:
        edits = []
        for edit in change.edits:
            if edit.key is not None and edit.key[0] is Kind.SUBSCRIPTION and edit.key[1].startswith("arn:"):
                arn, topic = edit.key[1][4:], edit.extra.get("TopicArn", "")
                key = by_arn.get(arn)
                if key is None and change.event_name == "ConfirmSubscription" and len(pending.get(topic, ())) == 1:
                    key = next(iter(pending[topic]))
                key = key or (Kind.SUBSCRIPTION, edit.key[1])
                by_arn[arn] = key
                pending.get(topic, set()).discard(key)
                edit = replace(edit, key=key, extra=edit.extra if key[1].startswith("arn:") else {})
            elif edit.key is not None and edit.key[0] is Kind.SUBSCRIPTION:
                arn = edit.after.get("SubscriptionArn")
                if arn == PENDING:
                    pending.setdefault(edit.extra.get("TopicArn", ""), set()).add(edit.key)
                elif isinstance(arn, str):
                    by_arn[arn] = edit.key
            edits.append(edit)
        resolved.append(replace(change, edits=tuple(edits)))
    return resolved
