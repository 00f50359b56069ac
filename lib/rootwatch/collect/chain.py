"""Collect once, judge many: every link of the CIS chain for each account, as raw evidence.

For each account: caller identity; trails (shadow trails included) with status and event
selectors; the metric filters of each trail's log group, in the log group's region; the alarms on
each filter's metric (name + namespace) with their history and daily sums; the subscribers of
every SNS topic an alarm notifies; the default bus's EventBridge rules with their targets and the
subscribers of the SNS topics they target (monitors beside the chain, for rootwatch test RW-3); and
each control's events over the window from the log group (``FilterLogEvents``) or, without one, from
event history (``LookupEvents``). Every event the server returns is re-checked with rootwatch's own
evaluator, because a server may ignore the pattern (moto does). Each API object is kept as AWS
returned it, with ``rw:`` keys added.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3

from rootwatch.logarchive import S3Archive, scan
from rootwatch.catalog import Control
from rootwatch.collect import cloudtrail, cloudwatch, events, iam, kms, logs, sns, spread
from rootwatch.collect.changes import ChangeHistory, change_history
from rootwatch.collect.config import ConfigHistory, config_history
from rootwatch.collect.evidence import Gap, RawCall, Recorder
from rootwatch.collect.session import LOOKUP_RATE, Clients
from rootwatch.errors import ArchiveError
from rootwatch.models import Link, Role, Window
from rootwatch.params import HistoryQuery
from rootwatch.resources import Alarm, Arn, LogGroupRef, MetricFilter, Subscription, Topic, Trail, drill_id

Progress = Callable[[str, int, int], None]  # (stage, done, total)
# the events that decide rootwatch's verdicts on a metric filter's pattern (coverage's, handed in by the
# caller: the collector does not judge), sent to AWS's TestMetricFilter with a sample of the account's own
Witnesses = Callable[[str], list[dict]]
SAMPLE = 20  # of the account's own events sent with each filter's deciding events
MESSAGES = 50  # the most log events one TestMetricFilter call takes


@dataclass(frozen=True)
class Target:
    """One account to collect: a session, and optionally a role to assume from it first (the
    AssumeRole call is evidence too, and its failure a gap)."""

    label: str
    session: boto3.Session
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = "rootwatch"
    account_id: str | None = None  # when known before the first call (an organization's listing)

    @property
    def provisional_id(self) -> str:
        """What the account's evidence is filed under until GetCallerIdentity answers: its id when the
        organization's listing or the role ARN gives it, else its label (made a safe path by the recorder)."""
        arn = Arn.parse(self.role_arn)
        return self.account_id or (arn.account if arn and arn.account.isdigit() else self.label)


@dataclass
class AccountEvidence:
    label: str
    account_id: str
    caller_arn: str | None
    regions: list[str]
    window: Window
    trails: list[dict] = field(default_factory=list)
    metric_filters: list[dict] = field(default_factory=list)
    alarms: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    event_rules: list[dict] = field(default_factory=list)  # default-bus rules, each with rw:region and rw:targets
    # subscriptions of the topics only EventBridge rules target: kept apart from the chain's, whose topics
    # the remediation planner and the chain's history choose from
    rule_subscriptions: list[dict] = field(default_factory=list)
    # what decides whether a confirmed subscriber is told (simulate/delivery.py): each topic's attributes
    # (None: unreadable), each topic key's metadata and policy (by the topic's KmsMasterKeyId)
    topic_attributes: dict[str, dict | None] = field(default_factory=dict)
    topic_keys: dict[str, dict | None] = field(default_factory=dict)
    drill_records: list[dict] = field(default_factory=list)  # rootwatch drill's records found in the log group
    alarm_history: list[dict] = field(default_factory=list)
    datapoints: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    archive_scans: list[dict] = field(default_factory=list)  # what each trail-bucket scan read, skipped, matched
    credential_report: str | None = None  # IAM's CSV, when a control asks for it
    changes: ChangeHistory | None = None  # the chain's changes over the window (root-usage control only)
    config: ConfigHistory | None = None  # AWS Config's history of the chain's resources: the changes' second witness
    virtual_mfa: list[dict] | None = None  # IAM's assigned virtual MFA devices, when root hygiene is judged
    account_summary: dict | None = None  # IAM's SummaryMap (root's keys and MFA), when root hygiene is judged
    calls: list[RawCall] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)


