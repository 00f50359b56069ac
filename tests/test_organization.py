"""Every catalog control on the sandbox, organization scope, fan-out failures, exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rootwatch.collect.chain import Target, collect
from rootwatch.collect.evidence import Recorder
from rootwatch.collect.organization import organization_scope, resolve_regions
from rootwatch.collect.session import Clients
from rootwatch.errors import CredentialsError
from rootwatch.judge.chain import FAIL, GAP, PASS, judge_all

HEALTHY, DRIFTED = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def all_controls(sandbox, window, catalog):
    controls = catalog.controls()
    base = sandbox.session()
    evidence = collect([Target(a.alias, base, a.role_arn) for a in sandbox.accounts], ["us-east-1"], window, controls,
                       endpoint_url=sandbox.endpoint, lookup_rate=None)
    return {(f.account_id, f.control): f for f in judge_all(evidence, controls, catalog)}


@pytest.mark.parametrize("control", [f"4.{n}" for n in range(1, 16)])
def test_each_control_passes_in_healthy_and_fails_on_its_pattern_in_drifted(all_controls, control):
    healthy, drifted = all_controls[(HEALTHY, control)], all_controls[(DRIFTED, control)]
    assert healthy.status == PASS, [(link.link.title, link.reason) for link in healthy.failing]
    assert drifted.status == FAIL
    failing = [link.link.title for link in drifted.failing]
    assert failing[0] == "metric filter" and drifted.coverage is not None and drifted.coverage.event is not None
    if control != "4.3":  # the drifted account's other alarms are sound: the pattern alone fails
        assert failing == ["metric filter"]


def _deny_assume_role_into(account: str):
    def hook(params, **kwargs):  # params: the serialized request; its body holds RoleArn
        if account in str(params.get("body", "")):
            return (type("Forbidden", (), {"status_code": 403})(),
                    {"Error": {"Code": "AccessDenied", "Message": f"not authorized to perform: sts:AssumeRole on "
                                                                   f"arn:aws:iam::{account}:role/rootwatch-audit"}})
        return None
    return hook


def test_one_account_denying_assume_role_is_a_gap_and_the_others_are_judged(sandbox, window, catalog):
    base = sandbox.session()
    base.events.register("before-call.sts.AssumeRole", _deny_assume_role_into(DRIFTED))
    evidence = collect([Target(a.alias, base, a.role_arn) for a in sandbox.accounts], ["us-east-1"], window,
                       [catalog.control("4.3")], endpoint_url=sandbox.endpoint, lookup_rate=None)
    findings = {f.account_id: f for f in judge_all(evidence, [catalog.control("4.3")], catalog)}
    assert findings[HEALTHY].status == PASS
    denied = findings[DRIFTED]  # never identified by STS, but its role ARN names the account
    assert denied.status == GAP and all(link.status == GAP for link in denied.links)
    assert "AssumeRole failed with AccessDenied" in denied.links[0].reason
    assert denied.links[0].evidence[0].endswith("sts.AssumeRole.json")


def _fake(responses):
    """A before-call hook answering some operations with canned responses, as AWS would."""
    def hook(model, params, **kwargs):
        answer = responses.get(model.name)
        if answer is None:
            return None
        page = answer(params) if callable(answer) else answer
        return type("OK", (), {"status_code": 200})(), {**page, "ResponseMetadata": {"HTTPStatusCode": 200}}
    return hook


ACCOUNTS = [{"Id": "100000000001", "Name": "management", "Status": "ACTIVE"},
            {"Id": "100000000002", "Name": "prod-payments", "Status": "ACTIVE"},
            {"Id": "100000000003", "Name": "prod-web", "Status": "ACTIVE"},
            {"Id": "100000000004", "Name": "sandbox-old", "Status": "SUSPENDED"},
            {"Id": "100000000005", "Name": "dev-web", "Status": "ACTIVE"}]


def _org_session():
    import boto3

    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x", region_name="us-east-1")
    session.events.register("before-call.*.*", _fake({
        "GetCallerIdentity": {"Account": "100000000001", "Arn": "arn:aws:iam::100000000001:user/auditor", "UserId": "x"},
        "ListAccounts": lambda p: {"Accounts": ACCOUNTS[3:]} if "page2" in str(p.get("body"))
        else {"Accounts": ACCOUNTS[:3], "NextToken": "page2"},
        "DescribeRegions": {"Regions": [{"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                                        {"RegionName": "af-south-1", "OptInStatus": "not-opted-in"},
                                        {"RegionName": "eu-south-1", "OptInStatus": "opted-in"}]},
    }))
    return session


def test_organization_scope_lists_active_accounts_with_filters_and_enabled_regions():
    scope = organization_scope(_org_session(), "rootwatch-audit", "all", include=["prod-*", "management"],
                               exclude=["100000000003"], external_id="ext-123", session_name="audit-q3")
    labels = [(t.label, t.role_arn) for t in scope.targets]
    assert labels == [("management", None),  # the caller's own account: no role to assume
                      ("prod-payments", "arn:aws:iam::100000000002:role/rootwatch-audit")]
    assert scope.targets[1].external_id == "ext-123" and scope.targets[1].session_name == "audit-q3"
    assert scope.regions == ["eu-south-1", "us-east-1"]
    assert [c.operation for c in scope.calls] == ["GetCallerIdentity", "ListAccounts", "DescribeRegions"]
    assert len(scope.calls[1].pages) == 2  # paginated


def test_organization_listing_denied_is_bad_input():
    import boto3

    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x", region_name="us-east-1")
    session.events.register("before-call.organizations.ListAccounts", lambda **kw: (
        type("R", (), {"status_code": 400})(), {"Error": {"Code": "AWSOrganizationsNotInUseException",
                                                          "Message": "not in an organization"}}))
    session.events.register("before-call.sts.GetCallerIdentity", _fake({"GetCallerIdentity": {
        "Account": "1", "Arn": "arn:aws:iam::1:user/a", "UserId": "x"}}))
    with pytest.raises(CredentialsError, match="AWSOrganizationsNotInUseException"):
        organization_scope(session, "rootwatch-audit", ["us-east-1"])


def test_all_regions_on_the_sandbox(sandbox):
    regions = resolve_regions(Recorder(Clients(sandbox.session(), sandbox.endpoint), "scope"), "all", "us-east-1")
    assert "us-east-1" in regions and "eu-west-1" in regions and len(regions) > 10


@pytest.fixture(scope="module")
def org_run(tmp_path_factory):
    from tests.test_run import ROOT, _run

    out = tmp_path_factory.mktemp("org") / "bundle"
    done = _run(str(ROOT / "parameters" / "sandbox.yaml"), "--set", "controls=all", "--set", "pdf={renderer: none}",
                "--out", str(out))
    return done, out


def test_run_over_all_controls_prints_a_line_per_account_and_exports(org_run):
    done, out = org_run
    assert done.returncode == 1, done.stderr[-2000:]
    # every control of the edition: the root-hygiene controls (section 1) first, then the monitoring ones
    assert "healthy (111111111111): 1.3 PASS, 1.4 PASS, 1.5 PASS, 1.6 PASS, 4.1 PASS, 4.2 PASS" in done.stderr
    assert "drifted (222222222222): 1.3 FAIL, 1.4 FAIL, 1.5 FAIL, 1.6 FAIL, 4.1 FAIL" in done.stderr
    assert "4.1 PASS, 4.2 PASS, 4.3 PASS, RW-1 alarm coverage (4.3) FAIL" in done.stderr
    assert "23 PASS, 34 FAIL, 0 GAP over 3 account(s) and 19 control(s); rootwatch tests 2 PASS, 6 FAIL, 0 GAP " \
           "(not in the exit code)" in done.stdout
    title = "19 controls (1.3, 1.4, 1.5, 1.6, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9, 4.10, 4.11, 4.12, 4.13, " \
            "4.14, 4.15) — evidence report, CIS Amazon Web Services Foundations Benchmark v5.0.0"
    assert f"<title>{title}</title>" in (out / "report.html").read_text()
    findings = json.loads((out / "findings.json").read_text())
    # 4 root controls + 15 chains + 4.3's RW-1 and RW-2, x 3, + RW-3 of the two accounts with an EventBridge rule
    assert len(findings) == 65 and {f["level"] for f in findings} == {1, 2}
    ocsf = json.loads((out / "findings.ocsf.json").read_text())
    assert len(ocsf) == 65 and {o["class_uid"] for o in ocsf} == {2003}
    assert len({o["finding_info"]["uid"] for o in ocsf}) == 65
    [rw3] = [o for o in ocsf if o["compliance"]["control"] == "RW-3" and o["cloud"]["account"]["uid"] == DRIFTED]
    assert rw3["cloud"]["account"]["uid"] == DRIFTED and rw3["compliance"]["status"] == "Pass"
    failed = next(o for o in ocsf if o["cloud"]["account"]["uid"] == DRIFTED and o["compliance"]["control"] == "4.3")
    assert failed["compliance"]["status"] == "Fail" and failed["compliance"]["status_id"] == 3
    assert failed["compliance"]["standards"][0] == "CIS Amazon Web Services Foundations Benchmark v5.0.0"
    assert {"NIST SP 800-53 Rev. 5", "FedRAMP High", "NIST CSF v2.0"} <= set(failed["compliance"]["standards"])
    assert {"CIS Amazon Web Services Foundations Benchmark v1.2.0 3.3", "NIST SP 800-53 Rev. 5 AU-12",
            "FedRAMP High SI-4(20)"} <= set(failed["compliance"]["requirements"])  # the crosswalk on the finding
    assert {c["name"] for c in failed["compliance"]["checks"]} >= {"metric filter", "alarm", "confirmed subscriber"}
    rows = list(csv.DictReader(io.StringIO((out / "findings.csv").read_text())))
    assert [r["STATUS"] for r in rows if r["REQUIREMENTS_ID"] == "RW-3"] == ["PASS", "PASS"]
    assert len(rows) == 65 and rows[0]["FRAMEWORK"] == "CIS"
    assert [r["REQUIREMENTS_ATTRIBUTES_SECTION"] for r in rows[3:5]] == ["1 Identity and Access Management",
                                                                       "4 Monitoring"]
    assert {r["STATUS"] for r in rows} == {"PASS", "FAIL"}


def test_report_opens_with_the_organization_page(org_run):
    _, out = org_run
    html = (out / "report.html").read_text()
    overview, chain = html.index("2. Verdict summary</h2>"), html.index("3. The chain, link by link</h2>")
    heatmap = html.index("data:image/png", overview)
    assert overview < heatmap < html.index("<th>FAIL</th>", overview) < html.index("what fails or is unreadable") < chain
    # the verdicts' heat map, the accounts' chains week by week (RW-2), the root events' heat map, then each
    # account's five charts (the fifth: its chain over the window): of all the alarms judged, only the
    # root-usage chain's is drawn (about root); the eventbridge-only account has no such alarm, no alarm chart
    assert html.count("data:image/png") == 3 + 3 * 5 - 1
    weeks = html.index("alt=\"The chain per account and week, ")
    assert overview < weeks < chain
