"""The control catalog's model and loader: CIS monitoring and root-hygiene controls per benchmark
edition, as validated data.

Everything that differs between benchmark versions lives in ``controls.yaml``; code only reads
it. The catalog is checked against ``schema.json`` and every pattern is parsed when it is
loaded, so a broken catalog fails before any AWS call is made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import yaml

from rootwatch.errors import CatalogError, PatternSyntaxError
from rootwatch.jsonschemas import jsonschema
from rootwatch.models import Requirement, Role
from rootwatch.patterns import FilterPattern, compile_pattern
from rootwatch.patterns.ast import Compare, Text, atoms
from rootwatch.patterns.ast import Path as FieldPath

HERE = Path(__file__).parent
DEFAULT_PATH = HERE / "controls.yaml"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader: 10x faster on the 70 KB catalog


@dataclass(frozen=True)
class Variant:
    pattern: FilterPattern
    note: str
    intended: bool = False


@dataclass(frozen=True)
class Remediation:
    filter_name: str
    metric_name: str
    namespace: str
    alarm_name: str


@dataclass(frozen=True)
class Control:
    """One control as one benchmark edition defines it."""

    id: str
    benchmark: str
    title: str
    subject: str
    level: int
    reference: FilterPattern
    variants: tuple[Variant, ...]
    trap: str | None
    caveat: str | None
    remediation: Remediation
    example_event: dict
    evidence_query: FilterPattern  # what to fetch as the control's events (may be broader than it counts)
    lookup: dict | None  # the one LookupEvents attribute that narrows event history to the subject
    credential_report: bool = False  # the IAM credential report is evidence too (root's last use, MFA)
    role: Role | None = None  # what code asks for it by (models.Role), whatever its number
    requirements: tuple[Requirement, ...] = ()  # its numbers in the other editions, and the frameworks mapped to it
    key: str = ""  # the catalog's name for it in every edition ("4.3" for v1.2.0's 3.3 and v6.0's 5.3)

    @property
    def accepted(self) -> tuple[FilterPattern, ...]:
        """Every text the edition accepts, its printed reference first."""
        return (self.reference, *(v.pattern for v in self.variants))

    @property
    def intended(self) -> FilterPattern:
        """What the control means, where the printed text says something else (a trap)."""
        return next((v.pattern for v in self.variants if v.intended), self.reference)



@dataclass(frozen=True)
class RootControl:
    """A root-hygiene control as one edition numbers and titles it: judged from the root user's
    credentials (``rootwatch.hygiene``), not from a monitoring chain, so it has no pattern."""

    id: str
    benchmark: str
    title: str
    subject: str
    level: int
    role: Role
    advice: str  # what to do when it fails
    requirements: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class OrdinaryEvent:
    name: str
    event: dict


@dataclass(frozen=True)
class Catalog:
    default_benchmark: str
    benchmarks: dict[str, str]  # id -> title
    entries: dict[tuple[str, str], Control]  # (control id, benchmark) -> control
    ordinary: tuple[OrdinaryEvent, ...]
    root_entries: dict[tuple[str, str], RootControl]  # (control id, benchmark) -> root-hygiene control
    event_sources: dict[str, frozenset[str]]  # eventName -> the eventSources that record it (``recorded_by``)

    @property
    def corpus(self) -> tuple[dict, ...]:
        """The catalog's realistic CloudTrail records: each control's example event, then ordinary activity."""
        examples = {id(c.example_event): c.example_event for c in self.entries.values()}
        return (*examples.values(), *(o.event for o in self.ordinary))

    def realistic(self, event: dict) -> bool:
        """False when ``event`` names a service that does not record its eventName (``RunInstances``
        from ``s3.amazonaws.com``): no CloudTrail record is such a combination. A name the catalog does
        not know is given the benefit of the doubt."""
        sources = self.event_sources.get(event.get("eventName"))
        return sources is None or event.get("eventSource") in sources

    def benchmark(self, benchmark: str | None = None) -> str:
        """The benchmark id to use: the given one if the catalog knows it, else the default."""
        benchmark = benchmark or self.default_benchmark
        if benchmark not in self.benchmarks:
            raise CatalogError(f"unknown benchmark {benchmark!r}",
                               f"use one of {', '.join(sorted(self.benchmarks))}")
        return benchmark

    def control(self, control_id: str, benchmark: str | None = None) -> Control:
        benchmark = self.benchmark(benchmark)
        try:
            return self.entries[(control_id, benchmark)]
        except KeyError:
            known = sorted({cid for cid, b in self.entries if b == benchmark}, key=_id_key)
            raise CatalogError(f"unknown control {control_id!r} for {benchmark}",
                               f"use one of {', '.join(known)}") from None

    def controls(self, benchmark: str | None = None) -> list[Control]:
        benchmark = self.benchmark(benchmark)
        return sorted((c for (_, b), c in self.entries.items() if b == benchmark), key=lambda c: _id_key(c.id))

    def root_controls(self, benchmark: str | None = None) -> list[RootControl]:
        """The edition's root-hygiene controls, in its order."""
        benchmark = self.benchmark(benchmark)
        return sorted((c for (_, b), c in self.root_entries.items() if b == benchmark), key=lambda c: _id_key(c.id))

    def by_role(self, role: Role, benchmark: str | None = None) -> Control | RootControl:
        """The edition's control holding ``role`` (4.3 in v5.0, 5.3 in v6.0 for the root-usage role; 1.4
        in v3.0, 2.3 in v6.0 for root access keys)."""
        control = with_role([*self.controls(benchmark), *self.root_controls(benchmark)], role)
        if control is None:
            raise CatalogError(f"no control of {self.benchmark(benchmark)} has the role {role}", "fix the catalog")
        return control

    def select(self, ids: tuple[str, ...], benchmark: str | None = None) -> list[Control]:
        """The monitoring controls a run names: ``("all",)``, every one of the edition; none, its
        root-usage control; else each id, an unknown one refused (``CatalogError``). The ids of
        root-hygiene controls are left to ``select_root``."""
        if ids == ("all",):
            return self.controls(benchmark)
        if not ids:
            return [self.by_role(Role.ROOT_USAGE, benchmark)]  # type: ignore[list-item]
        bench = self.benchmark(benchmark)
        known = {c.id for c in [*self.controls(bench), *self.root_controls(bench)]}
        unknown = [c for c in ids if c not in known]
        if unknown:
            raise CatalogError(f"unknown control {unknown[0]!r} for {bench}",
                               f"use one of {', '.join(sorted(known, key=_id_key))}, or all")
        return [self.control(c, benchmark) for c in ids if (c, bench) not in self.root_entries]

    def select_root(self, ids: tuple[str, ...], benchmark: str | None = None) -> list[RootControl]:
        """The root-hygiene controls a run names: every one for ``("all",)``, none by default."""
        if ids == ("all",):
            return self.root_controls(benchmark)
        bench = self.benchmark(benchmark)
        return [self.root_entries[(c, bench)] for c in ids if (c, bench) in self.root_entries]


