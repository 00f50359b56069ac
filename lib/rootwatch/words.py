"""Values as a report's reader reads them: a duration in words, not Python's ``0 days 00:20:00``."""

from __future__ import annotations

from datetime import timedelta

UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration(delta: timedelta, largest: int | None = None) -> str:
    """``timedelta(minutes=20)`` → "20 minutes"; ``timedelta(days=1, minutes=5)`` → "1 day 5 minutes";
    ``largest``: only that many of the largest units (a chart's legend: "8 hours 38 minutes")."""
    seconds = round(abs(delta.total_seconds()))
    parts = []
    for name, size in UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts[:largest]) or "0 seconds"


def plural(n: int, noun: str) -> str:
    """``plural(1, "root event")`` → "1 root event", ``plural(1234, "root event")`` → "1,234 root events":
    a count a report prints is exactly true in number and in grammar, wherever it is said."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