def collect(targets: Iterable[Target], regions: list[str], window: Window, controls: list[Control],
            endpoint_url: str | None = None, progress: Progress | None = None, concurrency: int = 16,
            clients: Clients | None = None, archive: bool = False, witnesses: Witnesses | None = None,
            now: datetime | None = None, lookup_rate: float | None = LOOKUP_RATE,
            history: bool = True, root_hygiene: bool = False,
            history_source: HistoryQuery | None = None, processes: int | None = None) -> list[AccountEvidence]:
    """Collect every target on a bounded pool of threads, stage by stage: identities (one task per
    account), trails (one per account x region), then the rest of each account's chain. One account
    failing never stops the others: its failure is a gap. ``clients`` replaces the sessions' own
    clients (tests pass botocore-stubbed ones). ``archive``: read each control's events from the
    trails' S3 log files instead of the log group (windows older than the log group keeps).
    ``witnesses``: ask AWS's TestMetricFilter, for each metric filter, about the events deciding its
    verdict and a sample of the account's own events (``source: aws``: AWS's word beside the engine's).
    ``now``: the audited world's clock (the sandbox's), where event history's 90 days end; default ours.
    ``lookup_rate``: LookupEvents per second per account and region, AWS's limit by default; None for an
    endpoint that sets none (the sandbox), where pacing would only add ten seconds per account. ``history``:
    read the chain's changes over the window when the root-usage control is judged (rootwatch test RW-2);
    remediation, which judges today's chain only, spares its ten seconds per account and region.
    ``root_hygiene``: read the credential report and the virtual MFA devices whatever the controls.
    ``history_source``: read the chain's changes with one query of an Athena table or a CloudTrail Lake
    event data store per account, instead of event history or the archive. ``processes``: how many
    processes share the accounts (default: one per core for ten accounts or more, see ``spread``); stubbed
    ``clients`` keep the collection in this process."""
    say = progress or (lambda stage, done, total: None)
    targets = list(targets)
    count = spread.processes_for(len(targets), processes)
    if clients is None and count > 1:
        spread_out = spread.collect_spread(targets, count, concurrency, say, {
            "regions": regions, "window": window, "controls": controls, "endpoint_url": endpoint_url,
            "archive": archive, "witnesses": witnesses, "now": now, "lookup_rate": lookup_rate, "history": history,
            "root_hygiene": root_hygiene, "history_source": history_source})
        if spread_out is not None:
            return spread_out
    shared: dict[int, Clients] = {}
    recorders = [Recorder(clients or _clients_of(t.session, endpoint_url, lookup_rate, shared), t.provisional_id)
                 for t in targets]
    evidence: list[AccountEvidence] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        identities = _stage(pool, "identity", say, [
            partial(_identity, rec, t, regions[0], endpoint_url) for rec, t in zip(recorders, targets)])
        for rec, target, identity in zip(recorders, targets, identities):
            evidence.append(AccountEvidence(target.label, rec.account_id, identity["Arn"] if identity else None,
                                            list(regions), window))
        readable = [(rec, ev) for rec, ev in zip(recorders, evidence) if ev.caller_arn]
        listed = _stage(pool, "trails", say, [partial(_describe_trails, rec, region)
                                              for rec, _ in readable for region in regions])
        per_account = iter(listed)
        for rec, ev in readable:
            ev.trails = _merge_trails([next(per_account) for _ in regions])
        _stage(pool, "chain", say, [partial(_chain, rec, ev, controls, window, archive, witnesses, now, history,
                                            root_hygiene, history_source)
                                    for rec, ev in readable])
    for rec, ev in zip(recorders, evidence):
        ev.calls, ev.gaps = sorted(rec.calls, key=lambda c: c.seq), rec.gaps
    return evidence


