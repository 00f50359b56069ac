"""A plan in the three forms teams change accounts with: AWS CLI commands, CloudFormation, Terraform.

One registry (``KINDS``) says, for each resource kind, its CloudFormation and Terraform types and
which property and argument each call parameter becomes, so the forms cannot drift apart: a
parameter the registry does not know is refused, never silently dropped.

The calls that build one resource become one declaration: a trail's UpdateTrail, StartLogging and
PutEventSelectors one trail.
A trail is an existing resource (``creates=False``) that a stack or a Terraform state can change only
after taking it over, so it is declared with everything it has now (``Action.facts``) plus the fixes,
marked for import (CloudFormation resource import, Terraform ``import`` block) and kept if the stack
or configuration is deleted: declaring only the fixes would drop the rest of its settings. The log
group the trail delivers to is kept too: its events are the evidence.

EnableAlarmActions on an existing alarm has no template form short of the alarm's whole definition,
which the plan does not carry: it stays a CLI command, quoted in the template's ``Metadata`` and as a
Terraform comment.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

import yaml
from botocore import xform_name

from rootwatch.models import Step
from rootwatch.remediate.actions import (
    ALARM,
    ALARM_ACTIONS,
    LOG_GROUP,
    METRIC_FILTER,
    SUBSCRIPTION,
    TOPIC,
    TRAIL_KINDS,
    Action,
)

ARN, NAME = "arn", "name"  # what a parameter pointing at another resource takes of it


@dataclass(frozen=True)
class Field:
    """One call parameter (as the API names it), and the Terraform argument and CloudFormation
    property it becomes."""

    api: str
    tf: str
    cfn_name: str = ""              # when the property is not named like the parameter (logs' camelCase)
    parts: tuple[Field, ...] = ()   # a list of structures: CloudFormation objects, Terraform nested blocks
    tags: bool = False              # [{Key, Value}] in the API and CloudFormation, a map in Terraform
    wants: str = ARN                # what it takes of a resource it points at (``Action.refs``)

    @property
    def cfn(self) -> str:
        return self.cfn_name or self.api


@dataclass(frozen=True)
class Attribute:
    """How each form names an attribute of a resource, for the parameters that point at it."""

    cfn_getatt: str      # the ``Fn::GetAtt`` attribute; empty: the resource's ``Ref`` gives it
    tf: str
    tf_suffix: str = ""  # what the Terraform value lacks of the API's form (a log group ARN's ':*')


@dataclass(frozen=True)
class Kind:
    cfn_type: str
    tf_type: str
    fields: tuple[Field, ...]
    attributes: dict[str, Attribute] = field(default_factory=dict)
    desired: dict[str, Any] = field(default_factory=dict)  # what every declaration of it says: a trail logs
    kept: bool = False  # holds the audit trail's logs: deleting the stack or configuration must not delete it


TRANSFORMATION = (Field("metricName", "name", "MetricName"), Field("metricNamespace", "namespace", "MetricNamespace"),
                  Field("metricValue", "value", "MetricValue"), Field("defaultValue", "default_value", "DefaultValue"),
                  Field("unit", "unit", "Unit"))
EVENT_SELECTOR = (Field("ReadWriteType", "read_write_type"),
                  Field("IncludeManagementEvents", "include_management_events"),
                  Field("ExcludeManagementEventSources", "exclude_management_event_sources"),
                  Field("DataResources", "data_resource", parts=(Field("Type", "type"), Field("Values", "values"))))
ADVANCED_SELECTOR = (Field("Name", "name"), Field("FieldSelectors", "field_selector", parts=tuple(
    Field(api, xform_name(api)) for api in ("Field", "Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith",
                                            "NotEndsWith"))))
TAGS = Field("Tags", "tags", tags=True)
ALARM_ARGUMENTS = (("AlarmName", "alarm_name"), ("AlarmDescription", "alarm_description"),
                   ("ActionsEnabled", "actions_enabled"), ("AlarmActions", "alarm_actions"),
                   ("MetricName", "metric_name"), ("Namespace", "namespace"), ("Statistic", "statistic"),
                   ("Period", "period"), ("EvaluationPeriods", "evaluation_periods"), ("Threshold", "threshold"),
                   ("ComparisonOperator", "comparison_operator"), ("TreatMissingData", "treat_missing_data"))
TRAIL_ARGUMENTS = (("S3BucketName", "s3_bucket_name"), ("S3KeyPrefix", "s3_key_prefix"),
                   ("IncludeGlobalServiceEvents", "include_global_service_events"),
                   ("IsMultiRegionTrail", "is_multi_region_trail"), ("IsOrganizationTrail", "is_organization_trail"),
                   ("KmsKeyId", "kms_key_id"), ("SnsTopicName", "sns_topic_name"),
                   ("CloudWatchLogsLogGroupArn", "cloud_watch_logs_group_arn"),
                   ("CloudWatchLogsRoleArn", "cloud_watch_logs_role_arn"))

KINDS: dict[str, Kind] = {
    METRIC_FILTER: Kind("AWS::Logs::MetricFilter", "aws_cloudwatch_log_metric_filter", (
        Field("filterName", "name", "FilterName"),
        Field("logGroupName", "log_group_name", "LogGroupName", wants=NAME),
        Field("filterPattern", "pattern", "FilterPattern"),
        Field("metricTransformations", "metric_transformation", "MetricTransformations", parts=TRANSFORMATION))),
    TOPIC: Kind("AWS::SNS::Topic", "aws_sns_topic", (Field("Name", "name", "TopicName"), TAGS),
                {ARN: Attribute("", "arn")}),
    SUBSCRIPTION: Kind("AWS::SNS::Subscription", "aws_sns_topic_subscription", (
        Field("TopicArn", "topic_arn"), Field("Protocol", "protocol"), Field("Endpoint", "endpoint"))),
    ALARM: Kind("AWS::CloudWatch::Alarm", "aws_cloudwatch_metric_alarm",
                (*(Field(api, tf) for api, tf in ALARM_ARGUMENTS), TAGS)),
    LOG_GROUP: Kind("AWS::Logs::LogGroup", "aws_cloudwatch_log_group", (
        Field("logGroupName", "name", "LogGroupName"), Field("retentionInDays", "retention_in_days", "RetentionInDays")),
        {NAME: Attribute("", "name"), ARN: Attribute("Arn", "arn", ":*")}, kept=True),
    **dict.fromkeys(TRAIL_KINDS, Kind("AWS::CloudTrail::Trail", "aws_cloudtrail", (
        Field("Name", "name", "TrailName"), Field("IsLogging", "enable_logging"),
        *(Field(api, tf) for api, tf in TRAIL_ARGUMENTS),
        Field("LogFileValidationEnabled", "enable_log_file_validation", "EnableLogFileValidation"),
        Field("EventSelectors", "event_selector", parts=EVENT_SELECTOR),
        Field("AdvancedEventSelectors", "advanced_event_selector", parts=ADVANCED_SELECTOR)),
        desired={"IsLogging": True})),
}
UNDECLARED = {ALARM_ACTIONS: "an existing alarm: no template form without its whole definition"}


def _selectors(state: dict, p: dict) -> dict:
    """PutEventSelectors sets the selectors of the kind it names; the trail has one kind at a time."""
    kind = "AdvancedEventSelectors" if "AdvancedEventSelectors" in p else "EventSelectors"
    other = "EventSelectors" if kind == "AdvancedEventSelectors" else "AdvancedEventSelectors"
    state.pop(other, None)
    return {"Name": p["TrailName"], kind: p[kind]}


def _as_is(state: dict, p: dict) -> dict:
    return p


# how a call's parameters change the resource, as the API describes it (any other call: ``_as_is``)
MERGES: dict[str, Callable[[dict, dict], dict]] = {
    "StartLogging": lambda state, p: {"Name": p["Name"]},  # IsLogging: every declared trail logs
    "PutEventSelectors": _selectors,
}


@dataclass(frozen=True)
class Ref:
    """A parameter's value that is another resource of the plan: each form names it its own way."""

    logical_id: str
    kind: Kind
    attribute: str  # ARN or NAME


