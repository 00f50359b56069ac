"""The IAM credential report as a typed frame, and what it says about the root user.

The report is read as the IAM User Guide documents it ("Getting credential reports for your AWS
account"): one CSV row per user, the root user as ``<root_account>``, ISO 8601 times, ``true`` /
``false``, and three words where a time is missing. Those words say different things — ``N/A``
(nothing to date: no password, no key, a key never used), ``no_information`` (a password never
used, or used before IAM began tracking on 20 October 2014) and ``not_supported`` (the root user
has no password age or rotation) — and "never" is not "unknown" to an auditor, so every time column
keeps the word that emptied it in a ``<column>_status`` column beside it.

``CREDENTIAL_REPORT`` and ``ROOT_USAGE`` declare the two frames' columns, dtypes and meanings, in
the shape of ``rootwatch.frames.tables.SCHEMAS``.
"""

from __future__ import annotations

import csv
import io

import pandas as pd

from rootwatch.errors import CredentialReportError

ROOT_USER = "<root_account>"
TIME = "datetime64[ns, UTC]"
RECORDED = "recorded"
REASONS = {
    "N/A": "not applicable (N/A)",
    "no_information": "never used or before tracking (no_information)",
    "not_supported": "not supported for this user (not_supported)",
}
FLAGS = {"true": True, "false": False, "not_supported": pd.NA}
HINT = "give the decoded CSV of GetCredentialReport's Content, as rootwatch.collect.iam.credential_report returns it"


def _access_key(n: int) -> dict[str, tuple[str, str]]:
    which = ("first", "second")[n - 1]
    return {
        f"access_key_{n}_active": ("boolean", f"the {which} access key exists and is Active"),
        f"access_key_{n}_last_rotated": (TIME, f"when the {which} access key was created or last changed"),
        f"access_key_{n}_last_used_date": (TIME, (f"when the {which} access key last signed a request (first use "
                                                  "in any 15 minutes; tracked since 22 April 2015)")),
        f"access_key_{n}_last_used_region": ("string", "region of that request (NA: N/A)"),
        f"access_key_{n}_last_used_service": ("string", "service namespace of that request, e.g. s3 (NA: N/A)"),
    }


def _certificate(n: int) -> dict[str, tuple[str, str]]:
    which = ("first", "second")[n - 1]
    return {f"cert_{n}_active": ("boolean", f"the {which} X.509 signing certificate exists and is Active"),
            f"cert_{n}_last_rotated": (TIME, f"when the {which} signing certificate was created or last changed")}


# The report's columns, in its order: column -> (dtype, meaning).
COLUMNS: dict[str, tuple[str, str]] = {
    "user": ("string", f"IAM user name; {ROOT_USER} for the root user"),
    "arn": ("string", "the user's ARN; arn:aws:iam::<account>:root for the root user"),
    "user_creation_time": (TIME, "when the user was created (the account, for the root user)"),
    "password_enabled": ("boolean", "the user has a console password (NA for the root user: not_supported)"),
    "password_last_used": (TIME, "last sign-in to an AWS website with the password (first in any 5 minutes)"),
    "password_last_changed": (TIME, "when the password was last set"),
    "password_next_rotation": (TIME, "when the password policy requires the next change"),
    "mfa_active": ("boolean", "an MFA device is enabled for the user"),
    **_access_key(1), **_access_key(2), **_certificate(1), **_certificate(2),
}


def _report_schema() -> dict[str, tuple[str, str]]:
    schema = {"account_id": ("string", "account the report was read from")}
    for column, (dtype, meaning) in COLUMNS.items():
        schema[column] = (dtype, meaning)
        if dtype == TIME:
            why = f"why {column} is empty ({'; '.join(REASONS.values())}), or '{RECORDED}'"
            schema[f"{column}_status"] = ("string", why)
    return schema


CREDENTIAL_REPORT = _report_schema()  # then any column AWS adds later, as text
USES = {"password": "password_last_used", "access key 1": "access_key_1_last_used_date",
        "access key 2": "access_key_2_last_used_date"}
ROOT_USAGE: dict[str, tuple[str, str]] = {
    "account_id": ("string", "account whose root user the report describes"),
    "last_used": (TIME, "the root user's most recent use the report shows: password or either access key"),
    "last_used_with": ("string", f"what was used then: {', '.join(USES)} (NA: no use recorded)"),
    **{c: CREDENTIAL_REPORT[c] for c in ("password_last_used", "password_last_used_status", "mfa_active")},
    "access_keys_active": ("boolean", "the root user has an Active access key (CIS: it should have none)"),
    **{c: CREDENTIAL_REPORT[c] for n in (1, 2) for c in (f"access_key_{n}_active", f"access_key_{n}_last_used_date",
                                                         f"access_key_{n}_last_used_region",
                                                         f"access_key_{n}_last_used_service")},
}


