"""What the exploration notebook calls: who used root, when, from where, and did the alarm fire.

An analyst's questions over any window: root events sliced by account, region, event name,
source IP, user agent and MFA; a timeline and an hour × weekday map; first and last root use per
account from CloudTrail and from the IAM credential report; console sign-ins; and, apart, the root
events the CIS filter does not count, with why. Collection and judging are the evidence
workbook's (``workbook.start``), so both notebooks read the same evidence the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from rootwatch.notebook import workbook
from rootwatch.report import charts
from rootwatch.catalog import load_catalog
from rootwatch.evidence_run import EvidenceRun
from rootwatch.notebook.display import heading, show, show_chart
from rootwatch.models import Role

SLICES = ("account_id", "region", "event_name", "source_ip", "user_agent", "mfa_used")


@dataclass
class RootActivity:
    run: EvidenceRun

    @property
    def events(self) -> pd.DataFrame:
        return self.run.frames["root_events"]

    # --- tables -----------------------------------------------------------------------
    def by(self, column: str) -> pd.DataFrame:
        """Root events per value of ``column``: how many, how many a filter counts, first and last."""
        if column not in SLICES:
            raise ValueError(f"slice by one of {', '.join(SLICES)}")
        ev = self.events.assign(key=self.events[column].astype("string").fillna("(none)"))
        out = ev.groupby("key").agg(events=("time", "size"), counted=("counted", "sum"), first=("time", "min"),
                                    last=("time", "max"))
        return out.sort_values("events", ascending=False).rename_axis(column).reset_index()

    def first_last(self) -> pd.DataFrame:
        """Per account: first and last root event in the window, and the credential report's view
        (it remembers use older than any log: password and access-key last use, MFA)."""
        rows, report = [], self.credentials()
        for ev in self.run.evidence:
            own = self.events[self.events.account_id == ev.account_id]
            root = report[report.account_id == ev.account_id]
            rows.append({"account": f"{ev.label} ({ev.account_id})", "root events": len(own),
                         "first in window": own.time.min() if len(own) else None,
                         "last in window": own.time.max() if len(own) else None,
                         **(root.drop(columns=["account_id"]).iloc[0].to_dict() if len(root) else
                            {"credential report": "not read (see evidence gaps)"})})
        return pd.DataFrame(rows)

    def credentials(self) -> pd.DataFrame:
        """The root row of each account's IAM credential report."""
        return self.run.frames["root_credentials"]

    def console_logins(self) -> pd.DataFrame:
        """Root console sign-ins: success or failure, and whether MFA was used."""
        logins = self.events[self.events.event_name == "ConsoleLogin"]
        return logins[["time", "account_id", "console_login", "mfa_used", "source_ip", "user_agent", "error_code",
                       "counted"]].rename(columns={"console_login": "result"}).reset_index(drop=True)

    def not_counted(self) -> pd.DataFrame:
        """Root events outside the CIS reference (relayed by a service, ``AwsServiceEvent``), with why."""
        apart = self.events[~self.events.reference_counts.astype(bool)]
        return apart[["time", "account_id", "event_name", "event_source", "invoked_by", "event_type", "counted",
                      "why"]].reset_index(drop=True)

    # --- notebook sections --------------------------------------------------------------
    def show_overview(self) -> None:
        print(f"{len(self.events)} root event(s) over {len(self.run.evidence)} account(s), "
              f"window {self.run.params.window_label} ({self.run.params.window})")
        show(self.first_last())

    def show_slices(self, columns: tuple[str, ...] = SLICES) -> None:
        for column in columns:
            heading(f"by {column}")
            show(self.by(column))

    def show_timeline(self) -> None:
        show_chart(charts.root_timeline(self.events, self.run.params.window))
        show_chart(charts.hour_weekday(self.events))

    def show_console_logins(self) -> None:
        logins = self.console_logins()
        show(logins if len(logins) else pd.DataFrame({"console logins": ["none in the window"]}))

    def show_credentials(self) -> None:
        workbook.show_root_credentials(self.run)

    def show_not_counted(self) -> None:
        apart = self.not_counted()
        show(apart if len(apart) else pd.DataFrame({"not counted": ["none: the reference counts every root event"]}))

    def show_alarm_coverage(self) -> None:
        workbook.show_alarm_coverage(self.run)


def start(parameters: dict[str, Any]) -> RootActivity:
    """Collect and judge as the evidence workbook does, for the edition's root-usage control (its
    evidence query reads every root event, counted or not)."""
    root = load_catalog().by_role(Role.ROOT_USAGE, parameters.get("benchmark"))
    return RootActivity(workbook.start({**parameters, "controls": [root.id]}))
