"""The catalog is data, validated before use; meta-tests walk every entry (Cloud Custodian style)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from rootwatch.catalog import DEFAULT_PATH, load_catalog
from rootwatch.jsonschemas import jsonschema
from rootwatch.errors import CatalogError
from rootwatch.models import Role
from rootwatch.patterns import compare

SECTION_4 = [f"4.{n}" for n in range(1, 16)]
SECTION_5 = [f"5.{n}" for n in range(1, 16)]


def test_default_benchmark_has_41_to_415(catalog):
    assert catalog.default_benchmark == "cis-v5.0"
    assert [c.id for c in catalog.controls()] == SECTION_4
    for bench in ("cis-v1.4.0", "cis-v1.5.0", "cis-v2.0.0", "cis-v3.0", "cis-v4.0.1", "cis-v5.0"):
        assert [c.id for c in catalog.controls(bench)] == SECTION_4
    assert [c.id for c in catalog.controls("cis-v1.2.0")] == ["3.3"]  # the root-usage control only, so far


def test_v6_and_v7_renumber_the_section_as_5x(catalog):
    for bench in ("cis-v6.0", "cis-v7.0"):
        assert [c.id for c in catalog.controls(bench)] == SECTION_5
    for n in range(1, 16):
        v5, v7 = catalog.control(f"4.{n}", "cis-v5.0"), catalog.control(f"5.{n}", "cis-v7.0")
        assert (v7.title, v7.level, v7.remediation) == (v5.title, v5.level, v5.remediation)
    assert compare(catalog.control("4.3", "cis-v5.0").reference,
                   catalog.control("5.3", "cis-v7.0").reference).relation.value == "equivalent"


def test_v6_security_group_changes_add_modify_security_group_rules(catalog):
    rule_change = {"eventSource": "ec2.amazonaws.com", "eventName": "ModifySecurityGroupRules"}
    assert not catalog.control("4.10", "cis-v5.0").reference.matches(rule_change)
    for bench in ("cis-v6.0", "cis-v7.0"):
        assert catalog.control("5.10", bench).reference.matches(rule_change)


def test_every_accepted_text_counts_the_controls_example_event(catalog):
    for control in catalog.entries.values():
        for text in control.accepted:
            assert text.matches(control.example_event), (control.id, control.benchmark, text.text)


def test_no_intended_meaning_counts_ordinary_activity(catalog):
    for control in catalog.entries.values():
        for ordinary in catalog.ordinary:
            assert not control.intended.matches(ordinary.event), (control.id, control.benchmark, ordinary.name)


def test_traps_are_marked_and_have_an_intended_variant(catalog):
    traps = {(c.id, c.benchmark) for c in catalog.entries.values() if c.trap}
    assert traps == {("4.1", "cis-v1.4.0"), ("4.1", "cis-v1.5.0"), ("4.1", "cis-v2.0.0"), ("4.1", "cis-v3.0"),
                     ("4.1", "cis-v4.0.1"), ("4.1", "cis-v5.0"), ("5.1", "cis-v6.0"), ("5.1", "cis-v7.0"),
                     ("4.13", "cis-v3.0")}
    for cid, bench in traps:
        control = catalog.control(cid, bench)
        assert control.intended is not control.reference


def test_v3_route_table_trap_restricts_only_create_route_to_ec2(catalog):
    control = catalog.control("4.13", "cis-v3.0")
    api_gateway = {"eventSource": "apigateway.amazonaws.com", "eventName": "DeleteRoute"}
    assert control.reference.matches(api_gateway) and not control.intended.matches(api_gateway)
    for cid, bench in (("4.13", "cis-v4.0.1"), ("4.13", "cis-v5.0"), ("5.13", "cis-v7.0")):
        assert not catalog.control(cid, bench).reference.matches(api_gateway)


def test_v401_prints_unquoted_v3_quoted(catalog):
    assert "= Root" in catalog.control("4.3", "cis-v4.0.1").reference.text
    assert '= "Root"' in catalog.control("4.3", "cis-v3.0").reference.text


def test_unknown_control_and_benchmark_name_the_known_ones(catalog):
    with pytest.raises(CatalogError, match=r"unknown control '4\.99'.*4\.1, 4\.2, 4\.3, .*4\.9, 4\.10, .*4\.15$"):
        catalog.control("4.99")
    with pytest.raises(CatalogError, match=r"unknown control '4\.3' for cis-v7\.0.*5\.1, 5\.2, 5\.3"):
        catalog.control("4.3", "cis-v7.0")
    with pytest.raises(CatalogError, match=r"unknown benchmark 'cis-v9'.*cis-v3\.0"):
        catalog.control("4.3", "cis-v9")


@pytest.mark.parametrize("bench", ["cis-v3.0", "cis-v4.0.1", "cis-v5.0", "cis-v6.0", "cis-v7.0"])
def test_every_edition_names_its_root_usage_control_by_role(catalog, bench):
    """Code asks for the root-usage control by role: 4.3 until v5.0, 5.3 once v6.0 renumbers it."""
    root = catalog.by_role(Role.ROOT_USAGE, bench)
    assert root.id == ("5.3" if bench in ("cis-v6.0", "cis-v7.0") else "4.3") and root.subject == "root account usage"
    assert [c.role for c in catalog.controls(bench)].count(Role.ROOT_USAGE) == 1
    assert catalog.select((), bench) == [root]  # a run naming no control judges the root-usage control
    assert catalog.select(("all",), bench) == catalog.controls(bench)


def _write(tmp_path, mutate):
    data = yaml.safe_load(DEFAULT_PATH.read_text())
    mutate(data)
    path = tmp_path / "controls.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d["controls"]["4.3"].update(colour="red"), r"at controls/4\.3: Additional properties"),
    (lambda d: d["controls"]["4.3"]["editions"][0].update(reference="{ $.a == 1 }"), r"control 3\.3 \(cis-v1\.2\.0\).*'=='"),
    (lambda d: d["controls"]["4.3"]["editions"][0].update(benchmarks=["cis-v8"]), r"unknown benchmark 'cis-v8'"),
    (lambda d: d.update(default_benchmark="cis-v8"), r"default benchmark 'cis-v8'"),
    (lambda d: d["controls"]["4.3"].update(role="root-use"), r"control 3\.3: unknown role 'root-use'"),
    (lambda d: d["controls"]["4.4"].update(role="root-usage"), r"two controls of cis-v1\.4\.0 have the role root-usage"),
    (lambda d: d["controls"]["4.1"]["editions"][1]["variants"].append(
        dict(d["controls"]["4.1"]["editions"][1]["variants"][0])), "more than one variant as intended"),
])
def test_broken_catalog_is_rejected_before_use(tmp_path, mutate, message):
    with pytest.raises(CatalogError, match=message):
        load_catalog(_write(tmp_path, mutate))



def test_the_catalog_schema_is_a_valid_2020_12_schema():
    """load_catalog skips jsonschema's check of the schema itself (most of its start-up cost): this is it."""
    schema = json.loads((DEFAULT_PATH.parent / "schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("entry", ["from rootwatch.catalog import load_catalog; load_catalog()",
                                   "import rootwatch.runner",  # rootwatch run (the bundle manifest's schema)
                                   "import rootwatch.bundle.verify"])  # rootwatch verify
def test_no_command_imports_jsonschemas_format_checkers(entry):
    """jsonschema imports its format checkers when installed (rfc3987_syntax alone compiles 39 Earley
    grammars, about a second); rootwatch's schemas need none of them, so no command or kernel pays for
    them, and they stay importable."""
    code = ("import importlib, importlib.util, sys\n"
            "from rootwatch.jsonschemas import FORMAT_CHECKERS\n"
            f"{entry}\n"
            "print('jsonschema' in sys.modules, *(name in sys.modules for name in FORMAT_CHECKERS))\n"
            "print(all(importlib.import_module(name) for name in FORMAT_CHECKERS if importlib.util.find_spec(name)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", *["False"] * 10, "True"]
