"""Findings → the formats SIEMs and spreadsheets take: OCSF 1.1 "Compliance Finding" (class 2003)
JSON, and a CSV shaped like the CIS compliance CSVs other tools emit (Prowler's columns). Both read
only the findings, so they can be made again from any bundle's findings.json
(``models.load_findings``), offline. The CSV's cells carry names from the accounts (filters, alarms,
topics): each is made safe for spreadsheets (``untrusted.spreadsheet_cell``) and rows end in CRLF
(RFC 4180), so a carriage return in a name stays inside its quoted cell."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from rootwatch import __version__
from rootwatch.models import Check, Finding, Status
from rootwatch.untrusted import spreadsheet_cell

OCSF_STATUS = {Status.PASS: (1, "Pass"), Status.FAIL: (3, "Fail"), Status.GAP: (2, "Warning")}  # compliance.status_id
SEVERITY = {Status.PASS: (1, "Informational"), Status.FAIL: (3, "Medium"), Status.GAP: (2, "Low")}
ROOTWATCH_STANDARD = "rootwatch tests (beyond the benchmark)"  # where rootwatch's own tests are filed
CSV_COLUMNS = ["PROVIDER", "DESCRIPTION", "ACCOUNTID", "REGION", "ASSESSMENTDATE", "REQUIREMENTS_ID",
               "REQUIREMENTS_DESCRIPTION", "REQUIREMENTS_ATTRIBUTES_SECTION", "REQUIREMENTS_ATTRIBUTES_PROFILE",
               "REQUIREMENTS_ATTRIBUTES_ASSESSMENTSTATUS", "STATUS", "STATUSEXTENDED", "RESOURCEID", "CHECKID",
               "FRAMEWORK", "NAME", "CROSSWALK"]
SECTIONS = {Check.ROOT_CREDENTIALS: "Identity and Access Management"}  # else the section of the monitoring controls


def _extended(finding: Finding) -> str:
    """What fails or is unread; for a root-hygiene control, its verdict's reason whatever it is."""
    if finding.check is Check.ROOT_CREDENTIALS:
        return f"{finding.links[-1].link.title}: {finding.links[-1].reason}"
    bad = [f"{link.link.title}: {link.reason}" for link in finding.failing]
    return "; ".join(bad) or "every link of the monitoring chain passes"


def crosswalk(finding: Finding) -> list[str]:
    """Every other requirement the verdict answers, as ``<framework> <id>``: the control's number in
    the other CIS editions, then the frameworks mapped to it (none for rootwatch's own tests)."""
    return [f"{r.framework} {r.id}" for r in finding.requirements]


def ocsf(findings: list[Finding], assessed: datetime, benchmark_title: str) -> list[dict[str, Any]]:
    ms = int(assessed.timestamp() * 1000)
    out = []
    for f in findings:
        status_id, status = OCSF_STATUS[f.status]
        severity_id, severity = SEVERITY[f.status]
        out.append({
            "class_uid": 2003, "class_name": "Compliance Finding", "category_uid": 2, "category_name": "Findings",
            "activity_id": 1, "activity_name": "Create", "type_uid": 200301, "time": ms,
            "severity_id": severity_id, "severity": severity, "status_id": 1, "status": "New",
            "metadata": {"version": "1.1.0", "product": {"name": "rootwatch", "vendor_name": "rootwatch",
                                                         "version": __version__}},
            "finding_info": {"uid": f.uid,
                             "title": f"{f.name}: {f.title}".strip(),
                             "desc": _extended(f), "created_time": ms},
            "compliance": {"standards": [benchmark_title if f.benchmark_control else ROOTWATCH_STANDARD,
                                         *dict.fromkeys(r.framework for r in f.requirements)],
                           "requirements": [f"{benchmark_title if f.benchmark_control else ROOTWATCH_STANDARD} "
                                            f"{f.check.test_id or f.control}", *crosswalk(f)],
                           "control": f.check.test_id or f.control, "status_id": status_id,
                           "status": status, "status_detail": _extended(f),
                           "checks": [{"name": link.link.title, "status": link.status, "desc": link.reason}
                                      for link in f.links]},
            "cloud": {"provider": "AWS", "account": {"uid": f.account_id, "name": f.account_label}},
            "resources": [{"uid": f.account_id, "type": "AWS::::Account"}],
            "unmapped": {"rootwatch_status": f.status, "evidence": sorted({e for link in f.links
                                                                          for e in link.evidence}),
                         **({} if f.benchmark_control else {"related_control": f"CIS {f.control}"})},
        })
    return out


def _slug(text: str) -> str:
    """An id made of the text's letters and digits, joined by underscores (``RW-1`` → ``RW_1``)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


def cis_csv(findings: list[Finding], assessed: datetime, benchmark_title: str, regions: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for f in findings:
        row = _csv_row(f, assessed, benchmark_title, regions)
        writer.writerow({column: spreadsheet_cell(value) if isinstance(value, str) else value
                         for column, value in row.items()})
    return buffer.getvalue()


def _csv_row(f: Finding, assessed: datetime, benchmark_title: str, regions: list[str]) -> dict[str, Any]:
    """One finding in the CIS compliance CSV's columns, before the cells are made spreadsheet-safe."""
    test = f.check.test_id
    return {
        "PROVIDER": "aws", "DESCRIPTION": f.title, "ACCOUNTID": f.account_id,
        "REGION": ",".join(regions), "ASSESSMENTDATE": assessed.isoformat(timespec="seconds"),
        "REQUIREMENTS_ID": test or f.control, "REQUIREMENTS_DESCRIPTION": f.title,
        "REQUIREMENTS_ATTRIBUTES_SECTION": f"rootwatch tests (related to CIS {f.control})" if test else
        f"{f.control.split('.')[0]} {SECTIONS.get(f.check, 'Monitoring')}",
        "REQUIREMENTS_ATTRIBUTES_PROFILE": f"Level {f.level}",
        "REQUIREMENTS_ATTRIBUTES_ASSESSMENTSTATUS": "Automated",
        "STATUS": "MANUAL" if f.status == Status.GAP else str(f.status), "STATUSEXTENDED": _extended(f),
        "RESOURCEID": f.account_id,
        "CHECKID": f"rootwatch_{_slug(test).lower()}" if test else f"rootwatch_cis_{_slug(f.control)}",
        "FRAMEWORK": "rootwatch" if test else "CIS", "NAME": ROOTWATCH_STANDARD if test else benchmark_title,
        "CROSSWALK": "; ".join(crosswalk(f)),
    }