def with_role(controls: list[Any], role: Role) -> Any:
    """The control among ``controls`` holding ``role``, if any."""
    return next((c for c in controls if c.role is role), None)


def _id_key(control_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in control_id.split("."))


@lru_cache(maxsize=4)
def load_catalog(path: Path = DEFAULT_PATH) -> Catalog:
    """Load, validate and compile the catalog; raise ``CatalogError`` naming the first problem."""
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read catalog {path}: {exc}", "restore the file from the release") from None
    schema = json.loads((HERE / "schema.json").read_text(encoding="utf-8"))
    # jsonschema.validate's answer without its check of schema.json against the 2020-12 metaschema, 80% of
    # the validation's time in every command: schema.json ships with the code and a test checks it.
    exc = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if exc is not None:
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        raise CatalogError(f"catalog {path} is invalid at {where}: {exc.message}", "fix the catalog") from None
    benchmarks = {bid: spec["title"] for bid, spec in data["benchmarks"].items()}
    if data["default_benchmark"] not in benchmarks:
        raise CatalogError(f"default benchmark {data['default_benchmark']!r} is not listed", "fix the catalog")
    entries: dict[tuple[str, str], Control] = {}
    for key, spec in data["controls"].items():
        for edition in spec["editions"]:
            cid = edition.get("number", key)  # v6.0 and v7.0 renumber section 4 as 5.x
            for bench in _editions(key, edition, benchmarks, entries):
                requirements = _requirements(key, spec, bench, benchmarks)
                entries[(cid, bench)] = _control(cid, bench, spec, edition, requirements, key)
                if "role" in spec and sum(c.role == spec["role"] for (_, b), c in entries.items() if b == bench) > 1:
                    raise CatalogError(f"two controls of {bench} have the role {spec['role']}", "fix the catalog")
    root_entries: dict[tuple[str, str], RootControl] = {}
    for role, spec in data["root_hygiene"].items():
        try:
            held = Role(role)
        except ValueError:
            raise CatalogError(f"root_hygiene: unknown role {role!r}", f"use one of {', '.join(Role)}") from None
        for edition in spec["editions"]:
            for bench in _editions(role, edition, benchmarks, {**entries, **root_entries}):
                root_entries[(edition["number"], bench)] = RootControl(
                    edition["number"], bench, edition["title"], spec["subject"], edition["level"], held,
                    spec["advice"], _requirements(role, spec, bench, benchmarks))
    ordinary = tuple(OrdinaryEvent(o["name"], o["event"]) for o in data["ordinary_activity"])
    return Catalog(data["default_benchmark"], benchmarks, entries, ordinary, root_entries,
                   recorded_by(entries.values(), ordinary))