@dataclass
class _Resource:
    logical_id: str
    kind: Kind
    name: str
    region: str
    imported: bool                   # an existing resource: declared to be imported, never created
    state: dict[str, Any]            # the resource as the API describes it once the plan's calls are made
    refs: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> bool:
        """Outlives the stack or configuration: it existed before, or it holds the trail's logs."""
        return self.imported or self.kind.kept


def _resources(actions: list[Action]) -> list[_Resource]:
    """One resource per logical id, in plan order, each the merge of its calls; an existing one starts
    from its current settings. Parameters that point at another resource become ``Ref``s."""
    merged: dict[str, _Resource] = {}
    for a in actions:
        if a.kind in UNDECLARED:
            continue
        if a.kind not in KINDS:
            raise ValueError(f"{a.operation} {a.name}: no template form for resource kind {a.kind!r}")
        kind = KINDS[a.kind]
        res = merged.setdefault(a.logical_id, _Resource(a.logical_id, kind, a.name, a.region, not a.creates,
                                                        {**kind.desired, **a.facts}))
        if (res.kind, res.name, res.region) != (kind, a.name, a.region):
            raise ValueError(f"{a.operation} {a.name} ({a.region}) and {res.name} ({res.region}) would both be "
                             f"resource {a.logical_id}")
        res.state.update(MERGES.get(a.operation, _as_is)(res.state, a.params))
        res.refs.update(a.refs)
    for res in merged.values():
        for key, target in res.refs.items():
            res.state[key] = _pointer(res, key, merged.get(target))
    return list(merged.values())


