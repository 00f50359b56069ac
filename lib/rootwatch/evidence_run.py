"""One evidence run: parameters → collected evidence → frames → findings (the benchmark's controls,
root hygiene and rootwatch's own tests RW-1 and RW-2), the tables and figures read from them, and the
run's saved outputs.

Both notebooks' facades (``rootwatch.notebook``) present a run; the run knows nothing of how it is
shown, so its tables are tested like the rest of the library and shown escaped by the facade.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from rootwatch.catalog import Catalog, Control, RootControl, load_catalog, with_role
from rootwatch.collect.chain import AccountEvidence, Progress, collect
from rootwatch.collect.evidence import RawCall, write_raw
from rootwatch.frames import tables as frames
from rootwatch.history import CHAIN, FAIL, Operation
from rootwatch.hygiene import judge_root_hygiene
from rootwatch.judge.alarm_response import judge_alarm_coverage
from rootwatch.judge.chain import chain_operation, judge_all, judge_alternative_monitor, judge_operation
from rootwatch.judge.pattern_coverage import witnesses
from rootwatch.models import Check, Finding, Link, Role, Status, dump_findings, tally
from rootwatch.params import RunParams
from rootwatch.remediate.plan import advise, plan_account
from rootwatch.report import charts, exports
from rootwatch.scope import opened

# Root events in two tables of eight columns each: fourteen side by side do not fit a printed page
# (the PDF would cut the verdict columns off), and a reader takes them as two questions anyway.
ROOT_ACTIVITY = {
    "whether the filter counts it": ("time", "event_name", "source_ip", "mfa_used", "console_login", "error_code",
                                     "counted", "why"),
    "what the caller sent": ("time", "event_name", "event_source", "user_agent", "invoked_by", "event_type",
                             "error_message", "request_parameters"),
}

SUMMARY_BY = {"event_name": "event name", "source_ip": "source IP", "mfa_used": "MFA used"}  # section 5's summary


@dataclass


class EvidenceRun:
    params: RunParams
    controls: list[Control]
    evidence: list[AccountEvidence]
    frames: dict[str, pd.DataFrame]
    findings: list[Finding]
    started: datetime
    finished: datetime
    caller_arns: dict[str, str | None]
    scope_calls: list[RawCall]  # organization / region listing, evidence of what was in scope
    # per account id, the root-usage chain over the window (None: its changes could not be read)
    operations: dict[str, Operation | None] = field(default_factory=dict)
    root_controls: list[RootControl] = field(default_factory=list)  # the root-hygiene controls judged

    @property
    def benchmark(self) -> str:
        """The edition judged (every selected control is of it)."""
        return (self.controls or self.root_controls)[0].benchmark

    # --- tables -----------------------------------------------------------------------
    def scope(self) -> pd.DataFrame:
        p = self.params
        rows = [("source", "embedded sandbox organisation (moto on loopback)" if p.source == "sandbox" else
                 f"AWS, profile {p.profile or '(default credential chain)'}"),
                ("accounts", ", ".join(f"{e.label} ({e.account_id})" for e in self.evidence)),
                ("regions", ", ".join(p.regions)),
                ("window", f"{p.window_label}: {p.window}"),
                ("benchmark", load_catalog().benchmarks[self.benchmark]),
                ("controls", ", ".join(f"{c.id} {c.title}" for c in [*self.root_controls, *self.controls])),
                ("collected", f"{self.started:%Y-%m-%d %H:%M:%S} – {self.finished:%H:%M:%S} UTC, {self.reading()}")]
        return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")

    def summary_line(self) -> str:
        """The CIS verdicts, then rootwatch's own tests apart: they are not the benchmark's controls."""
        def counted(benchmark: bool) -> str:
            return ", ".join(f"{n} {s}" for s, n in tally(self.findings, benchmark).items())
        tests = any(not f.benchmark_control for f in self.findings)
        return (f"{len(self.findings)} finding(s) over {len(self.evidence)} account(s), window "
                f"{self.params.window_label}: CIS {counted(True)}"
                + (f"; rootwatch tests {counted(False)}" if tests else "") + f"; {self.reading()}")

    def reading(self) -> str:
        """How the collection went: an auditor weighs verdicts by the calls that could not be read."""
        return (f"{len(self.frames['api_calls'])} API calls, {self.retried_calls()} retried after throttling or "
                f"transient errors, {len(self.gaps())} evidence gap(s) (calls that could not be read)")

    def retried_calls(self) -> int:
        return int((self.frames["api_calls"]["retries"].fillna(0) > 0).sum())

    def finding(self, account: str, control: str | None = None) -> Finding:
        control = control or self.controls[0].id
        return next(f for f in self.findings if account in (f.account_id, f.account_label) and f.control == control
                    and f.check in (Check.CHAIN, Check.ROOT_CREDENTIALS))

    def links(self, account: str, control: str | None = None) -> pd.DataFrame:
        return links_frame(self.finding(account, control))

    def notes(self, account: str, control: str | None = None) -> pd.DataFrame:
        return notes_frame(self.finding(account, control))

    def remediation(self, account: str, control: str | None = None) -> pd.DataFrame:
        steps = self.finding(account, control).remediation
        return pd.DataFrame([(s.link.title, s.title, s.command) for s in steps], columns=["link", "step", "command"])

    def root_activity(self, account: str) -> pd.DataFrame:
        columns = list(dict.fromkeys(c for view in ROOT_ACTIVITY.values() for c in view))
        return self._events(account)[columns].reset_index(drop=True)

    def gaps(self) -> pd.DataFrame:
        return self.frames["gaps"]

    def frame(self, name: str, account: str | None = None) -> pd.DataFrame:
        df = self.frames[name]
        return df if account is None else df[df.account_id == self._account_id(account)].reset_index(drop=True)

    # --- charts -----------------------------------------------------------------------
    def judged_alarm(self, account: str) -> tuple[str, str, str] | None:
        """(account id, region, name) of the alarm the root-usage chain judged for the account — in
        the log group's account for an organization trail — or None when the chain reached no alarm
        or root usage is not judged. The charts draw this alarm only: the account's other alarms
        (route-table changes ...) would read as the root alarm firing for no reason."""
        root = with_role(self.controls, Role.ROOT_USAGE)
        anchor = self.finding(account, root.id).anchor if root else None
        return (anchor.log_group_account, anchor.log_group_region, anchor.alarm) if anchor and anchor.alarm else None

    def judged_alarm_history(self, account: str) -> pd.DataFrame:
        """The history of ``judged_alarm`` (empty when there is none)."""
        history, judged = self.frames["alarm_history"], self.judged_alarm(account)
        if judged is None:
            return history.iloc[:0]
        owner, region, name = judged
        return history[(history.account_id == owner) & (history.region == region) & (history.alarm_name == name)]

    def chart_alarm_states(self, account: str) -> list[charts.Chart]:
        """The judged alarm's states over the window (no chart when the chain reached no alarm)."""
        judged = self.judged_alarm(account)
        if judged is None:
            return []
        owner, region, name = judged
        alarms = self.frames["alarms"]
        state = alarms[(alarms.account_id == owner) & (alarms.region == region) & (alarms.alarm_name == name)].state
        unread = any(c.error for e in self.evidence for c in e.calls if c.account_id == owner and c.region == region
                     and c.operation == "DescribeAlarmHistory" and c.params.get("AlarmName") == name)
        uncovered = int((~self.frame("alarm_coverage", account).covered.astype(bool)).sum())
        return [charts.alarm_timeline(self.judged_alarm_history(account), name, self.params.window,
                                      state.iloc[0] if len(state) and pd.notna(state.iloc[0]) else None, uncovered,
                                      unread)]

    def chart_root_per_day(self, account: str) -> charts.Chart:
        judged = self.judged_alarm(account)
        return charts.root_events_per_day(self._events(account), self.frame("alarm_coverage", account),
                                          self.judged_alarm_history(account), judged[2] if judged else None,
                                          self.params.window)

    def chart_root_by_name(self, account: str) -> charts.Chart:
        return charts.root_events_by(self._events(account), "event_name", "Root events by event name")

    def chart_root_by_ip(self, account: str) -> charts.Chart:
        return charts.root_events_by(self._events(account), "source_ip", "Root events by source IP")

    def chart_organization(self) -> charts.Chart:
        """Accounts × weeks of root events and uncovered events: where root is used, and where unseen."""
        return charts.root_events_heatmap(self.frames["root_events"], self.frames["alarm_coverage"],
                                          {a: self.label(a) for a in self.accounts()}, self.params.window)

    # --- the chain over the window (rootwatch test RW-2) ------------------------------------
    def operation(self, account: str) -> Operation | None:
        return self.operations.get(self._account_id(account))

    def chain_intervals(self, account: str) -> pd.DataFrame:
        """Per link (then the whole chain), the window cut into operated, broken and unknown spans."""
        op = self.operation(account)
        rows = []
        for link, lo in (op.links.items() if op else []):
            title = "whole chain" if link == CHAIN else Link(link).title
            at = op.window.start
            for b in lo.breaks:
                rows += [(title, "PASS", at, b.start)] if b.start > at else []
                rows.append((title, b.status, b.start, b.end))
                at = b.end
            rows += [(title, "PASS", at, op.window.end)] if at < op.window.end else []
        return pd.DataFrame(rows, columns=["link", "status", "start", "end"])

    def chain_breaks(self, account: str) -> pd.DataFrame:
        """Every span a link did not operate: who broke it, when and from where, and who fixed it."""
        op = self.operation(account)
        rows = [(Link(link).title, b.status, b.start, b.end, str(b.end - b.start),
                 "; ".join(map(str, b.broken_by)) or "(since the window began)",
                 "; ".join(map(str, b.fixed_by)) or "(not within the window)", b.reason)
                for link, lo in (op.links.items() if op else []) if link != CHAIN for b in lo.breaks]
        return pd.DataFrame(rows, columns=["link", "status", "from", "to", "for", "broken by", "fixed by", "why unknown"])

    def chain_roots(self, account: str) -> pd.DataFrame:
        """The window's root events the benchmark's pattern counts, each with whether it fell while the
        chain was broken."""
        op, events = self.operation(account), self._events(account)
        missed = {r.event.event_id for r in (op.root_events if op else []) if r.brk.status == FAIL}
        counted = events[events.reference_counts.astype(bool)]
        return pd.DataFrame({"time": counted.time, "event_id": counted.event_id, "event_name": counted.event_name,
                             "in_break": counted.event_id.isin(missed)}).reset_index(drop=True)

    def operation_weeks(self) -> pd.DataFrame:
        """Accounts (rows, every one judged) × weeks of the window (days for four weeks or less): the
        whole chain operated all that period, was broken for any of it, or, with no break, is not
        known for some of it (an account whose history could not be read: not known throughout)."""
        _, columns = charts.periods(self.params.window)
        window = self.params.window
        step = columns[1] - columns[0] if len(columns) > 1 else pd.Timedelta(days=7 if window.days > 28 else 1)
        rows = {}
        for account in self.operations:
            spans = self.chain_intervals(account)
            spans = spans[spans.link == "whole chain"]
            cells = []
            for begin in columns:
                start, end = max(begin, pd.Timestamp(window.start)), min(begin + step, pd.Timestamp(window.end))
                seen = set(spans.status[(spans.start < end) & (spans.end > start)]) or {"GAP"}
                cells.append("broken" if "FAIL" in seen else "not known" if "GAP" in seen else "operated")
            rows[self.label(account)] = cells
        return pd.DataFrame.from_dict(rows, orient="index", columns=columns)

    def charts_operation_weeks(self) -> list[charts.Chart]:
        return charts.chain_weeks(self.operation_weeks(), self.params.window)

    def config_disagreements(self, account: str) -> pd.DataFrame:
        """AWS Config's items that contradict the reconstruction: when, which resource, and each witness's word."""
        op = self.operation(account)
        seen = op.witness if op else None
        rows = [(d.time, d.key[0].value, d.key[1], d.field, repr(d.config), repr(d.events))
                for d in (seen.disagreements if seen else ())]
        return pd.DataFrame(rows, columns=["time", "resource type", "resource", "field", "AWS Config recorded",
                                           "CloudTrail's events give"])

    def chart_chain_operation(self, account: str) -> charts.Chart | None:
        if self.operation(account) is None:
            return None
        return charts.chain_operation(self.chain_intervals(account), self.chain_roots(account), self.params.window,
                                      self.label(account))

    def root_hygiene(self) -> pd.DataFrame:
        """The root-hygiene verdicts, account by account: the benchmark's controls on the root user's
        credentials, each with the credential report's words behind it."""
        return pd.DataFrame([(f"{f.account_label} ({f.account_id})", f"CIS {f.control}", f.title, f"Level {f.level}",
                              f.status, f.links[-1].reason) for f in self.findings
                             if f.check is Check.ROOT_CREDENTIALS],
                            columns=["account", "control", "title", "profile", "status", "why"])

    def root_activity_summary(self, account: str) -> pd.DataFrame:
        """The account's root events counted by event name, source IP and MFA, most frequent first,
        each with how many the filter counts: what the tables after it list event by event."""
        events, rows = self._events(account), []
        for column, by in SUMMARY_BY.items():
            values = events[column].astype("string").replace({"True": "yes", "False": "no"}).fillna("(not recorded)")
            for value, group in events.groupby(values, sort=False):
                rows.append((by, value, len(group), int(group["counted"].astype(bool).sum())))
        summary = pd.DataFrame(rows, columns=["by", "value", "root events", "counted by the filter"])
        order = summary["by"].map({by: n for n, by in enumerate(SUMMARY_BY.values())})
        return summary.assign(_o=order).sort_values(["_o", "root events"], ascending=[True, False],
                                                    kind="stable").drop(columns="_o").reset_index(drop=True)

    def coverage_summary(self) -> pd.DataFrame:
        """Per account: root events the filters count, how many an alarm caught, how many it missed."""
        cov = self.frames["alarm_coverage"]
        rows = [(self.label(a), int((cov.account_id == a).sum()), int((cov.covered & (cov.account_id == a)).sum()))
                for a in self.accounts()]
        return pd.DataFrame([(label, n, c, n - c, f"{c / n:.0%}" if n else "—") for label, n, c in rows],
                            columns=["account", "counted root events", "alarm fired and notified", "uncovered",
                                     "coverage"])

    def uncovered(self) -> pd.DataFrame:
        """Every counted root event no alarm caught in time, with why."""
        cov = self.frames["alarm_coverage"]
        return cov[~cov.covered][["time", "account_id", "event_name", "event_id", "alarms", "reason"]] \
            .reset_index(drop=True)

    # --- outputs ----------------------------------------------------------------------
    def accounts(self) -> list[str]:
        return [e.account_id for e in self.evidence]

    def regions(self) -> list[str]:
        """The regions read (``all`` resolved to the enabled ones)."""
        return self.evidence[0].regions if self.evidence else list(self.params.regions)

    # --- organization page -----------------------------------------------------------------
    def status_matrix(self) -> pd.DataFrame:
        """Accounts (rows) × controls (columns) → PASS / FAIL / GAP."""
        rows = {f"{f.account_label} ({f.account_id})": {} for f in self.findings}
        for f in self.findings:
            rows[f"{f.account_label} ({f.account_id})"][f.key] = f.status
        return pd.DataFrame.from_dict(rows, orient="index")[list(dict.fromkeys(f.key for f in self.findings))]

    def counts(self) -> pd.DataFrame:
        """Per control: how many accounts PASS, FAIL, GAP."""
        matrix = self.status_matrix()
        return pd.DataFrame({c: matrix[c].value_counts().reindex(list(Status), fill_value=0)
                             for c in matrix.columns}).T.rename_axis("control").reset_index()

    def worst(self, limit: int = 20) -> pd.DataFrame:
        """FAIL first (most failing links first), then GAP: what to fix first."""
        bad = [f for f in self.findings if f.status != Status.PASS]
        bad.sort(key=lambda f: (f.status != Status.FAIL, -sum(link.status == Status.FAIL for link in f.links),
                                f.account_id, f.key))
        return pd.DataFrame([(f.account_label, f.account_id, f.key, f.status,
                              "; ".join(f"{link.link.title}: {link.reason}" for link in f.failing))
                             for f in bad[:limit]],
                            columns=["account", "account_id", "control", "status", "what fails or is unreadable"])

    def save(self, out_dir: str | Path) -> Path:
        """Frames as CSV and Parquet, every raw response as JSON, and findings.json."""
        out = Path(out_dir)
        data = out / "data"
        data.mkdir(parents=True, exist_ok=True)
        for name, df in self.frames.items():
            frames.write_csv(df, data / f"{name}.csv")
            df.to_parquet(data / f"{name}.parquet", index=False)
        write_raw([*self.scope_calls, *(c for e in self.evidence for c in e.calls)], out / "raw")
        (out / "findings.json").write_text(dump_findings(self.findings, sandbox=self.params.source == "sandbox"),
                                           encoding="utf-8")
        title = load_catalog().benchmarks[self.benchmark]
        (out / "findings.ocsf.json").write_text(json.dumps(exports.ocsf(self.findings, self.finished, title),
                                                           indent=1), encoding="utf-8")
        (out / "findings.csv").write_text(exports.cis_csv(self.findings, self.finished, title, self.regions()),
                                          encoding="utf-8")
        collection = {"started": self.started.isoformat(), "finished": self.finished.isoformat(),
                      "caller_identities": self.caller_arns, "api_calls": len(self.frames["api_calls"]),
                      "retried_calls": self.retried_calls(),
                      "gaps": len(self.gaps()),
                      "event_source": self.params.event_source,
                      "interpreter": sys.executable,  # the Python the evidence was collected and judged in
                      "archive_scans": {e.account_id: e.archive_scans for e in self.evidence if e.archive_scans},
                      "regions": list(self.params.regions), "window": {"label": self.params.window_label,
                                                                       "start": self.params.window.start.isoformat(),
                                                                       "end": self.params.window.end.isoformat()}}
        (out / "collection.json").write_text(json.dumps(collection, indent=2), encoding="utf-8")
        return out

    def label(self, account: str) -> str:
        """The account as a reader names it: its label and id."""
        ev = next(e for e in self.evidence if account in (e.account_id, e.label))
        return f"{ev.label} ({ev.account_id})"

    def _account_id(self, account: str) -> str:
        return next(e.account_id for e in self.evidence if account in (e.account_id, e.label))

    def _events(self, account: str) -> pd.DataFrame:
        return self.frame("root_events", account)


