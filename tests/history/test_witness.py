"""AWS Config's configuration history as the history's second witness (issue 19): its items set beside
the CloudTrail reconstruction, its disagreements shown, and a witness not read named, never a PASS."""

from __future__ import annotations

import json
from datetime import timedelta

import boto3
from botocore.stub import Stubber

from rootwatch.collect.config import ConfigHistory, config_history
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.session import Clients
from rootwatch.history import NOT_CONFIG
from rootwatch.history.witness import CONFIG_TYPES
from rootwatch.judge.chain import chain_operation, judge_operation
from rootwatch.models import Link
from rootwatch.report import exports
from tests.history.chain import ACCOUNT, REGION, TOPIC, healthy, record, when
from tests.history.test_changes import AS_OF, WINDOW
from tests.history.test_wiring import evidence

ALARM = {"alarmName": "root-usage", "actionsEnabled": True, "alarmActions": [TOPIC], "okactions": [],
         "insufficientDataActions": [], "metricName": "RootAccountUsage", "namespace": "CISBenchmark",
         "statistic": "Sum", "dimensions": [], "period": 300, "evaluationPeriods": 1, "threshold": 1.0,
         "comparisonOperator": "GreaterThanOrEqualToThreshold"}
TRAIL = {"name": "main", "isMultiRegionTrail": True, "includeGlobalServiceEvents": True,
         "isOrganizationTrail": False, "cloudWatchLogsLogGroupArn": healthy()["trails"][0]["CloudWatchLogsLogGroupArn"],
         "cloudWatchLogsRoleArn": healthy()["trails"][0]["CloudWatchLogsRoleArn"]}


def item(kind: str, at: str, configuration: dict | None, status: str = "OK", name: str = "root-usage") -> dict:
    """A configuration item as GetResourceConfigHistory returns it (its configuration a JSON string)."""
    arn = {"AWS::CloudWatch::Alarm": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}",
           "AWS::CloudTrail::Trail": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{name}",
           "AWS::SNS::Topic": TOPIC}[kind]
    return {"version": "1.3", "accountId": ACCOUNT, "configurationItemCaptureTime": when(at),
            "configurationItemStatus": status, "arn": arn, "resourceType": kind, "resourceId": name,
            "resourceName": name, "awsRegion": REGION, "rw:region": REGION,
            **({"configuration": json.dumps(configuration)} if configuration is not None else {})}


def judged(catalog, items: list[dict], unread: list[str] | None = None, records: list[dict] | None = None):
    control = catalog.control("4.3")
    ev = evidence([] if records is None else records)
    ev.config = ConfigHistory(items, unread or [])
    op = chain_operation(ev, control, catalog)
    return op, judge_operation(ev, control, op, timedelta(0))


def test_config_knows_the_chains_trail_alarm_and_topic_and_no_log_group_filter_or_subscription():
    """What AWS Config's API can record (its ResourceType): the witness says which links it cannot see."""
    types = set(boto3.client("config", region_name=REGION).meta.service_model.shape_for("ResourceType").enum)
    assert set(CONFIG_TYPES) <= types
    assert not types & {"AWS::Logs::LogGroup", "AWS::Logs::MetricFilter", "AWS::SNS::Subscription"}
    assert NOT_CONFIG.startswith("log groups, metric filters and SNS subscriptions are no AWS Config resource type")


def test_config_agreeing_with_the_events_leaves_the_verdict_and_says_it_agrees(catalog):
    op, finding = judged(catalog, [item("AWS::CloudWatch::Alarm", "2026-07-20T10:00:00Z", ALARM),
                                   item("AWS::CloudTrail::Trail", "2026-07-20T10:00:00Z", TRAIL, name="main"),
                                   item("AWS::SNS::Topic", "2026-07-20T10:00:00Z", {"topicArn": TOPIC},
                                        name="security-alerts")])
    assert op.witness.agrees and op.witness.compared == 3
    assert finding.status == "PASS" and [link.link for link in finding.links] == [Link.CHAIN_OPERATION,
                                                                                   Link.CONFIG_HISTORY]
    assert finding.links[1].status == "PASS"
    assert finding.links[1].reason.startswith("3 configuration item(s) agree with the reconstruction (log groups")


