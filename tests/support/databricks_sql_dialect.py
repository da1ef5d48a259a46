"""Databricks SQL to DuckDB, for the local stand-in of a SQL warehouse (tests and benchmarks only).

It covers what this project and its tests send, and fails loudly on the rest, so a statement
the real warehouse would reject is never silently accepted here. Mapping:

- Unity Catalog `catalog.schema.table` -> DuckDB schema `"catalog.schema"`, table `"table"`;
  a two-part name in table position gets the session's catalog; backticks become double quotes.
- `TIMESTAMP` (an instant, shown in the session time zone) -> `TIMESTAMPTZ`; `TIMESTAMP_NTZ` ->
  `TIMESTAMP`; `"text"` is a string literal, as in Spark; Spark backslash escapes are decoded.
- Native parameters: `:name` / `?` -> `CAST($name AS <type>)`, the type the client sent; VOID -> NULL.
- `inline(x)` -> `unnest(x, max_depth := 2)`, `explode` -> `unnest`, `named_struct` -> `struct_pack`,
  `from_json(x, '<DDL>')` with the DDL schema turned into DuckDB's JSON structure (lenient, as
  Databricks: malformed text is NULL),
  `raise_error(msg)` -> `error(...)` reported as USER_RAISED_EXCEPTION, `timestamp_micros` -> `make_timestamptz`,
  `read_files('/Volumes/...', format => 'parquet')`
  (https://docs.databricks.com/aws/en/sql/language-manual/functions/read_files) and
  ``parquet.`/Volumes/...` `` -> `read_parquet`; `inline`
  (https://docs.databricks.com/aws/en/sql/language-manual/functions/inline) and `timestamp_micros`
  (https://docs.databricks.com/aws/en/sql/language-manual/functions/timestamp_micros) as documented.
- `a <=> b` (null-safe equality) -> `a IS NOT DISTINCT FROM b`
  (https://docs.databricks.com/en/sql/language-manual/functions/eqnullsafesign.html).
- `USING DELTA`, `CLUSTER BY (...)`, `PARTITIONED BY (...)`, `TBLPROPERTIES (...)`, `COMMENT '...'`,
  `LOCATION '...'` in CREATE TABLE are dropped; `UPDATE SET t.col = ...` in MERGE loses the qualifier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<ident>`(?:[^`]|``)*`)
  | (?P<param>:[A-Za-z_][A-Za-z0-9_]*)
  | (?P<qmark>\?)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[A-Za-z]?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>::|<=>|<=|>=|<>|!=|==|=>|:=|\|\||.)
    """,
    re.S | re.X,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "0": "\0", "Z": "\x1a"}
_TABLE_POSITION = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "EXISTS"}
_DROPPED_CLAUSES = {"CLUSTER", "PARTITIONED", "TBLPROPERTIES"}
_SCALAR_TYPES = {
    "STRING": "VARCHAR",
    "VARCHAR": "VARCHAR",
    "CHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "LONG": "BIGINT",
    "INT": "INTEGER",
    "INTEGER": "INTEGER",
    "SMALLINT": "SMALLINT",
    "SHORT": "SMALLINT",
    "TINYINT": "TINYINT",
    "BYTE": "TINYINT",
    "DOUBLE": "DOUBLE",
    "FLOAT": "REAL",
    "REAL": "REAL",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMPTZ",
    "TIMESTAMP_LTZ": "TIMESTAMPTZ",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "BINARY": "BLOB",
    "DECIMAL": "DECIMAL",
    "DEC": "DECIMAL",
    "NUMERIC": "DECIMAL",
}
_TYPE_WORDS = {
    "TIMESTAMP": "TIMESTAMPTZ",
    "TIMESTAMP_LTZ": "TIMESTAMPTZ",
    "TIMESTAMP_NTZ": "TIMESTAMP",
    "STRING": "VARCHAR",
}
MERGE_SOURCE = "__flowtype_merge_source"
_RENAMED_FUNCTIONS = {"explode": "unnest", "timestamp_micros": "make_timestamptz", "current_timestamp": "now"}


class DialectError(Exception):
    """A statement the stand-in rejects, with the error class and SQLSTATE the warehouse would use."""

    def __init__(self, error_class: str, message: str, sql_state: str = "42000") -> None:
        super().__init__(f"[{error_class}] {message}")
        self.sql_state = sql_state


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Parameter:
    """A native parameter as the client sent it: a Databricks type name and a string value."""

    type: str
    value: str | None