def _pointer(res: _Resource, key: str, target: _Resource | None) -> Ref | list[Ref]:
    """The value of ``key`` as a reference to ``target``: a list parameter must hold that one resource."""
    if target is None:
        raise ValueError(f"{res.logical_id}.{key} refers to {res.refs[key]}, which the plan does not make")
    _known(res.kind.fields, {key: None})
    wants = next(f.wants for f in res.kind.fields if f.api == key)
    if wants not in target.kind.attributes:
        raise ValueError(f"{res.logical_id}.{key} wants the {wants} of {target.logical_id}, which has none")
    ref = Ref(target.logical_id, target.kind, wants)
    value = res.state[key]
    if isinstance(value, list) and len(value) != 1:
        raise ValueError(f"{res.logical_id}.{key}: which of {value} is {target.logical_id}?")
    return [ref] if isinstance(value, list) else ref


def _known(fields: tuple[Field, ...], structure: dict) -> None:
    unknown = set(structure) - {f.api for f in fields}
    if unknown:
        raise ValueError(f"no template form for {sorted(unknown)}: add it to render.KINDS")


def _notes(actions: list[Action]) -> list[str]:
    return [_one_line(f"{a.why}, {UNDECLARED[a.kind]}: {_command(a)}") for a in actions if a.kind in UNDECLARED]


def _one_line(text: str) -> str:
    """Comment text: a line break in a name would end the comment and start a command."""
    return " ".join(text.split())


# --- AWS CLI --------------------------------------------------------------------------------------
CLI_RENAMES = {("sns", "Subscribe", "Endpoint"): "notification-endpoint"}  # awscli's argrename, for these calls
PARAMFILE_PREFIXES = ("file://", "fileb://", "http://", "https://")         # the CLI loads such a value's target


def cli(actions: list[Action]) -> str:
    """One command per action, in plan order, each after a comment saying which link it fixes. The
    services' CLI names are their boto3 names (logs, sns, cloudwatch, cloudtrail, iam)."""
    return "\n".join(f"# {s.title}\n{s.command}" for s in map(step, actions))


def step(action: Action) -> Step:
    """An action in its CLI form: what a report advises is what ``rootwatch remediate`` runs."""
    return Step(action.link, _one_line(f"{action.why} ({action.name})"), _command(action))


