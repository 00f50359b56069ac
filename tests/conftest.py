from datetime import datetime, timedelta, timezone

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.models import Window

SANDBOX_NOW = datetime(2026, 10, 2, tzinfo=timezone.utc)


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
