"""Push exactly one counted event through the filter's datapoint and the alarm's evaluation, period
after period, until the event's datapoint leaves the evaluation range.

What the event meets besides its own datapoint is not in the configuration, so every answer is
taken over the cases it could meet, and only an answer that holds in all of them is definite:

- the event may not be alone: its period may hold 2 or 1,000 counted events (a root session is
  rarely one call), and an alarm that fires on a lone event only (``LessThanOrEqualToThreshold 1``)
  does not watch root activity;
- with a ``defaultValue``, the other log events of the group publish it: none, one or a thousand
  in the event's period and in every other one (a count alarm on ``Average`` or ``M of N`` reads a
  different metric in a busy group than in a quiet one);
- the other metrics of a summed expression are silent or carry 0 in every period;
- with ``TreatMissingData: ignore`` and no ``StateValue``, the alarm may be in ALARM already.

Timing follows the evaluation window ("Alarm evaluation window"): the default sliding window is
evaluated every minute and ends at that minute, so a datapoint counts from the first evaluation
after it; a wall-clock window sees only whole clock-aligned periods. Minutes are the worst case
from the event to the evaluation that goes to ALARM.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from rootwatch.simulate.alarm import Comparison, Evaluation, Point, Rule, State, Treatment, evaluate, render
from rootwatch.simulate.datapoints import (
    CannotSimulate,
    Datapoint,
    NoDatapoint,
    Transformation,
    datapoint,
    mapping,
    mappings,
)
from rootwatch.simulate.model import AlarmModel, Operand, model_of
from rootwatch.simulate.outcome import Fires, Outcome
from rootwatch.simulate.statistics import Interval, number_text, statistic

# CIS's alarm, as the benchmark's remediation creates it (put-metric-alarm)
BENCHMARK_SETTINGS = {"Statistic": "Sum", "Period": 300, "Threshold": 1.0,
                      "ComparisonOperator": "GreaterThanOrEqualToThreshold", "EvaluationPeriods": 1}
OTHER_EVENTS = (0, 1, 1000)  # other log events in a period, each publishing the defaultValue
COUNTED = (1, 2, 1000)  # counted events in the event's period, each publishing the event's datapoint
EVALUATION_EVERY = 60  # seconds: a sliding-window alarm on a period of a minute or more


@dataclass(frozen=True)
class Scenario:
    """What the event meets that the configuration does not say."""

    counted: int = 1  # counted events in the event's period (the event and others like it)
    at_event: int = 0  # other log events in the event's period
    elsewhere: int = 0  # other log events in every other period
    others: float | None = None  # what the expression's other metrics carry per period (None: nothing)
    before: State = State.INSUFFICIENT_DATA  # the state ignore keeps

    def describe(self, default: float | None, summed: bool, ignore: bool) -> str:
        parts = [] if self.counted == 1 else [f"the event's period holds {self.counted} counted events"]
        if default is not None:
            parts.append("the log group receives no other event" if not (self.at_event or self.elsewhere) else
                         f"the log group receives {self.at_event} other event(s) in the event's period and "
                         f"{self.elsewhere} in every other period (each publishing defaultValue "
                         f"{number_text(default)})")
        if summed:
            parts.append("the expression's other metrics are silent" if self.others is None
                         else f"the expression's other metrics carry {number_text(self.others)} every period")
        if ignore:
            parts.append(f"the alarm is in {self.before.value} before the event")
        return " and ".join(parts)


@dataclass(frozen=True)
class Run:
    """One scenario, evaluation after evaluation."""

    scenario: Scenario
    event_value: Interval | None  # the series' value in the event's period (None: no datapoint)
    hit: Point | str  # the event's period: breaching, good, missing, or "?" (the statistic cannot say)
    rest: Point | str  # every other period
    first: Evaluation | None  # before the event
    steps: tuple[tuple[int, Evaluation], ...] = ()  # (age of the event's datapoint, evaluation)
    fired_at: int | None = None  # the age of the event's datapoint when ALARM is reached

    @property
    def undecided(self) -> bool:
        return "?" in (self.hit, self.rest)

    @property
    def before(self) -> State:
        return self.first.state if self.first else self.scenario.before

    @property
    def why(self) -> str:
        if self.first and self.first.state is State.ALARM:
            return self.first.why
        return self.steps[-1][1].why if self.steps else "the statistic's value is not known exactly"

    def window(self, span: int, age: int | None) -> list[Point]:
        """The evaluation range with the event's datapoint ``age`` periods old (None: before it)."""
        window: list[Point] = [self.rest] * span  # type: ignore[list-item]
        if age is not None:
            window[span - age] = self.hit  # type: ignore[assignment]
        return window


