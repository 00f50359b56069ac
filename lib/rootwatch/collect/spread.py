"""An organisation's collection spread over processes: one interpreter lock per core.

Why: collecting is CPU-bound in botocore (creating each account's clients, signing every request and
parsing every answer), and one interpreter runs all of that on one core whatever the size of its
thread pool: bench-org's 100 accounts took ~48 s of CPU against an ideal of 52 s of round trips, so
the pool waited for the lock rather than for AWS. The accounts are dealt out to child processes,
each collecting its share in its own interpreter on its share of the pool, and the parent gathers
their progress and evidence. An account's calls are the same wherever it is collected: its evidence
does not depend on the process.

What crosses to a child, pickled through its pipes (never a file, never printed): the job, with each
session's profile, region, default client configuration and static keys (keys that refresh are not
sent: the child resolves the profile's chain itself). What cannot cross keeps the collection in the
caller's process: stubbed clients, a callable that does not pickle. A session's own event hooks do
not cross either: callers that answer calls on the session (tests) collect few enough accounts to
stay in-process.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import botocore.exceptions
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

if TYPE_CHECKING:
    from rootwatch.collect.chain import AccountEvidence, Target

ACCOUNTS_PER_PROCESS = 10  # a child's start (~1 s of CPU importing boto3 and rootwatch) is about two accounts' collection
# a child: this rootwatch on its path (when the interpreter's path lacks it), then ``main``
CHILD = ("import sys\nif sys.argv[1] not in sys.path:\n    sys.path.insert(0, sys.argv[1])\n"
         "from rootwatch.collect.spread import main\nmain()\n")
PARENT_CHECK_SECONDS = 1.0  # how soon a child whose parent died unannounced (SIGKILL, SIGTERM) stops too


def processes_for(accounts: int, processes: int | None) -> int:
    """How many processes collect ``accounts`` accounts: ``processes`` when given (at most one per account),
    else one per core with at least ``ACCOUNTS_PER_PROCESS`` accounts each."""
    if processes is None:
        processes = min(os.cpu_count() or 1, accounts // ACCOUNTS_PER_PROCESS)
    return max(1, min(processes, accounts))


@dataclass(frozen=True, repr=False)  # repr=False: the keys are never shown, not even in a traceback
class _Session:
    profile: str | None
    region: str | None
    keys: dict[str, str] | None
    config: Config | None  # the session's default client configuration (timeouts, retries), when it sets one

    def session(self) -> boto3.Session:
        core = botocore.session.Session(profile=self.profile)
        core.set_default_client_config(self.config)
        return boto3.Session(botocore_session=core, region_name=self.region, **(self.keys or {}))


@dataclass
class _Job:
    """One child's share: its accounts (each naming one of ``sessions``) and ``collect``'s other arguments."""

    sessions: list[_Session]
    accounts: list[tuple[int, dict[str, Any]]]  # (index into sessions, the Target's other fields)
    arguments: dict[str, Any] = field(default_factory=dict)


def _session_of(session: boto3.Session) -> _Session:
    """What a child needs to make the session again. Keys that refresh (an SSO login, a profile's own
    role, an instance role) are not sent: they may expire before a long collection ends, and the child
    resolves the same profile's chain itself, as the session would when they do. Except a role that
    asks for an MFA code: a child has no one to ask, so it gets the keys the caller was given (the
    caller's own session could not renew them unasked either)."""
    credentials = session.get_credentials()
    keys = None
    if credentials is not None and (not isinstance(credentials, RefreshableCredentials) or _asks_for_mfa(session)):
        frozen = credentials.get_frozen_credentials()
        keys = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key,
                "aws_session_token": frozen.token}
    core = session._session
    return _Session(core.profile, session.region_name, keys, core.get_default_client_config())


def _asks_for_mfa(session: boto3.Session) -> bool:
    try:
        return "mfa_serial" in session._session.get_scoped_config()
    except botocore.exceptions.ProfileNotFound:
        return False


