"""SparkCatalog reads the CSV files bronze ingests as the local catalog does, lineage and all."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

from flowtype_core.pipeline.catalog import LocalDeltaCatalog
from flowtype_core.pipeline.spark_catalog import SparkCatalog

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark

FILES = {
    "a.csv": b'id,text\n1,"two\nlines"\n2,plain\n',
    "b.csv": b'id,text\n3,"x, y"\n4,\n',
    "c.csv": b"id,text\n",
    # As polars writes them (RFC 4180): a typed quote is a doubled one, a backslash is plain text.
    "d.csv": b'id,text\n5,""""\n6,back\\\n7,"say ""hi"", ok"\n8,office.\\\n',
}


def test_read_csv_text_on_spark_equals_the_local_catalog(spark: SparkSession, tmp_path: Path) -> None:
    for name, content in FILES.items():
        (tmp_path / name).write_bytes(content)
    files = pl.DataFrame(
        {
            "path": [str(tmp_path / name) for name in FILES],
            "_source_file": list(FILES),
            "_source_hash": [f"hash-{name}" for name in FILES],
        }
    )
    local = LocalDeltaCatalog(tmp_path / "lakehouse").read_csv_text(files, ("id", "text")).collect()

    on_spark = SparkCatalog(spark, "spark_catalog", "default").read_csv_text(files, ("id", "text"))
    actual = pl.from_arrow(on_spark.toArrow())

    assert local.height == 8
    assert local.sort("id")["text"].to_list()[4:] == ['"', "back\\", 'say "hi", ok', "office.\\"]
    assert actual.select(local.columns).sort("id").rows() == local.sort("id").rows()
