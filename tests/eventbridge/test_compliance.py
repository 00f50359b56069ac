"""Data-driven suite (jmespath style): every case in ``cases/*.yaml`` is one test.

Match files are lists of groups ``{comment, given: event, cases: [{pattern, match, comment}]}``, the
documented examples first (``documented.yaml``); ``syntax.yaml`` lists ``{pattern, error}``. Run one
file with ``ROOTWATCH_CASES=types pytest tests/eventbridge/test_compliance.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from rootwatch.eventbridge import EventPatternError, compile_event_pattern

CASES = Path(__file__).parent / "cases"


def _cases(kind: str):
    only = os.environ.get("ROOTWATCH_CASES")
    for path in sorted(CASES.glob("*.yaml")):
        if (only and path.stem != only) or path.stem == "root_monitors":  # root_monitors: test_meaning's cases
            continue
        data = yaml.safe_load(path.read_text())
        if kind == "error" and path.stem == "syntax":
            yield from (pytest.param(c, id=f"syntax-{i}") for i, c in enumerate(data))
        elif kind == "match" and path.stem != "syntax":
            for g, group in enumerate(data):
                for c, case in enumerate(group["cases"]):
                    yield pytest.param(group["given"], case, id=f"{path.stem}-{g}-{c}")


@pytest.mark.parametrize(("given", "case"), list(_cases("match")))
def test_documented_pattern_matches_as_eventbridge_does(given, case):
    pattern = compile_event_pattern(json.dumps(case["pattern"]))
    assert pattern.matches(given) is case["match"], f"{case['pattern']} on {given}: expected {case['match']}"


@pytest.mark.parametrize("case", list(_cases("error")))
def test_malformed_pattern_is_one_line_naming_the_problem(case):
    with pytest.raises(EventPatternError) as info:
        compile_event_pattern(case["pattern"])
    message = str(info.value)
    assert case["error"] in message and "\n" not in message
