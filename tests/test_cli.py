"""`rootwatch pattern ...` from a user's shell: output, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rootwatch.cli import main

REF = "{ $.userIdentity.type = Root && $.userIdentity.invokedBy NOT EXISTS && $.eventType != AwsServiceEvent }"


def test_covering_pattern_exits_0_with_verdict_and_canonical_form(capsys):
    assert main(["pattern", "check", "--control", "4.3", REF]) == 0
    out = capsys.readouterr().out
    assert "PASS (benchmark-text)" in out
    assert '{ $.eventType != "AwsServiceEvent" && $.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = "Root" }' in out


def test_not_covering_exits_1_and_shows_blind_spot(capsys):
    assert main(["pattern", "check", "--control", "4.3", REF[:-1] + '&& $.eventName != "ConsoleLogin" }']) == 1
    out = capsys.readouterr().out
    assert "FAIL (blind-spot)" in out and "blind spot" in out and '"eventName": "ConsoleLogin"' in out


def test_json_output_is_machine_readable(capsys):
    assert main(["pattern", "check", "--control", "4.3", "--json", '{ $.userIdentity.type = "Root" }']) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["status"], data["rule"], data["control"], data["benchmark"]) == (
        "PASS", "broader-quiet", "4.3", "cis-v5.0")
    assert data["event"]["userIdentity"]["type"] == "Root"


def test_benchmark_option_selects_the_edition(capsys):
    assert main(["pattern", "check", "--control", "4.1", "--benchmark", "cis-v3.0", "--json",
                 ("{ ($.errorCode = *UnauthorizedOperation) || ($.errorCode = AccessDenied*) || "
                 "($.sourceIPAddress != delivery.logs.amazonaws.com) || ($.eventName != HeadBucket) }")]) == 0
    assert json.loads(capsys.readouterr().out)["warning"]


@pytest.mark.parametrize(("argv", "message"), [
    (["pattern", "check", "--control", "4.3", "{ $.a == 1 }"], "invalid filter pattern at column 7: '==' is not"),
    (["pattern", "check", "--control", "4.3", "{ ($.a = 1 }"], "'(' is never closed"),
    (["pattern", "check", "--control", "9.9", "{ $.a = 1 }"], "unknown control '9.9'"),
    (["pattern", "check", "--control", "4.3", "--benchmark", "cis-v0", "{ $.a = 1 }"], "unknown benchmark"),
    (["pattern", "check", "{ $.a = 1 }"], "required: --control"),
    (["pattern", "frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line_on_stderr(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        sys.exit(main(argv))
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("rootwatch: ") and captured.err.count("\n") == 1
    assert message in captured.err


def test_table_lists_every_catalog_text_with_verdicts(capsys):
    assert main(["pattern", "table"]) == 0
    out = capsys.readouterr().out
    assert "cis-v3.0 reference" in out and "broader-noisy" in out and "benchmark-text" in out
    assert "Warning, 4.1" in out


def test_console_script_is_installed():
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "pattern", "check", "--control", "4.3", REF],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
