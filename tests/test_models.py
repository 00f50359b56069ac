"""The shared vocabulary: verdicts and how several roll up into one."""

from __future__ import annotations

import pytest

from rootwatch.cli import VERDICT, Exit
from rootwatch.models import Status, roll_up


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
