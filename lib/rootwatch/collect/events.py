"""EventBridge rules of the default bus and their targets: the monitors beside the CIS chain."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link


def rules(rec: Recorder, region: str) -> list[dict] | None:
    """The default bus's rules: CloudTrail delivers an account's management events to that bus only."""
    pages = rec.pages(region, "events", "ListRules", Link.ALTERNATIVE_MONITOR)
    return None if pages is None else [r for page in pages for r in page.get("Rules", [])]


def targets(rec: Recorder, region: str, rule: str) -> list[dict] | None:
    pages = rec.pages(region, "events", "ListTargetsByRule", Link.ALTERNATIVE_MONITOR, Rule=rule)
    return None if pages is None else [t for page in pages for t in page.get("Targets", [])]
