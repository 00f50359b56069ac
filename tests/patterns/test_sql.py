"""SQL from filter patterns: the text written for each catalog control, hostile values kept as
values, errors for what a table cannot ask, and the strong check: run in DuckDB over CloudTrail
records loaded into tables shaped like Athena's and CloudTrail Lake's, the SQL selects exactly the
records the evaluator counts.

DuckDB is not Trino, so the DuckDB runs use copies of the two dialects with only the function
spellings swapped (``json_extract_string`` for ``json_extract_scalar``, a map subscript for
``element_at``, ``regexp_matches`` for ``regexp_like``); everything else, including the column
mapping, the operators, the escaping and the regex rebuilding, is what Athena and Lake receive.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from rootwatch.collect.athena import record
from rootwatch.errors import ParameterError, QueryTranslationError
from rootwatch.models import Window
from rootwatch.patterns import compile_pattern
from rootwatch.patterns.sql import (
    ATHENA,
    CLOUDTRAIL_LAKE,
    DEFAULT_COLUMNS,
    DOCUMENT,
    FIELDS,
    FLAG,
    TEXT,
    Dialect,
    query,
    to_sql,
)
from tests.patterns.test_samples import SAMPLES, _records

CASES = Path(__file__).parent / "cases"
DUCK_ATHENA = replace(
    ATHENA, quoted_key='."{key}"', regex="regexp_matches({value}, {pattern})",
    document_value="(CASE WHEN json_type({column}, {path}) NOT IN ('OBJECT', 'ARRAY') "
                   "THEN json_extract_string({column}, {path}) END)")
DUCK_LAKE = replace(CLOUDTRAIL_LAKE, document_value="{column}[{key}]", document_presence="{column}[{key}]",
                    document_text="to_json({column})", regex="regexp_matches({value}, {pattern})",
                    event_time_text="strftime(eventTime, '%Y-%m-%dT%H:%M:%SZ')")
CLOUDTRAIL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
WINDOW = Window(datetime(2026, 7, 4, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC))


def _event(**fields) -> dict:
    base = {"eventVersion": "1.08", "eventSource": "iam.amazonaws.com",
            "eventName": "ListUsers", "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
            "eventType": "AwsApiCall", "readOnly": True, "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"}}
    return base | fields


ROOT = {"type": "Root", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}
# the cases where the catalog's patterns turn: absent vs present fields, relayed root actions,
# exclusions of 4.1, MFA absent vs "No", and values that only look like a wildcard or a quote
EDGE_EVENTS = [
    _event(eventName="ConsoleLogin", eventSource="signin.amazonaws.com", userIdentity=ROOT,
           responseElements={"ConsoleLogin": "Success"}, additionalEventData={"MFAUsed": "No"}),
    _event(eventName="ConsoleLogin", userIdentity=ROOT | {"invokedBy": "signin.amazonaws.com"}),
    _event(eventName="GetCallerIdentity", userIdentity=ROOT | {"invokedBy": ""}, additionalEventData={"MFAUsed": ""}),
    _event(eventName="RotateKey", eventType="AwsServiceEvent", userIdentity=ROOT),
    _event(eventName="ConsoleLogin", additionalEventData=None, errorMessage="Failed authentication"),
    _event(eventName="ConsoleLogin", additionalEventData={"MFAUsed": "Yes", "LoginTo": "https://console"}),
    _event(eventName="HeadBucket", errorCode="AccessDenied"),
    _event(eventName="PutObject", errorCode="AccessDenied", sourceIPAddress="delivery.logs.amazonaws.com"),
    _event(eventName="GetObject", errorCode="AccessDeniedException"),
    _event(eventName="RunInstances", errorCode="Client.UnauthorizedOperation"),
    _event(eventName="DescribeKey", errorCode="UnauthorizedOperation_"),
    _event(eventName="DisableKey", eventSource="kms.amazonaws.com", readOnly=False),
    _event(eventName="DisableKey", eventSource="ec2.amazonaws.com", userIdentity={"type": "AssumedRole"}),
    _event(eventName="CreateRoute", eventSource="ec2.amazonaws.com", userIdentity=None),
    _event(eventName="a'b%c_d\\e", errorCode="50%off_"),
    _event(eventName="aXbYcZd\\e", errorCode="50 off!"),
    _event(eventName="Get\nKeys", requestParameters={"bucketName": "b", "x-amz": {"k": "v"}, "items": [{"id": "i-1"}]}),
]
for _i, _e in enumerate(EDGE_EVENTS):
    _e |= {"eventID": f"edge-{_i}", "eventTime": f"2026-08-14T10:{_i:02d}:00Z"}


def _catalog_patterns(catalog) -> list:
    found = {}
    for control in catalog.entries.values():
        for pattern in (*control.accepted, control.evidence_query, control.intended):
            found[pattern.canonical] = pattern
    return list(found.values())


def _events(catalog) -> list[dict]:
    events = [c.example_event for c in catalog.entries.values()] + [o.event for o in catalog.ordinary] + EDGE_EVENTS
    if (SAMPLES / "INDEX.json").exists():
        index = json.loads((SAMPLES / "INDEX.json").read_text())
        events += [r for entry in index if (SAMPLES / entry["dir"]).is_dir() for r in _records(SAMPLES / entry["dir"])]
    unique = {json.dumps(e, sort_keys=True): e for e in events}  # the editions share example events
    return list(unique.values())


# --- tables shaped like Athena's and Lake's, built from the same FIELDS the translation reads ---

class Nonconforming(Exception):
    """A record whose fields do not have CloudTrail's types (hand-edited samples, other exports)."""


