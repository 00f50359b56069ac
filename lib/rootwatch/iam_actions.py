"""Which IAM actions authorize an AWS API call: the table behind the shipped policies
(``policies/*.json``) and the test that replays recorded calls against them.

Most operations are authorized by the action of the same name under the service's IAM prefix
(``logs:FilterLogEvents``, ``cloudtrail:LookupEvents``, ``iam:GenerateCredentialReport``), so the
tables below hold only the exceptions, as the Service Authorization Reference and each API
reference state them. A policy written from operation names alone would miss exactly these.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# botocore signing name -> IAM prefix, where they differ (CloudWatch signs as "monitoring")
PREFIXES: Mapping[str, str] = MappingProxyType({"monitoring": "cloudwatch"})

# (IAM prefix, operation) -> the action that authorizes it, where it is not "prefix:Operation"
ACTIONS: Mapping[tuple[str, str], str] = MappingProxyType({
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadObject"): "s3:GetObject",
})

# operations AWS authorizes for every caller: "No permissions are required to perform this operation"
# (an explicit deny does not stop GetCallerIdentity), so no policy needs to, or can usefully, grant them
UNAUTHORIZED: frozenset[tuple[str, str]] = frozenset({("sts", "GetCallerIdentity")})

# (IAM prefix, operation) -> {request parameter: action}: actions a call needs besides its own when it
# carries that parameter. Handing CloudTrail a role for CloudWatch Logs delivery is an iam:PassRole of
# that role, and tagging a resource as it is created a TagResource of it: checked by IAM but never a
# call of its own, so no recorder can see them.
IMPLIED: Mapping[tuple[str, str], Mapping[str, str]] = MappingProxyType({
    ("cloudtrail", "CreateTrail"): {"CloudWatchLogsRoleArn": "iam:PassRole"},
    ("cloudtrail", "UpdateTrail"): {"CloudWatchLogsRoleArn": "iam:PassRole"},
    ("cloudwatch", "PutMetricAlarm"): {"Tags": "cloudwatch:TagResource"},
    ("sns", "CreateTopic"): {"Tags": "sns:TagResource"},
})


def iam_prefix(signing_name: str) -> str:
    """The IAM service prefix of a botocore service (its signing name, but for the exceptions)."""
    return PREFIXES.get(signing_name, signing_name)


def iam_action(signing_name: str, operation: str) -> str | None:
    """The action that authorizes ``operation``; None when the operation needs no permission."""
    prefix = iam_prefix(signing_name)
    if (prefix, operation) in UNAUTHORIZED:
        return None
    return ACTIONS.get((prefix, operation), f"{prefix}:{operation}")


def iam_actions(signing_name: str, operation: str, params: Mapping[str, object]) -> list[str]:
    """Every action one call needs: its own (if any), then those its parameters imply."""
    own = iam_action(signing_name, operation)
    implied = IMPLIED.get((iam_prefix(signing_name), operation), {})
    return [a for a in (own,) if a] + [action for param, action in implied.items() if params.get(param)]
