"""The IAM credential report: a second witness of root use, kept by IAM rather than CloudTrail.

A trail that was stopped, or a filter that misses an event, cannot hide the root user's last
sign-in or last access-key use from the credential report, so the two sources are read apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rootwatch.collect.evidence import Recorder
from rootwatch.models import Link

POLLS = 10  # GenerateCredentialReport answers within seconds; ten polls bound a stuck report
INTERVAL = 0.5  # seconds before the second poll, doubling up to MAX_INTERVAL: a small report is ready at once
MAX_INTERVAL = 4.0


def start_credential_report(rec: Recorder, region: str) -> dict | None:
    """Ask IAM to generate the report before the rest of an account's chain is read, so that it is
    ready when ``credential_report`` reads it (a first request only starts it: waiting for it then
    held a collector thread for half a second per account). None where the call failed (a gap)."""
    return rec.call(region, "iam", "GenerateCredentialReport", Link.CREDENTIAL_REPORT)


def credential_report(rec: Recorder, region: str, polls: int = POLLS, interval: float = INTERVAL,
                      sleep: Callable[[float], None] = time.sleep, started: dict | None = None) -> str | None:
    """The report as CSV text, or None where a call failed (the Recorder keeps the gap).

    IAM only serves a report it has finished, so generation is polled (``polls`` times at most,
    first ``interval`` seconds apart, then twice as long each time up to ``MAX_INTERVAL``). A report
    still unfinished after that is asked for anyway: IAM's ``ReportInProgress`` refusal is then
    recorded as the gap, in IAM's own words. ``started``: the answer of ``start_credential_report``,
    the first poll, made long enough ago to poll again at once."""
    for poll in range(polls):
        early = poll == 0 and started is not None
        generated = started if early else rec.call(region, "iam", "GenerateCredentialReport", Link.CREDENTIAL_REPORT)
        if generated is None:
            return None
        if generated.get("State") == "COMPLETE":
            break
        if not early:
            sleep(interval)
            interval = min(2 * interval, MAX_INTERVAL)
    report = rec.call(region, "iam", "GetCredentialReport", Link.CREDENTIAL_REPORT)
    return None if report is None else report["Content"].decode("utf-8")  # boto3 undoes the Base64: bytes


def virtual_mfa_devices(rec: Recorder, region: str) -> list[dict] | None:
    """The account's assigned virtual MFA devices (root's among them, if its MFA is virtual), or None
    where the call failed: the credential report's ``mfa_active`` cannot tell hardware from virtual."""
    pages = rec.pages(region, "iam", "ListVirtualMFADevices", Link.VIRTUAL_MFA, AssignmentStatus="Assigned")
    return None if pages is None else [d for page in pages for d in page.get("VirtualMFADevices", [])]


def account_summary(rec: Recorder, region: str) -> dict | None:
    """IAM's SummaryMap, or None where the call failed: ``AccountAccessKeysPresent`` counts a root
    access key even when it is inactive, which the credential report's ``_active`` columns do not."""
    summary = rec.call(region, "iam", "GetAccountSummary", Link.ACCOUNT_SUMMARY)
    return None if summary is None else summary.get("SummaryMap", {})
