"""SQL for Athena and CloudTrail Lake from a filter pattern, so the catalog's own pattern can also
ask an organization trail's S3 archive (Athena) or an event data store (CloudTrail Lake).

The SQL means what the evaluator means, read through the CloudTrail table each service documents.
Two facts of a JSON record do not survive into those tables, the same in both:

- an absent field and a JSON ``null`` are both SQL NULL. CloudTrail leaves out what it has nothing
  for, so NULL is read as *absent*: ``NOT EXISTS`` is ``IS NULL``, and ``IS NULL`` (an explicit
  null) cannot be asked;
- ``requestParameters``, ``responseElements``, ``additionalEventData`` and ``serviceEventDetails``
  are JSON text (Athena) or ``map<string,string>`` (Lake): a value inside them reads as text, so
  numbers and booleans there cannot be compared, and a string comparison there also holds for a
  number, boolean or (Lake) object spelled the same.

So the SQL selects every event the pattern counts, and more only where a field is JSON null or a
value inside those four fields is not a string (Athena's rows carry that JSON back, so re-checking
them with the evaluator removes the latter). Everything else is exact: ``<>``, ``NOT LIKE`` and ``NOT regexp_like`` are NULL, so
false, on an absent field, as the evaluator's ``!=`` is. What cannot be asked exactly raises
``QueryTranslationError`` rather than becoming approximate SQL.

Filter-pattern text is untrusted: values reach the SQL only as quoted literals (``'`` doubled),
``LIKE`` escapes ``%``, ``_`` and ``\\``, regexes are rebuilt from their parsed pieces with every
non-alphanumeric character written as ``\\xHH``, and column names come only from ``FIELDS``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta

from rootwatch.errors import ParameterError, QueryTranslationError
from rootwatch.models import Window
from rootwatch.patterns import FilterPattern
from rootwatch.patterns import regex as aws_regex
from rootwatch.patterns.ast import Atom, Compare, Is, Node, NotExists, Number, Or, Path, Regex, Segment, Text
from rootwatch.patterns.evaluate import flatten
from rootwatch.patterns.render import canonical

TEXT, FLAG, DOCUMENT, STRUCT = "text", "flag", "document", "struct"

_IDENTITY = ("type", "principalId", "arn", "accountId", "invokedBy", "accessKeyId", "userName")
_ISSUER = ("type", "principalId", "arn", "accountId", "userName")
# CloudTrail's record fields that both tables carry with the same meaning, by their JSON names.
# Left out: eventTime (a string in Athena, a timestamp in Lake: the query window filters it),
# resources (an array of structs), and identity fields only one of the two tables has.
FIELDS: dict[str, str] = {
    **dict.fromkeys(("eventVersion", "eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent",
                     "errorCode", "errorMessage", "requestID", "eventID", "eventType", "apiVersion",
                     "recipientAccountId", "sharedEventID", "vpcEndpointId", "eventCategory",
                     "sessionCredentialFromConsole"), TEXT),
    **dict.fromkeys((f"userIdentity.{name}" for name in _IDENTITY), TEXT),
    "userIdentity.sessionContext.attributes.mfaAuthenticated": TEXT,
    **dict.fromkeys((f"userIdentity.sessionContext.sessionIssuer.{name}" for name in _ISSUER), TEXT),
    "userIdentity.sessionContext.ec2RoleDelivery": TEXT,
    "userIdentity.sessionContext.webIdFederationData.federatedProvider": TEXT,
    **dict.fromkeys(("tlsDetails.tlsVersion", "tlsDetails.cipherSuite", "tlsDetails.clientProvidedHostHeader"), TEXT),
    "readOnly": FLAG,
    **dict.fromkeys(("requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"), DOCUMENT),
}
_STRUCTS = {name.rsplit(".", depth)[0] for name in FIELDS for depth in range(1, name.count(".") + 1)}
EVENT_TIME = "eventTime"
DEFAULT_COLUMNS = (EVENT_TIME, "eventID", "eventSource", "eventName", "eventType", "awsRegion", "sourceIPAddress",
                   "userAgent", "errorCode", "errorMessage", "recipientAccountId", "readOnly", "userIdentity.type",
                   "userIdentity.principalId", "userIdentity.arn", "userIdentity.accountId", "userIdentity.invokedBy",
                   "userIdentity.userName", "userIdentity.sessionContext.sessionIssuer.arn", "requestParameters",
                   "responseElements", "additionalEventData")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TABLE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)?")  # db.table, or an event data store ID


@dataclass(frozen=True)
class Dialect:
    """How one engine's CloudTrail table names the fields and spells the few functions a pattern
    needs. Templates take ``{column}``, and inside a JSON-object field either ``{path}`` (a JSON
    path literal, for ``nested_documents``) or ``{key}`` (the one key, as a literal)."""

    title: str
    camel_case: bool  # columns spelled as CloudTrail spells fields (Lake) or lowercase (Athena's DDL)
    nested_documents: bool  # a path may go deeper than one key, and index arrays, inside a JSON-object field
    document_value: str  # a scalar inside a JSON-object field, as text; NULL for absent, null or (Athena) objects
    document_presence: str  # NULL exactly when the key is absent
    document_text: str  # the whole JSON-object field as JSON text, for the select list
    quoted_key: str  # a JSON path member that is not an identifier ({key})
    regex: str  # {value} contains a match of {pattern}
    flags: tuple[str, str]  # how readOnly true and false read
    event_time_text: str  # eventTime as CloudTrail writes it (2026-08-03T07:41:09Z), for the select list
    time_literal: str  # strftime format of a window bound compared with the eventTime column
    day_partition: str | None = None  # a partition-projection column holding 'yyyy/MM/dd'

    def column(self, field: str) -> str:
        return field if self.camel_case else field.lower()


ATHENA = Dialect(
    title="Athena", camel_case=False, nested_documents=True,
    document_value="json_extract_scalar({column}, {path})", document_presence="json_extract({column}, {path})",
    document_text="{column}", quoted_key='["{key}"]', regex="regexp_like({value}, {pattern})",
    flags=("'true'", "'false'"), event_time_text="eventtime", time_literal="'%Y-%m-%dT%H:%M:%SZ'")
"""The table of the Athena guide (``CREATE EXTERNAL TABLE cloudtrail_logs``); for its partition
projection variant, ``dataclasses.replace(ATHENA, day_partition="timestamp")``."""

CLOUDTRAIL_LAKE = Dialect(
    title="CloudTrail Lake", camel_case=True, nested_documents=False,
    document_value="element_at({column}, {key})", document_presence="element_at({column}, {key})",
    document_text="json_format(CAST({column} AS JSON))", quoted_key="", regex="regexp_like({value}, {pattern})",
    flags=("TRUE", "FALSE"), event_time_text="date_format(eventTime, '%Y-%m-%dT%H:%i:%sZ')",
    time_literal="TIMESTAMP '%Y-%m-%d %H:%M:%S'")
"""An event data store of CloudTrail events (Trino SQL; the table is the store's ID)."""


def to_sql(pattern: FilterPattern | Node, dialect: Dialect) -> str:
    """The SQL condition that selects the events ``pattern`` counts (see the module notes)."""
    tree = pattern.tree if isinstance(pattern, FilterPattern) else pattern
    return _node(flatten(tree), dialect)


def query(pattern: FilterPattern | Node, dialect: Dialect, table: str, window: Window,
          columns: tuple[str, ...] = DEFAULT_COLUMNS) -> str:
    """A SELECT of ``columns`` (CloudTrail field names, also the result's column labels) for the
    events ``pattern`` counts within ``window``, oldest first."""
    if not TABLE.fullmatch(table):
        raise ParameterError(f"{table!r} is not a table name for {dialect.title}",
                             "give db.table (Athena) or the event data store ID (CloudTrail Lake)")
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    time_column = dialect.column(EVENT_TIME)
    where = [f"{time_column} >= {start.strftime(dialect.time_literal)}",
             f"{time_column} < {end.strftime(dialect.time_literal)}"]
    if dialect.day_partition:
        last_day = end - timedelta(microseconds=1)
        where.append(f"\"{dialect.day_partition}\" BETWEEN '{start:%Y/%m/%d}' AND '{last_day:%Y/%m/%d}'")
    where.append(f"({to_sql(pattern, dialect)})")
    select = ",\n       ".join(f'{_selected(name, dialect)} AS "{name}"' for name in columns)
    return f"SELECT {select}\nFROM {table}\nWHERE " + "\n  AND ".join(where) + f"\nORDER BY {time_column}"


def _selected(name: str, dialect: Dialect) -> str:
    if name == EVENT_TIME:
        return dialect.event_time_text
    kind = FIELDS.get(name)
    if kind is None:
        raise ParameterError(f"{name!r} is not a column rootwatch can select from {dialect.title}",
                             f"use fields of rootwatch.patterns.sql.FIELDS or {EVENT_TIME}")
    column = dialect.column(name)
    return dialect.document_text.format(column=column) if kind == DOCUMENT else column


def _node(node: Node, dialect: Dialect, nested: bool = False) -> str:
    """``nested``: inside the other connective, where a compound needs parentheses (for the reader:
    SQL's precedence is the pattern's, but 4.1's ``A || B && C`` should look like what it means)."""
    if isinstance(node, Atom):
        return _atom(node, dialect)
    parts = _disjuncts(node.operands, dialect) if isinstance(node, Or) else [
        _node(child, dialect, nested=True) for child in node.operands]
    text = (" OR " if isinstance(node, Or) else " AND ").join(parts)
    return f"({text})" if nested and len(parts) > 1 else text


def _disjuncts(operands: tuple[Node, ...], dialect: Dialect) -> list[str]:
    """Equalities of one field with plain strings become one ``IN`` list (where the first stood),
    so CIS's long lists of event names read as a list."""
    values: dict[Path, list[str]] = {}
    for op in operands:
        if _plain_equality(op):
            values.setdefault(op.path, []).append(op.value.parts[0])
    out, listed = [], set()
    for op in operands:
        if not _plain_equality(op) or len(values[op.path]) == 1:
            out.append(_node(op, dialect, nested=True))
        elif op.path not in listed:
            listed.add(op.path)
            out.append(f"{_operand(op, dialect)} IN ({', '.join(map(_literal, dict.fromkeys(values[op.path])))})")
    return out


def _plain_equality(node: Node) -> bool:
    return isinstance(node, Compare) and node.op == "=" and isinstance(node.value, Text) and not node.value.is_wildcard


def _atom(atom: Atom, dialect: Dialect) -> str:
    if isinstance(atom, NotExists):
        return f"{_presence(atom, dialect)} IS NULL"
    if isinstance(atom, Is):
        return _is(atom, dialect)
    if isinstance(atom.value, Number):
        raise _untranslatable(atom, dialect, "the CloudTrail table holds these values as text, which cannot "
                                             "tell a number from a string", "compare with a quoted string")
    value, negate = _operand(atom, dialect), atom.op == "!="
    if isinstance(atom.value, Regex):
        test = dialect.regex.format(value=value, pattern=_literal(_regex(atom.value.source)))
        return f"NOT {test}" if negate else test
    parts = atom.value.parts
    if parts == ("", ""):  # "*": the field holds a scalar
        return "FALSE" if negate else f"{value} IS NOT NULL"
    if len(parts) == 1:
        return f"{value} {'<>' if negate else '='} {_literal(parts[0])}"
    return f"{value} {'NOT LIKE' if negate else 'LIKE'} {_literal('%'.join(map(_like_escape, parts)))} ESCAPE '\\'"


def _is(atom: Is, dialect: Dialect) -> str:
    if atom.what == "NULL":
        raise _untranslatable(atom, dialect, "SQL reads a JSON null and an absent field alike",
                              "use NOT EXISTS, which reads both as absent")
    kind, column, _ = _resolve(atom, dialect)
    if kind != FLAG:
        raise _untranslatable(atom, dialect, "only readOnly is a boolean the table keeps as one",
                              "compare the field with a quoted string")
    return f"{column} = {dialect.flags[atom.what == 'FALSE']}"


def _operand(atom: Compare, dialect: Dialect) -> str:
    """The SQL text value a comparison reads: a text column, or a scalar inside a JSON-object field."""
    kind, column, inner = _resolve(atom, dialect)
    if inner:
        return dialect.document_value.format(**_document_args(column, inner, atom, dialect))
    if kind != TEXT:
        what = "a boolean (use IS TRUE / IS FALSE)" if kind == FLAG else "an object (compare one of its fields)"
        raise _untranslatable(atom, dialect, f"{atom.path} is {what}", "rewrite the comparison")
    return column


def _presence(atom: NotExists, dialect: Dialect) -> str:
    _, column, inner = _resolve(atom, dialect)
    return dialect.document_presence.format(**_document_args(column, inner, atom, dialect)) if inner else column


def _resolve(atom: Atom, dialect: Dialect) -> tuple[str, str, tuple[Segment, ...]]:
    """(kind, column, the path's segments inside a JSON-object field) of the field ``atom`` reads."""
    segments = atom.path.segments
    name = ".".join(map(str, segments))
    if all(isinstance(s, str) for s in segments) and (name in FIELDS or name in _STRUCTS):
        return FIELDS.get(name, STRUCT), dialect.column(name), ()
    head = segments[0]
    if FIELDS.get(head) == DOCUMENT:  # a selector always starts with a field name
        return DOCUMENT, dialect.column(head), segments[1:]
    raise _untranslatable(atom, dialect, f"{atom.path} is not a field rootwatch maps to a column",
                          f"use the fields of rootwatch.patterns.sql.FIELDS ({EVENT_TIME} through the query window)")


def _document_args(column: str, inner: tuple[Segment, ...], atom: Atom, dialect: Dialect) -> dict[str, str]:
    if not dialect.nested_documents and (len(inner) > 1 or isinstance(inner[0], int)):
        raise _untranslatable(atom, dialect, f"{atom.path.segments[0]} is a map of one level of keys to text",
                              "select on a top-level key of it, or use Athena")
    json_path = "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" if _IDENTIFIER.fullmatch(s)
                              else dialect.quoted_key.format(key=s) for s in inner)
    return {"column": column, "path": _literal(json_path), "key": _literal(str(inner[0]))}


