"""Data-driven compliance suite (jmespath style): every case in ``cases/*.json`` is one test.

Each file is a list of groups ``{comment, given: event, cases: [{pattern, match | error, column,
comment}]}``; AWS's documented examples come first (``documented.json``). Run one file with
``ROOTWATCH_CASES=semantics pytest tests/patterns/test_compliance.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rootwatch.errors import PatternSyntaxError
from rootwatch.patterns import compile_pattern

CASES = Path(__file__).parent / "cases"


def _cases():
    only = os.environ.get("ROOTWATCH_CASES")
    for path in sorted(CASES.glob("*.json")):
        if only and path.stem != only:
            continue
        for g, group in enumerate(json.loads(path.read_text())):
            for c, case in enumerate(group["cases"]):
                yield pytest.param(group["given"], case, id=f"{path.stem}-{g}-{c}")


@pytest.mark.parametrize(("given", "case"), list(_cases()))
def test_case(given, case):
    if "error" in case:
        with pytest.raises(PatternSyntaxError) as info:
            compile_pattern(case["pattern"])
        assert case["error"] in str(info.value), info.value
        assert info.value.column == case["column"], info.value
        return
    pattern = compile_pattern(case["pattern"])
    assert pattern.matches(given) is case["match"], (
        f"{case['pattern']} on {given}: expected {case['match']}\n"
        f"canonical: {pattern.canonical}\ncompiled:\n{pattern.matches.source}")
    # the canonical form means the same on the case's event
    assert compile_pattern(pattern.canonical).matches(given) is case["match"]