def _command(a: Action) -> str:
    """Values the CLI would not take as written go in ``--cli-input-json``, which it reads as data."""
    words = ["aws", a.service, xform_name(a.operation, "-"), "--region", a.region]
    verbatim: dict[str, Any] = {}
    for key, value in a.params.items():
        flag = "--" + (CLI_RENAMES.get((a.service, a.operation, key)) or xform_name(key, "-"))
        option = _option(flag, value)
        if option is None:
            verbatim[key] = value
        else:
            words += option
    if verbatim:
        words += ["--cli-input-json", json.dumps(verbatim)]
    return " ".join(shlex.quote(w) for w in words)


def _option(flag: str, value: Any) -> list[str] | None:
    """The words that pass one parameter, or None when the CLI would misread it: a word starting with
    '-' reads as an option, one starting with 'file://' (or, in CLI v1, 'https://') as a file or page
    to load, a list whose first item starts with '[' as JSON."""
    if isinstance(value, bool):
        return [flag if value else f"--no-{flag[2:]}"]
    if isinstance(value, (int, float)):
        return [flag, str(value)]
    if isinstance(value, str):
        return None if _misread(value) else [flag, value]
    if value and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None if value[0].startswith("[") or any(map(_misread, value)) else [flag, *value]
    return [flag, json.dumps(value)]


def _misread(word: str) -> bool:
    return word.startswith("-") or word.lower().startswith(PARAMFILE_PREFIXES)


# --- CloudFormation -------------------------------------------------------------------------------
def cloudformation(actions: list[Action]) -> dict:
    """A template of the plan's resources. An existing resource (the trail) is retained on delete and
    says in its Metadata that it must be imported into the stack first: a stack cannot create what
    exists. A stack lives in one region, so a plan spanning several says so in its Description."""
    resources = {res.logical_id: _cfn_resource(res) for res in _resources(actions)}
    regions = sorted({a.region for a in actions})
    accounts = ", ".join(sorted({a.account_id for a in actions}))
    where = f"in {regions[0]}" if len(regions) == 1 else f"one stack per region ({', '.join(regions)})"
    template: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09",
                                "Description": f"CIS monitoring fixes planned by rootwatch for account {accounts}, "
                                               f"to deploy {where}"}
    if _notes(actions):
        template["Metadata"] = {"rootwatch": {"not in this template": _notes(actions)}}
    template["Resources"] = resources
    return template


