"""One evaluation of a CloudWatch metric alarm over its evaluation range, as "Configuring how
CloudWatch alarms treat missing data" documents it
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html).

The range holds more periods than ``EvaluationPeriods`` (N), so that missing recent datapoints do
not hide older real ones:

- with at least N real datapoints in the range, the N most recent real ones decide (missing-data
  treatment unused): ALARM when ``DatapointsToAlarm`` (M) of them breach;
- with fewer, every real datapoint counts and N minus their number are filled with the treatment:
  ``breaching`` fills breaching, ``notBreaching`` fills good; ``missing`` counts the real ones
  only (all missing: INSUFFICIENT_DATA); ``ignore`` likewise, but keeps the current state unless
  M real datapoints breach or a real one is good (the tables: ``- - - - -`` and ``- - X - -``
  keep it, ``0 - - - -`` is OK);
- the premature-alarm rule ("Avoiding premature transitions to alarm state"): when every real
  datapoint in the range breaches and the oldest is at least M periods old, the alarm goes to ALARM
  even with fewer than M of them. ``- - X - -`` with 3 of 3 goes to ALARM; ``- - - - X`` does not
  yet, since the next datapoint may be good.

Every example of that page is a case in ``tests/simulate/cases/documented.yaml``. Where the page
says only "does not go to ALARM", the state given here (OK) is the model's, and the simulator's
verdicts depend only on ALARM or not.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from rootwatch.simulate.datapoints import CannotSimulate

Point = bool | None  # True breaching, False within the threshold, None missing
SYMBOLS = {True: "X", False: "0", None: "-"}  # the documentation's notation


class State(str, Enum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class Treatment(str, Enum):
    MISSING = "missing"
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"


class Comparison(str, Enum):
    GE = "GreaterThanOrEqualToThreshold"
    GT = "GreaterThanThreshold"
    LT = "LessThanThreshold"
    LE = "LessThanOrEqualToThreshold"

    def holds(self, value: float, threshold: float) -> bool:
        return {Comparison.GE: value >= threshold, Comparison.GT: value > threshold,
                Comparison.LT: value < threshold, Comparison.LE: value <= threshold}[self]

    @property
    def symbol(self) -> str:
        return {Comparison.GE: ">=", Comparison.GT: ">", Comparison.LT: "<", Comparison.LE: "<="}[self]


ANOMALY_BANDS = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold")


def comparison(name: str | None) -> Comparison:
    """The alarm's ``ComparisonOperator``; anomaly-detection bands depend on a learned model, so they
    cannot be simulated."""
    if name in ANOMALY_BANDS:
        raise CannotSimulate(f"ComparisonOperator {name} compares with an anomaly-detection band, which "
                             "depends on the metric's learned history", "ComparisonOperator")
    try:
        return Comparison(name)
    except ValueError:
        raise CannotSimulate(f"ComparisonOperator {name!r} is not one CloudWatch defines",
                             "ComparisonOperator") from None


def treatment(name: str | None) -> Treatment:
    """``TreatMissingData``, ``missing`` when omitted (the documented default)."""
    try:
        return Treatment(name or Treatment.MISSING.value)
    except ValueError:
        raise CannotSimulate(f"TreatMissingData {name!r} is not one CloudWatch defines", "TreatMissingData") from None


@dataclass(frozen=True)
class Rule:
    """M of N with a missing-data treatment, over an evaluation range of ``span`` periods."""

    evaluation_periods: int  # N
    datapoints_to_alarm: int  # M
    treatment: Treatment
    span: int  # the evaluation range; AWS publishes no rule for it, its examples use N + 2

    @classmethod
    def of(cls, evaluation_periods: int, datapoints_to_alarm: int | None, missing: Treatment,
           span: int | None = None) -> Rule:
        m = evaluation_periods if datapoints_to_alarm is None else datapoints_to_alarm
        if not 1 <= m <= evaluation_periods:
            raise CannotSimulate(f"DatapointsToAlarm {m} is not between 1 and EvaluationPeriods "
                                 f"{evaluation_periods}", "DatapointsToAlarm")
        return cls(evaluation_periods, m, missing, evaluation_periods + 2 if span is None else span)

    def __str__(self) -> str:
        return f"{self.datapoints_to_alarm} of {self.evaluation_periods}, TreatMissingData {self.treatment.value}"


@dataclass(frozen=True)
class Evaluation:
    state: State
    filled: int  # datapoints filled in with the treatment (the tables' second column)
    why: str


def evaluate(window: Sequence[Point], rule: Rule, previous: State) -> Evaluation:
    """One evaluation of ``window`` (the evaluation range, oldest first) by ``rule``; ``previous`` is
    the state ``ignore`` keeps."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    reals = list(itertools.islice(((age, p) for age, p in enumerate(reversed(window), start=1) if p is not None), n))
    if len(reals) == n:
        breaching = sum(p for _, p in reals)
        return _count(breaching, m, f"{breaching} of the {n} most recent datapoints breach", 0)
    filled = n - len(reals)
    breaching = sum(p for _, p in reals)
    if rule.treatment is Treatment.BREACHING:
        return _count(breaching + filled, m, f"{breaching} breaching + {filled} missing counted as breaching",
                      filled)
    if rule.treatment is Treatment.NOT_BREACHING:
        return _count(breaching, m, f"{breaching} breaching + {filled} missing counted as good", filled)
    if breaching >= m:
        return Evaluation(State.ALARM, filled, f"{breaching} real datapoints breach")
    if rule.treatment is Treatment.IGNORE and breaching == len(reals):
        return Evaluation(previous, filled, "no good datapoint, too few breaching: ignore keeps the state")
    if not reals:
        return Evaluation(State.INSUFFICIENT_DATA, filled, "no datapoint in the evaluation range")
    if premature(reals, m):
        return Evaluation(State.ALARM, filled, "the premature-alarm rule")
    return Evaluation(State.OK, filled, f"{breaching} breaching of {len(reals)} real, fewer than {m}")


def premature(reals: Sequence[tuple[int, bool]], datapoints_to_alarm: int) -> bool:
    """Every real datapoint (age 1 = most recent) breaches and the oldest is at least M periods old:
    had the periods since been breaching, M would be met, and nothing in the range says otherwise."""
    return all(p for _, p in reals) and max(age for age, _ in reals) >= datapoints_to_alarm


def points(text: str) -> tuple[Point, ...]:
    """The documentation's notation, ``0 - X - X`` (oldest first), as points."""
    lookup = {v: k for k, v in SYMBOLS.items()} | {"O": False}
    return tuple(lookup[token] for token in text.split())


def render(window: Sequence[Point]) -> str:
    """The documentation's notation; a long range with repeats counted (``-*1437 X - -``), so that a
    day of one-minute periods stays one readable line."""
    if len(window) <= 12:
        return " ".join(SYMBOLS[p] for p in window)
    runs = [(SYMBOLS[p], len(list(group))) for p, group in itertools.groupby(window)]
    return " ".join(symbol if count == 1 else f"{symbol}*{count}" for symbol, count in runs)


def _count(breaching: int, m: int, why: str, filled: int) -> Evaluation:
    return Evaluation(State.ALARM if breaching >= m else State.OK, filled, why)
