"""The only place boto3 sessions and clients are made: the standard credential chain (profile,
environment, SSO), ``AWS_ENDPOINT_URL`` (botocore reads it), adaptive retries, one client per
service and region."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

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
    if session.get_credentials() is None:
        where = f"profile {profile!r}" if profile else "the environment, ~/.aws or an SSO session"
        raise CredentialsError(f"no AWS credentials found in {where}",
                               "set a profile or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or 'aws sso login'")
    return session


_SESSION_LOCK = threading.Lock()  # boto3 sessions are not thread-safe; the clients they make are


@dataclass
class Clients:
    """boto3 clients made once per (service, region). ``credentials`` (an assumed role's) are used
    with the caller's session rather than a new session per account: a session loads and caches
    the service models, and loading them again for each of thousands of accounts costs more than
    all the API calls."""

    session: boto3.Session
    endpoint_url: str | None = None
    credentials: dict[str, str] | None = None
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, service: str, region: str) -> Any:
        key = (service, region)
        with _SESSION_LOCK:
            if key not in self._cache:
                self._cache[key] = self.session.client(service, region_name=region, endpoint_url=self.endpoint_url,
                                                       config=RETRIES, **(self.credentials or {}))
            return self._cache[key]


def error_of(exc: Exception) -> tuple[str, str]:
    """(code, message) of an AWS or botocore failure, for the gap record."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return err.get("Code", "ClientError"), err.get("Message", str(exc))
    if isinstance(exc, BotoCoreError):
        return type(exc).__name__, str(exc)
    raise exc
