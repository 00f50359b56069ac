import os
import tempfile
from datetime import UTC, datetime, timedelta

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.models import Window

SANDBOX_NOW = datetime(2026, 10, 2, tzinfo=UTC)
pytest_plugins = ["tests.sandbox_process"]  # the `sandbox_process` fixture: `rootwatch sandbox` in its own process


# Seconds each long module took on the 2-core machine (a whole `make test`, 2026-12-07), for the order in
# which pytest-xdist hands modules to its workers (``pytest_collection_modifyitems``); only the order
# depends on them, so a stale figure costs some seconds of make test, never a test.
MODULE_SECONDS = {
    "tests/test_interruptions.py": 160, "tests/patterns/test_properties.py": 140, "tests/test_secrets.py": 125,
    "tests/test_run.py": 110, "tests/test_package.py": 105, "tests/remediate/test_remediate.py": 100,
    "tests/collect/test_collect.py": 95, "tests/faults/test_faults.py": 80, "tests/test_run_output.py": 80,
    "tests/bundle/test_by_hand.py": 75, "tests/test_hostile.py": 70, "tests/test_organization.py": 65,
    "tests/bundle/test_signing_input.py": 60, "tests/collect/test_spread.py": 45, "tests/logarchive/test_scan.py": 45,
    "tests/test_policies.py": 40, "tests/test_organization_run.py": 40, "tests/remediate/test_render.py": 40,
    "tests/test_judge_counterexamples.py": 35, "tests/sandbox/test_cloudwatch.py": 35,
    "tests/report/test_charts.py": 35, "tests/test_jupyterlab.py": 30, "tests/simulate/test_delivery.py": 30,
    "tests/drill/test_drill_sandbox.py": 30, "tests/test_examples.py": 25, "tests/drill/test_drill.py": 25,
    "tests/remediate/test_plan.py": 25, "tests/notebook/test_explore.py": 25, "tests/bundle/test_signed_bundle.py": 25,
    "tests/bundle/test_tamper_property.py": 25, "tests/test_preflight.py": 25, "notebooks/remediate.ipynb": 25,
    "tests/answers/test_answers.py": 20, "notebooks/explore_root_activity.ipynb": 20,
}


def pytest_collection_modifyitems(config, items):
    """Longest modules first. pytest-xdist gives each worker whole modules (``--dist=loadscope``) in
    collection order (``--no-loadscope-reorder``; its own reordering puts modules with many tests
    first, which left the few-test end-to-end modules to run last, alone on a 2-core machine); this
    way the long ones start at once and the many short ones fill the workers' ends."""
    items.sort(key=lambda item: -MODULE_SECONDS.get(item.nodeid.partition("::")[0], 0))


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
