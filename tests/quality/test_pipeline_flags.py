"""The pipeline's gold sections carry the same flags as the stored section rows; `metrics` reads
them from either source, over all sections or valid ones."""

from __future__ import annotations

import json
import random

import polars as pl
import pytest

from flowtype_core.cli import main
from flowtype_core.pipeline import local_context, run_targets
from flowtype_core.pipeline.tables import GOLD_SECTIONS, SILVER_KEYSTROKES
from flowtype_core.recorder import completed_sessions, sections_from_keystrokes
from tests.quality.test_rules import SENTENCE, human_ikis, typed

SESSION = "20261122_143022_000"


def _section(index: int, **kwargs) -> pl.DataFrame:
    return typed(section=("ana", SESSION, f"{SESSION}_s{index:03d}"), seed=index, **kwargs)


def record_cases(wb) -> None:
    """Six sections of one session, each clean or tripping different rules, stored and published."""
    idle = human_ikis(61, 3)
    idle[10] = 7_000
    rng = random.Random(2)
    cases = [
        (_section(0), None),
        (_section(1, text="The quick"), None),  # incomplete_input
        (_section(2, ikis=idle), None),  # long_idle
        (_section(3, ikis=[150 + rng.uniform(-4, 4) for _ in range(61)]), None),  # too_regular
        (_section(4), {"hidden_ms": 2_500, "blur_count": 1}),  # tab_hidden, focus_lost
        (_section(5, holds={4: 0}, shift=None), None),  # bad_hold, uppercase_without_shift
    ]
    keystrokes = pl.concat([ks for ks, _ in cases])
    sections = pl.concat([sections_from_keystrokes(ks, provenance=p) for ks, p in cases])
    wb.recorder.ingest(keystrokes, sections, completed_sessions(sections))
    assert wb.publisher.wait_idle(60)


def test_gold_sections_get_the_flags_the_recorder_stored(wb) -> None:
    record_cases(wb)
    stored = wb.store.read("sections.csv", "ana", SESSION).select("test_section_id", "quality_flags", "valid")
    assert stored.sort("test_section_id").rows() == [
        (f"{SESSION}_s000", "", True),
        (f"{SESSION}_s001", "incomplete_input", False),
        (f"{SESSION}_s002", "long_idle", True),
        (f"{SESSION}_s003", "too_regular", False),
        (f"{SESSION}_s004", "tab_hidden,focus_lost", True),
        (f"{SESSION}_s005", "bad_hold,uppercase_without_shift", False),
    ]

    run_targets(["bronze", "silver", "gold"], local_context(wb.data_dir))
    gold = pl.read_delta(str(wb.data_dir / "lakehouse" / GOLD_SECTIONS))
    assert gold.select(stored.columns).sort("test_section_id").equals(stored.sort("test_section_id"))
    silver = pl.read_delta(str(wb.data_dir / "lakehouse" / SILVER_KEYSTROKES))
    recorded = silver.filter(pl.col("test_section_id") == f"{SESSION}_s004")["recorded_flags"].unique()
    assert recorded.to_list() == ["tab_hidden,focus_lost"]
    assert SENTENCE in gold["sentence"].to_list()


@pytest.mark.parametrize("source", ["lakehouse", "gold"])
def test_metrics_counts_flagged_sections_and_leaves_invalid_ones_out_on_request(wb, capsys, source) -> None:
    record_cases(wb)
    run_targets(["bronze", "silver", "gold"], local_context(wb.data_dir))

    def metrics(*extra: str) -> dict:
        assert main(["metrics", "--data-dir", str(wb.data_dir), "--source", source, "--json", *extra]) == 0
        return json.loads(capsys.readouterr().out)

    everything, valid = metrics(), metrics("--valid-only")
    assert (everything["sections"], everything["flagged_sections"], everything["invalid_sections"]) == (
        6,
        5,
        3,
    )
    assert (valid["sections"], valid["flagged_sections"], valid["invalid_sections"]) == (3, 5, 3)
    # The three invalid sections (a 9-character input, a metronome, a broken hold) are left out.
    assert valid["keystrokes"] < everything["keystrokes"] and valid["wpm_mean"] != everything["wpm_mean"]


def test_gold_sections_and_sessions_carry_the_study_they_were_recorded_under(wb) -> None:
    from flowtype_core.pipeline.tables import GOLD_SESSIONS
    from flowtype_core.schema import STUDY_COLUMNS

    study = {"study_id": "pilot", "protocol_version": "1", "condition": "quiet"}
    keystrokes = _section(0)
    sections = sections_from_keystrokes(keystrokes).with_columns(pl.lit(v).alias(k) for k, v in study.items())
    wb.recorder.ingest(keystrokes, sections, completed_sessions(sections))
    other = typed(section=("bo", "20261122_150000_000", "20261122_150000_000_s000"), seed=9)
    plain = sections_from_keystrokes(other)  # no study: null columns
    wb.recorder.ingest(other, plain, completed_sessions(plain))
    assert wb.publisher.wait_idle(60)

    run_targets(["bronze", "silver", "gold"], local_context(wb.data_dir))
    for table in (GOLD_SECTIONS, GOLD_SESSIONS):
        gold = pl.read_delta(str(wb.data_dir / "lakehouse" / table)).sort("participant_id")
        assert gold.select("participant_id", *STUDY_COLUMNS).rows() == [
            ("ana", "pilot", "1", "quiet"),
            ("bo", None, None, None),
        ], table
