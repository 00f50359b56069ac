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