def parse_credential_report(text: str, account_id: str) -> pd.DataFrame:
    """One row per user of ``account_id``, typed as ``CREDENTIAL_REPORT`` declares; columns the
    documentation does not name yet are kept after those, as text. Raise ``CredentialReportError``
    for text that is not a credential report rather than return a frame that reads as "no use".
    The time columns are read as one series, and the flags as another: a report is a few rows, and
    pandas' cost is per column."""
    raw = _table(text)
    kinds = {kind: [c for c, (dtype, _) in COLUMNS.items() if dtype == kind] for kind in (TIME, "boolean")}
    times, statuses, unread = _times(raw[kinds[TIME]])
    flags, unclear = _flags(raw[kinds["boolean"]])
    for column in COLUMNS:  # the first wrong cell in the report's order, as a reader would find it
        for bad, expected in ((unread, "an ISO 8601 time, N/A, no_information or not_supported"),
                              (unclear, "true, false or not_supported")):
            if column in bad and bad[column].any():
                first = bad[column].to_numpy().nonzero()[0][0]
                raise CredentialReportError(f"{column} of user {raw['user'].iloc[first]!r} is "
                                            f"{raw[column].iloc[first]!r}, not {expected}", HINT)
    columns = {"account_id": pd.Series([account_id] * len(raw), dtype="string")}
    for column, (dtype, _) in COLUMNS.items():
        if dtype == TIME:
            columns[column], columns[f"{column}_status"] = times[column], statuses[column]
        elif dtype == "boolean":
            columns[column] = flags[column]
        else:
            columns[column] = raw[column].mask(raw[column].isin(list(REASONS)))
    for column in raw.columns.difference(list(COLUMNS), sort=False):
        columns[column] = raw[column]
    return pd.DataFrame(columns)


def root_usage(frame: pd.DataFrame) -> pd.DataFrame:
    """The root user's row of each account's report, as ``ROOT_USAGE`` declares: when it was last
    used and with what, whether MFA is on and whether it has access keys."""
    root = frame.loc[frame["user"] == ROOT_USER].reset_index(drop=True)
    uses = root[list(USES.values())].set_axis(list(USES), axis=1)
    usage = root.reindex(columns=list(ROOT_USAGE))
    usage["access_keys_active"] = root["access_key_1_active"] | root["access_key_2_active"]
    usage["last_used"] = uses.max(axis=1)
    usage["last_used_with"] = [row.idxmax() if row.notna().any() else pd.NA for _, row in uses.iterrows()]
    return usage.astype({column: dtype for column, (dtype, _) in ROOT_USAGE.items()})


def _table(text: str) -> pd.DataFrame:
    """The CSV as text cells, after checking it has the documented columns and a cell per column."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error as exc:
        raise CredentialReportError(f"the credential report is not CSV: {exc}", HINT) from None
    if not rows:
        raise CredentialReportError("the credential report is empty (not even a header)", HINT)
    header, body = rows[0], rows[1:]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CredentialReportError(f"not an IAM credential report: {len(missing)} documented columns are missing "
                                    f"({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''})", HINT)
    for line, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise CredentialReportError(f"line {line} of the credential report has {len(row)} cells for "
                                        f"{len(header)} columns", HINT)
    return pd.DataFrame(body, columns=header, dtype="string")


def _times(cells: pd.DataFrame) -> tuple[dict[str, pd.Series], dict[str, pd.Series], pd.DataFrame]:
    """(times, statuses, unread) per column: NaT wherever the report gives a reason instead of a
    time, and the reason; ``unread``: the cells that are neither."""
    flat = _flat(cells)
    reasons = flat.isin(list(REASONS))
    times = pd.to_datetime(flat.mask(reasons), utc=True, format="ISO8601", errors="coerce").dt.as_unit("ns")
    statuses = flat.map(REASONS).fillna(RECORDED).astype("string")
    return _split(times, cells), _split(statuses, cells), _unflat(~reasons & times.isna(), cells)


def _flags(cells: pd.DataFrame) -> tuple[dict[str, pd.Series], pd.DataFrame]:
    """(flags, unclear) per column: ``FLAGS``' values, and the cells that are none of its words."""
    words = _flat(cells).str.lower()
    return _split(words.map(FLAGS).astype("boolean"), cells), _unflat(~words.isin(list(FLAGS)), cells)


def _flat(cells: pd.DataFrame) -> pd.Series:
    """The cells row by row, as one series of text."""
    return pd.Series(cells.to_numpy().ravel(), dtype="string")


def _split(flat: pd.Series, cells: pd.DataFrame) -> dict[str, pd.Series]:
    """``_flat``'s inverse, per column."""
    width = len(cells.columns)
    return {c: flat.iloc[i::width].reset_index(drop=True) for i, c in enumerate(cells.columns)}


def _unflat(flat: pd.Series, cells: pd.DataFrame) -> pd.DataFrame:
    """A flag per cell of ``_flat`` back in the cells' shape: which column, which row (the user)."""
    return pd.DataFrame(flat.to_numpy(dtype=bool).reshape(len(cells), len(cells.columns)), columns=cells.columns)
