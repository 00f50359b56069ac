"""The analyst's questions on the sandbox: slices, first and last use from two sources, sign-ins,
and the root events the CIS filter leaves out, with why."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from rootwatch.frames import tables as frames
from rootwatch.report import charts
from rootwatch.notebook.explore import SLICES, RootActivity, start
from rootwatch.judge.chain import judge_all
from rootwatch.params import RunParams
from rootwatch.evidence_run import EvidenceRun
from tests.conftest import SANDBOX_NOW

HEALTHY = "111111111111"
EVENTBRIDGE_ONLY = "333333333333"


@pytest.fixture(scope="module")
def activity(evidence, catalog):
    controls = [catalog.control("4.3")]
    accounts = list(evidence.values())
    params = RunParams.from_mapping({"source": "sandbox", "regions": ["us-east-1"], "window": "last-90-days"},
                                    now=SANDBOX_NOW)
    built = frames.build_all(accounts, controls)
    now = datetime.now(UTC)
    return RootActivity(EvidenceRun(params, controls, accounts, built, judge_all(accounts, controls), now, now,
                                    {}, []))


@pytest.mark.parametrize("benchmark", ["cis-v6.0", "cis-v7.0"])
def test_exploration_runs_under_editions_that_renumber_root_usage(as_aws, benchmark):
    """v6.0 and v7.0 number the root-usage control 5.3: the exploration asks the catalog by role."""
    explored = start({"source": "aws", "accounts": [as_aws[HEALTHY]], "regions": ["us-east-1"],
                      "window": {"start": "2026-09-01", "end": "2026-10-01"}, "benchmark": benchmark})
    assert [(c.id, c.benchmark) for c in explored.run.controls] == [("5.3", benchmark)]
    assert len(explored.events) > 0 and set(explored.events.account_id) == {HEALTHY}
    assert [f.key for f in explored.run.findings] == ["5.3", "RW-1 alarm coverage (5.3)",
                                                     "RW-2 chain operated throughout (5.3)"]


@pytest.mark.parametrize("column", SLICES)
def test_every_slice_accounts_for_every_event(activity, column):
    table = activity.by(column)
    assert table.events.sum() == len(activity.events) > 0
    assert (table["first"] <= table["last"]).all() and (table.counted <= table.events).all()


def test_an_unknown_slice_says_which_exist(activity):
    with pytest.raises(ValueError, match="source_ip"):
        activity.by("colour")


def test_the_credential_report_agrees_with_cloudtrail(activity, sandbox):
    """The report's password_last_used is the last successful root console sign-in CloudTrail saw."""
    report = activity.credentials().set_index("account_id")
    for account in (a.account_id for a in sandbox.accounts):
        logins = [r for r in sandbox.state.records[account] if r["eventName"] == "ConsoleLogin"
                  and r["userIdentity"].get("type") == "Root" and r["responseElements"]["ConsoleLogin"] == "Success"]
        last = max(pd.Timestamp(r["eventTime"]) for r in logins)
        assert report.loc[account, "password_last_used"] == last
    table = activity.first_last()
    assert list(table["root events"]) == [int((activity.events.account_id == a).sum()) for a in report.index]
    assert table["last_used"].notna().all()


def test_console_logins_show_result_and_mfa(activity):
    logins = activity.console_logins()
    assert set(logins.result) == {"Success", "Failure"} and logins.mfa_used.notna().all()


def test_events_the_reference_leaves_out_are_shown_with_why(activity):
    apart = activity.not_counted()
    apart = apart[apart.account_id != EVENTBRIDGE_ONLY]  # no metric filter there: nothing is counted, the why says so
    assert len(apart) >= 2
    for row in apart.itertuples():
        assert pd.notna(row.invoked_by) or row.event_type == "AwsServiceEvent"
        assert "invokedBy" in row.why or "AwsServiceEvent" in row.why


def test_timeline_and_heat_map_show_every_event(activity):
    events = activity.events
    timeline = charts.root_timeline(events, activity.run.params.window)
    assert sum(len(c.get_offsets()) for c in timeline.figure.axes[0].collections) == len(events)
    heat = charts.hour_weekday(events)
    assert heat.figure.axes[0].images[0].get_array().sum() == len(events)
    assert len(events[events.account_id == HEALTHY]) > 0


def test_alarm_coverage_lists_each_uncovered_event_once(activity, monkeypatch):
    """The section is in every signed report: the uncovered events are one table, not the same twice."""
    from rootwatch.notebook import workbook

    shown = []
    monkeypatch.setattr(workbook, "show", lambda df, title=None: shown.append(df))
    activity.show_alarm_coverage()
    uncovered = activity.run.uncovered()
    assert len(uncovered) > 0
    [table] = [df for df in shown if "event_id" in df.columns]
    assert list(table.event_id) == list(uncovered.event_id)
