"""Realistic CloudTrail records and alarm history for a sandbox account.

Shapes follow the public samples in ``../shared/data/cloudtrail-samples`` (AWS documentation
records, Stratus and Invictus detonation logs). Everything is drawn from a seeded generator, so
a given account and ``now`` always produce the same records.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rootwatch.sandbox.hostile import PAYLOADS, iam_refusal

DAYS = 90
ORDINARY_PER_DAY = (25, 45)
XSS_USER_AGENT = "<script>alert(1)</script>"
BROWSER = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.5 Safari/605.1.15")
CLI = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8"
SDK = "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8"
OFFICE_IPS = ("198.51.100.10", "198.51.100.11", "198.51.100.24")
ROOT_IPS = ("203.0.113.17", "203.0.113.17", "203.0.113.42", "192.0.2.77")
Event = dict[str, Any]


@dataclass(frozen=True)
class AlarmChange:
    """One alarm-history item, shaped as DescribeAlarmHistory returns it."""

    alarm_name: str
    timestamp: datetime
    kind: str  # StateUpdate | Action | ConfigurationUpdate
    summary: str
    data: dict[str, Any]


class _Gen:
    def __init__(self, account_id: str, region: str, seed: int, now: datetime, days: int = DAYS) -> None:
        self.account, self.region, self.now, self.days = account_id, region, now, days
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def at(self, day: int) -> datetime:
        """A working-hours moment on ``day`` of a 90-day plan, squeezed into ``self.days`` days."""
        day = day * self.days // DAYS
        start = self.now - timedelta(days=self.days - day)
        return start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            seconds=self.rng.randrange(7 * 3600, 19 * 3600))

    def base(self, when: datetime, identity: dict, source: str, name: str, **fields: Any) -> Event:
        event = {
            "eventVersion": "1.09", "userIdentity": identity,
            "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventSource": source, "eventName": name,
            "awsRegion": fields.pop("region", self.region), "sourceIPAddress": self.rng.choice(OFFICE_IPS),
            "userAgent": CLI, "requestParameters": None, "responseElements": None,
            "requestID": self.uuid(), "eventID": self.uuid(), "readOnly": True, "eventType": "AwsApiCall",
            "managementEvent": True, "recipientAccountId": self.account, "eventCategory": "Management",
        }
        event.update(fields)
        return event

    def user(self, name: str) -> dict:
        return {"type": "IAMUser", "principalId": f"AIDA{self.rng.getrandbits(64):016X}",
                "arn": f"arn:aws:iam::{self.account}:user/{name}", "accountId": self.account,
                "accessKeyId": f"AKIA{self.rng.getrandbits(64):016X}", "userName": name}

    def role(self, name: str) -> dict:
        rid = f"AROA{self.rng.getrandbits(64):016X}"
        return {"type": "AssumedRole", "principalId": f"{rid}:{name}-session",
                "arn": f"arn:aws:sts::{self.account}:assumed-role/{name}/{name}-session",
                "accountId": self.account, "accessKeyId": f"ASIA{self.rng.getrandbits(64):016X}",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": rid,
                                                     "arn": f"arn:aws:iam::{self.account}:role/{name}",
                                                     "accountId": self.account, "userName": name},
                                   "attributes": {"creationDate": "2026-01-01T00:00:00Z",
                                                  "mfaAuthenticated": "false"}}}

    def root(self, invoked_by: str | None = None) -> dict:
        identity = {"type": "Root", "principalId": self.account, "arn": f"arn:aws:iam::{self.account}:root",
                    "accountId": self.account, "accessKeyId": ""}
        if invoked_by:
            identity["invokedBy"] = invoked_by
        return identity


def ordinary_events(gen: _Gen) -> list[Event]:
    """Everyday traffic: IAM users, assumed roles, federated sign-ins, AWS services."""
    kinds: list[Callable[[datetime], Event]] = [
        lambda t: gen.base(t, gen.user(gen.rng.choice(["alice", "bob"])), "ec2.amazonaws.com", "DescribeInstances",
                           requestParameters={"instancesSet": {}, "filterSet": {}}),
        lambda t: gen.base(t, gen.role("deploy"), "s3.amazonaws.com", "ListBuckets", userAgent=SDK),
        lambda t: gen.base(t, gen.role("deploy"), "cloudformation.amazonaws.com", "DescribeStacks", userAgent=SDK),
        lambda t: gen.base(t, gen.role("ci"), "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
                           readOnly=False, userAgent=SDK,
                           requestParameters={"functionName": "orders-api", "publish": True}),
        lambda t: gen.base(t, {"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}, "sts.amazonaws.com",
                           "AssumeRole", sourceIPAddress="ec2.amazonaws.com", userAgent="ec2.amazonaws.com",
                           sharedEventID=gen.uuid()),
        lambda t: gen.base(t, {"accountId": gen.account, "invokedBy": "AWS Internal"}, "kms.amazonaws.com",
                           "RotateKey", eventType="AwsServiceEvent", readOnly=False,
                           sourceIPAddress="AWS Internal", userAgent="AWS Internal"),
        lambda t: gen.base(t, gen.user("alice"), "signin.amazonaws.com", "ConsoleLogin", region="us-east-1",
                           eventType="AwsConsoleSignIn", readOnly=False, userAgent=BROWSER,
                           responseElements={"ConsoleLogin": "Success"},
                           additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                                "MobileVersion": "No", "MFAUsed": "Yes"}),
        lambda t: gen.base(t, gen.user("bob"), "iam.amazonaws.com", "CreateUser", readOnly=False,
                           errorCode="AccessDenied",
                           errorMessage=f"User: arn:aws:iam::{gen.account}:user/bob is not authorized to perform: "
                                        "iam:CreateUser"),
    ]
    weights = [30, 25, 15, 8, 10, 2, 8, 2]
    events = []
    for day in range(gen.days):
        for _ in range(gen.rng.randint(*ORDINARY_PER_DAY)):
            events.append(gen.rng.choices(kinds, weights)[0](gen.at(day * DAYS // gen.days)))
    return events


def root_events(gen: _Gen) -> list[Event]:
    """A few dozen root events: console sign-ins with and without MFA, a failed one, key creation,
    a relayed action carrying invokedBy, AwsServiceEvent records, one hostile user agent."""
    def login(t: datetime, mfa: str, ok: bool = True) -> Event:
        fields: dict[str, Any] = {
            "region": "us-east-1", "eventType": "AwsConsoleSignIn", "readOnly": False, "userAgent": BROWSER,
            "sourceIPAddress": gen.rng.choice(ROOT_IPS),
            "responseElements": {"ConsoleLogin": "Success" if ok else "Failure"},
            "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                 "MobileVersion": "No", "MFAUsed": mfa}}
        if not ok:
            fields["errorMessage"] = "Failed authentication"
        return gen.base(t, gen.root(), "signin.amazonaws.com", "ConsoleLogin", **fields)

    def call(t: datetime, source: str, name: str, **fields: Any) -> Event:
        fields.setdefault("sourceIPAddress", gen.rng.choice(ROOT_IPS))
        fields.setdefault("userAgent", BROWSER)
        return gen.base(t, fields.pop("identity", gen.root()), source, name, **fields)

    plan: list[tuple[int, Callable[[datetime], Event]]] = []
    for day in sorted(gen.rng.sample(range(2, DAYS - 1), 9)):
        plan.append((day, lambda t: login(t, "Yes")))
        plan.append((day, lambda t: call(t, "iam.amazonaws.com", "GetAccountSummary")))
        plan.append((day, lambda t: call(t, "billing.amazonaws.com", "GetBillingPreferences", region="us-east-1")))
    plan += [
        (5, lambda t: login(t, "No")),
        (6, lambda t: login(t, "No", ok=False)),
        (6, lambda t: login(t, "No", ok=False)),
        (7, lambda t: login(t, "No")),
        (7, lambda t: call(t, "iam.amazonaws.com", "CreateAccessKey", readOnly=False,
                           responseElements={"accessKey": {"accessKeyId": "AKIAEXAMPLEROOTKEY01", "status": "Active",
                                                           "userName": gen.account}})),
        (8, lambda t: call(t, "ec2.amazonaws.com", "DescribeRegions", userAgent=CLI)),
        (8, lambda t: call(t, "iam.amazonaws.com", "DeleteAccessKey", readOnly=False, userAgent=CLI,
                           requestParameters={"accessKeyId": "AKIAEXAMPLEROOTKEY01"})),
        (31, lambda t: call(t, "iam.amazonaws.com", "UpdateAccountPasswordPolicy", readOnly=False,
                            errorCode="AccessDenied", errorMessage="MFA required for this operation")),
        (44, lambda t: call(t, "account.amazonaws.com", "PutAlternateContact", readOnly=False,
                            userAgent=XSS_USER_AGENT, requestParameters={"alternateContactType": "SECURITY"})),
        (52, lambda t: call(t, "support.amazonaws.com", "DescribeCases", region="us-east-1",
                            identity=gen.root(invoked_by="signin.amazonaws.com"),
                            sourceIPAddress="signin.amazonaws.com", userAgent="signin.amazonaws.com")),
        (60, lambda t: call(t, "signin.amazonaws.com", "PasswordRecoveryRequested", region="us-east-1",
                            eventType="AwsServiceEvent", readOnly=False,
                            serviceEventDetails={"PasswordRecoveryRequested": "Success"})),
        (61, lambda t: call(t, "signin.amazonaws.com", "CredentialVerification", region="us-east-1",
                            eventType="AwsServiceEvent", readOnly=False,
                            serviceEventDetails={"CredentialVerification": "Success"},
                            additionalEventData={"CredentialType": "PASSWORD"})),
        (70, lambda t: call(t, "s3.amazonaws.com", "PutBucketPolicy", readOnly=False, userAgent=CLI,
                            requestParameters={"bucketName": "finance-exports"})),
    ]
    return [make(gen.at(day)) for day, make in plan]


def hostile_events(gen: _Gen) -> list[Event]:
    """One root ``CreateRole`` per hostile payload (``sandbox/hostile.py``), refused by IAM: the
    payload is the user agent, the role name and description, the echoed error and the resource ARN."""
    events = []
    for i, (name, payload) in enumerate(PAYLOADS.items()):
        role_arn = f"arn:aws:iam::{gen.account}:role/{payload}"
        events.append(gen.base(
            gen.at(10 + 4 * i), gen.root(), "iam.amazonaws.com", "CreateRole", readOnly=False,
            sourceIPAddress=gen.rng.choice(ROOT_IPS), userAgent=payload, errorCode="ValidationException",
            errorMessage=iam_refusal(payload),
            requestParameters={"roleName": payload, "description": f"hostile {name}: {payload}",
                               "assumeRolePolicyDocument": '{"Version":"2012-10-17","Statement":[]}'},
            resources=[{"accountId": gen.account, "type": "AWS::IAM::Role", "ARN": role_arn}]))
    return events


def account_events(account_id: str, region: str, seed: int, now: datetime, days: int = DAYS,
                   hostile: bool = False) -> list[Event]:
    """All CloudTrail records of one account over the last ``days`` days, in time order (with
    ``hostile``, the root events carrying hostile text too)."""
    gen = _Gen(account_id, region, seed, now, days)
    events = ordinary_events(gen) + root_events(gen) + (hostile_events(gen) if hostile else [])
    return sorted(events, key=lambda e: e["eventTime"])


@dataclass(frozen=True)
class Chain:
    """The names a sandbox account's chain history changes, as seeded."""

    trail_arn: str
    log_group: str
    filter_name: str
    filter_pattern: str
    metric: tuple[str, str]  # (namespace, name)
    topic_arn: str
    protocol: str
    endpoint: str
    subscription_arn: str  # today's (the confirmed re-subscription's)


