"""Text written by whoever calls AWS, made safe for each place rootwatch writes it.

CloudTrail copies a caller's ``userAgent``, names and parameters into its records, and AWS echoes
them in ``errorMessage``: an attacker chooses that text. It is kept exactly in the raw evidence and
(but for lone surrogates) the Parquet frames; each other output gets the one treatment its reader
needs:

- ``encodable``: lone surrogates (a JSON ``\\ud800`` escape, invalid UTF-8 in a log file) cannot be
  written as UTF-8 — CSV, Parquet and the notebook file would fail — so they become U+FFFD;
- ``visible``: in the report and notebook tables, control characters (an ANSI escape, NUL) and
  bidirectional overrides (U+202E, which reverses what follows) are shown as escapes such as
  ``\\x1b`` and ``\\u202e`` rather than acting on the page, and a value longer than ``CELL_LIMIT`` is
  cut with a note saying where the whole value is; ``html_cell`` escapes that for HTML and lets
  long unbroken runs wrap, so one value cannot widen a table until its other columns leave the page;
- ``spreadsheet_cell``: a CSV cell a spreadsheet would run as a formula (``=cmd|' /C calc'!A0``)
  starts with a single quote (OWASP's rule for CSV injection), and a cell longer than a spreadsheet
  holds (32,767 characters; Python's csv reader stops at 131,072) is cut with a note;
- ``terminal``: one line of a terminal (``rootwatch verify`` printing a bundle's file names and
  signer names): as ``visible``, and line breaks and tabs as escapes too, so no value can start a
  line of its own (a file named ``x\nVERIFIED``).

Behind ``html_cell`` (tables and headings of the notebooks) the report adds Jinja's autoescape on its
cover, an allow-list sanitizer and a Content-Security-Policy forbidding scripts (``report``).
"""

from __future__ import annotations

import re
from html import escape

CELL_LIMIT = 3_000  # characters of one table cell in the report; rootwatch's own longest texts are ~2,500
SPREADSHEET_LIMIT = 32_767  # characters in one spreadsheet cell (Excel, LibreOffice Calc)
BREAK_AFTER = 40  # characters of a run without whitespace after which a line may wrap
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SURROGATE = re.compile("[\ud800-\udfff]")
_RUN = re.compile(rf"\S{{{BREAK_AFTER}}}")
# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional marks, embeddings,
# overrides and isolates (the "Trojan Source" characters)
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# and what breaks a line: tab, newline, the Unicode line and paragraph separators
_OFF_LINE = re.compile(f"[\t\n\u2028\u2029]|{_INVISIBLE.pattern}")
TERMINAL_LIMIT = 1_000  # characters of one printed value: a bundle's path, a signer's name


def encodable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it can be written as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, limit: int = CELL_LIMIT) -> str:
    """``text`` as a reader should see it in a table: invisible characters as escapes, and at most
    ``limit`` characters followed by a note giving the full length and where the value is kept."""
    shown = _INVISIBLE.sub(_escape, encodable(text[:limit]))
    if len(text) <= limit:
        return shown
    return f"{shown}… [cut at {limit:,} of {len(text):,} characters; the whole value is in data/*.parquet and raw/]"


def terminal(text: str, limit: int = TERMINAL_LIMIT) -> str:
    """``text`` as one line of a terminal: every character that could act on the terminal or break the
    line shown as an escape, and at most ``limit`` characters followed by the full length."""
    shown = _OFF_LINE.sub(_escape, encodable(text[:limit]))
    return shown if len(text) <= limit else f"{shown}… [cut at {limit:,} of {len(text):,} characters]"


def html_cell(text: str) -> str:
    """``visible(text)`` as escaped HTML, with a ``<wbr>`` (a place to wrap, never copied as a
    character) after every ``BREAK_AFTER`` characters of a run without whitespace, line breaks as
    ``<br>`` and tabs as a character reference (pandas' ``to_html`` would print them as ``\\n`` and
    ``\\t``)."""
    shown, out, at = visible(text), [], 0
    for run in _RUN.finditer(shown):
        out += [escape(shown[at:run.end()]), "<wbr>"]
        at = run.end()
    return ("".join(out) + escape(shown[at:])).replace("\n", "<br>").replace("\t", "&#9;")


def spreadsheet_cell(text: str) -> str:
    """``text`` as a CSV cell no spreadsheet runs as a formula, nor splits: a leading ``= + - @``,
    tab or carriage return gets a single quote in front (the quote shows; the text stays readable),
    and a value too long for a cell keeps its head and says where the whole value is."""
    if len(text) > SPREADSHEET_LIMIT:
        note = f"… [cut: {len(text):,} characters; the whole value is in the Parquet file and raw/]"
        text = text[:SPREADSHEET_LIMIT - len(note) - 1] + note
    return f"'{text}" if text.startswith(FORMULA_START) else text
