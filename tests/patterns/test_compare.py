"""Exact comparison: relations decided over every behaviour of every field, not by text."""

from __future__ import annotations

import pytest

from rootwatch.patterns import Relation, compare, compile_pattern


@pytest.mark.parametrize(("a", "b", "relation"), [
    # wildcards and regexes are compared as languages, exactly
    ('{ $.e = "AccessDenied*" }', "{ $.e = %^AccessDenied% }", Relation.EQUIVALENT),
    ('{ $.e = "*Denied" }', "{ $.e = %Denied$% }", Relation.EQUIVALENT),
    ('{ $.e = "*Denied*" }', "{ $.e = %Denied% }", Relation.EQUIVALENT),
    ('{ $.e = "A*" && $.e = "*B" }', '{ $.e = "A*B" || $.e = "AB" }', Relation.EQUIVALENT),
    ('{ $.e = "A*B" }', '{ $.e = "A*" && $.e = "*B" }', Relation.EQUIVALENT),
    ('{ $.e = "A*A" }', '{ $.e = "A*" && $.e = "*A" }', Relation.BROADER),  # "A" alone is in the second
    ('{ $.e = "Access*" }', '{ $.e = "AccessDenied*" }', Relation.NARROWER),
    ('{ $.e = "AccessDenied*" }', '{ $.e = "*Denied" }', Relation.OVERLAPPING),
    ('{ $.e = "A*" }', '{ $.e = "B*" }', Relation.UNRELATED),
    ("{ $.e = %^[0-9]{3}$% }", "{ $.e = %^[0-9][0-9][0-9]$% }", Relation.EQUIVALENT),
    ("{ $.e = %^a?b$% }", '{ $.e = "b" || $.e = "ab" }', Relation.EQUIVALENT),
    # numbers: every region between bounds is tried
    ("{ $.n > 5 }", "{ $.n >= 6 }", Relation.NARROWER),
    ("{ $.n > 5 && $.n < 7 }", "{ $.n = 6 }", Relation.NARROWER),
    ("{ $.n != 5 }", "{ $.n < 5 || $.n > 5 }", Relation.EQUIVALENT),
    ("{ $.n = 1e3 }", "{ $.n = 1000 }", Relation.EQUIVALENT),
    # presence, null and types
    ('{ $.f = "*" }', "{ $.f NOT EXISTS }", Relation.UNRELATED),
    ('{ $.f != "x" }', '{ $.f = "*" }', Relation.BROADER),
    ("{ $.f IS NULL || $.f NOT EXISTS }", "{ $.f NOT EXISTS }", Relation.NARROWER),
    ("{ $.a.b NOT EXISTS }", "{ $.a NOT EXISTS }", Relation.NARROWER),
    ("{ $.a[1] = 2 }", "{ $.a[1] = 2 && $.a[0] = \"*\" }", Relation.NARROWER),
    ("{ $.a[0] NOT EXISTS }", "{ $.a[1] NOT EXISTS }", Relation.BROADER),
    # boolean structure
    ("{ $.x = 1 && ($.y = 2 || $.z = 3) }", "{ ($.x = 1 && $.y = 2) || ($.x = 1 && $.z = 3) }", Relation.EQUIVALENT),
    ("{ $.x = 1 || $.y = 2 && $.z = 3 }", "{ ($.x = 1 || $.y = 2) && $.z = 3 }", Relation.NARROWER),
    ("{ $.x = 1 || $.y = 2 }", "{ $.y = 2 || $.z = 3 }", Relation.OVERLAPPING),
])
def test_relation(a, b, relation):
    result = compare(a, b)
    assert result.relation is relation, (result.blind_spot, result.noise)
    assert result.exact
    pa, pb = compile_pattern(a), compile_pattern(b)
    if result.blind_spot is not None:
        assert pa.matches(result.blind_spot) and not pb.matches(result.blind_spot)
    if result.noise is not None:
        assert pb.matches(result.noise) and not pa.matches(result.noise)


def test_counterexamples_keep_the_template_around_them():
    template = {"eventName": "ConsoleLogin", "userIdentity": {"type": "Root", "arn": "arn:aws:iam::1:root"},
                "eventType": "AwsConsoleSignIn", "sourceIPAddress": "203.0.113.17"}
    result = compare('{ $.userIdentity.type = "Root" }', '{ $.userIdentity.type = "Root" && $.eventName != "ConsoleLogin" }',
                     template)
    assert result.blind_spot == template  # the realistic event itself is the blind spot
    assert result.noise is None


def test_realistic_samples_are_preferred_as_values():
    samples = [{"userIdentity": {"type": "IAMUser"}, "eventName": "DescribeInstances"}]
    result = compare('{ $.userIdentity.type = "Root" }', '{ $.userIdentity.type = "Root" || $.eventName = "*" }',
                     samples=samples)
    assert result.relation is Relation.BROADER
    assert result.noise["userIdentity"]["type"] == "IAMUser"
