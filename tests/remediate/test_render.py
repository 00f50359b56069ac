"""The plan's three forms agree: CloudFormation that cfn-lint accepts, Terraform that parses and declares
the same resources, CLI commands whose arguments are exactly the calls' parameters — for every kind of
action, with the sandbox's names, and with pattern text written to break out of each form."""

from __future__ import annotations

import copy
import json
import re
import shlex
from itertools import takewhile

import botocore.session
import hcl2
import pytest
import yaml
from botocore import xform_name
from cfnlint.api import ManualArgs, lint
from hcl2.utils import SerializationOptions

from rootwatch.judge.chain import judge_all
from rootwatch.models import Link
from rootwatch.remediate import render
from rootwatch.remediate.actions import (
    ALARM,
    ALARM_ACTIONS,
    CREATED_BY,
    LOG_GROUP,
    METRIC_FILTER,
    SUBSCRIPTION,
    TOPIC,
    TRAIL_LOGGING,
    TRAIL_SELECTORS,
    TRAIL_SETTINGS,
    Action,
    logical_id,
)
from rootwatch.remediate.existing import DeliveryRole, Existing
from rootwatch.remediate.plan import plan_account

ACCOUNT, REGION = "222222222222", "us-east-1"
GROUP, TRAIL, ROLE = "aws-cloudtrail-logs-drifted", "main-trail", "CloudTrail_CloudWatchLogs_Role"
FILTER = ALARM_NAME = "cis-4.3-root-account-usage"
TOPIC_NAME, EMAIL = "cis-monitoring-alerts", "secops@example.com"
ROOT_PATTERN = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
HOSTILE = [
    '{ $.userAgent = "a\\"b\\\\c ${x} %{y} $${z} \'; rm -rf / #" }',  # quotes, backslashes, interpolations
    'line one\nline\ttwo\r\x01 $(reboot) `id` end',                 # control characters, shell substitutions
    '-ERROR',                                                         # reads as an option
    'file:///etc/passwd',                                             # the CLI would load the file
    '[ip, user, ..., status_code = 4*, size]',                        # a space-delimited pattern
]
TRAIL_FACTS = {"S3BucketName": "drifted-cloudtrail-logs", "IncludeGlobalServiceEvents": True,
               "IsMultiRegionTrail": False, "LogFileValidationEnabled": True,
               "EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True,
                                   "DataResources": [{"Type": "AWS::S3::Object",
                                                      "Values": ["arn:aws:s3:::drifted-payroll/"]}],
                                   "ExcludeManagementEventSources": []}]}
