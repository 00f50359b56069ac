"""An organisation collected by several processes: the same evidence, the same progress, the same
interruption as in one; the credentials reach the children through pipes only."""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

import pytest

from rootwatch.collect.chain import Target, collect
from rootwatch.collect.spread import processes_for
from rootwatch.judge.pattern_coverage import witnesses
from tests.conftest import SANDBOX_NOW

# what differs between any two collections of an unchanged organisation: when a call was made and how long
# it took, AWS's request ids and dates, the keys and session id each AssumeRole makes anew, the trail's
# last delivery (the sandbox's trail delivers as time goes)
VOLATILE = {"started", "seconds", "ResponseMetadata", "Credentials", "AssumedRoleId", "UserId",
            "LatestDeliveryTime", "LatestDeliveryAttemptTime"}


def _comparable(value):
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _collect(sandbox, window, catalog, processes, progress=None):
    """The sandbox organisation as a real run of 4.3 collects it: roles assumed from the auditor's session,
    two regions, root hygiene, and AWS's TestMetricFilter asked about each filter (``source: aws``)."""
    targets = [Target(a.alias, sandbox.session(), a.role_arn) for a in sandbox.accounts]
    controls = [catalog.control("4.3")]
    return collect(targets, ["us-east-1", "eu-west-1"], window, controls, endpoint_url=sandbox.endpoint,
                   lookup_rate=None, now=SANDBOX_NOW, root_hygiene=True, witnesses=witnesses(controls, catalog),
                   processes=processes, progress=progress)


def test_an_organisation_collected_by_two_processes_has_the_evidence_of_one(sandbox, window, catalog):
    heard: dict[str, list[tuple[int, int]]] = {}
    _collect(sandbox, window, catalog, processes=1)  # the first asks IAM to generate the credential report
    here = _collect(sandbox, window, catalog, processes=1)
    spread = _collect(sandbox, window, catalog, processes=2,
                      progress=lambda stage, done, total: heard.setdefault(stage, []).append((done, total)))
    assert [ev.label for ev in spread] == [ev.label for ev in here]  # the targets' order
    for mine, theirs in zip(here, spread):
        assert len(theirs.calls) > 40 and theirs.gaps == mine.gaps
        assert any(c.operation == "TestMetricFilter" for c in theirs.calls) == bool(mine.metric_filters)
        assert [c.seq for c in theirs.calls] == list(range(1, len(theirs.calls) + 1))
        assert _comparable(asdict(theirs)) == _comparable(asdict(mine))
    # the progress bars: each stage heard with every process's tasks added up, to its end
    accounts = len(sandbox.accounts)
    assert {stage: reports[-1] for stage, reports in heard.items()} == {
        "identity": (accounts, accounts), "trails": (2 * accounts, 2 * accounts), "chain": (accounts, accounts)}


def test_the_credentials_reach_the_collecting_processes_by_pipe_only(sandbox, window, catalog, capfd, tmp_path,
                                                                   monkeypatch):
    secret = sandbox.session().get_credentials().get_frozen_credentials().secret_key
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    evidence = _collect(sandbox, window, catalog, processes=2)
    assert all(ev.caller_arn for ev in evidence)
    printed = capfd.readouterr()
    assert secret not in printed.out + printed.err
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def _collectors() -> list[int]:
    """This process's children that collect (rootwatch.collect.spread)."""
    found = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                if b"rootwatch.collect.spread import main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(int(pid))
            except FileNotFoundError:  # ended while we looked
                pass
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc (Linux)")
def test_an_interrupted_spread_collection_leaves_no_process_behind(sandbox, window, catalog, monkeypatch):
    import subprocess

    started: list[subprocess.Popen] = []
    popen = subprocess.Popen

    def start(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        return started[-1]

    def interrupt(stage, done, total):
        raise KeyboardInterrupt  # as ^C does, at the first stage the children report

    monkeypatch.setattr(subprocess, "Popen", start)
    with pytest.raises(KeyboardInterrupt):
        _collect(sandbox, window, catalog, processes=2, progress=interrupt)
    monkeypatch.undo()
    # two collectors were started, and none is left running or unreaped (on a loaded machine a collector
    # may have finished its share before the interruption: it is reaped all the same)
    assert len(started) == 2 and all(child.returncode is not None for child in started)
    assert _collectors() == []


def test_a_large_organisation_is_spread_over_the_cores_and_a_small_one_is_not(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert processes_for(1, None) == 1 and processes_for(3, None) == 1  # a process's start costs more than it saves
    assert processes_for(100, None) == 2 and processes_for(5000, None) == 2
    assert processes_for(3, 8) == 3 and processes_for(1, 8) == 1  # never more processes than accounts


def test_a_role_that_asks_for_an_mfa_code_reaches_the_children_as_the_keys_it_gave(tmp_path, monkeypatch):
    """A child has no terminal to ask for the code on: it gets the keys the caller's role gave, never the
    profile to resolve again; a role without MFA is resolved again by the child (its keys may refresh)."""
    from datetime import UTC, datetime, timedelta

    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    from rootwatch.collect.spread import _jobs

    config = tmp_path / "config"
    config.write_text("[profile mfa]\nrole_arn = arn:aws:iam::111111111111:role/audit\nsource_profile = base\n"
                      "mfa_serial = arn:aws:iam::999999999999:mfa/auditor\n"
                      "[profile plain]\nrole_arn = arn:aws:iam::111111111111:role/audit\nsource_profile = base\n"
                      "[profile base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    metadata = {"access_key": "ASIAROLE", "secret_key": "role-secret", "token": "role-token", "expiry_time": expiry}
    keys = {}
    for profile in ("mfa", "plain"):
        core = botocore.session.Session(profile=profile)
        core._credentials = RefreshableCredentials.create_from_metadata(metadata, lambda: metadata, "assume-role")
        session = boto3.Session(botocore_session=core, region_name="us-east-1")
        [job] = _jobs([Target(profile, session, account_id="111111111111")], 1, 16, {})
        keys[profile] = job.sessions[0].keys
    assert keys["mfa"] == {"aws_access_key_id": "ASIAROLE", "aws_secret_access_key": "role-secret",
                           "aws_session_token": "role-token"}
    assert keys["plain"] is None