def _schema() -> dict:
    tree: dict = {}
    for name, kind in FIELDS.items():
        *parents, leaf = name.split(".")
        node = tree
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = kind
    return tree


SCHEMA = _schema()
TYPES = {ATHENA.title: {TEXT: "VARCHAR", FLAG: "VARCHAR", DOCUMENT: "VARCHAR", "time": "VARCHAR"},
         CLOUDTRAIL_LAKE.title: {TEXT: "VARCHAR", FLAG: "BOOLEAN", DOCUMENT: "MAP(VARCHAR, VARCHAR)",
                                 "time": "TIMESTAMP"}}


def _type(node: dict | str, dialect: Dialect) -> str:
    if isinstance(node, str):
        return TYPES[dialect.title][node]
    return "STRUCT(" + ", ".join(f'"{k.lower()}" {_type(v, dialect)}' for k, v in node.items()) + ")"


def _value(node: dict | str, value, dialect: Dialect):
    """A JSON value as the dialect's table holds it: null and absent alike, JSON-object fields as
    JSON text (Athena) or a map of text (Lake)."""
    lake = dialect.title == CLOUDTRAIL_LAKE.title
    if value is None:
        return None
    if isinstance(node, dict):
        if not isinstance(value, dict):
            raise Nonconforming
        return {k.lower(): _value(sub, value.get(k), dialect) for k, sub in node.items()}
    expected = {TEXT: str, FLAG: bool, DOCUMENT: dict}[node]
    if not isinstance(value, expected):
        raise Nonconforming
    if node == FLAG:
        return value if lake else str(value).lower()
    if node == DOCUMENT:
        return {k: v if v is None or isinstance(v, str) else json.dumps(v) for k, v in value.items()} if lake \
            else json.dumps(value)
    return value


def _row(rw_id: int, event: dict, dialect: Dialect) -> dict:
    if not isinstance(event, dict) or not CLOUDTRAIL_TIME.fullmatch(str(event.get("eventTime"))):
        raise Nonconforming
    when = _when(event)
    row = {"rw_id": rw_id, "timestamp": f"{when:%Y/%m/%d}",
           "eventtime": f"{when:%Y-%m-%d %H:%M:%S}" if dialect.title == CLOUDTRAIL_LAKE.title else event["eventTime"]}
    return row | {k.lower(): _value(sub, event.get(k), dialect) for k, sub in SCHEMA.items()}


