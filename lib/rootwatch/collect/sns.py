"""Subscribers of the topics alarms notify."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link


def subscriptions(rec: Recorder, topic_arn: str) -> list[dict] | None:
    region = topic_arn.split(":")[3]
    pages = rec.pages(region, "sns", "ListSubscriptionsByTopic", Link.SUBSCRIBER, TopicArn=topic_arn)
    return None if pages is None else [s for page in pages for s in page.get("Subscriptions", [])]