def start(parameters: dict[str, Any], progress: Progress | None = None) -> EvidenceRun:
    """Validate the parameters, collect every account, build the frames and judge."""
    params = RunParams.from_mapping(parameters)
    catalog = load_catalog()
    controls = catalog.select(params.controls, params.benchmark)
    root_controls = catalog.select_root(params.controls, params.benchmark)
    started = datetime.now(UTC)
    with opened(params) as scope:
        evidence = collect(scope.targets, scope.regions, params.window, controls, endpoint_url=scope.endpoint,
                           progress=progress, archive=params.event_source == "archive",
                           witnesses=witnesses(controls, catalog) if params.source == "aws" else None, now=scope.now,
                           lookup_rate=scope.lookup_rate, root_hygiene=bool(root_controls),
                           history_source=params.history_source)
    operations = chain_operations(evidence, controls, catalog)
    built, findings = judged(evidence, controls, catalog, params.max_chain_broken, operations, root_controls)
    return EvidenceRun(params, controls, evidence, built, findings, started, datetime.now(UTC),
                       {e.account_id: e.caller_arn for e in evidence}, scope.calls, operations=operations,
                       root_controls=root_controls)


def chain_operations(evidence: list[AccountEvidence], controls: list[Control],
                     catalog: Catalog) -> dict[str, Operation | None]:
    """Per account, the root-usage chain over the window, each past configuration judged as today's."""
    root = with_role(controls, Role.ROOT_USAGE)
    peers = {ev.account_id: ev for ev in evidence}
    return {ev.account_id: chain_operation(ev, root, catalog, peers) for ev in evidence} if root else {}


