"""The shipped IAM policies (policies/*.json) against the calls rootwatch really makes.

Every AWS call made during sandbox runs is recorded with a botocore event hook, mapped to the IAM
actions that authorize it (``rootwatch.iam_actions``) and replayed against the policy, resources and
conditions included: the policy must allow each one. The other direction matters as much for an
auditor's policy: every action the policy grants must have been used by some run, so a grant no
code path needs cannot linger. Calls are told apart by who made them (the access key that signed
them): the auditor's own identity, or the audit role it assumed in a member account.
"""

from __future__ import annotations

import json
import operator
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import botocore.session
import pytest

from rootwatch.collect.chain import Target, collect
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.organization import organization_scope, resolve_regions
from rootwatch.collect.session import Clients
from rootwatch.judge.pattern_coverage import witnesses
from rootwatch.iam_actions import iam_actions, iam_prefix
from rootwatch.sandbox.server import BASE_CREDENTIALS

POLICIES = Path(__file__).resolve().parents[1] / "policies"
AUDITOR_ONLY = "Auditor"  # Sid prefix of audit.json's statements for the auditor's identity, not the audit role
ANY_ACCOUNT = "123456789012"  # the policies name no account (one document serves every account): names are checked
ACTION_NAME = re.compile(r"^[a-z0-9-]+:[A-Za-z0-9]+$")  # exact: no wildcard may grant what no run used
HEALTHY, DRIFTED = "111111111111", "222222222222"
NOTIFY = "secops@example.com"
DELIVERY_ROLE = "CloudTrail_CloudWatchLogs_Role"  # the name remediate.json's delivery-role statements carry
TRUST_CLOUDTRAIL = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


# The operations the remediator calls beyond the audit's: the names in use it reads before planning, and
# the changes (issue text); remediate.json grants exactly their actions. It creates no IAM role.
REMEDIATOR_OPERATIONS = (
    ("monitoring", "DescribeAlarms", {}), ("sns", "ListTopics", {}), ("sns", "ListTagsForResource", {}),
    ("logs", "DescribeLogGroups", {}), ("iam", "GetRole", {}),
    ("logs", "CreateLogGroup", {}), ("logs", "PutMetricFilter", {}),
    ("sns", "CreateTopic", {"Tags": "rootwatch"}), ("sns", "Subscribe", {}),  # tagged as created: sns:TagResource
    ("monitoring", "PutMetricAlarm", {"Tags": "rootwatch"}), ("monitoring", "EnableAlarmActions", {}),
    ("cloudtrail", "PutEventSelectors", {}), ("cloudtrail", "StartLogging", {}),
    ("cloudtrail", "UpdateTrail", {"CloudWatchLogsRoleArn": "role"}),  # a delivery role passed: iam:PassRole
)

# What could switch off the monitoring being audited, or escalate privilege: remediate.json grants none of it.
SWITCH_OFF = (
    ("cloudtrail", "StopLogging", {"Name": "main-trail"}), ("cloudtrail", "DeleteTrail", {"Name": "main-trail"}),
    ("monitoring", "DeleteAlarms", {"AlarmNames": ["cis-4.3-root-account-usage"]}),
    ("monitoring", "DisableAlarmActions", {"AlarmNames": ["cis-4.3-root-account-usage"]}),
    ("monitoring", "SetAlarmState", {"AlarmName": "cis-4.3-root-account-usage"}),
    ("logs", "DeleteMetricFilter", {"logGroupName": "g"}), ("logs", "DeleteLogGroup", {"logGroupName": "g"}),
    ("logs", "PutRetentionPolicy", {"logGroupName": "g"}),  # a short retention deletes the evidence
    ("sns", "Unsubscribe", {}), ("sns", "DeleteTopic", {}), ("sns", "SetTopicAttributes", {}),
    ("iam", "CreateRole", {"RoleName": DELIVERY_ROLE}), ("iam", "PutRolePolicy", {"RoleName": DELIVERY_ROLE}),
    ("iam", "AttachRolePolicy", {"RoleName": DELIVERY_ROLE}),
    ("iam", "UpdateAssumeRolePolicy", {"RoleName": DELIVERY_ROLE}),
)

