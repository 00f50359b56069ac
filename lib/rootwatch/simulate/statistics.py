"""The statistic an alarm takes of one period's samples.

The five standard statistics are exact. A percentile (``pNN``) of identical samples is that value
(one event alone: every percentile equals its datapoint); of differing samples CloudWatch's exact
estimator is not documented, so the value is only known to lie between the smallest and the
largest sample, and a comparison that depends on where is left undecided rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rootwatch.simulate.datapoints import CannotSimulate

PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0+)?)\Z")
STANDARD: dict[str, Callable[[Sequence[float]], float]] = {
    "Sum": sum,
    "Average": lambda s: sum(s) / len(s),
    "Minimum": min,
    "Maximum": max,
    "SampleCount": len,
}


@dataclass(frozen=True)
class Interval:
    """A statistic's value, exact when ``low == high``."""

    low: float
    high: float

    def __add__(self, other: Interval) -> Interval:
        return Interval(self.low + other.low, self.high + other.high)

    def __str__(self) -> str:
        return number_text(self.low) if self.low == self.high else f"{number_text(self.low)}..{number_text(self.high)}"


@dataclass(frozen=True)
class Statistic:
    name: str  # "Sum" ... or "p99"
    extended: bool  # given as ExtendedStatistic (named so in findings)

    @property
    def percentile(self) -> float | None:
        """The percentile as a fraction (p99 → 0.99), ``None`` for a standard statistic."""
        return float(self.name[1:]) / 100 if self.extended else None

    @property
    def setting(self) -> str:
        return "ExtendedStatistic" if self.extended else "Statistic"

    def of(self, samples: Sequence[float]) -> Interval:
        if not self.extended:
            value = float(STANDARD[self.name](samples))
            return Interval(value, value)
        return Interval(min(samples), max(samples))

    def too_few(self, samples: int) -> bool:
        """Fewer samples than "Percentile-based alarms and low data samples" requires before an alarm
        with ``EvaluateLowSampleCountPercentile: ignore`` evaluates the percentile: 10/(1-p) for p in
        [0.5, 1), 10/p below 0.5."""
        p = self.percentile
        if p is None:
            return False
        if p <= 0 or p >= 1:
            raise CannotSimulate(f"{self.name} with EvaluateLowSampleCountPercentile ignore: the documented "
                                 "sample minimum covers percentiles strictly between 0 and 100",
                                 "EvaluateLowSampleCountPercentile")
        return samples < (10 / (1 - p) if p >= 0.5 else 10 / p)


def statistic(standard: str | None, extended: str | None) -> Statistic:
    """The alarm's ``Statistic`` or ``ExtendedStatistic``; raises ``CannotSimulate`` for the extended
    statistics other than percentiles (trimmed means, counts ...)."""
    if standard:
        if standard not in STANDARD:
            raise CannotSimulate(f"Statistic {standard!r} is not one CloudWatch defines", "Statistic")
        return Statistic(standard, extended=False)
    if extended and PERCENTILE.match(extended):
        return Statistic(extended, extended=True)
    if extended:
        raise CannotSimulate(f"ExtendedStatistic {extended!r} is not simulated (only percentiles pNN are)",
                             "ExtendedStatistic")
    raise CannotSimulate("the alarm names neither Statistic nor ExtendedStatistic", "Statistic")


def number_text(value: float) -> str:
    """1.0 as ``1``, 0.5 as ``0.5``: numbers as people write thresholds."""
    return str(int(value)) if value.is_integer() else f"{value:g}"
