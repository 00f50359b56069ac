"""Hostile CloudTrail text through a whole `rootwatch run` (issue 9, "Hostile and malformed data").

`rootwatch sandbox --hostile` serves the demo organisation whose healthy account
also holds one root `CreateRole` per payload of `sandbox/hostile.py` — markup, Markdown, LaTeX,
control and bidirectional characters, a 100 KB value, a lone surrogate, spreadsheet formulas — in its
userAgent, errorMessage, requestParameters and resource ARN. That account is audited once, as an AWS endpoint,
and each output is checked for what its reader would notice: the report in a real browser runs and
fetches nothing and shows the text; the PDF shows it; the notebook is valid and escaped; every CSV
parses and holds no live formula; Parquet and the raw responses keep every value whole.
"""

from __future__ import annotations

import csv
import html
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from rootwatch.sandbox.hostile import EXTERNAL_HOST, LONG, PAYLOADS
from rootwatch.untrusted import CELL_LIMIT, FORMULA_START, SPREADSHEET_LIMIT, encodable, visible
from tests.devtools import CHROMIUM, chromium, visit
from tests.sandbox_process import ROOT, child_environment, serve

HEALTHY = "111111111111"
CUT_NOTE = f"[cut at {CELL_LIMIT:,} of {LONG:,} characters"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile organisation served in its own process and its healthy account, whose root events
    carry the hostile text, audited once by `rootwatch run`."""
    folder = tmp_path_factory.mktemp("hostile")
    with serve(folder, "--hostile") as sandbox:
        params = folder / "hostile.yaml"
        params.write_text(yaml.safe_dump({"source": "aws", "accounts": [sandbox.members[HEALTHY]],
                                          "regions": ["us-east-1"], "window": "last-90-days", "controls": ["4.3"]}))
        done = subprocess.run([str(Path(sys.executable).with_name("rootwatch")), "run", str(params), "--out",
                               str(folder / "bundle"), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=600, check=False,
                              env=child_environment(**sandbox.exports, XDG_CONFIG_HOME=str(folder / "config")))
    assert done.returncode == 0, done.stderr[-3000:]  # CIS 4.3 PASSes (its rootwatch tests, not in the exit code, FAIL)
    assert "1 PASS, 0 FAIL, 0 GAP over 1 account(s)" in done.stdout
    return folder / "bundle"


@pytest.fixture(scope="module")
def hostile_events(bundle: Path) -> pd.DataFrame:
    events = pd.read_parquet(bundle / "data" / "root_events.parquet")
    return events[(events.account_id == HEALTHY) & (events.event_name == "CreateRole")].reset_index(drop=True)


def test_every_hostile_event_is_judged_like_any_root_event_and_kept_whole(hostile_events):
    assert list(hostile_events.user_agent) == [encodable(p) for p in PAYLOADS.values()]  # in time order
    assert hostile_events.counted.all() and hostile_events.reference_counts.all()
    assert list(hostile_events.error_code) == ["ValidationException"] * len(PAYLOADS)
    long = hostile_events.iloc[list(PAYLOADS).index("long")]
    assert len(long.user_agent) == LONG and long.error_message.count("A") >= LONG - 5
    assert json.loads(long.request_parameters)["roleName"] == PAYLOADS["long"]


def test_raw_responses_keep_the_records_exactly(bundle):
    """The raw FilterLogEvents responses are the evidence: valid JSON, every value as AWS returned it
    (the lone surrogate as its JSON escape), the resource ARN included."""
    messages = [json.loads(event["message"])
                for path in (bundle / "raw" / HEALTHY).rglob("*FilterLogEvents.json")
                for page in json.loads(path.read_text(encoding="utf-8"))["responses"] for event in page["events"]]
    hostile = [m for m in messages if m["eventName"] == "CreateRole"]
    assert [m["userAgent"] for m in hostile] == list(PAYLOADS.values())
    assert [m["resources"][0]["ARN"] for m in hostile] == [f"arn:aws:iam::{HEALTHY}:role/{p}" for p in PAYLOADS.values()]


def test_report_html_holds_no_live_markup(bundle):
    page = (bundle / "report.html").read_text(encoding="utf-8")
    head, body = page.split("</head>", 1)
    assert "default-src 'none'" in head and "<script" not in page
    for tag in ("<img src=x", "<img src=\"http", "<svg", "<iframe", "<style>body", "<a href=\"javascript"):
        assert tag not in body, tag
    assert html.escape(PAYLOADS["script"], quote=False) in body  # shown, as text
    assert html.escape(PAYLOADS["external-image"], quote=False) in body
    # images are embedded; links go to an anchor of the page or to a raw response of the bundle, a path
    # of rootwatch's making (no scheme, nothing above the bundle), never to anything an event names
    assert not re.search(r"<(img|a)\b[^>]*\b(src|href)=\"(?!data:image/png;base64,|#|raw/)", body)
    links = re.findall(r"<a\b[^>]*\bhref=\"(raw/[^\"]*)\"", body)
    assert links and all(".." not in link and (bundle / html.unescape(link)).is_file() for link in links)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_browser_watch_sees_a_script_a_dialog_a_request_and_a_refusal(tmp_path):
    """The report's checks below assert absences; this page shows each one would be seen."""
    page_file = tmp_path / "live.html"
    page_file.write_text(f'<meta http-equiv="Content-Security-Policy" content="img-src data:"><p>x</p>'
                         f'<script>alert("ran")</script><img src="http://{EXTERNAL_HOST}/blocked.png">'
                         '<iframe src="data:text/html,framed"></iframe>', encoding="utf-8")
    with chromium(tmp_path / "profile") as page:
        seen = visit(page, page_file.as_uri(), settle=1.0)
    assert seen.scripts and seen.dialogs == ["ran"]
    assert any("Content Security Policy" in message for message in seen.console)
    assert "data:text/html,framed" in seen.requests


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_in_chromium_runs_and_fetches_nothing_and_shows_every_payload_as_text(bundle, tmp_path):
    with chromium(tmp_path / "profile") as page:
        seen = visit(page, (bundle / "report.html").as_uri())
        text = page.evaluate("document.body.innerText")
        live = page.evaluate("""[...document.querySelectorAll('*')].filter(e =>
            ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'SVG', 'LINK', 'BASE', 'FORM'].includes(e.tagName.toUpperCase())
            || [...e.attributes].some(a => a.name.startsWith('on') || /^\\s*javascript:/i.test(a.value))
            || (e.tagName === 'STYLE' && e.parentElement !== document.head)).map(e => e.outerHTML.slice(0, 80))""")
    assert seen.scripts == [] and seen.dialogs == []  # no script was even compiled, none opened a dialog
    assert [u for u in seen.requests if not u.startswith("data:image/png;base64,")] == [seen.url]  # nothing fetched
    assert EXTERNAL_HOST not in " ".join(seen.requests)
    assert seen.console == []  # not even a Content-Security-Policy refusal: nothing got that far
    assert live == []
    for name, payload in PAYLOADS.items():
        shown = visible(payload)
        assert (shown[:CELL_LIMIT] if name == "long" else shown) in text, name
    assert CUT_NOTE in text and "A" * (CELL_LIMIT + 1) not in text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f]", text)


