"""Typed views over raw AWS responses: ARNs read in every partition, facts read by name."""

from __future__ import annotations

import pytest

from rootwatch.resources import Alarm, Arn, LogGroupRef, Subscription, Topic, Trail

ACCOUNT = "111122223333"


@pytest.mark.parametrize(("partition", "region"), [("aws", "us-east-1"), ("aws-us-gov", "us-gov-west-1"),
                                                   ("aws-cn", "cn-north-1")])
def test_an_alarm_notifies_sns_topics_in_every_partition(partition, region):
    topic = f"arn:{partition}:sns:{region}:{ACCOUNT}:alerts"
    alarm = Alarm({"AlarmName": "root", "rw:region": region, "AlarmActions": [
        topic, f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:f",
        f"arn:{partition}:autoscaling:{region}:{ACCOUNT}:scalingPolicy:x", "not an arn"]})
    assert alarm.topics == (topic,)
    parsed = Topic.parse(topic)
    assert (parsed.region, parsed.account, parsed.name) == (region, ACCOUNT, "alerts")
    assert Topic.arn_of(partition, region, ACCOUNT, "alerts") == topic


def test_a_subscription_is_confirmed_only_with_a_real_arn():
    topic = f"arn:aws-us-gov:sns:us-gov-west-1:{ACCOUNT}:alerts"
    live = Subscription({"rw:topicArn": topic, "SubscriptionArn": f"{topic}:0b1c"})
    assert live.confirmed and live.region == "us-gov-west-1"
    for state in ("PendingConfirmation", "Deleted", ""):
        assert not Subscription({"rw:topicArn": topic, "SubscriptionArn": state}).confirmed


def test_a_trail_names_its_owner_and_log_group_in_any_partition():
    trail = Trail({"TrailARN": "arn:aws-cn:cloudtrail:cn-north-1:999999999999:trail/org", "Name": "org",
                   "CloudWatchLogsLogGroupArn": "arn:aws-cn:logs:cn-north-1:999999999999:log-group:ct-logs:*"})
    assert trail.owner == "999999999999" and trail.logging is None and trail.selectors is None
    assert trail.log_group == LogGroupRef("999999999999", "cn-north-1", "ct-logs")
    assert trail.log_group.arn("aws-cn") == "arn:aws-cn:logs:cn-north-1:999999999999:log-group:ct-logs:*"
    assert str(Arn.parse(trail.arn)) == trail.arn
