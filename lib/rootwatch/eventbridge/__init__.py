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
from rootwatch.eventbridge.parser import EventPatternError, parse

__all__ = ["EventPattern", "EventPatternError", "compile_event_pattern", "parse"]


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
