"""Trails, their status and event selectors; CloudTrail event history (LookupEvents)."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Window


def trails(rec: Recorder, regions: list[str]) -> list[dict]:
    """Every trail visible from ``regions`` (shadow trails included), once per ARN, enriched with
    ``rw:status``, ``rw:selectors`` and ``rw:seenIn``; status and selectors are read in the trail's
    home region, as AWS requires for shadow trails."""
    by_arn: dict[str, dict] = {}
    for region in regions:
        page = rec.call(region, "cloudtrail", "DescribeTrails", "trail", includeShadowTrails=True)
        for trail in (page or {}).get("trailList", []):
            by_arn.setdefault(trail["TrailARN"], {**trail, "rw:seenIn": []})["rw:seenIn"].append(region)
    for arn, trail in by_arn.items():
        home = trail.get("HomeRegion") or trail["rw:seenIn"][0]
        trail["rw:status"] = rec.call(home, "cloudtrail", "GetTrailStatus", "logging", Name=arn)
        trail["rw:selectors"] = rec.call(home, "cloudtrail", "GetEventSelectors", "management-events", TrailName=arn)
    return list(by_arn.values())


def lookup_events(rec: Recorder, region: str, window: Window, attributes: list[dict]) -> list[dict] | None:
    """Event history records (last 90 days only) for one lookup attribute, as CloudTrail JSON."""
    pages = rec.pages(region, "cloudtrail", "LookupEvents", "root-events", LookupAttributes=attributes,
                      StartTime=window.start, EndTime=window.end)
    if pages is None:
        return None
    return [item["CloudTrailEvent"] for page in pages for item in page.get("Events", [])]
