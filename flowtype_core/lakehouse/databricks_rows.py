"""How rows travel to the SQL warehouse: as JSON in native parameters, or as staged Parquet.

A small batch goes as JSON arrays in named parameters (`:r0`, `:g0`, ...) that the warehouse
unpacks with `inline(from_json(...))`; presses of one section share their context columns, so they
are sent once per section with the presses nested under it. `from_json` is lenient on Databricks
(PERMISSIVE mode: a malformed array is NULL, a mistyped field NULL,
https://docs.databricks.com/aws/en/sql/language-manual/functions/from_json), so every JSON source
carries its own check (`checked`): the rows parsed, and the non-null values of each column, must
number what was sent, or the statement fails with `raise_error` before it changes anything. A batch too big for
one statement (255 parameters, 1 MB of values), or holding NaN floats that JSON cannot carry, is
written to Parquet and read with `read_files(...)`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from flowtype_core.schema import ColumnType, TableSpec

MAX_PARAMETERS = 255
PARAMETER_BYTES = 900_000  # per statement, under the warehouse's 1 MB of parameter values
CHUNK_BYTES = 256 * 1024  # one JSON parameter holds at most this much
MIN_JSON_ROW_BYTES = 60  # no press or table row encodes shorter: larger frames go straight to staging
PER_PRESS = ("keystroke_id", "press_time", "release_time", "letter", "keycode")
NESTED = "presses"
CHECK_FAILED = "FLOWTYPE_ROW_COUNT"
_SQL_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "STRING",
    pl.Int64: "BIGINT",
    pl.Int32: "INT",
    pl.Int16: "SMALLINT",
    pl.Int8: "TINYINT",
    pl.Float64: "DOUBLE",
    pl.Float32: "FLOAT",
    pl.Boolean: "BOOLEAN",
    pl.Date: "DATE",
    pl.Datetime: "TIMESTAMP",
}


def q(name: str) -> str:
    """A backtick-quoted identifier; names reaching here are validated or come from the contracts."""
    return f"`{name}`"


def sql_type(dtype: ColumnType) -> str:
    """The Databricks SQL type of a contract column (timestamps are UTC instants: TIMESTAMP)."""
    return _SQL_TYPES[dtype.base_type()]


def literal(text: str) -> str:
    """A Spark string literal for paths (never for row values, which always travel as parameters)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _is_timestamp(dtype: ColumnType) -> bool:
    return isinstance(dtype, pl.Datetime)


