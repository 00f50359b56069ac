"""An archive scan's matches as rows and as a Parquet file, without pandas.

Why: ``rootwatch events`` writes one Parquet file and nothing else; importing pandas to do it cost more
than half a second before every run (the start-up goal is under 0.5 s). This writes the same file that
``tables.frame("archive_events", ...).to_parquet(index=False)`` writes — the same Arrow types and the same
``pandas`` schema metadata — so ``pandas.read_parquet`` gives back the documented frame, dtypes included.
``tables`` declares ``archive_events`` from ``ARCHIVE_EVENTS`` and builds its frame from ``archive_rows``:
one declaration, one row builder, for both writers.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from itertools import accumulate
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from rootwatch.untrusted import encodable

if TYPE_CHECKING:
    from rootwatch.logarchive import ArchiveScan

TIME = "datetime64[ns, UTC]"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

ARCHIVE_EVENTS: dict[str, tuple[str, str]] = {
    "event_time": (TIME, "eventTime"),
    "account_id": ("string", "recipientAccountId (else userIdentity.accountId)"),
    "region": ("string", "awsRegion"),
    "event_name": ("string", "eventName"),
    "event_source": ("string", "eventSource"),
    "user_type": ("string", "userIdentity.type"),
    "invoked_by": ("string", "userIdentity.invokedBy"),
    "event_type": ("string", "eventType"),
    "source_ip": ("string", "sourceIPAddress"),
    "user_agent": ("string", "userAgent"),
    "event_id": ("string", "eventID"),
    "log_file": ("string", "the log file (key under the archive) the event was read from"),
    "event": ("string", "the whole record as JSON: the evidence"),
}

# How pandas (through pyarrow) stores each declared dtype: the Arrow type, and the column's entry in the
# ``pandas`` schema metadata that makes ``read_parquet`` restore the dtype.
ARROW = {
    "string": (pa.large_string(), {"pandas_type": "object", "numpy_type": "string", "metadata": None}),
    TIME: (pa.timestamp("ns", tz="UTC"),
           {"pandas_type": "datetimetz", "numpy_type": "datetime64[ns]", "metadata": {"timezone": "UTC"}}),
}


def archive_rows(result: ArchiveScan) -> list[dict[str, Any]]:
    """One row per match: the fields analysts slice by, the file it came from, and the record itself as JSON."""
    rows = []
    for m in result.matches:
        e = m.event
        who = e.get("userIdentity") if isinstance(e.get("userIdentity"), dict) else {}
        rows.append({"event_time": e.get("eventTime"), "account_id": e.get("recipientAccountId") or who.get("accountId"),
                     "region": e.get("awsRegion"), "event_name": e.get("eventName"),
                     "event_source": e.get("eventSource"), "user_type": who.get("type"),
                     "invoked_by": who.get("invokedBy"), "event_type": e.get("eventType"),
                     "source_ip": e.get("sourceIPAddress"), "user_agent": e.get("userAgent"),
                     "event_id": e.get("eventID"), "log_file": m.log_file, "event": json.dumps(e, sort_keys=True)})
    return rows


def write_parquet(schema: dict[str, tuple[str, str]], rows: Iterable[dict[str, Any]], handle: IO[bytes]) -> None:
    """``rows`` as the Parquet file pandas writes for the frame ``schema`` declares (string and UTC time
    columns only: the ones ``ARROW`` maps)."""
    rows = list(rows)
    fields = [pa.field(column, ARROW[dtype][0]) for column, (dtype, _) in schema.items()]
    columns = [_column([_cell(row.get(column), dtype) for row in rows], field.type)
               for (column, (dtype, _)), field in zip(schema.items(), fields)]
    table = pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata={"pandas": _pandas_metadata(schema)}))
    pq.write_table(table, handle)


def _column(values: list[Any], arrow_type: pa.DataType) -> pa.Array:
    """One column from its Arrow buffers: ``pa.array`` imports pandas (to ask whether the values are a
    pandas object) whenever numpy is installed, which is the import this module exists to avoid. Validity is
    a little-endian bitmap; large strings are int64 offsets into their UTF-8 bytes; times are int64 ns."""
    bitmap = sum(1 << i for i, value in enumerate(values) if value is not None)
    buffers = [pa.py_buffer(bitmap.to_bytes(max(1, (len(values) + 7) // 8), "little"))]
    if arrow_type == pa.large_string():
        data = [b"" if value is None else value.encode() for value in values]
        buffers += [pa.py_buffer(_int64(accumulate(map(len, data), initial=0))), pa.py_buffer(b"".join(data))]
    else:
        buffers.append(pa.py_buffer(_int64(0 if value is None else value for value in values)))
    return pa.Array.from_buffers(arrow_type, len(values), buffers, null_count=values.count(None))


def _int64(values: Iterable[int]) -> bytes:
    return struct.pack(f"<{len(values := list(values))}q", *values)


def _cell(value: Any, dtype: str) -> Any:
    """A value as pandas' ``frame`` stores it: text made encodable; a time parsed as ISO 8601, naive = UTC
    (pandas' ``to_datetime(utc=True)``; a value it cannot read raises here as there)."""
    if value is None:
        return None
    if dtype == TIME:  # as nanoseconds since the epoch: pyarrow imports pandas to convert an aware datetime
        when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return ((when.replace(tzinfo=UTC) if when.tzinfo is None else when) - EPOCH) // MICROSECOND * 1000
    return encodable(value) if isinstance(value, str) else str(value)


def _pandas_metadata(schema: dict[str, tuple[str, str]]) -> str:
    columns = [{"name": c, "field_name": c, **ARROW[dtype][1]} for c, (dtype, _) in schema.items()]
    return json.dumps({"index_columns": [], "column_indexes": [], "columns": columns, "attributes": {},
                       "creator": {"library": "pyarrow", "version": pa.__version__},
                       "pandas_version": _pandas_version()})


def _pandas_version() -> str | None:
    try:
        return version("pandas")
    except PackageNotFoundError:  # a core install without pandas: readers then use their own version's rules
        return None
