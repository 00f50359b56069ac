"""A confirmed subscriber is told only if the publisher may use the topic's KMS key (and, for EventBridge,
publish under the topic's access policy) and the subscription's filter policy lets the message through:
each way a configured chain still tells nobody, through a stubbed collection and the judge."""

from __future__ import annotations

import json

import pytest

from rootwatch.catalog import load_catalog
from rootwatch.judge.chain import judge_account
from rootwatch.simulate.delivery import Publisher, allows, subscriber_receives, topic_delivery
from rootwatch.models import Link, Status
from tests.stubbed import ACCOUNT, REGION, collect_stubbed, healthy_calls

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root-alarm"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def key_policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


CLOUDWATCH_MAY_USE = {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
                      "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}
ACCOUNT_ADMIN = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                 "Resource": "*"}


def metadata(manager: str = "CUSTOMER", state: str = "Enabled") -> dict:
    """DescribeKey's KeyMetadata."""
    return {"KeyId": KEY_ARN.rsplit("/", 1)[1], "Arn": KEY_ARN, "KeyManager": manager, "KeyState": state}


def key(policy: str | None, manager: str = "CUSTOMER", state: str = "Enabled") -> dict:
    """The key as collected: its metadata and its key policy."""
    return {**metadata(manager, state), "rw:policy": policy}


def cloudwatch(attributes: dict | None, topic_key: dict | None = None):
    return topic_delivery(TOPIC, attributes, topic_key, Publisher.CLOUDWATCH, ALARM, ACCOUNT)


def test_an_unencrypted_topic_delivers_what_cloudwatch_publishes():
    assert cloudwatch({"TopicArn": TOPIC}).status is Status.PASS


def test_the_aws_managed_sns_key_never_lets_cloudwatch_publish():
    told = cloudwatch({"KmsMasterKeyId": "alias/aws/sns"})
    assert told.status is Status.FAIL and "AWS managed key for SNS" in told.reason and "CloudWatch" in told.reason
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(None, manager="AWS")).status is Status.FAIL


def test_a_customer_key_must_let_cloudwatch_decrypt_and_generate_data_keys():
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(ACCOUNT_ADMIN, CLOUDWATCH_MAY_USE))).status \
        is Status.PASS
    told = cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(ACCOUNT_ADMIN)))
    assert told.status is Status.FAIL and "cloudwatch.amazonaws.com" in told.reason and KEY_ARN in told.reason
    only_decrypt = {**CLOUDWATCH_MAY_USE, "Action": "kms:Decrypt"}
    assert "kms:GenerateDataKey" in cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(only_decrypt))).reason


def test_a_disabled_or_unreadable_key_is_never_a_pass():
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(CLOUDWATCH_MAY_USE), state="Disabled")).status \
        is Status.FAIL
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(None)).status is Status.GAP
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, None).status is Status.GAP
    assert cloudwatch(None).status is Status.GAP


@pytest.mark.parametrize(("condition", "status"), [
    ({"StringEquals": {"aws:SourceAccount": ACCOUNT}}, Status.PASS),
    ({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:root-*"}}, Status.PASS),
    ({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:billing-*"}}, Status.FAIL),
    ({"StringEquals": {"aws:SourceAccount": "999999999999"}}, Status.FAIL),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, Status.GAP),  # not evaluated: never a PASS
])
def test_conditions_on_the_source_are_evaluated_others_leave_a_gap(condition, status):
    statement = {**CLOUDWATCH_MAY_USE, "Condition": condition}
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(statement))).status is status


def test_a_deny_that_may_apply_is_a_gap():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"Bool": {"aws:ViaService": "false"}}}
    assert cloudwatch({"KmsMasterKeyId": KEY_ARN}, key(key_policy(CLOUDWATCH_MAY_USE, deny))).status is Status.GAP


