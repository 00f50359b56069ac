"""A composite alarm over its children's outcomes, where its rule is one child or children joined by
OR (``ALARM("a") OR ALARM("b")``): it goes to ALARM with the first child that does, and stays in
ALARM while any child is (so a child that may sit in ALARM leaves the answer open, unless the
composite's own ``StateValue`` says it is not in ALARM). ``AND``, ``NOT``, ``OK(...)``,
``INSUFFICIENT_DATA(...)``, ``TRUE`` / ``FALSE`` and an ``ActionsSuppressor`` depend on the
children's joint history: not simulated."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from rootwatch.simulate.outcome import Fires, Outcome

CHILD = r"""ALARM\(\s*(?:"([^"]*)"|'([^']*)'|([^()\s"']+))\s*\)"""
RULE = re.compile(rf"\s*{CHILD}(?:\s+OR\s+{CHILD})*\s*\Z")
ONE_CHILD = re.compile(CHILD)


def children_of(rule: str) -> list[str] | None:
    """The alarm names an OR-only rule names (an ARN's alarm name), or None for any other rule."""
    if not RULE.match(rule):
        return None
    return [next(g for g in m.groups() if g is not None).rsplit(":alarm:", 1)[-1] for m in ONE_CHILD.finditer(rule)]


def composite_fires(alarm: Any, children: Mapping[str, Outcome]) -> Outcome:
    """Does one event bring the composite ``alarm`` (a ``DescribeAlarms`` ``CompositeAlarms`` entry)
    to ALARM, given each child's outcome by alarm name? A child without an outcome counts as one
    that cannot be simulated."""
    if not isinstance(alarm, Mapping):
        return Outcome(Fires.CANNOT_SIMULATE, "the composite alarm is not an object", prevented_by=("AlarmRule",))
    name = alarm.get("AlarmName", "")
    names = children_of(str(alarm.get("AlarmRule", "")))
    if names is None:
        return Outcome(Fires.CANNOT_SIMULATE, f"composite alarm {name} cannot be simulated: its rule is not "
                                              "one alarm or alarms joined by OR", prevented_by=("AlarmRule",))
    if alarm.get("ActionsSuppressor"):
        return Outcome(Fires.CANNOT_SIMULATE, f"composite alarm {name} cannot be simulated: alarm "
                                              f"{alarm['ActionsSuppressor']} can suppress its actions "
                                              "(ActionsSuppressor)", prevented_by=("ActionsSuppressor",))
    outcomes = {n: children.get(n) or Outcome(Fires.CANNOT_SIMULATE, f"child alarm {n} was not simulated",
                                              prevented_by=("AlarmRule",), in_alarm_before=None) for n in names}
    stuck = [n for n, o in outcomes.items() if o.in_alarm_before]
    if stuck:
        return Outcome(Fires.NEVER, f"composite alarm {name} is in ALARM before any event, because child "
                                    f"{stuck[0]} is ({outcomes[stuck[0]].reason}), so the event changes nothing",
                       outcomes[stuck[0]].datapoints, prevented_by=outcomes[stuck[0]].prevented_by,
                       in_alarm_before=True)
    # a child that may sit in ALARM would keep the composite there, unless the composite is not in ALARM now
    maybe = [n for n, o in outcomes.items() if o.in_alarm_before is None]
    if maybe and alarm.get("StateValue") not in ("OK", "INSUFFICIENT_DATA"):
        return Outcome(Fires.UNKNOWN, f"composite alarm {name} may be in ALARM before any event, as child "
                                      f"{maybe[0]} may be ({outcomes[maybe[0]].reason})", outcomes[maybe[0]].datapoints,
                       prevented_by=outcomes[maybe[0]].prevented_by, in_alarm_before=None)
    firing = sorted((o for o in outcomes.values() if o.fires),
                    key=lambda o: (o.verdict is not Fires.AS_BENCHMARK, o.minutes or 0))
    if firing:
        first = firing[0]
        return Outcome(first.verdict, f"composite alarm {name} goes to ALARM with its child: {first.reason}",
                       first.datapoints, first.minutes, first.later_by, notes=first.notes)
    if all(o.verdict is Fires.NEVER for o in outcomes.values()):
        return Outcome(Fires.NEVER, f"composite alarm {name} cannot fire on one event: no child can ("
                                    + "; ".join(o.reason for o in outcomes.values()) + ")",
                       prevented_by=tuple(dict.fromkeys(s for o in outcomes.values() for s in o.prevented_by)))
    open_ = next(o for o in outcomes.values() if o.fires is None)
    return Outcome(open_.verdict, f"composite alarm {name}: {open_.reason}", open_.datapoints,
                   prevented_by=open_.prevented_by)
