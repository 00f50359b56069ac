"""Plain records shared by the stages: no pandas, no boto3 (papermill's ``models.py`` habit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    """The period the evidence covers, in UTC; ``end`` is exclusive."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end:%Y-%m-%d}) before it starts ({self.start:%Y-%m-%d})")

    @property
    def days(self) -> float:
        return (self.end - self.start) / timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M} UTC"
