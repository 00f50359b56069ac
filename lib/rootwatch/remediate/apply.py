"""Remediation: audit, read the names in use, plan the changes that make every failing link pass,
write the plan and the evidence it rests on, and (on request) make the changes, each recorded as it
happens, then audit again and show before and after.

    rem = apply.start(parameters, notify=["secops@example.com"], apply=False)
    rem.directory, rem.plans, rem.cli(), rem.cloudformation(plan), rem.terraform(plan)

The order is the safeguard. The output directory (always, with ``apply``) is created before any AWS
call: one that cannot be created (it exists, is a link or a file, or its parent cannot take it) is
bad input while nothing has been read or changed. The plan in its forms (``plan.json``, ``plan.sh``, per account
``cloudformation.yaml`` and ``main.tf``), the verdicts it answers (``before/findings.json``) and
every read behind them (``before/raw/``) are written before the first change. Then each change gets
a line in ``changes.jsonl`` before it is made and one after, and its call and response in ``raw/``,
each on disk before the next change starts: a run stopped at any point leaves a record of what it
did.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from rootwatch.catalog import Catalog, Control, load_catalog
from rootwatch.collect.chain import AccountEvidence, Target, assume, collect
from rootwatch.collect.evidence import RawCall, Recorder, path_component, write_raw
from rootwatch.collect.session import Clients
from rootwatch.errors import ParameterError
from rootwatch.judge.chain import judge_all
from rootwatch.models import Check, Finding, Link, dump_findings
from rootwatch.params import RunParams
from rootwatch.remediate import existing, render
from rootwatch.remediate.actions import Action
from rootwatch.remediate.plan import AccountPlan, advise, plan_account, wanted
from rootwatch.scope import Scope, opened

CHANGES = "changes.jsonl"
OPTIONS = ("delivery_role",)  # the parameter file's ``remediate:`` section
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")  # IAM's role names


@dataclass
class Remediation:
    params: RunParams
    controls: list[Control]
    before: list[Finding]
    plans: list[AccountPlan]
    directory: Path | None  # where the plan and its evidence are (None: a dry run that keeps nothing)
    evidence: list[AccountEvidence] = field(default_factory=list)  # the audit the plan answers
    reads: list[RawCall] = field(default_factory=list)  # the names in use, read before planning
    calls: list[RawCall] = field(default_factory=list)  # the changes made (with apply), as evidence
    failed: list[str] = field(default_factory=list)     # one line per change AWS refused
    after: list[Finding] | None = None

    @property
    def changes(self) -> int:
        return sum(len(p.actions) for p in self.plans)

    def cli(self) -> str:
        return "\n\n".join(f"# {p.label} ({p.account_id})\n" + (render.cli(p.actions) if p.actions else
                                                                "# nothing to change")
                           for p in self.plans)

    def cloudformation(self, plan: AccountPlan) -> str:
        return render.cloudformation_yaml(plan.actions)

    def terraform(self, plan: AccountPlan) -> str:
        return render.terraform(plan.actions)

    def comparison(self) -> pd.DataFrame:
        """Each chain finding's verdict before, and after the changes when they were made."""
        after = {(f.account_id, f.control): f.status for f in self.after or []}
        rows = [(f.account_label, f.account_id, f.control, f.status, after.get((f.account_id, f.control), "—"))
                for f in self.before if f.check == Check.CHAIN]
        return pd.DataFrame(rows, columns=["account", "account_id", "control", "before", "after"])

    def statuses(self) -> set[str]:
        return {f.status for f in (self.after if self.after is not None else self.before)}


def delivery_role(section: Any) -> str | None:
    """The delivery role named by the parameter file's ``remediate:`` section, if any."""
    if section is None:
        return None
    if not isinstance(section, dict) or set(section) - set(OPTIONS):
        raise ParameterError(f"remediate must be a mapping with {', '.join(OPTIONS)}",
                             "e.g. remediate: {delivery_role: CloudTrail_CloudWatchLogs_Role}")
    return _role_name(section.get("delivery_role"))