class _Sim:
    """One alarm and one transformation, with the event's datapoint."""

    def __init__(self, model: AlarmModel, transformation: Transformation, point: Datapoint) -> None:
        self.model, self.t, self.point = model, transformation, point
        self.receives = tuple(_receives(op, point) for op in model.operands)
        self._timelines: dict[tuple[Point, Point, State], Run] = {}

    def scenarios(self) -> list[Scenario]:
        traffic = [(0, 0)] if self.t.default is None else list(itertools.product(OTHER_EVENTS, OTHER_EVENTS))
        others = [None, 0.0] if not all(self.receives) else [None]
        ignore = self.model.rule.treatment is Treatment.IGNORE
        before = [self.model.state] if self.model.state else [State.INSUFFICIENT_DATA, State.ALARM]
        return [Scenario(c, at, el, o, b) for c, (at, el), o, b in
                itertools.product(COUNTED, traffic, others, before if ignore else [State.INSUFFICIENT_DATA])]

    def value(self, scenario: Scenario, with_event: bool) -> Interval | None:
        """The series' value in one period: the event's, or any other."""
        values = [v for op, recv in zip(self.model.operands, self.receives, strict=True)
                  if (v := self._operand(op, recv, scenario, with_event)) is not None]
        return sum(values[1:], values[0]) if values else None

    def _operand(self, op: Operand, receives: bool, scenario: Scenario, with_event: bool) -> Interval | None:
        if not receives:
            return None if scenario.others is None else Interval(scenario.others, scenario.others)
        count = scenario.at_event if with_event else scenario.elsewhere
        samples = [self.point.value] * (scenario.counted if with_event else 0)
        samples += [self.t.default] * count if self.t.default is not None else []
        if not samples or (self.model.low_sample_ignore and op.statistic.too_few(len(samples))):
            return None
        return op.statistic.of(samples)

    def breach(self, value: Interval | None) -> Point | str:
        """True, False, None (missing), or "?" when the statistic's bounds straddle the threshold."""
        if value is None:
            return None
        low, high = (self.model.comparison.holds(v, self.model.threshold) for v in (value.low, value.high))
        return low if low == high else "?"

    def run(self, scenario: Scenario) -> Run:
        """Evaluate until the event's datapoint leaves the range, stopping at the first transition to
        ALARM (an alarm in ALARM before the event never transitions: nobody is told)."""
        event_value = self.value(scenario, True)
        run = Run(scenario, event_value, self.breach(event_value), self.breach(self.value(scenario, False)), None)
        if run.undecided:
            return run
        # the evaluations depend on the scenario only through these three: computed once for all the
        # scenarios that share them (a day of minute periods costs a day's evaluations, not 18 of them)
        key = (run.hit, run.rest, scenario.before)
        if key not in self._timelines:
            self._timelines[key] = self._timeline(run)
        done = self._timelines[key]
        return replace(run, first=done.first, steps=done.steps, fired_at=done.fired_at)

    def _timeline(self, run: Run) -> Run:
        span, rule = self.model.rule.span, self.model.rule
        first = evaluate(run.window(span, None), rule, run.scenario.before)
        steps: list[tuple[int, Evaluation]] = []
        for age in changing_ages(rule):
            steps.append((age, evaluate(run.window(span, age), rule, steps[-1][1].state if steps else first.state)))
            if first.state is not State.ALARM and steps[-1][1].state is State.ALARM:
                return replace(run, first=first, steps=tuple(steps), fired_at=age)
        return replace(run, first=first, steps=tuple(steps))

    def period_text(self, run: Run) -> str:
        stat = " + ".join(op.statistic.name for op, recv in zip(self.model.operands, self.receives, strict=True)
                          if recv)
        if run.event_value is None:
            value = "no datapoint" + (" (EvaluateLowSampleCountPercentile ignore: too few samples)"
                                      if self.model.low_sample_ignore else "")
        else:
            value = f"{stat} = {run.event_value}"
        verdict = {True: "breaching", False: "not breaching", None: "missing", "?": "undecided"}[run.hit]
        return (f"the event's {self.model.period} s period: {value}, {verdict} "
                f"({self.model.comparison.symbol} {number_text(self.model.threshold)})")

    def trace(self, run: Run) -> str:
        """The deciding run as text: the event's period, the state before it, then the evaluations
        where the state can change."""
        span = self.model.rule.span
        lines = [self.period_text(run)]
        if run.first:
            lines.append(f"before the event: [{render(run.window(span, None))}] -> {run.first.state.value}")
        last = 0
        for age, step in run.steps:
            same = " (the evaluations in between: the same)" if age > last + 1 else ""
            lines.append(f"{_clock(self.model, age)}{same}: [{render(run.window(span, age))}] -> {step.state.value} "
                         f"({step.why})")
            last = age
        return "; ".join(lines)


