"""What a command tells its operator on stderr: plain lines for people, one JSON object per line for
schedulers and log shippers (``--log-format json``). stdout keeps the one-line result either way, so
``rootwatch run ... | tail -1`` and a JSON log collector can both read the same run."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO


@dataclass
class Log:
    """``quiet`` drops informational text lines (warnings and errors still print); ``debug`` records
    (what the libraries underneath say to developers) are never text; JSON records are never dropped —
    a machine asked for them."""

    json: bool = False
    quiet: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)

    def debug(self, event: str, message: str, **fields: Any) -> None:
        self._emit("debug", event, message, fields)

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
        elif level == "debug" or (self.quiet and level == "info"):
            return
        else:
            line = message
        self.stream.write(line + "\n")
        self.stream.flush()

    @contextlib.contextmanager
    def capturing(self, show: bool = True) -> Iterator[None]:
        """Python warnings and library log records (a dependency deprecating something at import time,
        pyhanko reporting an untrusted chain) become records of this log — one JSON object per line
        when a machine asked for JSON — instead of free text on stderr that breaks the output contract.
        ``show=False`` drops them: a command whose stderr is its verdict prints nothing else."""
        def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                         file: Any = None, line: str | None = None) -> None:
            if show:  # a deprecation speaks to developers: JSON logs keep it, a person's terminal does not
                emit = self.debug if category.__name__.endswith("DeprecationWarning") else self.warning
                text = " ".join(str(message).split())
                emit("python-warning", f"rootwatch: warning ({category.__name__}): {text}",
                     category=category.__name__, origin=f"{filename}:{lineno}")

        handler = _Forward(self, show)
        root = logging.getLogger()
        saved = warnings.showwarning, root.handlers[:], root.level
        warnings.showwarning = show_warning
        root.handlers[:] = [handler]
        root.setLevel(logging.WARNING)
        try:
            yield
        finally:
            warnings.showwarning = saved[0]
            root.handlers[:] = saved[1]
            root.setLevel(saved[2])


class _Forward(logging.Handler):
    """Library log records at WARNING and above, as records of the command's log: warnings for JSON
    logs only (botocore warns of a credential refresh the command's own error then names), errors as a
    warning line too. No tracebacks: a library's stack is not the operator's business, and may quote data."""

    def __init__(self, log: Log, show: bool) -> None:
        super().__init__(logging.WARNING)
        self.log, self.show = log, show

    def emit(self, record: logging.LogRecord) -> None:
        if self.show:
            emit = self.log.warning if record.levelno >= logging.ERROR else self.log.debug
            text = " ".join(record.getMessage().split())
            emit("library-log", f"rootwatch: {record.name}: {text}", logger=record.name,
                 severity=record.levelname.lower())
