"""The verdicts the issue asks for: CIS 4.3 and 4.1 judged by meaning, each with its event."""

from __future__ import annotations

import pytest

from rootwatch.judge.pattern_coverage import judge

REF_43 = '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'


@pytest.mark.parametrize("stored", [
    "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }",
    '{ $.eventType != "AwsServiceEvent" && $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }',
    '{ (($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS)) && ($.eventType != "AwsServiceEvent") }',
    '{\n  $.userIdentity.type = "Root"\n  && $.userIdentity.invokedBy NOT EXISTS\n  && $.eventType != "AwsServiceEvent"\n}',
    "{$.userIdentity.type=Root&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!=AwsServiceEvent}",
], ids=["unquoted-v4.0.1", "reordered", "extra-parens", "newlines", "no-spaces"])
def test_43_equivalent_spellings_pass(catalog, stored):
    verdict = judge(catalog.control("4.3"), stored)
    assert (verdict.status, verdict.rule, verdict.relation) == ("PASS", "benchmark-text", "equivalent")
    assert verdict.canonical == judge(catalog.control("4.3"), REF_43).canonical


def test_43_root_only_is_broader_but_quiet(catalog):
    verdict = judge(catalog.control("4.3"), '{ $.userIdentity.type = "Root" }')
    assert (verdict.status, verdict.rule, verdict.relation) == ("PASS", "broader-quiet", "broader")
    extra = verdict.event
    assert extra["userIdentity"]["type"] == "Root"
    assert "invokedBy" in extra["userIdentity"] or extra["eventType"] == "AwsServiceEvent"
    assert "also counts" in verdict.reason


def test_43_break_glass_user_added_is_quiet(catalog):
    stored = REF_43[:-1] + '|| $.userIdentity.userName = "break-glass" }'
    verdict = judge(catalog.control("4.3"), stored)
    assert (verdict.status, verdict.rule) == ("PASS", "broader-quiet")
    assert verdict.event["userIdentity"]["userName"] == "break-glass"


@pytest.mark.parametrize("stored", [
    '{ $.userIdentity.type = "Root" || $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS || $.eventType != "AwsServiceEvent" }',
])
def test_43_or_in_place_of_and_is_noisy(catalog, stored):
    verdict = judge(catalog.control("4.3"), stored)
    assert (verdict.status, verdict.rule, verdict.relation) == ("FAIL", "broader-noisy", "broader")
    assert verdict.event_role.startswith("ordinary activity: ")
    assert verdict.event["userIdentity"]["type"] != "Root"
    assert verdict.event_role.removeprefix("ordinary activity: ") in verdict.reason


@pytest.mark.parametrize(("stored", "relation"), [
    ('{ $.userIdentity.type != "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
     "unrelated"),
    ('{ $.userIdentity.type = "Rooted" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
     "unrelated"),
    ('{ $.userIdentity.type = "Rooted" }', "unrelated"),
])
def test_43_not_covering_shows_blind_spot(catalog, stored, relation):
    verdict = judge(catalog.control("4.3"), stored)
    assert (verdict.status, verdict.rule, verdict.relation) == ("FAIL", "blind-spot", relation)
    assert verdict.event["userIdentity"]["type"] == "Root"
    assert "invokedBy" not in verdict.event["userIdentity"]
    assert 'userIdentity.type="Root"' in verdict.reason


def test_43_extra_exclusion_blind_spot_is_root_console_login(catalog):
    stored = REF_43[:-1] + '&& $.eventName != "ConsoleLogin" }'
    verdict = judge(catalog.control("4.3"), stored)
    assert (verdict.status, verdict.rule, verdict.relation) == ("FAIL", "blind-spot", "narrower")
    assert verdict.event["eventName"] == "ConsoleLogin"
    assert verdict.event["userIdentity"]["type"] == "Root"
    assert 'eventName="ConsoleLogin"' in verdict.reason


def test_v3_all_or_41_fails_under_v401_with_ordinary_event(catalog):
    v3_text = catalog.control("4.1", "cis-v3.0").reference.text
    verdict = judge(catalog.control("4.1", "cis-v4.0.1"), v3_text)
    assert (verdict.status, verdict.rule) == ("FAIL", "broader-noisy")
    assert "errorCode" not in verdict.event  # an ordinary, successful call


def test_v3_all_or_41_under_v3_passes_with_trap_warning(catalog):
    control = catalog.control("4.1", "cis-v3.0")
    verdict = judge(control, control.reference.text)
    assert (verdict.status, verdict.rule) == ("PASS", "benchmark-text")
    assert verdict.warning and "'||'" in verdict.warning and "ordinary activity" in verdict.warning


def test_v401_41_precedence_trap_is_reported(catalog):
    control = catalog.control("4.1", "cis-v4.0.1")
    verdict = judge(control, control.reference.text)
    assert (verdict.status, verdict.rule) == ("PASS", "benchmark-text")
    assert "binds tighter" in verdict.warning
    # the event the trap counts by mistake: an UnauthorizedOperation the exclusions meant to drop
    assert verdict.event["errorCode"].endswith("UnauthorizedOperation")
    assert verdict.event["sourceIPAddress"] == "delivery.logs.amazonaws.com" or verdict.event["eventName"] == "HeadBucket"


def test_41_intended_grouping_passes_as_accepted_variant(catalog):
    stored = ('{ ($.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*") && '
              '$.sourceIPAddress != "delivery.logs.amazonaws.com" && $.eventName != "HeadBucket" }')
    verdict = judge(catalog.control("4.1"), stored)
    assert (verdict.status, verdict.rule, verdict.relation) == ("PASS", "benchmark-text", "narrower")
    assert "prose" in verdict.reason


def test_41_missing_access_denied_is_blind_spot(catalog):
    verdict = judge(catalog.control("4.1"), '{ $.errorCode = "*UnauthorizedOperation" }')
    assert (verdict.status, verdict.rule) == ("FAIL", "blind-spot")
    assert verdict.event["errorCode"].startswith("AccessDenied")


def test_verdict_is_serialisable(catalog):
    import json

    data = json.loads(json.dumps(judge(catalog.control("4.3"), '{ $.userIdentity.type = "Root" }').to_dict()))
    assert {"control", "benchmark", "status", "rule", "relation", "reason", "event", "canonical"} <= set(data)
