"""Frames have exactly the documented columns and dtypes, and root events say why they count."""

from __future__ import annotations

import pandas as pd
import pytest

from rootwatch.frames import tables as frames

HEALTHY, DRIFTED = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def built(evidence, catalog):
    return frames.build_all(list(evidence.values()), [catalog.control("4.3")])


BUILT = sorted(set(frames.SCHEMAS) - {"archive_events"})  # archive_events: an archive scan's (tests/logarchive)


def test_every_documented_frame_is_built(built):
    assert set(built) == set(BUILT)


@pytest.mark.parametrize("name", BUILT)
def test_columns_and_dtypes_are_the_documented_ones(built, name):
    df = built[name]
    schema = frames.SCHEMAS[name]
    assert list(df.columns) == list(schema)
    for column, (dtype, meaning) in schema.items():
        assert str(df[column].dtype) == dtype, column
        assert meaning
    assert "account_id" in df.columns and ("region" in df.columns or name == "root_credentials")  # IAM is global


@pytest.mark.parametrize("name", sorted(frames.BUILDERS))
def test_empty_evidence_gives_empty_frames_with_the_columns(name):
    df = frames.BUILDERS[name]([])
    assert df.empty and list(df.columns) == list(frames.SCHEMAS[name])


def test_link_frames_show_the_drift(built):
    subs = built["subscriptions"].set_index("topic_arn")
    assert bool(subs.loc[f"arn:aws:sns:us-east-1:{HEALTHY}:security-alerts", "confirmed"])
    assert not bool(subs.loc[f"arn:aws:sns:us-east-1:{DRIFTED}:root-alerts", "confirmed"])
    alarms = built["alarms"].set_index("alarm_name")
    assert bool(alarms.loc["cis-4.3-root-account-usage", "actions_enabled"])
    assert not bool(alarms.loc["root-usage", "actions_enabled"])
    assert alarms.loc["root-usage", "period"] == 300 and alarms.loc["root-usage", "statistic"] == "Sum"
    trails = built["trails"]
    assert trails["is_multi_region"].all() and trails["is_logging"].all()
    history = built["alarm_history"]
    assert set(history["new_state"].dropna()) == {"ALARM", "OK"}
    assert (built["metric_datapoints"]["sum"] >= 1).all()
    assert built["gaps"].empty
    assert (built["api_calls"]["error_code"].isna()).all()


def test_root_events_count_and_explain(built):
    events = built["root_events"]
    assert events["time"].is_monotonic_increasing
    drifted = events[events.account_id == DRIFTED]
    blind = drifted[(drifted.event_name == "ConsoleLogin") & drifted.reference_counts]
    assert len(blind) and not blind["counted"].any()
    assert blind["why"].str.startswith("blind spot").all() and blind["why"].str.contains("ConsoleLogin").all()
    healthy = events[events.account_id == HEALTHY]
    assert healthy.loc[healthy.reference_counts, "counted"].all()
    filtered = events[events.account_id.isin([HEALTHY, DRIFTED])]  # the accounts with a root-usage filter
    relayed = filtered[filtered.invoked_by.notna()]
    assert len(relayed) and relayed["why"].str.contains("invokedBy NOT EXISTS").all()
    service = filtered[filtered.event_type == "AwsServiceEvent"]
    assert len(service) and service["why"].str.contains("AwsServiceEvent").all()
    logins = events[events.event_name == "ConsoleLogin"]
    assert set(logins["console_login"]) == {"Success", "Failure"}
    assert set(logins["mfa_used"].dropna()) == {True, False}


def test_hostile_text_is_kept_verbatim_as_data(built):
    # escaping is the renderer's job; the frame keeps the attacker's bytes exactly
    assert (built["root_events"]["user_agent"] == "<script>alert(1)</script>").sum() == 3  # one per sandbox account


def test_describe_documents_a_frame():
    doc = frames.describe("root_events")
    assert list(doc.columns) == ["column", "dtype", "meaning"]
    assert isinstance(doc, pd.DataFrame) and "why" in set(doc["column"])


