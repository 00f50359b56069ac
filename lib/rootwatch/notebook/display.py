"""Tables and figures into a notebook's outputs, safely: every cell of data is escaped.

CloudTrail fields are attacker-controlled, and a notebook renders HTML: headings and table cells go
through ``untrusted.html_cell`` (escaped; control and bidirectional characters shown as escapes;
overlong values cut; long tokens allowed to wrap); figures are PNG bytes (no SVG text to inject into).
"""

from __future__ import annotations

import math
import re
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from rootwatch.untrusted import html_cell

if TYPE_CHECKING:  # annotations only: tables are shown without matplotlib
    from rootwatch.report.charts import Chart

WIDE = 8  # columns from which a table is printed on a landscape page (the report's print style)
# A printed table's row, in characters of its 8px type (some 3.3 pt each) less its cells' padding: on A4
# or Letter, whichever is narrower, portrait (most tables) or landscape (``WIDE`` ones)
LINE, WIDE_LINE = 145, 210
BOLD = 1.2  # a header's bold characters are wider
WIDEST = 60  # characters: a column would like no more than this (longer lines wrap)
LONGEST_WORD = 30  # characters: a column needs no more than this (a longer word wraps where it must)
PADDING = 3  # characters: a cell's padding and a header's bold type


def heading(text: str, anchor: str | None = None) -> None:
    """A section heading from data: escaped, since account labels come from the account; with an
    ``anchor`` (an id) when another part of the report points to it."""
    from IPython.display import HTML, display

    display(HTML(f'<h3 id="{escape(anchor)}">{html_cell(text)}</h3>' if anchor else f"<h3>{html_cell(text)}</h3>"))


def pointer(text: str, anchor: str) -> None:
    """A line linking to the heading ``anchor`` elsewhere in the report: where what is under that
    heading would otherwise be printed a second time (no page number: WeasyPrint's target-counter
    laid the pages out again to find it)."""
    from IPython.display import HTML, display

    display(HTML(f'<p class="see"><a href="#{escape(anchor)}">{html_cell(text)}</a></p>'))


def show(df: pd.DataFrame, title: str | None = None) -> None:
    """A table as HTML, every cell and header escaped as data (``html_cell``), without pandas'
    inline style block, under ``title`` if given. Headers may wrap after an underscore: a column is
    then as narrow as its data. A table of ``WIDE`` columns or more goes in a ``wide`` block, which
    the report prints on landscape pages — with its title, so that a heading is never left alone at
    the foot of a page."""
    from IPython.display import HTML, display

    shown = df.astype(object).where(df.notna(), "")  # blank, not "<NA>", for what was not recorded
    cells = shown.map(lambda value: html_cell(str(value)))
    cells.columns = [html_cell(str(column)).replace("_", "_<wbr>") for column in df.columns]
    with pd.option_context("display.max_colwidth", None):
        table = cells.to_html(index=False, escape=False, border=0)
    wide = len(df.columns) >= WIDE
    columns = "".join(f'<col class="w{share}">' for share in column_shares(shown, WIDE_LINE if wide else LINE))
    table = table.replace(">", f"><colgroup>{columns}</colgroup>", 1)  # after the <table> tag
    html = (f"<h3>{html_cell(title)}</h3>" if title is not None else "") + table
    display(HTML(f'<div class="wide">{html}</div>' if wide else html))


def column_shares(shown: pd.DataFrame, line: int) -> list[int]:
    """Each column's width in percent of the table, by CSS's automatic table layout counted in
    characters instead of measured glyphs: a column needs its longest word (its header's in bold; at
    most ``LONGEST_WORD``: a longer one wraps) and would like its longest line (at most ``WIDEST``); if
    all would like more than the ``line`` characters a table's row holds, each gets what it needs plus
    a share of the rest in proportion to what it would like more. The report prints tables with these
    widths (``table-layout: fixed``) instead of measuring every cell twice to find them, which was most
    of the PDF's layout time. The shares add up to 100."""
    needs, likes = [], []
    for column in shown.columns:
        lines = [text for value in shown[column] for text in str(value).splitlines()]
        words = [len(word) for text in lines for word in text.split()]
        header = [math.ceil(len(word) * BOLD) for word in re.split(r"[\s_]+", str(column))]
        needs.append(min(max(words + header), LONGEST_WORD) + PADDING)
        likes.append(max(min(max(map(len, lines), default=0), WIDEST) + PADDING, needs[-1]))
    room, wanted = line - sum(needs), sum(likes) - sum(needs)
    widths = likes if wanted <= max(room, 0) else [n + (w - n) * max(room, 0) / wanted for n, w in zip(needs, likes)]
    shares = [max(1, int(100 * width / sum(widths))) for width in widths]
    if shares:  # the widest column takes what rounding down left over
        shares[shares.index(max(shares))] += 100 - sum(shares)
    return shares


def show_chart(chart: Chart) -> None:
    """PNG bytes without a creation stamp, whatever backend the kernel has, with the chart's alt
    text in the output's metadata: the report's ``<img alt>`` (nbconvert would otherwise write "No
    description has been provided for this image"). RGB, without matplotlib's alpha channel: a chart
    is drawn on an opaque face, so its alpha says nothing, yet the PDF would carry (and WeasyPrint
    encode) it as a second image under each chart."""
    import io

    from IPython.display import Image, display
    from PIL import Image as Pixels

    figure = chart.figure
    if figure.get_layout_engine() is not None:
        # savefig draws a figure with a layout engine twice (once blind, to lay it out, then for real) and
        # lays it out on each draw; laid out once here and then drawn once, the PNG is byte for byte the same
        figure.get_layout_engine().execute(figure)
        figure.set_layout_engine(None)
    drawn, opaque = io.BytesIO(), io.BytesIO()
    figure.savefig(drawn, format="png", metadata={"Software": None})
    pixels = Pixels.open(drawn)
    pixels.convert("RGB").save(opaque, format="png", dpi=pixels.info["dpi"])
    display(Image(data=opaque.getvalue(), format="png", alt=chart.alt))


def show_code(text: str) -> None:
    """Commands or templates as escaped preformatted text (they carry filter patterns and names)."""
    from IPython.display import HTML, display

    display(HTML(f"<pre>{escape(text)}</pre>"))
