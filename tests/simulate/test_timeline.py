"""The simulator evaluates a one-event range only at the ages where the state can change
(``changing_ages``): checked here against an evaluation at every age, for every small rule."""

from __future__ import annotations

import itertools

import pytest

from rootwatch.simulate import Rule, State, Treatment, evaluate
from rootwatch.simulate.one_event import changing_ages

RULES = [Rule.of(n, m, t) for n in range(1, 6) for m in range(1, n + 1) for t in Treatment]
POINTS = (True, False, None)


def _window(span: int, hit, rest, age: int) -> list:
    window = [rest] * span
    window[span - age] = hit
    return window


@pytest.mark.parametrize("rule", RULES, ids=str)
def test_states_change_only_at_the_ages_evaluated(rule):
    for hit, rest, before in itertools.product(POINTS, POINTS, State):
        state = evaluate([rest] * rule.span, rule, before).state
        every = []
        for age in range(1, rule.span + 1):
            state = evaluate(_window(rule.span, hit, rest, age), rule, state).state
            every.append(state)
        sampled = changing_ages(rule)
        for start, end in zip(sampled, [*sampled[1:], rule.span + 1], strict=True):
            assert set(every[start - 1:end - 1]) == {every[start - 1]}, (hit, rest, before, every)
