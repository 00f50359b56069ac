"""Raw evidence → documented pandas frames, one per link and one per event kind.

``SCHEMAS`` is the one place columns and dtypes are declared (and described); every builder
returns exactly those columns in that order, with those dtypes, even when empty — notebooks and
judges can rely on them. Every frame carries ``account_id``. Text is kept as recorded (escaping is
the renderers'), except lone surrogates, which no file can hold (``untrusted.encodable``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rootwatch.catalog import Control, load_catalog, with_role
from rootwatch.frames.arrow import ARCHIVE_EVENTS, TIME, archive_rows
from rootwatch.frames.credential_report import ROOT_USAGE, parse_credential_report, root_usage
from rootwatch.errors import PatternSyntaxError
from rootwatch.models import Role
from rootwatch.patterns import FilterPattern, compile_pattern, failing_clauses
from rootwatch.resources import Alarm, Selectors, Subscription, Trail, json_object
from rootwatch.untrusted import encodable, spreadsheet_cell
from rootwatch.words import duration

if TYPE_CHECKING:  # annotations only: 'rootwatch events' writes frames without boto3 or the collector
    from rootwatch.logarchive import ArchiveScan
    from rootwatch.collect.chain import AccountEvidence


SCHEMAS: dict[str, dict[str, tuple[str, str]]] = {
    "trails": {
        "account_id": ("string", "account the trail was read from"),
        "region": ("string", "the trail's home region"),
        "name": ("string", "trail name"),
        "arn": ("string", "trail ARN"),
        "home_region": ("string", "region the trail was created in"),
        "owner_account": ("string", "account owning the trail (differs for organization trails)"),
        "is_multi_region": ("boolean", "IsMultiRegionTrail"),
        "is_organization_trail": ("boolean", "IsOrganizationTrail"),
        "seen_in": ("string", "regions whose DescribeTrails listed it, comma-separated"),
        "log_group_arn": ("string", "CloudWatchLogsLogGroupArn (empty: no CloudWatch Logs delivery)"),
        "is_logging": ("boolean", "GetTrailStatus IsLogging (NA: status unreadable)"),
        "latest_cloudwatch_logs_delivery": (TIME, "GetTrailStatus LatestCloudWatchLogsDeliveryTime"),
        "latest_delivery_error": ("string", "GetTrailStatus LatestDeliveryError"),
    },
    "event_selectors": {
        "account_id": ("string", "account the trail was read from"),
        "region": ("string", "the trail's home region"),
        "trail_arn": ("string", "trail ARN"),
        "kind": ("string", "basic or advanced"),
        "name": ("string", "advanced selector name"),
        "read_write_type": ("string", "basic ReadWriteType, or the advanced readOnly restriction (All if none)"),
        "management_events": ("boolean", "IncludeManagementEvents, or eventCategory = Management"),
        "detail": ("string", "the selector as JSON"),
    },
    "metric_filters": {
        "account_id": ("string", "account owning the log group"),
        "region": ("string", "log group region"),
        "log_group": ("string", "log group name"),
        "filter_name": ("string", "metric filter name"),
        "pattern": ("string", "filterPattern as stored"),
        "canonical": ("string", "the pattern's canonical form (empty when it does not parse)"),
        "metric_namespace": ("string", "metricTransformations[].metricNamespace"),
        "metric_name": ("string", "metricTransformations[].metricName"),
        "metric_value": ("string", "metricTransformations[].metricValue"),
        "created": (TIME, "creationTime"),
    },
    "alarms": {
        "account_id": ("string", "account owning the alarm"),
        "region": ("string", "alarm region (the log group's)"),
        "alarm_name": ("string", "AlarmName"),
        "alarm_arn": ("string", "AlarmArn"),
        "namespace": ("string", "Namespace"),
        "metric_name": ("string", "MetricName"),
        "statistic": ("string", "Statistic"),
        "period": ("Int64", "Period, seconds"),
        "evaluation_periods": ("Int64", "EvaluationPeriods"),
        "threshold": ("Float64", "Threshold"),
        "comparison": ("string", "ComparisonOperator"),
        "actions_enabled": ("boolean", "ActionsEnabled"),
        "sns_actions": ("string", "SNS topic ARNs among AlarmActions, comma-separated"),
        "state": ("string", "StateValue"),
    },
    "subscriptions": {
        "account_id": ("string", "account the topic was read from"),
        "region": ("string", "the topic's region"),
        "topic_arn": ("string", "topic an alarm notifies"),
        "subscription_arn": ("string", "SubscriptionArn (PendingConfirmation / Deleted when not live)"),
        "protocol": ("string", "Protocol"),
        "endpoint": ("string", "Endpoint"),
        "confirmed": ("boolean", "SubscriptionArn is a real ARN"),
    },
    "alarm_history": {
        "account_id": ("string", "account owning the alarm"),
        "region": ("string", "alarm region"),
        "alarm_name": ("string", "AlarmName"),
        "time": (TIME, "Timestamp"),
        "item_type": ("string", "HistoryItemType"),
        "summary": ("string", "HistorySummary"),
        "old_state": ("string", "StateUpdate: previous state"),
        "new_state": ("string", "StateUpdate: new state"),
    },
    "metric_datapoints": {
        "account_id": ("string", "account owning the metric"),
        "region": ("string", "metric region"),
        "namespace": ("string", "metric namespace"),
        "metric_name": ("string", "metric name"),
        "time": (TIME, "start of the day"),
        "sum": ("Float64", "Sum over the day"),
    },
    "gaps": {
        "account_id": ("string", "account"),
        "region": ("string", "region of the call"),
        "link": ("string", "what the gap leaves unproven: a link of the chain, or evidence beside it (models.Link id)"),
        "service": ("string", "AWS service"),
        "operation": ("string", "API operation"),
        "error_code": ("string", "error code"),
        "message": ("string", "error message"),
        "evidence": ("string", "raw call file showing the error"),
    },
    "api_calls": {
        "account_id": ("string", "account"),
        "region": ("string", "region"),
        "service": ("string", "AWS service"),
        "operation": ("string", "API operation"),
        "pages": ("Int64", "response pages"),
        "retries": ("Int64", "attempts botocore retried (throttling, transient errors)"),
        "error_code": ("string", "error code, if the call failed"),
        "seconds": ("Float64", "wall time"),
        "evidence": ("string", "raw call file"),
    },
    "root_events": {
        "time": (TIME, "eventTime"),
        "account_id": ("string", "recipientAccountId (the account collected)"),
        "region": ("string", "awsRegion"),
        "event_name": ("string", "eventName"),
        "event_source": ("string", "eventSource"),
        "source_ip": ("string", "sourceIPAddress"),
        "user_agent": ("string", "userAgent (attacker-controlled text: escape when rendering)"),
        "mfa_used": ("boolean", "console sign-in MFAUsed, or sessionContext mfaAuthenticated"),
        "console_login": ("string", "responseElements.ConsoleLogin (Success / Failure), console sign-ins only"),
        "invoked_by": ("string", "userIdentity.invokedBy"),
        "event_type": ("string", "eventType"),
        "error_code": ("string", "errorCode"),
        "error_message": ("string", "errorMessage (AWS echoes the caller's input in it: escape when rendering)"),
        "request_parameters": ("string", "requestParameters as JSON (names the caller chose: escape when rendering)"),
        "counted": ("boolean", "counted by one of the log group's metric filters"),
        "counted_by": ("string", "names of the metric filters that count it, comma-separated"),
        "reference_counts": ("boolean", "counted by the control's reference pattern"),
        "why": ("string", "why it is or is not counted"),
        "event_id": ("string", "eventID"),
        "source": ("string", "logs (FilterLogEvents) or lookup (LookupEvents)"),
    },
    "archive_events": ARCHIVE_EVENTS,
    "root_credentials": ROOT_USAGE,
    "alarm_coverage": {
        "time": (TIME, "eventTime of a root event a metric filter counts"),
        "account_id": ("string", "account"),
        "region": ("string", "awsRegion of the event"),
        "event_name": ("string", "eventName"),
        "event_id": ("string", "eventID"),
        "alarms": ("string", "alarms on the metrics of the filters that count it, comma-separated"),
        "covered": ("boolean", ("an alarm went to ALARM within its period x evaluation periods (+ delivery) "
                               "and executed its action, or was already in ALARM")),
        "alarm_time": (TIME, "when the alarm went to (or was already in) ALARM"),
        "reason": ("string", "why the event is covered or not"),
    },
}
DELIVERY_ALLOWANCE = pd.Timedelta(minutes=15)  # CloudTrail to CloudWatch Logs delivery, typically ~5 min
ACTION_ALLOWANCE = pd.Timedelta(minutes=5)  # an alarm's action is recorded seconds after its state change


def frame(name: str, rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows → the declared columns, in order, with the declared dtypes."""
    schema = SCHEMAS[name]
    df = pd.DataFrame([{k: encodable(v) if isinstance(v, str) else v for k, v in row.items()} for row in rows],
                      columns=list(schema))
    for column, (dtype, _) in schema.items():
        df[column] = pd.to_datetime(df[column], utc=True).dt.as_unit("ns") if dtype == TIME else df[column].astype(dtype)
    return df


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """A frame as CSV for spreadsheets: CRLF line ends as RFC 4180 has them (so a carriage return
    inside a cell is quoted, not read as the end of a row) and every text cell made safe with
    ``untrusted.spreadsheet_cell`` (no formula runs, no cell is longer than a spreadsheet holds; the
    Parquet file keeps the text unchanged)."""
    text = df.select_dtypes(include=["string", "object"]).columns
    safe = df.assign(**{c: df[c].map(lambda v: spreadsheet_cell(v) if isinstance(v, str) else v) for c in text})
    safe.to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8")
    return path


