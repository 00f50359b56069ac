"""What the simulator answers: does one counted event bring the alarm to ALARM, how, and if not,
which setting keeps it from doing so."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Fires(Enum):
    """The answer, by what the finding does with it: the first two pass, NEVER fails, the last two
    are evidence gaps (never a PASS)."""

    AS_BENCHMARK = "fires as the benchmark's alarm would"
    DIFFERENTLY = "fires, but not as the benchmark's alarm would"
    NEVER = "cannot fire on one event"
    UNKNOWN = "fires in some of the cases the configuration leaves open, not in all"
    CANNOT_SIMULATE = "cannot be simulated"


@dataclass(frozen=True)
class Outcome:
    verdict: Fires
    reason: str  # one sentence for the finding, naming the setting that decides
    datapoints: str = ""  # the simulated periods and states, oldest first, as text
    minutes: float | None = None  # worst-case minutes from the event to ALARM, when it fires
    later_by: float | None = None  # minutes later than the benchmark's alarm (0 or less: not later)
    prevented_by: tuple[str, ...] = ()  # settings that keep it from firing (NEVER, UNKNOWN) or unread
    notes: tuple[str, ...] = ()
    in_alarm_before: bool | None = False  # in ALARM before any event (True), in some cases (None)

    @property
    def fires(self) -> bool | None:
        """True or False when the simulation decides, None when it cannot."""
        return {Fires.AS_BENCHMARK: True, Fires.DIFFERENTLY: True, Fires.NEVER: False}.get(self.verdict)
