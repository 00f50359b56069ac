"""AWS Config's configuration history of the chain's resources: the history's second witness (issue 19).

Asked only for the resources the reconstruction knows (today's chain and every resource a change
event of the window names) and only in the regions they live in: first whether a recorder records
there and which types, then, per resource, its Config id (``ListDiscoveredResources`` by name,
deleted ones included), the item in effect when the window began and its items over the window.
What cannot be read is kept as the witness's own reason (its gaps are not the chain's: the CIS
verdict and the CloudTrail reconstruction do not rest on Config), so the report names it instead
of leaving it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rootwatch.collect.evidence import Gap, Recorder
from rootwatch.history import Key, Kind, parse_changes, today
from rootwatch.history.witness import TYPE_OF
from rootwatch.models import Link, Window
from rootwatch.resources import Trail

Wanted = tuple[str, str, str]  # (Config resource type, region, resource name)


@dataclass
class ConfigHistory:
    """Config's items (each with ``rw:region``) and why any part could not be read."""

    items: list[dict] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)  # the failed calls behind ``unread``, with their files


def config_history(rec: Recorder, account_id: str, trails: list[dict], alarms: list[dict], subscriptions: list[dict],
                   metric_filters: list[dict], records: list[dict], window: Window, as_of: datetime) -> ConfigHistory:
    """Config's history of every chain resource the account's state or change records name."""
    history = ConfigHistory()
    own = [t for t in trails if Trail(t).owner == account_id]  # another account's trail is in its Config
    wanted = _wanted(account_id, own, alarms, subscriptions, metric_filters, records)
    recorded = {region: _recorded(rec, region, history) for region in sorted({w[1] for w in wanted})}
    for kind, region, name in sorted(wanted):
        types = recorded[region]
        if types is None:
            continue  # the region's reason is given once
        if kind not in types:
            history.unread.append(f"{region}: AWS Config does not record {kind} ({name} not witnessed)")
            continue
        pages = rec.pages(region, "config", "ListDiscoveredResources", Link.CONFIG_HISTORY, resourceType=kind,
                          resourceName=name, includeDeletedResources=True)
        if pages is None:
            _unread(rec, history, f"{kind} {name} in {region}")
            continue
        ids = list(dict.fromkeys(r["resourceId"] for p in pages for r in p.get("resourceIdentifiers", [])))
        if not ids:
            history.unread.append(f"{region}: AWS Config has no record of {kind} {name}")
        for resource_id in ids:
            # the item in effect when the window began (the newest before it), then the window's
            first = rec.call(region, "config", "GetResourceConfigHistory", Link.CONFIG_HISTORY, resourceType=kind,
                             resourceId=resource_id, laterTime=window.start, limit=1)
            pages = rec.pages(region, "config", "GetResourceConfigHistory", Link.CONFIG_HISTORY, resourceType=kind,
                              resourceId=resource_id, earlierTime=window.start, laterTime=as_of) \
                if first is not None else None
            if first is None or pages is None:
                _unread(rec, history, f"{kind} {name} in {region}")
                continue
            history.items += [{**i, "rw:region": region}
                              for p in [first, *pages] for i in p.get("configurationItems", [])]
    return history


def _recorded(rec: Recorder, region: str, history: ConfigHistory) -> set[str] | None:
    """The types a recording recorder of the region records; None (with the reason kept) when no
    recorder records there or that cannot be read."""
    status = rec.call(region, "config", "DescribeConfigurationRecorderStatus", Link.CONFIG_HISTORY)
    recorders = rec.call(region, "config", "DescribeConfigurationRecorders", Link.CONFIG_HISTORY) \
        if status is not None else None
    if status is None or recorders is None:
        _unread(rec, history, f"the configuration recorder of {region}")
        return None
    on = {s.get("name") for s in status.get("ConfigurationRecordersStatus", []) if s.get("recording")}
    if not on:
        history.unread.append(f"{region}: AWS Config is not recording (no configuration recorder records there)")
        return None
    types: set[str] = set()
    for recorder in recorders.get("ConfigurationRecorders", []):
        if recorder.get("name") not in on:
            continue
        group = recorder.get("recordingGroup") or {"allSupported": True}
        excluded = set((group.get("exclusionByResourceTypes") or {}).get("resourceTypes", []))
        chosen = set(TYPE_OF.values()) if group.get("allSupported") else set(group.get("resourceTypes", []))
        types |= chosen - excluded
    return types


def _unread(rec: Recorder, history: ConfigHistory, what: str) -> None:
    """Move the failed call's gap from the account's (the chain's) to the witness's own."""
    gap = rec.gaps.pop()
    history.gaps.append(gap)
    history.unread.append(f"{what}: {gap.text}")


def _wanted(account_id: str, trails: list[dict], alarms: list[dict], subscriptions: list[dict],
            metric_filters: list[dict], records: list[dict]) -> set[Wanted]:
    homes = {t.get("Name"): t.get("HomeRegion") for t in trails}
    keys: dict[Key, str] = {key: "" for key in today(trails, metric_filters, alarms, subscriptions)}
    for change in parse_changes(records):
        for edit in change.edits:
            if edit.key is not None and not change.error_code:
                keys.setdefault(edit.key, change.region)
    wanted: set[Wanted] = set()
    for (kind, ident), seen_in in keys.items():
        if kind not in TYPE_OF:
            continue  # no Config type: the history's own words say so
        if kind is Kind.TRAIL:
            region, name = homes.get(ident) or seen_in, ident
        elif kind is Kind.TOPIC:
            parts = ident.split(":")
            if len(parts) < 6 or parts[4] != account_id:
                continue  # another account's topic is in that account's Config, not this one's
            region, name = parts[3], parts[5]
        else:
            region, name = ident.split(":", 1)
        if region:
            wanted.add((TYPE_OF[kind], region, name))
    return wanted