def _role_name(name: Any) -> str | None:
    if name is not None and not (isinstance(name, str) and ROLE_NAME.match(name)):
        raise ParameterError(f"delivery_role {name!r} is not an IAM role name",
                             "give the role's name (not its ARN), e.g. CloudTrail_CloudWatchLogs_Role")
    return name


def unused_directory(reports: Path = Path("reports"), kind: str = "remediation") -> Path:
    """A new directory's path under ``reports``, named by the time and ``kind`` (remediation, drill)."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{kind}"
    out, suffix = reports / stamp, 1
    while os.path.lexists(out):
        suffix += 1
        out = reports / f"{stamp}-{suffix}"
    return out


def new_directory(out: Path) -> Path:
    """The output directory, created now: rootwatch never writes into an existing directory or
    through a link, and an unusable one must stop the run before any AWS call."""
    if os.path.lexists(out):
        raise ParameterError(f"--out {out} already exists", "rootwatch never writes into an existing directory or "
                             "through a link; choose a new path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.mkdir()
    except OSError as exc:
        why = "a part of its path is a file" if isinstance(exc, (FileExistsError, NotADirectoryError)) else \
            exc.strerror or str(exc)
        raise ParameterError(f"--out {out} cannot be created ({why})",
                             "choose a new path in a directory you can write to") from None
    return out


def start(parameters: dict[str, Any], notify: list[str] | None = None, apply: bool = False,
          out: Path | None = None, delivery_role: str | None = None,
          review: Callable[[Remediation], bool] | None = None) -> Remediation:
    """Audit the selected controls and plan; with ``apply``, make the changes and audit again. The
    plan and its evidence go into the new directory ``out`` (with ``apply`` and no ``out``, one
    under reports/; a dry run without ``out`` keeps nothing). ``review`` sees the plan once it is
    written and before any change; with ``apply`` its answer decides whether the changes are made.
    ``delivery_role``: the name of the role CloudTrail delivers to CloudWatch Logs with, for trails
    that deliver nowhere."""
    params = RunParams.from_mapping(parameters)
    role = _role_name(delivery_role)
    catalog = load_catalog()
    controls = catalog.select(params.controls, params.benchmark)
    directory = new_directory(out or unused_directory()) if out or apply else None
    try:
        with opened(params) as scope:
            result = _plan(scope, params, catalog, controls, list(notify or []), role, directory)
            if directory:
                _write_plan(result, scope)
            go = review(result) if review else True
            if apply and go and result.changes:
                _apply(scope, result)
                after = _audit(scope, params, controls)
                result.after = judge_all(after, controls, catalog)
                _write_findings(directory / "after", after, result.after)
    except BaseException:
        if directory and not any(directory.iterdir()):  # nothing read, nothing planned: leave no empty directory
            directory.rmdir()
        raise
    if directory:
        result.comparison().to_csv(directory / "before-after.csv", index=False)
    return result


def _audit(scope: Scope, params: RunParams, controls: list[Control]) -> list[AccountEvidence]:
    return collect(scope.targets, scope.regions, params.window, controls, endpoint_url=scope.endpoint, now=scope.now,
                   lookup_rate=scope.lookup_rate, history=False)


def _plan(scope: Scope, params: RunParams, catalog: Catalog, controls: list[Control], notify: list[str],
          role: str | None, directory: Path | None) -> Remediation:
    """The audit, the names in use where each account's plan would write, and the plans."""
    by_id = {c.id: c for c in controls}
    evidence = _audit(scope, params, controls)
    before = judge_all(evidence, controls, catalog)
    result = Remediation(params, controls, before, [], directory, evidence)
    targets = {t.label: t for t in scope.targets}
    for ev in evidence:
        names = wanted(ev, before, by_id)
        found = existing.Existing()
        if not names.empty:
            rec, ok = _recorder(targets[ev.label], ev, scope.endpoint, _last_seq(ev.calls))
            found = existing.read(rec, names, role, ev.regions[0]) if ok else \
                existing.unreadable(names, role, rec.gaps[-1])
            result.reads += rec.calls
        result.plans.append(plan_account(ev, before, by_id, notify, found))
        advise(before, result.plans[-1])
    return result