def test_eventbridge_needs_the_topic_policy_statement_the_console_adds():
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/root-activity"
    default = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["SNS:Publish", "SNS:Subscribe"],
               "Resource": TOPIC, "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}
    events = {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sns:Publish",
              "Resource": TOPIC}
    other_topic = {**events, "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:other"}

    def told(*statements: dict) -> Status:
        return topic_delivery(TOPIC, {"Policy": key_policy(*statements)}, None, Publisher.EVENTBRIDGE, rule,
                              ACCOUNT).status

    assert told(default, events) is Status.PASS
    assert told(default) is Status.GAP  # AWS:SourceOwner: a condition rootwatch does not evaluate
    assert told(other_topic) is Status.FAIL
    assert topic_delivery(TOPIC, {}, None, Publisher.EVENTBRIDGE, rule, ACCOUNT).status is Status.FAIL


def test_a_filter_policy_on_message_attributes_drops_every_notification():
    assert subscriber_receives({}).status is Status.PASS
    dropped = subscriber_receives({"FilterPolicy": '{"severity": ["critical"]}'})
    assert dropped.status is Status.FAIL and "receives nothing" in dropped.reason
    assert subscriber_receives({"FilterPolicy": '{"severity": [{"exists": false}]}'}).status is Status.PASS
    assert subscriber_receives({"FilterPolicy": '{"AlarmName": ["x"]}', "FilterPolicyScope": "MessageBody"}).status \
        is Status.GAP
    assert subscriber_receives(None).status is Status.GAP


def test_allows_needs_every_action():
    half = key_policy({**CLOUDWATCH_MAY_USE, "Action": "kms:GenerateDataKey*"})
    assert allows(half, "cloudwatch.amazonaws.com", ("kms:Decrypt", "kms:GenerateDataKey"), ALARM, ACCOUNT,
                  KEY_ARN).status is Status.FAIL


def _judged(calls: list) -> tuple:
    catalog = load_catalog()
    ev = collect_stubbed(calls)
    finding = judge_account(ev, catalog.control("4.3"), catalog)
    return ev, finding, next(v for v in finding.links if v.link is Link.SUBSCRIBER)


def _with(calls: list, operation: str, response: dict) -> list:
    return [(c[0], c[1], response) if c[1] == operation else c for c in calls]


def test_a_chain_whose_topic_uses_the_aws_managed_key_fails_at_the_subscriber():
    calls = _with(healthy_calls(), "GetTopicAttributes", {"Attributes": {"KmsMasterKeyId": "alias/aws/sns"}})
    _, finding, link = _judged(calls)
    assert finding.status is Status.FAIL and link.status is Status.FAIL
    assert "AWS managed key for SNS" in link.reason and any("GetTopicAttributes" in e for e in link.evidence)


def test_a_customer_key_is_read_and_its_policy_decides():
    calls = _with(healthy_calls(), "GetTopicAttributes", {"Attributes": {"KmsMasterKeyId": KEY_ARN}})
    calls += [("kms", "DescribeKey", {"KeyMetadata": metadata()}),
              ("kms", "GetKeyPolicy", {"Policy": key_policy(ACCOUNT_ADMIN, CLOUDWATCH_MAY_USE)})]
    ev, finding, link = _judged(calls)
    assert finding.status is Status.PASS and "nothing in the topic's key, policy or filter policy stopping" in link.reason
    assert ev.topic_keys[KEY_ARN]["rw:policy"] and any("GetKeyPolicy" in e for e in link.evidence)


def test_a_refused_key_policy_is_a_gap_naming_the_error():
    calls = _with(healthy_calls(), "GetTopicAttributes", {"Attributes": {"KmsMasterKeyId": KEY_ARN}})
    calls += [("kms", "DescribeKey", {"KeyMetadata": metadata()}), ("kms", "GetKeyPolicy", {})]
    ev = collect_stubbed(calls, {"GetKeyPolicy": "AccessDeniedException"})
    catalog = load_catalog()
    link = next(v for v in judge_account(ev, catalog.control("4.3"), catalog).links if v.link is Link.SUBSCRIBER)
    assert link.status is Status.GAP and "key policy could not be read" in link.reason


def test_a_filtered_subscriber_fails_the_chain():
    calls = _with(healthy_calls(), "GetSubscriptionAttributes",
                  {"Attributes": {"FilterPolicy": '{"severity": ["critical"]}'}})
    _, finding, link = _judged(calls)
    assert finding.status is Status.FAIL and "email:sec@example.com" in link.reason and "filter policy" in link.reason
