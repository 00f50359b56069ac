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


def _table_controls(out: str) -> list[str]:
    rows = out.split("\n\n")[1].splitlines()[2:]  # the table, after its header and rule lines
    return list(dict.fromkeys(row.split()[0] for row in rows))


def test_table_lists_every_catalog_text_with_verdicts(capsys):
    assert main(["pattern", "table"]) == 0
    out = capsys.readouterr().out
    assert _table_controls(out) == [f"4.{n}" for n in range(1, 16)]
    assert "cis-v3.0 reference" in out and "broader-noisy" in out and "benchmark-text" in out
    assert "Warning, 4.1" in out
    assert "Warning, 4.13" not in out  # v5.0 prints 4.13 grouped; the v3.0 text is only broader there
    assert main(["pattern", "table", "--benchmark", "cis-v3.0"]) == 0
    assert "Warning, 4.13 (cis-v3.0 reference)" in capsys.readouterr().out


def test_table_under_v7_uses_the_5x_numbering(capsys):
    assert main(["pattern", "table", "--benchmark", "cis-v7.0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Catalog texts judged under cis-v7.0")
    assert _table_controls(out) == [f"5.{n}" for n in range(1, 16)]
    assert "Warning, 5.1" in out


def test_console_script_is_installed():
    done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "pattern", "check", "--control", "4.3", REF],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_editions_table_relates_every_edition_to_the_default(capsys):
    assert main(["pattern", "editions"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines()[4:]]
    assert rows == [f"4.{n}" for n in range(1, 16)]
    assert "4.1 broader (trap)" in out and "4.13 broader (trap)" in out and "5.10 broader" in out


def test_a_bug_of_rootwatchs_is_could_not_complete_in_one_line_never_a_fail(monkeypatch, capsys):
    """An unexpected exception must not reach a scheduler as Python's exit 1 (which means FAIL here)
    with a traceback: exit 4, one line naming it."""
    import rootwatch.catalog
    from rootwatch.cli import main

    def broken(*args, **kwargs):
        raise RuntimeError("\x1b[31mboom")

    monkeypatch.setattr(rootwatch.catalog, "load_catalog", broken)
    assert main(["pattern", "editions"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (RuntimeError: \\x1b[31mboom)" in err and "Traceback" not in err