def _clients_of(session: boto3.Session, endpoint_url: str | None, lookup_rate: float | None,
                shared: dict[int, Clients]) -> Clients:
    """One ``Clients`` per session, however many targets use it: an organisation's accounts all assume
    their role from the auditor's session, whose STS client is then made once, not once per account
    (a client costs ~4 ms of CPU). Targets sharing a session without a role are one account: its
    LookupEvents pace is rightly shared."""
    if id(session) not in shared:
        shared[id(session)] = Clients(session, endpoint_url, lookup_rate=lookup_rate)
    return shared[id(session)]


def collect_account(target: Target, regions: list[str], window: Window, controls: list[Control],
                    endpoint_url: str | None = None, clients: Clients | None = None,
                    now: datetime | None = None, lookup_rate: float | None = LOOKUP_RATE) -> AccountEvidence:
    """One account (a convenience over ``collect``)."""
    return collect([target], regions, window, controls, endpoint_url, concurrency=4, clients=clients, now=now,
                   lookup_rate=lookup_rate)[0]


def _stage(pool: ThreadPoolExecutor, name: str, say: Progress, tasks: list[Callable[[], Any]]) -> list[Any]:
    futures = [pool.submit(task) for task in tasks]
    say(name, 0, len(futures))
    for done, _ in enumerate(as_completed(futures), 1):
        say(name, done, len(futures))
    return [f.result() for f in futures]


def _identity(rec: Recorder, target: Target, region: str, endpoint_url: str | None) -> dict | None:
    if target.role_arn is not None and not assume(rec, target, region, endpoint_url):
        return None
    identity = rec.call(region, "sts", "GetCallerIdentity", Link.IDENTITY)
    if identity:
        rec.account_id = identity["Account"]
        for call in rec.calls:  # the first calls were made before the account id was known
            call.account_id = rec.account_id
    return identity


def assume(rec: Recorder, target: Target, region: str, endpoint_url: str | None) -> bool:
    """Switch the recorder to the target's role; False (and a gap) when AssumeRole fails."""
    params = {"RoleArn": target.role_arn, "RoleSessionName": target.session_name}
    if target.external_id:
        params["ExternalId"] = target.external_id
    response = rec.call(region, "sts", "AssumeRole", Link.IDENTITY, **params)
    if response is None:
        return False
    creds = response["Credentials"]
    rec.clients = Clients(target.session, endpoint_url, {
        "aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"]}, rec.clients.lookup_rate)
    return True


def _describe_trails(rec: Recorder, region: str) -> list[dict]:
    page = rec.call(region, "cloudtrail", "DescribeTrails", Link.TRAIL, includeShadowTrails=True)
    return [{**t, "rw:seenIn": [region]} for t in (page or {}).get("trailList", [])]


def _merge_trails(per_region: list[list[dict]]) -> list[dict]:
    """One record per trail ARN, whichever regions listed it (multi-region and shadow trails)."""
    by_arn: dict[str, dict] = {}
    for trails in per_region:
        for trail in trails:
            if trail["TrailARN"] in by_arn:
                by_arn[trail["TrailARN"]]["rw:seenIn"] += trail["rw:seenIn"]
            else:
                by_arn[trail["TrailARN"]] = trail
    return list(by_arn.values())


def _chain(rec: Recorder, ev: AccountEvidence, controls: list[Control], window: Window, archive: bool,
           witnesses: Witnesses | None, now: datetime | None, history: bool, root_hygiene: bool,
           history_source: HistoryQuery | None = None) -> None:
    report = root_hygiene or any(c.credential_report for c in controls)
    started = iam.start_credential_report(rec, ev.regions[0]) if report else None  # built while the rest is read
    cloudtrail.trail_details(rec, ev.trails)
    groups = _log_groups(ev)
    for group in groups:
        for f in logs.metric_filters(rec, group.region, group.name) or []:
            ev.metric_filters.append({**f, "rw:region": group.region, "rw:accountId": group.account_id})
    _alarms(rec, ev, window)
    if any(c.role is Role.ROOT_USAGE for c in controls):
        _event_rules(rec, ev)
    if started is not None:  # a refused start is the gap already, not asked twice
        ev.credential_report = iam.credential_report(rec, ev.regions[0], started=started)
    if root_hygiene:
        ev.virtual_mfa = iam.virtual_mfa_devices(rec, ev.regions[0])
        ev.account_summary = iam.account_summary(rec, ev.regions[0])
    for control in controls:
        if archive:
            _archive_events(rec, ev, control, window)
        else:
            _events(rec, ev, control, groups, window)
    if witnesses is not None:
        _aws_word(rec, ev, witnesses)
    if history and any(c.role is Role.ROOT_USAGE for c in controls):  # after today's state is read: changes up to now undo it
        ev.changes = change_history(rec, ev.account_id, ev.regions, ev.trails, window, now or datetime.now(UTC),
                                    archive, history_source)
        ev.config = config_history(rec, ev.account_id, ev.trails, ev.alarms, ev.subscriptions, ev.metric_filters,
                                   ev.changes.records, window, ev.changes.as_of)


