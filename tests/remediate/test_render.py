"""The plan's three forms agree: CloudFormation that cfn-lint accepts, Terraform that parses and
names the same resources, CLI commands whose arguments are exactly the call's parameters."""

from __future__ import annotations

import copy
import json
import shlex
import subprocess
import sys
from pathlib import Path

import hcl2
import pytest
import yaml

from rootwatch.judge import judge_all
from rootwatch.remediate import render
from rootwatch.remediate.actions import METRIC_FILTER, Action
from rootwatch.remediate.plan import plan_account

DRIFTED = "222222222222"
HOSTILE = '{ $.userAgent = "a\\"b\\\\c ${x} %{y} \'; rm -rf / #" }'


def _hcl_string(raw: str) -> str:
    """python-hcl2 keeps a string as written: quoted, escaped, with ``$${``/``%%{`` template escapes."""
    return json.loads(raw.replace("$${", "${").replace("%%{", "%{"))


def _plan(ev, catalog, notify=("secops@example.com",)):
    controls = catalog.controls()
    return plan_account(ev, judge_all([ev], controls), {c.id: c for c in controls}, list(notify)).actions


@pytest.fixture(scope="module")
def plans(evidence, catalog):
    """The drifted account's plan, and one for a broken trail (not logging, single-region, no
    CloudWatch Logs delivery, an alarm switched off, no confirmed subscriber)."""
    broken = copy.deepcopy(evidence[DRIFTED])
    [trail] = broken.trails
    trail["rw:status"]["IsLogging"], trail["IsMultiRegionTrail"] = False, False
    del trail["CloudWatchLogsLogGroupArn"]
    broken.subscriptions = []
    return {"drifted": _plan(evidence[DRIFTED], catalog), "broken trail": _plan(broken, catalog)}


@pytest.mark.parametrize("name", ["drifted", "broken trail"])
def test_cloudformation_passes_cfn_lint(plans, name, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(render.cloudformation_yaml(plans[name]))
    lint = subprocess.run([str(Path(sys.executable).with_name("cfn-lint")), str(template)], capture_output=True,
                          text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.mark.parametrize("name", ["drifted", "broken trail"])
def test_terraform_parses_and_names_the_cloudformation_resources(plans, name):
    parsed = hcl2.loads(render.terraform(plans[name]))
    terraform = {label.strip('"'): body for block in parsed["resource"] for kind in block.values()
                 for label, body in kind.items()}
    assert set(terraform) == set(render.cloudformation(plans[name])["Resources"])
    text = render.terraform(plans[name])
    for reference in ("aws_sns_topic.", "aws_cloudwatch_log_group.", "aws_iam_role."):
        for used in {w.split(".")[1] for w in text.replace("${", " ").split() if w.startswith(reference)}:
            assert used in terraform, used  # every reference names a declared resource


def test_an_existing_trail_is_imported_with_all_it_has(plans):
    text = render.terraform(plans["broken trail"])
    assert 'import {\n  to = aws_cloudtrail.TrailMainTrail\n  id = "main-trail"\n}' in text
    trail = render.cloudformation(plans["broken trail"])["Resources"]["TrailMainTrail"]
    assert trail["DeletionPolicy"] == "Retain" and "import" in trail["Metadata"]["rootwatch"]
    props = trail["Properties"]
    assert props["IsLogging"] and props["IsMultiRegionTrail"] and props["S3BucketName"] == "drifted-cloudtrail-logs"
    assert props["EnableLogFileValidation"] is True  # what the trail has is kept, not dropped
    assert props["CloudWatchLogsLogGroupArn"] == {"Fn::GetAtt": ["LogGroupAwsCloudtrailLogs222222222222", "Arn"]}


def test_patterns_survive_every_form_exactly(plans):
    hostile = Action(DRIFTED, "us-east-1", "logs", "PutMetricFilter", {
        "logGroupName": "g", "filterName": "f", "filterPattern": HOSTILE,
        "metricTransformations": [{"metricName": "m", "metricNamespace": "n", "metricValue": "1"}]},
        METRIC_FILTER, "f", "fixes the metric filter link")
    for action in [*plans["drifted"], hostile]:
        if action.operation != "PutMetricFilter":
            continue
        [command] = [line for line in render.cli([action]).splitlines() if not line.startswith("#")]
        argv = shlex.split(command)
        assert argv[argv.index("--filter-pattern") + 1] == action.params["filterPattern"]
        assert json.loads(argv[argv.index("--metric-transformations") + 1]) == action.params["metricTransformations"]
        [block] = hcl2.loads(render.terraform([action]))["resource"]
        [body] = block['"aws_cloudwatch_log_metric_filter"'].values()
        assert _hcl_string(body["pattern"]) == action.params["filterPattern"]
        props = yaml.safe_load(render.cloudformation_yaml([action]))["Resources"][action.logical_id]["Properties"]
        assert props["FilterPattern"] == action.params["filterPattern"]


def test_cli_commands_are_the_calls(plans):
    commands = [shlex.split(line) for line in render.cli(plans["broken trail"]).splitlines()
                if not line.startswith("#")]
    assert [c[:3] for c in commands[:2]] == [["aws", "cloudtrail", "start-logging"],
                                             ["aws", "logs", "create-log-group"]]
    subscribe = next(c for c in commands if c[2] == "subscribe")
    assert subscribe[subscribe.index("--notification-endpoint") + 1] == "secops@example.com"
    update = next(c for c in commands if c[2] == "update-trail")
    assert "--is-multi-region-trail" in update
    assert render.cli(plans["drifted"]) == render.cli(plans["drifted"])  # stable output