@dataclass
class Translated:
    sql: str
    parameters: dict[str, str] | list[str] = field(default_factory=dict)
    kind: str = "query"  # query, insert, update, delete, merge, ddl
    # A MERGE source query to materialise first, as (sql, parameters): DuckDB mis-handles a source
    # that reads the target table while MERGE changes it; Delta reads a snapshot, like this.
    merge_source: Translated | None = None


def tokenize(sql: str) -> list[Token]:
    tokens = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group()))
    return tokens


def string_value(token: Token) -> str:
    """The text of a Spark string literal: backslash escapes decoded."""
    body = token.text[1:-1]
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
                out.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt if nxt not in "%_" else "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def name_of(token: Token) -> str:
    return token.text[1:-1].replace("``", "`") if token.kind == "ident" else token.text


def significant(tokens: Sequence[Token]) -> list[Token]:
    return [t for t in tokens if t.kind not in ("ws", "comment")]


def schema_key(catalog: str, schema: str) -> str:
    """The DuckDB schema that holds one Unity Catalog schema."""
    return f"{catalog.lower()}.{schema.lower()}"


# --- Spark DDL types -------------------------------------------------------------------------


def parse_type(text: str) -> object:
    """A Spark type or field list (`a INT, b ARRAY<STRING>`) as a nested structure of DuckDB names.

    Returns a DuckDB type name (str), `[element]` for arrays, `{name: type}` for structs, or
    `("MAP", key, value)` for maps.
    """
    parts = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|`(?:[^`]|``)*`|\d+|[<>(),:]", text)
    pos = 0

    def peek() -> str:
        return parts[pos] if pos < len(parts) else ""

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(parts) or (expected is not None and parts[pos].upper() != expected):
            raise DialectError("PARSE_SYNTAX_ERROR", f"cannot parse data type {text!r}", "42601")
        pos += 1
        return parts[pos - 1]

    def one_type() -> object:
        word = take().upper()
        if word == "ARRAY":
            take("<")
            element = one_type()
            take(">")
            return [element]
        if word == "MAP":
            take("<")
            key = one_type()
            take(",")
            value = one_type()
            take(">")
            return ("MAP", key, value)
        if word == "STRUCT":
            take("<")
            fields = field_list(">")
            take(">")
            return fields
        if word not in _SCALAR_TYPES:
            raise DialectError("UNSUPPORTED_DATATYPE", f"unsupported data type {word!r}", "0A000")
        mapped = _SCALAR_TYPES[word]
        if peek() == "(":
            take("(")
            args = [take()]
            while peek() == ",":
                take(",")
                args.append(take())
            take(")")
            if mapped == "DECIMAL":
                mapped = f"DECIMAL({', '.join(args)})"
        return "DECIMAL(10, 0)" if mapped == "DECIMAL" else mapped

    def field_list(end: str) -> dict[str, object]:
        fields: dict[str, object] = {}
        while True:
            raw = take()
            name = raw[1:-1].replace("``", "`") if raw.startswith("`") else raw
            if peek() == ":":
                take(":")
            fields[name] = one_type()
            if peek() != ",":
                return fields
            take(",")
            if peek() == end:
                return fields

    first = peek().upper()
    is_field_list = len(parts) > 1 and parts[1] not in ("<", "(") and first not in _SCALAR_TYPES
    result = field_list("") if is_field_list or (len(parts) > 1 and parts[1] == ":") else one_type()
    if pos != len(parts):
        raise DialectError("PARSE_SYNTAX_ERROR", f"cannot parse data type {text!r}", "42601")
    return result


def duckdb_type(parsed: object) -> str:
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, list):
        return duckdb_type(parsed[0]) + "[]"
    if isinstance(parsed, tuple):
        return f"MAP({duckdb_type(parsed[1])}, {duckdb_type(parsed[2])})"
    assert isinstance(parsed, dict)
    return "STRUCT(" + ", ".join(f"{quote(k)} {duckdb_type(v)}" for k, v in parsed.items()) + ")"


def json_structure(parsed: object) -> object:
    """DuckDB's `from_json` structure argument for a parsed type."""
    if isinstance(parsed, str):
        return parsed
    if isinstance(parsed, list):
        return [json_structure(parsed[0])]
    if isinstance(parsed, tuple):
        return duckdb_type(parsed)
    assert isinstance(parsed, dict)
    return {k: json_structure(v) for k, v in parsed.items()}


# --- translation -----------------------------------------------------------------------------


@dataclass
class Context:
    """What a translation needs from the session and the server."""

    catalog: str
    named: Mapping[str, Parameter] = field(default_factory=dict)
    positional: Sequence[Parameter] = ()
    volume_path: Callable[[str], Path] = Path


def statement_kind(tokens: Sequence[Token]) -> str:
    words = [t.upper for t in significant(tokens) if t.kind == "word"]
    first = words[0] if words else ""
    if first in ("INSERT", "UPDATE", "DELETE", "MERGE"):
        return first.lower()
    if first in ("CREATE", "DROP", "ALTER", "TRUNCATE", "COMMENT"):
        return "ddl"
    return "query"


def check_single_statement(tokens: Sequence[Token]) -> None:
    sig = significant(tokens)
    while sig and sig[-1].text == ";":
        sig.pop()
    if any(t.text == ";" for t in sig):
        raise DialectError("PARSE_SYNTAX_ERROR", "only one statement can be executed at a time", "42601")


def _matching_paren(tokens: Sequence[Token], open_index: int) -> int:
    depth = 0
    for i in range(open_index, len(tokens)):
        if tokens[i].text == "(":
            depth += 1
        elif tokens[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    raise DialectError("PARSE_SYNTAX_ERROR", "unbalanced parentheses", "42601")


def _next_significant(tokens: Sequence[Token], index: int) -> int:
    while index < len(tokens) and tokens[index].kind in ("ws", "comment"):
        index += 1
    return index


def _chain(tokens: Sequence[Token], start: int) -> int:
    """End (exclusive) of a dotted name chain starting at `start`."""
    end = start + 1
    while end + 1 < len(tokens) and tokens[end].text == "." and tokens[end + 1].kind in ("word", "ident"):
        end += 2
    return end


def _volume_literal(path: str, ctx: Context) -> str:
    local = ctx.volume_path(path)
    return sql_string(str(local / "**" / "*.parquet") if local.is_dir() else str(local))


class _Translator:
    def __init__(self, tokens: list[Token], ctx: Context, kind: str) -> None:
        self.tokens = tokens
        self.ctx = ctx
        self.kind = kind
        self.out: list[str] = []
        self.named: dict[str, str] = {}
        self.positional: list[str] = []
        self.merge_source: Translated | None = None
        self.positional_index = 0
        self.previous_word = ""
        self.merge_set_region = False

    def run(self) -> str:
        self.emit_range(0, len(self.tokens))
        return "".join(self.out)

    def emit_range(self, start: int, end: int) -> None:
        i = start
        while i < end:
            i = self.emit_at(i, end)

    def emit_at(self, i: int, end: int) -> int:
        tok = self.tokens[i]
        if tok.kind == "comment":
            return i + 1
        if tok.kind == "ws":
            self.out.append(tok.text)
            return i + 1
        if tok.kind == "str":
            return self.emit_string(i, end)
        if tok.kind == "param":
            self.emit_parameter(self.ctx.named.get(tok.text[1:]), tok.text[1:])
            return i + 1
        if tok.kind == "qmark":
            if self.positional_index >= len(self.ctx.positional):
                raise DialectError("UNBOUND_SQL_PARAMETER", "Found an unbound positional parameter.", "42P02")
            self.emit_parameter(self.ctx.positional[self.positional_index], None)
            self.positional_index += 1
            return i + 1
        if tok.kind in ("word", "ident"):
            return self.emit_name(i, end)
        if tok.text == "<=>":  # Spark's null-safe equality; DuckDB's `<=>` is a cosine distance
            self.out.append(" IS NOT DISTINCT FROM ")
            return i + 1
        self.out.append(tok.text)
        return i + 1

    def emit_string(self, i: int, end: int) -> int:
        value = string_value(self.tokens[i])
        j = _next_significant(self.tokens, i + 1)
        while j < end and self.tokens[j].kind == "str":  # Spark concatenates adjacent literals
            value += string_value(self.tokens[j])
            i = j
            j = _next_significant(self.tokens, j + 1)
        self.out.append(sql_string(value))
        return i + 1

    def emit_parameter(self, param: Parameter | None, name: str | None) -> None:
        if param is None:
            raise DialectError(
                "UNBOUND_SQL_PARAMETER", f"Found the unbound parameter: {name}. Please, fix `args`.", "42P02"
            )
        if param.type.upper() == "VOID" or param.value is None:
            self.out.append("NULL")
            return
        target = duckdb_type(parse_type(param.type))
        if name is None:
            self.positional.append(param.value)
            self.out.append(f"CAST(? AS {target})")
        else:
            self.named[name] = param.value
            self.out.append(f"CAST(${name} AS {target})")

    def emit_name(self, i: int, end: int) -> int:
        tok = self.tokens[i]
        word = tok.upper
        after = _next_significant(self.tokens, i + 1)
        next_text = self.tokens[after].text if after < end else ""
        if word and next_text == "(":
            handled = self.emit_function(i, after, end)
            if handled is not None:
                return handled
        if self.kind == "ddl" and word in _DROPPED_CLAUSES:
            by = _next_significant(self.tokens, after + 1) if next_text.upper() == "BY" else after
            return _matching_paren(self.tokens, by) + 1
        if (
            self.kind == "ddl"
            and word in ("COMMENT", "LOCATION")
            and after < end
            and self.tokens[after].kind == "str"
        ):
            return after + 1
        if word == "USING" and next_text.upper() in ("DELTA", "PARQUET"):
            return after + 1
        if word == "USING" and next_text == "(" and self.kind == "merge" and self.merge_source is None:
            return self.emit_merge_source(after)
        if word == "SET" and self.kind == "merge" and self.previous_word == "UPDATE":
            self.merge_set_region = True
        elif word == "WHEN":
            self.merge_set_region = False
        stop = _chain(self.tokens, i)
        parts = [name_of(t) for t in self.tokens[i:stop:2]]
        if len(parts) == 2 and parts[0].lower() in ("parquet", "delta") and parts[1].startswith("/"):
            self.out.append(f"read_parquet({_volume_literal(parts[1], self.ctx)})")
        elif len(parts) >= 3:
            self.out.append(".".join([quote(schema_key(parts[0], parts[1]))] + [quote(p) for p in parts[2:]]))
        elif len(parts) == 2 and self.previous_word in _TABLE_POSITION:
            self.out.append(quote(schema_key(self.ctx.catalog, parts[0])) + "." + quote(parts[1]))
        elif (
            len(parts) == 2
            and self.merge_set_region
            and self.text_at(_next_significant(self.tokens, stop)) == "="
        ):
            self.out.append(quote(parts[1]))
        elif len(parts) == 1 and tok.kind == "word" and word in _TYPE_WORDS and next_text != ".":
            self.out.append(_TYPE_WORDS[word])
        else:
            self.out.append(
                ".".join(
                    quote(p) if t.kind == "ident" else p
                    for p, t in zip(parts, self.tokens[i:stop:2], strict=True)
                )
            )
        if tok.kind == "word" and stop == i + 1:
            self.previous_word = word
        else:
            self.previous_word = ""
        return stop

    def emit_merge_source(self, open_index: int) -> int:
        close = _matching_paren(self.tokens, open_index)
        outer = (self.out, self.named, self.positional)
        self.out, self.named, self.positional = [], {}, []
        self.emit_range(open_index + 1, close)
        self.merge_source = Translated("".join(self.out), self.parameters(), "query")
        self.out, self.named, self.positional = outer
        self.out.append(f"USING {MERGE_SOURCE}")
        return close + 1

    def parameters(self) -> dict[str, str] | list[str]:
        if self.positional and self.named:
            raise DialectError(
                "INVALID_QUERY_MIXED_QUERY_PARAMETERS", "named and positional parameters mixed", "42613"
            )
        return self.positional if self.positional else self.named

    def text_at(self, index: int) -> str:
        return self.tokens[index].text if index < len(self.tokens) else ""

    def emit_function(self, i: int, open_index: int, end: int) -> int | None:
        name = self.tokens[i].text.lower()
        close = _matching_paren(self.tokens, open_index)
        if name == "inline":
            self.out.append("unnest(")
            self.emit_range(open_index + 1, close)
            self.out.append(", max_depth := 2)")
            return close + 1
        if name == "named_struct":
            # https://docs.databricks.com/aws/en/sql/language-manual/functions/named_struct:
            # named_struct('a', x, 'b', y) is a struct with fields a and b; DuckDB spells it struct_pack.
            args = self.arguments(open_index, close)
            keys, values = args[0::2], args[1::2]
            if len(keys) != len(values) or any(len(k) != 1 or self.tokens[k[0]].kind != "str" for k in keys):
                raise DialectError(
                    "WRONG_NUM_ARGS", "named_struct takes literal names and values in pairs", "42605"
                )
            self.out.append("struct_pack(")
            for n, (key, value) in enumerate(zip(keys, values, strict=True)):
                self.out.append(("" if n == 0 else ", ") + quote(string_value(self.tokens[key[0]])) + " := ")
                self.emit_range(value[0], value[-1] + 1)
            self.out.append(")")
            return close + 1
        if name == "from_json":
            args = self.arguments(open_index, close)
            if len(args) != 2 or len(args[1]) != 1 or self.tokens[args[1][0]].kind != "str":
                raise DialectError("INVALID_SCHEMA", "from_json needs a literal DDL schema", "42K07")
            structure = json_structure(parse_type(string_value(self.tokens[args[1][0]])))
            # Databricks parses PERMISSIVE by default: malformed JSON is NULL, a mistyped field NULL
            # (https://docs.databricks.com/aws/en/sql/language-manual/functions/from_json); DuckDB
            # raises on malformed text, so `try` gives the warehouse's NULL instead.
            self.out.append("try(from_json(")
            self.emit_range(args[0][0], args[0][-1] + 1)
            self.out.append(", " + sql_string(json.dumps(structure)) + "))")
            return close + 1
        if name == "raise_error":
            # https://docs.databricks.com/aws/en/sql/language-manual/functions/raise_error: the
            # statement fails with error class USER_RAISED_EXCEPTION and the message given.
            self.out.append("error('[USER_RAISED_EXCEPTION] ' || ")
            self.emit_range(open_index + 1, close)
            self.out.append(")")
            return close + 1
        if name == "read_files":
            args = self.arguments(open_index, close)
            path_token = self.tokens[args[0][0]] if args and len(args[0]) == 1 else None
            options = {
                self.tokens[a[0]].text.lower(): string_value(self.tokens[a[2]])
                for a in args[1:]
                if len(a) == 3 and self.tokens[a[1]].text == "=>" and self.tokens[a[2]].kind == "str"
            }
            if (
                path_token is None
                or path_token.kind != "str"
                or options.get("format", "").lower() != "parquet"
            ):
                raise DialectError(
                    "UNSUPPORTED_FEATURE",
                    "the stand-in reads only read_files('<path>', format => 'parquet')",
                    "0A000",
                )
            self.out.append(f"read_parquet({_volume_literal(string_value(path_token), self.ctx)})")
            return close + 1
        if name in _RENAMED_FUNCTIONS:
            if name == "current_timestamp" and _next_significant(self.tokens, open_index + 1) == close:
                self.out.append("now()")
                return close + 1
            self.out.append(_RENAMED_FUNCTIONS[name])
            self.previous_word = ""
            return i + 1
        return None

    def arguments(self, open_index: int, close: int) -> list[list[int]]:
        """Indexes of the significant tokens of each top-level argument."""
        args: list[list[int]] = [[]]
        depth = 0
        for k in range(open_index + 1, close):
            tok = self.tokens[k]
            if tok.kind in ("ws", "comment"):
                continue
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                depth -= 1
            if tok.text == "," and depth == 0:
                args.append([])
            else:
                args[-1].append(k)
        return [a for a in args if a]


def translate(sql: str, ctx: Context) -> Translated:
    """One Databricks statement as DuckDB SQL with its parameters, plus what kind of statement it is."""
    tokens = tokenize(sql)
    check_single_statement(tokens)
    while tokens and (tokens[-1].kind in ("ws", "comment") or tokens[-1].text == ";"):
        tokens.pop()
    kind = statement_kind(tokens)
    translator = _Translator(tokens, ctx, kind)
    text = translator.run()
    if kind == "merge":
        text += " RETURNING merge_action"
    return Translated(text, translator.parameters(), kind, translator.merge_source)