class _Dumper(yaml.SafeDumper):
    """YAML without anchors and aliases: CloudFormation rejects them (one tag list shared by two
    resources would otherwise be written once and referred to)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def cloudformation_yaml(actions: list[Action]) -> str:
    """The template as YAML, in declaration order (``cfn-lint`` and the console read it as is)."""
    return yaml.dump(cloudformation(actions), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _cfn_resource(res: _Resource) -> dict:
    body: dict[str, Any] = {"Type": res.kind.cfn_type, "Properties": _cfn_properties(res.kind.fields, res.state)}
    if res.kept:
        body |= {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    if res.imported:
        body["Metadata"] = {"rootwatch": f"import the existing {res.kind.cfn_type} {res.name} into the stack "
                                         "(resource import) before updating the stack with these properties"}
    return body


def _cfn_properties(fields: tuple[Field, ...], structure: dict) -> dict:
    _known(fields, structure)
    return {f.cfn: _cfn_value(f, structure[f.api]) for f in fields if f.api in structure}


def _cfn_value(f: Field, value: Any) -> Any:
    if f.parts:
        return [_cfn_properties(f.parts, item) for item in value]
    if isinstance(value, list):
        return [_cfn_ref(v) if isinstance(v, Ref) else v for v in value]
    return _cfn_ref(value) if isinstance(value, Ref) else value


def _cfn_ref(ref: Ref) -> dict:
    attribute = ref.kind.attributes[ref.attribute]
    return {"Fn::GetAtt": [ref.logical_id, attribute.cfn_getatt]} if attribute.cfn_getatt else {"Ref": ref.logical_id}


# --- Terraform ------------------------------------------------------------------------------------
TERRAFORM_SETTINGS = """terraform {
  required_version = ">= 1.5.0" # import blocks
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}"""


@dataclass(frozen=True)
class Expr:
    """Terraform expression text, written as is (a reference), not as a string."""

    text: str


@dataclass(frozen=True)
class Block:
    """A nested block: its arguments and blocks, in order."""

    pairs: list[tuple[str, Any]]


def terraform(actions: list[Action]) -> str:
    """A configuration of the plan's resources: one ``provider "aws"`` per region (the first action's
    region is the default, the others aliased), references between resources instead of ARNs, and an
    ``import`` block for each existing resource so that ``terraform apply`` takes it over."""
    regions = list(dict.fromkeys(a.region for a in actions))  # the plan's first region is the default
    aliases = {region: region.replace("-", "_") if i else "" for i, region in enumerate(regions)}
    parts = [TERRAFORM_SETTINGS]
    parts += [_block('provider "aws"', [*([("alias", alias)] if alias else []), ("region", region)])
              for region, alias in aliases.items()]
    parts += [f"# not declared here: {note}" for note in _notes(actions)]
    for res in _resources(actions):
        provider = Expr(f"aws.{aliases[res.region]}") if aliases[res.region] else None
        parts += _tf_resource(res, provider)
    return "\n\n".join(parts) + "\n"


def _tf_resource(res: _Resource, provider: Expr | None) -> list[str]:
    """The import block (an existing resource), then the resource."""
    meta = [("provider", provider)] if provider else []
    address = f"{res.kind.tf_type}.{res.logical_id}"
    blocks = [_block("import", [("to", Expr(address)), ("id", res.name), *meta])] if res.imported else []
    trailing = [("lifecycle", Block([("prevent_destroy", True)]))] if res.kept else []
    blocks.append(_block(f'resource "{res.kind.tf_type}" "{res.logical_id}"',
                         [*meta, *_tf_pairs(res.kind.fields, res.state), *trailing]))
    return blocks


def _tf_pairs(fields: tuple[Field, ...], structure: dict) -> list[tuple[str, Any]]:
    _known(fields, structure)
    pairs: list[tuple[str, Any]] = []
    for f in fields:
        if f.api not in structure:
            continue
        value = structure[f.api]
        if f.parts:
            pairs += [(f.tf, Block(_tf_pairs(f.parts, item))) for item in value]
        else:
            pairs.append((f.tf, {t["Key"]: t["Value"] for t in value} if f.tags else _tf_value(value)))
    return pairs


def _tf_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_tf_value(v) for v in value]
    if not isinstance(value, Ref):
        return value
    attribute = value.kind.attributes[value.attribute]
    path = f"{value.kind.tf_type}.{value.logical_id}.{attribute.tf}"
    return Expr(f'"${{{path}}}{_hcl_text(attribute.tf_suffix)}"' if attribute.tf_suffix else path)


def _block(header: str, pairs: list[tuple[str, Any]], indent: str = "") -> str:
    return "\n".join([f"{indent}{header} {{", *_lines(pairs, indent + "  "), f"{indent}}}"])


def _lines(pairs: list[tuple[str, Any]], indent: str) -> list[str]:
    """Arguments with their '=' aligned within each run between blocks, as ``terraform fmt`` does."""
    lines: list[str] = []
    width = 0
    for i, (key, value) in enumerate(pairs):
        if isinstance(value, Block):
            lines.append(_block(key, value.pairs, indent))
            continue
        if i == 0 or isinstance(pairs[i - 1][1], Block):
            width = max(len(k) for k, _ in takewhile(lambda pair: not isinstance(pair[1], Block), pairs[i:]))
        lines.append(f"{indent}{key.ljust(width)} = {_hcl(value)}")
    return lines


HCL_ESCAPES = {**{c: f"\\u{c:04x}" for c in [*range(0x20), 0x7F]},
               ord("\\"): "\\\\", ord('"'): '\\"', ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"}


def _hcl(value: Any) -> str:
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_hcl(k)} = {_hcl(v)}" for k, v in value.items()) + " }"
    return f'"{_hcl_text(value)}"'


def _hcl_text(text: str) -> str:
    """A string's content for an HCL quoted template: escapes, and '${' / '%{' doubled so that an
    untrusted pattern cannot start an interpolation or a directive."""
    return text.translate(HCL_ESCAPES).replace("${", "$${").replace("%{", "%%{")