def changing_ages(rule: Rule) -> list[int]:
    """The ages of the event's datapoint at which an evaluation can differ from the one before.

    The range holds one event and one value everywhere else. If that value is real, the N most
    recent real datapoints hold the event exactly while it is at most N old; if it is missing, the
    event is the only real datapoint and only the premature-alarm rule looks at its age (from M on).
    So the evaluations change only at ages 1, M and N + 1: evaluating there gives every state the
    alarm passes through (``tests/simulate`` checks it against every age) at a cost that does not
    grow with the square of a day of one-minute periods."""
    return sorted({age for age in (1, rule.datapoints_to_alarm, rule.evaluation_periods + 1) if age <= rule.span})


def fires_on_one_event(metric_filter: Mapping[str, Any], alarm: Mapping[str, Any],
                       event: Mapping[str, Any]) -> Outcome:
    """Does one event that ``metric_filter``'s pattern matches bring ``alarm`` to ALARM?

    ``metric_filter`` is a ``DescribeMetricFilters`` entry, ``alarm`` a ``DescribeAlarms`` metric
    alarm (``StateValue`` included when known), ``event`` the counted event. The caller has
    matched the pattern; this reads only the metric transformation and the alarm."""
    try:
        model = model_of(alarm)
        transformation = _transformation(metric_filter)
        return _simulate(model, transformation, event)
    except CannotSimulate as error:
        name = alarm.get("AlarmName", "") if isinstance(alarm, Mapping) else ""
        return Outcome(Fires.CANNOT_SIMULATE, f"alarm {name} cannot be simulated: {error.reason}",
                       prevented_by=(error.setting,), in_alarm_before=None)


def _transformation(metric_filter: Any) -> Transformation:
    entries = mappings(mapping(metric_filter, "the metric filter").get("metricTransformations"),
                       "metricTransformations")
    if len(entries) != 1:
        raise CannotSimulate(f"the filter has {len(entries)} metric transformations; CloudWatch Logs allows one",
                             "metricTransformations")
    return Transformation.from_api(entries[0])


