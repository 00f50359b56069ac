"""EventBridge event patterns, read by meaning: parse, match, and judge against root use.

The public surface::

    p = compile_event_pattern('{"detail": {"userIdentity": {"type": ["Root"]}}}')
    p.matches(event)                # EventBridge's documented semantics
    judge_root_monitor(p)           # Verdict: COVERS / NARROWER / NO / CANNOT_JUDGE, with root events

Nothing here calls AWS or reads the audit's frames: the collector and judge decide which rules to
read and what a verdict means for a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rootwatch.eventbridge.ast import Obj
from rootwatch.eventbridge.evaluate import matches as _matches
from rootwatch.eventbridge.meaning import Outcome, Verdict, judge
from rootwatch.eventbridge.parser import EventPatternError, parse

__all__ = ["EventPattern", "EventPatternError", "Outcome", "Verdict", "compile_event_pattern", "judge_root_monitor",
           "parse"]


@dataclass(frozen=True)
class EventPattern:
    text: str
    tree: Obj

    def matches(self, event: Any) -> bool:
        return _matches(self.tree, event)


def compile_event_pattern(pattern: str | dict) -> EventPattern:
    """Parse once; raises ``EventPatternError`` (one line, exit 2 at the CLI) for a malformed pattern."""
    tree = parse(pattern)
    text = pattern if isinstance(pattern, str) else json.dumps(pattern, sort_keys=True)
    return EventPattern(text, tree)


def judge_root_monitor(pattern: EventPattern | str | dict, account_id: str | None = None,
                       region: str | None = None) -> Verdict:
    """Whether a rule with this pattern matches every root use CloudTrail delivers to EventBridge
    (see ``meaning``). A pattern that cannot be read is CANNOT_JUDGE with the parser's one line, not
    an exception: it came from the audited account, and the audit goes on.

    ``account_id`` and ``region`` are the rule's own (its bus sees that account's and region's
    events); without them every account and region is a root event the pattern must match.
    """
    try:
        compiled = pattern if isinstance(pattern, EventPattern) else compile_event_pattern(pattern)
    except EventPatternError as exc:
        return Verdict(Outcome.CANNOT_JUDGE, exc.one_line())
    return judge(compiled.tree, account_id, region)