def judged(evidence: list[AccountEvidence], controls: list[Control], catalog: Catalog,
           allowed: timedelta = timedelta(0), operations: Mapping[str, Operation | None] | None = None,
           root_controls: list[RootControl] | None = None) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """The frames of the evidence and every finding, rootwatch's tests included; each failing chain
    finding with its part of the remediation plan (what ``rootwatch remediate`` would do); each
    account's root-hygiene verdicts first, in the edition's order (section 1 before section 4).
    ``allowed``: how long the chain may have been broken over the window (RW-2)."""
    built = frames.build_all(evidence, controls)
    findings = judge_all(evidence, controls, catalog)
    by_id = {c.id: c for c in controls}
    for ev in evidence:
        advise(findings, plan_account(ev, findings, by_id, notify=[]))
    if operations is None:
        operations = chain_operations(evidence, controls, catalog)
    chained = _with_rootwatch_tests(findings, evidence, controls, built, operations, allowed)
    if not root_controls:
        return built, chained
    return built, [f for ev in evidence for f in [*judge_root_hygiene(ev, root_controls),
                                                  *(c for c in chained if c.account_id == ev.account_id)]]


def _with_rootwatch_tests(findings: list[Finding], evidence: list[AccountEvidence], controls: list[Control],
                          built: dict[str, pd.DataFrame], operations: Mapping[str, Operation | None],
                          allowed: timedelta) -> list[Finding]:
    """Each account's alarm-coverage finding, when its changes were collected its operating finding and,
    when it has an EventBridge rule on root use, its alternative-monitor finding, right after its
    root-usage finding (which names an alternative monitor found, its own verdict unchanged)."""
    root = with_role(controls, Role.ROOT_USAGE)
    if root is None:
        return findings
    cov, events = built["alarm_coverage"], built["root_events"]
    unseen = events[~events.counted.astype(bool) & events.reference_counts.astype(bool)].account_id.value_counts()
    extra = {ev.account_id: [judge_alarm_coverage(ev, root, cov[cov.account_id == ev.account_id].to_dict("records"),
                                                  int(unseen.get(ev.account_id, 0)))]
             + ([judge_operation(ev, root, operations.get(ev.account_id), allowed)]
                if ev.changes is not None or not ev.caller_arn else [])  # an unread account: its history is a gap
             + [f for f in [judge_alternative_monitor(ev, root)] if f is not None]
             for ev in evidence}
    out = []
    for f in findings:
        out.append(f)
        if f.control == root.id:
            out.extend(extra[f.account_id])
            f.notes += [f"{link.reason} (rootwatch test {x.check.test_id}; the CIS verdict is unchanged: the benchmark "
                        "names metric filters and alarms)" for x in extra[f.account_id]
                        if x.check is Check.ALTERNATIVE and x.status is Status.PASS for link in x.links]
    return out


def links_frame(f: Finding) -> pd.DataFrame:
    return pd.DataFrame([(link.link.title, link.status, link.reason, "\n".join(link.evidence)) for link in f.links],
                        columns=["link", "status", "reason", "evidence"])


def crosswalk_frame(f: Finding) -> pd.DataFrame:
    """The other CIS editions' numbers and titles of the finding's control, and the frameworks mapped
    to it with where each mapping is published."""
    return pd.DataFrame([(r.framework, r.id, r.title or r.source) for r in f.requirements],
                        columns=["framework or edition", "requirement", "title (editions) or source (frameworks)"])


def notes_frame(f: Finding) -> pd.DataFrame:
    notes = list(f.notes)
    if f.coverage is not None and f.coverage.event is not None:
        notes.append(f"{f.coverage.event_role}: {json.dumps(f.coverage.event, sort_keys=True)}")
    return pd.DataFrame({"note": notes or ["none"]})
