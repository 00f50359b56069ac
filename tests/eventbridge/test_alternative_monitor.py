"""Other monitors (issue 20): an EventBridge rule on root use with an SNS target that has a confirmed
subscriber is rootwatch test RW-3's alternative monitor; the CIS verdict stays the chain's."""

from __future__ import annotations

import json

import pytest

from rootwatch.collect.chain import AccountEvidence
from rootwatch.collect.evidence import Gap
from rootwatch.judge.chain import judge_account, judge_alternative_monitor
from rootwatch.models import Check, Link
from tests.stubbed import ACCOUNT, REGION, WINDOW, collect_stubbed, healthy_calls

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:root-events"
ROOT = '{"detail": {"userIdentity": {"type": ["Root"]}}}'
CONSOLE_ONLY = '{"detail": {"userIdentity": {"type": ["Root"]}, "eventName": ["ConsoleLogin"]}}'
NOT_ROOT = '{"detail": {"userIdentity": {"type": ["IAMUser"]}}}'
CONFIRMED = {"SubscriptionArn": f"{TOPIC}:1b2c", "Protocol": "email", "Endpoint": "sec@example.com",
             "TopicArn": TOPIC, "rw:topicArn": TOPIC, "rw:attributes": {}}
# the statement the console adds when a rule targets a topic: EventBridge may publish to it
EVENTS_MAY_PUBLISH = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                                                "Action": "sns:Publish", "Resource": TOPIC}]})


