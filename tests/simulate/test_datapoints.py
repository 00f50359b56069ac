"""What a metric filter publishes for one matching event (issue 17, family 2)."""

from __future__ import annotations

import pytest

from rootwatch.simulate import CannotSimulate, Datapoint, NoDatapoint, Transformation, datapoint
from rootwatch.simulate.datapoints import MetricKey

EVENT = {"userIdentity": {"type": "Root"}, "requestParameters": {"count": 3, "zero": 0, "text": "three",
                                                                 "digits": "3", "flag": True, "none": None},
         "recipientAccountId": "111111111111", "items": [{"n": 2}]}


def _t(**fields) -> Transformation:
    return Transformation.from_api({"metricNamespace": "CIS", "metricName": "Root", **fields})


@pytest.mark.parametrize(("value", "published"), [
    ("1", 1.0), ("0", 0.0), ("2.5", 2.5), ("$.requestParameters.count", 3.0), ("$.requestParameters.zero", 0.0),
    ("$.items[0].n", 2.0)])
def test_metric_value_publishes_a_number(value, published):
    point = datapoint(_t(metricValue=value), EVENT)
    assert point == Datapoint(MetricKey("CIS", "Root"), published, "None")


@pytest.mark.parametrize(("value", "said"), [
    ("$.requestParameters.absent", "is absent on the event"),
    ("$.requestParameters.text", "is a string on the event"),
    ("$.requestParameters.flag", "is a boolean on the event"),
    ("$.requestParameters.none", "is null on the event"),
    ("$.requestParameters", "is an object on the event"),
    ("$.items", "is an array on the event")])
def test_a_selector_without_a_number_publishes_nothing(value, said):
    point = datapoint(_t(metricValue=value), EVENT)
    assert isinstance(point, NoDatapoint) and said in point.reason and point.setting == "metricValue"


def test_a_matching_event_without_the_field_publishes_nothing_even_with_a_default_value():
    """defaultValue is for events the pattern does not match, not for a matching event lacking the field."""
    point = datapoint(_t(metricValue="$.requestParameters.absent", defaultValue=0), EVENT)
    assert isinstance(point, NoDatapoint)


@pytest.mark.parametrize(("value", "setting"), [("$.requestParameters.digits", "metricValue"),
                                                ("$count", "metricValue"), ("one", "metricValue")])
def test_what_cloudwatch_does_not_document_is_not_guessed(value, setting):
    with pytest.raises(CannotSimulate) as error:
        datapoint(_t(metricValue=value), EVENT)
    assert error.value.setting == setting


def test_dimensions_name_another_metric_with_the_event_values():
    point = datapoint(_t(metricValue="1", dimensions={"Account": "$.recipientAccountId"}), EVENT)
    assert isinstance(point, Datapoint)
    assert str(point.metric) == "CIS/Root{Account=111111111111}"


def test_a_dimension_field_absent_on_the_event_is_not_guessed():
    with pytest.raises(CannotSimulate) as error:
        datapoint(_t(dimensions={"Who": "$.userIdentity.arn"}), EVENT)
    assert error.value.setting == "dimensions"


def test_unit_and_default_value_are_read():
    t = _t(metricValue="1", unit="Count", defaultValue=0)
    assert (t.unit, t.default) == ("Count", 0.0)
    assert _t().unit == "None"  # CloudWatch Logs: a transformation without a unit publishes None