def _aws_word(rec: Recorder, ev: AccountEvidence, witnesses: Witnesses) -> None:
    """Each metric filter's pattern tested by CloudWatch Logs itself (``rw:awsTest``) on the events that
    decide rootwatch's verdict on it and up to ``SAMPLE`` of the account's own events of the window:
    the judge compares AWS's answer with its engine's, event by event."""
    own = list({json.dumps(e["event"], sort_keys=True): e["event"] for e in ev.events}.values())[:SAMPLE]
    for f in ev.metric_filters:
        pattern = MetricFilter(f).pattern
        sent = list({json.dumps(e, sort_keys=True): e for e in [*witnesses(pattern), *own]}.items())[:MESSAGES]
        if pattern and sent:
            matched = logs.test_metric_filter(rec, f["rw:region"], pattern, [text for text, _ in sent])
            f["rw:awsTest"] = {"events": [event for _, event in sent], "matched": matched}


def _log_groups(ev: AccountEvidence) -> list[LogGroupRef]:
    """The log groups this account's trails deliver to in this account. A log group in another
    account (an organization trail's) is judged with that account's evidence, not read here."""
    groups = {group: None for group in (Trail(t).log_group for t in ev.trails) if group is not None}
    return [g for g in groups if g.account_id == ev.account_id]


def _alarms(rec: Recorder, ev: AccountEvidence, window: Window) -> None:
    metrics = {(f.region, *metric) for f in map(MetricFilter, ev.metric_filters) for metric in f.metrics if all(metric)}
    topics: dict[str, None] = {}
    for region, namespace, metric in sorted(metrics):
        for raw in cloudwatch.alarms_for_metric(rec, region, namespace, metric) or []:
            alarm = Alarm({**raw, "rw:region": region})
            ev.alarms.append(alarm.raw)
            for item in cloudwatch.alarm_history(rec, region, alarm.name, window) or []:
                ev.alarm_history.append({**item, "rw:region": region})
            topics.update(dict.fromkeys(alarm.topics))
        for point in cloudwatch.daily_sums(rec, region, namespace, metric, window) or []:
            ev.datapoints.append({**point, "rw:region": region, "rw:namespace": namespace, "rw:metric": metric})
    for topic in map(Topic.parse, topics):
        ev.subscriptions += _subscribers(rec, ev, topic)


def _event_rules(rec: Recorder, ev: AccountEvidence) -> None:
    """Each region's default-bus rules with their targets (``rw:targets`` None when unreadable), and the
    subscribers of every SNS topic a rule targets that the alarms' topics did not already bring."""
    read = {s["rw:topicArn"] for s in ev.subscriptions}
    topics: dict[str, None] = {}
    for region in ev.regions:
        for rule in events.rules(rec, region) or []:
            found = events.targets(rec, region, rule["Name"])
            ev.event_rules.append({**rule, "rw:region": region, "rw:targets": found})
            topics.update(dict.fromkeys(t["Arn"] for t in found or [] if Topic.parse(t.get("Arn"))))
    for topic in (Topic.parse(arn) for arn in topics if arn not in read):
        ev.rule_subscriptions += _subscribers(rec, ev, topic)