def _table(db, name: str, events: list[dict], dialect: Dialect, tmp: Path) -> list[int]:
    """Load the conforming ``events`` as ``name``; the indexes of those loaded."""
    rows = []
    for i, event in enumerate(events):
        try:
            rows.append(_row(i, event, dialect))
        except Nonconforming:
            continue
    path = tmp / f"{name}.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    columns = {"rw_id": "INTEGER", "timestamp": "VARCHAR", "eventtime": TYPES[dialect.title]["time"]}
    columns |= {k.lower(): _type(sub, dialect) for k, sub in SCHEMA.items()}
    db.execute(f"CREATE TABLE {name} AS SELECT * FROM read_json(?, format='newline_delimited', columns={columns})",
               [str(path)])
    return [r["rw_id"] for r in rows]


@pytest.fixture(scope="module")
def tables(catalog, tmp_path_factory):
    """DuckDB with ``athena_logs`` and ``lake_logs``: {dialect: (events, indexes loaded)}."""
    db, tmp, events = duckdb.connect(), tmp_path_factory.mktemp("sql"), _events(catalog)
    loaded = {DUCK_ATHENA: _table(db, "athena_logs", events, DUCK_ATHENA, tmp),
              DUCK_LAKE: _table(db, "lake_logs", events, DUCK_LAKE, tmp)}
    yield db, events, loaded
    db.close()


def _selected(db, dialect: Dialect, condition: str) -> set[int]:
    table = "lake_logs" if dialect is DUCK_LAKE else "athena_logs"
    return {i for (i,) in db.execute(f"SELECT rw_id FROM {table} WHERE {condition}").fetchall()}


# --- golden text ---

def test_every_control_reads_as_the_reviewed_sql_in_both_dialects(catalog):
    golden = yaml.safe_load((CASES / "sql.yaml").read_text())
    controls = catalog.controls()
    assert golden["benchmark"] == catalog.default_benchmark
    for key, dialect in (("athena", ATHENA), ("cloudtrail_lake", CLOUDTRAIL_LAKE)):
        assert {c.id: to_sql(c.reference, dialect) for c in controls} == golden[key]


def test_the_root_query_is_a_windowed_select_ordered_by_time(catalog):
    pattern = catalog.control("4.3").reference
    sql = query(pattern, replace(ATHENA, day_partition="timestamp"), "audit.cloudtrail_logs_pp", WINDOW,
                columns=("eventTime", "userIdentity.arn", "additionalEventData"))
    assert sql == (
        'SELECT eventtime AS "eventTime",\n'
        '       useridentity.arn AS "userIdentity.arn",\n'
        '       additionaleventdata AS "additionalEventData"\n'
        "FROM audit.cloudtrail_logs_pp\n"
        "WHERE eventtime >= '2026-07-04T00:00:00Z'\n"
        "  AND eventtime < '2026-10-02T00:00:00Z'\n"
        "  AND \"timestamp\" BETWEEN '2026/07/04' AND '2026/10/01'\n"
        "  AND (useridentity.type = 'Root' AND useridentity.invokedby IS NULL AND eventtype <> 'AwsServiceEvent')\n"
        "ORDER BY eventtime")
    lake = query(pattern, CLOUDTRAIL_LAKE, "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE", WINDOW, columns=("eventTime",))
    assert lake == (
        "SELECT date_format(eventTime, '%Y-%m-%dT%H:%i:%sZ') AS \"eventTime\"\n"
        "FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE\n"
        "WHERE eventTime >= TIMESTAMP '2026-07-04 00:00:00'\n"
        "  AND eventTime < TIMESTAMP '2026-10-02 00:00:00'\n"
        "  AND (userIdentity.type = 'Root' AND userIdentity.invokedBy IS NULL AND eventType <> 'AwsServiceEvent')\n"
        "ORDER BY eventTime")


def test_a_table_name_or_column_that_could_carry_sql_is_refused(catalog):
    pattern = catalog.control("4.3").reference
    with pytest.raises(ParameterError, match="not a table name"):
        query(pattern, ATHENA, "logs; DROP TABLE logs", WINDOW)
    with pytest.raises(ParameterError, match="not a column"):
        query(pattern, ATHENA, "logs", WINDOW, columns=("eventName) FROM x --",))


