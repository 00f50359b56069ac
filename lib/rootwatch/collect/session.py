"""The only place boto3 sessions and clients are made: the standard credential chain (profile,
environment, SSO), ``AWS_ENDPOINT_URL`` (botocore reads it), adaptive retries, one client per
service and region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, CredentialRetrievalError, ProfileNotFound

from rootwatch import __version__
from rootwatch.errors import CredentialsError

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra=f"rootwatch/{__version__}")


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
        raise CredentialsError(f"AWS credentials from {where} cannot be loaded: {describe(exc)}",
                               "check the profile or the AWS_* variables (run a credential_process yourself to "
                               "see its error)") from None
    if credentials is None:
        raise CredentialsError(f"no AWS credentials found in {where}",
                               "set a profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or 'aws sso login'")
    return session


def describe(exc: Exception) -> str:
    """botocore's message, except the text a credential provider returned: a credential_process's
    stderr (or a container endpoint's reply) may hold the very keys it handles, and the message
    goes to the terminal, the notebook and the bundle's gap records."""
    if isinstance(exc, CredentialRetrievalError):
        return f"{exc.kwargs.get('provider', 'the credential provider')} failed (its output is not shown: it may " \
               "hold secrets)"
    if not isinstance(exc, BotoCoreError):  # a credential_process that printed something other than JSON
        return "the credential provider's output is not the JSON botocore expects (not shown: it may hold secrets)"
    return str(exc)


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
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        with _SESSION_LOCK:
            if key not in self._cache:
                client = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                             config=RETRIES, **(self.credentials or {}))
                client.meta.events.register("before-send", _count_attempt)
                self._cache[key] = client
            return self._cache[key]


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
        return type(exc).__name__, describe(exc)
    raise exc