def test_config_disagreeing_turns_a_pass_into_a_gap_and_names_both_words(catalog):
    """The events say the alarm fired at one event all along; Config recorded a threshold of 5 in August."""
    op, finding = judged(catalog, [item("AWS::CloudWatch::Alarm", "2026-08-03T09:00:00Z", {**ALARM, "threshold": 5.0}),
                                   item("AWS::CloudWatch::Alarm", "2026-09-01T09:00:00Z", None, "ResourceDeleted")])
    assert [(d.field, d.config, d.events) for d in op.witness.disagreements] == [("Threshold", 5.0, 1.0),
                                                                                 ("exists", False, True)]
    assert finding.status == "GAP"
    assert finding.links[0].reason.startswith(
        "AWS Config's history disagrees with CloudTrail's events; every link held")
    witness = finding.links[1]
    assert witness.status == "GAP" and witness.reason.startswith(
        f"2 disagreement(s): 2026-08-03 09:00:00 UTC alarm {REGION}:root-usage: AWS Config recorded Threshold = 5.0, "
        "CloudTrail's events give 1.0; 2026-09-01 09:00:00 UTC alarm")
    assert [n for n in finding.notes if n.startswith("AWS Config disagrees: ")] == [
        f"AWS Config disagrees: {d}" for d in op.witness.disagreements]  # findings.json keeps every one
    [shown] = exports.ocsf([finding], AS_OF, "CIS")  # the OCSF export names the witness beside the verdict
    assert [c["name"] for c in shown["compliance"]["checks"]] == ["chain operated throughout",
                                                                  "AWS Config's configuration history"]


def test_the_item_in_effect_when_the_window_began_is_set_beside_its_start(catalog):
    """Config's newest item before the window says the alarm's actions were off; the events say on."""
    op, finding = judged(catalog, [item("AWS::CloudWatch::Alarm", "2026-05-02T08:00:00Z", ALARM),
                                   item("AWS::CloudWatch::Alarm", "2026-06-11T08:00:00Z",
                                        {**ALARM, "actionsEnabled": False})])
    [seen] = op.witness.disagreements
    assert (seen.time, seen.field, seen.config, seen.events) == (WINDOW.start, "ActionsEnabled", False, True)
    assert op.witness.compared == 1 and finding.status == "GAP"


def test_config_recording_a_change_minutes_after_it_was_made_agrees(catalog):
    """Config captures an item a few minutes after the change: the events' earlier reading counts."""
    records = [record("PutMetricAlarm", "2026-08-03T09:00:00Z", {k: v for k, v in ALARM.items() if k != "okactions"}
                      | {"threshold": 1.0})]
    op, _ = judged(catalog, [item("AWS::CloudWatch::Alarm", "2026-08-03T09:04:00Z", ALARM)], records=records)
    assert op.witness.compared == 1 and op.witness.disagreements == ()


def test_config_never_turns_a_fail_into_a_pass_nor_hides_it(catalog):
    op, finding = judged(catalog, [item("AWS::CloudWatch::Alarm", "2026-08-03T09:00:00Z", ALARM)],
                         records=[record("StopLogging", "2026-08-10T10:00:00Z", {"name": "main"}),
                                  record("StartLogging", "2026-08-10T12:00:00Z", {"name": "main"})])
    assert op.witness.agrees and finding.status == "FAIL"


def test_an_unread_witness_is_a_gap_with_its_reason_and_the_events_verdict_stands(catalog):
    why = f"{REGION}: AWS Config is not recording (no configuration recorder records there)"
    op, finding = judged(catalog, [], [why])
    assert not op.witness.agrees and finding.status == "PASS"  # CloudTrail's events were read whole
    assert finding.links[1].status == "GAP" and finding.links[1].reason.startswith(f"not read: {why} (log groups")


# --- the collector, stubbed -----------------------------------------------------------------

def _recorder() -> tuple[Recorder, Stubber]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name=REGION)
    rec = Recorder(Clients(session), ACCOUNT)
    return rec, Stubber(rec.clients.get("config", REGION))


def _collect(rec: Recorder, stub: Stubber) -> ConfigHistory:
    chain = healthy()
    with stub:
        history = config_history(rec, ACCOUNT, chain["trails"], chain["alarms"], chain["subscriptions"],
                                 chain["metric_filters"], [], WINDOW, AS_OF)
    stub.assert_no_pending_responses()
    return history


