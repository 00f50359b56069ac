"""Realistic root events as EventBridge delivers them from CloudTrail: the bases ``meaning`` varies.

Shapes follow the AWS documentation's records (CloudTrail user guide, console sign-in and
user-identity examples) and the catalog's 4.3 example: an EventBridge envelope (``version``, ``id``,
``detail-type``, ``source``, ``account``, ``time``, ``region``, ``resources``) around the CloudTrail
record in ``detail``. Root use in the CIS sense: ``userIdentity.type`` Root, no
``userIdentity.invokedBy``, ``eventType`` other than ``AwsServiceEvent``; CloudTrail hands such a
record to EventBridge as "AWS Console Sign In via CloudTrail" (``source`` ``aws.signin``) or "AWS API
Call via CloudTrail" (``source`` ``aws.`` + the service).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

ACCOUNT = "111122223333"
SIGN_IN = "AWS Console Sign In via CloudTrail"
API_CALL = "AWS API Call via CloudTrail"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36"
CLI = "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.8"
# services whose EventBridge source is "aws." + the host name of their CloudTrail eventSource, each with
# a call root might make there (a counterexample should read like something that happens)
SERVICES = {
    "iam": "CreateAccessKey", "s3": "PutBucketPolicy", "ec2": "RunInstances", "kms": "CreateKey",
    "sts": "GetCallerIdentity", "lambda": "ListFunctions20150331", "cloudtrail": "StopLogging",
    "organizations": "LeaveOrganization", "sns": "CreateTopic", "sqs": "CreateQueue", "rds": "DescribeDBInstances",
    "dynamodb": "DeleteTable", "config": "StopConfigurationRecorder", "guardduty": "DeleteDetector",
    "securityhub": "DisableSecurityHub", "route53": "ChangeResourceRecordSets", "cloudformation": "DeleteStack",
    "secretsmanager": "GetSecretValue", "ssm": "StartSession", "logs": "DeleteLogGroup", "events": "PutRule",
    "ecr": "DeleteRepository", "ecs": "DeleteCluster", "eks": "CreateCluster", "acm": "RequestCertificate",
    "backup": "DeleteBackupVault", "account": "PutAlternateContact", "cloudfront": "CreateDistribution",
    "glue": "DeleteDatabase", "athena": "StartQueryExecution", "sso": "CreatePermissionSet",
    "access-analyzer": "DeleteAnalyzer", "health": "DescribeEvents", "support": "CreateCase",
    "elasticloadbalancing": "DeleteLoadBalancer", "autoscaling": "UpdateAutoScalingGroup",
    "apigateway": "DeleteRestApi", "kinesis": "DeleteStream", "firehose": "DeleteDeliveryStream",
    "redshift": "DeleteCluster", "elasticfilesystem": "DeleteFileSystem", "wafv2": "DeleteWebACL",
    "ce": "GetCostAndUsage",
}
FRESH_SERVICE = "newservice"  # stands for a service AWS adds after the rule was written
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1")


@dataclass(frozen=True)
class Base:
    """One kind of root event. A sign-in's kind decides its service, event name and type; an API
    call's kind decides its type, and its service is varied (``with_service``)."""

    name: str
    event: dict[str, Any]
    sign_in: bool

    def with_service(self, service: str) -> Base:
        event = copy.deepcopy(self.event)
        event["source"] = f"aws.{service}"
        event["detail"]["eventSource"] = f"{service}.amazonaws.com"
        event["detail"]["eventName"] = SERVICES.get(service, event["detail"]["eventName"])
        return Base(f"{self.name}: {service} {event['detail']['eventName']}", event, self.sign_in)


def _root(access_key: str = "") -> dict[str, Any]:
    identity: dict[str, Any] = {"type": "Root", "principalId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root",
                                "accountId": ACCOUNT, "accessKeyId": access_key}
    if not access_key:
        identity["sessionContext"] = {"attributes": {"creationDate": "2026-08-03T07:40:51Z",
                                                     "mfaAuthenticated": "true"}}
    return identity


