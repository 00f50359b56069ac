"""Every row of rootwatch.answers, through a botocore-stubbed collection and the judge: the error AWS
answers on the link's call decides the link's verdict (FAIL: a definite no about the audited
account; GAP: unreadable), and the link's reason says what the error means."""

from __future__ import annotations

import pytest

from rootwatch.answers import ANSWERS, UNLISTED, Answer, Owner, answer
from rootwatch.catalog import load_catalog
from rootwatch.judge.chain import judge_account
from rootwatch.models import Link, Status
from tests.answers.table import current, render
from tests.stubbed import ACCOUNT, OTHER, SUBSCRIBERS, collect_stubbed, healthy_calls

SERVICE = {"DescribeTrails": "cloudtrail", "GetTrailStatus": "cloudtrail", "GetEventSelectors": "cloudtrail",
           "DescribeMetricFilters": "logs", "DescribeAlarmsForMetric": "cloudwatch",
           "ListSubscriptionsByTopic": "sns"}
# the calls a failed call means the collector never makes: what it would have read them from is missing
NEVER_MADE = {"DescribeTrails": {"GetTrailStatus", "GetEventSelectors", "DescribeMetricFilters",
                                 "DescribeAlarmsForMetric", "DescribeAlarmHistory", "GetMetricStatistics",
                                 "FilterLogEvents", *SUBSCRIBERS},
              "DescribeMetricFilters": {"DescribeAlarmsForMetric", "DescribeAlarmHistory", "GetMetricStatistics",
                                        *SUBSCRIBERS},
              "DescribeAlarmsForMetric": {"DescribeAlarmHistory", *SUBSCRIBERS},
              "ListSubscriptionsByTopic": set(SUBSCRIBERS) - {"ListSubscriptionsByTopic"}}


def _judged(row: Answer, code: str | None = None):
    """Collect a stubbed account whose ``row.operations[0]`` call fails with the row's error (about another
    account's trail or topic when the row is), and judge 4.3. A failed DescribeTrails leaves no log group:
    the events are then read from event history."""
    catalog = load_catalog()
    failing = row.operations[0]
    other = row.owner is Owner.OTHER
    calls = healthy_calls(trail_owner=OTHER if other and row.link is not Link.SUBSCRIBER else ACCOUNT,
                          topic_owner=OTHER if other and row.link is Link.SUBSCRIBER else ACCOUNT)
    calls = [c for c in calls if c[1] not in NEVER_MADE.get(failing, ())]
    if failing == "DescribeTrails":
        calls.append(("cloudtrail", "LookupEvents", {"Events": []}))
    ev = collect_stubbed(calls, {failing: code or row.code})
    return ev, judge_account(ev, catalog.control("4.3"), catalog)


@pytest.mark.parametrize("row", ANSWERS, ids=lambda a: f"{a.link.id}-{a.code}-{a.owner.name.lower()}")
def test_each_error_decides_its_link_as_the_table_says(row):
    ev, finding = _judged(row)
    assert [g.error_code for g in ev.gaps] == [row.code] * len(row.operations)
    verdict = next(v for v in finding.links if v.link is row.link)
    assert verdict.status == row.status, verdict.reason
    assert row.meaning in verdict.reason and row.code in verdict.reason, verdict.reason
    assert finding.status == (Status.FAIL if row.status == Status.FAIL else Status.GAP)  # never a PASS
    if row.status == Status.GAP and row.link not in (Link.LOGGING, Link.MANAGEMENT_EVENTS):  # others depend on it
        assert all(v.status == Status.GAP for v in finding.links[finding.links.index(verdict):]), finding.links


@pytest.mark.parametrize("link", [Link.LOGGING, Link.LOG_GROUP, Link.SUBSCRIBER], ids=lambda link: link.id)
def test_an_error_the_table_does_not_list_is_a_gap(link):
    row = next(a for a in ANSWERS if a.link is link)
    ev, finding = _judged(row, code="SomethingNewException")
    verdict = next(v for v in finding.links if v.link is link)
    assert verdict.status == Status.GAP and UNLISTED in verdict.reason and "SomethingNewException" in verdict.reason
    assert answer(link, "SomethingNewException").status == Status.GAP


def test_not_found_is_a_definite_no_only_about_the_audited_accounts_resources():
    for link, code in {(a.link, a.code) for a in ANSWERS if a.status == Status.FAIL}:
        assert answer(link, code, own=True).status == Status.FAIL
        assert answer(link, code, own=False).status == Status.GAP, (link, code)


def test_every_row_names_a_call_of_its_link_and_is_unique():
    keys = [(a.link, a.code, a.owner) for a in ANSWERS]
    assert len(keys) == len(set(keys))
    assert all(a.operations and all(op in SERVICE for op in a.operations) for a in ANSWERS)


def test_readme_answers_table_is_rendered_from_the_data():
    assert current() == render(), "README.md's answers table is stale: run python -m tests.answers.table --write"
