"""`rootwatch run` end to end on the sandbox, the report in a real browser, and bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from tests.bundle.conftest import signed_sandbox_run

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
RUN = [sys.executable, "-m", "rootwatch", "run"]


CONFIG = tempfile.mkdtemp(prefix="rootwatch-config-")  # the development signing key lands here, not in ~


def _run(*args: str, cwd: Path = ROOT, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(env or os.environ), "XDG_CONFIG_HOME": CONFIG}
    return subprocess.run([*RUN, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The sandbox run (signed as tests/bundle's tests need it too, made once for both)."""
    done, out, _ = signed_sandbox_run(tmp_path_factory)
    return done, out


def test_sandbox_run_judges_healthy_pass_and_drifted_fail(demo_run):
    done, out = demo_run
    assert done.returncode == 1, done.stderr
    # healthy: the chain passes, its alarm coverage fails (one seeded root event raised no alarm) and
    # so does its operation over the window (a root event while the filter was narrowed); drifted: all fail
    # but its EventBridge rule (RW-3 PASS); eventbridge-only: CIS fails (no metric filter), RW-3 passes
    assert "1 PASS, 2 FAIL, 0 GAP over 3 account(s) and 1 control(s); rootwatch tests 2 PASS, 6 FAIL, 0 GAP (not in " \
           "the exit code)" in done.stdout and done.stdout.count("\n") == 1
    assert f"signed bundle: {out}" in done.stdout
    findings = {f["account_label"]: f for f in json.loads((out / "findings.json").read_text()) if f["check"] == "chain"}
    assert findings["healthy"]["status"] == "PASS" and findings["healthy"]["control"] == "4.3"
    drifted = findings["drifted"]
    assert drifted["status"] == "FAIL" and drifted["account_id"] == "222222222222"
    failing = [link["name"] for link in drifted["links"] if link["status"] == "FAIL"]
    assert failing == ["metric filter", "alarm", "confirmed subscriber"]
    assert all({"name", "status", "reason"} <= set(link) for link in drifted["links"])


def test_alarm_coverage_is_a_finding_of_its_own(demo_run):
    _, out = demo_run
    coverage = {f["account_label"]: f for f in json.loads((out / "findings.json").read_text())
                if f["check"] == "alarm coverage"}
    healthy = coverage["healthy"]
    assert healthy["key"] == "RW-1 alarm coverage (4.3)" and healthy["status"] == "FAIL"
    assert healthy["test"] == "RW-1" and healthy["related_control"] == "4.3" and healthy["remediation_notes"]
    [link] = healthy["links"]
    assert link["reason"].startswith("1 of ") and "raised no alarm in time" in link["reason"]
    assert any("DescribeAlarmHistory" in e for e in link["evidence"]) and all((out / e).is_file() for e in link["evidence"])
    [note] = healthy["notes"]
    assert note.startswith("uncovered: ") and "did not go to ALARM" in note
    assert all("actions are disabled" in n for n in coverage["drifted"]["notes"])
    html = (out / "report.html").read_text()
    assert "RW-1 alarm coverage (4.3)" in html
    # section 7: what to investigate for the failing test, never "nothing to do" beside it
    advice = html[html.rindex("healthy (111111111111) — rootwatch test RW-1 (alarm coverage, related to CIS 4.3)"):]
    section = advice.split("<h3")[0]  # up to the next heading
    assert "describe-alarm-history" in section and "nothing to do" not in section


