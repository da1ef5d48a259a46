"""Keystroke Verification Challenge layout: per typist, sequences of [press, release, keycode].

KVC (Stragapede et al., "Keystroke Verification Challenge", IEEE BigData 2023) ships the Aalto
data as, for each user, a mapping from session to an array of rows `[press_ms, release_ms,
keycode]` where each of its sessions is one typed sentence. Here one JSON file per participant
holds that mapping keyed by `test_section_id`, rows in press order; a missing release or keycode
is `null` (KVC's NaN).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.export.selection import ExportTables


def write(tables: ExportTables, out: Path) -> dict[str, Any]:
    rows = tables.keystrokes.sort("participant_id", "test_section_id", "press_time", "keystroke_id")
    files = sequences = 0
    for (participant,), part in rows.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        grouped = part.group_by("test_section_id", maintain_order=True).agg(
            pl.concat_list("press_time", "release_time", pl.col("keycode").cast(pl.Int64)).alias("rows")
        )
        sessions = dict(zip(grouped["test_section_id"].to_list(), grouped["rows"].to_list(), strict=True))
        payload = {
            "participant_id": participant,
            "layout": ["press_ms", "release_ms", "keycode"],
            "sessions": sessions,
        }
        (out / f"{participant}.json").write_text(json.dumps(payload, separators=(",", ":")), "utf-8")
        files += 1
        sequences += len(sessions)
    return {"files": files, "sequences": sequences, "keystrokes": rows.height}
