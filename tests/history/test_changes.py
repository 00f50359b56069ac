"""Issue 19's reconstruction, one case per chain-changing event (``cases/changes.yaml``): the
intervals each link did not operate, with the event that broke it and the one that fixed it,
whatever order the events are delivered in."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rootwatch.history import CHAIN, LINKS, Coverage, operation, parse_changes, reconstruct, today
from rootwatch.models import Window
from tests.history.chain import healthy, judge, record, when

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "changes.yaml").read_text())
WINDOW = Window(when("2026-07-01T00:00:00Z"), when("2026-10-01T00:00:00Z"))
AS_OF = when("2026-10-01T06:00:00Z")


def state(patches: dict | None = None) -> dict:
    collected = healthy()
    for name, value in (patches or {}).items():
        if name == "logging":
            collected["trails"][0]["rw:status"]["IsLogging"] = value
        else:
            collected[name] = value
    collected.pop("topic_attributes")  # read today only: the history does not rebuild it
    return today(**collected)


def events(case: dict) -> list[dict]:
    return [record(e["name"], e["at"], e["request"], e.get("response"), e.get("error"), e.get("id"))
            for e in case["events"]]


def breaks(case: dict, records: list[dict], coverage: Coverage | None = None) -> dict[str, list[list]]:
    intervals = reconstruct(state(case.get("today")), parse_changes(records), WINDOW, AS_OF, coverage)
    result = operation(intervals, judge, WINDOW)
    return {link: [[b.status, _moment(b.start, WINDOW.start), _moment(b.end, WINDOW.end), _names(b.broken_by),
                    _names(b.fixed_by)] for b in op.breaks]
            for link, op in result.links.items() if op.breaks}


def _moment(moment, edge) -> str:
    if moment == edge:
        return "start" if edge == WINDOW.start else "end"
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def _names(changes) -> str | None:
    return "+".join(sorted(c.event_name for c in changes)) or None


@pytest.mark.parametrize("order", ["as delivered", "reversed"])
@pytest.mark.parametrize("case", CASES, ids=[c["name"].split(":")[0].split(",")[0][:60] for c in CASES])
def test_broken_intervals(case, order):
    records = events(case)
    if order == "reversed":
        records.reverse()
    got = breaks(case, records)
    expected = case["breaks"]
    for link in LINKS:
        assert got.get(link, []) == expected.get(link, []), link
    if CHAIN in expected:
        assert got.get(CHAIN, []) == expected[CHAIN]


def test_every_change_event_has_a_case():
    from rootwatch.history import CHANGES
    named = {e["name"] for case in CASES for e in case["events"]}
    assert named == {n for names in CHANGES.values() for n in names}


def test_history_older_than_what_can_be_read_is_a_gap_with_its_reason():
    case = CASES[0]  # logging stopped 2026-08-10, restarted 2026-08-12
    reason = "older than 90 days: CloudTrail event history keeps 90 days and no archive was given"
    coverage = Coverage(when("2026-07-15T00:00:00Z"), reason)
    intervals = reconstruct(state(), parse_changes(events(case)), WINDOW, AS_OF, coverage)
    result = operation(intervals, judge, WINDOW)
    for link in (*LINKS, CHAIN):
        first = result.links[link].breaks[0]
        assert (first.status, first.start, first.end, first.reason) == ("GAP", WINDOW.start,
                                                                       when("2026-07-15T00:00:00Z"), reason)
    assert [b.status for b in result.links["logging"].breaks] == ["GAP", "FAIL"]
    assert result.chain.unknown == pytest.approx(14 / 92)


def test_operated_share_of_the_window_and_who_broke_it():
    case = CASES[0]
    result = operation(reconstruct(state(), parse_changes(events(case)), WINDOW, AS_OF), judge, WINDOW)
    broken = result.links["logging"].breaks[0]
    assert broken.duration.total_seconds() == 47.5 * 3600
    assert result.chain.operated == pytest.approx(1 - 47.5 / (92 * 24))
    assert result.summary() == "operated 97.8 % of the window"
    stop = broken.broken_by[0]
    assert (stop.actor_arn, stop.actor_type, stop.source_ip) == ("arn:aws:iam::111111111111:user/alice", "IAMUser",
                                                                 "198.51.100.10")
    assert "StopLogging 2026-08-10 10:00:00 UTC by arn:aws:iam::111111111111:user/alice from 198.51.100.10" in str(stop)
