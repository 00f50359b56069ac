"""What a run shows: the sanitized HTML report (``html``) and its template, charts, PDF, OCSF/CSV
exports, and the terminal's tables (``console``)."""
