"""Faults from AWS, injected in front of the sandbox (botocore and its retries meet them unchanged):
each case of cases.yaml is collected and judged, and its outcome asserted — retried where AWS says
retry, a gap with the API and error where a call could not be read, never a gap turned into PASS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rootwatch.collect.chain import Target, collect_account
from rootwatch.sandbox.faults import Fault
from rootwatch.evidence_run import judged
from tests.faults.table import cases, current, render

HEALTHY = "111111111111"
CASES = {c["id"]: c for c in cases()}


@pytest.fixture(scope="module")
def quick_backoff():
    """botocore's retries as they are (the same attempts, the same retry conditions), with their sleeps
    a thousandth as long: what a case asserts is which call was retried how often, and a case that
    gives up after ten attempts would otherwise sleep for up to a minute."""
    from botocore.retries.standard import ExponentialBackoff

    quick = {name: scale / 1000 for name, scale in ExponentialBackoff._DEFAULT_BACKOFF_CONFIG.items()}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ExponentialBackoff, "_DEFAULT_BACKOFF_CONFIG", quick)
        yield


@pytest.fixture(scope="module")
def outcomes(sandbox, window, catalog, quick_backoff):
    """Every case collected once: {case id: (evidence, {check key: finding})}."""
    control = catalog.control("4.3")
    done = {}
    for case in CASES.values():
        sandbox.state.faults.set([Fault(**f) for f in case["inject"]])
        try:
            ev = collect_account(Target("healthy", sandbox.session(HEALTHY)), case.get("regions", ["us-east-1"]),
                                 window, [control], endpoint_url=sandbox.endpoint, lookup_rate=None)
        finally:
            sandbox.state.faults.clear()
        _, findings = judged([ev], [control], catalog)
        done[case["id"]] = ev, {f.key: f for f in findings}
    return done


@pytest.mark.parametrize("case_id", CASES)
def test_fault_outcome(outcomes, case_id):
    expect = CASES[case_id]["expect"]
    ev, findings = outcomes[case_id]
    chain, coverage = findings["4.3"], findings["RW-1 alarm coverage (4.3)"]
    assert chain.status == expect["chain"], [(link.link.title, link.status, link.reason) for link in chain.links]
    if "coverage" in expect:
        assert coverage.status == expect["coverage"], coverage.links
    for operation, attempts in expect.get("retried", {}).items():
        call = next(c for c in ev.calls if c.operation == operation)
        assert call.retries == attempts and call.error is None, call
    for operation, attempts in expect.get("gave_up", {}).items():
        call = next(c for c in ev.calls if c.operation == operation)
        assert call.retries == attempts and call.error is not None, call
    recorded = [(g.operation, g.error_code) for g in ev.gaps]
    if "gaps_all" in expect:
        assert recorded and {code for _, code in recorded} <= {expect["gaps_all"], expect["gaps_all"].removesuffix(
            "Exception")}, recorded
    else:
        assert sorted(set(recorded)) == sorted(tuple(g) for g in expect["gaps"]), recorded
    links = {link.link.title: link for f in (chain, coverage) for link in f.links}
    for name, text in expect.get("reason", {}).items():
        assert text in links[name].reason and links[name].status != "PASS", links[name]


@pytest.mark.parametrize("case_id", [c for c, case in CASES.items() if case["expect"].get("gaps")
                                     or case["expect"].get("gaps_all")])
def test_every_gap_names_its_call_and_the_raw_evidence_shows_the_error(outcomes, case_id, tmp_path):
    from rootwatch.collect.evidence import write_raw

    ev, _ = outcomes[case_id]
    write_raw(ev.calls, tmp_path)
    for gap in ev.gaps:
        assert gap.service and gap.operation and gap.error_code and gap.message, gap
        raw = json.loads(Path(tmp_path, gap.evidence.removeprefix("raw/")).read_text())
        assert raw["call"]["operation"] == gap.operation and raw["call"]["error"]["code"] == gap.error_code


def test_no_gap_ever_leaves_a_pass_behind(outcomes):
    """Across the cases: a finding is PASS only when none of the calls behind its links failed."""
    for case_id, (ev, findings) in outcomes.items():
        failed = {g.evidence for g in ev.gaps}
        for finding in findings.values():
            if finding.status == "PASS":
                used = {e for link in finding.links for e in link.evidence}
                assert not used & failed, (case_id, finding.key, used & failed)


def test_readme_fault_table_is_rendered_from_the_cases():
    assert current() == render(), "README.md's fault table is stale: run python -m tests.faults.table --write"


def test_a_run_meeting_faults_completes_signed_and_counts_its_gaps(tmp_path):
    """The notebook's embedded sandbox armed from outside (ROOTWATCH_SANDBOX_FAULTS): the run
    completes, exits 3 (gaps, no FAIL), says how many calls were retried and how many gaps it has —
    on stdout, in the JSON log, in the report — and the bundle is signed: the gaps are evidence too."""
    import subprocess
    import sys

    import yaml

    from tests.sandbox_process import ROOT, child_environment

    faults = tmp_path / "faults.yaml"
    faults.write_text(yaml.safe_dump({"faults": [
        {"kind": "throttling", "operation": "DescribeTrails", "times": 2},
        {"kind": "access-denied", "operation": "GetTrailStatus"},
        {"kind": "access-denied", "operation": "DescribeAlarmHistory"}]}))
    out = tmp_path / "bundle"
    rootwatch = str(Path(sys.executable).with_name("rootwatch"))
    env = child_environment(ROOTWATCH_SANDBOX_FAULTS=str(faults), XDG_CONFIG_HOME=str(tmp_path / "config"))
    done = subprocess.run([rootwatch, "run", str(ROOT / "parameters" / "sandbox.yaml"), "--set", "accounts=[healthy]",
                           "--set", "pdf={renderer: none}", "--out", str(out), "--quiet", "--log-format", "json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 3, done.stderr
    summary = next(json.loads(line) for line in done.stderr.splitlines() if '"summary"' in line)
    records = [json.loads(line) for line in done.stderr.splitlines()]
    per_finding = {r["key"]: r for r in records if r["event"] == "finding"}  # one JSON record per finding
    assert set(per_finding) == {"4.3", "RW-1 alarm coverage (4.3)", "RW-2 chain operated throughout (4.3)"}, per_finding
    assert per_finding["4.3"]["account_id"] == HEALTHY and per_finding["4.3"]["control"] == "4.3"
    assert per_finding["4.3"]["status"] == "GAP"
    gaps = (out / "data" / "gaps.csv").read_text().strip().splitlines()[1:]
    assert summary["gap"] == 1 and summary["fail"] == 0 and summary["gaps"] == len(gaps) >= 2, summary
    # RW-1 could not read the alarm's history; RW-2 could not rebuild the past from a today it could not read
    assert summary["rootwatch_tests"] == {"pass": 0, "fail": 0, "gap": 2}, summary
    assert f"{len(gaps)} evidence gap(s)" in done.stdout
    collection = json.loads((out / "collection.json").read_text())
    assert collection["gaps"] == len(gaps) and collection["retried_calls"] >= 1
    html = (out / "report.html").read_text()
    assert f"{collection['retried_calls']} retried after throttling" in html and f"{len(gaps)} evidence gap(s)" in html
    assert "GetTrailStatus failed with AccessDeniedException" in html
    dev_key = tmp_path / "config" / "rootwatch" / "signing" / "dev_ed25519.pub"  # the run's signer
    verified = subprocess.run([rootwatch, "verify", str(out), "--trusted-key", str(dev_key)], env=env,
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot be read"),
    ("faults: [{kind: meteor}]\n", "unknown sandbox fault kind 'meteor'"),
    ("faults: [{kind: throttling, op: X}]\n", "has unknown keys ['op']"),
])
def test_a_bad_faults_file_is_bad_input(tmp_path, text, message):
    import subprocess
    import sys

    path = tmp_path / "faults.yaml"
    if text is not None:
        path.write_text(text)
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "sandbox", "--faults", str(path)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