def test_alarm_coverage_over_nothing_counted_is_no_pass_when_root_events_went_unseen(evidence, catalog):
    """Issue 17 family 6: an account with no metric filter and root events in the window once got
    alarm coverage PASS ("no counted root event: none was missed"). No alarm could have seen them."""
    import copy

    from rootwatch.models import Check, Status
    from rootwatch.evidence_run import judged

    unfiltered = copy.deepcopy(evidence[HEALTHY])
    unfiltered.metric_filters = []
    _, findings = judged([unfiltered], [catalog.control("4.3")], catalog)
    coverage = next(f for f in findings if f.check == Check.ALARM_COVERAGE)
    assert coverage.status == Status.FAIL, coverage.links
    assert "no metric filter counted any of them: no alarm could have seen them" in coverage.links[0].reason


def test_alarm_coverage_finds_the_root_event_no_alarm_caught(built):
    cov = built["alarm_coverage"]
    healthy = cov[cov.account_id == HEALTHY]
    assert len(healthy) > 20
    missed = healthy[~healthy.covered]
    # the sandbox's alarms are evaluated over its events: the one root call of the week the filter was
    # narrowed to root sign-ins (organisation.yaml's history) made no datapoint, so no transition
    assert len(missed) == 1 and missed.iloc[0].event_name == "PutAlternateContact"
    assert "did not go to ALARM within 20 minutes (period × evaluation periods + delivery)" in missed.iloc[0].reason
    caught = healthy[healthy.covered]
    assert caught.reason.str.contains("went to ALARM .* and notified|already in ALARM").all()
    assert (caught.alarm_time >= caught.time - pd.Timedelta(minutes=10)).all()


def test_an_alarm_that_notifies_no_one_covers_nothing(built):
    """The drifted root alarm changes state but its actions were turned off on day 30 (the sandbox's
    history): every event only it watches from then on is uncovered, the earlier ones notified."""
    cov = built["alarm_coverage"]
    drifted = cov[(cov.account_id == DRIFTED) & (cov.alarms == "root-usage")]
    silent, notified = drifted[~drifted.covered], drifted[drifted.covered]
    assert len(silent) > 10 and len(notified) > 5 and notified.time.max() < silent.time.min()
    assert silent.reason.str.contains("actions are disabled: no one was notified").all()


def test_a_deleted_topic_leaves_the_event_uncovered():
    """The alarm went to ALARM but its SNS action failed (topic deleted): no one was told."""
    t = pd.Timestamp("2026-09-01T10:02:00Z")
    built = {
        "metric_filters": frames.frame("metric_filters", [{"account_id": HEALTHY, "filter_name": "root",
                                                           "metric_namespace": "CIS", "metric_name": "Root"}]),
        "alarms": frames.frame("alarms", [{"account_id": HEALTHY, "alarm_name": "root-alarm", "namespace": "CIS",
                                           "metric_name": "Root", "period": 300, "evaluation_periods": 1,
                                           "actions_enabled": True}]),
        "alarm_history": frames.frame("alarm_history", [
            {"account_id": HEALTHY, "alarm_name": "root-alarm", "time": t + pd.Timedelta(minutes=4),
             "item_type": "StateUpdate", "old_state": "OK", "new_state": "ALARM"},
            {"account_id": HEALTHY, "alarm_name": "root-alarm", "time": t + pd.Timedelta(minutes=4, seconds=1),
             "item_type": "Action", "summary": "Failed to execute action arn:aws:sns:us-east-1:111111111111:gone. "
                                               "Received error: Topic does not exist"}]),
        "root_events": frames.frame("root_events", [{"time": t, "account_id": HEALTHY, "event_name": "ConsoleLogin",
                                                     "event_id": "e1", "counted": True, "counted_by": "root"}]),
    }
    [row] = frames.alarm_coverage(built).to_dict("records")
    assert not row["covered"] and "went to ALARM 4 min later but its action failed: Failed to execute" in row["reason"]
