"""Root hygiene as the benchmark's controls: verdicts from the credential report and the virtual MFA
devices, each edition's number and title from the catalog, the crosswalk on every finding."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from rootwatch.report import exports
from rootwatch.collect.chain import AccountEvidence, Target, collect
from rootwatch.collect.evidence import RawCall
from rootwatch.errors import CatalogError
from rootwatch.hygiene import judge_root_hygiene
from rootwatch.models import Role, Status, Window, dump_findings, load_findings
from rootwatch.runner import report_title
from tests.frames.test_credential_report import DRIFTED_ROOT, REPORT, UNUSED_ROOT

WINDOW = Window(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
NOW = datetime(2026, 10, 1, tzinfo=UTC)


def evidence(account: str, report: str | None, virtual: list[dict] | None = None,
             summary: dict | None = None) -> AccountEvidence:
    """An account's root evidence; the account summary agreeing with the report unless given."""
    ev = AccountEvidence("acct", account, f"arn:aws:sts::{account}:assumed-role/audit/x", ["us-east-1"], WINDOW)
    ev.credential_report, ev.virtual_mfa = report, virtual if virtual is not None else []
    drifted = report == DRIFTED_ROOT
    ev.account_summary = summary if summary is not None else \
        {"AccountMFAEnabled": int(report == REPORT), "AccountAccessKeysPresent": int(drifted)}
    return ev


def verdicts(ev: AccountEvidence, catalog, benchmark: str = "cis-v5.0") -> dict[Role, tuple[str, Status, str]]:
    controls = catalog.select_root(("all",), benchmark)
    return {c.role: (f.control, f.status, f.links[-1].reason)
            for c, f in zip(controls, judge_root_hygiene(ev, controls))}


def test_the_drifted_root_fails_keys_mfa_hardware_mfa_and_everyday_use(catalog):
    found = verdicts(evidence("222222222222", DRIFTED_ROOT), catalog)
    assert found[Role.ROOT_ACCESS_KEYS][:2] == ("1.3", Status.FAIL)
    assert "1 Active access key(s): access key 1 last used 2026-09-30 11:29:30 UTC (s3 in us-east-1)" \
        in found[Role.ROOT_ACCESS_KEYS][2]
    assert found[Role.ROOT_MFA][:2] == ("1.4", Status.FAIL)
    assert found[Role.ROOT_HARDWARE_MFA][:2] == ("1.5", Status.FAIL)  # MFA off is no hardware MFA: never a PASS
    assert found[Role.ROOT_EVERYDAY_USE][:2] == ("1.6", Status.FAIL)


def test_a_sound_root_passes_and_says_when_its_password_was_used(catalog):
    found = verdicts(evidence("123456789012", REPORT), catalog)
    assert {role: status for role, (_, status, _) in found.items()} == dict.fromkeys(found, Status.PASS)
    assert "password was last used 2026-09-24 08:33:42 UTC, inside the window" in found[Role.ROOT_EVERYDAY_USE][2]


def test_roots_virtual_device_fails_hardware_mfa_and_an_unread_list_is_a_gap(catalog):
    root_device = [{"SerialNumber": "arn:aws:iam::123456789012:mfa/root-account-mfa-device",
                    "User": {"Arn": "arn:aws:iam::123456789012:root"}}]
    virtual = verdicts(evidence("123456789012", REPORT, root_device), catalog)[Role.ROOT_HARDWARE_MFA]
    assert virtual[1:] == (Status.FAIL, "the root user's MFA is a virtual device "
                                        "(arn:aws:iam::123456789012:mfa/root-account-mfa-device)")
    ev = evidence("123456789012", REPORT)
    ev.virtual_mfa = None
    assert verdicts(ev, catalog)[Role.ROOT_HARDWARE_MFA][1] == Status.GAP


def test_an_unread_report_leaves_every_root_control_a_gap(catalog):
    found = verdicts(evidence("123456789012", None), catalog)
    assert {status for _, status, _ in found.values()} == {Status.GAP}


def test_a_root_never_used_passes_everyday_use_with_the_reports_reason(catalog):
    found = verdicts(evidence("333333333333", UNUSED_ROOT), catalog)
    assert found[Role.ROOT_EVERYDAY_USE][1] == Status.PASS
    assert "never used or before tracking (no_information)" in found[Role.ROOT_EVERYDAY_USE][2]
    assert found[Role.ROOT_MFA][1] == Status.FAIL


@pytest.mark.parametrize(("benchmark", "numbers"), [
    ("cis-v1.2.0", ["1.1", "1.12", "1.13", "1.14"]), ("cis-v3.0", ["1.4", "1.5", "1.6", "1.7"]),
    ("cis-v5.0", ["1.3", "1.4", "1.5", "1.6"]), ("cis-v6.0", ["2.3", "2.4", "2.5", "2.6"]),
    ("cis-v7.0", ["2.4", "2.5", "2.6", "2.7"])])
