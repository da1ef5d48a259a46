"""The one SQL predicate that names rows by key, for Delta replace-where and deletes.

Both storage abstractions use it: the lakehouse backends (sections and sessions by their
`schema` key) and the pipeline catalogs (any key frame: section keys, participant ids, source
files), locally through delta-rs and on Spark through `replaceWhere`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

from flowtype_core.errors import InvalidInput


def key_frame(rows: Iterable[tuple[str, ...]], columns: Sequence[str]) -> pl.DataFrame:
    """Text key rows (e.g. validated `(participant_id, test_section_id)` pairs) as a frame."""
    return pl.DataFrame(list(rows), schema=dict.fromkeys(columns, pl.String), orient="row")


def _literal(value: object, column: str) -> str:
    if value is None:  # `=` never matches a null: such a row could not be replaced
        raise InvalidInput(f"a key to replace has no {column}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def key_predicate(keys: pl.DataFrame) -> str:
    """SQL predicate matching the rows whose key columns equal one of `keys`' rows.

    Grouped by the first column (`(a = 'x' AND b IN ('y', 'z')) OR ...`) so file statistics on
    the leading key prune; text is quoted with doubled single quotes. No keys match nothing.
    """
    columns = keys.columns
    if len(columns) == 1:
        values = ", ".join(
            _literal(v, columns[0]) for v in keys.get_column(columns[0]).unique().sort().to_list()
        )
        return f"{columns[0]} IN ({values})" if values else "FALSE"
    first, rest = columns[0], columns[1:]
    parts = []
    for (head,), group in keys.unique().sort(columns).group_by(first, maintain_order=True):
        parts.append(f"({first} = {_literal(head, first)} AND {key_predicate(group.select(rest))})")
    return " OR ".join(parts) if parts else "FALSE"
