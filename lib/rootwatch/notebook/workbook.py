"""What the evidence notebook calls: start a run, then one section each, an escaped table or chart
per account under an escaped heading. The run and its tables are ``rootwatch.evidence_run``'s; this
module only shows them (the notebook holds the narrative, the report is the executed notebook).
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import pandas as pd

from rootwatch import evidence_run
from rootwatch.evidence_run import ROOT_ACTIVITY, EvidenceRun, crosswalk_frame, links_frame, notes_frame
from rootwatch.models import Check, Status
from rootwatch.notebook.display import heading, pointer, show, show_chart
from rootwatch.report import charts

SEE_LINKS = "its links, reasons, evidence and notes: section 3, under the same heading"


def start(parameters: dict[str, Any]) -> EvidenceRun:
    """The run, with a progress bar per collection stage. What a notebook's kernel holds until it
    ends — the modules imported by then (pandas, botocore's models, matplotlib), then the run every
    section reads — is frozen out of the garbage collector's reach: each full collection would
    otherwise walk it all again, for a tenth of the kernel's CPU."""
    gc.freeze()
    run = evidence_run.start(parameters, progress=_progress_bars())
    gc.freeze()
    return run


def show_scope(run: EvidenceRun) -> None:
    show(run.scope().reset_index())


def show_organization(run: EvidenceRun) -> None:
    print(run.summary_line())
    show_chart(charts.status_heatmap(run.status_matrix()))
    if len(run.operations) > 1:  # RW-2 judged: did each account's chain operate, week by week
        for chart in run.charts_operation_weeks():
            show_chart(chart)
    show(run.counts())
    worst = run.worst()
    show(worst if len(worst) else pd.DataFrame({"findings": ["every account passes every control"]}))


def show_links(run: EvidenceRun) -> None:
    """Each finding's links and notes; under a control's first finding, what else its verdicts
    answer (the same for every account: printed once, as findings.csv and OCSF carry it per finding)."""
    shown: set[str] = set()
    for f in run.findings:
        heading(f"{f.account_label} ({f.account_id}) — {f.name}: {f.status}", f.uid)
        show(links_frame(f))
        show(notes_frame(f))
        if f.requirements and f.key not in shown:
            shown.add(f.key)
            show(crosswalk_frame(f), f"{f.name}'s verdicts also answer (every account's)")


def show_charts(run: EvidenceRun) -> None:
    if len(run.accounts()) > 1:
        heading("The organization: root events per account")
        show_chart(run.chart_organization())
    for account in run.accounts():
        heading(run.label(account))
        for chart in [*run.chart_alarm_states(account), run.chart_root_per_day(account),
                      run.chart_root_by_name(account), run.chart_root_by_ip(account)]:
            show_chart(chart)


def show_root_activity(run: EvidenceRun) -> None:
    """Each account's summary first, then its events one by one (the appendix tables)."""
    for account in run.accounts():
        summary = run.root_activity_summary(account)
        show(summary if len(summary) else pd.DataFrame({"root events": ["none in the window"]}),
             f"{run.label(account)}: root events by event name, source IP and MFA")
    for account in run.accounts():
        events = run.root_activity(account)
        for view, columns in ROOT_ACTIVITY.items():
            show(events[list(columns)], f"{run.label(account)}: {view}")


def show_alarm_coverage(run: EvidenceRun) -> None:
    show(run.coverage_summary())
    uncovered = run.uncovered()
    show(uncovered if len(uncovered) else pd.DataFrame({"uncovered": ["none: every counted event raised an alarm"]}))


def show_chain_operation(run: EvidenceRun) -> None:
    """Per account: rootwatch test RW-2's verdict, the chart of the chain over the window, and each break.
    Its links and notes are section 3's (every finding's are there): pointed to, not printed twice."""
    for f in run.findings:
        if f.check != Check.OPERATION:
            continue
        heading(f"{f.account_label} ({f.account_id}) — {f.name}: {f.status}")
        pointer(SEE_LINKS, f.uid)
        chart = run.chart_chain_operation(f.account_id)
        if chart is not None:
            show_chart(chart)
            breaks = run.chain_breaks(f.account_id)
            show(breaks if len(breaks) else pd.DataFrame({"breaks": ["none: every link held all along"]}))
        op = run.operation(f.account_id)
        if op is not None and op.witness is not None:  # the second witness, its disagreements or why it agrees
            table = run.config_disagreements(f.account_id)
            show(table if len(table) else pd.DataFrame({"AWS Config": [op.witness.summary()]}),
                 "AWS Config's configuration history beside CloudTrail's events")


def show_alternative_monitors(run: EvidenceRun) -> None:
    """Per account with an EventBridge rule on root use: rootwatch test RW-3's verdict, and where section 3
    prints each rule's reason and the root event a narrower rule misses (not printed twice)."""
    found = [f for f in run.findings if f.check == Check.ALTERNATIVE]
    if not found:
        show(pd.DataFrame({"alternative monitors": ["none: no account has an EventBridge rule on root use"]}))
    for f in found:
        heading(f"{f.account_label} ({f.account_id}) — {f.name}: {f.status}")
        pointer(SEE_LINKS, f.uid)


def show_root_credentials(run: EvidenceRun) -> None:
    """The credential report's root row per account: the second witness of root use."""
    if run.root_controls:
        show(run.root_hygiene(), "CIS verdicts on the root user's credentials")
    report = run.frames["root_credentials"]
    if not len(report):
        show(pd.DataFrame({"credential report": ["not read (see evidence gaps)"]}))
        return
    labels = [run.label(a) for a in report["account_id"]]  # one column per account: fifteen fields fit a page
    show(report.drop(columns="account_id").T.set_axis(labels, axis=1).rename_axis("field").reset_index())


def show_gaps(run: EvidenceRun) -> None:
    gaps = run.gaps()
    show(gaps if len(gaps) else pd.DataFrame({"gaps": ["none: every link could be read"]}))


def show_remediation(run: EvidenceRun) -> None:
    """Each CIS finding's planned steps (or that it needs none), and what to investigate for each of
    rootwatch's own tests that did not pass: "nothing to do" must never stand beside a failing test."""
    for f in run.findings:
        if not f.benchmark_control and not f.remediation_notes:
            continue  # a test of rootwatch's that passed: nothing to investigate
        heading(f"{f.account_label} ({f.account_id}) — {f.name}")
        steps = run.remediation(f.account_id, f.control) if f.benchmark_control else pd.DataFrame()
        if len(steps):
            show(steps)
        elif f.benchmark_control and f.status == Status.PASS:
            show(pd.DataFrame({"remediation": ["nothing to do: every link passes"]}))
        if f.remediation_notes:
            show(pd.DataFrame({"note": f.remediation_notes}))


def _progress_bars() -> Any:
    """A progress bar per collection stage, on the process's own stderr: the terminal of
    `rootwatch run` (papermill's kernel inherits it), hidden when that is not a terminal."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"collect: {stage}", unit="task", file=sys.__stderr__,
                                     disable=None, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report