def chain_history(account_id: str, region: str, seed: int, now: datetime, steps: list[dict], chain: Chain,
                  days: int = DAYS) -> list[Event]:
    """The management events that changed the chain over the window (``history`` in
    organisation.yaml): each step on a day of the 90-day plan, by an operator from the office, as
    CloudTrail writes it. A generator of its own (``seed``), so the account's other records stay
    as they were. The last step of each kind leaves the chain as it is seeded today."""
    gen = _Gen(account_id, region, seed, now, days)
    ops = gen.user("bob")
    transform = [{"metricName": chain.metric[1], "metricNamespace": chain.metric[0], "metricValue": "1"}]
    removed = f"{chain.topic_arn}:{gen.uuid()}"  # the subscriber removed, under its own ARN

    def filter_put(pattern: str) -> dict[str, Any]:
        return {"logGroupName": chain.log_group, "filterName": chain.filter_name, "filterPattern": pattern,
                "metricTransformations": transform}

    made: dict[str, Callable[[datetime, dict], list[Event]]] = {
        "stop-logging": lambda t, _: [gen.base(t, ops, "cloudtrail.amazonaws.com", "StopLogging", readOnly=False,
                                               requestParameters={"name": chain.trail_arn})],
        "start-logging": lambda t, _: [gen.base(t, ops, "cloudtrail.amazonaws.com", "StartLogging", readOnly=False,
                                                requestParameters={"name": chain.trail_arn})],
        "put-filter": lambda t, step: [gen.base(t, ops, "logs.amazonaws.com", "PutMetricFilter", readOnly=False,
                                                requestParameters=filter_put(step.get("pattern",
                                                                                      chain.filter_pattern)))],
        "unsubscribe": lambda t, _: [gen.base(t, ops, "sns.amazonaws.com", "Unsubscribe", readOnly=False,
                                              requestParameters={"subscriptionArn": removed})],
        "subscribe": lambda t, _: [
            gen.base(t, ops, "sns.amazonaws.com", "Subscribe", readOnly=False,
                     requestParameters={"topicArn": chain.topic_arn, "protocol": chain.protocol,
                                        "endpoint": chain.endpoint},
                     responseElements={"subscriptionArn": "pending confirmation"}),
            gen.base(t + timedelta(minutes=12), ops, "sns.amazonaws.com", "ConfirmSubscription", readOnly=False,
                     requestParameters={"topicArn": chain.topic_arn, "token": gen.uuid().replace("-", "")},
                     responseElements={"subscriptionArn": chain.subscription_arn})],
        "disable-alarm-actions": lambda t, step: [gen.base(t, ops, "monitoring.amazonaws.com", "DisableAlarmActions",
                                                           readOnly=False,
                                                           requestParameters={"alarmNames": [step["alarm"]]})],
    }
    return [e for step in steps for e in made[step["change"]](gen.at(step["day"]), step)]