def test_chain_operation_is_a_finding_of_its_own_in_every_output(demo_run):
    """Issue 19: healthy passes CIS 4.3 today, and RW-2 fails with the breaks and the root event inside,
    in findings.json, the CSV, OCSF and the report (its chart's alt text in numbers)."""
    _, out = demo_run
    operated = {f["account_label"]: f for f in json.loads((out / "findings.json").read_text())
                if f["check"] == "chain operated throughout"}
    healthy = operated["healthy"]
    assert healthy["key"] == "RW-2 chain operated throughout (4.3)" and healthy["status"] == "FAIL"
    assert healthy["test"] == "RW-2" and healthy["related_control"] == "4.3" and healthy["remediation_notes"]
    link, witness = healthy["links"]
    assert link["reason"].startswith("root events fell while the chain was broken: operated ")
    assert all((out / e).is_file() for e in link["evidence"]) and len(link["evidence"]) == 19  # event names
    # AWS Config's history, the second witness (the sandbox's Config records the chain): agrees, its calls kept
    assert witness["link"] == "config-history" and witness["status"] == "PASS"
    assert witness["evidence"] and all((out / e).is_file() for e in witness["evidence"])
    # one note per break that held root events: the break said once, then each event inside it
    assert re.fullmatch(r"1 root event fell while the chain was broken \S+ \S+ – \S+ \S+ UTC \(.+?\), broken by .+"
                        r": \S+ \S+ UTC \(event [^()]+\)", healthy["notes"][0])
    assert any(n.startswith("logging: broken ") and "StopLogging" in n and "fixed by StartLogging" in n
               for n in healthy["notes"])
    csv = pd.read_csv(out / "findings.csv")
    assert "RW-2" in " ".join(map(str, csv.to_numpy().ravel()))
    ocsf = json.loads((out / "findings.ocsf.json").read_text())
    assert any("RW-2" in json.dumps(f) for f in ocsf)
    html = (out / "report.html").read_text()
    assert "healthy (111111111111) — rootwatch test RW-2 (chain operated throughout, related to CIS 4.3): FAIL" in html
    assert re.search(r'alt="The chain of healthy \(111111111111\) over [^"]*: multi-region trail operated 100.0 %', html)
    assert "<h3>AWS Config's configuration history beside CloudTrail's events" in html  # its table's title
    # its links table is printed once, in section 3, where section 5d's link to it leads
    section = html[html.rindex("5d. Did the chain operate"):html.rindex("5e. Other monitors")]
    assert "root events fell while the chain was broken: operated " not in section
    anchor = re.search(r'<a href="#([^"]+)">its links, reasons, evidence and notes: section 3', section).group(1)
    under = html[html.index(f'<h3 id="{anchor}">'):]
    assert "root events fell while the chain was broken: operated " in under[:under.index("<h3", 1)]


def test_an_alternative_monitor_is_a_finding_of_its_own_and_leaves_the_cis_verdict(demo_run):
    """Issue 20: the drifted account, monitored by an EventBridge rule beside its broken chain, fails
    CIS 4.3 and passes RW-3, whose evidence is the rule's raw calls; the report says so in both findings."""
    _, out = demo_run
    findings = {(f["account_label"], f["key"]): f for f in json.loads((out / "findings.json").read_text())}
    assert findings["drifted", "4.3"]["status"] == "FAIL"
    assert ("healthy", "RW-3 alternative monitor (4.3)") not in findings  # no rule on root use: nothing to record
    rw3 = findings["drifted", "RW-3 alternative monitor (4.3)"]
    [link] = rw3["links"]
    assert rw3["status"] == "PASS" and rw3["test"] == "RW-3" and link["reason"].startswith(
        'alternative monitor found: rule "root-activity" (us-east-1) → topic '
        "arn:aws:sns:us-east-1:222222222222:security-alerts (confirmed subscriber: 1 confirmed subscriber(s)")
    assert link["evidence"] and all((out / e).is_file() for e in link["evidence"])
    assert any(n.startswith("alternative monitor found") for n in findings["drifted", "4.3"]["notes"])
    html = (out / "report.html").read_text()
    assert "drifted (222222222222) — rootwatch test RW-3 (alternative monitor, related to CIS 4.3): PASS" in html
    section = html[html.rindex("5e. Other monitors"):html.rindex("6. Evidence gaps")]  # the section, not the contents
    assert "healthy (111111111111)" not in section
    # the rule's reason is printed once, in section 3: 5e links to it there
    assert "alternative monitor found: rule" not in section
    anchor = re.search(r'<a href="#([^"]+)">its links, reasons, evidence and notes: section 3', section).group(1)
    under = html[html.index(f'<h3 id="{anchor}">'):]
    under = under[:under.index("<h3", 1)]
    assert ">drifted (222222222222) — rootwatch test RW-3 (alternative monitor, related to CIS 4.3): PASS" in under
    assert "alternative monitor found: rule" in under


def test_every_report_file_is_present(demo_run):
    _, out = demo_run
    assert (out / "report.html").is_file() and (out / "root_usage_evidence.ipynb").is_file()
    assert not (out / "INCOMPLETE").exists()
    for name in ("trails", "event_selectors", "metric_filters", "alarms", "subscriptions", "alarm_history",
                 "metric_datapoints", "gaps", "api_calls", "root_events"):
        csv, parquet = out / "data" / f"{name}.csv", out / "data" / f"{name}.parquet"
        assert csv.is_file() and parquet.is_file()
        assert list(pd.read_parquet(parquet).columns) == list(pd.read_csv(csv).columns)
    raw = sorted((out / "raw").rglob("*.json"))
    assert len(raw) >= 20 and json.loads(raw[0].read_text())["call"]["operation"]
    assert len(pd.read_parquet(out / "data" / "api_calls.parquet")) == len(raw)