def describe(name: str) -> pd.DataFrame:
    """The documented columns of one frame, for notebooks and the README."""
    return pd.DataFrame([(c, t, d) for c, (t, d) in SCHEMAS[name].items()], columns=["column", "dtype", "meaning"])


def _each(evidence: Iterable[AccountEvidence], rows: Callable[[AccountEvidence], Iterable[dict]]) -> list[dict]:
    return [row for ev in evidence for row in rows(ev)]


def trails(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for trail in map(Trail, ev.trails):
            t, status = trail.raw, trail.status or {}
            yield {"account_id": ev.account_id, "region": trail.home_region, "name": trail.name, "arn": trail.arn,
                   "home_region": trail.home_region, "owner_account": trail.owner,
                   "is_multi_region": t.get("IsMultiRegionTrail"), "is_organization_trail": t.get("IsOrganizationTrail"),
                   "seen_in": ",".join(t["rw:seenIn"]), "log_group_arn": trail.log_group_arn or "",
                   "is_logging": trail.logging,
                   "latest_cloudwatch_logs_delivery": status.get("LatestCloudWatchLogsDeliveryTime"),
                   "latest_delivery_error": status.get("LatestDeliveryError")}
    return frame("trails", _each(evidence, rows))


def event_selectors(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for trail in map(Trail, ev.trails):
            sel = trail.selectors or Selectors({})
            for s in sel.basic:
                yield {"account_id": ev.account_id, "region": trail.home_region, "trail_arn": trail.arn,
                       "kind": "basic", "name": None,
                       "read_write_type": s.get("ReadWriteType", "All"),
                       "management_events": s.get("IncludeManagementEvents", True), "detail": json.dumps(s)}
            for s in sel.advanced:
                fields = {f["Field"]: f for f in s.get("FieldSelectors", [])}
                category = fields.get("eventCategory", {}).get("Equals", [])
                read_only = fields.get("readOnly", {}).get("Equals", [])
                yield {"account_id": ev.account_id, "region": trail.home_region, "trail_arn": trail.arn,
                       "kind": "advanced",
                       "name": s.get("Name"), "read_write_type": _read_write(read_only),
                       "management_events": "Management" in category, "detail": json.dumps(s)}
    return frame("event_selectors", _each(evidence, rows))


def _read_write(read_only: list[str]) -> str:
    if not read_only:
        return "All"
    return "ReadOnly" if read_only == ["true"] else "WriteOnly" if read_only == ["false"] else "All"


def metric_filters(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for f in ev.metric_filters:
            for t in f.get("metricTransformations") or [{}]:
                yield {"account_id": f["rw:accountId"], "region": f["rw:region"], "log_group": f.get("logGroupName"),
                       "filter_name": f.get("filterName"), "pattern": f.get("filterPattern", ""),
                       "canonical": _canonical(f.get("filterPattern", "")),
                       "metric_namespace": t.get("metricNamespace"), "metric_name": t.get("metricName"),
                       "metric_value": t.get("metricValue"), "created": _ms(f.get("creationTime"))}
    return frame("metric_filters", _each(evidence, rows))


@lru_cache(maxsize=1024)
def _stored(text: str) -> tuple[FilterPattern | None, str]:
    """A stored filter pattern compiled once, with its canonical text (None, "" when invalid)."""
    try:
        pattern = compile_pattern(text)
    except PatternSyntaxError:
        return None, ""
    return pattern, pattern.canonical


def _canonical(text: str) -> str:
    return _stored(text)[1]


def alarms(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for alarm in map(Alarm, ev.alarms):
            a = alarm.raw
            yield {"account_id": ev.account_id, "region": alarm.region, "alarm_name": alarm.name,
                   "alarm_arn": a.get("AlarmArn"), "namespace": a.get("Namespace"), "metric_name": a.get("MetricName"),
                   "statistic": a.get("Statistic"), "period": a.get("Period"),
                   "evaluation_periods": a.get("EvaluationPeriods"), "threshold": a.get("Threshold"),
                   "comparison": a.get("ComparisonOperator"), "actions_enabled": a.get("ActionsEnabled"),
                   "sns_actions": ",".join(alarm.topics),
                   "state": a.get("StateValue")}
    return frame("alarms", _each(evidence, rows))


def subscriptions(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for s in map(Subscription, ev.subscriptions):
            yield {"account_id": ev.account_id, "region": s.region, "topic_arn": s.topic_arn, "subscription_arn": s.arn,
                   "protocol": s.protocol, "endpoint": s.endpoint, "confirmed": s.confirmed}
    return frame("subscriptions", _each(evidence, rows))


def alarm_history(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for h in ev.alarm_history:
            data = json_object(h.get("HistoryData"))
            yield {"account_id": ev.account_id, "region": h["rw:region"], "alarm_name": h.get("AlarmName"),
                   "time": h.get("Timestamp"), "item_type": h.get("HistoryItemType"),
                   "summary": h.get("HistorySummary"),
                   "old_state": (data.get("oldState") or {}).get("stateValue"),
                   "new_state": (data.get("newState") or {}).get("stateValue")}
    return frame("alarm_history", _each(evidence, rows))


def metric_datapoints(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for d in ev.datapoints:
            yield {"account_id": ev.account_id, "region": d["rw:region"], "namespace": d["rw:namespace"],
                   "metric_name": d["rw:metric"], "time": d.get("Timestamp"), "sum": d.get("Sum")}
    return frame("metric_datapoints", _each(evidence, rows))


def gaps(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    return frame("gaps", _each(evidence, lambda ev: ({**vars(g), "link": g.link.id} for g in ev.gaps)))


def api_calls(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        for c in ev.calls:
            yield {"account_id": c.account_id, "region": c.region, "service": c.service, "operation": c.operation,
                   "pages": len(c.pages), "retries": c.retries, "error_code": (c.error or {}).get("code"),
                   "seconds": c.seconds,
                   "evidence": f"raw/{c.filename}"}
    return frame("api_calls", _each(evidence, rows))


def root_events(evidence: Iterable[AccountEvidence], control: Control) -> pd.DataFrame:
    """The control's events (for 4.3: every root event), each with whether the account's filters
    and the reference count it, and why."""
    def rows(ev: AccountEvidence) -> Iterable[dict]:
        filters = [(f.get("filterName"), f.get("logGroupName"), f.get("filterPattern", "")) for f in ev.metric_filters]
        for item in ev.events:
            if item["control"] != control.id:
                continue
            e = item["event"]
            ui = e.get("userIdentity") if isinstance(e.get("userIdentity"), dict) else {}
            by = [name for name, group, text in filters if group == item["logGroup"] and _matches(text, e)]
            ref = control.reference.matches(e)
            yield {"time": e.get("eventTime"), "account_id": ev.account_id, "region": e.get("awsRegion"),
                   "event_name": e.get("eventName"), "event_source": e.get("eventSource"),
                   "source_ip": e.get("sourceIPAddress"), "user_agent": e.get("userAgent"), "mfa_used": _mfa(e),
                   "console_login": (e.get("responseElements") or {}).get("ConsoleLogin")
                   if e.get("eventName") == "ConsoleLogin" else None,
                   "invoked_by": ui.get("invokedBy"), "event_type": e.get("eventType"), "error_code": e.get("errorCode"),
                   "error_message": e.get("errorMessage"), "request_parameters": _json_text(e.get("requestParameters")),
                   "counted": bool(by), "counted_by": ",".join(by), "reference_counts": ref,
                   "why": _why(item, by, ref, control, filters, e), "event_id": e.get("eventID"), "source": item["source"]}
    df = frame("root_events", _each(evidence, rows))
    return df.sort_values("time", kind="stable", ignore_index=True)


def _why(item: dict, by: list[str], ref: bool, control: Control, filters: list, event: dict) -> str:
    if item["logGroup"] is None:
        where = "event history" if item["source"] == "lookup" else "the trail's S3 log files"
        return f"read from {where}: the trail delivers to no CloudWatch Logs group, so no filter counts it"
    if by:
        return f"counted by {', '.join(by)}"
    own = [(n, t) for n, g, t in filters if g == item["logGroup"]]
    if not own:
        return f"no metric filter on log group {item['logGroup']}"
    if not ref:
        clauses = "; ".join(failing_clauses(control.reference, event))
        return f"outside the CIS {control.id} reference ({clauses}) and not counted by any filter"
    meant = [(n, pattern) for n, t in own if (pattern := _stored(t)[0]) is not None
             and _meant_for(control.id, control.benchmark, t)]
    if not meant:
        return f"blind spot: the reference counts it but no filter on {item['logGroup']} is meant for {control.id}"
    misses = "; ".join(f"{n}: {', '.join(failing_clauses(pattern, event))}" for n, pattern in meant)
    return f"blind spot: the reference counts it but no filter does ({misses})"


@lru_cache(maxsize=1024)
def _meant_for(control_id: str, benchmark: str, text: str) -> bool:
    """Whether a filter is meant for the control (counts a subset or a superset of the reference's
    events): only its missing clauses explain a blind spot; the other controls' filters on the group,
    even those sharing some events with it, are beside the point."""
    from rootwatch.judge.pattern_coverage import MEANT_FOR, judge

    return judge(load_catalog().control(control_id, benchmark), text).relation in MEANT_FOR


def _matches(text: str, event: dict) -> bool:
    pattern = _stored(text)[0]
    return pattern is not None and pattern.matches(event)


def _mfa(event: dict) -> bool | None:
    extra = event.get("additionalEventData")
    if isinstance(extra, dict) and extra.get("MFAUsed") in ("Yes", "No"):
        return extra["MFAUsed"] == "Yes"
    attrs = ((event.get("userIdentity") or {}).get("sessionContext") or {}).get("attributes") or {}
    flag = attrs.get("mfaAuthenticated")
    return None if flag is None else flag == "true"


def _json_text(value: Any) -> str | None:
    """A record's nested object as JSON text, spaced so that a table cell can wrap it (None when absent)."""
    return None if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _ms(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value / 1000, tz=UTC)


BUILDERS: dict[str, Callable[[list[AccountEvidence]], pd.DataFrame]] = {
    "trails": trails, "event_selectors": event_selectors, "metric_filters": metric_filters, "alarms": alarms,
    "subscriptions": subscriptions, "alarm_history": alarm_history, "metric_datapoints": metric_datapoints,
    "gaps": gaps, "api_calls": api_calls,
}


def archive_matches(result: ArchiveScan) -> pd.DataFrame:
    """An archive scan's matches, one row each (``arrow.archive_rows``; ``rootwatch events`` writes the same
    rows with ``arrow.write_parquet``, without pandas)."""
    return frame("archive_events", archive_rows(result))


def build_all(evidence: list[AccountEvidence], controls: list[Control]) -> dict[str, pd.DataFrame]:
    """Every frame for a run: the link frames, plus the root events when the root-usage control
    (4.3, or 5.3 from v6.0) is among the controls."""
    out = {name: build(evidence) for name, build in BUILDERS.items()}
    root = with_role(controls, Role.ROOT_USAGE)
    out["root_events"] = root_events(evidence, root) if root else frame("root_events", [])
    out["alarm_coverage"] = alarm_coverage(out)
    out["root_credentials"] = root_credentials(evidence)
    return out


def root_credentials(evidence: Iterable[AccountEvidence]) -> pd.DataFrame:
    """The root user's row of each account's IAM credential report (see ``credentials.ROOT_USAGE``);
    an account whose report was not read has no row (its gap says why)."""
    parts = [root_usage(parse_credential_report(ev.credential_report, ev.account_id))
             for ev in evidence if ev.credential_report is not None]
    rows = [r for part in parts for r in part.to_dict("records")]
    return frame("root_credentials", rows)


def alarm_coverage(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """"The control worked": for every root event a metric filter counts, did an alarm on that
    filter's metric go to ALARM within the alarm's period × evaluation periods (plus CloudTrail's
    delivery delay) and notify its topic — or was it already in ALARM? A chain configured but broken
    (alarm disabled for a week, actions off, topic deleted) shows up here as uncovered events."""
    filters, alarms = list(frames["metric_filters"].itertuples()), list(frames["alarms"].itertuples())
    history = frames["alarm_history"].sort_values("time")
    history = history[history.time.notna()]  # an item without a time answers no event
    by_alarm = {key: _AlarmHistory.of(own) for key, own in history.groupby(["account_id", "alarm_name"], sort=False)}
    unread = _AlarmHistory.of(history.iloc[:0])
    rows = []
    for e in frames["root_events"][frames["root_events"].counted].itertuples():
        names = set(str(e.counted_by).split(","))
        metrics = {(f.metric_namespace, f.metric_name) for f in filters
                   if f.account_id == e.account_id and f.filter_name in names}
        watching = [a for a in alarms
                    if a.account_id == e.account_id and (a.namespace, a.metric_name) in metrics]
        row = {"time": e.time, "account_id": e.account_id, "region": e.region, "event_name": e.event_name,
               "event_id": e.event_id, "alarms": ",".join(a.alarm_name for a in watching), "covered": False,
               "alarm_time": None, "reason": "no alarm watches the metric of the filter that counts it"}
        reasons = []
        for a in watching:
            covered, when, reason = _alarm_answer(a, by_alarm.get((e.account_id, a.alarm_name), unread), e.time)
            reasons.append(reason)
            if covered:
                row.update(covered=True, alarm_time=when)
                reasons = [reason]
                break
        if reasons:
            row["reason"] = "; ".join(reasons)
        rows.append(row)
    return frame("alarm_coverage", rows)


@dataclass(frozen=True)
class _AlarmHistory:
    """One alarm's history, oldest first, split once into its state changes and its actions, each
    with its times as an index: every root event then finds its span of items by binary search
    instead of filtering the frame (some five filters per event were most of building the frames)."""

    update_times: pd.DatetimeIndex
    new_states: pd.Series
    action_times: pd.DatetimeIndex
    summaries: pd.Series

    @classmethod
    def of(cls, history: pd.DataFrame) -> _AlarmHistory:
        updates, actions = (history[history.item_type == kind] for kind in ("StateUpdate", "Action"))
        return cls(pd.DatetimeIndex(updates.time), updates.new_state.reset_index(drop=True),
                   pd.DatetimeIndex(actions.time), actions.summary.reset_index(drop=True))


def _alarm_answer(alarm: Any, history: _AlarmHistory, t: pd.Timestamp) -> tuple[bool, pd.Timestamp | None, str]:
    """Did ``alarm`` answer an event at ``t``: in ALARM already (and that ALARM was notified), or to
    ALARM in time and notified?"""
    times, states = history.update_times, history.new_states
    after = times.searchsorted(t, side="right")  # the state changes up to t come before
    if after and states.iloc[after - 1] == "ALARM":
        when = times[after - 1]
        went = f"{alarm.alarm_name} was already in ALARM (since {when:%Y-%m-%d %H:%M:%S})"
    else:
        deadline = t + pd.Timedelta(seconds=int(alarm.period or 300) * int(alarm.evaluation_periods or 1)) \
            + DELIVERY_ALLOWANCE
        in_time = states.iloc[after:times.searchsorted(deadline, side="right")]
        fired = in_time[in_time == "ALARM"]
        if not len(fired):
            return False, None, (f"{alarm.alarm_name} did not go to ALARM within {duration(deadline - t)} "
                                 "(period × evaluation periods + delivery)")
        when = times[fired.index[0]]
        went = f"{alarm.alarm_name} went to ALARM {(when - t).total_seconds() / 60:.0f} min later"
    notified, why = _notified(alarm, history, when)
    return notified, when, f"{went} {why}"


def _notified(alarm: Any, history: _AlarmHistory, when: pd.Timestamp) -> tuple[bool, str]:
    """Whether the transition to ALARM at ``when`` executed an action (the notification)."""
    times = history.action_times
    actions = history.summaries.iloc[times.searchsorted(when, side="left"):
                                     times.searchsorted(when + ACTION_ALLOWANCE, side="right")]
    if actions.str.startswith("Successfully executed action").any():
        return True, "and notified"
    if not pd.isna(alarm.actions_enabled) and not alarm.actions_enabled:
        return False, "but its actions are disabled: no one was notified"
    failed = actions[~actions.str.startswith("Successfully")]
    return False, f"but its action failed: {failed.iloc[0]}" if len(failed) else "but recorded no action"