def _simulate(model: AlarmModel, t: Transformation, event: Mapping[str, Any]) -> Outcome:
    point = datapoint(t, event)
    if isinstance(point, NoDatapoint):
        return Outcome(Fires.NEVER, f"one event cannot bring alarm {model.name} to ALARM: {point.reason}",
                       "the event publishes no datapoint", prevented_by=(point.setting,),
                       in_alarm_before=_silent_alarm(model, t))
    sim = _Sim(model, t, point)
    if not any(sim.receives):
        return _unseen(sim)
    runs = [sim.run(s) for s in sim.scenarios()]
    if all(r.fired_at is not None for r in runs):
        return _fires(sim, runs)
    causes = _causes(model, t, event)
    alone = [r for r in runs if r.scenario.counted == 1]
    lone_fires = {r.fired_at is not None for r in alone}
    if any(r.undecided for r in runs) or lone_fires == {True, False}:
        return _unknown(sim, runs, causes)
    if lone_fires == {True}:
        return _lone(sim, next(r for r in runs if r.fired_at is None), causes, runs)
    return _never(sim, alone[0], causes, runs)


def _fires(sim: _Sim, runs: list[Run]) -> Outcome:
    worst = max(runs, key=lambda r: r.fired_at or 0)
    minutes = _seconds(sim.model, worst.fired_at or 1) / 60
    later = minutes - benchmark_minutes()
    notes = []
    if later > 0:
        notes.append(f"alarm {sim.model.name} goes to ALARM {number_text(later)} minute(s) later than the "
                     f"benchmark's alarm ({number_text(minutes)} instead of {number_text(benchmark_minutes())} "
                     f"minute(s) after the event), by {worst.why}")
    verdict = Fires.AS_BENCHMARK if not notes else Fires.DIFFERENTLY
    reason = (f"one event brings alarm {sim.model.name} ({sim.model.describe()}) to ALARM within "
              f"{number_text(minutes)} minute(s)")
    return Outcome(verdict, reason, sim.trace(worst), minutes, later, notes=tuple(notes))


def _never(sim: _Sim, run: Run, causes: tuple[str, ...], runs: list[Run]) -> Outcome:
    if run.before is State.ALARM:
        detail = (f"it is in ALARM before any event ({run.why}), so the event changes nothing and "
                  "nobody is notified")
    elif run.hit is not True:
        detail = sim.period_text(run)
    else:
        detail = (f"its one breaching datapoint never reaches ALARM with {sim.model.rule} "
                  f"(last evaluation: {run.why})")
    reason = f"one event cannot bring alarm {sim.model.name} to ALARM ({_prevented(causes)}): {detail}"
    return Outcome(Fires.NEVER, reason, sim.trace(run), prevented_by=causes,
                   in_alarm_before=_all_or_some([r.before is State.ALARM for r in runs]))


def _lone(sim: _Sim, run: Run, causes: tuple[str, ...], runs: list[Run]) -> Outcome:
    """Fires on a lone event only: not on root activity, which is rarely one call."""
    reason = (f"one event alone brings alarm {sim.model.name} to ALARM, but not when "
              f"{run.scenario.describe(sim.t.default, False, False)} ({_prevented(causes)}): "
              f"{sim.period_text(run)}; root activity is rarely a single call")
    return Outcome(Fires.NEVER, reason, sim.trace(run), prevented_by=causes,
                   in_alarm_before=_all_or_some([r.before is State.ALARM for r in runs]))


def _unknown(sim: _Sim, runs: list[Run], causes: tuple[str, ...]) -> Outcome:
    describe = _describer(sim)
    undecided = next((r for r in runs if r.undecided), None)
    if undecided:
        reason = (f"whether one event brings alarm {sim.model.name} to ALARM depends on how CloudWatch "
                  f"computes {sim.model.describe()} over differing samples, when {describe(undecided)}")
        shown = undecided
    else:
        yes = next(r for r in runs if r.fired_at is not None)
        shown = next(r for r in runs if r.fired_at is None)
        reason = (f"one event brings alarm {sim.model.name} to ALARM when {describe(yes)}, but not when "
                  f"{describe(shown)} ({_prevented(causes)})")
    return Outcome(Fires.UNKNOWN, reason, sim.trace(shown), prevented_by=causes,
                   in_alarm_before=_all_or_some([r.before is State.ALARM for r in runs]))


