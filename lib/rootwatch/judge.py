"""Judge each account's CIS chain for a control: one row per link, each PASS / FAIL / GAP with
its reason and the raw evidence behind it.

The chain is trail → logging → management events → log group → metric filter → alarm →
confirmed subscriber. An account may hold several trails, filters, alarms and topics: every
combination is judged and the best one reported (most links passing, then most links merely
unreadable), so a PASS is never hidden behind a broken sibling and a FAIL shows the closest miss.
A link that cannot be read is a GAP, and so is every link that depends on it: never a PASS,
never a silent FAIL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from rootwatch.catalog import Catalog, Control, load_catalog
from rootwatch.collect import AccountEvidence
from rootwatch.collect.evidence import Gap
from rootwatch.coverage import MEANT_FOR
from rootwatch.coverage import judge as judge_pattern
from rootwatch.errors import PatternSyntaxError
from rootwatch.models import CHAIN_LINKS, Anchor, Check, Coverage, Finding, Link, LinkVerdict, Status, roll_up
from rootwatch.resources import Alarm, LogGroupRef, MetricFilter, Subscription, Topic, Trail
from rootwatch.simulate import BENCHMARK_SETTINGS, Fires, fires_on_one_event

PASS, FAIL, GAP = Status.PASS, Status.FAIL, Status.GAP


def judge_account(ev: AccountEvidence, control: Control, catalog: Catalog | None = None,
                  peers: Mapping[str, AccountEvidence] | None = None) -> Finding:
    """``peers`` holds the other accounts of the run, by id: an organization trail's log group,
    filters and alarms are judged with the evidence of the account that owns the log group."""
    catalog = catalog or load_catalog()
    finding = Finding(ev.account_id, ev.label, control.id, control.benchmark, control.title, control.level, PASS, [],
                      requirements=control.requirements)
    identity_gap = next((g for g in ev.gaps if g.link is Link.IDENTITY), None)
    if identity_gap:
        finding.links = _all_gap(Link.TRAIL, f"the account could not be read: {_gap_text(identity_gap)}",
                                 identity_gap.evidence)
    else:
        chains = list(_chains(ev, control, catalog, peers or {}))
        best = max(chains, key=_rank)
        finding.links, finding.notes, finding.coverage = best.links, best.notes, best.coverage
        unlisted = [g for g in ev.gaps if g.link is Link.TRAIL]
        if unlisted and ev.trails:
            finding.links[0] = _unlisted(finding.links[0], unlisted)
        finding.anchor = _anchor(best)
        if control.caveat:
            finding.notes.append(f"caveat of the benchmark's pattern: {control.caveat}")
    finding.status = roll_up(link.status for link in finding.links)
    return finding


NOT_ENABLED = {"UnrecognizedClientException", "InvalidClientTokenId"}  # what a disabled opt-in region answers


def _unlisted(link: LinkVerdict, gaps: list[Gap]) -> LinkVerdict:
    """The first link when some regions' trails could not be listed: a trail the run never saw could
    be the one that matters, so what passed on the others becomes a gap, and a failure keeps the
    unread regions in its reason."""
    said = "; ".join(f"trails in {g.region} could not be listed: {_gap_text(g)}"
                     + (" (an opt-in region not enabled for this account? enable it or remove it from regions)"
                        if g.error_code in NOT_ENABLED else "") for g in gaps)
    evidence = link.evidence + tuple(g.evidence for g in gaps if g.evidence)
    return LinkVerdict(link.link, GAP if link.status == PASS else link.status, f"{link.reason}; but {said}",
                       link.subject, evidence)


def _anchor(chain: _Chain) -> Anchor:
    trail, group, alarm = chain.trail, chain.group, chain.alarm
    return Anchor(trail.name if trail else None, trail.home_region if trail else None, trail.bucket if trail else None,
                  group.name if group else None, group.region if group else None,
                  group.account_id if group else None, chain.filter_name, chain.metric,
                  alarm.name if alarm else None, alarm.topics if alarm else ())


RELEVANCE = {**dict.fromkeys(MEANT_FOR, 2), "overlapping": 1, "unrelated": 0}


def _rank(chain: _Chain) -> tuple[int, int, int]:
    """Which chain to report: first the metric filter's relevance to the control — it covers the
    control; it is meant for it (counts a subset or a superset of its events); it merely overlaps
    it (another control's filter on the same log group); unrelated — then the most links passing,
    then the most links merely unreadable."""
    coverage = chain.coverage
    relevance = 0 if coverage is None else 3 if coverage.covers else RELEVANCE[coverage.relation]
    return (relevance, sum(link.status == PASS for link in chain.links), sum(link.status == GAP for link in chain.links))


@dataclass
class _Chain:
    links: list[LinkVerdict]
    notes: list[str] = field(default_factory=list)
    coverage: Coverage | None = None
    trail: Trail | None = None
    group: LogGroupRef | None = None
    metric: tuple[str, str] | None = None  # (namespace, name) of the judged filter
    alarm: Alarm | None = None
    filter_name: str | None = None


def _chains(ev: AccountEvidence, control: Control, catalog: Catalog,
            peers: Mapping[str, AccountEvidence]) -> Iterator[_Chain]:
    trail_gaps = [g for g in ev.gaps if g.link is Link.TRAIL]
    if not ev.trails:
        if trail_gaps:
            yield _Chain(_all_gap(Link.TRAIL, f"trails could not be listed: {_gap_text(trail_gaps[0])}",
                                  trail_gaps[0].evidence))
        else:
            yield _Chain([LinkVerdict(Link.TRAIL, FAIL, "no CloudTrail trail in the account", "",
                                      _files(ev, "DescribeTrails")),
                          *_not_reached(Link.LOGGING, "there is no trail")])
        return
    for trail in ev.trails:
        yield from _trail_chains(ev, control, catalog, Trail(trail), peers)


def _trail_chains(ev: AccountEvidence, control: Control, catalog: Catalog, trail: Trail,
                  peers: Mapping[str, AccountEvidence]) -> Iterator[_Chain]:
    name = trail.name
    described = _files(ev, "DescribeTrails")
    group = trail.log_group
    if not trail.multi_region:
        first = LinkVerdict(Link.TRAIL, FAIL, f"trail {name} records only its home region {trail.home_region}",
                            name, described)
    elif group is None:
        first = LinkVerdict(Link.TRAIL, FAIL, f"trail {name} is multi-region but delivers to no CloudWatch Logs group",
                            name, described)
    else:
        first = LinkVerdict(Link.TRAIL, PASS, f"trail {name} is multi-region and delivers to CloudWatch Logs", name,
                            described)
    links = [first, _logging(ev, trail), _management(ev, trail)]
    if group is None:
        yield _Chain(links + _not_reached(Link.LOG_GROUP, f"trail {name} delivers to no log group"), trail=trail)
        return
    src = ev if group.account_id == ev.account_id else peers.get(group.account_id)
    if src is None or not src.caller_arn:
        why = "was not part of this run" if src is None else \
            f"could not be read: {_gap_text(next((g for g in src.gaps if g.link is Link.IDENTITY), None))}"
        reason = (f"log group {group.name} lives in account {group.account_id} (owner of organization trail "
                  f"{name}), which {why}")
        evidence = tuple(g.evidence for g in (src.gaps if src else []) if g.link is Link.IDENTITY and g.evidence)
        yield _Chain(links + [LinkVerdict(Link.LOG_GROUP, GAP, reason, group.name, evidence),
                              *_gap_after(Link.METRIC_FILTER, f"account {group.account_id} could not be read",
                                          evidence)],
                     trail=trail, group=group)
        return
    group_link, usable = _log_group(src, group)
    if src is not ev:
        group_link = LinkVerdict(group_link.link, group_link.status, f"{group_link.reason}, in account "
                                 f"{src.account_id} ({src.label}), owner of organization trail {name}",
                                 group_link.subject, group_link.evidence)
    links.append(group_link)
    if group_link.status == GAP:
        yield _Chain(links + _gap_after(Link.METRIC_FILTER, "the log group could not be read", group_link.evidence),
                     trail=trail, group=group)
        return
    if not usable:
        yield _Chain(links + _not_reached(Link.METRIC_FILTER, f"log group {group.name} does not exist"), trail=trail,
                     group=group)
        return
    filters = [f for f in map(MetricFilter, src.metric_filters) if f.on(group)]
    filter_files = _files(src, "DescribeMetricFilters", logGroupName=group.name)
    if not filters:
        reason = f"no metric filter on log group {group.name}"
        yield _Chain(links + [LinkVerdict(Link.METRIC_FILTER, FAIL, reason, group.name, filter_files),
                              *_not_reached(Link.ALARM, "there is no metric filter")], trail=trail, group=group)
        return
    for f in filters:
        link, coverage = _filter(control, catalog, f, filter_files)
        for metric in f.metrics:
            for tail in _alarm_chains(src, group, metric, f, control.example_event):
                notes = ([coverage.warning] if coverage and coverage.warning else []) + (
                    [f"{f.name}: {coverage.reason}"] if coverage and coverage.rule == "broader-quiet" else [])
                yield _Chain(links + [link] + tail.links, notes + tail.notes, coverage, trail, group, metric,
                             tail.alarm, f.name)


def _logging(ev: AccountEvidence, trail: Trail) -> LinkVerdict:
    name = trail.name
    files = _files(ev, "GetTrailStatus", Name=trail.arn)
    if trail.logging is None:
        return LinkVerdict(Link.LOGGING, GAP, f"status unreadable: {_gap_text(_gap(ev, Link.LOGGING, files))}", name,
                           files)
    if not trail.logging:
        return LinkVerdict(Link.LOGGING, FAIL, f"trail {name} is not logging (IsLogging false)", name, files)
    error = trail.delivery_error
    extra = f"; latest delivery error: {error}" if error else ""
    return LinkVerdict(Link.LOGGING, PASS, f"trail {name} is logging{extra}", name, files)


def _management(ev: AccountEvidence, trail: Trail) -> LinkVerdict:
    name = trail.name
    files = _files(ev, "GetEventSelectors", TrailName=trail.arn)
    selectors = trail.selectors
    if selectors is None:
        gap = _gap(ev, Link.MANAGEMENT_EVENTS, files)
        return LinkVerdict(Link.MANAGEMENT_EVENTS, GAP, f"event selectors unreadable: {_gap_text(gap)}", name, files)
    if selectors.basic_capturing_all() is not None:
        return LinkVerdict(Link.MANAGEMENT_EVENTS, PASS, "a basic selector includes management events, read and "
                                                         "write, no source excluded", name, files)
    advanced = selectors.advanced_capturing_all()
    if advanced is not None:
        return LinkVerdict(Link.MANAGEMENT_EVENTS, PASS,
                           f"advanced selector {advanced.get('Name', '')!r} captures all management events", name,
                           files)
    narrowed = selectors.narrowing()
    return LinkVerdict(Link.MANAGEMENT_EVENTS, FAIL, "no selector captures all management events (read and write, no "
                                                     "event source excluded)" + (f": {'; '.join(narrowed)}"
                                                                                 if narrowed else ""), name, files)


def _log_group(ev: AccountEvidence, group: LogGroupRef) -> tuple[LinkVerdict, bool]:
    """The log group is read by listing its metric filters: a gap on either link is the log group's."""
    files = _files(ev, "DescribeMetricFilters", logGroupName=group.name)
    gap = next((g for g in ev.gaps if g.link in (Link.LOG_GROUP, Link.METRIC_FILTER)
                and (group.name in g.message or g.evidence in files)), None)
    if gap and gap.error_code == "ResourceNotFoundException":
        return LinkVerdict(Link.LOG_GROUP, FAIL, f"log group {group.name} does not exist in {group.region}",
                           group.name, files), False
    if gap:
        return LinkVerdict(Link.LOG_GROUP, GAP, f"log group {group.name} could not be read: {_gap_text(gap)}",
                           group.name, files or (gap.evidence,)), False
    return LinkVerdict(Link.LOG_GROUP, PASS, f"log group {group.name} ({group.region}) is readable", group.name,
                       files), True


def _filter(control: Control, catalog: Catalog, f: MetricFilter,
            files: tuple[str, ...]) -> tuple[LinkVerdict, Coverage | None]:
    name = f.name
    try:
        coverage = judge_pattern(control, f.pattern, catalog)
    except PatternSyntaxError as exc:
        return LinkVerdict(Link.METRIC_FILTER, FAIL, f"filter {name}: {exc.reason}", name, files), None
    prefix = "covers" if coverage.covers else "does not cover"
    return LinkVerdict(Link.METRIC_FILTER, PASS if coverage.covers else FAIL,
                       f"filter {name} {prefix} CIS {control.id} ({coverage.rule}): {coverage.reason}", name,
                       files), coverage


@dataclass
class _Tail:
    links: list[LinkVerdict]
    notes: list[str] = field(default_factory=list)
    alarm: Alarm | None = None


def _alarm_chains(ev: AccountEvidence, group: LogGroupRef, metric: tuple[str, str], metric_filter: MetricFilter,
                  event: Mapping) -> Iterator[_Tail]:
    """Each alarm on the filter's metric, judged by whether one counted ``event`` brings it to ALARM
    (the alarm simulator: the filter's datapoint through the alarm's own evaluation), not by whether
    its settings equal the benchmark's: ``> 0`` or 1-of-3 fire on one event, ``>= 2`` never does."""
    namespace, name = metric
    files = _files(ev, "DescribeAlarmsForMetric", MetricName=name, Namespace=namespace)
    gap = _gap(ev, Link.ALARM, files)
    if gap:
        yield _Tail(_gap_after(Link.ALARM, f"alarms on {namespace}/{name} could not be read: {_gap_text(gap)}", files))
        return
    alarms = [a for a in map(Alarm, ev.alarms) if a.metric == metric and a.region == group.region]
    if not alarms:
        yield _Tail([LinkVerdict(Link.ALARM, FAIL, f"no alarm on metric {namespace}/{name} in {group.region}", name,
                                 files),
                     *_not_reached(Link.SUBSCRIBER, "there is no alarm")])
        return
    for alarm in alarms:
        topics, label, fired = alarm.topics, alarm.name, []
        if not alarm.actions_enabled:
            link = LinkVerdict(Link.ALARM, FAIL, f"alarm {label} has its actions disabled (ActionsEnabled false)",
                               label, files)
        elif not topics:
            link = LinkVerdict(Link.ALARM, FAIL, f"alarm {label} notifies no SNS topic", label, files)
        else:
            link, fired = _fires(alarm, metric_filter, event, f"on {namespace}/{name} ({group.region}) notifies "
                                 f"{len(topics)} SNS topic(s)", files)
        yield _Tail([link, _subscriber(ev, label, topics)], _deviations(alarm) + fired, alarm)


def _fires(alarm: Alarm, metric_filter: MetricFilter, event: Mapping, notifies: str,
           files: tuple[str, ...]) -> tuple[LinkVerdict, list[str]]:
    """The alarm link of an alarm that notifies a topic: PASS only when the simulated event reaches
    ALARM; FAIL when it cannot (the reason names the setting and shows the simulated periods); GAP
    when the simulation cannot tell (anomaly bands, metric math it does not model, ...)."""
    outcome = fires_on_one_event(metric_filter.raw, alarm.raw, event)
    label = alarm.name
    if outcome.verdict is Fires.NEVER:
        return LinkVerdict(Link.ALARM, FAIL, f"alarm {label} cannot go to ALARM on one root event: {outcome.reason}"
                           + (f" (simulated: {outcome.datapoints})" if outcome.datapoints else ""), label, files), []
    if outcome.fires is None:
        return LinkVerdict(Link.ALARM, GAP, f"whether one root event brings alarm {label} to ALARM cannot be told: "
                           f"{outcome.reason}", label, files), []
    later = [f"alarm {label} goes to ALARM {outcome.later_by:.0f} min later than the benchmark's alarm would: "
             f"{outcome.reason}"] if outcome.verdict is Fires.DIFFERENTLY and outcome.later_by else []
    return LinkVerdict(Link.ALARM, PASS, f"alarm {label} {notifies}; one root event brings it to ALARM", label,
                       files), later + list(outcome.notes)


def _subscriber(ev: AccountEvidence, alarm: str, topics: tuple[str, ...]) -> LinkVerdict:
    if not topics:
        return LinkVerdict(Link.SUBSCRIBER, FAIL, f"alarm {alarm} notifies no SNS topic, so nobody is told", alarm)
    files = tuple(f for t in topics for f in _files(ev, "ListSubscriptionsByTopic", TopicArn=t))
    subs = [s for s in map(Subscription, ev.subscriptions) if s.topic_arn in topics]
    confirmed = [s for s in subs if s.confirmed]
    if confirmed:
        who = ", ".join(sorted({f"{s.protocol}:{s.endpoint}" for s in confirmed}))
        return LinkVerdict(Link.SUBSCRIBER, PASS, f"{len(confirmed)} confirmed subscriber(s): {who}", topics[0], files)
    gaps = {t: _gap(ev, Link.SUBSCRIBER, tuple(_files(ev, "ListSubscriptionsByTopic", TopicArn=t))) for t in topics}
    missing = [t for t, g in gaps.items() if g and _absent_here(ev, t, g)]
    unreadable = next((g for t, g in gaps.items() if g and t not in missing), None)
    if unreadable:
        return LinkVerdict(Link.SUBSCRIBER, GAP, f"subscriptions could not be read: {_gap_text(unreadable)}", topics[0],
                           files)
    if missing and len(missing) == len(topics):
        return LinkVerdict(Link.SUBSCRIBER, FAIL, f"the alarm's topic(s) do not exist ({', '.join(missing)}: SNS "
                                                  "answers NotFound in the audited account), so nobody is told",
                           topics[0], files)
    if subs:
        states = ", ".join(sorted({s.arn for s in subs}))
        return LinkVerdict(Link.SUBSCRIBER, FAIL, f"no confirmed subscriber ({len(subs)} subscription(s): {states})",
                           topics[0], files)
    return LinkVerdict(Link.SUBSCRIBER, FAIL, "the alarm's topic(s) have no subscriber", topics[0], files)


def _absent_here(ev: AccountEvidence, topic: str, gap: Gap) -> bool:
    """SNS's NotFound for a topic of the audited account is a definite answer about that account (no
    topic, so no subscriber: FAIL); for another account's topic it may only mean we may not see it."""
    parsed = Topic.parse(topic)
    return gap.error_code in ("NotFound", "NotFoundException") and parsed is not None \
        and parsed.account == ev.account_id


def _deviations(alarm: Alarm) -> list[str]:
    return [f"alarm {alarm.name}: {key} is {alarm.raw.get(key)!r}, the benchmark uses {want!r}"
            for key, want in BENCHMARK_SETTINGS.items() if alarm.raw.get(key) != want]


# --- helpers ---------------------------------------------------------------------------------
def _files(ev: AccountEvidence, operation: str, **params: str) -> tuple[str, ...]:
    """The raw call files of ``operation`` whose parameters include ``params``."""
    return tuple(f"raw/{c.filename}" for c in ev.calls
                 if c.operation == operation and all(c.params.get(k) == v for k, v in params.items()))


def _gap(ev: AccountEvidence, link: Link, files: tuple[str, ...]) -> Gap | None:
    """The gap one of the calls ``files`` names left on ``link``."""
    return next((g for g in ev.gaps if g.link is link and g.evidence in files), None)


def _gap_text(gap: Gap | None) -> str:
    return "unknown error" if gap is None else f"{gap.operation} failed with {gap.error_code}: {gap.message}"


def _from(link: Link) -> tuple[Link, ...]:
    """``link`` and every link of the chain after it: the ones that depend on it."""
    return CHAIN_LINKS[CHAIN_LINKS.index(link):]


def _all_gap(start: Link, reason: str, evidence: str) -> list[LinkVerdict]:
    return [LinkVerdict(link, GAP, reason, "", (evidence,) if evidence else ()) for link in _from(start)]


def _gap_after(start: Link, reason: str, evidence: tuple[str, ...]) -> list[LinkVerdict]:
    return [LinkVerdict(link, GAP, f"not evaluated: {reason}", "", evidence) for link in _from(start)]


def _not_reached(start: Link, reason: str) -> list[LinkVerdict]:
    return [LinkVerdict(link, FAIL, f"nothing to check: {reason}") for link in _from(start)]


def judge_all(evidence: list[AccountEvidence], controls: list[Control], catalog: Catalog | None = None) -> list[Finding]:
    """One finding per account × control, in the order given; accounts see each other's evidence
    (organization trails)."""
    peers = {ev.account_id: ev for ev in evidence}
    return [judge_account(ev, control, catalog, peers) for ev in evidence for control in controls]


def judge_alarm_coverage(ev: AccountEvidence, control: Control, rows: list[dict], unseen: int = 0) -> Finding:
    """"The control worked": FAIL when a root event the account's filters count raised no alarm in
    time (each uncovered event listed in the notes), GAP when the events or the alarm history could
    not be read, PASS otherwise. ``unseen``: root events of the window the benchmark's pattern
    matches and no filter counts: with none counted, a PASS would rest on nothing examined while
    those events reached no alarm at all, so they FAIL it (the chain's filter link says why)."""
    finding = Finding(ev.account_id, ev.label, control.id, control.benchmark,
                      f"{control.title}: the alarm fired for every root event counted", control.level, PASS, [],
                      check=Check.ALARM_COVERAGE)
    alarms = {a for r in rows for a in str(r["alarms"]).split(",") if a}
    files = tuple(f"raw/{c.filename}" for c in ev.calls
                  if (c.operation == "DescribeAlarmHistory" and c.params.get("AlarmName") in alarms)
                  or (c.operation == "FilterLogEvents" and c.params.get("filterPattern") == control.evidence_query.text)
                  or (c.operation == "LookupEvents" and c.params.get("LookupAttributes") == [control.lookup]))
    unread = [g for g in ev.gaps if g.link in (Link.ALARM_HISTORY, Link.ROOT_EVENTS, Link.IDENTITY)]
    uncovered = [r for r in rows if not r["covered"]]
    if unread:
        reason = "; ".join(dict.fromkeys(_gap_text(g) for g in unread))
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, GAP, f"not evaluated: {reason}", "", files)]
    elif uncovered:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, FAIL, f"{len(uncovered)} of {len(rows)} counted root "
                                                                "event(s) raised no alarm in time", "", files)]
    elif not rows and unseen:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, FAIL, f"{unseen} root event(s) of the window match CIS "
                                     f"{control.id} and no metric filter counted any of them: no alarm could have "
                                     "seen them (nothing was counted, so nothing could be covered)", "", files)]
    else:
        finding.links = [LinkVerdict(Link.ALARM_COVERAGE, PASS,
                                     f"all {len(rows)} counted root event(s) raised an alarm in time" if rows else
                                     "no counted root event in the window: none was missed", "", files)]
    finding.notes = [f"uncovered: {r['time']} {r['event_name']} (eventID {r['event_id']}): {r['reason']}"
                     for r in uncovered]
    finding.status = roll_up(link.status for link in finding.links)
    finding.remediation_notes = COVERAGE_ADVICE.get(finding.status, [])
    return finding


# What to investigate when rootwatch's alarm-coverage test does not pass: a chain that is right today
# says nothing about the day the event came, and no command fixes the past.
COVERAGE_ADVICE = {
    FAIL: ["for each uncovered event, read the alarm's history around its time (aws cloudwatch "
           "describe-alarm-history --alarm-name NAME --start-date ... --end-date ...): was the alarm missing, "
           "already in ALARM, its actions disabled, or its action failing then?",
           "look in CloudTrail for changes to the chain around those times (PutMetricAlarm, DeleteAlarms, "
           "DisableAlarmActions, PutMetricFilter, DeleteMetricFilter, StopLogging, Unsubscribe) and who made them",
           "confirm with the subscribers whether the notifications for the caught events arrived"],
    GAP: ["let the audit role read what this test needs (cloudwatch:DescribeAlarmHistory and logs:FilterLogEvents "
          "or cloudtrail:LookupEvents; policies/audit.json) and run again"],
}