# Breakage of the remediation sandbox (its own process, so nothing else sees it): each line makes the
# remediator plan the change named beside it, so that one run calls every operation it has.
BREAKS = (
    # an alarm on a sound filter, with a confirmed subscriber, but its actions off: EnableAlarmActions
    (HEALTHY, "cloudwatch", "DisableAlarmActions", {"AlarmNames": ["cis-4.1-unauthorized-api-calls"]}),
    (DRIFTED, "cloudtrail", "StopLogging", {"Name": "main-trail"}),  # StartLogging
    (DRIFTED, "cloudtrail", "PutEventSelectors", {"TrailName": "main-trail", "EventSelectors": [
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}),  # PutEventSelectors
    # no log group: GetRole (the named delivery role, made here as an administrator would), DescribeLogGroups,
    # CreateLogGroup, UpdateTrail (+ iam:PassRole), then on the new group PutMetricFilter and PutMetricAlarm
    # (+ cloudwatch:TagResource) under free names (DescribeAlarms: the account's alarms keep theirs), and
    # (no alarm on the chain, so no confirmed topic) CreateTopic (+ sns:TagResource) and Subscribe
    (DRIFTED, "iam", "CreateRole", {"RoleName": DELIVERY_ROLE, "AssumeRolePolicyDocument": TRUST_CLOUDTRAIL}),
    (DRIFTED, "cloudtrail", "UpdateTrail", {"Name": "main-trail", "CloudWatchLogsLogGroupArn": "",
                                             "CloudWatchLogsRoleArn": ""}),
    # someone else's topic under the alerts topic's name: ListTopics, ListTagsForResource, then a free name
    (DRIFTED, "sns", "CreateTopic", {"Name": "cis-monitoring-alerts"}),
)


# --- recording ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One API call as IAM sees it: who signed it, in which region, what it asked."""

    principal: str  # the access key id that signed the call
    region: str
    service: str  # botocore signing name
    operation: str
    params: Mapping[str, Any]

    @property
    def actions(self) -> list[str]:
        return iam_actions(self.service, self.operation, self.params)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ANY_ACCOUNT}:{resource}"


@dataclass
class CallLog:
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, principal: str, region: str, params: dict, model: Any, **_: Any) -> None:
        call = Call(principal, region, model.service_model.signing_name, model.name, dict(params))
        with self._lock:  # the collector calls from a pool of threads
            self.calls.append(call)

    def actions(self, principal: Callable[[str], bool] = lambda key: True) -> set[str]:
        """The IAM actions of the calls whose signer ``principal`` accepts."""
        return {a for c in self.calls if principal(c.principal) for a in c.actions}


def _signer(session: botocore.session.Session, kwargs: dict[str, Any]) -> str:
    """The access key a new client signs with: given to it, or its session's."""
    if kwargs.get("aws_access_key_id"):
        return kwargs["aws_access_key_id"]
    credentials = session.get_credentials()
    return credentials.access_key if credentials else ""


@contextmanager
def recording() -> Iterator[CallLog]:
    """Record every call of every botocore client created inside the block (clients made before it
    are not seen: create them inside). The hook listens on ``before-parameter-build``, which botocore
    emits to every handler for every call (pages included), rather than ``before-call``, which stops
    at the first handler that answers: a Stubber or a canned response would hide the call from it."""
    log = CallLog()
    create_client = botocore.session.Session.create_client

    def recorded(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build",
                                    partial(log.add, _signer(self, kwargs), client.meta.region_name))
        return client

    with mock.patch.object(botocore.session.Session, "create_client", recorded):
        yield log


@pytest.fixture
def record_calls() -> Callable[[], Any]:
    """``with record_calls() as log: ...`` then ``log.actions()``: the IAM actions of the block's calls."""
    return recording


# --- evaluation: IAM's reading of the few policy elements the shipped policies use -----------------------


def _policy(name: str) -> dict:
    return json.loads((POLICIES / name).read_text(encoding="utf-8"))


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _granted(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in _listed(s["Action"])}


def _role_part(policy: dict) -> list[dict]:
    """audit.json without its auditor-only statements: what the audit role in a member account gets."""
    return [s for s in policy["Statement"] if not s["Sid"].startswith(AUDITOR_ONLY)]


def _auditor_part(policy: dict) -> list[dict]:
    return [s for s in policy["Statement"] if s["Sid"].startswith(AUDITOR_ONLY)]