def test_no_credentials_anywhere_in_the_run(demo_run):
    _, out = demo_run
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert "sandbox-secret" not in text, path
            assert '"SessionToken": "' not in text.replace('"SessionToken": "<redacted>"', ""), path


def test_report_is_self_contained_and_escaped(demo_run):
    _, out = demo_run
    html = (out / "report.html").read_text()
    assert "<script" not in html and "http://" not in html.split("</head>")[0]
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data:image/png;base64," in html
    assert "blind spot" in html and "PendingConfirmation" in html
    # a working paper: a table of contents, and every evidence path a link to the bundle's own file
    assert '<nav class="toc">' in html and '<a href="#section-1">1. Scope and method</a>' in html
    links = re.findall(r'<a href="([^"#][^"]*)"', html)
    assert links and all(link.startswith("raw/") and (out / link).is_file() for link in links)
    # each data table tells the printed page its columns' widths (in percent, from its data)
    tables = re.findall(r'<table class="dataframe"><colgroup>(.*?)</colgroup>', html)
    assert len(tables) == html.count('<table class="dataframe"') > 20
    assert all(sum(map(int, re.findall(r'<col class="w(\d+)">', t))) == 100 for t in tables)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_every_column_of_every_table_is_on_the_printed_page(demo_run):
    """A column past the page's edge is cut from the PDF, the auditor's copy: wide tables print on
    landscape pages, and no word of the PDF lies beyond its page."""
    import re

    _, out = demo_run
    boxes = subprocess.run(["pdftotext", "-bbox", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    pages = boxes.split("<page ")[1:]
    beyond = [(n, word) for n, page in enumerate(pages, 1)
              for right, word in re.findall(r'xMax="([\d.]+)"[^>]*>([^<]*)<', page)
              if float(right) > float(re.search(r'width="([\d.]+)"', page).group(1))]
    assert not beyond, beyond[:10]
    landscape = [p for p in pages if float(re.search(r'width="([\d.]+)"', p).group(1)) >
                 float(re.search(r'height="([\d.]+)"', p).group(1))]
    assert landscape and all(any(word in p for p in landscape) for word in (">counted<", ">why<", ">user_agent<"))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_a_sandbox_report_says_so_on_every_page_and_its_cover_names_who_and_how_to_verify(demo_run):
    """The PDF is what auditors are usually handed, alone: every page of a sandbox run says it is not
    evidence, and the cover names the edition's control, rootwatch's version and commit, the people
    (or that they were not named) and the bundle it belongs to with how to verify it."""
    _, out = demo_run
    text = subprocess.run(["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) > 5 and all("SANDBOX — not evidence of any AWS account" in page for page in pages)
    html = (out / "report.html").read_text()
    assert '<div class="banner">SANDBOX — not evidence of any AWS account</div>' in html
    records = json.loads((out / "findings.json").read_text())  # a record travels without the report around it
    assert records and all(r["not_evidence"] == "SANDBOX — not evidence of any AWS account" for r in records)
    cover = " ".join(pages[0].split())
    assert "Usage of the 'root' account is monitored — evidence report, CIS Amazon Web Services Foundations " \
           "Benchmark v5.0.0 4.3" in cover
    assert "prepared by not named (report.preparer in the parameter file)" in cover
    assert re.search(r"rootwatch version \S+, commit [0-9a-f]{12}", cover)
    assert f"belongs to the evidence bundle {out.name}: rootwatch verify {out.name}" in cover
    assert f"belongs to the evidence bundle {out.name}: rootwatch verify {out.name} --trusted-key" in html
    assert not re.search(r"\d\d:\d\d:\d\d\.\d{6}", cover), "times to the second, no microseconds"


def test_the_cover_names_the_organisation_preparer_and_reviewer_given(tmp_path):
    params = tmp_path / "named.yaml"
    params.write_text((ROOT / "parameters" / "sandbox.yaml").read_text() + (
        "report: {organisation: Example Corp, preparer: A. Preparer (GRC), reviewer: <b>R. Reviewer</b>}\n"
        "pdf: {renderer: none}\n"))
    done = _run(str(params), "--set", "accounts=[healthy]", "--out", str(tmp_path / "bundle"), "--quiet")
    assert done.returncode in (0, 1), done.stderr
    html = (tmp_path / "bundle" / "report.html").read_text()
    for label, value in (("organisation", "Example Corp"), ("prepared by", "A. Preparer (GRC)"),
                         ("reviewed by", "&lt;b&gt;R. Reviewer&lt;/b&gt;")):
        assert f"<tr><th>{label}</th><td>{value}</td></tr>" in html


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_in_headless_chromium_shows_the_script_as_text_and_runs_none(demo_run, tmp_path):
    _, out = demo_run
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000", "--dump-dom",
         (out / "report.html").as_uri()], capture_output=True, text=True, timeout=120, check=False)
    dom = done.stdout
    assert "Usage of the 'root' account is monitored" in dom and "Audit working paper" in dom, done.stderr[-2000:]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # shown as text
    assert "<script" not in dom  # no script element exists, so none ran
    assert dom.count("<img") >= 6  # the charts rendered inline


def test_papermill_runs_the_notebook_directly(tmp_path):
    """The parameter file as given and one parameter changed on papermill's command line, as its users run
    notebooks (one account: what is tested is papermill running the notebook, not the organisation)."""
    done = subprocess.run([sys.executable, "-m", "papermill", "-f", str(ROOT / "parameters" / "sandbox.yaml"),
                           "-y", "accounts: [drifted]", str(ROOT / "notebooks" / "root_usage_evidence.ipynb"),
                           str(tmp_path / "out.ipynb"), "--no-progress-bar"], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "CIS 0 PASS, 1 FAIL, 0 GAP; rootwatch tests 1 PASS, 2 FAIL, 0 GAP" in (tmp_path / "out.ipynb").read_text()


@pytest.fixture
def params(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "params.yaml"
        path.write_text(text)
        return path
    return write


BAD = [
    ("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\ncolour: red\n", [], "unknown parameter(s): colour"),
    ("source: sandbox\nregions: [us-east-1]\n", [], "missing parameter(s): window"),
    ("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q9\n", [], "window '2026-Q9' is not a quarter"),
    ("source: sandbox\nregions: [us-east-1]\nwindow: {start: 2026-07-01, end: 2026-06-01}\n", [], "before its start"),
    ("source: sandbox\nregions: [us-east-7]\nwindow: 2026-Q3\n", [], "unknown region(s): us-east-7"),
    ("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\n", ["window=soon"], "window 'soon'"),
    ("source: sandbox\nregions: [us-east-1\n", [], "is not valid YAML"),
    ("source: aws\nregions: [us-east-1]\nwindow: 2026-Q3\n", [], "no AWS credentials found"),
    ("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\ncontrols: ['9.99']\n", [], "unknown control '9.99'"),
    ("source: sandbox\nregions: [us-east-1]\nwindow: 2026-Q3\nbenchmark: cis-v1\n", [], "unknown benchmark"),
    ("source: aws\nprofile: nobody\nregions: [us-east-1]\nwindow: 2026-Q3\n", [], "profile 'nobody' does not exist"),
]


@pytest.mark.parametrize(("text", "sets", "message"), BAD)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(params, tmp_path, text, sets, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true"}
    work = tmp_path / "work"
    work.mkdir()
    done = _run(str(params(text)), *[a for s in sets for a in ("--set", s)], cwd=work, env=env)
    assert done.returncode == 2, done
    assert done.stderr.startswith("rootwatch: ") and done.stderr.count("\n") == 1 and message in done.stderr
    assert list(work.iterdir()) == []  # not even reports/


def test_existing_out_directory_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "previous"
    out.mkdir()
    (out / "report.html").write_text("an earlier, signed report")
    done = _run(str(ROOT / "parameters" / "sandbox.yaml"), "--out", str(out))
    assert done.returncode == 2 and "already exists" in done.stderr and done.stderr.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["report.html"]
    assert (out / "report.html").read_text() == "an earlier, signed report"


def test_unknown_sandbox_account_is_bad_input_and_run_marked_incomplete(tmp_path, params):
    out = tmp_path / "run"
    done = _run(str(params("source: sandbox\naccounts: [nosuch]\nregions: [us-east-1]\nwindow: last-30-days\n")),
                "--out", str(out), "--quiet")
    assert done.returncode == 2 and "the sandbox has no account nosuch" in done.stderr
    incomplete = tmp_path / "run.incomplete"
    assert not out.exists() and (incomplete / "INCOMPLETE").is_file() and not (incomplete / "report.html").exists()


def test_rootwatch_runs_papermill_without_importing_pyarrow_which_stays_importable():
    """papermill imports pyarrow (and numpy) only for hdfs:// paths, which a run never uses: the run's
    own process does not pay for them, and code that wants pyarrow still gets it."""
    code = ("import sys\n"
            "from rootwatch.runner import import_papermill\n"
            "import_papermill()\n"
            "print('papermill' in sys.modules, 'pyarrow' in sys.modules, 'numpy' in sys.modules)\n"
            "import pyarrow.fs\n"
            "print(pyarrow.fs.LocalFileSystem is not None)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False", "False", "True"]
