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

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta

from rootwatch.answers import answer
from rootwatch.catalog import Catalog, Control, load_catalog
from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.evidence import Gap
from rootwatch.simulate.delivery import Delivery, Publisher, subscriber_receives, topic_delivery
from rootwatch.judge.pattern_coverage import MEANT_FOR
from rootwatch.judge.pattern_coverage import judge as judge_pattern
from rootwatch.collect.changes import NAMES as CHANGE_NAMES
from rootwatch.errors import PatternSyntaxError
from rootwatch.eventbridge import Outcome, Verdict, judge_root_monitor
from rootwatch.eventbridge.witnesses import BASES as WITNESS_BASES
from rootwatch.history import (CHAIN, NOT_CONFIG, FAIL as BROKEN, Break, Kind, Operation, RootEvent, Snapshot, Witness,
                               config_items, operation, parse_changes, reconstruct, today, witness)
from rootwatch.models import CHAIN_LINKS, Anchor, Check, Coverage, Finding, Link, LinkVerdict, Role, Status, roll_up
from rootwatch.patterns import compile_pattern
from rootwatch.resources import Alarm, Arn, LogGroupRef, MetricFilter, Subscription, Topic, Trail
from rootwatch.simulate import BENCHMARK_SETTINGS, Fires, fires_on_one_event
from rootwatch.words import plural

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
        finding.links = _all_gap(Link.TRAIL, f"the account could not be read: {gap_text(identity_gap)}",
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
        drills = ev.drill_records if control.role is Role.ROOT_USAGE else []
        if drills:
            finding.notes.append(f"{len(drills)} rootwatch drill record(s) in the log group set apart, not root "
                                 f"activity: {', '.join(sorted({d['drillId'] for d in drills}))}")
    finding.status = roll_up(link.status for link in finding.links)
    return finding


def _unlisted(link: LinkVerdict, gaps: list[Gap]) -> LinkVerdict:
    """The first link when some regions' trails could not be listed: a trail the run never saw could
    be the one that matters, so what passed on the others becomes a gap, and a failure keeps the
    unread regions in its reason."""
    said = "; ".join(f"trails in {g.region} could not be listed: {_unlisted_because(g)}" for g in gaps)
    evidence = link.evidence + tuple(g.evidence for g in gaps if g.evidence)
    return LinkVerdict(link.link, GAP if link.status == PASS else link.status, f"{link.reason}; but {said}",
                       link.subject, evidence)


def _unlisted_because(gap: Gap) -> str:
    """Why trails could not be listed. Listing has no definite "no" (an account without trails lists
    none), so whatever the error, the link is unread."""
    return f"{gap_text(gap)} ({answer(Link.TRAIL, gap.error_code).meaning})"


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
            gap = trail_gaps[0]
            yield _Chain(_all_gap(Link.TRAIL, f"trails could not be listed: {_unlisted_because(gap)}", gap.evidence))
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
            f"could not be read: {gap_text(next((g for g in src.gaps if g.link is Link.IDENTITY), None))}"
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
    own = [e["event"] for e in ev.events if e["control"] == control.id]  # the deciding event is one when it can be
    filter_files = _files(src, "DescribeMetricFilters", logGroupName=group.name)
    if not filters:
        reason = f"no metric filter on log group {group.name}"
        yield _Chain(links + [LinkVerdict(Link.METRIC_FILTER, FAIL, reason, group.name, filter_files),
                              *_not_reached(Link.ALARM, "there is no metric filter")], trail=trail, group=group)
        return
    for f in filters:
        link, coverage, said = _aws_word(src, f, *_filter(control, catalog, f, filter_files, own))
        for metric in f.metrics:
            for tail in _alarm_chains(src, group, metric, f, control.example_event):
                notes = ([coverage.warning] if coverage and coverage.warning else []) + (
                    [f"{f.name}: {coverage.reason}"] if coverage and coverage.rule == "broader-quiet" else []) + said
                yield _Chain(links + [link] + tail.links, notes + tail.notes, coverage, trail, group, metric,
                             tail.alarm, f.name)


def _logging(ev: AccountEvidence, trail: Trail) -> LinkVerdict:
    name = trail.name
    files = _files(ev, "GetTrailStatus", Name=trail.arn)
    if trail.logging is None:
        return _answered(ev, Link.LOGGING, _gap(ev, Link.LOGGING, files), _owner(trail.arn), name, f"trail {name}",
                         files, "status unreadable")
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
        return _answered(ev, Link.MANAGEMENT_EVENTS, _gap(ev, Link.MANAGEMENT_EVENTS, files), _owner(trail.arn),
                         name, f"trail {name}", files, "event selectors unreadable")
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
    if gap:
        return _answered(ev, Link.LOG_GROUP, gap, group.account_id, group.name,
                         f"log group {group.name} ({group.region})", files or (gap.evidence,),
                         f"log group {group.name} could not be read"), False
    return LinkVerdict(Link.LOG_GROUP, PASS, f"log group {group.name} ({group.region}) is readable", group.name,
                       files), True


def _filter(control: Control, catalog: Catalog, f: MetricFilter, files: tuple[str, ...],
            own: list[dict]) -> tuple[LinkVerdict, Coverage | None]:
    name = f.name
    try:
        coverage = judge_pattern(control, f.pattern, catalog, seen=own)
    except PatternSyntaxError as exc:
        return LinkVerdict(Link.METRIC_FILTER, FAIL, f"filter {name}: {exc.reason}", name, files), None
    prefix = "covers" if coverage.covers else "does not cover"
    return LinkVerdict(Link.METRIC_FILTER, PASS if coverage.covers else FAIL,
                       f"filter {name} {prefix} CIS {control.id} ({coverage.rule}): {coverage.reason}", name,
                       files), coverage


def _aws_word(ev: AccountEvidence, f: MetricFilter, link: LinkVerdict,
              coverage: Coverage | None) -> tuple[LinkVerdict, Coverage | None, list[str]]:
    """The filter's verdict beside AWS's own word on its pattern (TestMetricFilter, asked with
    ``source: aws``): the verdict rests on the engine's reading of events, so when AWS reads any event
    sent otherwise — or accepts a pattern the engine calls invalid — the link is GAP, naming the event;
    never resolved either way. A test that could not be made leaves the engine's verdict, said in a note."""
    test = f.aws_test
    if test is None:
        return link, coverage, []
    files = _files(ev, "TestMetricFilter", filterPattern=f.pattern)
    if test["matched"] is None:
        return link, coverage, [f"filter {f.name}: AWS's own test of its pattern could not be made "
                                f"({gap_text(_gap(ev, Link.FILTER_TEST, files))}): the verdict rests on rootwatch's "
                                "engine alone"]
    evidence = link.evidence + files
    if coverage is None:  # the engine refused the pattern, and AWS evaluated it
        return LinkVerdict(Link.METRIC_FILTER, GAP, f"the engine and AWS disagree on filter {f.name}'s pattern: "
                           f"rootwatch's engine calls it invalid ({link.reason}), AWS's TestMetricFilter evaluated it",
                           link.subject, evidence), coverage, []
    matches = compile_pattern(f.pattern).matches
    for i, event in enumerate(test["events"]):
        engine, aws = matches(event), i in test["matched"]
        if engine != aws:
            return LinkVerdict(Link.METRIC_FILTER, GAP, f"the engine and AWS disagree on event "
                               f"{_event_label(event)}: rootwatch's engine says filter {f.name} "
                               f"{'counts' if engine else 'does not count'} it, "
                               f"AWS's TestMetricFilter says it {'does' if aws else 'does not'}; without AWS's "
                               f"agreement the verdict ({link.status}: {link.reason}) is not proven",
                               link.subject, evidence), coverage, []
    return (LinkVerdict(link.link, link.status, link.reason, link.subject, evidence), coverage,
            [f"filter {f.name}: AWS's TestMetricFilter agrees with the engine on all {len(test['events'])} "
             "event(s) sent (the events deciding the verdict and the account's own)"])


def _event_label(event: Mapping) -> str:
    """An event as a reason names it: what happened, where, which record (values JSON-quoted: an
    event's text is whoever called AWS's)."""
    return (f"{json.dumps(event.get('eventName'))} from {json.dumps(event.get('eventSource'))} "
            f"(eventID {json.dumps(event.get('eventID'))}, {json.dumps(event.get('eventTime'))})")


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
        link = _answered(ev, Link.ALARM, gap, ev.account_id, name, f"alarms on {namespace}/{name}", files,
                         f"alarms on {namespace}/{name} could not be read")
        yield _Tail([link, *(_gap_after(Link.SUBSCRIBER, "the alarms could not be read", files) if link.status == GAP
                             else _not_reached(Link.SUBSCRIBER, link.reason))])
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
        yield _Tail([link, _subscriber(ev, label, topics, alarm.raw.get("AlarmArn", ""))], _deviations(alarm) + fired,
                    alarm)


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


def _subscriber(ev: AccountEvidence, alarm: str, topics: tuple[str, ...], source: str,
                publisher: Publisher = Publisher.CLOUDWATCH) -> LinkVerdict:
    """PASS when a confirmed subscriber of one of ``topics`` is told: ``publisher`` may publish to its topic
    (encryption, access policy) for ``source`` (the alarm's or rule's ARN) and its filter policy lets the
    message through (simulate/delivery.py)."""
    if not topics:
        return LinkVerdict(Link.SUBSCRIBER, FAIL, f"alarm {alarm} notifies no SNS topic, so nobody is told", alarm)
    files = tuple(f for t in topics for f in _files(ev, "ListSubscriptionsByTopic", TopicArn=t))
    subs = [s for s in map(Subscription, ev.subscriptions) if s.topic_arn in topics]
    confirmed = [s for s in subs if s.confirmed]
    if confirmed:
        told, withheld, read = _told(ev, confirmed, publisher, source)
        if told:
            who = ", ".join(sorted({f"{s.protocol}:{s.endpoint}" for s in told}))
            return LinkVerdict(Link.SUBSCRIBER, PASS, f"{len(told)} confirmed subscriber(s), nothing in the topic's "
                               f"key, policy or filter policy stopping delivery: {who}",
                               told[0].topic_arn, files + read)  # the topic that has them, not merely the first one
        status = GAP if any(d.status is GAP for d in withheld.values()) else FAIL
        reasons = "; ".join(f"{who}: {d.reason}" for who, d in withheld.items())
        return LinkVerdict(Link.SUBSCRIBER, status, f"no confirmed subscriber can be delivered to ({reasons})",
                           confirmed[0].topic_arn, files + read)
    gaps = {t: _gap(ev, Link.SUBSCRIBER, _files(ev, "ListSubscriptionsByTopic", TopicArn=t)) for t in topics}
    answered = [_answered(ev, Link.SUBSCRIBER, g, _owner(t), t, f"topic {t}", files,
                          f"subscriptions of {t} could not be read") for t, g in gaps.items() if g]
    unreadable = next((a for a in answered if a.status == GAP), None)
    if unreadable:
        return LinkVerdict(Link.SUBSCRIBER, GAP, unreadable.reason, topics[0], files)
    if answered and len(answered) == len(topics):  # every topic answered a definite no
        return LinkVerdict(Link.SUBSCRIBER, FAIL, "; ".join(a.reason for a in answered), topics[0], files)
    if subs:
        states = ", ".join(sorted({s.arn for s in subs}))
        return LinkVerdict(Link.SUBSCRIBER, FAIL, f"no confirmed subscriber ({len(subs)} subscription(s): {states})",
                           topics[0], files)
    return LinkVerdict(Link.SUBSCRIBER, FAIL, "the alarm's topic(s) have no subscriber", topics[0], files)


def _told(ev: AccountEvidence, confirmed: list[Subscription], publisher: Publisher,
          source: str) -> tuple[list[Subscription], dict[str, Delivery], tuple[str, ...]]:
    """The confirmed subscribers a message reaches, why each other one is not reached (by topic when the
    topic withholds it), and the files that tell."""
    told, withheld, read = [], {}, []
    for topic in dict.fromkeys(s.topic_arn for s in confirmed):
        attributes = ev.topic_attributes.get(topic)
        key_id = (attributes or {}).get("KmsMasterKeyId")
        key = ev.topic_keys.get(key_id) if key_id else None
        files = _files(ev, "GetTopicAttributes", TopicArn=topic) + (
            _files(ev, "DescribeKey", KeyId=key_id) + _files(ev, "GetKeyPolicy", KeyId=(key or {}).get("KeyId", key_id))
            if key_id else ())
        read += files
        delivery = topic_delivery(topic, attributes, key, publisher, source, ev.account_id)
        if delivery.status is not PASS:
            withheld[f"topic {topic}"] = _unread(ev, delivery, files)
            continue
        for sub in (s for s in confirmed if s.topic_arn == topic):
            files = _files(ev, "GetSubscriptionAttributes", SubscriptionArn=sub.arn)
            read += files
            receives = subscriber_receives(sub.raw.get("rw:attributes"))
            if receives.status is PASS:
                told.append(sub)
            else:
                withheld[f"{sub.protocol}:{sub.endpoint}"] = _unread(ev, receives, files)
    return told, withheld, tuple(dict.fromkeys(read))


def _unread(ev: AccountEvidence, delivery: Delivery, files: tuple[str, ...]) -> Delivery:
    """A GAP's reason with the error of the call that left it, when one did."""
    gap = _gap(ev, Link.SUBSCRIBER, files)
    return replace(delivery, reason=f"{delivery.reason}: {gap_text(gap)}") if gap and delivery.status is GAP \
        else delivery


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


def _owner(arn: str) -> str:
    """The account an ARN names ("" when it is none)."""
    parsed = Arn.parse(arn)
    return parsed.account if parsed else ""


def _answered(ev: AccountEvidence, link: Link, gap: Gap | None, owner: str, subject: str, what: str,
              files: tuple[str, ...], unread: str) -> LinkVerdict:
    """The link a failed call leaves, as rootwatch.answers says: FAIL when the error is a definite answer
    about the audited account (``owner`` is the account of the resource asked about), else GAP."""
    said = answer(link, gap.error_code, own=owner == ev.account_id) if gap else None
    if gap is not None and said is not None and said.status == FAIL:
        return LinkVerdict(link, FAIL, f"{what}: {said.meaning} ({gap.operation} answered {gap.error_code} in "
                                       f"{gap.region})", subject, files)
    return LinkVerdict(link, GAP, f"{unread}: {gap_text(gap)}" + (f" ({said.meaning})" if said else ""), subject,
                       files)


def gap_text(gap: Gap | None) -> str:
    return "unknown error" if gap is None else gap.text


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


# --- other monitors (issue 20): an EventBridge rule on root use, beside the benchmark's chain ------
def judge_alternative_monitor(ev: AccountEvidence, control: Control) -> Finding | None:
    """rootwatch's test "an EventBridge rule tells a confirmed subscriber of every root use": PASS when
    in every audited region (root's calls reach only their own region's bus) an enabled default-bus
    rule's pattern covers root use (judged by meaning) and an SNS topic it targets has a confirmed
    subscriber. A region fails when none of its rules does, each rule's reason in its own link (a
    narrower rule with the root event it misses), and is a GAP when none passes and one could not be
    read or judged (it could have been the one that passed). None when the account has no rule that
    matches any root use: there is no alternative monitor to record. The CIS verdict is the chain
    finding's, untouched: the benchmark names metric filters and alarms."""
    finding = Finding(ev.account_id, ev.label, control.id, control.benchmark,
                      f"{control.title}: an alternative monitor (EventBridge rule) tells a confirmed subscriber",
                      control.level, GAP, [], check=Check.ALTERNATIVE)
    unread = [g for g in ev.gaps if g.link is Link.IDENTITY
              or (g.link is Link.ALTERNATIVE_MONITOR and g.operation == "ListRules")]
    if unread or not ev.caller_arn:
        reason = "; ".join(dict.fromkeys(gap_text(g) for g in unread)) or "the account could not be read"
        finding.links = [LinkVerdict(Link.ALTERNATIVE_MONITOR, GAP, f"not evaluated: {reason}", "",
                                     _files(ev, "ListRules"))]
        return finding
    judged: dict[str, list[tuple[LinkVerdict, list[str]]]] = {region: [] for region in ev.regions}
    for rule in ev.event_rules:
        if not rule.get("EventPattern"):  # a scheduled rule watches no event
            continue
        verdict = judge_root_monitor(rule["EventPattern"], ev.account_id, rule["rw:region"])
        if verdict.outcome is not Outcome.NO:
            judged[rule["rw:region"]].append(_rule_monitor(ev, rule, verdict))
    if not any(judged.values()):
        return None
    regions = []  # each region needs its own monitor; within one, any rule may be it
    for region, rules in judged.items():
        if not rules:
            rules = [(LinkVerdict(Link.ALTERNATIVE_MONITOR, FAIL, f"no EventBridge rule in {region} watches root use: "
                                  f"root's calls in {region} reach only that region's bus", "",
                                  _files(ev, "ListRules")), [])]
        passing = [(link, notes) for link, notes in rules if link.status is PASS]
        for link, notes in passing or rules:  # a region with a monitor shows it; one without shows why not
            finding.links.append(link)
            finding.notes += notes
        statuses = {link.status for link, _ in rules}
        regions.append(PASS if PASS in statuses else GAP if GAP in statuses else FAIL)
    finding.status = roll_up(regions)
    finding.remediation_notes = ALTERNATIVE_ADVICE.get(finding.status, [])
    return finding


def _rule_monitor(ev: AccountEvidence, rule: dict, verdict: Verdict) -> tuple[LinkVerdict, list[str]]:
    """One rule as a monitor of root use: its pattern's verdict, its state, its SNS targets' subscribers."""
    name, region = rule["Name"], rule["rw:region"]
    subject = f"rule {json.dumps(name)} ({region})"
    files = _files(ev, "ListTargetsByRule", Rule=name)
    if verdict.outcome is Outcome.CANNOT_JUDGE:
        return LinkVerdict(Link.ALTERNATIVE_MONITOR, GAP, f"{subject}: pattern not judged: {verdict.reason}",
                           name, files), []
    if rule.get("State") not in RULE_DELIVERS:
        return LinkVerdict(Link.ALTERNATIVE_MONITOR, FAIL, f"{subject} is {rule.get('State') or 'not enabled'}: "
                           "it delivers nothing", name, files), []
    if rule["rw:targets"] is None:
        gap = _gap(ev, Link.ALTERNATIVE_MONITOR, files)
        return LinkVerdict(Link.ALTERNATIVE_MONITOR, GAP, f"{subject}: targets could not be read: {gap_text(gap)}",
                           name, files), []
    topics = tuple(t["Arn"] for t in rule["rw:targets"] if Topic.parse(t.get("Arn")))
    if not topics:
        return LinkVerdict(Link.ALTERNATIVE_MONITOR, FAIL, f"{subject} targets no SNS topic, so nobody is told",
                           name, files), []
    told = _subscriber(replace(ev, subscriptions=ev.subscriptions + ev.rule_subscriptions), subject, topics,
                       rule.get("Arn", ""), Publisher.EVENTBRIDGE)
    if told.status is not PASS:
        return LinkVerdict(Link.ALTERNATIVE_MONITOR, told.status, f"{subject} → {', '.join(topics)}: {told.reason}",
                           name, files + told.evidence), []
    found = f"{subject} → topic {told.subject} (confirmed subscriber: {told.reason})"
    if verdict.outcome is Outcome.COVERS and rule["State"] != ALL_MANAGEMENT_EVENTS:
        verdict = replace(verdict, outcome=Outcome.NARROWER, missed=_read_only_root_call(region))
    if verdict.outcome is Outcome.NARROWER:
        missed = verdict.missed or {}
        return (LinkVerdict(Link.ALTERNATIVE_MONITOR, FAIL, f"narrower alternative monitor: {found}; it misses root "
                            f"use such as {_event_label(missed.get('detail', missed))}", name, files + told.evidence),
                [f"{subject} does not match this root event: {json.dumps(missed, sort_keys=True)}"])
    return LinkVerdict(Link.ALTERNATIVE_MONITOR, PASS, f"alternative monitor found: {found}", name,
                       files + told.evidence), []


ALL_MANAGEMENT_EVENTS = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"  # read-only calls reach only such rules
RULE_DELIVERS = ("ENABLED", ALL_MANAGEMENT_EVENTS)


def _read_only_root_call(region: str) -> dict:
    """Root's read-only call on the rule's own bus: the root use a plainly ENABLED rule never receives,
    whatever its pattern (EventBridge hands read-only management events only to rules that ask)."""
    event = copy.deepcopy(next(b.event for b in WITNESS_BASES if b.event.get("detail", {}).get("readOnly")))
    event["region"] = event["detail"]["awsRegion"] = region
    return event


ALTERNATIVE_ADVICE = {
    FAIL: ["an EventBridge rule that watches root use tells nobody of every root use: widen its pattern to "
           "{\"detail\": {\"userIdentity\": {\"type\": [\"Root\"]}}}, enable it, and target an SNS topic with a "
           "confirmed subscriber; set its state to ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS so root's read-only "
           "calls reach it too",
           "the CIS verdict is unchanged either way: the benchmark asks for a metric filter and an alarm"],
    GAP: ["let the audit role read EventBridge rules and their targets (events:ListRules, events:ListTargetsByRule; "
          "policies/audit.json) and run again"],
}


# --- the chain over the window (issue 19): each past configuration judged by this same judge ------
LINK_OF_KIND = {Kind.TRAIL: Link.TRAIL, Kind.TRAIL_STATUS: Link.LOGGING, Kind.TRAIL_SELECTORS: Link.MANAGEMENT_EVENTS,
                Kind.LOG_GROUP: Link.LOG_GROUP, Kind.METRIC_FILTER: Link.METRIC_FILTER, Kind.ALARM: Link.ALARM,
                Kind.TOPIC: Link.SUBSCRIBER, Kind.SUBSCRIPTION: Link.SUBSCRIBER}


HISTORY_NEEDS = (Link.CHAIN_CHANGES, *CHAIN_LINKS)  # the changes, and today's state of every link


def history_judge(ev: AccountEvidence, control: Control, catalog: Catalog | None = None,
                  peers: Mapping[str, AccountEvidence] | None = None) -> Callable[[Snapshot], dict[str, Status]]:
    """The judge of today as a judge of any past configuration: the snapshot becomes the account's
    evidence as collection would have read it then, and ``judge_account`` decides. A resource the
    history cannot tell makes its link (and every link after it that did not pass) a GAP: the
    unknown one could have been the one that passed."""
    catalog = catalog or load_catalog()

    def judge(snapshot: Snapshot) -> dict[str, Status]:
        past = _as_then(ev, snapshot)
        finding = judge_account(past, control, catalog, {**(peers or {}), ev.account_id: past})
        verdicts = {v.link: v.status for v in finding.links}
        unknown = {LINK_OF_KIND[kind] for kind, _ in snapshot.unknown}
        first = next((link for link in CHAIN_LINKS if link in unknown and verdicts.get(link) != PASS), None)
        if first is not None:
            verdicts.update({link: GAP for link in _from(first) if verdicts.get(link) != PASS})
        return {link.id: status for link, status in verdicts.items()}

    return judge


def _as_then(ev: AccountEvidence, snapshot: Snapshot) -> AccountEvidence:
    """The evidence as it would have been read over the snapshot's interval. No call was made then,
    so there are no call files; a log group a trail delivered to is known to have existed, not to,
    or neither (what collection says with a found, a not-found or an unreadable log group)."""
    then = snapshot.as_collected()
    groups = {(r.get("rw:region"), r.get("logGroupName")) for r in snapshot.of(Kind.LOG_GROUP)}
    unknown = snapshot.unknown_of(Kind.LOG_GROUP)
    gaps = []
    for group in {g for g in (Trail(t).log_group for t in then["trails"]) if g and g.account_id == ev.account_id}:
        why = unknown.get(f"{group.region}:{group.name}")
        if why is not None:
            gaps.append(Gap(ev.account_id, group.region, Link.LOG_GROUP, "logs", "history", "Unknown",
                            f"log group {group.name}: {why}", ""))
        elif (group.region, group.name) not in groups:
            gaps.append(Gap(ev.account_id, group.region, Link.LOG_GROUP, "logs", "history",
                            "ResourceNotFoundException", f"log group {group.name} did not exist then", ""))
    # delivery settings (a topic's encryption and policy, a subscription's filter policy) are read today
    # only: SetTopicAttributes and SetSubscriptionAttributes are not among the changes the history reads,
    # so the past is judged with today's settings, and a subscription gone today with none
    subscriptions = [{"rw:attributes": {}, **s, "rw:topicArn": s.get("rw:topicArn") or s.get("TopicArn")}
                     for s in then["subscriptions"]]
    return replace(ev, trails=then["trails"], metric_filters=then["metric_filters"], alarms=then["alarms"],
                   subscriptions=subscriptions, calls=[], gaps=gaps)


def chain_operation(ev: AccountEvidence, control: Control, catalog: Catalog | None = None,
                    peers: Mapping[str, AccountEvidence] | None = None) -> Operation | None:
    """The chain over the window: None when its changes, or today's state it is rebuilt from, could
    not be read (undoing the changes from an unknown today gives no known past)."""
    history = ev.changes
    if history is None or not ev.caller_arn or any(g.link in HISTORY_NEEDS for g in ev.gaps):
        return None
    state = today(ev.trails, ev.metric_filters, ev.alarms, ev.subscriptions)
    intervals = reconstruct(state, parse_changes(history.records), ev.window, history.as_of, history.coverage)
    roots = [r for r in (RootEvent.from_record(e["event"]) for e in ev.events
                         if e["control"] == control.id and control.reference.matches(e["event"])) if r is not None]
    op = operation(intervals, history_judge(ev, control, catalog, peers), ev.window, roots)
    if ev.config is None:
        return op
    return replace(op, witness=witness(intervals, config_items(ev.config.items), ev.config.unread))


def judge_operation(ev: AccountEvidence, control: Control, op: Operation | None, allowed: timedelta) -> Finding:
    """rootwatch's test "the chain operated throughout the window": FAIL when a root event the
    benchmark's pattern counts fell while the chain was broken (no alarm could have told anyone), or
    when the chain was broken longer than ``allowed`` in all; GAP when the chain's history (or part
    of the window) could not be read; PASS when every link held all along. Today's CIS verdict is
    the chain finding's, untouched."""
    finding = Finding(ev.account_id, ev.label, control.id, control.benchmark,
                      f"{control.title}: the chain operated throughout the window", control.level, PASS, [],
                      check=Check.OPERATION)
    files = tuple(f"raw/{c.filename}" for c in ev.calls if c.operation == "LookupEvents"
                  and (c.params.get("LookupAttributes") or [{}])[0].get("AttributeValue") in CHANGE_NAMES)
    if op is None:
        unread = [g for g in ev.gaps if g.link in HISTORY_NEEDS or g.link is Link.IDENTITY]
        reason = "; ".join(dict.fromkeys(gap_text(g) for g in unread)) or "the chain's changes were not collected"
        finding.links = [LinkVerdict(Link.CHAIN_OPERATION, GAP, f"not evaluated: {reason}", "", files)]
        finding.status = GAP
        finding.remediation_notes = OPERATION_ADVICE[GAP]
        return finding
    chain = op.chain
    missed = [r for r in op.root_events if r.brk.status == BROKEN]
    broken = chain.broken_for
    if missed:
        status, reason = FAIL, f"root events fell while the chain was broken: {op.summary()}"
    elif broken > allowed:
        status, reason = FAIL, f"the chain was broken for {_span(broken)} (allowed: {_span(allowed)}); {op.summary()}"
    elif chain.unknown:
        status, reason = GAP, f"part of the window could not be judged; {op.summary()}"
    elif broken:  # within the allowance: a PASS, but never "every link held"
        status, reason = PASS, (f"the chain was broken for {_span(broken)} (allowed: {_span(allowed)}) and no root "
                                f"event fell while it was; {op.summary()}")
    else:
        status, reason = PASS, f"every link held throughout the window; {op.summary()}"
    if op.witness is not None and op.witness.disagreements and status is PASS:
        status, reason = GAP, f"AWS Config's history disagrees with CloudTrail's events; {reason}"
    finding.links = [LinkVerdict(Link.CHAIN_OPERATION, status, reason, "", files)]
    if op.witness is not None:
        finding.links.append(_witness_verdict(ev, op.witness))
    finding.notes = [_missed_text(b, [r.event for r in missed if r.brk == b]) for b in chain.failed
                     if any(r.brk == b for r in missed)]
    finding.notes += [f"{Link(link).title if link != CHAIN else 'chain'}: {_break_text(b)}"
                      for link, lo in op.links.items() if link != CHAIN for b in lo.failed]
    finding.notes += [f"not judged {b.start:%Y-%m-%d %H:%M} – {b.end:%Y-%m-%d %H:%M} UTC: "
                      f"{b.reason or 'the configuration then is not fully known'}"
                      for b in chain.breaks if b.status == GAP]
    finding.notes += [f"AWS Config disagrees: {d}" for d in (op.witness.disagreements if op.witness else ())]
    if ev.changes is not None and ev.changes.sql:  # no call file holds a query's rows: its SQL is the evidence
        finding.notes.append(f"the chain's changes were read with one query of {ev.changes.source}: {ev.changes.sql}")
    finding.status = status
    finding.remediation_notes = OPERATION_ADVICE.get(status, [])
    return finding


def _witness_verdict(ev: AccountEvidence, seen: Witness) -> LinkVerdict:
    """AWS Config's word beside CloudTrail's: PASS only when read whole and agreeing; a GAP (with the
    disagreements or what was not read) otherwise. It never decides the operating test by itself."""
    files = tuple(f"raw/{c.filename}" for c in ev.calls if c.service == "config")
    words = [f"{len(seen.disagreements)} disagreement(s): " + "; ".join(map(str, seen.disagreements[:5]))
             + (f" (and {len(seen.disagreements) - 5} more)" if len(seen.disagreements) > 5 else "")
             ] if seen.disagreements else []
    words += [f"not read: {why}" for why in seen.unread]
    if seen.agrees:
        words = [f"{seen.compared} configuration item(s) agree with the reconstruction"]
    return LinkVerdict(Link.CONFIG_HISTORY, PASS if seen.agrees else GAP, f"{'; '.join(words)} ({NOT_CONFIG})", "",
                       files)


def _break_text(b: Break) -> str:
    broke = f"broken by {'; '.join(map(str, b.broken_by))}" if b.broken_by else "already broken when the window began"
    fixed = f"fixed by {'; '.join(map(str, b.fixed_by))}" if b.fixed_by else "not fixed within the window"
    return f"broken {b.start:%Y-%m-%d %H:%M} – {b.end:%Y-%m-%d %H:%M} UTC ({_span(b.duration)}), {broke}, {fixed}"


def _missed_text(b: Break, events: list[RootEvent]) -> str:
    """One note per break, its root events listed after it: the break is said once however many
    events fell in it (each event is still named: it is evidence), not repeated per event."""
    said = ", ".join(f"{e.time:%Y-%m-%d %H:%M:%S} UTC ({f'event {e.event_id}' if e.event_id else 'no event id'})"
                     for e in events)
    return f"{plural(len(events), 'root event')} fell while the chain was {_break_text(b)}: {said}"


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


OPERATION_ADVICE = {
    FAIL: ["for each break, ask who made the change that broke the chain and why (its event names the caller and "
           "address), and whether the root activity inside it was expected: no alarm could have reported it",
           "restrict who may change the chain (cloudtrail:StopLogging, logs:PutMetricFilter, logs:DeleteMetricFilter, "
           "cloudwatch:PutMetricAlarm, cloudwatch:DisableAlarmActions, sns:Unsubscribe) with a service control policy"],
    GAP: ["let the audit role call cloudtrail:LookupEvents (policies/audit.json), or read a window within event "
          "history's 90 days, or read the trails' archive (event_source: archive), and run again"],
}
