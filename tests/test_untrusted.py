"""Caller-chosen text in each output: shown inert in tables, writable as UTF-8, never a spreadsheet
formula (the whole-run view is tests/test_hostile.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime

import pandas as pd
import pytest

from rootwatch.frames import tables as frames
from rootwatch.report import exports
from rootwatch.models import Finding, Link, LinkVerdict, Status
from rootwatch.untrusted import CELL_LIMIT, SPREADSHEET_LIMIT, encodable, html_cell, spreadsheet_cell, terminal, visible


def test_invisible_characters_are_shown_as_escapes_and_text_is_kept():
    assert visible("\x1b[31mRED\x1b[0m") == "\\x1b[31mRED\\x1b[0m"  # no terminal or page colours it
    assert visible("a\x00b\x7f\x85c") == "a\\x00b\\x7f\\x85c"
    assert visible("invoice\u202egpj.exe") == "invoice\\u202egpj.exe"  # not shown as "invoiceexe.jpg"
    assert visible("line one\nline\ttwo") == "line one\nline\ttwo"  # layout characters stay
    assert visible("r\u00e9sum\u00e9 \u65e5\u672c") == "r\u00e9sum\u00e9 \u65e5\u672c"  # letters of any script stay


def test_an_overlong_value_is_cut_with_its_length_and_where_the_rest_is():
    shown = visible("A" * 102_400)
    assert shown.startswith("A" * CELL_LIMIT) and "A" * (CELL_LIMIT + 1) not in shown
    assert shown.endswith(f"… [cut at {CELL_LIMIT:,} of 102,400 characters; the whole value is in "
                          "data/*.parquet and raw/]")
    assert visible("A" * CELL_LIMIT) == "A" * CELL_LIMIT


def test_a_lone_surrogate_becomes_the_replacement_character():
    assert encodable("lone \ud800 and \udcff") == "lone \ufffd and \ufffd"
    assert encodable("pair \U0001f600") == "pair \U0001f600"
    assert visible("x\ud800").encode("utf-8") == "x\ufffd".encode()


def test_terminal_text_stays_on_one_line_and_acts_on_nothing():
    shown = terminal("a\x1b[2J\tb\nVERIFIED\r\u2028c\u202egnp.exe\x9b\ud800 ok")
    assert shown == "a\\x1b[2J\\x09b\\x0aVERIFIED\\x0d\\u2028c\\u202egnp.exe\\x9b\ufffd ok"
    assert terminal("x" * 30, 10) == "x" * 10 + "… [cut at 10 of 30 characters]"


def test_html_cell_escapes_and_lets_long_tokens_wrap_without_breaking_an_entity():
    cell = html_cell('<img src=x onerror="alert(1)">' + "&" * 60)
    assert cell.startswith("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;")
    assert "<" not in cell.replace("<wbr>", "")
    assert cell.replace("<wbr>", "") == '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;' + "&amp;" * 60
    assert all(len(run) <= 40 * len("&amp;") for run in cell.split("<wbr>"))
    assert html_cell("a " * 50) == "a " * 50  # text with spaces wraps by itself
    assert html_cell("raw/a.json\nraw/b.json\t") == "raw/a.json<br>raw/b.json&#9;"


@pytest.mark.parametrize("formula", ["=cmd|' /C calc'!A0", "+SUM(1+1)", "-1+1", "@SUM(1)", "\t=1+1", "\r=1+1"])
def test_a_cell_a_spreadsheet_would_run_starts_with_a_quote(formula):
    assert spreadsheet_cell(formula) == "'" + formula


def test_ordinary_cells_are_unchanged_and_long_ones_fit_a_spreadsheet_cell():
    assert spreadsheet_cell("arn:aws:iam::111111111111:role/x") == "arn:aws:iam::111111111111:role/x"
    cut = spreadsheet_cell("=" + "A" * 200_000)
    assert len(cut) <= SPREADSHEET_LIMIT and cut.startswith("'=AAA")
    assert cut.endswith("… [cut: 200,001 characters; the whole value is in the Parquet file and raw/]")


def test_frame_csv_reads_back_cell_for_cell_with_formulas_neutralised(tmp_path):
    hostile = ["=cmd|' /C calc'!A0", "\r=1+1", "two\nlines", 'quote " and , comma', "x\ud800"]
    df = frames.frame("root_events", [{"time": datetime(2026, 9, 1, tzinfo=UTC), "user_agent": ua, "counted": True}
                                      for ua in hostile])
    path = frames.write_csv(df, tmp_path / "root_events.csv")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["user_agent"] for r in rows] == ["'=cmd|' /C calc'!A0", "'\r=1+1", "two\nlines", 'quote " and , comma',
                                               "x\ufffd"]
    assert [r["counted"] for r in rows] == ["True"] * 5 and rows[0]["time"].startswith("2026-09-01")
    assert list(pd.read_csv(path).columns) == list(df.columns)


def test_findings_csv_neutralises_names_from_the_account():
    finding = Finding("111111111111", "acct", "4.3", "cis-v5.0", "Root usage", 1, Status.FAIL,
                      [LinkVerdict(Link.METRIC_FILTER, Status.FAIL, "x")])
    named = replace(finding, title="=HYPERLINK(\"http://evil.example\")")
    text = exports.cis_csv([finding, named], datetime(2026, 9, 1, tzinfo=UTC), "CIS v5.0", ["us-east-1"])
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[1]["DESCRIPTION"] == "'=HYPERLINK(\"http://evil.example\")" and rows[0]["DESCRIPTION"] == "Root usage"
    assert text.count("\r\n") == 3  # RFC 4180 rows