# Condition operators: a key the request lacks fails, as IAM's operators without IfExists do
CONDITIONS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": operator.eq,
    "StringLike": fnmatchcase,
    "ArnLike": fnmatchcase,
}


def _trail(call: Call, param: str) -> list[str]:
    name = call.params[param]  # a trail's name or its ARN
    return [name if name.startswith("arn:") else call.arn("cloudtrail", f"trail/{name}")]


def _log_group(call: Call) -> list[str]:
    return [call.arn("logs", f"log-group:{call.params['logGroupName']}")]


def _role(call: Call) -> list[str]:
    return [f"arn:aws:iam::{ANY_ACCOUNT}:role{call.params.get('Path', '/')}{call.params['RoleName']}"]


# action -> the resources one call of it acts on; an action not listed acts on "*" (no resource-level
# permissions), which only a statement granting "*" allows: a scoped grant needs its row here
RESOURCES: dict[str, Callable[[Call], list[str]]] = {
    "s3:ListBucket": lambda c: [f"arn:aws:s3:::{c.params['Bucket']}"],
    "s3:GetObject": lambda c: [f"arn:aws:s3:::{c.params['Bucket']}/{c.params['Key']}"],
    "sts:AssumeRole": lambda c: [c.params["RoleArn"]],
    "sns:ListTagsForResource": lambda c: [c.params["ResourceArn"]],
    "iam:GetRole": _role,
    "logs:CreateLogGroup": _log_group,
    "logs:PutMetricFilter": _log_group,
    "sns:CreateTopic": lambda c: [c.arn("sns", c.params["Name"])],
    "sns:TagResource": lambda c: [c.arn("sns", c.params["Name"])],  # implied by CreateTopic's Tags
    "sns:Subscribe": lambda c: [c.params["TopicArn"]],
    "cloudwatch:PutMetricAlarm": lambda c: [c.arn("cloudwatch", f"alarm:{c.params['AlarmName']}")],
    "cloudwatch:TagResource": lambda c: [c.arn("cloudwatch", f"alarm:{c.params['AlarmName']}")],  # PutMetricAlarm's
    "cloudwatch:EnableAlarmActions": lambda c: [c.arn("cloudwatch", f"alarm:{n}") for n in c.params["AlarmNames"]],
    "cloudtrail:UpdateTrail": partial(_trail, param="Name"),
    "cloudtrail:StartLogging": partial(_trail, param="Name"),
    "cloudtrail:PutEventSelectors": partial(_trail, param="TrailName"),
    "iam:CreateRole": _role,
    "iam:PutRolePolicy": _role,
    "iam:AttachRolePolicy": _role,
    "iam:UpdateAssumeRolePolicy": _role,
    "iam:PassRole": lambda c: [c.params["CloudWatchLogsRoleArn"]],  # implied by UpdateTrail (iam_actions.IMPLIED)
    "logs:CreateLogStream": lambda c: [c.arn("logs", f"log-group:{c.params['logGroupName']}:log-stream:"
                                                     f"{c.params['logStreamName']}")],
    "logs:PutLogEvents": lambda c: [c.arn("logs", f"log-group:{c.params['logGroupName']}:log-stream:"
                                                  f"{c.params['logStreamName']}")],
    "sqs:ReceiveMessage": lambda c: [c.arn("sqs", c.params["QueueUrl"].rstrip("/").split("/")[-1])],
}

# action -> the condition keys one call of it sets
CONTEXT: dict[str, Callable[[Call], dict[str, str]]] = {
    "s3:ListBucket": lambda c: {"s3:prefix": c.params["Prefix"]} if "Prefix" in c.params else {},
    "iam:PassRole": lambda c: {"iam:PassedToService": f"{iam_prefix(c.service)}.amazonaws.com"},
}


