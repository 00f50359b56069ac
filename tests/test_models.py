"""The shared vocabulary: verdicts and how several roll up into one; a finding and its record."""

from __future__ import annotations

import json

import pytest

from rootwatch.cli import VERDICT, Exit
from rootwatch.judge.chain import judge_account
from rootwatch.models import Status, dump_findings, load_findings, roll_up
from tests.judge.test_chain import healthy


@pytest.mark.parametrize(("statuses", "verdict"), [
    (["PASS", "PASS"], Status.PASS),
    (["PASS", "GAP"], Status.GAP),
    (["GAP", "FAIL", "PASS"], Status.FAIL),  # a definite no outweighs what could not be read
    ([], Status.PASS),
])
def test_any_fail_fails_else_any_gap_is_a_gap(statuses, verdict):
    assert roll_up(statuses) is verdict


def test_each_verdict_has_its_exit_code():
    assert {status: VERDICT[status] for status in Status} == {Status.PASS: Exit.PASS, Status.FAIL: Exit.FAIL,
                                                             Status.GAP: Exit.GAP}
    assert (Exit.PASS, Exit.FAIL, Exit.GAP) == (0, 1, 3)


def test_a_finding_comes_back_from_its_record_as_it_was(catalog):
    """One codec: what findings.json keeps is what runner, report and exports read back."""
    ev = healthy()
    ev.alarms.clear()  # fails from the alarm on: remediation steps, an anchor, the filter's coverage verdict
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    assert finding.status == Status.FAIL and finding.coverage is not None and finding.anchor.metric
    [back] = load_findings(dump_findings([finding]))
    assert back == finding
    record = json.loads(dump_findings([finding]))[0]
    assert record["key"] == "4.3" and record["status"] == "FAIL"
    assert [(v["link"], v["name"]) for v in record["links"]][4:] == [
        ("metric-filter", "metric filter"), ("alarm", "alarm"), ("subscriber", "confirmed subscriber")]
