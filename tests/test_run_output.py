"""What `rootwatch run` writes, and where: one run per output, no symlink followed, dates as YAML dates,
and a bundle that says it is unsigned when it is."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from rootwatch.errors import ParameterError
from rootwatch.runner import OutputLock
from tests.sandbox_process import child_environment

ROOT = Path(__file__).resolve().parents[1]
ROOTWATCH = str(Path(sys.executable).with_name("rootwatch"))


def _start(tmp: Path, params: str, out: str, *flags: str) -> subprocess.Popen:
    (tmp / "params.yaml").write_text(params)
    return subprocess.Popen([ROOTWATCH, "run", "params.yaml", "--out", out, "--quiet", *flags], cwd=tmp,
                            env=child_environment(XDG_CONFIG_HOME=str(tmp / "config")), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_a_second_run_into_the_same_output_is_refused_while_the_first_lives(tmp_path):
    params = "source: sandbox\naccounts: [healthy]\nregions: [us-east-1]\nwindow: last-30-days\npdf: {renderer: none}\n"
    first = _start(tmp_path, params, "bundle")
    lock = tmp_path / ".bundle.lock"
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lock.exists(), first.communicate()
    second = subprocess.run([ROOTWATCH, "run", "params.yaml", "--out", "bundle"], cwd=tmp_path, capture_output=True,
                            text=True, env=child_environment(XDG_CONFIG_HOME=str(tmp_path / "config")), timeout=120)
    out, err = first.communicate(timeout=300)
    assert second.returncode == 2 and second.stderr.count("\n") == 1, second.stderr
    assert f"bundle is being written by rootwatch run pid {first.pid} on this host" in second.stderr
    assert first.returncode == 0, err  # the healthy account's CIS verdict: it finished undisturbed
    assert (tmp_path / "bundle" / "signatures" / "manifest.json.sshsig").is_file()
    assert not lock.exists() and not list(tmp_path.glob("bundle.incomplete*"))


def test_a_lock_left_by_a_dead_run_is_taken_over_and_one_from_another_host_is_refused(tmp_path):
    target, lock = tmp_path / "bundle", tmp_path / ".bundle.lock"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock.write_text(f'{{"pid": {dead.pid}, "host": "{socket.gethostname()}"}}')
    with OutputLock(target):
        assert f'"pid": {os.getpid()}' in lock.read_text()
    assert not lock.exists()
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as alive:
        lock.write_text(f'{{"pid": {alive.pid}, "host": "{socket.gethostname()}"}}')
        with pytest.raises(ParameterError, match=f"pid {alive.pid} on this host"):
            OutputLock(target).__enter__()
        alive.kill()
    lock.write_text('{"pid": 1, "host": "build-7.example.com"}')
    with pytest.raises(ParameterError, match="pid 1 on host 'build-7.example.com'.*remove .*bundle.lock"):
        OutputLock(target).__enter__()


def test_a_planted_staging_symlink_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (tmp_path / ".bundle.partial").symlink_to(victim)
    run = _start(tmp_path, "source: sandbox\nregions: [us-east-1]\nwindow: last-30-days\n", "bundle")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 2 and "bundle.partial is a symlink" in err and err.count("\n") == 1, err
    assert list(victim.iterdir()) == [] and not (tmp_path / "bundle").exists()


def test_yaml_dates_are_a_window_and_an_unsigned_bundle_says_so(tmp_path):
    params = ("source: sandbox\naccounts: [healthy]\nregions: [us-east-1]\n"
              "window: {start: 2026-10-01, end: 2026-11-30}\nsigning: {ssh: false}\npdf: {renderer: none}\n")
    run = _start(tmp_path, params, "bundle")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err  # the healthy account passes CIS 4.3 (its alarm-coverage test is not CIS)
    assert out.strip().endswith(f"UNSIGNED bundle (signing names no signer): {tmp_path / 'bundle'}")
    cover = (tmp_path / "bundle" / "report.html").read_text()
    assert "which is NOT signed: nothing proves that it, or this report, is unchanged" in cover
    assert "--trusted-key" not in cover.split("<h2>Verdict summary</h2>")[0]
    given = yaml.safe_load((tmp_path / "bundle" / "parameters.yaml").read_text())
    assert given["window"] == {"start": "2026-10-01", "end": "2026-11-30"}
    assert not (tmp_path / "bundle" / "signatures").exists() or not any((tmp_path / "bundle" / "signatures").iterdir())


def test_the_sandbox_stops_on_sigterm_while_it_is_still_seeding(tmp_path):
    process = subprocess.Popen([ROOTWATCH, "sandbox", "--accounts", "40"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=child_environment(), start_new_session=True)
    time.sleep(3)  # forty accounts take far longer than this to seed
    os.killpg(process.pid, signal.SIGTERM)
    started = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert process.returncode == 0 and out.strip() == "rootwatch sandbox: stopped", (out, err)


@pytest.mark.parametrize(("count", "code"), [(False, 0), (True, 1)])
def test_rootwatchs_own_tests_count_in_the_exit_code_only_when_asked(tmp_path, count, code):
    """The healthy sandbox account meets CIS 4.3 and fails rootwatch's tests (RW-1 alarm coverage, RW-2 chain
    operated throughout): a scheduler hears the benchmark's verdict, unless the parameter file asks for
    rootwatch's tests too."""
    params = ("source: sandbox\naccounts: [healthy]\nregions: [us-east-1]\nwindow: last-90-days\n"
              f"pdf: {{renderer: none}}\ncount_rootwatch_tests: {str(count).lower()}\n")
    run = _start(tmp_path, params, "bundle")
    out, err = run.communicate(timeout=300)
    assert run.returncode == code, err
    assert out.startswith("1 PASS, 0 FAIL, 0 GAP over 1 account(s) and 1 control(s); rootwatch tests 0 PASS, 2 FAIL")
    assert ("(not in the exit code)" in out) is not count
