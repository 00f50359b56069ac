"""What a command tells its operator on stderr: plain lines for people, one JSON object per line for
schedulers and log shippers (``--log-format json``). stdout keeps the one-line result either way, so
``rootwatch run ... | tail -1`` and a JSON log collector can both read the same run."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO


@dataclass
class Log:
    """``quiet`` drops informational text lines (warnings and errors still print); JSON records are
    never dropped — a machine asked for them."""

    json: bool = False
    quiet: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)

    def info(self, event: str, message: str, **fields: Any) -> None:
        self._emit("info", event, message, fields)

    def warning(self, event: str, message: str, **fields: Any) -> None:
        self._emit("warning", event, message, fields)

    def error(self, event: str, message: str, **fields: Any) -> None:
        self._emit("error", event, message, fields)

    def _emit(self, level: str, event: str, message: str, fields: dict[str, Any]) -> None:
        if self.json:
            record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "level": level, "event": event,
                      "message": message, **fields}
            line = json.dumps(record, default=str, ensure_ascii=True)
        elif self.quiet and level == "info":
            return
        else:
            line = message
        self.stream.write(line + "\n")
        self.stream.flush()