class Rows:
    """A frame on its way to the warehouse: as JSON parameters, or as a staged Parquet file."""

    def __init__(self, spec: TableSpec, frame: pl.DataFrame, nested: Sequence[str] = ()) -> None:
        self.spec = spec
        self.frame = spec.conform(frame)
        self.nested = tuple(nested)

    @property
    def exact_in_json(self) -> bool:
        """JSON has no NaN or infinity; such frames travel as Parquet."""
        floats = [c for c, t in self.spec.columns.items() if t.is_float()]
        if not floats or self.frame.is_empty():
            return True
        return not self.frame.select(pl.any_horizontal(~pl.col(floats).is_finite()).any()).item()

    def json_chunks(self) -> list[str]:
        """JSON arrays of at most `CHUNK_BYTES` (one object per row, or per section with presses nested)."""
        shaped = self.frame.select(
            pl.col(c).dt.epoch("us") if _is_timestamp(t) else pl.col(c) for c, t in self.spec.columns.items()
        )
        if self.nested:
            shared = [c for c in self.spec.columns if c not in self.nested]
            shaped = shaped.group_by(shared, maintain_order=True).agg(pl.struct(self.nested).alias(NESTED))
        lines = [line for line in shaped.write_ndjson().split("\n") if line]
        chunks: list[list[str]] = [[]]
        size = 2
        for line in lines:
            width = len(line.encode()) + 1
            if chunks[-1] and size + width > CHUNK_BYTES:
                chunks.append([])
                size = 2
            chunks[-1].append(line)
            size += width
        return ["[" + ",".join(chunk) + "]" for chunk in chunks if chunk]

    def json_schema(self) -> str:
        def field(name: str) -> str:
            dtype = self.spec.columns[name]
            return f"{name}: {'BIGINT' if _is_timestamp(dtype) else sql_type(dtype)}"

        fields = [field(c) for c in self.spec.columns if c not in self.nested]
        if self.nested:
            fields.append(f"{NESTED}: ARRAY<STRUCT<{', '.join(field(c) for c in self.nested)}>>")
        return f"ARRAY<STRUCT<{', '.join(fields)}>>"

    def from_json(self, names: Sequence[str]) -> str:
        """A query over the JSON parameters `names`, with the contract's columns and types."""
        schema = self.json_schema()
        source = " UNION ALL ".join(f"SELECT inline(from_json(:{n}, '{schema}'))" for n in names)
        if self.nested:
            shared = ", ".join(q(c) for c in self.spec.columns if c not in self.nested)
            source = f"SELECT {shared}, inline({q(NESTED)}) FROM ({source}) AS j"
        columns = ", ".join(
            f"timestamp_micros({q(c)}) AS {q(c)}" if _is_timestamp(t) else q(c)
            for c, t in self.spec.columns.items()
        )
        return f"SELECT {columns} FROM ({source}) AS r"

    def checked(self, names: Sequence[str]) -> str:
        """`from_json` over `names`, failing the statement unless it yields every row and value sent.

        Rows and the non-null values of every column are counted: a malformed chunk parses to no
        rows, but a mistyped field (valid JSON) only to a NULL field, on Spark as in the stand-in.
        The rows come out of the one global aggregate that checks them, which always yields a row:
        a check joined beside the rows is pruned by Spark when they are empty (a join with an empty
        side is empty without evaluating the other), exactly when a whole chunk was lost.
        """
        source = self.from_json(names)
        sent = self.frame.height
        values = self.frame.select(pl.all().count()).row(0, named=True)
        counts = " AND ".join([f"count(*) = {sent}", *(f"count({q(c)}) = {n}" for c, n in values.items())])
        message = literal(
            f"{CHECK_FAILED}: the warehouse parsed fewer than the {sent} {self.spec.name} rows "
            "or their values sent; nothing was changed"
        )
        rows = ", ".join(f"{literal(c)}, c.{q(c)}" for c in self.spec.columns)
        return (
            f"SELECT inline(k.`_ft_rows`) FROM (SELECT CASE WHEN {counts} "
            f"THEN array_agg(named_struct({rows})) ELSE raise_error({message}) END AS `_ft_rows` "
            f"FROM ({source}) AS c) AS k"
        )

    def from_parquet(self, path: str) -> str:
        columns = ", ".join(q(c) for c in self.spec.columns)
        return f"SELECT {columns} FROM read_files({literal(path)}, format => 'parquet')"


def key_spec(columns: tuple[str, ...]) -> TableSpec:
    return TableSpec("keys", dict.fromkeys(columns, pl.String), columns)


def json_plan(writes: list[Rows], groups: Rows) -> dict[str, list[str]] | None:
    """JSON chunks per table when every statement fits the parameter limits; None means stage files."""
    if any(rows.frame.height * MIN_JSON_ROW_BYTES > PARAMETER_BYTES for rows in writes):
        return None
    if not all(rows.exact_in_json for rows in writes):
        return None
    plan = {rows.spec.name: rows.json_chunks() for rows in [*writes, groups]}
    group_chunks = plan[groups.spec.name]
    for rows in writes:
        chunks = plan[rows.spec.name] + group_chunks
        if len(chunks) > MAX_PARAMETERS or sum(len(c.encode()) for c in chunks) > PARAMETER_BYTES:
            return None
    return plan
