"""A plan in the three forms teams change accounts with: AWS CLI commands, CloudFormation, Terraform.

One registry (``KINDS``) says, for each resource kind, which CloudFormation type and Terraform
type it becomes and how each call parameter maps to their properties, so the forms cannot drift
apart. Settings of an existing trail become one trail resource declaring its current settings plus
the fixes, to be imported (CloudFormation resource import, Terraform ``import`` block): declaring
less would drop what the trail already has. Switching an existing alarm's actions back on has no
template form without its whole definition; it stays a CLI command, noted in both templates.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml
from botocore import xform_name

from rootwatch.remediate.actions import (
    ALARM,
    ALARM_ACTIONS,
    DELIVERY_ROLE,
    LOG_GROUP,
    METRIC_FILTER,
    SUBSCRIPTION,
    TOPIC,
    TRAIL,
    TRAIL_KINDS,
    Action,
)

CLI_RENAMES = {("sns", "Subscribe", "Endpoint"): "notification-endpoint"}  # where the CLI departs from the API


@dataclass(frozen=True)
class Kind:
    cfn_type: str
    tf_type: str
    cfn: Callable[[dict], dict]          # merged call params -> CloudFormation properties
    tf: Callable[[dict], list[tuple]]    # merged call params -> Terraform (argument, value) pairs; dict values are blocks
    arn: tuple[dict, str] | None = None  # how another resource points at this one: (CFN expression, TF expression)


def _metric_filter(p: dict) -> dict:
    t = p["metricTransformations"][0]
    return {"LogGroupName": p["logGroupName"], "FilterName": p["filterName"], "FilterPattern": p["filterPattern"],
            "MetricTransformations": [{"MetricName": t["metricName"], "MetricNamespace": t["metricNamespace"],
                                       "MetricValue": t["metricValue"]}]}


def _metric_filter_tf(p: dict) -> list[tuple]:
    t = p["metricTransformations"][0]
    return [("name", p["filterName"]), ("pattern", p["filterPattern"]), ("log_group_name", p["logGroupName"]),
            ("metric_transformation", {"name": t["metricName"], "namespace": t["metricNamespace"],
                                       "value": t["metricValue"]})]


ALARM_FIELDS = (("AlarmName", "alarm_name"), ("AlarmDescription", "alarm_description"), ("MetricName", "metric_name"),
                ("Namespace", "namespace"), ("Statistic", "statistic"), ("Period", "period"),
                ("EvaluationPeriods", "evaluation_periods"), ("Threshold", "threshold"),
                ("ComparisonOperator", "comparison_operator"), ("TreatMissingData", "treat_missing_data"),
                ("ActionsEnabled", "actions_enabled"), ("AlarmActions", "alarm_actions"))
TRAIL_FIELDS = (("S3BucketName", "s3_bucket_name"), ("S3KeyPrefix", "s3_key_prefix"),
                ("IncludeGlobalServiceEvents", "include_global_service_events"),
                ("IsMultiRegionTrail", "is_multi_region_trail"), ("KmsKeyId", "kms_key_id"),
                ("IsOrganizationTrail", "is_organization_trail"), ("SnsTopicName", "sns_topic_name"),
                ("CloudWatchLogsLogGroupArn", "cloud_watch_logs_group_arn"),
                ("CloudWatchLogsRoleArn", "cloud_watch_logs_role_arn"))


def _trail(p: dict) -> dict:
    props = {"TrailName": p["Name"], "IsLogging": True}
    props |= {cfn: p[cfn] for cfn, _ in TRAIL_FIELDS if cfn in p}
    if "LogFileValidationEnabled" in p:
        props["EnableLogFileValidation"] = p["LogFileValidationEnabled"]
    if p.get("EventSelectors"):
        props["EventSelectors"] = [{k: v for k, v in s.items() if k != "DataResources" or v}
                                   for s in p["EventSelectors"]]
    return props


def _trail_tf(p: dict) -> list[tuple]:
    pairs: list[tuple] = [("name", p["Name"]), ("enable_logging", True)]
    pairs += [(tf, p[cfn]) for cfn, tf in TRAIL_FIELDS if cfn in p]
    if "LogFileValidationEnabled" in p:
        pairs.append(("enable_log_file_validation", p["LogFileValidationEnabled"]))
    pairs += [("event_selector", {"read_write_type": s.get("ReadWriteType", "All"),
                                  "include_management_events": s.get("IncludeManagementEvents", True)})
              for s in p.get("EventSelectors") or []]
    return pairs


def _role(p: dict) -> dict:
    return {"RoleName": p["RoleName"], "AssumeRolePolicyDocument": json.loads(p["AssumeRolePolicyDocument"]),
            "Policies": [{"PolicyName": p["PolicyName"], "PolicyDocument": json.loads(p["PolicyDocument"])}]}


def _role_tf(p: dict) -> list[tuple]:
    return [("name", p["RoleName"]), ("assume_role_policy", p["AssumeRolePolicyDocument"]),
            ("inline_policy", {"name": p["PolicyName"], "policy": p["PolicyDocument"]})]


KINDS: dict[str, Kind] = {
    METRIC_FILTER: Kind("AWS::Logs::MetricFilter", "aws_cloudwatch_log_metric_filter", _metric_filter,
                        _metric_filter_tf),
    TOPIC: Kind("AWS::SNS::Topic", "aws_sns_topic", lambda p: {"TopicName": p["Name"]}, lambda p: [("name", p["Name"])],
                ({"Ref": "{id}"}, "aws_sns_topic.{id}.arn")),
    SUBSCRIPTION: Kind("AWS::SNS::Subscription", "aws_sns_topic_subscription",
                       lambda p: {"TopicArn": p["TopicArn"], "Protocol": p["Protocol"], "Endpoint": p["Endpoint"]},
                       lambda p: [("topic_arn", p["TopicArn"]), ("protocol", p["Protocol"]),
                                  ("endpoint", p["Endpoint"])]),
    ALARM: Kind("AWS::CloudWatch::Alarm", "aws_cloudwatch_metric_alarm",
                lambda p: {cfn: p[cfn] for cfn, _ in ALARM_FIELDS if cfn in p},
                lambda p: [(tf, p[cfn]) for cfn, tf in ALARM_FIELDS if cfn in p]),
    LOG_GROUP: Kind("AWS::Logs::LogGroup", "aws_cloudwatch_log_group", lambda p: {"LogGroupName": p["logGroupName"]},
                    lambda p: [("name", p["logGroupName"])],
                    ({"Fn::GetAtt": ["{id}", "Arn"]}, '"${{aws_cloudwatch_log_group.{id}.arn}}:*"')),
    DELIVERY_ROLE: Kind("AWS::IAM::Role", "aws_iam_role", _role, _role_tf,
                        ({"Fn::GetAtt": ["{id}", "Arn"]}, "aws_iam_role.{id}.arn")),
    TRAIL: Kind("AWS::CloudTrail::Trail", "aws_cloudtrail", _trail, _trail_tf),
}
NAME_REFS = {"logGroupName": ({"Ref": "{id}"}, "aws_cloudwatch_log_group.{id}.name")}  # a log group by name


@dataclass
class _Resource:
    logical_id: str
    kind: str
    params: dict
    refs: dict[str, str]
    imported: str | None  # an existing resource's name: declared to be imported, never created


def _resources(actions: list[Action]) -> list[_Resource]:
    """One resource per logical id, in plan order: a role's two calls, a trail's three, merged; an
    existing trail starts from its current settings."""
    merged: dict[str, _Resource] = {}
    for a in actions:
        if a.kind == ALARM_ACTIONS:
            continue
        kind = TRAIL if a.kind in TRAIL_KINDS else a.kind
        res = merged.setdefault(a.logical_id, _Resource(a.logical_id, kind, dict(a.facts), {},
                                                        None if a.creates else a.name))
        params = dict(a.params)
        if a.operation == "PutEventSelectors":
            params = {"EventSelectors": params["EventSelectors"]}
        if a.operation == "StartLogging":
            params = {}
        res.params.update({"Name": a.name} if kind == TRAIL else {}, **params)
        res.refs.update(a.refs)
    return list(merged.values())


def _notes(actions: list[Action]) -> list[str]:
    return [f"{a.why}: aws cloudwatch enable-alarm-actions --region {a.region} --alarm-names {a.name} "
            "(an existing alarm: no template form without its whole definition)"
            for a in actions if a.kind == ALARM_ACTIONS]


# --- AWS CLI --------------------------------------------------------------------------------------
def cli(actions: list[Action]) -> str:
    """One command per action, in order, each after a comment saying which link it fixes."""
    return "\n".join(f"# {a.why} ({a.name})\n{_command(a)}" for a in actions)


def _command(a: Action) -> str:
    words = ["aws", a.service, xform_name(a.operation, "-"), "--region", a.region]
    for key, value in a.params.items():
        flag = CLI_RENAMES.get((a.service, a.operation, key)) or xform_name(key, "-")
        if isinstance(value, bool):
            words.append(f"--{flag}" if value else f"--no-{flag}")
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            words += [f"--{flag}", *value]
        elif isinstance(value, (list, dict)):
            words += [f"--{flag}", json.dumps(value, separators=(",", ":"))]
        else:
            words += [f"--{flag}", str(value)]
    return " ".join(shlex.quote(w) for w in words)


# --- CloudFormation -------------------------------------------------------------------------------
def cloudformation(actions: list[Action]) -> dict:
    resources: dict[str, Any] = {}
    for res in _resources(actions):
        kind = KINDS[res.kind]
        props = kind.cfn(res.params)
        for key, target in res.refs.items():
            _point(props, CFN_KEYS[key], _cfn_ref(key, target, actions))
        body: dict[str, Any] = {"Type": kind.cfn_type, "Properties": props}
        if res.imported:
            body = {**body, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                    "Metadata": {"rootwatch": f"import the existing {res.imported} into the stack (resource "
                                              "import) before updating it"}}
        resources[res.logical_id] = body
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09",
                                "Description": "CIS monitoring fixes planned by rootwatch", "Resources": resources}
    if _notes(actions):
        template["Metadata"] = {"rootwatch": {"not in this template": _notes(actions)}}
    return template


def cloudformation_yaml(actions: list[Action]) -> str:
    return yaml.safe_dump(cloudformation(actions), sort_keys=False, allow_unicode=True, width=120)


CFN_KEYS = {"logGroupName": "LogGroupName", "TopicArn": "TopicArn", "AlarmActions": "AlarmActions",
            "CloudWatchLogsLogGroupArn": "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn": "CloudWatchLogsRoleArn"}


def _cfn_ref(key: str, target: str, actions: list[Action]) -> Any:
    expression = NAME_REFS[key][0] if key in NAME_REFS else KINDS[_kind_of(target, actions)].arn[0]
    return json.loads(json.dumps(expression).replace("{id}", target))


def _point(props: dict, key: str, ref: Any) -> None:
    props[key] = [ref] if isinstance(props.get(key), list) else ref


def _kind_of(logical: str, actions: list[Action]) -> str:
    return next(TRAIL if a.kind in TRAIL_KINDS else a.kind for a in actions if a.logical_id == logical)


# --- Terraform ------------------------------------------------------------------------------------
TF_KEYS = {"logGroupName": "log_group_name", "TopicArn": "topic_arn", "AlarmActions": "alarm_actions",
           "CloudWatchLogsLogGroupArn": "cloud_watch_logs_group_arn", "CloudWatchLogsRoleArn": "cloud_watch_logs_role_arn"}


@dataclass(frozen=True)
class Expr:
    """Terraform expression text, written as is (a reference), not as a string."""

    text: str


def terraform(actions: list[Action]) -> str:
    regions = sorted({a.region for a in actions})
    lines = ['terraform {', '  required_providers {', '    aws = { source = "hashicorp/aws" }', '  }', '}', '']
    for i, region in enumerate(regions):
        alias = f'\n  alias  = "{_alias(region)}"' if i else ""
        lines += [f'provider "aws" {{{alias}\n  region = {_hcl(region)}\n}}', '']
    for note in _notes(actions):
        lines.append(f"# not in this plan's resources: {note}")
    by_id = {a.logical_id: a for a in actions}
    for res in _resources(actions):
        kind = KINDS[res.kind]
        pairs = kind.tf(res.params)
        refs = {TF_KEYS[k]: _tf_ref(k, t, actions) for k, t in res.refs.items()}
        pairs = [(k, refs.get(k, v) if not isinstance(v, list) or k not in refs else [refs[k]]) for k, v in pairs]
        region = by_id[res.logical_id].region
        if res.imported:
            lines += ['import {', f'  to = {kind.tf_type}.{res.logical_id}', f'  id = {_hcl(res.imported)}', '}']
        lines.append(f'resource "{kind.tf_type}" "{res.logical_id}" {{')
        if regions.index(region):
            lines.append(f"  provider = aws.{_alias(region)}")
        lines += _body(pairs, "  ")
        lines += ["}", ""]
    return "\n".join(lines)


def _tf_ref(key: str, target: str, actions: list[Action]) -> Expr:
    expression = NAME_REFS[key][1] if key in NAME_REFS else KINDS[_kind_of(target, actions)].arn[1]
    return Expr(expression.replace("{id}", target).replace("{{", "{").replace("}}", "}"))


def _body(pairs: list[tuple], indent: str) -> list[str]:
    lines = []
    for key, value in pairs:
        if isinstance(value, dict):
            lines += [f"{indent}{key} {{", *_body(list(value.items()), indent + "  "), f"{indent}}}"]
        else:
            lines.append(f"{indent}{key} = {_hcl(value)}")
    return lines


def _hcl(value: Any) -> str:
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + text.replace("${", "$${").replace("%{", "%%{") + '"'


def _alias(region: str) -> str:
    return region.replace("-", "_")