# --- hostile values ---

@pytest.mark.parametrize(("pattern", "athena", "matches"), [
    ('{ $.eventName = "a\'b%c_d\\\\e" }', "eventname = 'a''b%c_d\\e'", {"a'b%c_d\\e"}),
    ('{ $.errorCode = "50%*_" }', "errorcode LIKE '50\\%%\\_' ESCAPE '\\'", {"a'b%c_d\\e"}),
    ('{ $.eventName = "a*b*c*d\\\\e" }', "eventname LIKE 'a%b%c%d\\\\e' ESCAPE '\\'", {"a'b%c_d\\e", "aXbYcZd\\e"}),
    ('{ $.eventName = "*\'--" }', "eventname LIKE '%''--' ESCAPE '\\'", set()),
    ('{ $.eventName = %^a\\.b% }', "regexp_like(eventname, '(?s)(?:^a\\x2Eb)')", set()),
    ('{ $.eventName = %^Get.K% }', "regexp_like(eventname, '(?s)(?:^Get.K)')", {"Get\nKeys"}),
    ('{ $.errorCode = %^[0-9]+[^a-z0-9]off_$% }', "regexp_like(errorcode, '(?s)(?:^[0-9]{1,}[^0-9a-z]off\\x5F\\z)')",
     {"a'b%c_d\\e"}),
], ids=["quote-percent-underscore-backslash", "percent-in-wildcard", "backslash-in-wildcard", "sql-comment",
        "regex-dot-is-escaped", "regex-dot-spans-newline", "regex-classes-and-anchors"])
def test_hostile_values_stay_values(tables, pattern, athena, matches):
    db, events, _ = tables
    compiled = compile_pattern(pattern)
    assert to_sql(compiled, ATHENA) == athena
    expected = {i for i, e in enumerate(events) if compiled.matches(e)}
    assert {events[i]["eventName"] for i in expected} == matches  # the cases below mean what they say
    for dialect in (DUCK_ATHENA, DUCK_LAKE):
        assert _selected(db, dialect, to_sql(compiled, dialect)) == expected


# --- what a table cannot ask ---

@pytest.mark.parametrize(("pattern", "dialect", "reason"), [
    ("{ $.errorCode IS NULL }", ATHENA, "JSON null and an absent field alike"),
    ("{ $.additionalEventData.MFAUsed IS NULL }", CLOUDTRAIL_LAKE, "JSON null and an absent field alike"),
    ("{ $.eventName IS TRUE }", ATHENA, "only readOnly is a boolean"),
    ("{ $.requestParameters.maxItems > 10 }", ATHENA, "cannot tell a number from a string"),
    ("{ $.errorCode = 5 }", CLOUDTRAIL_LAKE, "cannot tell a number from a string"),
    ("{ $.userIdentity = Root }", ATHENA, "is an object"),
    ("{ $.readOnly = true }", CLOUDTRAIL_LAKE, "is a boolean"),
    ("{ $.userIdentity.Type = Root }", ATHENA, "not a field rootwatch maps"),
    ("{ $.eventTime = \"2026-08-14T10:00:00Z\" }", ATHENA, "not a field rootwatch maps"),
    ("{ $.resources[0].ARN = x }", ATHENA, "not a field rootwatch maps"),
    ("{ $.requestParameters.items[0].id = x }", CLOUDTRAIL_LAKE, "map of one level of keys"),
    ("{ $.requestParameters.filter.name = x }", CLOUDTRAIL_LAKE, "map of one level of keys"),
])
def test_what_the_table_cannot_ask_exactly_is_an_error_not_approximate_sql(pattern, dialect, reason):
    with pytest.raises(QueryTranslationError, match=reason) as caught:
        to_sql(compile_pattern(pattern), dialect)
    assert dialect.title in caught.value.one_line() and "\n" not in caught.value.one_line()


