import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.models import Window

SANDBOX_NOW = datetime(2026, 10, 2, tzinfo=UTC)
pytest_plugins = ["tests.sandbox_process"]  # the `sandbox_process` fixture: `rootwatch sandbox` in its own process


def pytest_configure(config):
    """Each pytest process (every xdist worker) keeps the development signing key it makes in its own
    config directory: never the user's ~/.config, and never two workers writing one key at once."""
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="rootwatch-tests-config-")


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def sandbox():
    """One seeded sandbox for the session (moto's state is per process: tests must not reset it)."""
    from rootwatch.sandbox import Sandbox

    with Sandbox(now=SANDBOX_NOW) as sb:
        yield sb


@pytest.fixture(scope="session")
def window():
    return Window(SANDBOX_NOW - timedelta(days=90), SANDBOX_NOW)


@pytest.fixture
def clients(sandbox):
    """clients(account_id, service) → a boto3 client of that sandbox account."""
    return lambda account_id, service: sandbox.session(account_id).client(service, endpoint_url=sandbox.endpoint)


@pytest.fixture(scope="session")
def evidence(sandbox, window, catalog):
    """The sandbox organisation collected once: {account_id: AccountEvidence}."""
    from rootwatch.collect.chain import Target, collect

    targets = [Target(a.alias, sandbox.session(a.account_id)) for a in sandbox.accounts]
    return {e.account_id: e for e in collect(targets, ["us-east-1"], window, [catalog.control("4.3")],
                                             endpoint_url=sandbox.endpoint, lookup_rate=None, now=SANDBOX_NOW)}


@pytest.fixture
def as_aws(sandbox, monkeypatch):
    """The session's sandbox, reached as an AWS endpoint, as a shell pointed at it reaches it: for
    library calls that take parameters (read only: a second in-process sandbox would reset moto's
    state under the others). {account id: its audit role ARN}."""
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(key)
    for key, value in {**sandbox.environment(), "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}.items():
        monkeypatch.setenv(key, value)
    return {a.account_id: a.role_arn for a in sandbox.accounts}
