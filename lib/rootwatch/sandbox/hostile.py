"""Hostile text for the sandbox's CloudTrail records: what an attacker can make AWS write.

CloudTrail copies a caller's ``userAgent`` header, the names and parameters it sends, and AWS
echoes rejected input in ``errorMessage``. An account whose ``activity`` says ``hostile: true``
(``rootwatch sandbox --hostile``) gets one root ``CreateRole`` per payload below carrying it in all four places,
so every output of a run — report, PDF, notebook, CSV, Parquet, raw evidence — meets each kind:
markup that would run or fetch if rendered, Markdown and LaTeX that a renderer might interpret,
control and bidirectional characters, a 100 KB value, a lone surrogate (invalid UTF-8 in the S3
log files) and spreadsheet formulas.
"""

from __future__ import annotations

EXTERNAL_HOST = "203.0.113.9"  # TEST-NET-3: a request to it means a payload was rendered, not shown
LONG = 100 * 1024

PAYLOADS: dict[str, str] = {
    "script": '<script>alert("rootwatch")</script>',
    "img-onerror": "<img src=x onerror=alert(1)>",
    "external-image": f'<img src="http://{EXTERNAL_HOST}/x.png">',
    "attribute-breakout": '"><svg onload=alert(1)>',
    "javascript-link": '<a href="javascript:alert(1)">click</a>',
    "style": f"<style>body{{background:url(http://{EXTERNAL_HOST}/css.png)}}</style>",
    "iframe": f'<iframe src="http://{EXTERNAL_HOST}/frame"></iframe>',
    "markdown": f"**bold** [link](http://evil.example/) ![pixel](http://{EXTERNAL_HOST}/md.png)",
    "latex": "$\\input{/etc/passwd}$ \\begin{verbatim} $$\\frac{1}{0}$$",
    "control": "ctl \x00\x01\x07\x08\x0b\x0c\x1b[31mRED\x1b[0m\x7f\x85 end",
    "bidi": "invoice\u202egpj.exe\u202c \u200fRTL\u200e mark",
    "surrogate": "lone \ud800 surrogate",
    "formula-cmd": "=cmd|' /C calc'!A0",
    "formula-plus": "+SUM(1+1)*cmd|' /C calc'!A0",
    "formula-minus": "-1+1+cmd|' /C calc'!A0",
    "formula-at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "formula-tab": "\t=1+1",
    "formula-cr": "\r=1+1",
    "long": ("long:" + "A" * LONG)[:LONG],
}


def iam_refusal(payload: str) -> str:
    """IAM's answer to a role name it refuses: it quotes the name back."""
    return (f"1 validation error detected: Value '{payload}' at 'roleName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+")