def account(pattern: str, subscription: dict | None = CONFIRMED,
            state: str = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS") -> AccountEvidence:
    ev = AccountEvidence("acct", ACCOUNT, f"arn:aws:sts::{ACCOUNT}:assumed-role/audit/x", [REGION], WINDOW)
    ev.event_rules = [{"Name": "root-activity", "EventPattern": pattern, "State": state, "rw:region": REGION,
                       "rw:targets": [{"Id": "notify", "Arn": TOPIC}]}]
    ev.rule_subscriptions = [subscription] if subscription else []
    ev.topic_attributes = {TOPIC: {"TopicArn": TOPIC, "Policy": EVENTS_MAY_PUBLISH}}
    return ev


def test_a_rule_covering_root_use_with_a_confirmed_subscriber_is_an_alternative_monitor(catalog):
    finding = judge_alternative_monitor(account(ROOT), catalog.control("4.3"))
    assert finding.key == "RW-3 alternative monitor (4.3)" and finding.check is Check.ALTERNATIVE
    assert finding.status == "PASS"
    assert finding.links[0].reason.startswith(f'alternative monitor found: rule "root-activity" ({REGION}) → topic '
                                              f"{TOPIC} (confirmed subscriber: 1 confirmed subscriber(s)")


def test_a_narrower_rule_fails_with_the_root_event_it_misses(catalog):
    finding = judge_alternative_monitor(account(CONSOLE_ONLY), catalog.control("4.3"))
    assert finding.status == "FAIL"
    assert "narrower alternative monitor" in finding.links[0].reason and "it misses root use such as" in \
        finding.links[0].reason
    [note] = finding.notes
    missed = json.loads(note.split("does not match this root event: ", 1)[1])
    assert missed["detail"]["userIdentity"]["type"] == "Root" and missed["detail"]["eventName"] != "ConsoleLogin"


def test_a_plainly_enabled_rule_misses_root_read_only_calls(catalog):
    finding = judge_alternative_monitor(account(ROOT, state="ENABLED"), catalog.control("4.3"))
    assert finding.status == "FAIL" and '"DescribeInstances"' in finding.links[0].reason
    assert '"readOnly": true' in finding.notes[0] and f'"awsRegion": "{REGION}"' in finding.notes[0]


def test_a_monitor_in_one_region_leaves_another_regions_root_calls_untold(catalog):
    ev = account(ROOT)
    ev.regions = [REGION, "eu-west-1"]
    finding = judge_alternative_monitor(ev, catalog.control("4.3"))
    assert finding.status == "FAIL" and [link.status for link in finding.links] == ["PASS", "FAIL"]
    assert finding.links[1].reason.startswith("no EventBridge rule in eu-west-1 watches root use")


def test_a_rule_that_matches_no_root_use_is_no_monitor_to_record(catalog):
    assert judge_alternative_monitor(account(NOT_ROOT), catalog.control("4.3")) is None


def test_a_covering_rule_whose_subscriber_is_pending_tells_nobody(catalog):
    pending = {**CONFIRMED, "SubscriptionArn": "PendingConfirmation"}
    finding = judge_alternative_monitor(account(ROOT, pending), catalog.control("4.3"))
    assert finding.status == "FAIL" and "no confirmed subscriber" in finding.links[0].reason


def test_a_disabled_rule_delivers_nothing(catalog):
    finding = judge_alternative_monitor(account(ROOT, state="DISABLED"), catalog.control("4.3"))
    assert finding.status == "FAIL" and "is DISABLED" in finding.links[0].reason


def test_unreadable_rules_are_a_gap_never_a_pass(catalog):
    ev = account(ROOT)
    ev.gaps = [Gap(ACCOUNT, REGION, Link.ALTERNATIVE_MONITOR, "events", "ListRules", "AccessDeniedException",
                   "not allowed", "raw/x.json")]
    finding = judge_alternative_monitor(ev, catalog.control("4.3"))
    assert finding.status == "GAP" and "AccessDeniedException" in finding.links[0].reason


def test_the_collector_reads_rules_targets_and_the_targeted_topics_subscribers():
    rule = {"Name": "root-activity", "EventPattern": ROOT, "State": "ENABLED", "EventBusName": "default",
            "Arn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/root-activity"}
    calls = [c if c[1] != "ListRules" else ("events", "ListRules", {"Rules": [rule]}) for c in healthy_calls()]
    calls += [("events", "ListTargetsByRule", {"Targets": [{"Id": "notify", "Arn": TOPIC}]},
               {"Rule": "root-activity"}),
              ("sns", "ListSubscriptionsByTopic", {"Subscriptions": [{k: v for k, v in CONFIRMED.items()
                                                                       if not k.startswith("rw:")}]},
               {"TopicArn": TOPIC})]
    ev = collect_stubbed(calls)
    assert [(r["Name"], r["rw:targets"]) for r in ev.event_rules] == [("root-activity", [{"Id": "notify",
                                                                                           "Arn": TOPIC}])]
    assert [s["rw:topicArn"] for s in ev.rule_subscriptions] == [TOPIC]
    assert TOPIC not in {s["rw:topicArn"] for s in ev.subscriptions}  # the chain's topics stay the alarms' own


def test_refused_rules_are_a_gap_of_the_alternative_monitor():
    ev = collect_stubbed(healthy_calls(), errors={"ListRules": "AccessDeniedException"})
    assert [(g.operation, g.error_code) for g in ev.gaps if g.link is Link.ALTERNATIVE_MONITOR] == [
        ("ListRules", "AccessDeniedException")]
    assert ev.event_rules == [] and not any(g.link in (Link.ALARM, Link.SUBSCRIBER) for g in ev.gaps)


def test_sandbox_drifted_account_fails_cis_yet_has_an_alternative_monitor(evidence, sandbox, catalog):
    from rootwatch.evidence_run import judged

    drifted = next(a.account_id for a in sandbox.accounts if a.alias == "drifted")
    control = catalog.control("4.3")
    _, findings = judged([evidence[drifted]], [control], catalog)
    cis = next(f for f in findings if f.check is Check.CHAIN)
    rw3 = next(f for f in findings if f.check is Check.ALTERNATIVE)
    assert judge_account(evidence[drifted], control, catalog).status == cis.status == "FAIL"
    assert rw3.status == "PASS" and "alternative monitor found: rule \"root-activity\"" in rw3.links[0].reason
    assert any(n.startswith("alternative monitor found") and "CIS verdict is unchanged" in n for n in cis.notes)


def test_sandbox_account_watched_only_by_eventbridge_fails_cis_with_alternative_monitor_found(evidence, sandbox,
                                                                                              catalog):
    """The issue's account: no metric filter at all, an EventBridge rule on root use that tells a confirmed
    subscriber. CIS 4.3 fails at the metric filter; RW-3 passes and the finding says so."""
    from rootwatch.evidence_run import judged

    only = next(a.account_id for a in sandbox.accounts if a.alias == "eventbridge-only")
    _, findings = judged([evidence[only]], [catalog.control("4.3")], catalog)
    cis = next(f for f in findings if f.check is Check.CHAIN)
    rw3 = next(f for f in findings if f.check is Check.ALTERNATIVE)
    assert cis.status == "FAIL" and next(link for link in cis.links if link.status == "FAIL").link is Link.METRIC_FILTER
    assert rw3.status == "PASS" and 'alternative monitor found: rule "root-user-activity"' in rw3.links[0].reason
    assert any(n.startswith("alternative monitor found") and "CIS verdict is unchanged" in n for n in cis.notes)


def test_the_pass_names_the_topic_whose_subscriber_is_confirmed_not_the_first_target(catalog):
    ev = account(ROOT)
    silent = f"arn:aws:sns:{REGION}:{ACCOUNT}:nobody-listens"
    ev.event_rules[0]["rw:targets"] = [{"Id": "quiet", "Arn": silent}, {"Id": "notify", "Arn": TOPIC}]
    finding = judge_alternative_monitor(ev, catalog.control("4.3"))
    assert finding.status == "PASS"
    assert f"→ topic {TOPIC} (confirmed subscriber" in finding.links[0].reason
    assert f"topic {silent}" not in finding.links[0].reason
