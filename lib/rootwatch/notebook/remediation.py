"""What the remediation notebook calls: the run with the plan shown before any change, and the plan
and its templates as escaped tables and code. The loop is ``rootwatch.remediate.apply``, which
knows nothing of notebooks: this module imports it, never the reverse."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from rootwatch.notebook.display import heading, show, show_code
from rootwatch.remediate.apply import Remediation
from rootwatch.remediate.apply import start as run


def start(parameters: dict, notify: list[str] | None = None, apply: bool = False, out: Path | None = None,
          delivery_role: str | None = None) -> Remediation:
    """The notebook's run: its review is showing the plan (``apply`` is the consent)."""
    return run(parameters, notify=notify, apply=apply, out=out, delivery_role=delivery_role, review=shown_first)


def shown_first(rem: Remediation) -> bool:
    if rem.changes:
        show_plan(rem)
    return True


def show_plan(rem: Remediation) -> None:
    show(rem.comparison())
    show_code(rem.cli())
    notes = [f"{p.label}: {n}" for p in rem.plans for n in p.notes] + rem.failed
    show(pd.DataFrame({"note": notes or ["none"]}))


def show_templates(rem: Remediation) -> None:
    for plan in (p for p in rem.plans if p.actions):
        heading(f"{plan.label} ({plan.account_id}) — CloudFormation")
        show_code(rem.cloudformation(plan))
        heading(f"{plan.label} ({plan.account_id}) — Terraform")
        show_code(rem.terraform(plan))