def _write_plan(result: Remediation, scope: Scope) -> None:
    """Everything the changes rest on, before the first of them."""
    directory = result.directory
    (directory / "plan.sh").write_text(result.cli() + "\n", encoding="utf-8")
    for plan in result.plans:
        if plan.actions:
            folder = directory / path_component(plan.account_id)
            folder.mkdir()
            (folder / "cloudformation.yaml").write_text(result.cloudformation(plan), encoding="utf-8")
            (folder / "main.tf").write_text(result.terraform(plan), encoding="utf-8")
    (directory / "plan.json").write_text(json.dumps([_plan_record(p) for p in result.plans], indent=1),
                                         encoding="utf-8")
    _write_findings(directory / "before", result.evidence, result.before, scope.calls + result.reads)


def _plan_record(plan: AccountPlan) -> dict[str, Any]:
    """An account's plan in plan.json: its changes in order (each with the link it fixes) and notes."""
    return {"account_id": plan.account_id, "label": plan.label,
            "actions": [{**asdict(a), "link": a.link.id, "why": a.why} for a in plan.actions], "notes": plan.notes}


def _write_findings(folder: Path, evidence: list[AccountEvidence], findings: list[Finding],
                    reads: Sequence[RawCall] = ()) -> None:
    folder.mkdir()
    (folder / "findings.json").write_text(dump_findings(findings), encoding="utf-8")
    write_raw([*reads, *(c for ev in evidence for c in ev.calls)], folder / "raw")


def _apply(scope: Scope, result: Remediation) -> None:
    """Each account's changes in plan order; the first refusal stops that account (later changes
    depend on earlier ones) and is reported, the other accounts go on."""
    targets = {t.label: t for t in scope.targets}
    with (result.directory / CHANGES).open("a", encoding="utf-8") as journal:
        for ev, plan in zip(result.evidence, result.plans):
            if not plan.actions:
                continue
            rec, ok = _recorder(targets[ev.label], ev, scope.endpoint,
                                 _last_seq(ev.calls + [c for c in result.reads if c.account_id == ev.account_id]))
            write_raw(rec.calls, result.directory / "raw")
            for action in plan.actions if ok else []:
                _journal(journal, "intent", action, params=action.params, why=action.why)
                made = rec.call(action.region, action.service, action.operation, Link.REMEDIATION,
                                **action.params) is not None
                call = rec.calls[-1]
                write_raw([call], result.directory / "raw")
                _journal(journal, "made" if made else "refused", action, evidence=f"raw/{call.filename}",
                         error=call.error)
                if not made:
                    result.failed.append(_refusal(plan, action, rec.gaps[-1].message))
                    break
            if not ok:
                result.failed.append(_refusal(plan, plan.actions[0], "the account's role could not be assumed "
                                                                     f"({rec.gaps[-1].message})"))
            result.calls += rec.calls


def _refusal(plan: AccountPlan, action: Action, why: str) -> str:
    return f"{plan.label} ({plan.account_id}): {action.service} {action.operation} {action.name}: {why}"


def _journal(journal: IO[str], event: str, action: Action, **details: Any) -> None:
    """One line of changes.jsonl, on disk before the run goes on."""
    record = {"at": datetime.now(UTC).isoformat(), "event": event, "account_id": action.account_id,
              "region": action.region, "service": action.service, "operation": action.operation,
              "name": action.name, **details}
    journal.write(json.dumps(record, default=str) + "\n")
    journal.flush()
    os.fsync(journal.fileno())


def _last_seq(calls: list[RawCall]) -> int:
    """Calls of one account go on numbering where its earlier ones stopped: one sequence per account."""
    return max((c.seq for c in calls), default=0)


def _recorder(target: Target, ev: AccountEvidence, endpoint: str | None, start_seq: int) -> tuple[Recorder, bool]:
    """A recorder for the account's calls, with its role assumed; False when AssumeRole failed."""
    rec = Recorder(Clients(target.session, endpoint), ev.account_id, start_seq)
    return rec, target.role_arn is None or assume(rec, target, ev.regions[0], endpoint)
