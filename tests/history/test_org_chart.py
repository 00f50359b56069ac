"""The organization page's accounts × weeks of the chain over the window (issue 19): each cell says
whether the whole chain operated that week, was broken for part of it, or could not be read; every
account is drawn, on further charts past a page, each title saying which accounts it shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd

from rootwatch.evidence_run import EvidenceRun, chain_operations
from rootwatch.params import RunParams
from rootwatch.report import charts
from tests.history.chain import record
from tests.history.test_changes import WINDOW
from tests.history.test_wiring import STORY, evidence


def _run(catalog) -> EvidenceRun:
    control = catalog.control("4.3")
    story = evidence()  # stopped logging, a narrowed filter, a subscriber removed: breaks in August
    steady = replace(evidence([record("PutMetricFilter", "2026-06-01T08:00:00Z", STORY[2]["requestParameters"])]),
                     account_id="333333333333", label="steady")
    unread = replace(evidence(), account_id="444444444444", label="unread", changes=None)
    accounts = [story, steady, unread]
    params = RunParams(source="sandbox", regions=("us-east-1",), window=WINDOW, window_label="2026-Q3")
    now = datetime.now(UTC)
    return EvidenceRun(params, [control], accounts, {}, [], now, now, {}, [],
                       operations=chain_operations(accounts, [control], catalog))


def test_each_account_is_a_row_of_weeks_operated_broken_or_not_known(catalog):
    weeks = _run(catalog).operation_weeks()
    assert list(weeks.index) == ["healthy (111111111111)", "steady (333333333333)", "unread (444444444444)"]
    # 2026-07-01 is a Wednesday: the first column is the week starting Monday 06-29, the last holds 09-30
    assert weeks.columns[0] == pd.Timestamp("2026-06-29", tz="UTC") and len(weeks.columns) == 14
    story = weeks.loc["healthy (111111111111)"]
    assert story[pd.Timestamp("2026-06-29", tz="UTC")] == "not known"  # the filter unknown before 07-01 08:00
    assert story[pd.Timestamp("2026-07-06", tz="UTC")] == "operated"
    assert [f"{w:%m-%d}" for w, s in story.items() if s == "broken"] == ["08-10", "08-17", "08-24"]
    assert set(weeks.loc["steady (333333333333)"]) == {"operated"}
    assert set(weeks.loc["unread (444444444444)"]) == {"not known"}  # never assumed healthy


def test_every_account_is_drawn_and_long_lists_go_on_further_pages(catalog):
    weeks = _run(catalog).operation_weeks()
    [one] = charts.chain_weeks(weeks, WINDOW)
    assert one.figure.axes[0].get_title("left") == "The chain per account and week, all 3 accounts"
    assert "healthy (111111111111): 10 operated, 3 broken, 1 not known" in one.alt
    pages = charts.chain_weeks(weeks, WINDOW, per_page=2)
    assert [p.figure.axes[0].get_title("left") for p in pages] == [
        "The chain per account and week, accounts 1–2 of 3", "The chain per account and week, accounts 3–3 of 3"]
    drawn = [label.get_text() for p in pages for label in p.figure.axes[0].get_yticklabels()]
    assert drawn == list(weeks.index)
    assert [p.figure.axes[0].images[0].get_array().shape for p in pages] == [(2, 14), (1, 14)]


def test_the_organization_page_shows_the_weeks_beside_the_verdicts(catalog, monkeypatch):
    from rootwatch import evidence_run
    from rootwatch.notebook import workbook

    run = _run(catalog)
    run.frames, run.findings = evidence_run.judged(run.evidence, run.controls, catalog, operations=run.operations)
    drawn: list = []
    monkeypatch.setattr(workbook, "show_chart", drawn.append)
    monkeypatch.setattr(workbook, "show", lambda df, title=None: None)
    workbook.show_organization(run)
    assert [c.figure.axes[0].get_title("left") for c in drawn][1:] == [
        "The chain per account and week, all 3 accounts"]
