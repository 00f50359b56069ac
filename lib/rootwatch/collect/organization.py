"""Which accounts and regions a run covers: AWS Organizations' member list (include / exclude by
id or name), and the regions enabled for the account (opt-in status)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import boto3

from rootwatch.collect.chain import Target
from rootwatch.collect.evidence import Gap, RawCall, Recorder
from rootwatch.collect.session import Clients
from rootwatch.errors import CredentialsError, ParameterError
from rootwatch.models import Link
from rootwatch.resources import Arn, partition_of


@dataclass
class Scope:
    targets: list[Target]
    regions: list[str]
    calls: list[RawCall] = field(default_factory=list)  # the listing calls, kept as evidence of the scope
    gaps: list[Gap] = field(default_factory=list)


def _matches(account: dict, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(account["Id"], p) or fnmatch.fnmatchcase(account.get("Name", ""), p)
               for p in patterns)


def organization_scope(session: boto3.Session, role: str, regions: list[str] | str, include: list[str] = (),
                       exclude: list[str] = (), external_id: str | None = None, session_name: str = "rootwatch",
                       endpoint_url: str | None = None) -> Scope:
    """Every ACTIVE account of the organization (filtered), reached through ``role`` — except the
    caller's own account, audited with the caller's session."""
    rec = Recorder(Clients(session, endpoint_url), "organization")
    home = session.region_name or "us-east-1"
    identity = rec.call(home, "sts", "GetCallerIdentity", Link.IDENTITY)
    if identity is not None:  # the scope's evidence is filed under the account that listed it
        rec.account_id = identity["Account"]
        for call in rec.calls:
            call.account_id = rec.account_id
    pages = rec.pages(home, "organizations", "ListAccounts", Link.ORGANIZATION)
    if identity is None or pages is None:
        gap = rec.gaps[-1]
        raise CredentialsError(f"the organization's accounts cannot be listed: {gap.operation} failed with "
                               f"{gap.error_code}: {gap.message}",
                               "run from the management (or a delegated administrator) account, or list accounts")
    accounts = [a for p in pages for a in p.get("Accounts", []) if a.get("Status", "ACTIVE") == "ACTIVE"]
    if include:
        accounts = [a for a in accounts if _matches(a, list(include))]
    accounts = [a for a in accounts if not _matches(a, list(exclude))]
    if not accounts:
        raise ParameterError("the organization lists no ACTIVE account matching organization.include and exclude",
                             "check the ids and names (wildcards * and ?) in the parameter file")
    partition = partition_of(identity["Arn"])
    targets = [Target(a.get("Name") or a["Id"], session, account_id=a["Id"]) if a["Id"] == identity["Account"] else
               Target(a.get("Name") or a["Id"], session, str(Arn(partition, "iam", "", a["Id"], f"role/{role}")),
                      external_id, session_name, a["Id"]) for a in sorted(accounts, key=lambda a: a["Id"])]
    return Scope(targets, resolve_regions(rec, regions, home), rec.calls, rec.gaps)


def resolve_regions(rec: Recorder, regions: list[str] | str, home: str) -> list[str]:
    """``all``: every region enabled for the account (opted in, or not needing opt-in)."""
    if regions != "all":
        return list(regions)
    page = rec.call(home, "ec2", "DescribeRegions", Link.REGIONS, AllRegions=True)
    if page is None:
        gap = rec.gaps[-1]
        raise CredentialsError(f"enabled regions cannot be listed: {gap.error_code}: {gap.message}",
                               "list the regions in the parameter file, or allow ec2:DescribeRegions")
    return sorted(r["RegionName"] for r in page["Regions"]
                  if r.get("OptInStatus", "opt-in-not-required") in ("opt-in-not-required", "opted-in"))
