"""Tables and figures into a notebook's outputs, safely: every cell of data is escaped.

CloudTrail fields are attacker-controlled, and a notebook renders HTML: headings and table cells go
through ``untrusted.html_cell`` (escaped; control and bidirectional characters shown as escapes;
overlong values cut; long tokens allowed to wrap); figures are PNG bytes (no SVG text to inject into).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from rootwatch.untrusted import html_cell

if TYPE_CHECKING:  # annotations only: tables are shown without matplotlib
    from rootwatch.report.charts import Chart

WIDE = 8  # columns from which a table is printed on a landscape page (the report's print style)


def heading(text: str) -> None:
    """A section heading from data: escaped, since account labels come from the account."""
    from IPython.display import HTML, display

    display(HTML(f"<h3>{html_cell(text)}</h3>"))


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
    html = (f"<h3>{html_cell(title)}</h3>" if title is not None else "") + table
    display(HTML(f'<div class="wide">{html}</div>' if len(df.columns) >= WIDE else html))


def show_chart(chart: Chart) -> None:
    """PNG bytes without a creation stamp, whatever backend the kernel has, with the chart's alt
    text in the output's metadata: the report's ``<img alt>`` (nbconvert would otherwise write "No
    description has been provided for this image")."""
    import io

    from IPython.display import Image, display

    figure = chart.figure
    if figure.get_layout_engine() is not None:
        # savefig draws a figure with a layout engine twice (once blind, to lay it out, then for real) and
        # lays it out on each draw; laid out once here and then drawn once, the PNG is byte for byte the same
        figure.get_layout_engine().execute(figure)
        figure.set_layout_engine(None)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    display(Image(data=buffer.getvalue(), format="png", alt=chart.alt))


def show_code(text: str) -> None:
    """Commands or templates as escaped preformatted text (they carry filter patterns and names)."""
    from html import escape

    from IPython.display import HTML, display

    display(HTML(f"<pre>{escape(text)}</pre>"))