def test_pdf_renders_and_shows_the_payloads_as_text(bundle):
    info = subprocess.run(["pdfinfo", str(bundle / "report.pdf")], capture_output=True, text=True, check=False)
    assert info.returncode == 0 and int(re.search(r"Pages:\s+(\d+)", info.stdout)[1]) > 1, info.stderr
    text = subprocess.run(["pdftotext", str(bundle / "report.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat = " ".join(text.replace("\u200b", "").split())  # wrapped lines joined; <wbr> leaves a zero-width space
    for name, payload in PAYLOADS.items():
        assert " ".join(visible(payload).split())[:30] in flat, name
    assert CUT_NOTE in flat and "A" * (CELL_LIMIT + 1) not in flat.replace(" ", "")


def test_the_notebook_is_valid_and_its_outputs_escape_the_payloads(bundle):
    raw = (bundle / "root_usage_evidence.ipynb").read_bytes()
    notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)  # strict UTF-8: no surrogate made it in
    nbformat.validate(notebook)
    outputs = "".join(o.get("data", {}).get("text/html", "") for cell in notebook.cells
                      for o in cell.get("outputs", []))
    assert html.escape(PAYLOADS["script"]) in outputs and html.escape(PAYLOADS["img-onerror"]) in outputs
    assert "\\x1b[31mRED" in outputs and "\\u202egpj.exe" in outputs and CUT_NOTE in outputs
    for live in ("<script", "<img src=x", "<svg", "<iframe", "<style>", "\x1b", "\u202e", "A" * (CELL_LIMIT + 1)):
        assert live not in outputs, live


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))  # the module's default limits: a spreadsheet user's reader


def test_every_csv_parses_back_and_no_cell_is_a_live_formula(bundle):
    checked = 0
    for path in sorted((bundle / "data").glob("*.csv")):
        rows = _csv_rows(path)
        parquet = pd.read_parquet(path.with_suffix(".parquet"))
        assert rows[0] == list(parquet.columns) and len(rows) == len(parquet) + 1, path.name
        text = [i for i, column in enumerate(parquet.columns) if pd.api.types.is_string_dtype(parquet[column])]
        for row in rows[1:]:
            assert len(row) == len(rows[0]), path.name
            for i in text:
                assert not row[i].startswith(FORMULA_START) and len(row[i]) <= SPREADSHEET_LIMIT, (path.name, row[i][:40])
                checked += 1
    assert checked > 1000
    findings = _csv_rows(bundle / "findings.csv")
    assert len(findings) == 1 + len(json.loads((bundle / "findings.json").read_text()))


def test_the_root_events_csv_shows_each_formula_quoted_and_the_rest_as_recorded(bundle):
    rows = _csv_rows(bundle / "data" / "root_events.csv")
    header = rows[0]
    agents = [row[header.index("user_agent")] for row in rows[1:]
              if row[header.index("event_name")] == "CreateRole" and row[header.index("account_id")] == HEALTHY]
    for agent, (name, payload) in zip(agents, PAYLOADS.items(), strict=True):
        if name == "long":
            assert agent.startswith("long:AAAA") and agent.endswith("the whole value is in the Parquet file and raw/]")
        else:
            assert agent == ("'" if payload.startswith(FORMULA_START) else "") + encodable(payload), name
