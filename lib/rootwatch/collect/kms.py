"""The KMS key an SNS topic is encrypted with: who manages it, its state and its key policy, which
must let the publishing service use it."""

from __future__ import annotations

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link
from rootwatch.resources import Arn


def topic_key(rec: Recorder, topic_region: str, key_id: str) -> dict | None:
    """DescribeKey's ``KeyMetadata`` with the key policy as ``rw:policy`` (None when unreadable); None when
    the key itself could not be described. A key named by ARN lives in that ARN's region, one named by
    id or alias in the topic's."""
    arn = Arn.parse(key_id)
    region = arn.region if arn else topic_region
    described = rec.call(region, "kms", "DescribeKey", Link.SUBSCRIBER, KeyId=key_id)
    if described is None:
        return None
    meta = described.get("KeyMetadata", {})
    if meta.get("KeyManager") == "AWS":  # AWS managed: its policy is AWS's, and never names CloudWatch
        return {**meta, "rw:policy": None}
    policy = rec.call(region, "kms", "GetKeyPolicy", Link.SUBSCRIBER, KeyId=meta.get("KeyId", key_id),
                      PolicyName="default")
    return {**meta, "rw:policy": None if policy is None else policy.get("Policy")}
