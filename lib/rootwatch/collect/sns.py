"""Subscribers of the topics alarms notify."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link
from rootwatch.resources import Topic


def subscriptions(rec: Recorder, topic: Topic) -> list[dict] | None:
    """Read in the topic's own region, whatever region its alarm is in."""
    topic_arn, region = topic.arn, topic.region
    pages = rec.pages(region, "sns", "ListSubscriptionsByTopic", Link.SUBSCRIBER, TopicArn=topic_arn)
    return None if pages is None else [s for page in pages for s in page.get("Subscriptions", [])]


def topic_attributes(rec: Recorder, topic: Topic) -> dict | None:
    """Encryption (``KmsMasterKeyId``) and access policy: what decides whether a publisher can deliver."""
    answer = rec.call(topic.region, "sns", "GetTopicAttributes", Link.SUBSCRIBER, TopicArn=topic.arn)
    return None if answer is None else answer.get("Attributes", {})


def subscription_attributes(rec: Recorder, topic: Topic, subscription_arn: str) -> dict | None:
    """The subscription's filter policy, which may drop every notification its subscriber would get."""
    answer = rec.call(topic.region, "sns", "GetSubscriptionAttributes", Link.SUBSCRIBER,
                      SubscriptionArn=subscription_arn)
    return None if answer is None else answer.get("Attributes", {})
