"""Random JSON as a pattern (jmespath's hypothesis habit): the only outcomes are a pattern or one
``EventPatternError``; judging never raises; and a judged event is what the evaluator says it is."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rootwatch.eventbridge import EventPatternError, Outcome, compile_event_pattern, judge_root_monitor

SETTINGS = settings(deadline=None, max_examples=300, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
SCALARS = st.none() | st.booleans() | st.integers(-10, 10) | st.sampled_from(["Root", "aws.s3", "", "x*", "\\"])
OPERATORS = st.sampled_from(["prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric",
                             "exists", "cidr", "contains"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(OPERATORS, inner,
                                                                                            max_size=2), max_leaves=6)
FIELDS = st.sampled_from(["source", "detail-type", "detail", "userIdentity", "type", "$or", "eventName", "region"])
PATTERNS = st.recursive(st.lists(VALUES, min_size=1, max_size=3),
                        lambda inner: st.dictionaries(FIELDS, inner, max_size=3) | st.lists(inner, max_size=3),
                        max_leaves=10)


@SETTINGS
@given(PATTERNS)
def test_any_json_is_a_pattern_or_one_line_error_and_judging_never_raises(value):
    text = json.dumps(value)
    try:
        compile_event_pattern(text)
    except EventPatternError as exc:
        assert "\n" not in str(exc)
    verdict = judge_root_monitor(text)
    assert isinstance(verdict.outcome, Outcome)
    if verdict.missed is not None:
        assert not compile_event_pattern(text).matches(verdict.missed)
    if verdict.matched is not None:
        assert compile_event_pattern(text).matches(verdict.matched)