EVENT_NAME = FieldPath(("eventName",))


def recorded_by(controls: Iterable[Control], ordinary: Iterable[OrdinaryEvent]) -> dict[str, frozenset[str]]:
    """Which services record each eventName the catalog knows (``DeletePolicy``: IAM's and
    Organizations'): the corpus's records say it outright, and a control's texts name the events it
    exists to catch (``$.eventName = X``), each recorded by the service of the control's example event
    (every CIS monitoring control watches one service's calls)."""
    controls = list(controls)
    pairs = [(e["eventName"], e["eventSource"]) for e in (*(c.example_event for c in controls),
                                                          *(o.event for o in ordinary))
             if e.get("eventName") and e.get("eventSource")]
    for control in controls:
        source = control.example_event.get("eventSource")
        pairs += [(atom.value.parts[0], source) for text in (*control.accepted, control.intended)
                  for atom in atoms(text.tree) if source and isinstance(atom, Compare) and atom.path == EVENT_NAME
                  and atom.op == "=" and isinstance(atom.value, Text) and not atom.value.is_wildcard]
    sources: dict[str, set[str]] = {}
    for name, source in pairs:
        sources.setdefault(name, set()).add(source)
    return {name: frozenset(found) for name, found in sources.items()}


def _editions(key: str, edition: dict[str, Any], benchmarks: dict[str, str], taken: dict[tuple[str, str], Any]) \
        -> list[str]:
    """The benchmarks of one edition, each known to the catalog and not given the same number twice."""
    cid = edition.get("number", key)
    for bench in edition["benchmarks"]:
        if bench not in benchmarks:
            raise CatalogError(f"control {key} names unknown benchmark {bench!r}", "fix the catalog")
        if (cid, bench) in taken:
            raise CatalogError(f"control {cid} has two editions for {bench}", "fix the catalog")
    return list(edition["benchmarks"])


def _requirements(key: str, spec: dict[str, Any], bench: str, benchmarks: dict[str, str]) -> tuple[Requirement, ...]:
    """What the verdict of ``bench``'s edition also answers: the control as every other edition the
    catalog holds numbers and titles it, oldest first, then the frameworks mapped to it."""
    editions = [Requirement(benchmarks[b], e.get("number", key), e.get("title", spec.get("title", "")))
                for b in benchmarks for e in spec["editions"] if b in e["benchmarks"] and b != bench]
    frameworks = [Requirement(f["framework"], f["requirement"], source=f["source"]) for f in spec.get("frameworks", [])]
    return tuple(editions + frameworks)


def _control(cid: str, bench: str, spec: dict[str, Any], edition: dict[str, Any],
             requirements: tuple[Requirement, ...], key: str) -> Control:
    def pattern(text: str) -> FilterPattern:
        try:
            return compile_pattern(" ".join(text.split()))
        except PatternSyntaxError as exc:
            raise CatalogError(f"control {cid} ({bench}): {exc.message}", "fix the catalog") from None

    variants = tuple(Variant(pattern(v["pattern"]), v["note"], v.get("intended", False))
                     for v in edition.get("variants", []))
    if sum(v.intended for v in variants) > 1:
        raise CatalogError(f"control {cid} ({bench}) marks more than one variant as intended", "fix the catalog")
    reference = pattern(edition["reference"])
    intended = next((v.pattern for v in variants if v.intended), reference)
    evidence = spec.get("evidence", {})
    query = pattern(evidence["query"]) if "query" in evidence else intended
    try:
        role = Role(spec["role"]) if "role" in spec else None
    except ValueError:
        raise CatalogError(f"control {cid}: unknown role {spec['role']!r}",
                           f"use one of {', '.join(Role)}, or fix the catalog") from None
    return Control(cid, bench, edition.get("title", spec["title"]), spec["subject"], edition["level"], reference,
                   variants, edition.get("trap"), spec.get("caveat"), Remediation(**spec["remediation"]),
                   spec["example_event"], query, evidence.get("lookup"), evidence.get("credential_report", False), role,
                   requirements, key)
