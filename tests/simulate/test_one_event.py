"""Data-driven cases of ``rootwatch.simulate``: ``cases/one_event.yaml`` (one event through a
filter and an alarm: issue 17, families 2 and 3) and ``cases/composite.yaml``, one test each."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rootwatch.simulate import Fires, Outcome, composite_fires, fires_on_one_event

CASES = Path(__file__).parent / "cases"
ONE = yaml.safe_load((CASES / "one_event.yaml").read_text())
COMPOSITE = yaml.safe_load((CASES / "composite.yaml").read_text())


def _merged(base: dict, overrides: dict | None) -> dict:
    out = copy.deepcopy(base)
    for key, value in (overrides or {}).items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _filter(case: dict) -> dict:
    metric_filter = copy.deepcopy(ONE["defaults"]["filter"])
    metric_filter["metricTransformations"] = [_merged(metric_filter["metricTransformations"][0], case.get("filter"))]
    return metric_filter


def _event(case: dict) -> dict:
    return _merged(ONE["defaults"]["event"], case.get("event"))


def _check(outcome: Outcome, expect: dict) -> None:
    shown = f"{outcome.verdict.name}: {outcome.reason}\n{outcome.datapoints}\n{outcome.notes}"
    assert outcome.verdict is Fires[expect["verdict"]], shown
    if "prevented_by" in expect:
        assert list(outcome.prevented_by) == expect["prevented_by"], shown
    for key in ("minutes", "later_by", "in_alarm_before"):
        if key in expect:
            assert getattr(outcome, key) == expect[key], shown
    for text in expect.get("reason", []):
        assert text in outcome.reason, shown
    for text in expect.get("datapoints", []):
        assert text in outcome.datapoints, shown
    for text in expect.get("notes", []):
        assert any(text in note for note in outcome.notes), shown
    # a verdict never passes without saying why, and a failure always names a setting
    assert outcome.reason
    assert outcome.fires is {Fires.AS_BENCHMARK: True, Fires.DIFFERENTLY: True, Fires.NEVER: False}.get(
        outcome.verdict)
    if outcome.verdict in (Fires.NEVER, Fires.UNKNOWN, Fires.CANNOT_SIMULATE):
        assert outcome.prevented_by, shown


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in ONE["cases"]])
def test_one_event(case):
    alarm = _merged(ONE["defaults"]["alarm"], case.get("alarm"))
    _check(fires_on_one_event(_filter(case), alarm, _event(case)), case["expect"])


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in COMPOSITE["cases"]])
def test_composite(case):
    children = {}
    for name, overrides in case["children"].items():
        alarm = _merged(ONE["defaults"]["alarm"], {**overrides, "AlarmName": name})
        children[name] = fires_on_one_event(_filter({}), alarm, _event({}))
    _check(composite_fires(case["composite"], children), case["expect"])


def test_the_benchmark_alarm_fires_at_the_first_evaluation():
    """The yardstick of "later": the benchmark's alarm, through the same simulation."""
    from rootwatch.simulate import benchmark_minutes

    assert benchmark_minutes() == 1
