"""A BIDS-style behavioural dataset: one `events.tsv` per typist, each key press an event.

Follows the BIDS specification's rules for task events (Modality specific files > Task events;
Common principles > Tabular files): `onset` then `duration` first, both in seconds, `n/a` for a
missing value and never an empty cell, tab-separated UTF-8 with a header row, labels of letters and
digits only, every column described in a JSON sidecar (here one `task-typing_events.json` at the
top, which applies to every file by the inheritance principle), plus `dataset_description.json`
and `participants.tsv`. Onsets count from the typist's first recorded key press.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from flowtype_core.export.selection import ExportTables, unwritable_sections

BIDS_VERSION = "1.10.0"
TASK = "typing"
NA = "n/a"

SIDECAR: dict[str, dict[str, Any]] = {
    "onset": {"Description": "Key press, from the participant's first recorded key press", "Units": "s"},
    "duration": {"Description": "Key hold: release minus press; n/a if never released", "Units": "s"},
    "trial_type": {"Description": "Kind of event", "Levels": {"keypress": "one key pressed and released"}},
    "key": {"Description": "The key as typed ('a', 'A', 'SHIFT', 'BKSP', a space ...); n/a if unknown"},
    "keycode": {"Description": "The JavaScript keyCode of the key; n/a if unknown"},
    "session_id": {"Description": "FlowType session (one test run)"},
    "test_section_id": {"Description": "FlowType section (one presented sentence)"},
    "keystroke_id": {"Description": "Order of the press within the section, from 0"},
    "press_time_ms": {"Description": "Key-down time", "Units": "ms since the Unix epoch"},
}


def labels(participant_ids: list[str]) -> dict[str, str]:
    """BIDS labels (letters and digits only) for participant ids, distinct even when ids collide."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for pid in sorted(participant_ids):
        base = re.sub(r"[^A-Za-z0-9]", "", pid) or "x"
        label, n = base, 1
        while label in taken:
            n += 1
            label = f"{base}x{n}"
        taken.add(label)
        out[pid] = label
    return out


def _cell(value: str | pl.Expr) -> pl.Expr:
    """A TSV cell: text, with `n/a` where the value is missing."""
    expr = pl.col(value) if isinstance(value, str) else value
    return expr.cast(pl.String).fill_null(NA)


def write(tables: ExportTables, out: Path) -> dict[str, Any]:
    skip = unwritable_sections(tables.keystrokes)
    rows = tables.keystrokes.join(skip, on=skip.columns, how="anti")
    ids = labels(rows.get_column("participant_id").unique().to_list())
    for (participant,), part in rows.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        label = ids[participant]
        first = part.get_column("press_time").min()
        events = part.sort("press_time", "session_id", "test_section_id", "keystroke_id").select(
            ((pl.col("press_time") - first) / 1000).round(3).cast(pl.String).alias("onset"),
            _cell(((pl.col("release_time") - pl.col("press_time")) / 1000).round(3)).alias("duration"),
            pl.lit("keypress").alias("trial_type"),
            pl.col("letter").fill_null(NA).alias("key"),
            _cell("keycode"),
            "session_id",
            "test_section_id",
            _cell("keystroke_id"),
            pl.col("press_time").cast(pl.String).alias("press_time_ms"),
        )
        folder = out / f"sub-{label}" / "beh"
        folder.mkdir(parents=True)
        events.write_csv(folder / f"sub-{label}_task-{TASK}_events.tsv", separator="\t", quote_style="never")
    (out / f"task-{TASK}_events.json").write_text(json.dumps(SIDECAR, indent=1), "utf-8")
    description = {
        "Name": "FlowType keystroke export",
        "BIDSVersion": BIDS_VERSION,
        "DatasetType": "raw",
        "GeneratedBy": [{"Name": "FlowType", "Description": "python -m flowtype_core export --format bids"}],
    }
    (out / "dataset_description.json").write_text(json.dumps(description, indent=1), "utf-8")
    table = pl.DataFrame(
        {"participant_id": [f"sub-{v}" for v in ids.values()], "source_id": list(ids)},
        schema={"participant_id": pl.String, "source_id": pl.String},
    )
    table.write_csv(out / "participants.tsv", separator="\t", quote_style="never")
    (out / "participants.json").write_text(
        json.dumps({"source_id": {"Description": "The participant's id in FlowType"}}, indent=1), "utf-8"
    )
    return {"participants": len(ids), "events": rows.height, "skipped_sections": skip.height}