def event_time(event: Event) -> datetime:
    """The record's eventTime (as ``_Gen.base`` writes it: ``2026-09-01T10:00:00Z``), in UTC; parsed
    by fromisoformat, fifty times faster than strptime: seeding and the bridge read it for every record."""
    return datetime.fromisoformat(event["eventTime"])


def alarm_created(alarm_name: str, created: datetime) -> AlarmChange:
    return AlarmChange(alarm_name, created, "ConfigurationUpdate", f'Alarm "{alarm_name}" created',
                       {"version": "1.0", "type": "Create", "createdAlarm": {"alarmName": alarm_name}})


def log_files(account_id: str, records: list[Event]) -> list[tuple[str, bytes]]:
    """CloudTrail's S3 layout: ``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``,
    each file ``{"Records":[...]}``, filed under its delivery time (five minutes after its last event).
    Text is written as UTF-8, as CloudTrail writes it, not ``\\u``-escaped; a lone surrogate becomes
    the invalid UTF-8 a damaged or hostile file holds."""
    batches: dict[tuple[str, str], list[Event]] = {}
    for event in records:
        delivered = event_time(event) + timedelta(minutes=5)
        batches.setdefault((event["awsRegion"], f"{delivered:%Y/%m/%d}"), []).append(event)
    files = []
    for (region, day), batch in sorted(batches.items()):
        delivered = event_time(batch[-1]) + timedelta(minutes=5)
        name = f"{account_id}_CloudTrail_{region}_{delivered:%Y%m%dT%H%MZ}_{_file_id(batch)}.json.gz"
        body = '{"Records":[' + ",".join(json.dumps(e, separators=(",", ":"), ensure_ascii=False) for e in batch) + "]}"
        files.append((f"AWSLogs/{account_id}/CloudTrail/{region}/{day}/{name}",
                      gzip.compress(body.encode("utf-8", "surrogatepass"), mtime=0)))
    return files


def _file_id(batch: list[Event]) -> str:
    """CloudTrail's 16-character file id, derived from the batch so seeding stays deterministic."""
    digest = hashlib.sha256(batch[0]["eventID"].encode()).digest()
    return "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[b % 36] for b in digest[:16])


def to_json(event: Event) -> str:
    return json.dumps(event, separators=(",", ":"))