def _unseen(sim: _Sim) -> Outcome:
    """No metric the alarm reads receives the datapoint: another metric, dimension set or unit."""
    point = sim.point
    op = next((o for o in sim.model.operands if o.metric.same_metric(point.metric)), sim.model.operands[0])
    if not op.metric.same_metric(point.metric):
        setting, detail = "MetricName", f"the filter publishes {point.metric}, the alarm reads {op.metric}"
    elif op.metric.dimensions != point.metric.dimensions:
        setting, detail = "Dimensions", (f"the filter publishes {point.metric}, the alarm reads {op.metric}: "
                                         "another set of dimensions is another metric")
    else:
        setting, detail = "Unit", (f"the alarm reads Unit {op.unit}, the filter publishes Unit {point.unit}: "
                                   "the alarm's series never has a datapoint")
    silent = evaluate([None] * sim.model.rule.span, sim.model.rule, sim.model.state or State.INSUFFICIENT_DATA)
    # the series the alarm reads is not this filter's: what else publishes to it is not known
    return Outcome(Fires.NEVER, f"one event cannot bring alarm {sim.model.name} to ALARM (prevented by "
                                f"{setting}): {detail}, so it stays {silent.state.value}",
                   f"[{render([None] * sim.model.rule.span)}] -> {silent.state.value}", prevented_by=(setting,),
                   in_alarm_before=None)


def _silent_alarm(model: AlarmModel, t: Transformation) -> bool | None:
    """Is the alarm in ALARM while its filter's metric publishes nothing? None when the metric may
    carry other datapoints (a defaultValue, a sum's other metrics) or ignore keeps an unknown state."""
    if t.default is not None or len(model.operands) > 1 or (
            model.rule.treatment is Treatment.IGNORE and model.state is None):
        return None
    silent = evaluate([None] * model.rule.span, model.rule, model.state or State.INSUFFICIENT_DATA)
    return silent.state is State.ALARM


Config = tuple[AlarmModel, Transformation]


@dataclass(frozen=True)
class _Change:
    """One setting put back to the benchmark's value."""

    name: str
    differs: Callable[[AlarmModel, Transformation], bool]
    apply: Callable[[AlarmModel, Transformation], Config]


def _sum(m: AlarmModel, t: Transformation) -> Config:
    return replace(m, operands=tuple(replace(op, statistic=SUM) for op in m.operands)), t


SUM = statistic("Sum", None)
CHANGES = (
    _Change("metricValue", lambda m, t: t.value != "1", lambda m, t: (m, replace(t, value="1"))),
    _Change("defaultValue", lambda m, t: t.default is not None, lambda m, t: (m, replace(t, default=None))),
    _Change("Statistic", lambda m, t: any(op.statistic != SUM and not op.statistic.extended
                                          for op in m.operands), _sum),
    _Change("ExtendedStatistic", lambda m, t: any(op.statistic.extended for op in m.operands), _sum),
    _Change("EvaluateLowSampleCountPercentile", lambda m, t: m.low_sample_ignore,
            lambda m, t: (replace(m, low_sample_ignore=False), t)),
    _Change("Period", lambda m, t: m.period != BENCHMARK_SETTINGS["Period"],
            lambda m, t: (replace(m, period=int(BENCHMARK_SETTINGS["Period"])), t)),
    _Change("Threshold", lambda m, t: m.threshold != BENCHMARK_SETTINGS["Threshold"],
            lambda m, t: (replace(m, threshold=float(BENCHMARK_SETTINGS["Threshold"])), t)),
    _Change("ComparisonOperator", lambda m, t: m.comparison is not Comparison.GE,
            lambda m, t: (replace(m, comparison=Comparison.GE), t)),
    _Change("DatapointsToAlarm", lambda m, t: m.rule.datapoints_to_alarm > 1,
            lambda m, t: (replace(m, rule=replace(m.rule, datapoints_to_alarm=1)), t)),
    _Change("TreatMissingData", lambda m, t: m.rule.treatment is not Treatment.MISSING,
            lambda m, t: (replace(m, rule=replace(m.rule, treatment=Treatment.MISSING)), t)),
)