def test_inside_json_text_athena_reaches_nested_keys_and_array_items(tables):
    db, events, _ = tables
    pattern = compile_pattern('{ $.requestParameters.items[0].id = "i-1" && $.requestParameters.x-amz NOT EXISTS '
                              '|| $.requestParameters.bucketName = b && $.requestParameters.x-amz = "*" }')
    assert to_sql(pattern, ATHENA) == (
        "(json_extract_scalar(requestparameters, '$.items[0].id') = 'i-1' "
        "AND json_extract(requestparameters, '$[\"x-amz\"]') IS NULL) "
        "OR (json_extract_scalar(requestparameters, '$.bucketName') = 'b' "
        "AND json_extract_scalar(requestparameters, '$[\"x-amz\"]') IS NOT NULL)")
    # x-amz holds an object: neither absent nor a scalar, so the Get\nKeys event is selected by neither side
    edge = events.index(EDGE_EVENTS[-1])
    for text, selects_edge in ((pattern.text, False), ('{ $.requestParameters.items[0].id = "i-1" }', True)):
        compiled = compile_pattern(text)
        selected = _selected(db, DUCK_ATHENA, to_sql(compiled, DUCK_ATHENA))
        assert selected == {i for i, e in enumerate(events) if compiled.matches(e)}
        assert (edge in selected) is selects_edge


# --- the strong check: same records as the evaluator ---

@pytest.mark.parametrize("dialect", [DUCK_ATHENA, DUCK_LAKE], ids=["athena", "cloudtrail-lake"])
def test_sql_selects_exactly_what_the_evaluator_counts_for_every_catalog_pattern(tables, catalog, dialect):
    db, events, loaded = tables
    assert len(loaded[dialect]) >= 0.9 * len(events)  # nearly every real record has CloudTrail's types
    patterns = _catalog_patterns(catalog)
    assert len(patterns) >= 15
    for pattern in patterns:
        expected = {i for i in loaded[dialect] if pattern.matches(events[i])}
        assert _selected(db, dialect, to_sql(pattern, dialect)) == expected, pattern.canonical
    hits = sum(bool(_selected(db, dialect, to_sql(p, dialect))) for p in patterns)
    assert hits == len(patterns)  # every pattern is checked on events it counts, not only on misses


@pytest.mark.parametrize("dialect", [DUCK_ATHENA, DUCK_LAKE], ids=["athena", "cloudtrail-lake"])
def test_query_rows_read_back_as_the_records_they_came_from(tables, catalog, dialect):
    db, events, loaded = tables
    pattern = compile_pattern('{ $.eventName = "ConsoleLogin" || $.eventName = "CreateRoute" }')
    window = Window(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 8, 15, tzinfo=UTC))
    table = "lake_logs" if dialect is DUCK_LAKE else "athena_logs"
    cursor = db.execute(query(pattern, replace(dialect, day_partition="timestamp"), table, window))
    labels = [d[0] for d in cursor.description]
    rows = [record(dict(zip(labels, map(_as_text, values), strict=True))) for values in cursor.fetchall()]
    expected = [events[i] for i in loaded[dialect]
                if pattern.matches(events[i]) and window.start <= _when(events[i]) < window.end]
    assert len(rows) >= 5
    assert [_when(r) for r in rows] == sorted(_when(r) for r in rows)

    def key(event: dict) -> str:
        return json.dumps(event, sort_keys=True)

    assert sorted(map(key, rows)) == sorted(key(_projected(e, dialect)) for e in expected)


def _as_text(value) -> str | None:
    """A DuckDB value as both services return it: text, booleans as 'true'/'false'."""
    return None if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _when(event: dict) -> datetime:
    return datetime.fromisoformat(event["eventTime"])


def _projected(event: dict, dialect: Dialect) -> dict:
    """``event`` reduced to DEFAULT_COLUMNS, as the dialect's table keeps it."""
    out: dict = {}
    for name in DEFAULT_COLUMNS:
        value = event
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            continue
        if FIELDS.get(name) == DOCUMENT and dialect.title == CLOUDTRAIL_LAKE.title:
            value = {k: v if v is None or isinstance(v, str) else json.dumps(v) for k, v in value.items()}
        *parents, leaf = name.split(".")
        node = out
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return out
