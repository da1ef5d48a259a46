"""Bronze -> silver -> gold on the Aalto sample: equal to the metrics, incremental, validated."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flowtype_core.cli import main
from flowtype_core.datasets.aalto import AaltoImport
from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline import gold_population_summary, local_context, run_targets
from flowtype_core.pipeline.expectations import EXPECTATIONS
from flowtype_core.pipeline.tables import (
    BRONZE_KEYSTROKES,
    GOLD_DIGRAPHS,
    GOLD_PARTICIPANTS,
    GOLD_RANKER_EXAMPLES,
    GOLD_RANKER_UNITS,
    GOLD_SECTIONS,
    GOLD_SESSIONS,
    PIPELINE_TABLES,
    SILVER_KEYSTROKES,
    SILVER_QUARANTINE,
)
from flowtype_core.ranker.examples import examples_from_keystrokes
from flowtype_core.schema import KEYSTROKES
from tests.support import reference_metrics as reference

MEDALLION = ["bronze", "silver", "gold"]


def read(data_dir: Path, table: str) -> pl.DataFrame:
    return pl.read_delta(str(data_dir / "lakehouse" / table))


def assert_same(actual: pl.DataFrame, expected: pl.DataFrame, keys: list[str]) -> None:
    """Equal on every column the reference has, in key order, floats to 1e-9 relative."""
    assert actual.height == expected.height
    columns = expected.columns
    assert_frame_equal(
        actual.select(columns).sort(keys),
        expected.select(columns).sort(keys),
        check_dtypes=False,
        rel_tol=1e-9,
    )


def versions(data_dir: Path) -> dict[str, int | None]:
    catalog = local_context(data_dir).catalog
    return {table: catalog.version(table) for table in PIPELINE_TABLES}


def test_gold_equals_metrics_computed_directly(store_copy: Callable[..., Path], aalto: AaltoImport) -> None:
    """Gold against SPEC §3.5 computed a second way (DuckDB SQL, `tests/support/reference_metrics`),
    sharing no code with `flowtype_core.metrics`."""
    data_dir = store_copy()
    results = {r.layer: r for r in run_targets(MEDALLION, local_context(data_dir))}

    assert results["bronze"].tables[BRONZE_KEYSTROKES] == aalto.keystrokes.height
    assert results["silver"].tables[SILVER_KEYSTROKES] == aalto.keystrokes.height
    assert results["silver"].quarantined == 0
    sections = reference.section_metrics(aalto.keystrokes)
    section_key = ["participant_id", "session_id", "test_section_id"]
    assert_same(read(data_dir, GOLD_SECTIONS), sections, section_key)
    assert_same(
        read(data_dir, GOLD_SESSIONS),
        reference.means_over(sections, ["participant_id", "session_id"]),
        ["participant_id", "session_id"],
    )
    participants = reference.means_over(sections, ["participant_id"])
    assert_same(read(data_dir, GOLD_PARTICIPANTS), participants, ["participant_id"])
    assert_same(
        read(data_dir, GOLD_DIGRAPHS),
        reference.digraph_latencies(aalto.keystrokes),
        ["participant_id", "digraph"],
    )
    # The ranker's tables are its own builder's (tests/ranker/test_examples checks its
    # definitions); here: gold over silver rows holds what the builder makes of raw keystrokes.
    examples, units = examples_from_keystrokes(aalto.keystrokes)
    # Computed without sections.csv the examples have no sentence id; gold carries the real one.
    assert_same(read(data_dir, GOLD_RANKER_EXAMPLES), examples.drop("sentence_id"), section_key)
    assert_same(read(data_dir, GOLD_RANKER_UNITS), units, [*section_key, "kind", "unit"])
    # The corpus id of each sentence travels from sections.csv into gold.
    ids = read(data_dir, GOLD_SECTIONS).join(aalto.sections, on=["participant_id", "test_section_id"])
    assert ids.filter(pl.col("sentence_id") != pl.col("sentence_id_right")).is_empty()
    assert ids.height == aalto.sections.height

    summary = gold_population_summary(local_context(data_dir).catalog)
    assert summary == pytest.approx(reference.population(participants), rel=1e-9)
    assert summary["participants"] == 156
    assert summary["wpm_mean"] == pytest.approx(50.2, abs=0.05)  # the sample's published reference


def test_all_trains_the_ranker_and_a_second_run_writes_nothing(
    store_copy: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = store_copy(12)
    first = {r.layer: r for r in run_targets(["all"], local_context(data_dir))}
    assert list(first) == ["bronze", "silver", "gold", "train_ranker"]
    assert all(first[layer].rows_written > 0 for layer in MEDALLION)
    trained = first["train_ranker"].details
    assert trained["trained"] is True
    assert Path(trained["model_path"]).parent == data_dir / "models"
    # The registered model's metrics are what `ranker train` reports for the same data.
    assert main(["ranker", "train", "--data-dir", str(data_dir), "--json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["ndcg"]["model"]["ndcg@5"] == trained["ndcg@5"]
    assert reported["ndcg"]["model"]["ndcg@10"] == trained["ndcg@10"]
    models = sorted(p.name for p in (data_dir / "models").iterdir())
    before = versions(data_dir)

    second = run_targets(["all"], local_context(data_dir))

    assert [(r.layer, r.rows_written) for r in second] == [
        ("bronze", 0),
        ("silver", 0),
        ("gold", 0),
        ("train_ranker", 0),
    ]
    assert [r.rows_in for r in second[:3]] == [0, 0, 0]
    assert second[3].details["trained"] is False  # same data: the current model stands
    assert second[3].details["model_version"] == reported["version"]
    assert versions(data_dir) == before
    assert sorted(p.name for p in (data_dir / "models").iterdir()) == models

    # A model from older feature code is retrained even though the data is the same.
    params_file = Path(reported["model_path"]) / "params.json"  # the current version
    params = json.loads(params_file.read_text())
    params["features_version"] -= 1
    params_file.write_text(json.dumps(params))
    third = run_targets(["train_ranker"], local_context(data_dir))
    assert third[0].details["trained"] is True


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(KEYSTROKES.columns))
        writer.writeheader()
        writer.writerows(rows)


def press(index: int, down: int, up: int | str, **changes: str) -> dict[str, str]:
    row = {
        "participant_id": "lab7",
        "session_id": "20261122_101500_000",
        "test_section_id": "20261122_101500_000_s000",
        "sentence": "the cat",
        "user_input": "the cat",
        "keystroke_id": str(index),
        "press_time": str(down),
        "release_time": str(up),
        "letter": "the cat"[index] if index < 7 else "x",
        "keycode": "84",
        "created_at": "2026-11-22T10:15:00.000000Z",
    }
    return {**row, **changes}


BAD_ROWS = {
    "participant_id_valid": press(20, 1_900, 1_950, participant_id="../etc"),
    "session_id_valid": press(21, 1_910, 1_950, session_id="a b"),
    "keystroke_id_integer": press(0, 1_920, 1_950, keystroke_id="-1"),
    "press_time_integer": press(22, 1_930, 1_950, press_time="1.5e3x"),
    "release_time_integer": press(23, 1_940, "soon"),
    "release_not_before_press": press(24, 1_960, 1_000),
    "keycode_integer": press(25, 1_970, 1_990, keycode="SHIFT"),
    "created_at_timestamp": press(26, 1_980, 1_995, created_at="yesterday"),
}


def test_bad_rows_land_in_quarantine_with_their_rule(store_copy: Callable[..., Path]) -> None:
    data_dir = store_copy(3)
    good = [press(i, 1_000 + 100 * i, 1_060 + 100 * i) for i in range(7)]
    duplicated = [press(9, 1_800, 1_850), press(9, 1_810, 1_860)]
    folder = data_dir / "sessions" / "lab7" / "20261122_101500_000"
    write_rows(folder / "keystrokes.csv", good + list(BAD_ROWS.values()) + duplicated)

    results = {r.layer: r for r in run_targets(MEDALLION, local_context(data_dir))}

    quarantine = read(data_dir, SILVER_QUARANTINE)
    expected_rules = {**{rule: 1 for rule in BAD_ROWS}, "keystroke_key_unique": 2}
    assert dict(quarantine.group_by("rule").len().iter_rows()) == expected_rules
    assert set(expected_rules) <= {e.name for e in EXPECTATIONS}
    assert results["silver"].quarantined == sum(expected_rules.values())
    assert quarantine["_source_file"].unique().to_list() == [
        "sessions/lab7/20261122_101500_000/keystrokes.csv"
    ]
    bad_press = quarantine.filter(pl.col("rule") == "press_time_integer")
    assert bad_press["press_time"].to_list() == ["1.5e3x"]  # kept as ingested, text and all
    lab = read(data_dir, SILVER_KEYSTROKES).filter(pl.col("participant_id") == "lab7")
    assert sorted(lab["keystroke_id"].to_list()) == list(range(7))
    section = read(data_dir, GOLD_SECTIONS).filter(pl.col("participant_id") == "lab7")
    assert section["keystroke_count"].to_list() == [7]

    # The participant fixes the section (a re-submission): the old quarantine rows go with it.
    write_rows(folder / "keystrokes.csv", good)
    again = {r.layer: r for r in run_targets(MEDALLION, local_context(data_dir))}
    assert again["bronze"].rows_in == len(good)
    assert again["silver"].quarantined == 0
    assert read(data_dir, SILVER_QUARANTINE).is_empty()


def test_resubmitted_section_replaces_its_rows_once(store_copy: Callable[..., Path]) -> None:
    data_dir = store_copy(4)
    run_targets(MEDALLION, local_context(data_dir))
    path = next((data_dir / "sessions").glob("*/*/keystrokes.csv"))
    original = pl.read_csv(path, infer_schema=False)
    section = original["test_section_id"][0]
    others = original.filter(pl.col("test_section_id") != section)
    # The new version of the section is shorter: its old extra presses must not survive.
    shorter = original.filter(pl.col("test_section_id") == section).head(5)
    pl.concat([others, shorter]).write_csv(path)

    results = {r.layer: r for r in run_targets(MEDALLION, local_context(data_dir))}

    assert results["bronze"].tables == {
        BRONZE_KEYSTROKES: original.height - (original.height - others.height) + 5
    }
    silver = read(data_dir, SILVER_KEYSTROKES)
    participant = original["participant_id"][0]
    mine = silver.filter(pl.col("participant_id") == participant)
    assert mine.filter(pl.col("test_section_id") == section).height == 5
    assert mine.height == others.height + 5
    assert silver.select(KEYSTROKES.key).is_duplicated().sum() == 0
    gold = read(data_dir, GOLD_SECTIONS).filter(
        (pl.col("participant_id") == participant) & (pl.col("test_section_id") == section)
    )
    assert gold["keystroke_count"].to_list() == [5]
    direct = reference.means_over(
        reference.section_metrics(silver.select(list(KEYSTROKES.columns))), ["participant_id"]
    )
    assert_same(read(data_dir, GOLD_PARTICIPANTS), direct, ["participant_id"])

    before = versions(data_dir)
    assert sum(r.rows_written for r in run_targets(MEDALLION, local_context(data_dir))) == 0
    assert versions(data_dir) == before


def test_training_with_no_sessions_yet_says_what_to_do(tmp_path: Path) -> None:
    """On a fresh data dir, `all` runs the medallion layers (nothing to do) and then refuses to
    train with a message a new researcher can act on (not "run gold first": gold just ran)."""
    done: list[str] = []
    with pytest.raises(FlowTypeError, match="record or import typing sessions") as raised:
        run_targets(["all"], local_context(tmp_path / "data"), on_result=lambda r: done.append(r.layer))
    assert done == ["bronze", "silver", "gold"]
    assert "run gold first" not in str(raised.value)