ADVANCED = [{"Name": "payroll objects", "FieldSelectors": [
    {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::drifted-payroll/"]},
    {"Field": "eventName", "NotEquals": ["GetObjectAcl"]}]}]
MANAGEMENT = {"Name": "All management events (rootwatch)",
              "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC_NAME}"
LINK_OF = {METRIC_FILTER: Link.METRIC_FILTER, TOPIC: Link.SUBSCRIBER, SUBSCRIPTION: Link.SUBSCRIBER, ALARM: Link.ALARM,
           ALARM_ACTIONS: Link.ALARM, LOG_GROUP: Link.LOG_GROUP, TRAIL_SETTINGS: Link.TRAIL,
           TRAIL_LOGGING: Link.LOGGING, TRAIL_SELECTORS: Link.MANAGEMENT_EVENTS}  # the link each kind of change fixes


def act(service: str, operation: str, params: dict, kind: str, name: str, *, creates: bool = True,
        refs: dict | None = None, facts: dict | None = None, region: str = REGION) -> Action:
    return Action(ACCOUNT, region, service, operation, params, kind, name, LINK_OF[kind], creates,
                  refs or {}, facts or {})


def _filter(pattern: str, group: str = GROUP, refs: dict | None = None) -> Action:
    return act("logs", "PutMetricFilter", {
        "logGroupName": group, "filterName": FILTER, "filterPattern": pattern,
        "metricTransformations": [{"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark",
                                   "metricValue": "1"}]}, METRIC_FILTER, FILTER, refs=refs)


def _alarm(topic_refs: dict | None = None, region: str = REGION) -> Action:
    return act("cloudwatch", "PutMetricAlarm", {
        "AlarmName": ALARM_NAME, "AlarmDescription": "CIS 4.3: root account usage (rootwatch)",
        "MetricName": "RootAccountUsage", "Namespace": "CISBenchmark", "Statistic": "Sum", "Period": 300,
        "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "ActionsEnabled": True, "AlarmActions": [TOPIC_ARN],
        "Tags": [CREATED_BY]}, ALARM, ALARM_NAME,
        refs=topic_refs, region=region)


def full_plan(pattern: str = ROOT_PATTERN) -> list[Action]:
    """Every kind: a trail to fix and to deliver to a new log group through the account's delivery
    role, the four benchmark steps on that group, and an existing alarm whose actions were switched off."""
    group_id, topic_id = logical_id(LOG_GROUP, GROUP), logical_id(TOPIC, TOPIC_NAME)
    trail = {"facts": TRAIL_FACTS, "creates": False}
    return [
        act("cloudtrail", "StartLogging", {"Name": TRAIL}, TRAIL_LOGGING, TRAIL, **trail),
        act("cloudtrail", "PutEventSelectors", {"TrailName": TRAIL, "EventSelectors": [
            {"ReadWriteType": "All", "IncludeManagementEvents": True}]}, TRAIL_SELECTORS, TRAIL, **trail),
        act("logs", "CreateLogGroup", {"logGroupName": GROUP}, LOG_GROUP, GROUP),
        act("logs", "PutRetentionPolicy", {"logGroupName": GROUP, "retentionInDays": 365}, LOG_GROUP, GROUP),
        act("cloudtrail", "UpdateTrail", {
            "Name": TRAIL, "IsMultiRegionTrail": True,
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
            "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"}, TRAIL_SETTINGS, TRAIL,
            refs={"CloudWatchLogsLogGroupArn": group_id}, **trail),
        _filter(pattern, refs={"logGroupName": group_id}),
        act("sns", "CreateTopic", {"Name": TOPIC_NAME, "Tags": [CREATED_BY]}, TOPIC, TOPIC_NAME),
        act("sns", "Subscribe", {"TopicArn": TOPIC_ARN, "Protocol": "email", "Endpoint": EMAIL}, SUBSCRIPTION,
            f"{TOPIC_NAME} {EMAIL}", refs={"TopicArn": topic_id}),
        _alarm({"AlarmActions": topic_id}),
        act("cloudwatch", "EnableAlarmActions", {"AlarmNames": ["RootUsage"]}, ALARM_ACTIONS, "RootUsage",
            creates=False),
    ]


def existing_chain_plan() -> list[Action]:
    """Nothing to point at: a filter on the existing group, an alarm on an existing confirmed topic, a
    trail that only needs to log again (so the template carries only what it has)."""
    return [act("cloudtrail", "StartLogging", {"Name": TRAIL}, TRAIL_LOGGING, TRAIL, creates=False,
                facts={**TRAIL_FACTS, "IsMultiRegionTrail": True,
                       "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
                       "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"}),
            _filter(ROOT_PATTERN), _alarm()]


def two_region_plan() -> list[Action]:
    """The topic and its alarm in another region than the trail: Terraform needs an aliased provider."""
    west = "eu-west-1"
    topic = act("sns", "CreateTopic", {"Name": TOPIC_NAME}, TOPIC, TOPIC_NAME, region=west)
    return [act("cloudtrail", "StartLogging", {"Name": TRAIL}, TRAIL_LOGGING, TRAIL, creates=False, facts=TRAIL_FACTS),
            topic, _alarm({"AlarmActions": topic.logical_id}, region=west)]


def advanced_selector_plan() -> list[Action]:
    """A trail on advanced selectors: its data-event selector kept, a management selector added."""
    facts = {**TRAIL_FACTS, "IsMultiRegionTrail": True, "AdvancedEventSelectors": ADVANCED}
    del facts["EventSelectors"]
    return [act("cloudtrail", "PutEventSelectors", {"TrailName": TRAIL, "AdvancedEventSelectors": [
        *ADVANCED, MANAGEMENT]}, TRAIL_SELECTORS, TRAIL, creates=False, facts=facts)]


PLANS = {"every kind": full_plan, "existing chain": existing_chain_plan, "two regions": two_region_plan,
         "advanced selectors": advanced_selector_plan}


def _terraform(actions: list[Action]) -> dict:
    return hcl2.loads(render.terraform(actions), serialization_options=SerializationOptions(strip_string_quotes=True))


def _declared(parsed: dict) -> dict[tuple[str, str], dict]:
    """{(type, label): body} of a parsed configuration's resources."""
    return {(kind, label): body for block in parsed["resource"] for kind, labelled in block.items()
            for label, body in labelled.items()}


def _unescaped(value: str) -> str:
    """A parsed quoted string's text: python-hcl2 resolves escapes but keeps the template escapes."""
    return re.sub(r"([$%])\1\{", r"\1{", value)


def _references(value) -> set[tuple[str, str]]:
    """The (type, label) of every resource an expression names."""
    if isinstance(value, dict):
        return set().union(*map(_references, value.values()))
    if isinstance(value, list):
        return set().union(*map(_references, value))
    return set(re.findall(r"\$\{(aws_[a-z0-9_]+)\.(\w+)", value)) if isinstance(value, str) else set()


# --- CloudFormation -------------------------------------------------------------------------------
@pytest.mark.parametrize("plan", PLANS)
def test_cloudformation_passes_cfn_lint(plan):
    actions = PLANS[plan]()
    regions = sorted({a.region for a in actions})
    matches = lint(render.cloudformation_yaml(actions), config=ManualArgs(regions=regions, include_checks=["I"]))
    assert [str(m) for m in matches] == []


def test_cloudformation_declares_every_created_resource_with_references():
    resources = render.cloudformation(full_plan())["Resources"]
    assert {name: r["Type"] for name, r in resources.items()} == {
        "TrailMainTrail": "AWS::CloudTrail::Trail", "LogGroupAwsCloudtrailLogsDrifted": "AWS::Logs::LogGroup",
        "MetricFilterCis43RootAccountUsage": "AWS::Logs::MetricFilter",
        "TopicCisMonitoringAlerts": "AWS::SNS::Topic",
        "SubscriptionCisMonitoringAlertsSecopsExampleCom": "AWS::SNS::Subscription",
        "AlarmCis43RootAccountUsage": "AWS::CloudWatch::Alarm"}
    assert resources["MetricFilterCis43RootAccountUsage"]["Properties"] == {
        "FilterName": FILTER, "LogGroupName": {"Ref": "LogGroupAwsCloudtrailLogsDrifted"}, "FilterPattern": ROOT_PATTERN,
        "MetricTransformations": [{"MetricName": "RootAccountUsage", "MetricNamespace": "CISBenchmark",
                                   "MetricValue": "1"}]}
    assert resources["SubscriptionCisMonitoringAlertsSecopsExampleCom"]["Properties"]["TopicArn"] == {
        "Ref": "TopicCisMonitoringAlerts"}
    alarm = resources["AlarmCis43RootAccountUsage"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "TopicCisMonitoringAlerts"}] and alarm["Threshold"] == 1.0
    assert alarm["Tags"] == resources["TopicCisMonitoringAlerts"]["Properties"]["Tags"] == [CREATED_BY]
    assert resources["LogGroupAwsCloudtrailLogsDrifted"]["Properties"] == {"LogGroupName": GROUP,
                                                                          "RetentionInDays": 365}


def test_the_existing_trail_is_one_imported_resource_with_what_it_has_and_the_fixes():
    trail = render.cloudformation(full_plan())["Resources"]["TrailMainTrail"]
    assert trail["DeletionPolicy"] == trail["UpdateReplacePolicy"] == "Retain"
    assert trail["Metadata"]["rootwatch"].startswith("import the existing AWS::CloudTrail::Trail main-trail")
    assert trail["Properties"] == {
        "IsLogging": True, "S3BucketName": "drifted-cloudtrail-logs", "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "TrailName": TRAIL,
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
        "CloudWatchLogsLogGroupArn": {"Fn::GetAtt": ["LogGroupAwsCloudtrailLogsDrifted", "Arn"]},
        "CloudWatchLogsRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"}  # the account's role: never created
    kept = render.cloudformation(existing_chain_plan())["Resources"]["TrailMainTrail"]["Properties"]
    assert kept["EventSelectors"][0]["DataResources"] == TRAIL_FACTS["EventSelectors"][0]["DataResources"]


def test_switching_alarm_actions_on_is_a_note_with_its_command_not_a_resource():
    template = render.cloudformation(full_plan())
    [note] = template["Metadata"]["rootwatch"]["not in this template"]
    assert note.endswith("aws cloudwatch enable-alarm-actions --region us-east-1 --alarm-names RootUsage")
    assert "RootUsage" not in json.dumps(template["Resources"])
    assert f"# not declared here: {note}\n" in render.terraform(full_plan())


# --- Terraform ------------------------------------------------------------------------------------
@pytest.mark.parametrize("plan", PLANS)
def test_terraform_parses_and_declares_the_cloudformation_resources(plan):
    actions = PLANS[plan]()
    declared = _declared(_terraform(actions))
    assert {label for _, label in declared} == set(render.cloudformation(actions)["Resources"])
    imports = {i["to"] for i in _terraform(actions).get("import", [])}
    assert _references(list(declared.values())) | {tuple(i[2:-1].split(".")) for i in imports} <= set(declared)


def test_terraform_points_at_resources():
    declared = _declared(_terraform(full_plan()))
    trail = declared["aws_cloudtrail", "TrailMainTrail"]
    assert trail["cloud_watch_logs_group_arn"] == "${aws_cloudwatch_log_group.LogGroupAwsCloudtrailLogsDrifted.arn}:*"
    assert trail["cloud_watch_logs_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
    assert not any(kind.startswith("aws_iam") for kind, _ in declared)
    assert declared["aws_cloudwatch_log_metric_filter", "MetricFilterCis43RootAccountUsage"]["log_group_name"] == (
        "${aws_cloudwatch_log_group.LogGroupAwsCloudtrailLogsDrifted.name}")
    alarm = declared["aws_cloudwatch_metric_alarm", "AlarmCis43RootAccountUsage"]
    assert alarm["alarm_actions"] == ["${aws_sns_topic.TopicCisMonitoringAlerts.arn}"]
    assert (alarm["threshold"], alarm["period"], alarm["actions_enabled"]) == (1.0, 300, True)
    assert alarm["tags"] == declared["aws_sns_topic", "TopicCisMonitoringAlerts"]["tags"] == {
        CREATED_BY["Key"]: CREATED_BY["Value"]}
    assert declared["aws_sns_topic_subscription", "SubscriptionCisMonitoringAlertsSecopsExampleCom"]["topic_arn"] == (
        "${aws_sns_topic.TopicCisMonitoringAlerts.arn}")


def test_terraform_imports_the_existing_trail_with_the_desired_settings():
    parsed = _terraform(existing_chain_plan())
    assert parsed["import"] == [{"to": "${aws_cloudtrail.TrailMainTrail}", "id": TRAIL, "__is_block__": True}]
    trail = _declared(parsed)["aws_cloudtrail", "TrailMainTrail"]
    assert (trail["enable_logging"], trail["is_multi_region_trail"], trail["s3_bucket_name"]) == (
        True, True, "drifted-cloudtrail-logs")
    [selector] = trail["event_selector"]
    assert (selector["read_write_type"], selector["include_management_events"]) == ("WriteOnly", True)
    assert selector["data_resource"][0]["values"] == ["arn:aws:s3:::drifted-payroll/"]  # kept, not dropped
    fixed = _declared(_terraform(full_plan()))["aws_cloudtrail", "TrailMainTrail"]["event_selector"]
    assert [(s["read_write_type"], s["include_management_events"]) for s in fixed] == [("All", True)]


def test_advanced_selectors_are_declared_whole_in_both_templates():
    """The trail's advanced selectors as they are, plus the added one: a template declaring fewer would drop them."""
    expected = [*ADVANCED, MANAGEMENT]
    properties = render.cloudformation(advanced_selector_plan())["Resources"]["TrailMainTrail"]["Properties"]
    assert properties["AdvancedEventSelectors"] == expected and "EventSelectors" not in properties
    trail = _declared(_terraform(advanced_selector_plan()))["aws_cloudtrail", "TrailMainTrail"]
    assert "event_selector" not in trail
    assert [{"name": s["name"], "field_selector": [{k: v for k, v in f.items() if k != "__is_block__"}
                                                   for f in s["field_selector"]]}
            for s in trail["advanced_event_selector"]] == [
        {"name": s["Name"], "field_selector": [{xform_name(k): v for k, v in f.items()} for f in s["FieldSelectors"]]}
        for s in expected]


def test_terraform_has_a_provider_per_region_and_resources_use_theirs():
    parsed = _terraform(two_region_plan())
    assert [{k: v for k, v in p["aws"].items() if k != "__is_block__"} for p in parsed["provider"]] == [
        {"region": "us-east-1"}, {"alias": "eu_west_1", "region": "eu-west-1"}]  # the plan's first region: default
    declared = _declared(parsed)
    assert declared["aws_sns_topic", "TopicCisMonitoringAlerts"]["provider"] == "${aws.eu_west_1}"
    assert "provider" not in declared["aws_cloudtrail", "TrailMainTrail"]
    assert "one stack per region" in render.cloudformation(two_region_plan())["Description"]


# --- text that tries to break out -----------------------------------------------------------------
@pytest.mark.parametrize("pattern", [ROOT_PATTERN, *HOSTILE])
def test_patterns_survive_every_form_exactly(pattern):
    actions = full_plan(pattern)
    [body] = [b for (kind, _), b in _declared(_terraform(actions)).items() if kind == "aws_cloudwatch_log_metric_filter"]
    assert _unescaped(body["pattern"]) == pattern
    resources = yaml.safe_load(render.cloudformation_yaml(actions))["Resources"]
    assert resources["MetricFilterCis43RootAccountUsage"]["Properties"]["FilterPattern"] == pattern
    [command] = [_call(argv) for argv in _commands(actions) if argv[2] == "put-metric-filter"]
    assert command[3]["filterPattern"] == pattern


def test_hcl_escapes_keep_literal_dollars_and_percents():
    for text in ["$${", "$$${a}", "%%{", "a$", "$", "%", "\\${x}", "${", "%{"]:
        unescaped = render._hcl_text(text).replace("$${", "").replace("%%{", "")
        assert "${" not in unescaped and "%{" not in unescaped  # nothing left to start a template
    assert render._hcl_text("$${a}") == "$$${a}"  # HCL reads '$' then the escape '$${': '$${a}' again
    assert render._hcl_text('"\\\n\x00') == '\\"\\\\\\n\\u0000'


# --- AWS CLI --------------------------------------------------------------------------------------
def _commands(actions: list[Action]) -> list[list[str]]:
    """Each action's command as argv: one comment line, then the command (a quoted word may span lines)."""
    texts = [render.cli([a]) for a in actions]
    assert "\n".join(texts) == render.cli(actions)
    return [shlex.split(text.split("\n", 1)[1]) for text in texts]


def _call(argv: list[str]) -> tuple[str, str, str, dict]:
    """The call an ``aws`` command makes, read as the CLI reads it: flags from botocore's model of the
    operation, typed by its shapes, JSON for structures, ``--cli-input-json`` as data."""
    assert argv[0] == "aws" and argv[3] == "--region"
    service, region = argv[1], argv[4]
    model = botocore.session.get_session().get_service_model(service)
    [operation] = [op for op in model.operation_names if xform_name(op, "-") == argv[2]]
    members = model.operation_model(operation).input_shape.members
    flags = {"--" + (render.CLI_RENAMES.get((service, operation, m)) or xform_name(m, "-")): m for m in members}
    params: dict = {}
    words = argv[5:]
    while words:
        flag, words = words[0], words[1:]
        if flag == "--cli-input-json":
            params |= json.loads(words[0])
            words = words[1:]
            continue
        negated = flag not in flags and flag.startswith("--no-")
        member = flags["--" + flag[5:] if negated else flag]
        if members[member].type_name == "boolean":
            params[member] = not negated
            continue
        values = list(takewhile(lambda w: not w.startswith("-"), words))
        words = words[len(values):]
        params[member] = _typed(members[member], values)
    return service, operation, region, params


def _typed(shape, values: list[str]):
    if shape.type_name == "list" and shape.member.type_name == "string" and not values[0].startswith("["):
        return values
    [value] = values
    return {"integer": int, "double": float, "string": str}.get(shape.type_name, json.loads)(value)


@pytest.mark.parametrize("plan", PLANS)
def test_cli_commands_are_exactly_the_calls(plan):
    actions = PLANS[plan]()
    assert [_call(argv) for argv in _commands(actions)] == [(a.service, a.operation, a.region, a.params)
                                                           for a in actions]
    comments = [line for line in render.cli(actions).splitlines() if line.startswith("#")]
    assert comments == [f"# {a.why} ({a.name})" for a in actions]


def test_cli_words_are_the_ones_the_aws_cli_documents():
    commands = {argv[2]: argv for argv in _commands(full_plan())}
    assert commands["update-trail"][5:] == [
        "--name", TRAIL, "--is-multi-region-trail",
        "--cloud-watch-logs-log-group-arn", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
        "--cloud-watch-logs-role-arn", f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"]
    assert commands["subscribe"][5:] == ["--topic-arn", TOPIC_ARN, "--protocol", "email",
                                         "--notification-endpoint", EMAIL]
    assert commands["put-metric-filter"][5:11] == ["--log-group-name", GROUP, "--filter-name", FILTER,
                                                   "--filter-pattern", ROOT_PATTERN]
    assert json.loads(commands["put-metric-filter"][12]) == _filter(ROOT_PATTERN).params["metricTransformations"]
    alarm = commands["put-metric-alarm"]
    assert "--actions-enabled" in alarm and alarm[alarm.index("--alarm-actions") + 1:-2] == [TOPIC_ARN]
    assert alarm[-2:] == ["--tags", json.dumps([CREATED_BY])]
    assert commands["enable-alarm-actions"][5:] == ["--alarm-names", "RootUsage"]
    disabled = act("cloudwatch", "PutMetricAlarm", {"AlarmName": "a", "ActionsEnabled": False}, ALARM, "a")
    assert _commands([disabled])[0][-1] == "--no-actions-enabled"


def test_values_the_cli_would_misread_go_as_data():
    for pattern in ["-ERROR", "file:///etc/passwd"]:
        [argv] = _commands([_filter(pattern)])
        assert "--filter-pattern" not in argv
        assert json.loads(argv[argv.index("--cli-input-json") + 1]) == {"filterPattern": pattern}
    odd = act("cloudwatch", "EnableAlarmActions", {"AlarmNames": ["[x]", "y"]}, ALARM_ACTIONS, "[x]", creates=False)
    [argv] = _commands([odd])
    assert argv[5:] == ["--cli-input-json", '{"AlarmNames": ["[x]", "y"]}']


def test_line_breaks_in_names_stay_inside_comments():
    sneaky = act("sns", "CreateTopic", {"Name": "t"}, TOPIC, "t\nrm -rf /")
    assert render.cli([sneaky]).splitlines() == ["# fixes the confirmed subscriber link (t rm -rf /)",
                                                 "aws sns create-topic --region us-east-1 --name t"]


# --- every form ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planned(evidence, catalog):
    """The planner's own plans for the sandbox's drifted account, as found and with its trail broken
    (not logging, single-region, no CloudWatch Logs delivery, no confirmed subscriber)."""
    broken = copy.deepcopy(evidence[ACCOUNT])
    [trail] = broken.trails
    trail["rw:status"]["IsLogging"], trail["IsMultiRegionTrail"] = False, False
    del trail["CloudWatchLogsLogGroupArn"]
    broken.subscriptions = []
    controls = catalog.controls()
    role = Existing(role=DeliveryRole(ROLE, f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"))
    return [plan_account(ev, judge_all([ev], controls), {c.id: c for c in controls}, [EMAIL], role).actions
            for ev in (evidence[ACCOUNT], broken)]


def test_the_planners_plans_render_in_every_form(planned):
    """Every parameter the planner writes has a place in each form (the renderer refuses unknown ones)."""
    for actions in planned:
        regions = sorted({a.region for a in actions})
        assert list(lint(render.cloudformation_yaml(actions), config=ManualArgs(regions=regions))) == []
        labels = {label for _, label in _declared(_terraform(actions))}
        assert labels == set(render.cloudformation(actions)["Resources"])
        assert [_call(argv) for argv in _commands(actions)] == [(a.service, a.operation, a.region, a.params)
                                                               for a in actions]


@pytest.mark.parametrize("plan", PLANS)
def test_output_is_stable(plan):
    first, again = PLANS[plan](), copy.deepcopy(PLANS[plan]())
    for form in (render.cli, render.cloudformation_yaml, render.terraform):
        assert form(first) == form(again) == form(first)
    assert first == PLANS[plan]()  # rendering leaves the plan as it was


def test_what_a_form_cannot_say_is_refused_not_dropped():
    with pytest.raises(ValueError, match="DatapointsToAlarm"):
        render.terraform([act("cloudwatch", "PutMetricAlarm", {"AlarmName": "a", "DatapointsToAlarm": 1}, ALARM, "a")])
    with pytest.raises(ValueError, match="does not make"):
        render.cloudformation([_alarm({"AlarmActions": "TopicElsewhere"})])
    with pytest.raises(ValueError, match="would both be"):  # two names, one logical id
        render.cloudformation([act("sns", "CreateTopic", {"Name": "a-b"}, TOPIC, "a-b"),
                               act("sns", "CreateTopic", {"Name": "a_b"}, TOPIC, "a_b")])
