"""What the store and the lakehouses must hold after typists typed: every submitted sentence
exactly once, with the presses typed, and `sync validate` all in_sync."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import polars as pl

from flowtype_core import open_workbench
from tests.load.typists import Typed, cli

KEYS = ["participant_id", "test_section_id", "keystroke_id"]
SECTION = ["participant_id", "test_section_id"]


def _index(test_section_id: pl.Expr) -> pl.Expr:
    return test_section_id.str.extract(r"_s(\d+)$").cast(pl.Int64)


def _as_typed(sections: pl.DataFrame) -> Counter[tuple[str, int, str, int]]:
    rows = sections.select(
        "participant_id", _index(pl.col("test_section_id")), "sentence", "keystroke_count"
    ).rows()
    return Counter((p, int(i), s, int(n)) for p, i, s, n in rows)


def check_stored_once(env: Mapping[str, str], typed: Iterable[Typed]) -> dict[str, int]:
    """Assert the CSV store and every configured lakehouse hold each typed sentence once (same
    participant, index, sentence and number of presses), no key twice, and that a full `sync
    validate` finds every section in_sync. Returns the counts checked."""
    typed = list(typed)
    wanted = Counter((t.participant_id, t.index, t.sentence, t.presses) for t in typed)
    participants = sorted({t.participant_id for t in typed})
    wb = open_workbench(**env)
    try:
        csv_sections = pl.concat([wb.store.read_all("sections.csv", p) for p in participants])
        csv_keys = pl.concat([wb.store.read_all("keystrokes.csv", p) for p in participants])
        assert _as_typed(csv_sections) == wanted, "the CSV store does not hold exactly what was typed"
        assert not csv_sections.select(SECTION).is_duplicated().any()
        assert not csv_keys.select(KEYS).is_duplicated().any()
        assert csv_keys.height == sum(t.presses for t in typed)
        for name, lakehouse in wb.lakehouses.items():
            mine = pl.col("participant_id").is_in(participants)
            sections = lakehouse.read_table("sections").filter(mine)
            keys = lakehouse.read_table("keystrokes").filter(mine)
            assert _as_typed(sections) == wanted, f"{name} does not hold exactly what was typed"
            assert not sections.select(SECTION).is_duplicated().any(), name
            assert not keys.select(KEYS).is_duplicated().any(), name
            assert keys.height == csv_keys.height, name
    finally:
        wb.close()
    report = cli(env, "sync", "validate", "--full")
    counts = report["counts"]
    assert not report["errors"], report["errors"]
    assert counts["in_sync"] == len(report["sections"]) > 0, counts
    return {"sentences": len(typed), "keystrokes": csv_keys.height, "validated_sections": counts["in_sync"]}
