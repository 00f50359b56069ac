"""Trails, their status and event selectors; CloudTrail event history (LookupEvents)."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link, Window


def trail_details(rec: Recorder, trails: list[dict]) -> None:
    """Add ``rw:status`` and ``rw:selectors`` to each trail, read in the trail's home region (as AWS
    requires for shadow trails); ``None`` where the call failed (a gap is recorded)."""
    for trail in trails:
        arn = trail["TrailARN"]
        home = trail.get("HomeRegion") or trail["rw:seenIn"][0]
        trail["rw:status"] = rec.call(home, "cloudtrail", "GetTrailStatus", Link.LOGGING, Name=arn)
        trail["rw:selectors"] = rec.call(home, "cloudtrail", "GetEventSelectors", Link.MANAGEMENT_EVENTS, TrailName=arn)


def lookup_events(rec: Recorder, region: str, window: Window, attributes: list[dict]) -> list[dict] | None:
    """Event history records (last 90 days only) for one lookup attribute, as CloudTrail JSON."""
    pages = rec.pages(region, "cloudtrail", "LookupEvents", Link.ROOT_EVENTS, LookupAttributes=attributes,
                      StartTime=window.start, EndTime=window.end)
    if pages is None:
        return None
    return [item["CloudTrailEvent"] for page in pages for item in page.get("Events", [])]