def _subscribers(rec: Recorder, ev: AccountEvidence, topic: Topic) -> list[dict]:
    """The topic's subscriptions, each confirmed one with its attributes (``rw:attributes``, None when
    unreadable), and the topic's own attributes and key into ``ev``: a confirmed subscriber is told only
    if the topic's encryption, access policy and the subscription's filter policy let the message through."""
    subs = [{**sub, "rw:topicArn": topic.arn} for sub in sns.subscriptions(rec, topic) or []]
    if not subs:
        return subs
    attributes = ev.topic_attributes[topic.arn] = sns.topic_attributes(rec, topic)
    key_id = (attributes or {}).get("KmsMasterKeyId")
    if key_id and key_id not in ev.topic_keys:
        ev.topic_keys[key_id] = kms.topic_key(rec, topic.region, key_id)
    for sub in subs:
        if Subscription(sub).confirmed:
            sub["rw:attributes"] = sns.subscription_attributes(rec, topic, sub["SubscriptionArn"])
    return subs


def _events(rec: Recorder, ev: AccountEvidence, control: Control, groups: list[LogGroupRef], window: Window) -> None:
    query = control.evidence_query
    if groups:
        for group in groups:
            for item in logs.filter_events(rec, group.region, group.name, query.text, window) or []:
                event = _decode(item["message"])
                if drill_id(event):  # rootwatch drill's marked record: set apart, never root activity
                    if control.role is Role.ROOT_USAGE:
                        ev.drill_records.append({"drillId": drill_id(event), "region": group.region,
                                                 "logGroup": group.name, "eventTime": event.get("eventTime")})
                elif event is not None and query.matches(event):
                    ev.events.append({"control": control.id, "source": "logs", "region": group.region,
                                      "logGroup": group.name, "eventId": item.get("eventId"), "event": event})
        return
    if control.lookup is None:
        rec.gaps.append(Gap(ev.account_id, ev.regions[0], Link.ROOT_EVENTS, "cloudtrail", "LookupEvents", "NoLogGroup",
                            f"no trail delivers to CloudWatch Logs and event history cannot be narrowed to "
                            f"{control.subject}", ""))
        return
    for region in ev.regions:
        for raw in cloudtrail.lookup_events(rec, region, window, [control.lookup]) or []:
            event = _decode(raw)
            if event is not None and query.matches(event):
                ev.events.append({"control": control.id, "source": "lookup", "region": region, "logGroup": None,
                                  "eventId": event.get("eventID"), "event": event})


def _archive_events(rec: Recorder, ev: AccountEvidence, control: Control, window: Window) -> None:
    """The control's events from each trail's bucket (read with the account's credentials); an
    unlistable bucket or unreadable file is a gap, never a silent hole in the events."""
    seen: set[tuple[str, str]] = set()
    for trail in map(Trail, ev.trails):
        location = (trail.bucket or "", trail.prefix or "")
        if not location[0] or location in seen:
            continue
        seen.add(location)
        region = trail.home_region or ev.regions[0]
        group = trail.log_group
        source = S3Archive(rec.clients.get("s3", region), *location)
        try:
            result = scan(source, control.evidence_query, window.start, window.end)
        except ArchiveError as exc:
            rec.gaps.append(Gap(ev.account_id, region, Link.ROOT_EVENTS, "s3", "ListObjectsV2", "ArchiveUnreadable",
                                exc.message, ""))
            continue
        if result.stats.warned:  # one gap per scan: counts and the first few files and records by name
            code = "LogFileUnreadable" if result.stats.files_unreadable else "LogRecordUnreadable"
            rec.gaps.append(Gap(ev.account_id, region, Link.ROOT_EVENTS, "s3", "GetObject", code,
                                f"{source.label}: {result.stats.warning()}", ""))
        ev.archive_scans.append({"control": control.id, "archive": source.label, **vars(result.stats)})
        for m in result.matches:
            if m.event.get("recipientAccountId", ev.account_id) == ev.account_id:
                ev.events.append({"control": control.id, "source": "archive", "region": m.event.get("awsRegion"),
                                  "logGroup": group.name if group else None,
                                  "eventId": m.event.get("eventID"), "event": m.event, "logFile": m.log_file})


def _decode(message: str) -> dict | None:
    try:
        event = json.loads(message)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
