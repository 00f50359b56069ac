"""The alarm simulator: does one event a metric filter counts bring a CloudWatch alarm to ALARM?

Pure Python, no AWS call: the filter's datapoint (``datapoints``), CloudWatch's documented alarm
evaluation (``alarm``), the alarm read from ``DescribeAlarms`` (``model``), the event pushed
through period after period (``one_event``) and composite alarms (``composite``)::

    outcome = fires_on_one_event(metric_filter, alarm, event)
    outcome.verdict        # Fires.AS_BENCHMARK / DIFFERENTLY (pass), NEVER (fail),
                           # UNKNOWN / CANNOT_SIMULATE (evidence gap, never a pass)
    outcome.reason         # one sentence naming the setting that decides
    outcome.datapoints     # the simulated periods and states, for the finding
    outcome.minutes, outcome.later_by, outcome.prevented_by, outcome.notes

    composite_fires(composite_alarm, {child_name: outcome, ...})
    evaluate(points("- - X - -"), Rule.of(3, 3, Treatment.MISSING), State.OK).state   # ALARM
"""

from __future__ import annotations

from rootwatch.simulate.alarm import Comparison, Evaluation, Rule, State, Treatment, evaluate, points, render
from rootwatch.simulate.composite import composite_fires
from rootwatch.simulate.datapoints import CannotSimulate, Datapoint, NoDatapoint, Transformation, datapoint
from rootwatch.simulate.one_event import BENCHMARK_SETTINGS, benchmark_minutes, fires_on_one_event
from rootwatch.simulate.outcome import Fires, Outcome

__all__ = ["BENCHMARK_SETTINGS", "CannotSimulate", "Comparison", "Datapoint", "Evaluation", "Fires", "NoDatapoint",
           "Outcome", "Rule", "State", "Transformation", "Treatment", "benchmark_minutes", "composite_fires",
           "datapoint", "evaluate", "fires_on_one_event", "points", "render"]
