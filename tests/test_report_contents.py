"""The report as a working paper: a table of contents, and the evidence behind each verdict one click away."""

from __future__ import annotations

from rootwatch.report.html import contents, linked_evidence, sanitize


def test_each_section_gets_an_anchor_and_a_line_in_the_contents():
    body, sections = contents("<h2>1. Scope</h2><p>x</p><h3>detail</h3><h2>2. Verdicts &amp; more</h2>")
    assert body == ('<h2 id="section-1">1. Scope</h2><p>x</p><h3>detail</h3>'
                    '<h2 id="section-2">2. Verdicts &amp; more</h2>')
    assert sections == [("section-1", "1. Scope"), ("section-2", "2. Verdicts &amp; more")]


def test_a_raw_calls_path_becomes_a_link_relative_to_the_bundle_even_where_it_may_wrap():
    cell = "<td>raw/111111111111/us-east-1/0004-iam.Gene<wbr>rateCredentialReport.json</td>"
    assert linked_evidence(cell) == ('<td><a href="raw/111111111111/us-east-1/0004-iam.GenerateCredentialReport.json">'
                                     'raw/111111111111/us-east-1/0004-iam.Gene<wbr>rateCredentialReport.json</a></td>')


def test_text_that_only_looks_like_a_path_never_links_out_of_the_bundle():
    for text in ("raw/../../etc/passwd.json", "raw/.hidden/x.json", "https://example.com/raw/a/b.json",
                 "<td>raw/a/b.txt</td>"):
        assert "<a " not in linked_evidence(sanitize(text)), text


def test_a_tag_outside_the_allow_list_shows_as_text_and_no_attribute_outside_it_survives():
    """Defence behind the notebook's own escaping: markup a helper forgot to escape is neither run
    nor lost from the evidence: the reader sees it as the text it was."""
    assert sanitize('<svg onload=alert(1)><script>alert(2)</script></svg>') == (
        '&lt;svg onload=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;&lt;/svg&gt;')
    assert sanitize('<p title="<iframe>">a<b>b</b><Object data=x></p>') == (
        '<p>a<b>b</b>&lt;Object data=x&gt;</p>')
    assert sanitize('<a href="javascript:alert(1)" onclick="x">j</a><a href="#section-1" rel="x">s</a>'
                    '<img src="http://example.com/x.png"><img src="data:image/png;base64,AAAA" alt="c" style="x">') == (
        '<a>j</a><a href="#section-1">s</a><img><img src="data:image/png;base64,AAAA" alt="c">')


def test_a_printed_tables_columns_are_as_wide_as_their_data_asks():
    """The PDF prints data tables at widths worked out from their data (WeasyPrint no longer measures
    every cell to find them): a short column keeps room for its bold header's longest word, a column of
    long lines gets the most, and the shares fill the table."""
    import pandas as pd

    from rootwatch.notebook.display import BOLD, LINE, WIDE_LINE, column_shares

    links = pd.DataFrame({"status": ["PASS", "FAIL"], "reason": ["the trail is logging " * 10, "no"],
                          "evidence": ["raw/111111111111/us-east-1/0005-cloudtrail.GetTrailStatus.json", ""]})
    status, reason, evidence = column_shares(links, LINE)
    assert status + reason + evidence == 100 and status < evidence < reason
    assert status * LINE / 100 >= len("status") * BOLD
    # eight columns of long text squeezed onto a landscape row: each still gets its longest word
    events = pd.DataFrame({f"column_{n}": ["word " * 40 + "x" * 12] for n in range(8)})
    assert all(share * WIDE_LINE / 100 >= 12 for share in column_shares(events, WIDE_LINE))