def _causes(model: AlarmModel, t: Transformation, event: Mapping[str, Any]) -> tuple[str, ...]:
    """The settings that keep one event from firing the alarm (``A+B``: those two together): those
    that, put back alone to the benchmark's value, let it fire in every case, else a lone event in
    some case; else the pairs that do; else every setting that differs from the benchmark's."""
    changes = [c for c in CHANGES if c.differs(model, t)]
    for size in (1, 2):
        tried = []
        for combo in itertools.combinations(changes, size):
            m, tr = model, t
            for change in combo:
                m, tr = change.apply(m, tr)
            tried.append(("+".join(c.name for c in combo), _fires_in(m, tr, event)))
        for wanted in (_everywhere, _alone_somewhere):
            fixes = tuple(name for name, fired in tried if wanted(fired))
            if fixes:
                return fixes
    return ("+".join(c.name for c in changes),) if changes else ()


def _everywhere(fired: dict[Scenario, bool]) -> bool:
    return bool(fired) and all(fired.values())


def _alone_somewhere(fired: dict[Scenario, bool]) -> bool:
    return any(f for s, f in fired.items() if s.counted == 1)


def _fires_in(model: AlarmModel, t: Transformation, event: Mapping[str, Any]) -> dict[Scenario, bool]:
    """For each scenario, whether one event fires the alarm (empty: it publishes nothing it reads)."""
    try:
        point = datapoint(t, event)
    except CannotSimulate:
        return {}
    if isinstance(point, NoDatapoint):
        return {}
    sim = _Sim(model, t, point)
    return {s: sim.run(s).fired_at is not None for s in sim.scenarios()} if any(sim.receives) else {}


def _receives(op: Operand, point: Datapoint) -> bool:
    return op.metric == point.metric and (op.unit is None or op.unit == point.unit)


def _seconds(model: AlarmModel, age: int) -> int:
    """Worst case from the event to the evaluation that sees its datapoint at ``age``."""
    if model.wall_clock:
        return age * model.period
    return (age - 1) * model.period + EVALUATION_EVERY


def _clock(model: AlarmModel, age: int) -> str:
    return f"{number_text(_seconds(model, age) / 60)} min after"


def _describer(sim: _Sim) -> Callable[[Run], str]:
    summed = not all(sim.receives)
    ignore = sim.model.rule.treatment is Treatment.IGNORE and sim.model.state is None
    return lambda run: run.scenario.describe(sim.t.default, summed, ignore) or "in every case"


def _prevented(causes: tuple[str, ...]) -> str:
    return "prevented by " + " or ".join(causes) if causes else "no setting differs from the benchmark's"


def _all_or_some(flags: list[bool]) -> bool | None:
    return True if all(flags) else (None if any(flags) else False)


@cache
def benchmark_minutes() -> float:
    """How soon the benchmark's own alarm fires on one event, by the same simulation."""
    t = Transformation.from_api({"metricNamespace": "CIS", "metricName": "Root", "metricValue": "1"})
    model = model_of({"AlarmName": "benchmark", "Namespace": "CIS", "MetricName": "Root", **BENCHMARK_SETTINGS})
    point = datapoint(t, {})
    assert isinstance(point, Datapoint)
    age = _Sim(model, t, point).run(Scenario()).fired_at
    assert age is not None
    return _seconds(model, age) / 60
