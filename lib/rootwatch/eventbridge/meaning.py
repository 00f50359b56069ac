"""Does an EventBridge rule see every root use? Judged by meaning over realistic root events.

The question is narrower than comparing two patterns: the events are fixed in kind (CloudTrail
records of root use, as EventBridge delivers them) and only the fields the pattern names can change
the answer. So, as ``patterns.compare`` does for filter patterns, we vary exactly those fields:

- fields root use decides stay as root use has them (``userIdentity.type`` Root, no ``invokedBy``);
- the kind of event (``source``, ``detail-type``, ``eventSource``, ``eventType``) comes from the bases
  in ``witnesses``: console sign-ins, and API calls to every service in ``witnesses.SERVICES``, to each
  service the pattern itself names, and to one it does not (AWS adds services);
- the account fields move together (one account, or the one the rule lives in when given), and so do
  the region fields (any region, or the rule's own: a rule only sees its region's events);
- every other field the pattern names takes one value per distinct behaviour of the pattern's tests
  there (each literal and its case and prefix/suffix variants, numbers around each bound, addresses
  in and out of each CIDR block, absent, null, booleans, an object), realistic values first.

The product of those choices is tried in full (bounded by ``MAX_EVENTS``). A miss is a real root event
the rule does not match, so NARROWER is always shown by its event. COVERS and NO are claims about
every root event: they are made only when each field's choices are complete for its tests, which
the variants above are for literals, prefixes, suffixes, ignore-case, numbers, CIDR blocks and
existence (the service fields: over the services listed, named, and one unnamed); a wildcard at
another field we vary makes the answer CANNOT_JUDGE unless a miss is found.

Assumed, and said in the README: root use reaches EventBridge only as the two detail types above
(``AwsConsoleAction`` records are not modelled), read-only calls reach a rule only when the rule's
state lets CloudTrail's read-only management events through, and which region's bus the rule sits on
is for the caller to check (pass ``region`` to judge the events that bus sees).
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rootwatch.eventbridge.ast import (AnythingBut, Cidr, EqualsIgnoreCase, Exact, Leaf, Matcher, Numeric, Obj, Path,
                                       Prefix, Suffix, Wildcard, leaves)
from rootwatch.eventbridge.evaluate import MISSING, leaf_matches, matches
from rootwatch.eventbridge.witnesses import ACCOUNT, BASES, FRESH_SERVICE, OTHER_VALUES, REGIONS, SERVICES, Base

MAX_EVENTS = 100_000  # root events tried per pattern; a pattern needing more is CANNOT_JUDGE
MAX_STRINGS = 1_000  # string variants tried per field; more leaves the answer CANNOT_JUDGE unless a miss is found
ROOT_FIXED: dict[Path, Any] = {("detail", "userIdentity", "type"): "Root",
                               ("detail", "userIdentity", "invokedBy"): MISSING}
KIND = (("source",), ("detail-type",), ("detail", "eventSource"), ("detail", "eventType"))
SIGN_IN_DECIDES = (("detail", "eventName"), ("detail", "readOnly"))
ACCOUNT_PATHS = (("account",), ("detail", "recipientAccountId"), ("detail", "userIdentity", "accountId"),
                 ("detail", "userIdentity", "principalId"), ("detail", "userIdentity", "arn"))
REGION_PATHS = (("region",), ("detail", "awsRegion"))
PRESENT_STRINGS = {("version",), ("id",), ("time",), ("detail", "eventVersion"), ("detail", "eventTime"),
                   ("detail", "sourceIPAddress"), ("detail", "userAgent"), ("detail", "eventID"),
                   ("detail", "eventCategory"), ("detail", "eventName")}
PRESENT_BOOLS = {("detail", "managementEvent"), ("detail", "readOnly")}
# the documented envelope of an EventBridge event and the documented fields of a CloudTrail record
# ("CloudTrail record contents"): any other field there is absent from every root event
DOCUMENTED: dict[Path, frozenset[str]] = {
    (): frozenset({"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}),
    ("detail",): frozenset({
        "eventTime", "eventVersion", "userIdentity", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
        "userAgent", "errorCode", "errorMessage", "requestParameters", "responseElements", "additionalEventData",
        "requestID", "eventID", "eventType", "apiVersion", "managementEvent", "readOnly", "resources",
        "recipientAccountId", "serviceEventDetails", "sharedEventID", "vpcEndpointId", "vpcEndpointAccountId",
        "eventCategory", "addendum", "sessionCredentialFromConsole", "edgeDeviceDetails", "tlsDetails",
        "insightDetails"}),
}
SCALARS = {*ROOT_FIXED, *KIND, *ACCOUNT_PATHS, *REGION_PATHS, *PRESENT_STRINGS, *PRESENT_BOOLS} - {
    ("detail", "userIdentity", "invokedBy")}


class Outcome(str, Enum):
    COVERS = "covers"  # matches every root use (it may match more: it just alerts more)
    NARROWER = "narrower"  # misses some root use: ``missed`` is one
    NO = "no"  # matches no root use
    CANNOT_JUDGE = "cannot judge"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str  # one sentence for the finding
    missed: dict | None = None  # a realistic root event the rule does not match
    matched: dict | None = None  # a realistic root event it matches
    fields: tuple[str, ...] = ()  # the fields the pattern looks at, dotted
    tried: int = 0  # root events evaluated


def judge(tree: Obj, account_id: str | None = None, region: str | None = None) -> Verdict:
    search = _Search(tree, account_id, region)
    return search.run()


class _Search:
    def __init__(self, tree: Obj, account_id: str | None, region: str | None) -> None:
        self.tree = tree
        self.at: dict[Path, list[Leaf]] = {}
        for path, leaf in leaves(tree):
            self.at.setdefault(path, []).append(leaf)
        self.fields = tuple(sorted(".".join(p) for p in self.at))
        self.account_id, self.region = account_id, region
        self.exact = True
        self.tried = 0
        self.missed: dict | None = None
        self.matched: dict | None = None
        self.missed_base = ""

    # --- the search ---------------------------------------------------------------------
    def run(self) -> Verdict:
        """First the bases as they are (so a miss reads like a real record), then every variant, API
        calls before sign-ins (a sign-in carries fewer of the fields a variant may set)."""
        shared = [g for g in (self._accounts(), self._regions()) if g]
        bases = list(self._bases())
        for realistic in (True, False):
            for base in (bases if realistic else sorted(bases, key=lambda b: b.sign_in)):
                free = self._free_groups(base)
                if realistic:
                    free = [[((path, _read(base.event, path)),)] for path, _ in (g[0][0] for g in free)]
                groups = [*shared, *free]
                if self.tried + math.prod(len(g) for g in groups) > MAX_EVENTS:
                    return self._verdict(Outcome.CANNOT_JUDGE, "the pattern's fields allow more than "
                                         f"{MAX_EVENTS:,} kinds of root event; rootwatch does not try them all")
                if self._try(base, groups):
                    return self._conclude()
        return self._conclude()

    def _try(self, base: Base, groups: list[list[tuple[tuple[Path, Any], ...]]]) -> bool:
        """Every combination of the groups' choices on ``base``; True once both a match and a miss are known."""
        event = copy.deepcopy(base.event)
        for path, value in ROOT_FIXED.items():
            _write(event, path, value)
        for combo in itertools.product(*groups):
            for assignment in combo:
                for path, value in assignment:
                    _write(event, path, value)
            self.tried += 1
            if matches(self.tree, event):
                self.matched = self.matched or copy.deepcopy(event)
            elif self.missed is None:
                self.missed, self.missed_base = copy.deepcopy(event), base.name
            if self.matched is not None and self.missed is not None:
                return True
        return False

    def _conclude(self) -> Verdict:
        if self.missed is not None and self.matched is not None:
            return self._verdict(Outcome.NARROWER, f"misses some root use, e.g. {self.missed_base}: "
                                 f"{self.describe(self.missed)}")
        if not self.exact:
            return self._verdict(Outcome.CANNOT_JUDGE, "a wildcard on a field that varies between root events "
                                 f"leaves cases rootwatch cannot enumerate ({self.tried:,} root events tried)")
        if self.missed is not None:
            return self._verdict(Outcome.NO, f"matches no root use (e.g. {self.missed_base}: "
                                 f"{self.describe(self.missed)})")
        services = (f" to {len(SERVICES)} services, each the pattern names and one it does not"
                    if ("source",) in self.at or ("detail", "eventSource") in self.at else "")
        return self._verdict(Outcome.COVERS, f"matches every kind of root use tried ({self.tried:,} root events: "
                             f"console sign-ins, and API calls{services})")

    def _verdict(self, outcome: Outcome, reason: str) -> Verdict:
        return Verdict(outcome, reason, self.missed, self.matched, self.fields, self.tried)

    def describe(self, event: dict) -> str:
        """The values the event has at the fields the pattern looks at: the part that decides it."""
        parts = []
        for path in sorted(self.at):
            value = _read(event, path)
            text = "absent" if value is MISSING else json.dumps(value, ensure_ascii=True, sort_keys=True)
            parts.append(f"{'.'.join(path)}={text[:80]}" if value is not MISSING else f"{'.'.join(path)} absent")
        return ", ".join(parts)

    # --- what varies ----------------------------------------------------------------------
    def _bases(self) -> Iterator[Base]:
        """Sign-ins as they are; API calls once per service behaviour when the pattern looks at the
        service, else as they are."""
        service_paths = [p for p in (("source",), ("detail", "eventSource")) if p in self.at]
        services = list(SERVICES) + [s for s in self._named_services() if s not in SERVICES] + [FRESH_SERVICE]
        for base in BASES:
            if base.sign_in or not service_paths:
                yield base
                continue
            seen = set()
            for service in services:
                variant = base.with_service(service)
                signature = tuple(self._signature(p, _read(variant.event, p)) for p in service_paths)
                if signature not in seen:
                    seen.add(signature)
                    yield variant

    def _named_services(self) -> list[str]:
        names = []
        for path, strip in ((("source",), lambda s: s.removeprefix("aws.")),
                            (("detail", "eventSource"), lambda s: s.removesuffix(".amazonaws.com"))):
            for text in self._literals(path):
                name = strip(text)
                if re.fullmatch(r"[a-z0-9][a-z0-9-]*", name) and name not in names:
                    names.append(name)
        return names

    def _accounts(self) -> list[tuple[tuple[Path, Any], ...]]:
        named = [p for p in ACCOUNT_PATHS if p in self.at]
        if self.account_id is not None:
            candidates = [self.account_id]
        elif not named:
            return []
        else:
            found = [m for p in named for t in self._literals(p) for m in re.findall(r"\d{12}", t)]
            candidates = [ACCOUNT, *found, "444455556666"]
        self.exact &= self.account_id is not None or not self._wildcard_at(named)
        options = [tuple(zip(ACCOUNT_PATHS, (a, a, a, a, f"arn:aws:iam::{a}:root"))) for a in dict.fromkeys(candidates)]
        return self._distinct(options, named)

    def _regions(self) -> list[tuple[tuple[Path, Any], ...]]:
        named = [p for p in REGION_PATHS if p in self.at]
        if self.region is not None:
            candidates = [self.region]
        elif not named:
            return []
        else:
            found = [t for p in named for t in self._literals(p) if re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", t)]
            candidates = [*REGIONS, *found]
            self.exact &= not self._wildcard_at(named)
        return self._distinct([tuple((p, r) for p in REGION_PATHS) for r in dict.fromkeys(candidates)], named)

    def _distinct(self, options: list, named: list[Path]) -> list:
        kept, seen = [], set()
        for option in options:
            values = dict(option)
            signature = tuple(self._signature(p, values[p]) for p in named)
            if signature not in seen:
                seen.add(signature)
                kept.append(option)
        return kept

    def _free_groups(self, base: Base) -> list[list[tuple[tuple[Path, Any], ...]]]:
        decided = {*ROOT_FIXED, *KIND, *ACCOUNT_PATHS, *REGION_PATHS}
        if base.sign_in:
            decided |= set(SIGN_IN_DECIDES)
        groups = []
        for path in sorted(self.at):
            if path in decided:
                continue
            if any(path[:i] in SCALARS for i in range(1, len(path))) or _undocumented(path):
                continue  # always absent from root events, as the base has it
            if any(path[:i] in self.at for i in range(1, len(path))):
                self.exact = False  # a field named both as a value and as an object: not enumerated jointly
            values = self._candidates(path, base)
            groups.append([((path, v),) for v in values])
        return groups

    def _candidates(self, path: Path, base: Base) -> list[Any]:
        own = _read(base.event, path)
        realistic = [own, *(_read(b.event, path) for b in BASES), *OTHER_VALUES.get(path, ())]
        realistic = [v for v in realistic if v is not MISSING]
        matchers = [m for leaf in self.at[path] for m in leaf.matchers]
        if _has_wildcard(matchers):
            self.exact = False
        variants = _strings(matchers)
        if len(variants) > MAX_STRINGS:
            self.exact = False  # so many literals at one field that not every variant is tried
            variants = variants[:MAX_STRINGS]
        strings = [v for v in realistic if isinstance(v, str)] + variants
        if path in PRESENT_STRINGS:
            pool: list[Any] = strings
        elif path in PRESENT_BOOLS:
            pool = [v for v in realistic if isinstance(v, bool)] + [True, False]
        else:
            pool = realistic + strings + _numbers(matchers) + [MISSING, None, True, False, {}]
        if not base.sign_in and path == ("detail", "eventName"):
            pool = [v for v in pool if v != "ConsoleLogin"]
        kept, seen = [], set()
        for value in pool:
            signature = self._signature(path, value)
            if signature not in seen:
                seen.add(signature)
                kept.append(value)
        return kept

    def _signature(self, path: Path, value: Any) -> tuple[bool, ...]:
        return tuple(leaf_matches(leaf, value) for leaf in self.at.get(path, []))

    def _wildcard_at(self, paths: list[Path]) -> bool:
        return any(_has_wildcard(leaf.matchers) for p in paths for leaf in self.at[p])

    def _literals(self, path: Path) -> list[str]:
        return [t for leaf in self.at.get(path, []) for m in leaf.matchers for t in _texts(m)]


def _undocumented(path: Path) -> bool:
    return any(path[:i] in DOCUMENTED and path[i] not in DOCUMENTED[path[:i]] for i in range(len(path)))


def _has_wildcard(matchers: Iterable[Matcher]) -> bool:
    return any(isinstance(m, Wildcard) or (isinstance(m, AnythingBut) and _has_wildcard(m.excluded)) for m in matchers)


def _texts(m: Matcher) -> Iterable[str]:
    if isinstance(m, AnythingBut):
        for x in m.excluded:
            yield from _texts(x)
    elif isinstance(m, Exact) and isinstance(m.value, str):
        yield m.value
    elif isinstance(m, (Prefix, Suffix, EqualsIgnoreCase)):
        yield m.text
    elif isinstance(m, Wildcard):
        pieces = m.pieces()
        yield "".join(pieces)
        yield from (p for p in pieces if p)


def _strings(matchers: list[Matcher]) -> list[str]:
    """Strings on each side of every string test: the literal, its case variants, one character more
    or less at either end, prefixes joined to suffixes, wildcard runs filled and emptied, and
    addresses inside and outside each CIDR block."""
    flat = [x for m in matchers for x in (m.excluded if isinstance(m, AnythingBut) else (m,))]
    out = ["x", ""]
    for m in flat:
        for t in _texts(m):
            out += [t, t.upper(), t.lower(), t.swapcase(), "x" + t, t + "x", t[1:], t[:-1], "x" + t.swapcase(),
                    t.swapcase() + "x"]
        if isinstance(m, Wildcard):
            out.append("x".join(m.pieces()))
        if isinstance(m, Cidr):
            net = m.network
            out += [str(net.network_address), str(net.broadcast_address), "203.0.113.17", "2001:db8::17"]
            if int(net.network_address) > 0:
                out.append(str(net.network_address - 1))
            if int(net.broadcast_address) < (2 ** net.max_prefixlen) - 1:
                out.append(str(net.broadcast_address + 1))
    heads = [m.text for m in flat if isinstance(m, Prefix)]
    tails = [m.text for m in flat if isinstance(m, Suffix)]
    out += [h + t for h in heads for t in tails] + [h + "x" + t for h in heads for t in tails]
    return list(dict.fromkeys(out))


def _numbers(matchers: list[Matcher]) -> list[float]:
    flat = [x for m in matchers for x in (m.excluded if isinstance(m, AnythingBut) else (m,))]
    exact = {float(m.value) for m in flat if isinstance(m, Exact) and isinstance(m.value, (int, float))
             and not isinstance(m.value, bool)}
    bounds = sorted(exact | {b for m in flat if isinstance(m, Numeric) for b in m.bounds()})
    if not bounds:
        return [0]
    between = [(a + b) / 2 for a, b in itertools.pairwise(bounds)]
    return [bounds[0] - 1, *bounds, *between, bounds[-1] + 1]


def _read(event: Any, path: Path) -> Any:
    for name in path:
        if not isinstance(event, dict) or name not in event:
            return MISSING
        event = event[name]
    return event


def _write(event: dict, path: Path, value: Any) -> None:
    """Set ``path`` (creating objects on the way); ``MISSING`` removes it."""
    node = event
    for name in path[:-1]:
        if not isinstance(node.get(name), dict):
            if value is MISSING:
                return
            node[name] = {}
        node = node[name]
    if value is MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value


