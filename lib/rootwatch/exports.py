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
from rootwatch.models import Finding, Status
from rootwatch.untrusted import spreadsheet_cell

OCSF_STATUS = {Status.PASS: (1, "Pass"), Status.FAIL: (3, "Fail"), Status.GAP: (2, "Warning")}  # compliance.status_id
SEVERITY = {Status.PASS: (1, "Informational"), Status.FAIL: (3, "Medium"), Status.GAP: (2, "Low")}
CSV_COLUMNS = ["PROVIDER", "DESCRIPTION", "ACCOUNTID", "REGION", "ASSESSMENTDATE", "REQUIREMENTS_ID",
               "REQUIREMENTS_DESCRIPTION", "REQUIREMENTS_ATTRIBUTES_SECTION", "REQUIREMENTS_ATTRIBUTES_PROFILE",
               "REQUIREMENTS_ATTRIBUTES_ASSESSMENTSTATUS", "STATUS", "STATUSEXTENDED", "RESOURCEID", "CHECKID",
               "FRAMEWORK", "NAME"]


def _extended(finding: Finding) -> str:
    bad = [f"{link.link.title}: {link.reason}" for link in finding.failing]
    return "; ".join(bad) or "every link of the monitoring chain passes"


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
            "finding_info": {"uid": f"rootwatch-{f.account_id}-{f.benchmark}-{f.key.replace(' ', '-')}",
                             "title": f"CIS {f.key}: {f.title}".strip(),
                             "desc": _extended(f), "created_time": ms},
            "compliance": {"standards": [benchmark_title], "control": f.control, "status_id": status_id,
                           "status": status, "status_detail": _extended(f),
                           "checks": [{"name": link.link.title, "status": link.status, "desc": link.reason}
                                      for link in f.links]},
            "cloud": {"provider": "AWS", "account": {"uid": f.account_id, "name": f.account_label}},
            "resources": [{"uid": f.account_id, "type": "AWS::::Account"}],
            "unmapped": {"rootwatch_status": f.status, "evidence": sorted({e for link in f.links
                                                                          for e in link.evidence})},
        })
    return out


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
    return {
        "PROVIDER": "aws", "DESCRIPTION": f.title, "ACCOUNTID": f.account_id,
        "REGION": ",".join(regions), "ASSESSMENTDATE": assessed.isoformat(timespec="seconds"),
        "REQUIREMENTS_ID": f.control, "REQUIREMENTS_DESCRIPTION": f.title,
        "REQUIREMENTS_ATTRIBUTES_SECTION": f"{f.control.split('.')[0]} Monitoring",
        "REQUIREMENTS_ATTRIBUTES_PROFILE": f"Level {f.level}",
        "REQUIREMENTS_ATTRIBUTES_ASSESSMENTSTATUS": "Automated",
        "STATUS": "MANUAL" if f.status == Status.GAP else str(f.status), "STATUSEXTENDED": _extended(f),
        "RESOURCEID": f.account_id, "CHECKID": f"rootwatch_cis_{re.sub(r'[. ]', '_', f.key)}",
        "FRAMEWORK": "CIS", "NAME": benchmark_title,
    }
