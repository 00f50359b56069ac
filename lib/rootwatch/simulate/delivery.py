"""Whether SNS would deliver what a service publishes to a topic to a confirmed subscriber: a confirmed
subscription alone is not delivery.

AWS documents three ways a configured chain still tells nobody
(https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services,
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions,
https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html):

- a topic encrypted with a KMS key the publishing service may not use: the AWS managed key for SNS
  (``alias/aws/sns``) never lets CloudWatch or EventBridge publish, and a customer managed key must
  allow the service principal ``kms:Decrypt`` and ``kms:GenerateDataKey*``;
- for EventBridge, a topic whose access policy does not let ``events.amazonaws.com`` publish (the
  console adds that statement; the API does not);
- a subscription filter policy the message cannot match: CloudWatch alarm notifications and
  EventBridge's deliveries carry no message attributes, so a policy on attributes drops them.

Policies are read, not guessed: a statement whose conditions or deny rootwatch does not evaluate
leaves the answer a GAP, never a PASS.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any

from rootwatch.models import Status

PASS, FAIL, GAP = Status.PASS, Status.FAIL, Status.GAP
AWS_MANAGED_SNS_KEY = "alias/aws/sns"
KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")  # GenerateDataKey* covers what SNS asks for


class Publisher(Enum):
    """The service that publishes to the topic, its principal and its name in a reason."""

    CLOUDWATCH = ("cloudwatch.amazonaws.com", "CloudWatch")
    EVENTBRIDGE = ("events.amazonaws.com", "EventBridge")

    @property
    def principal(self) -> str:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class Delivery:
    status: Status
    reason: str  # empty for a PASS


DELIVERS = Delivery(PASS, "")


def topic_delivery(topic: str, attributes: dict | None, key: dict | None, publisher: Publisher, source_arn: str,
                   account: str) -> Delivery:
    """Can ``publisher`` publish to the topic whose GetTopicAttributes are ``attributes``? ``key`` is
    the topic's KMS key as read (DescribeKey's ``KeyMetadata`` with ``rw:policy``, the key policy), None
    when it could not be; ``source_arn`` the alarm's or rule's ARN the service publishes for."""
    if attributes is None:
        return Delivery(GAP, "the topic's attributes (encryption, access policy) could not be read")
    if publisher is Publisher.EVENTBRIDGE:
        allowed = allows(attributes.get("Policy"), publisher.principal, ("sns:Publish",), source_arn, account, topic)
        if allowed.status is not PASS:
            return Delivery(allowed.status, f"the topic's access policy: {allowed.reason}")
    key_id = attributes.get("KmsMasterKeyId")
    if not key_id:
        return DELIVERS
    if key_id.endswith(AWS_MANAGED_SNS_KEY) or (key or {}).get("KeyManager") == "AWS":
        return Delivery(FAIL, f"the topic is encrypted with the AWS managed key for SNS ({key_id}), whose policy "
                              f"cannot let {publisher.label} use it: nothing it publishes is delivered")
    if key is None or key.get("rw:policy") is None:
        return Delivery(GAP, f"the topic is encrypted with KMS key {key_id}, whose key policy could not be read")
    if key.get("KeyState") not in (None, "Enabled"):
        return Delivery(FAIL, f"the topic's KMS key {key_id} is {key['KeyState']}: SNS cannot encrypt what "
                              f"{publisher.label} publishes")
    allowed = allows(key["rw:policy"], publisher.principal, KEY_ACTIONS, source_arn, account, key.get("Arn", "*"))
    if allowed.status is PASS:
        return DELIVERS
    return Delivery(allowed.status, f"the topic's KMS key {key_id}: {allowed.reason}")


def subscriber_receives(attributes: dict | None) -> Delivery:
    """Does a confirmed subscription whose GetSubscriptionAttributes are ``attributes`` receive an alarm
    notification or an EventBridge delivery (neither carries message attributes)?"""
    if attributes is None:
        return Delivery(GAP, "its filter policy could not be read")
    text = attributes.get("FilterPolicy")
    if not text:
        return DELIVERS
    try:
        policy = json.loads(text)
    except ValueError:
        return Delivery(GAP, "its filter policy could not be parsed")
    if attributes.get("FilterPolicyScope", "MessageAttributes") != "MessageAttributes":
        return Delivery(GAP, f"its filter policy on the message body is not evaluated: {text}")
    if isinstance(policy, dict) and policy and all(_only_absence(v) for v in policy.values()):
        return DELIVERS  # every key asks for an attribute to be absent: a message without any matches
    return Delivery(FAIL, f"its filter policy {text} needs message attributes the notification does not carry, "
                          "so it receives nothing")


def _only_absence(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(v == {"exists": False} for v in value)


def allows(policy_text: str | None, service: str, actions: tuple[str, ...], source_arn: str, account: str,
           resource: str) -> Delivery:
    """Does the policy of ``resource`` (a topic's or a key's ARN) let the service principal make every one
    of ``actions``? PASS only for Allow statements whose conditions rootwatch can evaluate (aws:SourceArn,
    aws:SourceAccount with the String/Arn equality and Like operators) and with no Deny that could apply."""
    if not policy_text:
        return Delivery(FAIL, f"no policy statement lets {service} use it")
    try:
        statements = json.loads(policy_text).get("Statement", [])
    except (ValueError, AttributeError):
        return Delivery(GAP, "its policy could not be parsed")
    statements = [statements] if isinstance(statements, dict) else statements
    context = {"aws:sourcearn": source_arn, "aws:sourceaccount": account}
    granted: set[str] = set()
    unevaluated = False
    for statement in statements:
        if not isinstance(statement, dict) or not _names(statement.get("Principal"), service):
            continue
        covered = {a for a in actions if _action(statement, a)}
        if not covered:
            continue
        holds = _conditions(statement.get("Condition"), context)
        if holds is not False:
            holds = None if "NotResource" in statement else holds and _resource(statement, resource)
        if statement.get("Effect") == "Deny" and holds is not False:
            return Delivery(GAP, f"a Deny statement may apply to {service}; rootwatch does not weigh it")
        if statement.get("Effect") == "Allow":
            if holds is None:
                unevaluated = True
            elif holds:
                granted |= covered
    if granted >= set(actions):
        return DELIVERS
    if unevaluated:
        return Delivery(GAP, f"it lets {service} in only under conditions rootwatch does not evaluate")
    missing = ", ".join(a for a in actions if a not in granted)
    return Delivery(FAIL, f"no policy statement lets {service} {missing}")


def _names(principal: Any, service: str) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for kind in ("Service", "AWS"):
        values = principal.get(kind, [])
        values = [values] if isinstance(values, str) else values
        if "*" in values or (kind == "Service" and service in values):
            return True
    return False


def _action(statement: dict, action: str) -> bool:
    listed = statement.get("Action", [])
    listed = [listed] if isinstance(listed, str) else listed
    if "NotAction" in statement:
        return False  # never read as a grant: what it covers depends on every action there is
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in listed if isinstance(pattern, str))


def _resource(statement: dict, resource: str) -> bool:
    listed = statement.get("Resource", "*")
    listed = [listed] if isinstance(listed, str) else listed
    return any(isinstance(r, str) and fnmatch.fnmatchcase(resource, r) for r in listed)


_EQUAL = {"stringequals", "arnequals"}
_LIKE = {"stringlike", "arnlike"}


def _conditions(block: Any, context: dict[str, str]) -> bool | None:
    """Whether every condition holds for the service's request: None when one is not evaluated."""
    if not block:
        return True
    if not isinstance(block, dict):
        return None
    for operator, tests in block.items():
        if not isinstance(tests, dict):
            return None
        for key, wanted in tests.items():
            actual = context.get(key.lower())
            op = operator.lower()
            if actual is None or op not in _EQUAL | _LIKE:
                return None
            values = [wanted] if isinstance(wanted, str) else wanted
            if op in _EQUAL and actual not in values:
                return False
            if op in _LIKE and not any(fnmatch.fnmatchcase(actual, v) for v in values):
                return False
    return True