def test_each_edition_numbers_the_root_controls_its_own_way(catalog, benchmark, numbers):
    assert [c.id for c in catalog.root_controls(benchmark)] == numbers
    assert catalog.by_role(Role.ROOT_HARDWARE_MFA, benchmark).level == 2


def test_a_v120_run_is_titled_and_numbered_as_that_edition():
    assert report_title((), "cis-v1.2.0") == (
        "A log metric filter and alarm exist for usage of \"root\" account — "
        "evidence report, CIS Amazon Web Services Foundations Benchmark v1.2.0 3.3")
    assert report_title(("1.12", "3.3"), "cis-v1.2.0").startswith("2 controls (1.12, 3.3)")
    assert report_title(("all",), "cis-v1.2.0").startswith("5 controls (1.1, 1.12, 1.13, 1.14, 3.3)")


def test_the_crosswalk_travels_on_the_finding_into_csv_and_ocsf(catalog):
    control = catalog.by_role(Role.ROOT_USAGE, "cis-v1.2.0")
    assert control.id == "3.3"
    ev = evidence("222222222222", DRIFTED_ROOT)
    finding = judge_root_hygiene(ev, [catalog.by_role(Role.ROOT_ACCESS_KEYS, "cis-v1.2.0")])[0]
    finding = load_findings(dump_findings([finding]))[0]  # the crosswalk survives findings.json
    title = catalog.benchmarks["cis-v1.2.0"]
    row = next(csv.DictReader(io.StringIO(exports.cis_csv([finding], NOW, title, ["us-east-1"]))))
    assert (row["REQUIREMENTS_ID"], row["REQUIREMENTS_ATTRIBUTES_SECTION"], row["STATUS"]) == \
        ("1.12", "1 Identity and Access Management", "FAIL")
    assert "CIS Amazon Web Services Foundations Benchmark v5.0.0 1.3" in row["CROSSWALK"]
    assert "AWS Security Hub IAM.4" in row["CROSSWALK"]
    compliance = exports.ocsf([finding], NOW, title)[0]["compliance"]
    assert compliance["requirements"][0] == f"{title} 1.12"
    assert "CIS Amazon Web Services Foundations Benchmark v7.0.0 2.4" in compliance["requirements"]
    assert compliance["standards"][0] == title and "AWS Security Hub" in compliance["standards"]


def test_the_root_usage_control_answers_every_edition_and_the_mapped_frameworks(catalog):
    control = catalog.by_role(Role.ROOT_USAGE, "cis-v5.0")
    answered = {(r.framework, r.id) for r in control.requirements}
    assert {("CIS Amazon Web Services Foundations Benchmark v1.2.0", "3.3"),
            ("CIS Amazon Web Services Foundations Benchmark v1.4.0", "4.3"),
            ("CIS Amazon Web Services Foundations Benchmark v6.0.0", "5.3"),
            ("NIST SP 800-53 Rev. 5", "AU-12"), ("FedRAMP High", "SI-4(20)"), ("FedRAMP Low", "AU-12"),
            ("NIST CSF v2.0", "DE.CM-09")} <= answered
    assert all(r.source for r in control.requirements if not r.framework.startswith("CIS "))  # where it is published
    assert ("CIS Amazon Web Services Foundations Benchmark v5.0.0", "4.3") not in answered  # not itself


def test_an_inactive_root_key_fails_and_an_unread_summary_is_no_pass(catalog):
    inactive = verdicts(evidence("123456789012", REPORT, summary={"AccountMFAEnabled": 1,
                                                                  "AccountAccessKeysPresent": 1}), catalog)
    assert inactive[Role.ROOT_ACCESS_KEYS][1:] == (Status.FAIL, "a root access key exists, though none is Active "
                                                   "(account summary: AccountAccessKeysPresent 1; credential report: "
                                                   "no Active key)")
    unread = evidence("123456789012", REPORT)
    unread.account_summary = None
    assert verdicts(unread, catalog)[Role.ROOT_ACCESS_KEYS][1] == Status.GAP
    assert verdicts(unread, catalog)[Role.ROOT_MFA][1] == Status.PASS  # the report alone answers MFA


def test_mfa_the_summary_says_is_off_fails_whatever_the_report_says(catalog):
    found = verdicts(evidence("123456789012", REPORT, summary={"AccountMFAEnabled": 0,
                                                               "AccountAccessKeysPresent": 0}), catalog)
    assert found[Role.ROOT_MFA][1:] == (Status.FAIL, "MFA is off for the root user (account summary "
                                                     "AccountMFAEnabled: 0)")


def test_the_sandbox_drifted_root_fails_every_root_control_and_the_healthy_one_passes(sandbox, window, catalog):
    controls = catalog.root_controls()
    evidence = collect([Target(a.alias, sandbox.session(), a.role_arn) for a in sandbox.accounts], ["us-east-1"],
                       window, [], endpoint_url=sandbox.endpoint, root_hygiene=True)
    found = {(ev.label, f.control): f for ev in evidence for f in judge_root_hygiene(ev, controls)}
    assert {key: f.status for key, f in found.items()} == {
        **{("healthy", c.id): Status.PASS for c in controls}, **{("drifted", c.id): Status.FAIL for c in controls},
        **{("eventbridge-only", c.id): Status.PASS for c in controls}}
    keys = found[("drifted", "1.3")]
    assert any(path.endswith("iam.GetAccountSummary.json") for path in keys.links[-1].evidence)  # the calls behind it
    assert any(path.endswith("iam.GetCredentialReport.json") for path in keys.links[-1].evidence)