def _recording(stub: Stubber, group: dict) -> None:
    stub.add_response("describe_configuration_recorder_status", {"ConfigurationRecordersStatus": [
        {"name": "default", "recording": True, "lastStatus": "SUCCESS"}]}, {})
    stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [
        {"name": "default", "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config", "recordingGroup": group}]}, {})


def test_the_collector_reads_each_recorded_chain_resource_by_its_config_id():
    rec, stub = _recorder()
    _recording(stub, {"allSupported": False, "resourceTypes": ["AWS::CloudWatch::Alarm", "AWS::CloudTrail::Trail"]})
    for kind, name, found in [("AWS::CloudTrail::Trail", "main", "main"), ("AWS::CloudWatch::Alarm", "root-usage",
                                                                          "root-usage")]:
        stub.add_response("list_discovered_resources", {"resourceIdentifiers": [
            {"resourceType": kind, "resourceId": found, "resourceName": name}]},
            {"resourceType": kind, "resourceName": name, "includeDeletedResources": True})
        shown = item(kind, "2026-07-20T10:00:00Z", ALARM if "Alarm" in kind else TRAIL, name=name)
        stub.add_response("get_resource_config_history", {"configurationItems": []},
                          {"resourceType": kind, "resourceId": found, "laterTime": WINDOW.start, "limit": 1})
        stub.add_response("get_resource_config_history", {"configurationItems": [
            {k: v for k, v in shown.items() if k != "rw:region"}]},
            {"resourceType": kind, "resourceId": found, "earlierTime": WINDOW.start, "laterTime": AS_OF})
    history = _collect(rec, stub)
    assert [(i["resourceType"], i["rw:region"]) for i in history.items] == [("AWS::CloudTrail::Trail", REGION),
                                                                           ("AWS::CloudWatch::Alarm", REGION)]
    # the topic's type is not recorded there: said, not skipped in silence
    assert history.unread == [f"{REGION}: AWS Config does not record AWS::SNS::Topic (security-alerts not witnessed)"]
    assert not rec.gaps and {c.service for c in rec.calls} == {"config"}


def test_only_the_accounts_own_resources_are_asked_of_its_config():
    """A topic in another account (an alarm may notify one) is in that account's Config."""
    rec, stub = _recorder()
    chain = healthy()
    chain["alarms"][0]["AlarmActions"].append("arn:aws:sns:us-east-1:999999999999:central-alerts")
    _recording(stub, {"allSupported": False, "resourceTypes": []})
    with stub:
        history = config_history(rec, ACCOUNT, chain["trails"], chain["alarms"], chain["subscriptions"],
                                 chain["metric_filters"], [], WINDOW, AS_OF)
    assert sorted(history.unread) == sorted(f"{REGION}: AWS Config does not record {kind} ({name} not witnessed)"
                                            for kind, name in [("AWS::CloudTrail::Trail", "main"),
                                                               ("AWS::CloudWatch::Alarm", "root-usage"),
                                                               ("AWS::SNS::Topic", "security-alerts")])


def test_a_region_where_config_does_not_record_is_named_not_read():
    rec, stub = _recorder()
    stub.add_response("describe_configuration_recorder_status", {"ConfigurationRecordersStatus": [
        {"name": "default", "recording": False, "lastStatus": "FAILURE"}]}, {})
    stub.add_response("describe_configuration_recorders", {"ConfigurationRecorders": [{"name": "default"}]}, {})
    history = _collect(rec, stub)
    assert history.items == [] and history.unread == [
        f"{REGION}: AWS Config is not recording (no configuration recorder records there)"]


def test_config_denied_is_the_witnesss_gap_with_its_file_not_the_chains():
    rec, stub = _recorder()
    stub.add_client_error("describe_configuration_recorder_status", "AccessDeniedException",
                          "not authorized to perform config:DescribeConfigurationRecorderStatus")
    history = _collect(rec, stub)
    assert rec.gaps == []  # the CIS chain and the CloudTrail history do not rest on Config
    [gap] = history.gaps
    assert gap.link is Link.CONFIG_HISTORY and gap.evidence.endswith("config.DescribeConfigurationRecorderStatus.json")
    assert history.unread == [f"the configuration recorder of {REGION}: DescribeConfigurationRecorderStatus failed "
                              "with AccessDeniedException: not authorized to perform "
                              "config:DescribeConfigurationRecorderStatus"]
