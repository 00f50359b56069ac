"""The only place boto3 sessions and clients are made: the standard credential chain (profile,
environment, SSO), ``AWS_ENDPOINT_URL`` (botocore reads it), adaptive retries, one client per
service and region."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    ProfileNotFound,
)

from rootwatch import __version__
from rootwatch.errors import CredentialsError, Unreachable, botocore_message

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra=f"rootwatch/{__version__}")
# one question before anything is written — are these credentials good, and is AWS there? — answered
# within 30 s whatever the network does: 3 attempts of at most 4 s to connect and 6 s to answer
PREFLIGHT = Config(connect_timeout=4, read_timeout=6, retries={"mode": "standard", "total_max_attempts": 3},
                   user_agent_extra=f"rootwatch/{__version__}")


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A session from the standard chain; raise ``CredentialsError`` when it yields no credentials."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise CredentialsError(f"AWS profile {profile!r} does not exist",
                               "name a profile from ~/.aws/config or run 'aws configure sso'") from None
    where = f"profile {profile!r}" if profile else "the environment, ~/.aws or an SSO session"
    try:
        credentials = session.get_credentials()
    except (BotoCoreError, ValueError) as exc:  # a failing credential_process, partial keys, an expired SSO token
        raise CredentialsError(f"AWS credentials from {where} cannot be loaded: {botocore_message(exc)}",
                               "check the profile or the AWS_* variables (run a credential_process yourself to "
                               "see its error)") from None
    if credentials is None:
        raise CredentialsError(f"no AWS credentials found in {where}",
                               "set a profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or 'aws sso login'")
    return session


def preflight(session: boto3.Session, where: str) -> str:
    """The account the session's credentials belong to (``sts:GetCallerIdentity``), asked before a run
    writes anything. Credentials AWS refuses are bad input (``CredentialsError``); an AWS that cannot be
    reached is ``Unreachable`` — never an audit of a placeholder account."""
    client = session.client("sts", region_name=session.region_name or "us-east-1", config=PREFLIGHT)
    try:
        return client.get_caller_identity()["Account"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "ClientError")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500 or code in ("Throttling", "ThrottlingException", "ServiceUnavailable"):
            raise Unreachable(f"AWS STS did not answer for {where} ({code}, HTTP {status})",
                              "run again later (a scheduler should retry)") from None
        raise CredentialsError(f"AWS refused the credentials from {where} ({code})",
                               "renew them (aws sso login, new keys or role) and run again") from None
    except (ConnectionError, HTTPClientError) as exc:
        raise Unreachable(f"AWS STS could not be reached for {where} ({type(exc).__name__})",
                          "check the network, proxy or AWS_ENDPOINT_URL, then run again (a scheduler should "
                          "retry)") from None
    except BotoCoreError as exc:
        raise CredentialsError(f"AWS credentials from {where} cannot be used: {botocore_message(exc)}",
                               "check the profile or the AWS_* variables") from None


def preflight_all(session: boto3.Session, profile: str | None, profiles: list[str], region: str | None) -> None:
    """``preflight`` for every set of credentials a run will use — the session's (from ``profile``) and
    each ``profile:NAME`` account's — in parallel, so the answer comes within the preflight's 30 s
    however many profiles there are."""
    from concurrent.futures import ThreadPoolExecutor

    checks = [(session, f"profile {profile!r}" if profile else "the default credential chain"),
              *((make_session(name, region), f"profile {name!r}") for name in profiles)]
    with ThreadPoolExecutor(max_workers=min(len(checks), 8)) as pool:
        for future in [pool.submit(preflight, *check) for check in checks]:
            future.result()


LOOKUP_RATE = 2.0  # LookupEvents requests per second AWS allows per account and region (beyond it: throttled)
_SESSION_LOCK = threading.Lock()  # boto3 sessions are not thread-safe; the clients they make are


@dataclass
class Clients:
    """boto3 clients made once per (service, region). ``credentials`` (an assumed role's) are used
    with the caller's session rather than a new session per account: a session loads and caches
    the service models, and loading them again for each of thousands of accounts costs more than
    all the API calls."""

    session: boto3.Session
    endpoint_url: str | None = None
    credentials: dict[str, str] | None = field(default=None, repr=False)  # an assumed role's keys: never shown
    lookup_rate: float | None = LOOKUP_RATE  # LookupEvents per second; None: unpaced (the sandbox sets no limit)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        with _SESSION_LOCK:
            if key not in self._cache:
                client = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                             config=RETRIES, **(self.credentials or {}))
                client.meta.events.register("before-send", _count_attempt)
                if service == "cloudtrail" and self.lookup_rate:  # one client per account and region: the limit's scope
                    client.meta.events.register("before-call.cloudtrail.LookupEvents", Pace(self.lookup_rate).hook)
                self._cache[key] = client
            return self._cache[key]



class Pace:
    """Requests spaced at most ``rate`` per second, whichever thread sends them. AWS throttles
    LookupEvents beyond 2 per second per account and region; adaptive retries would recover, but a
    history of 21 event names × regions × pages sent at once would spend its retries on throttling
    (and record them as retried calls) instead of waiting its turn."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval, self.clock, self.sleep = 1 / rate, clock, sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next request may go: its turn is booked before sleeping, so threads queue."""
        with self._lock:
            now = self.clock()
            turn = max(now, self._next)
            self._next = turn + self.interval
        if turn > now:
            self.sleep(turn - now)

    def hook(self, **_: Any) -> None:
        """botocore's ``before-call`` event: every page of a paginated call passes here."""
        self.wait()


_ATTEMPTS = threading.local()  # HTTP attempts sent by this thread: botocore sends on the caller's thread


def attempts() -> int:
    """Requests this thread has sent, retries included: what a call retried, even when it failed for
    good (botocore reports ``RetryAttempts`` only in responses, and a timeout has none)."""
    return getattr(_ATTEMPTS, "count", 0)


def _count_attempt(**_: Any) -> None:
    _ATTEMPTS.count = attempts() + 1


def error_of(exc: Exception) -> tuple[str, str]:
    """(code, message) of an AWS or botocore failure, for the gap record."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return err.get("Code", "ClientError"), err.get("Message", str(exc))
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__, botocore_message(exc)
    raise exc
