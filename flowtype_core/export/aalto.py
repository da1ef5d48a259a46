"""`<participant>_keystrokes.txt` in the Aalto dataset's own layout (tab-separated, unquoted).

Importing an export into an empty data dir gives the same metrics: one file per participant, the
header of `datasets.aalto.AALTO_COLUMNS`, times as integers, an empty field for a missing release,
keycode or letter. The layout has no quoting, so a text holding a tab or a line break cannot be
written faithfully: such sections are left out and counted, never altered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.datasets.aalto import AALTO_COLUMNS, FILE_PATTERN, PARTICIPANT_PREFIX
from flowtype_core.export.selection import UNWRITABLE_REASON, ExportTables, unwritable_sections


def dataset_ids(participant_ids: list[str]) -> dict[str, str]:
    """The id each participant gets in the files: an imported typist's own (`aalto-109` -> `109`),
    so a re-import lands on the same id; anyone whose own id that would collide with keeps theirs."""
    own = {p: p.removeprefix(PARTICIPANT_PREFIX) for p in participant_ids}
    taken = list(own.values())
    return {p: v if taken.count(v) == 1 else p for p, v in own.items()}


def write(tables: ExportTables, out: Path) -> dict[str, Any]:
    bad_sections = unwritable_sections(tables.keystrokes)
    rows = tables.keystrokes.join(bad_sections, on=bad_sections.columns, how="anti")
    ids = dataset_ids(rows.get_column("participant_id").unique().to_list())
    rows = rows.with_columns(pl.col("participant_id").replace_strict(ids, return_dtype=pl.String))
    files = 0
    for (participant,), part in rows.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        frame = part.select(
            "participant_id",
            "test_section_id",
            "sentence",
            "user_input",
            "keystroke_id",
            "press_time",
            "release_time",
            "letter",
            "keycode",
        )
        frame.columns = list(AALTO_COLUMNS)
        frame.write_csv(
            out / FILE_PATTERN.replace("*", str(participant)),
            separator="\t",
            quote_style="never",
            null_value="",
        )
        files += 1
    return {
        "files": files,
        "keystrokes": rows.height,
        "skipped_sections": bad_sections.height,
        "skipped_reason": UNWRITABLE_REASON,
    }