def _event(detail_type: str, service: str, region: str, detail: dict[str, Any]) -> dict[str, Any]:
    record = {"eventVersion": "1.09", "eventTime": "2026-08-03T07:41:09Z", "eventSource": f"{service}.amazonaws.com",
              "awsRegion": region, "requestParameters": None, "responseElements": None,
              "eventID": "5d4b7f0a-2c1e-4c8e-9b3a-8e7f6a5b4c3d", "readOnly": False, "managementEvent": True,
              "recipientAccountId": ACCOUNT, "eventCategory": "Management"}
    record.update(detail)
    return {"version": "0", "id": "6f2b1c7e-0d4a-4b1e-9d7c-2a5e8f3b9c10", "detail-type": detail_type,
            "source": f"aws.{service}", "account": ACCOUNT, "time": "2026-08-03T07:41:09Z", "region": region,
            "resources": [], "detail": record}


def _sign_in(mfa: str, ok: bool) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "userIdentity": _root(), "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
        "sourceIPAddress": "203.0.113.17", "userAgent": BROWSER,
        "responseElements": {"ConsoleLogin": "Success" if ok else "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No",
                                "MFAUsed": mfa}}
    if not ok:
        detail["errorMessage"] = "Failed authentication"
    del detail["userIdentity"]["sessionContext"]
    return _event(SIGN_IN, "signin", "us-east-1", detail)


def _call(service: str, name: str, region: str, *, key: str = "", read_only: bool = False,
          **fields: Any) -> dict[str, Any]:
    detail = {"userIdentity": _root(key), "eventName": name, "eventType": "AwsApiCall", "readOnly": read_only,
              "sourceIPAddress": "203.0.113.42", "userAgent": CLI if key else BROWSER,
              "requestID": "0f4c2a9e-6b1d-4f7a-8e3c-5d2b9a1c7e64", **fields}
    if not key:
        detail["sessionCredentialFromConsole"] = "true"
    return _event(API_CALL, service, region, detail)


BASES = (
    Base("root console sign-in with MFA", _sign_in("Yes", True), True),
    Base("root console sign-in without MFA", _sign_in("No", True), True),
    Base("failed root console sign-in", _sign_in("No", False), True),
    Base("root calling an API from the console", _call(
        "iam", "CreateAccessKey", "us-east-1", requestParameters={},
        responseElements={"accessKey": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "status": "Active"}}), False),
    Base("root calling an API with an access key", _call(
        "s3", "PutBucketPolicy", "eu-west-1", key="AKIAIOSFODNN7EXAMPLE",
        requestParameters={"bucketName": "example-bucket", "policy": ""}), False),
    Base("root calling a read-only API", _call(
        "ec2", "DescribeInstances", "eu-west-1", read_only=True,
        requestParameters={"instancesSet": {}, "filterSet": {}}), False),
    Base("root refused by a service control policy", _call(
        "kms", "CreateKey", "ap-southeast-2", key="AKIAIOSFODNN7EXAMPLE", errorCode="AccessDenied",
        errorMessage=f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: kms:CreateKey with an "
                     "explicit deny in a service control policy"), False),
)

# other values root events really carry at fields the bases hold one value for: tried before made-up
# strings, so a counterexample uses them where they fall in the right class
OTHER_VALUES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("detail", "errorCode"): ("NoSuchEntityException", "ThrottlingException", "Client.UnauthorizedOperation",
                              "InvalidParameterValueException"),
    ("detail", "sourceIPAddress"): ("198.51.100.7", "2001:db8::17"),
    ("detail", "userAgent"): ("console.amazonaws.com", "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 lang/python#3.11.8"),
    ("detail", "userIdentity", "accessKeyId"): ("ASIAIOSFODNN7EXAMPLE",),
}
