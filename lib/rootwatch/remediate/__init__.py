"""Remediation: audit, plan the changes that make every failing link pass, and (on request) make
them, keeping every call as evidence, then audit again and show before and after.

    rem = remediate.start(parameters, notify=["secops@example.com"], apply=False)
    rem.plans, rem.cli(), rem.cloudformation(account), rem.terraform(account)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from rootwatch.catalog import Control, load_catalog
from rootwatch.collect import AccountEvidence, Target, assume, collect
from rootwatch.collect.evidence import RawCall, Recorder, write_raw
from rootwatch.collect.session import Clients
from rootwatch.judge import CHAIN, Finding, judge_all
from rootwatch.params import RunParams
from rootwatch.remediate import render
from rootwatch.remediate.plan import AccountPlan, plan_account
from rootwatch.workbook import Scope, opened

LINK = "remediation"


@dataclass
class Remediation:
    params: RunParams
    controls: list[Control]
    before: list[Finding]
    plans: list[AccountPlan]
    calls: list[RawCall] = field(default_factory=list)  # the changes made (with --apply), as evidence
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
                for f in self.before if f.check == CHAIN]
        return pd.DataFrame(rows, columns=["account", "account_id", "control", "before", "after"])

    # --- notebook sections ------------------------------------------------------------------
    def show_plan(self) -> None:
        from rootwatch.display import show, show_code

        show(self.comparison())
        show_code(self.cli())
        notes = [f"{p.label}: {n}" for p in self.plans for n in p.notes] + self.failed
        show(pd.DataFrame({"note": notes or ["none"]}))

    def show_templates(self) -> None:
        from rootwatch.display import heading, show_code

        for plan in (p for p in self.plans if p.actions):
            heading(f"{plan.label} ({plan.account_id}) — CloudFormation")
            show_code(self.cloudformation(plan))
            heading(f"{plan.label} ({plan.account_id}) — Terraform")
            show_code(self.terraform(plan))

    def statuses(self) -> set[str]:
        return {f.status for f in (self.after if self.after is not None else self.before)}


def write(result: Remediation, out: Path | None, reports: Path = Path("reports")) -> Path:
    """The plan in its three forms, per account, and the changes' evidence: a new directory."""
    directory = out or reports / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-remediation"
    directory.mkdir(parents=True)
    (directory / "plan.sh").write_text(result.cli() + "\n", encoding="utf-8")
    for plan in result.plans:
        if plan.actions:
            folder = directory / plan.account_id
            folder.mkdir()
            (folder / "cloudformation.yaml").write_text(result.cloudformation(plan), encoding="utf-8")
            (folder / "main.tf").write_text(result.terraform(plan), encoding="utf-8")
    (directory / "plan.json").write_text(json.dumps([{**asdict(p), "actions": [asdict(a) for a in p.actions]}
                                                     for p in result.plans], indent=1), encoding="utf-8")
    result.comparison().to_csv(directory / "before-after.csv", index=False)
    if result.calls:
        write_raw(result.calls, directory / "raw")
    return directory


def start(parameters: dict[str, Any], notify: list[str] | None = None, apply: bool = False) -> Remediation:
    """Audit the selected controls and plan; with ``apply``, make the changes and audit again."""
    params = RunParams.from_mapping(parameters)
    catalog = load_catalog()
    controls = catalog.controls(params.benchmark) if params.controls == ("all",) else \
        [catalog.control(c, params.benchmark) for c in params.controls]
    by_id = {c.id: c for c in controls}
    with opened(params) as scope:
        evidence = _audit(scope, params, controls)
        before = judge_all(evidence, controls, catalog)
        plans = [plan_account(ev, before, by_id, list(notify or [])) for ev in evidence]
        result = Remediation(params, controls, before, plans)
        if apply and result.changes:
            _apply(scope, evidence, result)
            result.after = judge_all(_audit(scope, params, controls), controls, catalog)
    return result


def _audit(scope: Scope, params: RunParams, controls: list[Control]) -> list[AccountEvidence]:
    return collect(scope.targets, scope.regions, params.window, controls, endpoint_url=scope.endpoint)


def _apply(scope: Scope, evidence: list[AccountEvidence], result: Remediation) -> None:
    """Each account's changes in plan order; the first refusal stops that account (later changes
    depend on earlier ones) and is reported, the other accounts go on."""
    targets = {t.label: t for t in scope.targets}
    for ev, plan in zip(evidence, result.plans):
        if not plan.actions:
            continue
        rec = _recorder(targets[ev.label], ev, scope.endpoint)
        for action in plan.actions:
            if rec is None or rec.call(action.region, action.service, action.operation, LINK, **action.params) is None:
                why = rec.gaps[-1].message if rec and rec.gaps else "the account's role could not be assumed"
                result.failed.append(f"{plan.label} ({plan.account_id}): {action.service} {action.operation} "
                                     f"{action.name}: {why}")
                break
        result.calls += rec.calls if rec else []


def _recorder(target: Target, ev: AccountEvidence, endpoint: str | None) -> Recorder | None:
    rec = Recorder(Clients(target.session, endpoint), ev.account_id)
    if target.role_arn is not None and not assume(rec, target, ev.regions[0], endpoint):
        return None
    return rec
