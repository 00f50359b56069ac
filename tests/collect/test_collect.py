"""The collector on the sandbox: every link for both accounts, raw evidence, gaps instead of crashes."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from rootwatch.collect.chain import AccountEvidence, Target, collect_account
from rootwatch.collect.evidence import write_raw
from rootwatch.collect.session import Clients, make_session
from rootwatch.errors import CredentialsError
from rootwatch.models import Link
from rootwatch.resources import Topic

HEALTHY, DRIFTED = "111111111111", "222222222222"


def test_every_link_is_collected_for_both_accounts(evidence):
    for account in (HEALTHY, DRIFTED):
        ev = evidence[account]
        assert ev.caller_arn.startswith(f"arn:aws:sts::{account}:assumed-role/rootwatch-audit/")
        [trail] = ev.trails
        assert trail["IsMultiRegionTrail"] and trail["rw:status"]["IsLogging"]
        assert trail["rw:selectors"]["EventSelectors"][0]["IncludeManagementEvents"]
        assert len(ev.metric_filters) == len(ev.alarms) == 15  # one filter and alarm per CIS monitoring control
        assert ev.alarm_history and ev.datapoints
        assert ev.gaps == []
        assert {e["event"]["userIdentity"]["type"] for e in ev.events} == {"Root"}
        assert 24 <= len(ev.events) <= 60
    root_alarm = next(a for a in evidence[DRIFTED].alarms if a["AlarmName"] == "root-usage")
    assert root_alarm["ActionsEnabled"] is False
    assert {s["SubscriptionArn"] for s in evidence[DRIFTED].subscriptions if s["rw:topicArn"].endswith(":root-alerts")} \
        == {"PendingConfirmation"}
    root_filter = next(f for f in evidence[DRIFTED].metric_filters if f["filterName"] == "RootUsage")
    assert "ConsoleLogin" in root_filter["filterPattern"]


def test_every_call_is_kept_with_what_produced_it(evidence, tmp_path):
    ev = evidence[HEALTHY]
    operations = [(c.service, c.operation) for c in ev.calls]
    for expected in [("sts", "GetCallerIdentity"), ("cloudtrail", "DescribeTrails"), ("cloudtrail", "GetTrailStatus"),
                     ("cloudtrail", "GetEventSelectors"), ("logs", "DescribeMetricFilters"),
                     ("cloudwatch", "DescribeAlarmsForMetric"), ("cloudwatch", "DescribeAlarmHistory"),
                     ("cloudwatch", "GetMetricStatistics"), ("sns", "ListSubscriptionsByTopic"),
                     ("logs", "FilterLogEvents")]:
        assert expected in operations
    paths = write_raw(ev.calls, tmp_path)
    assert len(paths) == len(ev.calls)
    events = next(c for c in reversed(ev.calls) if c.operation == "FilterLogEvents")  # the changes are read after
    kept = json.loads((tmp_path / events.filename).read_text())
    assert kept["call"]["operation"] == "FilterLogEvents" and kept["call"]["account_id"] == HEALTHY
    assert kept["call"]["params"]["filterPattern"] == '{ $.userIdentity.type = "Root" }'
    assert kept["responses"][0]["events"] and kept["responses"][0]["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert all(p.name.startswith(f"{i + 1:04d}-") for i, p in enumerate(sorted(paths)))


def test_access_denied_on_one_call_becomes_a_gap_and_the_rest_is_collected(sandbox, window, catalog):
    session = sandbox.session(DRIFTED)

    def deny(**kwargs):
        class Forbidden:
            status_code = 403
        return Forbidden(), {"Error": {"Code": "AccessDenied", "Message": "User is not authorized to perform: "
                                       "SNS:ListSubscriptionsByTopic"}, "ResponseMetadata": {"HTTPStatusCode": 403}}

    session.events.register("before-call.sns.ListSubscriptionsByTopic", deny)
    ev = collect_account(Target("drifted", session), ["us-east-1"], window, [catalog.control("4.3")],
                         endpoint_url=sandbox.endpoint, lookup_rate=None)
    assert {(g.link.id, g.service, g.operation, g.error_code) for g in ev.gaps} == {
        ("subscriber", "sns", "ListSubscriptionsByTopic", "AccessDenied")}  # one per topic
    gap = ev.gaps[0]
    assert "not authorized" in gap.message and gap.evidence.endswith("sns.ListSubscriptionsByTopic.json")
    failed = next(c for c in ev.calls if c.operation == "ListSubscriptionsByTopic")
    assert failed.error == {"code": "AccessDenied", "message": gap.message}
    assert ev.subscriptions == [] and ev.alarms and ev.alarm_history and ev.events and ev.trails


def test_unreadable_identity_is_a_gap_not_a_crash(sandbox, window, catalog):
    session = sandbox.session(HEALTHY)
    session.events.register("before-call.sts.GetCallerIdentity", lambda **kw: (
        type("R", (), {"status_code": 403})(), {"Error": {"Code": "ExpiredToken", "Message": "token expired"}}))
    ev = collect_account(Target("healthy", session), ["us-east-1"], window, [catalog.control("4.3")],
                         endpoint_url=sandbox.endpoint, lookup_rate=None)
    assert [g.error_code for g in ev.gaps] == ["ExpiredToken"] and ev.trails == [] and ev.account_id == "healthy"


def test_organization_trail_in_another_account_and_advanced_selectors(window, catalog):
    """Shapes moto cannot produce: a shadow organization trail delivering to the management
    account's log group, with advanced event selectors."""
    from rootwatch.frames import tables as frames

    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="eu-west-1")
    clients = Clients(session)
    sts, ct = Stubber(clients.get("sts", "eu-west-1")), Stubber(clients.get("cloudtrail", "us-east-1"))
    ct_eu = Stubber(clients.get("cloudtrail", "eu-west-1"))
    trail_arn = "arn:aws:cloudtrail:us-east-1:999999999999:trail/org-trail"
    sts.add_response("get_caller_identity", {"Account": "333333333333", "Arn": "arn:aws:sts::333333333333:x", "UserId": "x"})
    ct_eu.add_response("describe_trails", {"trailList": [{
        "Name": "org-trail", "TrailARN": trail_arn, "HomeRegion": "us-east-1", "IsMultiRegionTrail": True,
        "IsOrganizationTrail": True,
        "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:999999999999:log-group:org-cloudtrail:*"}]})
    ct.add_response("get_trail_status", {"IsLogging": True}, {"Name": trail_arn})
    ct.add_response("get_event_selectors", {"TrailARN": trail_arn, "AdvancedEventSelectors": [
        {"Name": "Management events", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]},
        {"TrailName": trail_arn})
    root_login = {"eventVersion": "1.09", "eventTime": "2026-09-01T10:00:00Z", "eventName": "ConsoleLogin",
                  "eventSource": "signin.amazonaws.com", "awsRegion": "eu-west-1", "eventID": "e-1",
                  "eventType": "AwsConsoleSignIn", "userIdentity": {"type": "Root", "accountId": "333333333333"}}
    ct_eu.add_response("lookup_events", {"Events": [{"EventId": "e-1", "EventName": "ConsoleLogin",
                                                     "CloudTrailEvent": json.dumps(root_login)}]})
    for stub in (sts, ct, ct_eu):
        stub.activate()
    ev = collect_account(Target("member", session), ["eu-west-1"], window, [catalog.control("4.3")], clients=clients)
    assert isinstance(ev, AccountEvidence)
    assert not [g for g in ev.gaps if g.link is Link.LOG_GROUP]  # not read here: judged with the owner's evidence
    from rootwatch.judge.chain import judge_account

    finding = judge_account(ev, catalog.control("4.3"), catalog)
    log_group = finding.links[3]
    assert log_group.status == "GAP" and "999999999999" in log_group.reason and "not part of this run" in log_group.reason
    sel = frames.event_selectors([ev])
    assert sel.loc[0, "kind"] == "advanced" and bool(sel.loc[0, "management_events"])
    assert sel.loc[0, "read_write_type"] == "All"
    trails = frames.trails([ev])
    assert trails.loc[0, "owner_account"] == "999999999999" and bool(trails.loc[0, "is_organization_trail"])
    [item] = ev.events  # without a readable log group, 4.3 falls back to event history
    assert item["source"] == "lookup" and item["event"]["eventName"] == "ConsoleLogin"
    events = frames.root_events([ev], catalog.control("4.3"))
    assert events.loc[0, "why"].startswith("read from event history") and not events.loc[0, "counted"]


def test_missing_credentials_and_unknown_profile_are_bad_input(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(CredentialsError, match="no AWS credentials found"):
        make_session()
    with pytest.raises(CredentialsError, match="profile 'nope' does not exist"):
        make_session("nope")


def test_standard_chain_and_aws_endpoint_url_reach_the_sandbox(sandbox, window, catalog, monkeypatch):
    """What a user does after `rootwatch sandbox`: export its variables, then run with no options."""
    for key, value in sandbox.environment().items():
        monkeypatch.setenv(key, value)
    session = make_session()
    assert session.get_credentials().access_key == sandbox.environment()["AWS_ACCESS_KEY_ID"]
    clients = Clients(session)
    assert clients.get("cloudtrail", "us-east-1").meta.config.retries["mode"] == "adaptive"
    ev = collect_account(Target("auditor", session), ["us-east-1"], window, [catalog.control("4.3")])
    assert ev.account_id == "123456789012" and ev.gaps == [] and ev.trails == []


def test_throttling_is_retried_and_counted_in_the_evidence(sandbox, window, catalog):
    from rootwatch.sandbox.faults import Fault

    sandbox.state.faults.set([Fault("throttling", "DescribeTrails", times=2)])  # Rate exceeded, twice
    try:
        ev = collect_account(Target("healthy", sandbox.session(HEALTHY)), ["us-east-1"], window,
                             [catalog.control("4.3")], endpoint_url=sandbox.endpoint, lookup_rate=None)
    finally:
        sandbox.state.faults.clear()
    described = next(c for c in ev.calls if c.operation == "DescribeTrails")
    assert described.retries == 2 and described.error is None and ev.trails and ev.gaps == []
    assert '"retries": 2' in described.to_json()
    from rootwatch.frames import tables as frames

    calls = frames.api_calls([ev])
    assert calls.loc[calls.operation == "DescribeTrails", "retries"].item() == 2


def test_events_from_the_trail_bucket_match_the_log_group(sandbox, window, catalog, evidence):
    """event_source: archive reads each trail's S3 log files with the account's credentials; the
    events are the log group's, and each scan's counts are kept as evidence."""
    from rootwatch.collect.chain import collect

    targets = [Target(a.alias, sandbox.session(a.account_id)) for a in sandbox.accounts]
    for ev in collect(targets, ["us-east-1"], window, [catalog.control("4.3")], endpoint_url=sandbox.endpoint,
                      lookup_rate=None, archive=True):
        from_logs = sorted(e["event"]["eventID"] for e in evidence[ev.account_id].events)
        assert sorted(e["event"]["eventID"] for e in ev.events) == from_logs and len(from_logs) > 20
        assert {e["source"] for e in ev.events} == {"archive"} and ev.gaps == []
        [scan_] = ev.archive_scans
        assert scan_["archive"].startswith("s3://") and scan_["files_read"] >= 90
        assert scan_["records_matched"] == len(from_logs)


def test_a_webhook_token_in_a_subscription_url_is_kept_out_of_the_evidence():
    """An HTTPS subscriber's URL often is its credential (Slack, Teams, PagerDuty webhooks): what the
    collector reads and keeps holds a hash of it instead, so bundles never carry the token."""
    import boto3
    from botocore.stub import Stubber

    from rootwatch.collect import sns
    from rootwatch.collect.evidence import Recorder

    client = boto3.client("sns", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    topic = "arn:aws:sns:us-east-1:111111111111:alerts"
    secret = "https://hooks.example.com/services/T0001/B0001/s3cr3tT0k3n?auth=abc"
    with Stubber(client) as stub:
        stub.add_response("list_subscriptions_by_topic", {"Subscriptions": [
            {"SubscriptionArn": f"{topic}:1", "Owner": "111111111111", "Protocol": "https", "Endpoint": secret,
             "TopicArn": topic},
            {"SubscriptionArn": f"{topic}:2", "Owner": "111111111111", "Protocol": "email",
             "Endpoint": "secops@example.com", "TopicArn": topic}]}, {"TopicArn": topic})
        rec = Recorder(type("Clients", (), {"get": lambda self, service, region: client})(), "111111111111")
        subs = sns.subscriptions(rec, Topic.parse(topic))
    endpoints = [s["Endpoint"] for s in subs]
    assert endpoints[0].startswith("https://hooks.example.com/<redacted sha256:") and endpoints[1] == "secops@example.com"
    assert "s3cr3tT0k3n" not in rec.calls[0].to_json() and "auth=abc" not in rec.calls[0].to_json()