def test_a_run_names_root_controls_by_their_edition_number_and_an_unknown_one_lists_them(catalog):
    assert [c.id for c in catalog.select(("1.4", "4.3"), "cis-v3.0")] == ["4.3"]
    assert [c.role for c in catalog.select_root(("1.4", "4.3"), "cis-v3.0")] == [Role.ROOT_ACCESS_KEYS]
    with pytest.raises(CatalogError, match=r"unknown control '1\.12' for cis-v5\.0.*1\.3, 1\.4, 1\.5, 1\.6, 4\.1"):
        catalog.select(("1.12",), "cis-v5.0")  # v1.2.0's number for root access keys is not v5.0's


def test_a_root_key_last_used_after_the_window_is_no_pass_for_everyday_use(catalog):
    """The report keeps only a key's last use: one after the window hides any use inside it."""
    later = DRIFTED_ROOT.replace("2026-09-30T11:29:30+00:00", "2026-10-20T11:29:30+00:00")
    found = verdicts(evidence("222222222222", later), catalog)[Role.ROOT_EVERYDAY_USE]
    assert found[1] == Status.GAP
    assert "access key 1 last used 2026-10-20 11:29:30 UTC, after the window" in found[2]
    assert "no root access key" not in found[2]


def test_roots_virtual_device_in_the_china_partition_fails_hardware_mfa(catalog):
    """Root's ARN names its partition: a virtual device of an aws-cn root is still virtual, never hardware."""
    report = REPORT.replace("arn:aws:iam::123456789012:root", "arn:aws-cn:iam::123456789012:root")
    root_device = [{"SerialNumber": "arn:aws-cn:iam::123456789012:mfa/my-phone",
                    "User": {"Arn": "arn:aws-cn:iam::123456789012:root", "UserId": "123456789012"}}]
    summary = {"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}
    found = verdicts(evidence("123456789012", report, root_device, summary), catalog)[Role.ROOT_HARDWARE_MFA]
    assert found[1:] == (Status.FAIL,
                         "the root user's MFA is a virtual device (arn:aws-cn:iam::123456789012:mfa/my-phone)")


def test_everyday_use_says_the_report_ends_at_its_generation_when_that_is_before_the_windows_end(catalog):
    """IAM serves a report up to four hours old: a root key used after it was generated is not in it."""
    ev = evidence("123456789012", REPORT)
    generated = datetime(2026, 9, 30, 21, 0, tzinfo=UTC)  # three hours before the window ends
    ev.calls = [RawCall(7, "123456789012", "us-east-1", "iam", "GetCredentialReport", {}, generated,
                        pages=[{"Content": REPORT.encode(), "ReportFormat": "text/csv", "GeneratedTime": generated}])]
    found = verdicts(ev, catalog)[Role.ROOT_EVERYDAY_USE]
    assert "signed a request in the window up to 2026-09-30 21:00:00 UTC, when IAM generated " \
           "the credential report" in found[2]
    assert "in the window (a key" not in found[2]


def test_hardware_mfa_fails_when_the_account_summary_says_mfa_is_off(catalog):
    """The report may be hours old: MFA removed since then is no hardware MFA, whatever the report says."""
    found = verdicts(evidence("123456789012", REPORT, summary={"AccountMFAEnabled": 0,
                                                               "AccountAccessKeysPresent": 0}), catalog)
    assert found[Role.ROOT_HARDWARE_MFA][1:] == (Status.FAIL, "MFA is off for the root user (account summary "
                                                              "AccountMFAEnabled: 0): no MFA device of any kind")


def test_everyday_use_passes_only_on_the_keys_the_report_lists_and_says_so(catalog):
    """A root key used in the window and deleted before the report is not in it: the PASS must not
    claim that no root key at all signed a request."""
    found = verdicts(evidence("123456789012", REPORT), catalog)[Role.ROOT_EVERYDAY_USE]
    assert found[1] == Status.PASS
    assert found[2].startswith("no root access key the credential report lists signed a request in the window "
                               "(a key deleted since is not in it); ")


def test_hardware_mfa_pass_claims_no_more_than_that_roots_device_is_not_virtual(catalog):
    """A passkey or security key is no virtual MFA device either: the list cannot tell it from a
    hardware token, so the PASS must not say which it is."""
    found = verdicts(evidence("123456789012", REPORT), catalog)[Role.ROOT_HARDWARE_MFA]
    assert found[1] == Status.PASS and "its device is a hardware one" not in found[2]
    assert found[2].endswith("root's MFA is not a virtual (authenticator app) device: a hardware TOTP token, a FIDO "
                             "security key or a passkey (the CIS audit procedure's test)")