def _allows(statement: dict, action: str, resource: str, context: Mapping[str, str]) -> bool:
    """One Allow statement: the exact action, a resource matching one of its patterns (``*`` spans
    ``/`` and ``:`` as in IAM), and every condition met by the request's context."""
    return (statement["Effect"] == "Allow" and action in _listed(statement["Action"])
            and any(fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"]))
            and all(key in context and any(CONDITIONS[op](context[key], v) for v in _listed(values))
                    for op, keys in statement.get("Condition", {}).items() for key, values in keys.items()))


def _denied(calls: list[Call], statements: list[dict]) -> list[str]:
    """Each (action, resource) of ``calls`` no statement allows, described for the failure message."""
    denied = set()
    for call in calls:
        for action in call.actions:
            context = CONTEXT.get(action, lambda c: {})(call)
            for resource in RESOURCES.get(action, lambda c: ["*"])(call):
                if not any(_allows(s, action, resource, context) for s in statements):
                    denied.add(f"{action} on {resource} {context or ''} ({call.operation} in {call.region})")
    return sorted(denied)


# --- the audit runs -----------------------------------------------------------------------------------


def _answer(response: dict) -> Callable[..., tuple[Any, dict]]:
    """A before-call hook answering with ``response``, as AWS would (the call is still recorded)."""
    def hook(**_: Any) -> tuple[Any, dict]:
        return type("OK", (), {"status_code": 200})(), {**response, "ResponseMetadata": {"HTTPStatusCode": 200}}
    return hook


def _organization_session(sandbox: Any) -> boto3.Session:
    """The auditor's session, with the organization's accounts listed. The sandbox seeds no AWS
    Organization (and moto's, unseeded, refuses ListAccounts), so ListAccounts is answered on the
    session: organization_scope makes its own clients, which a Stubber (bound to one client) cannot
    reach. The answer lists the auditor's own account too, audited with its own keys as in AWS."""
    session = sandbox.session()
    own = session.client("sts", endpoint_url=sandbox.endpoint).get_caller_identity()["Account"]
    accounts = [{"Id": own, "Name": "management", "Status": "ACTIVE"}] + [
        {"Id": a.account_id, "Name": a.alias, "Status": "ACTIVE"} for a in sandbox.accounts]
    session.events.register("before-call.organizations.ListAccounts", _answer({"Accounts": accounts}))
    return session


def _trailless_targets(sandbox: Any) -> list[Target]:
    """The member accounts as if no trail delivered to CloudWatch Logs (DescribeTrails answered
    empty): the collector then reads event history (LookupEvents). Nothing in the shared sandbox changes."""
    session = sandbox.session()
    session.events.register("before-call.cloudtrail.DescribeTrails", _answer({"trailList": []}))
    return [Target(a.alias, session, a.role_arn) for a in sandbox.accounts]


@pytest.fixture(scope="module")
def audit(sandbox, window, catalog) -> CallLog:
    """Every audit path over the session sandbox, read-only: organization scope with all regions,
    then the controls (root hygiene too) from the log groups, from the trails' S3 archives, and from event history."""
    controls = catalog.controls()
    archived = [catalog.control("4.3")]  # an archive scan makes the same S3 calls for any control: one is enough
    with recording() as log:
        scope = organization_scope(_organization_session(sandbox), sandbox.spec["audit_role"], "all",
                                   endpoint_url=sandbox.endpoint)
        home = [sandbox.region]
        runs = [collect(scope.targets, home, window, controls, endpoint_url=sandbox.endpoint, lookup_rate=None,
                        root_hygiene=True, witnesses=witnesses(controls, catalog)),  # source: aws asks TestMetricFilter too
                collect(scope.targets, home, window, archived, endpoint_url=sandbox.endpoint, lookup_rate=None,
                        archive=True),
                collect(_trailless_targets(sandbox), home, window, controls, endpoint_url=sandbox.endpoint,
                        lookup_rate=None)]
        # regions: all without an organization (accounts listed as role ARNs): the auditor lists regions itself
        resolve_regions(Recorder(Clients(sandbox.session(), sandbox.endpoint), "scope"), "all", sandbox.region)
    assert len(scope.targets) == 4 and len(scope.regions) > 10  # the management account and three members
    for evidence in runs:  # no call failed: a failed read would hide the calls after it
        assert all(ev.caller_arn for ev in evidence)
        assert [c.error for ev in evidence for c in ev.calls if c.error] == []
    assert any(ev.archive_scans for ev in runs[1]) and any(e["source"] == "lookup" for ev in runs[2] for e in ev.events)
    return log


def _auditor(key: str) -> bool:
    return key == BASE_CREDENTIALS["aws_access_key_id"]


def test_policies_list_exact_actions_once_each():
    for name in ("audit.json", "remediate.json", "drill.json"):
        policy = _policy(name)
        assert policy["Version"] == "2012-10-17", name
        sids = [s["Sid"] for s in policy["Statement"]]
        assert len(sids) == len(set(sids)), f"{name}: duplicate Sid"
        actions = [a for s in policy["Statement"] for a in _listed(s["Action"])]
        assert all(s["Effect"] == "Allow" and s["Resource"] for s in policy["Statement"]), name
        assert [a for a in actions if not ACTION_NAME.match(a)] == [], f"{name}: a wildcard or malformed action"
        assert len(actions) == len(set(actions)), f"{name}: an action granted twice"
        assert all(_listed(s["Action"]) == sorted(_listed(s["Action"])) for s in policy["Statement"]), name


def test_audit_policy_allows_every_call_the_collector_makes(audit):
    policy = _policy("audit.json")
    role_calls = [c for c in audit.calls if not _auditor(c.principal)]
    auditor_calls = [c for c in audit.calls if _auditor(c.principal)]
    assert role_calls and auditor_calls
    assert _denied(role_calls, _role_part(policy)) == []  # the audit role's policy: audit.json less Auditor*
    assert _denied(auditor_calls, policy["Statement"]) == []  # the auditor's identity: all of audit.json


def test_audit_policy_grants_nothing_the_collector_does_not_use(audit):
    policy = _policy("audit.json")
    role, auditor = audit.actions(lambda k: not _auditor(k)), audit.actions(_auditor)
    assert _granted(_role_part(policy)) == role
    assert _granted(_auditor_part(policy)) == auditor - role  # fan-out only: the role never needs it
    assert {"s3:GetObject", "s3:ListBucket", "cloudtrail:LookupEvents", "iam:GetCredentialReport"} <= role


def test_trail_archive_grants_are_scoped_to_cloudtrail_folders(audit):
    statements = _role_part(_policy("audit.json"))
    calls = [c for c in audit.calls if c.service == "s3"]
    assert calls and _denied(calls, statements) == []
    outside = Call("k", "us-east-1", "s3", "ListObjectsV2", {"Bucket": "payroll", "Prefix": "exports/"})
    unscoped = Call("k", "us-east-1", "s3", "GetObject", {"Bucket": "payroll", "Key": "exports/2026.csv"})
    assert len(_denied([outside, unscoped], statements)) == 2


def test_remediate_policy_grants_exactly_the_remediators_operations():
    wanted = {a for service, operation, params in REMEDIATOR_OPERATIONS for a in iam_actions(service, operation, params)}
    assert _granted(_policy("remediate.json")["Statement"]) == wanted
    assert "iam:PassRole" in wanted  # never a call of its own: implied by UpdateTrail's CloudWatchLogsRoleArn


def test_remediate_grants_stop_at_what_rootwatch_creates():
    statements = _policy("remediate.json")["Statement"]
    role = f"arn:aws:iam::123456789012:role/{DELIVERY_ROLE}"
    beyond = [Call("k", "us-east-1", "monitoring", "PutMetricAlarm", {"AlarmName": "billing-spike"}),
              Call("k", "us-east-1", "sns", "Subscribe", {"TopicArn": "arn:aws:sns:us-east-1:1:payments-events"}),
              Call("k", "us-east-1", "iam", "CreateRole", {"RoleName": "admin"}),
              Call("k", "us-east-1", "ec2", "RunInstances", {}),  # nothing beyond the remediator's operations
              Call("k", "us-east-1", "cloudtrail", "UpdateTrail", {"Name": "t", "CloudWatchLogsRoleArn": "x"})]
    assert len(_denied(beyond, statements)) == 5  # the last: iam:PassRole of a role that is not rootwatch's
    passed = Call("k", "us-east-1", "cloudtrail", "UpdateTrail", {"Name": "t", "CloudWatchLogsRoleArn": role})
    assert _denied([passed], statements) == []


def test_remediate_policy_can_neither_escalate_nor_switch_off_monitoring():
    """Issue 15: iam:CreateRole + iam:PutRolePolicy let a holder make a role trusted by anyone with any
    policy. Now IAM grants are a read of the one delivery role and passing it to CloudTrail alone."""
    statements = _policy("remediate.json")["Statement"]
    assert {a for a in _granted(statements) if a.startswith("iam:")} == {"iam:GetRole", "iam:PassRole"}
    for s in statements:
        for resource in _listed(s["Resource"]):
            assert not (resource.startswith("arn:aws:iam::") and resource.endswith("*")), s["Sid"]
    [passing] = [s for s in statements if "iam:PassRole" in _listed(s["Action"])]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudtrail.amazonaws.com"}}
    switch_off = [Call("k", "us-east-1", service, operation, params) for service, operation, params in SWITCH_OFF]
    assert [c for c in switch_off if not _denied([c], statements)] == []


def test_every_remediate_statement_is_documented():
    readme = (POLICIES / "README.md").read_text(encoding="utf-8")
    assert [s["Sid"] for s in _policy("remediate.json")["Statement"] if f"`{s['Sid']}`" not in readme] == []


def test_every_catalog_alarm_name_fits_the_alarm_grant(catalog):
    statements = _policy("remediate.json")["Statement"]
    calls = [Call("k", "us-east-1", "monitoring", "PutMetricAlarm", {"AlarmName": c.remediation.alarm_name})
             for benchmark in catalog.benchmarks for c in catalog.controls(benchmark)]
    assert calls and _denied(calls, statements) == []


# --- the remediation run ------------------------------------------------------------------------------


def _break(session: boto3.Session, roles: Mapping[str, str]) -> None:
    """Apply BREAKS through each account's role (clients made here, outside any recording)."""
    for account, service, operation, params in BREAKS:
        creds = session.client("sts").assume_role(RoleArn=roles[account], RoleSessionName="break")["Credentials"]
        client = session.client(service, aws_access_key_id=creds["AccessKeyId"],
                                aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
        getattr(client, botocore.xform_name(operation))(**params)


@pytest.fixture(scope="module")
def remediation(request) -> tuple[Any, CallLog, str]:
    """``rootwatch remediate --apply`` in this process (so its calls are recorded) against a
    `rootwatch sandbox` process (so its changes touch no other test), found through the environment
    as an analyst's shell finds it, after BREAKS."""
    from rootwatch.remediate import apply as remediate

    sandbox = request.getfixturevalue("sandbox_process")
    out = request.getfixturevalue("tmp_path_factory").mktemp("remediation") / "run"
    with pytest.MonkeyPatch.context() as env:
        for key in [k for k in os.environ if k.startswith("AWS_")]:
            env.delenv(key)  # a real account's profile or keys must never mix with the sandbox's
        for key, value in {**sandbox.exports, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1"}.items():
            env.setenv(key, value)
        _break(boto3.Session(), sandbox.members)
        with recording() as log:
            result = remediate.start({"source": "aws", "accounts": sorted(sandbox.members.values()),
                                      "regions": ["us-east-1"], "window": "last-90-days", "controls": "all"},
                                     notify=[NOTIFY], apply=True, out=out, delivery_role=DELIVERY_ROLE)
    assert result.changes and not result.failed, result.failed
    assert {"FAIL"} == {f.status for f in result.before if f.account_id == DRIFTED}
    assert {"PASS"} == {f.status for f in result.after or [] if f.account_id == DRIFTED}
    return result, log, sandbox.exports["AWS_ACCESS_KEY_ID"]


def test_remediate_policy_allows_every_change_the_remediator_makes(remediation):
    _, log, auditor_key = remediation
    audit_policy, remediate_policy = _policy("audit.json"), _policy("remediate.json")
    role_calls = [c for c in log.calls if c.principal != auditor_key]
    # the remediation role audits before and after its changes: the audit role's statements plus remediate.json
    assert _denied(role_calls, _role_part(audit_policy) + remediate_policy["Statement"]) == []
    assert _denied([c for c in log.calls if c.principal == auditor_key], audit_policy["Statement"]) == []


def test_remediate_policy_grants_nothing_the_remediator_does_not_use(remediation):
    _, log, auditor_key = remediation
    writes = log.actions(lambda k: k != auditor_key) - _granted(_role_part(_policy("audit.json")))
    assert _granted(_policy("remediate.json")["Statement"]) == writes
