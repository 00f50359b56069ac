"""Verdicts on the root user's credentials: the benchmark's root-hygiene controls (no root access
key, MFA on root, hardware MFA on root, root not used for everyday tasks).

IAM's credential report is the evidence each CIS edition's audit procedure reads; the list of virtual
MFA devices tells a virtual device (serial ``arn:aws:iam::<account>:mfa/...`` assigned to the root
user) from a hardware one, which the report's ``mfa_active`` does not. A report that could not be read
leaves every verdict a GAP: "no key" must be read, never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rootwatch.catalog import RootControl
from rootwatch.collect.chain import AccountEvidence
from rootwatch.frames.credential_report import ROOT_USER, parse_credential_report, root_usage
from rootwatch.errors import CredentialReportError
from rootwatch.models import Check, Finding, Link, LinkVerdict, Role, Status
from rootwatch.resources import Arn

OPERATIONS = {Link.CREDENTIAL_REPORT: ("GenerateCredentialReport", "GetCredentialReport"),
              Link.VIRTUAL_MFA: ("ListVirtualMFADevices",), Link.ACCOUNT_SUMMARY: ("GetAccountSummary",)}


@dataclass(frozen=True)
class _Root:
    """The root user's row of the account's credential report, or why there is none."""

    row: pd.Series | None
    unread: str = ""


def judge_root_hygiene(ev: AccountEvidence, controls: list[RootControl]) -> list[Finding]:
    """One finding per root-hygiene control for the account, each with the evidence it rests on."""
    root = _root(ev)
    return [_finding(ev, control, root) for control in controls]


def _finding(ev: AccountEvidence, control: RootControl, root: _Root) -> Finding:
    links = [_report_link(ev, root), *_judged(ev, control, root)]
    notes = [] if root.row is None else [f"credential report, {ROOT_USER}: {_row_text(root.row)}"]
    status = links[-1].status if links[0].status == Status.PASS else Status.GAP
    advice = [control.advice] if status == Status.FAIL else \
        ["read the credential report again once the gap is closed"] if status == Status.GAP else []
    return Finding(ev.account_id, ev.label, control.id, control.benchmark, control.title, control.level, status,
                   links, notes, remediation_notes=advice, check=Check.ROOT_CREDENTIALS,
                   requirements=control.requirements)


def _report_link(ev: AccountEvidence, root: _Root) -> LinkVerdict:
    files = _files(ev, Link.CREDENTIAL_REPORT)
    if root.row is None:
        return LinkVerdict(Link.CREDENTIAL_REPORT, Status.GAP, root.unread, ROOT_USER, files)
    return LinkVerdict(Link.CREDENTIAL_REPORT, Status.PASS, "read: the root user's row is below", ROOT_USER, files)


def _judged(ev: AccountEvidence, control: RootControl, root: _Root) -> list[LinkVerdict]:
    """The verdict of the control itself (after the report's link), named after what it judges."""
    if root.row is None:
        return []
    row, files = root.row, _files(ev, Link.CREDENTIAL_REPORT)
    if control.role is Role.ROOT_ACCESS_KEYS:
        return [_access_keys(ev, row, files)]
    if control.role is Role.ROOT_MFA:
        return [_mfa(ev, row, files)]
    if control.role is Role.ROOT_HARDWARE_MFA:
        return [_hardware(ev, row)]
    return [_everyday(ev, row, files)]


def _access_keys(ev: AccountEvidence, row: pd.Series, files: tuple[str, ...]) -> LinkVerdict:
    """The report shows Active keys only; the account summary counts an inactive one too (CIS: a
    deactivated key still fails), so a PASS needs both to say none."""
    files = (*files, *_files(ev, Link.ACCOUNT_SUMMARY))
    active, summary = _flag(row["access_keys_active"]), ev.account_summary
    present = None if summary is None or "AccountAccessKeysPresent" not in summary else \
        bool(summary["AccountAccessKeysPresent"])
    if active:
        return _verdict(True, files, _keys(row), "")
    if present:
        return _verdict(True, files, "a root access key exists, though none is Active (account summary: "
                        "AccountAccessKeysPresent 1; credential report: no Active key)", "")
    if active is None or present is None:
        return LinkVerdict(Link.CREDENTIAL_REPORT, Status.GAP, "no Active root access key in the credential report, "
                           "but the account summary (which counts inactive keys) could not be read", ROOT_USER, files)
    return _verdict(False, files, "", "no root access key: the credential report shows none Active "
                    "(access_key_1_active, access_key_2_active: false) and the account summary none at all "
                    "(AccountAccessKeysPresent: 0)")


def _mfa(ev: AccountEvidence, row: pd.Series, files: tuple[str, ...]) -> LinkVerdict:
    """The report's ``mfa_active`` decides; the account summary, where read, must agree for a PASS."""
    mfa, summary = _flag(row["mfa_active"]), ev.account_summary or {}
    enabled = None if "AccountMFAEnabled" not in summary else bool(summary["AccountMFAEnabled"])
    files = (*files, *_files(ev, Link.ACCOUNT_SUMMARY))
    if mfa is False or enabled is False:
        said = "; ".join(text for text, off in (("credential report mfa_active: false", mfa is False),
                                                ("account summary AccountMFAEnabled: 0", enabled is False)) if off)
        return _verdict(True, files, f"MFA is off for the root user ({said})", "")
    return _verdict(None if mfa is None else False, files, "", "MFA is on for the root user (credential report "
                    "mfa_active: true" + ("; account summary AccountMFAEnabled: 1)" if enabled else ")"))


def _flag(value: object) -> bool | None:
    """A report's true/false cell as a bool (pandas hands back its own boolean scalars); None for NA."""
    return None if pd.isna(value) else bool(value)


def _verdict(bad: bool | None, files: tuple[str, ...], fail: str, ok: str) -> LinkVerdict:
    """FAIL when the report says ``bad``, PASS when it says the opposite, GAP when it says neither."""
    if bad is None:
        return LinkVerdict(Link.CREDENTIAL_REPORT, Status.GAP, "the report gives no value for it (not_supported)",
                           ROOT_USER, files)
    return LinkVerdict(Link.CREDENTIAL_REPORT, Status.FAIL if bad else Status.PASS, fail if bad else ok, ROOT_USER,
                       files)


def _keys(row: pd.Series) -> str:
    active = [n for n in (1, 2) if _flag(row[f"access_key_{n}_active"])]
    used = [f"access key {n} last used {_when(row[f'access_key_{n}_last_used_date'])}"
            + (f" ({row[f'access_key_{n}_last_used_service']} in {row[f'access_key_{n}_last_used_region']})"
               if pd.notna(row[f"access_key_{n}_last_used_date"]) else "") for n in active]
    return f"the root user has {len(active)} Active access key(s): {'; '.join(used)}"


def _hardware(ev: AccountEvidence, row: pd.Series) -> LinkVerdict:
    """A PASS needs MFA on in both the report and, where read, the account summary (as ``_mfa``):
    the report may be hours old."""
    files = _files(ev, Link.VIRTUAL_MFA)
    mfa = _flag(row["mfa_active"])
    if (ev.account_summary or {}).get("AccountMFAEnabled", 1) == 0:
        return LinkVerdict(Link.VIRTUAL_MFA, Status.FAIL, "MFA is off for the root user (account summary "
                           "AccountMFAEnabled: 0): no MFA device of any kind", ROOT_USER,
                           (*files, *_files(ev, Link.ACCOUNT_SUMMARY)))
    if mfa is None:
        return LinkVerdict(Link.VIRTUAL_MFA, Status.GAP, "the report gives no value for mfa_active", ROOT_USER, files)
    if not mfa:
        return LinkVerdict(Link.VIRTUAL_MFA, Status.FAIL, "MFA is off for the root user (mfa_active: false): no MFA "
                           "device of any kind", ROOT_USER, files)
    if ev.virtual_mfa is None:
        return LinkVerdict(Link.VIRTUAL_MFA, Status.GAP, "MFA is on, but the virtual MFA devices could not be read: "
                           "whether it is a hardware device is unknown", ROOT_USER, files)
    virtual = [d["SerialNumber"] for d in ev.virtual_mfa if _names(ev, (d.get("User") or {}).get("Arn"), "root")
               or _names(ev, d.get("SerialNumber"), "mfa/root-account-mfa-device")]
    if virtual:
        return LinkVerdict(Link.VIRTUAL_MFA, Status.FAIL, f"the root user's MFA is a virtual device ({virtual[0]})",
                           ROOT_USER, files)
    return LinkVerdict(Link.VIRTUAL_MFA, Status.PASS, f"MFA is on and none of the account's {len(ev.virtual_mfa)} "
                       "assigned virtual MFA device(s) is the root user's: root's MFA is not a virtual (authenticator "
                       "app) device: a hardware TOTP token, a FIDO security key or a passkey (the CIS audit "
                       "procedure's test)", ROOT_USER, files)


def _names(ev: AccountEvidence, arn: object, resource: str) -> bool:
    """Whether ``arn`` is the audited account's IAM ``resource`` in any partition (aws, aws-cn,
    aws-us-gov): a partition-blind match is what keeps a virtual root device from passing as hardware."""
    parsed = Arn.parse(arn)
    return parsed is not None and parsed.service == "iam" and parsed.account == ev.account_id \
        and parsed.resource == resource


def _everyday(ev: AccountEvidence, row: pd.Series, files: tuple[str, ...]) -> LinkVerdict:
    """An access key used in the window is root used by a program: everyday use, a FAIL. A password
    sign-in alone is not (some tasks need root): the PASS says when it was, for the reader to weigh."""
    window = ev.window
    used = [n for n in (1, 2) if pd.notna(row[f"access_key_{n}_last_used_date"])
            and window.start <= row[f"access_key_{n}_last_used_date"] < window.end]
    if used:
        return LinkVerdict(Link.CREDENTIAL_REPORT, Status.FAIL, "a root access key signed requests in the window: "
                           + "; ".join(f"access key {n} last used {_when(row[f'access_key_{n}_last_used_date'])}"
                                       for n in used), ROOT_USER, files)
    later = [n for n in (1, 2) if pd.notna(row[f"access_key_{n}_last_used_date"])
             and row[f"access_key_{n}_last_used_date"] >= window.end]
    if later:  # the report keeps a key's last use only: a later one hides any use inside the window
        return LinkVerdict(Link.CREDENTIAL_REPORT, Status.GAP, "; ".join(
            f"access key {n} last used {_when(row[f'access_key_{n}_last_used_date'])}, after the window"
            for n in later) + ": the credential report keeps only a key's last use, so whether a root access "
            "key signed requests in the window is unknown", ROOT_USER, files)
    password = row["password_last_used"]
    signed_in = (f"the password was last used {_when(password)}, "
                 + ("inside" if window.start <= password < window.end else "outside") + " the window"
                 if pd.notna(password) else f"the password's last use: {row['password_last_used_status']}")
    generated = _generated(ev)
    upto = f" up to {_when(generated)}, when IAM generated the credential report (a later use is not in it)" \
        if generated is not None and generated < window.end else ""
    return LinkVerdict(Link.CREDENTIAL_REPORT, Status.PASS, "no root access key the credential report lists signed a "
                       f"request in the window{upto} (a key deleted since is not in it); {signed_in} (root sign-ins "
                       "are listed in the root activity section)", ROOT_USER, files)


def _generated(ev: AccountEvidence) -> pd.Timestamp | None:
    """When IAM generated the report that was read: it serves one up to four hours old, so the
    report says nothing of the window after this time."""
    pages = [p for c in ev.calls if c.operation == "GetCredentialReport" for p in c.pages]
    when = pages[-1].get("GeneratedTime") if pages else None
    return None if when is None else pd.Timestamp(when).tz_convert("UTC")


def _root(ev: AccountEvidence) -> _Root:
    if ev.credential_report is None:
        return _Root(None, "the credential report could not be read (see evidence gaps)")
    try:
        usage = root_usage(parse_credential_report(ev.credential_report, ev.account_id))
    except CredentialReportError as exc:
        return _Root(None, f"the credential report could not be read: {exc.message}")
    if not len(usage):
        return _Root(None, f"the credential report has no {ROOT_USER} row")
    return _Root(usage.iloc[0])


def _files(ev: AccountEvidence, link: Link) -> tuple[str, ...]:
    return tuple(f"raw/{c.filename}" for c in ev.calls if c.operation in OPERATIONS[link])


def _when(value: object) -> str:
    return "never" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def _row_text(row: pd.Series) -> str:
    def cell(value: object) -> str:
        text = "—" if pd.isna(value) else _when(value) if isinstance(value, pd.Timestamp) else str(value)
        return text.lower() if text in ("True", "False") else text  # as the report writes them

    return "; ".join(f"{k}: {cell(v)}" for k, v in row.items() if k != "account_id")
