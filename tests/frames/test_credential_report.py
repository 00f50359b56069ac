"""Credential reports read as IAM writes them: typed times and flags, and why a time is missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from rootwatch.frames.credential_report import (CREDENTIAL_REPORT, ROOT_USAGE, ROOT_USER, parse_credential_report,
                                                root_usage)
from rootwatch.errors import CredentialReportError, RootwatchError

# What GetCredentialReport returns for an account with a sound root user and three IAM users: one
# signing in and using a key, one whose password predates tracking and whose first key was never
# used, one without a password whose key was never used.
REPORT = (Path(__file__).parent / "data" / "credential-report.csv").read_text(encoding="utf-8")
HEADER = REPORT.splitlines()[0]
NO_KEYS_NO_CERTS = "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
DRIFTED_ROOT = (f"{HEADER}\n<root_account>,arn:aws:iam::222222222222:root,2019-04-02T08:15:31+00:00,not_supported,"
                "2026-09-20T09:38:00+00:00,not_supported,not_supported,false,true,2024-03-14T09:12:45+00:00,"
                "2026-09-30T11:29:30+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n")
UNUSED_ROOT = (f"{HEADER}\n<root_account>,arn:aws:iam::333333333333:root,2026-09-01T00:00:00+00:00,not_supported,"
               f"no_information,not_supported,not_supported,false,{NO_KEYS_NO_CERTS}\n")


def t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture
def report() -> pd.DataFrame:
    return parse_credential_report(REPORT, "123456789012").set_index("user", drop=False)


def test_columns_and_dtypes_are_the_documented_ones(report):
    assert list(report.columns) == list(CREDENTIAL_REPORT)
    assert {str(report[c].dtype) for c, (dtype, _) in CREDENTIAL_REPORT.items() if dtype.startswith("datetime")} \
        == {"datetime64[ns, UTC]"}
    assert all(str(report[c].dtype) == dtype for c, (dtype, _) in CREDENTIAL_REPORT.items())
    assert (report["account_id"] == "123456789012").all()


def test_root_row_has_times_where_recorded_and_the_reason_elsewhere(report):
    root = report.loc[ROOT_USER]
    assert root["arn"] == "arn:aws:iam::123456789012:root"
    assert root["user_creation_time"] == t("2017-03-14T09:21:07")
    assert root["password_last_used"] == t("2026-09-24T08:33:42")
    assert root["password_last_used_status"] == "recorded"
    assert pd.isna(root["password_enabled"])  # not_supported: the root user's password is not IAM's
    assert pd.isna(root["password_last_changed"]) and pd.isna(root["password_next_rotation"])
    assert root["password_last_changed_status"] == "not supported for this user (not_supported)"
    assert root["mfa_active"] and not root["access_key_1_active"]  # pd.NA would refuse to be truthy
    assert pd.isna(root["access_key_1_last_used_date"]) and pd.isna(root["access_key_1_last_used_region"])
    assert root["access_key_1_last_used_date_status"] == "not applicable (N/A)"


def test_never_used_is_told_apart_from_unknown(report):
    never_signed_in_since_tracking = report.loc["legacy-ops"]
    assert pd.isna(never_signed_in_since_tracking["password_last_used"])
    assert never_signed_in_since_tracking["password_last_used_status"] \
        == "never used or before tracking (no_information)"
    no_password = report.loc["ci-deploy"]
    assert not no_password["password_enabled"]
    assert pd.isna(no_password["password_last_used"])
    assert no_password["password_last_used_status"] == "not applicable (N/A)"
    signing_in = report.loc["alice"]
    assert signing_in["password_last_used"] == t("2026-09-30T07:12:45")
    assert signing_in["password_last_used_status"] == "recorded"


def test_access_keys_used_and_never_used(report):
    used = report.loc["alice"]
    assert used["access_key_1_active"]
    assert used["access_key_1_last_used_date"] == t("2026-10-01T16:45:00")
    assert (used["access_key_1_last_used_region"], used["access_key_1_last_used_service"]) == ("eu-west-1", "ec2")
    legacy = report.loc["legacy-ops"]
    assert legacy["access_key_1_active"] and pd.isna(legacy["access_key_1_last_used_date"])
    assert legacy["access_key_1_last_used_date_status"] == "not applicable (N/A)"
    assert legacy["access_key_1_last_rotated"] == t("2013-02-11T08:05:00")
    assert (legacy["access_key_2_last_used_date"], legacy["access_key_2_last_used_service"]) \
        == (t("2026-08-02T03:14:00"), "s3")
    assert legacy["cert_1_active"]
    assert report.loc["ci-deploy", "access_key_1_last_used_date_status"] == "not applicable (N/A)"


def test_columns_aws_adds_later_are_kept_as_text():
    lines = REPORT.splitlines()
    extended = "\n".join([lines[0] + ",mfa_device_type"] + [line + ",virtual" for line in lines[1:]])
    frame = parse_credential_report(extended, "123456789012")
    assert list(frame.columns) == [*CREDENTIAL_REPORT, "mfa_device_type"]
    assert (frame["mfa_device_type"] == "virtual").all()


def test_a_header_alone_is_an_account_without_users_yet_typed():
    frame = parse_credential_report(HEADER + "\n", "123456789012")
    assert frame.empty and all(str(frame[c].dtype) == dtype for c, (dtype, _) in CREDENTIAL_REPORT.items())
    usage = root_usage(frame)
    assert usage.empty and list(usage.columns) == list(ROOT_USAGE)


def test_root_usage_per_account_says_when_and_with_what_the_root_user_was_last_used():
    frame = pd.concat([parse_credential_report(REPORT, "123456789012"),
                       parse_credential_report(DRIFTED_ROOT, "222222222222"),
                       parse_credential_report(UNUSED_ROOT, "333333333333")], ignore_index=True)
    usage = root_usage(frame).set_index("account_id")
    assert list(usage.reset_index().columns) == list(ROOT_USAGE)
    assert all(str(usage.reset_index()[c].dtype) == dtype for c, (dtype, _) in ROOT_USAGE.items())
    sound, drifted, unused = usage.loc["123456789012"], usage.loc["222222222222"], usage.loc["333333333333"]
    assert (sound["last_used"], sound["last_used_with"]) == (t("2026-09-24T08:33:42"), "password")
    assert sound["mfa_active"] and not sound["access_keys_active"]
    assert (drifted["last_used"], drifted["last_used_with"]) == (t("2026-09-30T11:29:30"), "access key 1")
    assert not drifted["mfa_active"] and drifted["access_keys_active"]
    assert (drifted["access_key_1_last_used_region"], drifted["access_key_1_last_used_service"]) == ("us-east-1", "s3")
    assert drifted["password_last_used"] == t("2026-09-20T09:38:00")
    assert pd.isna(unused["last_used"]) and pd.isna(unused["last_used_with"])
    assert unused["password_last_used_status"] == "never used or before tracking (no_information)"


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"),
    ('<?xml version="1.0"?><ErrorResponse><Error><Code>ReportInProgress</Code></Error></ErrorResponse>',
     "not an IAM credential report"),
    ('{"Content": "dXNlcixhcm4=", "ReportFormat": "text/csv"}', "not an IAM credential report"),
    (REPORT.replace(",mfa_active,", ",mfa,"), "mfa_active"),
    (REPORT.replace(",ec2,", ",ec2,extra,"), "line 3 of the credential report has 23 cells for 22 columns"),
    (REPORT.replace("2026-09-30T07:12:45+00:00", "last Tuesday"),
     "password_last_used of user 'alice' is 'last Tuesday'"),
    (REPORT.replace(",not_supported,2026-09-24", ",yes,2026-09-24"), "password_enabled of user '<root_account>'"),
])
def test_text_that_is_not_a_credential_report_is_refused_with_the_reason(text, says):
    with pytest.raises(CredentialReportError, match=says) as caught:
        parse_credential_report(text, "123456789012")
    assert isinstance(caught.value, RootwatchError) and caught.value.hint
