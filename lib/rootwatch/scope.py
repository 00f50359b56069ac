"""What a run reads: its accounts and regions, and how to reach them. Opened once per run by the
evidence workbook and by remediation (which audits, then changes the same accounts); with the
sandbox as source, the sandbox is served while the scope is open."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from rootwatch.collect.chain import Target
from rootwatch.collect.evidence import RawCall, Recorder
from rootwatch.collect.organization import organization_scope, resolve_regions
from rootwatch.collect.session import LOOKUP_RATE, Clients, make_session, preflight
from rootwatch.errors import ParameterError
from rootwatch.extras import require
from rootwatch.params import RunParams
from rootwatch.resources import Arn


class Clock(Protocol):
    """The audited world's time, and a wait measured in it: what a drill's bounded waits are counted in."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class SandboxTime:
    """The sandbox's clock: in this process (``clock``, its SandboxClock) or read from a sandbox served by
    another process (``endpoint``), whose speed is not known here, so a wait there is real time."""

    clock: Any = None
    endpoint: str | None = None

    def now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        from rootwatch.sandbox.cloudwatch import CLOCK_PATH

        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
        with no_proxy.open(f"{self.endpoint}{CLOCK_PATH}", timeout=10) as answer:
            return datetime.fromisoformat(answer.read().decode())

    def sleep(self, seconds: float) -> None:
        speed = self.clock.speed if self.clock is not None else 1.0
        time.sleep(seconds / speed if speed else 0.0)


@dataclass
class Scope:
    """The accounts and regions a run reads, and how to reach them (``endpoint``: the sandbox's)."""

    targets: list[Target]
    regions: list[str]
    calls: list[RawCall]  # organization / region listing, evidence of what was in scope
    endpoint: str | None = None
    now: datetime | None = None  # the audited world's clock when it is not ours: the sandbox's
    lookup_rate: float | None = LOOKUP_RATE  # LookupEvents per second: AWS's limit; the sandbox sets none
    clock: Clock = field(default_factory=WallClock)  # the audited world's time: the sandbox's, or ours


@contextmanager
def opened(params: RunParams, clock_speed: float = 1.0) -> Iterator[Scope]:
    """The run's scope, with the sandbox served while the block runs when the source is the sandbox
    (its clock ``clock_speed`` times real time: a drill lets an alarm period pass in a second)."""
    if params.source == "sandbox":
        require("sandbox", "source: sandbox")
        from rootwatch.sandbox import Sandbox, served_endpoint

        endpoint = served_endpoint()  # `rootwatch run` serves it itself
        sb = Sandbox(now=params.window.end, clock_speed=clock_speed, audited=params.accounts)
        try:
            sb.attach(endpoint) if endpoint else sb.start()
            scope = _sandbox_scope(params, sb)
            scope.clock = SandboxTime(endpoint=endpoint) if endpoint else SandboxTime(sb.clock)
            yield scope
        finally:
            sb.stop()
        return
    yield _aws_scope(params)


def _sandbox_scope(params: RunParams, sb: Any) -> Scope:
    chosen = [a for a in sb.accounts if sb.audits(a.account_id, a.alias)]
    unknown = set(params.accounts) - {x for a in sb.accounts for x in (a.account_id, a.alias)}
    if unknown:
        raise ParameterError(f"the sandbox has no account {', '.join(sorted(unknown))}",
                             f"use {', '.join(a.alias for a in sb.accounts)}")
    base = sb.session()
    rec = Recorder(Clients(base, sb.endpoint), "organization")
    regions = resolve_regions(rec, _regions(params), sb.region)
    return Scope([Target(a.alias, base, a.role_arn) for a in chosen], regions, rec.calls, sb.endpoint, sb.now, None)


def _aws_scope(params: RunParams) -> Scope:
    home = params.home_region()
    session = make_session(params.profile, home)
    org = params.organization
    if org:
        scope = organization_scope(session, org["role"], _regions(params), org["include"], org["exclude"],
                                   org["external_id"], org["session_name"])
        return Scope(scope.targets, scope.regions, scope.calls)
    rec = Recorder(Clients(session), "scope")
    regions = resolve_regions(rec, _regions(params), session.region_name or "us-east-1")
    targets = [Target(arn.account, session, a) if (arn := Arn.parse(a)) else
               Target(a.removeprefix("profile:"), make_session(a.removeprefix("profile:"), home))
               for a in params.accounts]
    # without accounts the profile's own account, named by its profile or else by its id
    return Scope(targets or [Target(params.profile or preflight(session, "the default credential chain"), session)],
                 regions, rec.calls)


def _regions(params: RunParams) -> list[str] | str:
    return "all" if params.regions == ("all",) else list(params.regions)