def _jobs(targets: list[Target], count: int, concurrency: int, arguments: dict[str, Any]) -> list[_Job]:
    """The targets dealt out in turn (neighbours in a listing are often alike: dealt, each share gets
    its mix), each share with its part of the pool."""
    sessions: dict[int, int] = {}
    shared: list[_Session] = []
    jobs = [_Job(shared, [], {**arguments, "concurrency": max(1, concurrency // count + (i < concurrency % count))})
            for i in range(count)]
    for i, target in enumerate(targets):
        if id(target.session) not in sessions:
            sessions[id(target.session)] = len(shared)
            shared.append(_session_of(target.session))
        jobs[i % count].accounts.append((sessions[id(target.session)], {
            "label": target.label, "role_arn": target.role_arn, "external_id": target.external_id,
            "session_name": target.session_name, "account_id": target.account_id}))
    return jobs


def collect_spread(targets: list[Target], count: int, concurrency: int, say: Callable[[str, int, int], None],
                   arguments: dict[str, Any]) -> list[AccountEvidence] | None:
    """The evidence of ``targets`` (in their order) collected by ``count`` child processes; None when the
    job cannot be sent to another process (the caller collects in-process). ``say`` hears each stage
    once every child has begun it, with the children's tasks added up. Interrupted (SIGINT), or a child
    failing, the children are ended before the exception goes on."""
    try:
        blobs = [pickle.dumps(job) for job in _jobs(targets, count, concurrency, arguments)]
    except (pickle.PicklingError, TypeError, AttributeError):
        return None
    events: queue.Queue[tuple[int, str, Any]] = queue.Queue()
    children: list[subprocess.Popen] = []
    try:
        for i, blob in enumerate(blobs):
            child = subprocess.Popen([sys.executable, "-c", CHILD, _package_root()], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
            children.append(child)
            threading.Thread(target=_relay, args=(i, child, blob, events), daemon=True).start()
        shares: list[list[AccountEvidence] | None] = [None] * count
        stages: dict[str, dict[int, tuple[int, int]]] = {}
        while any(share is None for share in shares):
            i, kind, payload = events.get()
            if kind == "error":
                raise payload
            if kind == "evidence":
                shares[i] = payload
                continue
            stage, done, total = payload
            seen = stages.setdefault(stage, {})
            seen[i] = (done, total)
            if len(seen) == count:
                say(stage, sum(d for d, _ in seen.values()), sum(t for _, t in seen.values()))
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.wait()
    evidence: list[AccountEvidence] = [None] * len(targets)  # type: ignore[list-item]
    for i, share in enumerate(shares):
        evidence[i::count] = share
    return evidence


def _package_root() -> str:
    """Where this rootwatch is imported from: the child must run the same code (a test run's or a
    checkout's path is not always the interpreter's)."""
    import rootwatch

    return str(Path(rootwatch.__file__).resolve().parents[1])


def _relay(i: int, child: subprocess.Popen, blob: bytes, events: queue.Queue) -> None:
    """Send the child its job, then pass on what it says until its evidence or its end."""
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(blob)
        child.stdin.close()
        while True:
            kind, payload = pickle.load(child.stdout)
            events.put((i, kind, payload))
            if kind != "progress":
                return
    except (EOFError, OSError, pickle.UnpicklingError):
        events.put((i, "error", RuntimeError(f"collector process {child.pid} ended before sending its evidence "
                                             "(its error, if any, is above on stderr)")))


def _watch(parent: int) -> None:
    """End this child when its parent is gone: a parent killed outright cannot end its children."""
    while os.getppid() == parent:
        threading.Event().wait(PARENT_CHECK_SECONDS)
    os._exit(1)


def main() -> None:
    """A child: read the job from stdin, collect it in-process, send progress and evidence on stdout
    (anything else this process prints goes to stderr)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C reaches the whole group: the parent ends us
    channel: IO[bytes] = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    threading.Thread(target=_watch, args=(os.getppid(),), daemon=True).start()
    from rootwatch.collect.chain import Target, collect

    job: _Job = pickle.load(sys.stdin.buffer)
    sessions = [s.session() for s in job.sessions]

    def send(kind: str, payload: Any) -> None:
        pickle.dump((kind, payload), channel)
        channel.flush()

    targets = [Target(session=sessions[s], **fields) for s, fields in job.accounts]
    try:
        evidence = collect(targets, **job.arguments, processes=1,
                           progress=lambda stage, done, total: send("progress", (stage, done, total)))
    except Exception as exc:  # noqa: BLE001 - sent to the parent, which raises it
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle goes as its text
            exc = RuntimeError(traceback.format_exc())
        send("error", exc)
        return
    send("evidence", evidence)
