"""The chain's history over the window (issue 19): did the control operate throughout, not only today?

``today(...)`` reads the collected state; ``parse_changes(records)`` reads the CloudTrail management
events that change the chain; ``reconstruct`` rebuilds the configuration over every interval
between them; ``operation`` judges each interval with the caller's judge and returns the broken
intervals per link, with the change that broke and the one that fixed each, the share of the
window each link operated and the root events that fell inside a break; ``witness`` sets AWS
Config's configuration items beside the reconstruction. Nothing here calls AWS.
"""

from __future__ import annotations

from rootwatch.history.changes import CHANGES, Change, Edit, parse, parse_changes
from rootwatch.history.operation import (CHAIN, FAIL, GAP, PASS, Break, Judge, LinkOperation, Operation, RootEvent,
                                         RootInBreak, operation)
from rootwatch.history.replay import Coverage, Interval, reconstruct
from rootwatch.history.state import LINKS, Key, Kind, Resource, Snapshot, today
from rootwatch.history.witness import NOT_CONFIG, ConfigItem, Disagreement, Witness, config_items, witness

__all__ = ["CHAIN", "CHANGES", "FAIL", "GAP", "LINKS", "NOT_CONFIG", "PASS", "Break", "Change", "ConfigItem",
           "Coverage", "Disagreement", "Edit", "Interval", "Judge", "Key", "Kind", "LinkOperation", "Operation",
           "Resource", "RootEvent", "RootInBreak", "Snapshot", "Witness", "config_items", "operation", "parse",
           "parse_changes", "reconstruct", "today", "witness"]