def _untranslatable(atom: Atom, dialect: Dialect, why: str, hint: str) -> QueryTranslationError:
    return QueryTranslationError(f"'{canonical(atom)[2:-2]}' cannot be written exactly in {dialect.title} SQL: {why}",
                                 hint)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _like_escape(part: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", part)


def _regex(source: str) -> str:
    """AWS's regex as one both Java (Athena, Lake) and RE2 read alike: ``(?s)`` because AWS's ``.``
    matches a newline, ``\\z`` because Java's ``$`` also matches before a final newline."""
    alternatives = ["^" * b.anchored_start + "".join(map(_regex_piece, b.pieces)) + "\\z" * b.anchored_end
                    for b in aws_regex.parse_regex(source)]
    return "(?s)" + "|".join(f"(?:{a})" for a in alternatives)


def _regex_piece(piece: aws_regex.Piece) -> str:
    """One piece; sets reaching past ASCII are written as the negation of their (ASCII) complement,
    which is always possible because AWS's regex source is ASCII."""
    chars = piece.chars
    if chars == aws_regex.ANY:
        body = "."
    elif chars[-1][1] == aws_regex.MAX_CODEPOINT:
        body = f"[^{_regex_ranges(aws_regex.complement(chars))}]"
    elif len(chars) == 1 and chars[0][0] == chars[0][1]:
        body = _regex_char(chars[0][0])
    else:
        body = f"[{_regex_ranges(chars)}]"
    if (piece.lo, piece.hi) == (1, 1):
        return body
    return f"{body}{{{piece.lo},{'' if piece.hi is None else piece.hi}}}"


def _regex_ranges(chars: aws_regex.Charset) -> str:
    return "".join(_regex_char(lo) if lo == hi else f"{_regex_char(lo)}-{_regex_char(hi)}" for lo, hi in chars)


def _regex_char(codepoint: int) -> str:
    char = chr(codepoint)
    return char if char.isascii() and char.isalnum() else f"\\x{codepoint:02X}"
