"""Verdicts: does a filter pattern cover a control's events (``pattern_coverage``), and would each account's
chain really alert, link by link (``chain``), and did its alarm fire for each root event counted
(``alarm_response``)."""
