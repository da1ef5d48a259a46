"""The local catalog reads many CSV files in one parse and still knows each row's file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flowtype_core.errors import InvalidInput
from flowtype_core.pipeline.catalog import LocalDeltaCatalog
from flowtype_core.store import csv_store
from flowtype_core.store.csv_store import CSV_BATCH_BYTES

FILES = {
    "a.csv": b'id,text\n1,"two\nlines"\n2,plain\n',
    "empty.csv": b"",
    "bare_header.csv": b"id,text\n",
    "crlf.csv": b'id,text\r\n3,"x, y"\r\n',
    "no_newline.csv": b"id,text\n4,last",
    "blank_first_line.csv": b"\nid,text\n6,after a blank line\n",
    "other_header.csv": b"text,id,extra\nz,5,e\n",
    "missing.csv": None,  # listed, then deleted before the read
}


def files_frame(folder: Path, contents: dict[str, bytes | None]) -> pl.DataFrame:
    for name, content in contents.items():
        if content is not None:
            (folder / name).write_bytes(content)
    return pl.DataFrame(
        {
            "path": [str(folder / name) for name in contents],
            "_source_file": list(contents),
            "_source_hash": [f"hash-{name}" for name in contents],
        }
    )


@pytest.mark.parametrize("batch_bytes", [CSV_BATCH_BYTES, 1], ids=["one batch", "a batch per file"])
def test_rows_carry_the_lineage_of_their_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch_bytes: int
) -> None:
    monkeypatch.setattr(csv_store, "CSV_BATCH_BYTES", batch_bytes)
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    files = files_frame(tmp_path, FILES)

    rows = catalog.read_csv_text(files, ("id", "text")).collect().sort("id")

    assert rows.select("id", "text", "extra", "_source_file", "_source_hash").rows() == [
        ("1", "two\nlines", None, "a.csv", "hash-a.csv"),
        ("2", "plain", None, "a.csv", "hash-a.csv"),
        ("3", "x, y", None, "crlf.csv", "hash-crlf.csv"),
        ("4", "last", None, "no_newline.csv", "hash-no_newline.csv"),
        ("5", "z", "e", "other_header.csv", "hash-other_header.csv"),
        ("6", "after a blank line", None, "blank_first_line.csv", "hash-blank_first_line.csv"),
    ]
    assert rows.schema["id"] == pl.String


def test_no_files_give_the_columns_and_lineage(tmp_path: Path) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    files = files_frame(tmp_path, {})

    rows = catalog.read_csv_text(files, ("id", "text")).collect()

    assert rows.is_empty()
    assert rows.columns == ["id", "text", "_source_file", "_source_hash"]


def test_an_unclosed_quote_is_blamed_on_its_file(tmp_path: Path) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    # The open quote runs on into the next file up to its stray quote and parses without error:
    # their rows would be mixed.
    files = files_frame(
        tmp_path,
        {"a.csv": b"id,text\n1,ok\n", "broken.csv": b'id,text\n2,"open\n', "c.csv": b'id,text\n3,q"\n'},
    )

    with pytest.raises(InvalidInput, match="broken.csv: a quoted field is never closed"):
        catalog.read_csv_text(files, ("id", "text"))


def test_a_replace_names_keys_holding_quotes_exactly_and_refuses_a_null_key(tmp_path: Path) -> None:
    catalog = LocalDeltaCatalog(tmp_path / "lakehouse")
    rows = pl.DataFrame(
        {"file": ["o'brien.csv", "o'brien.csv", "obrien.csv", "x' OR '1'='1"], "n": [1, 2, 3, 4]}
    )
    catalog.write("t", rows)

    catalog.write(
        "t", pl.DataFrame({"file": ["o'brien.csv"], "n": [9]}), replace_keys=rows.select("file")[:1]
    )

    assert sorted(catalog.to_polars(catalog.scan("t")).rows()) == [
        ("o'brien.csv", 9),
        ("obrien.csv", 3),
        ("x' OR '1'='1", 4),
    ]
    with pytest.raises(InvalidInput, match="a key to replace has no file"):
        catalog.write(
            "t",
            rows[:0],
            replace_keys=pl.DataFrame({"file": [None, "obrien.csv"]}, schema={"file": pl.String}),
        )
