"""`ranker train` and `ranker score`: the LightGBM practice ranker from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import polars as pl

from flowtype_core.cli.common import ProgressBar, add_data_dir, add_json, emit, workbench
from flowtype_core.pipeline.catalog import CatalogReader
from flowtype_core.pipeline.ranker_task import load_training_data, train_ranker
from flowtype_core.ranker import TrainConfig, load_model, models_dir_of, score_sections
from flowtype_core.store.atomic import atomic_write


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ranker = sub.add_parser("ranker", help="train the practice-sentence ranker and score sections")
    commands = ranker.add_subparsers(dest="ranker_command", required=True, metavar="ACTION")

    train = commands.add_parser(
        "train", help="evaluate on held-out typists, train on all, register under <data-dir>/models"
    )
    add_data_dir(train)
    add_json(train)
    train.set_defaults(func=cmd_train)

    score = commands.add_parser(
        "score", help="write participant_id,test_section_id,score for every section (higher = harder)"
    )
    score.add_argument(
        "--model", required=True, metavar="PATH", help="a model version directory (or its model.txt)"
    )
    score.add_argument("--out", required=True, metavar="CSV", help="where to write the scores")
    add_data_dir(score)
    add_json(score)
    score.set_defaults(func=cmd_score)


def _gold_source(args: argparse.Namespace) -> tuple[CatalogReader, Path, Callable[[], pl.DataFrame]]:
    """The configured runner's gold tables, the models directory and the keystrokes fallback."""
    wb = workbench(args)
    return (
        wb.catalog,
        models_dir_of(wb),
        lambda: wb.lakehouse.read_table("keystrokes"),
    )


def cmd_train(args: argparse.Namespace) -> int:
    catalog, models_dir, read_keystrokes = _gold_source(args)
    record = train_ranker(
        catalog,
        models_dir,
        read_keystrokes,
        progress=ProgressBar("ranker"),
        config=TrainConfig(replay=True),
    )
    held_out = record.metrics["held_out"]
    result = {
        "model_path": record.model_path,
        "version": record.version,
        "ndcg": held_out,
        "intervals": record.metrics.get("intervals", {}),
        "replay": record.metrics.get("replay", {}),
        "best_heuristic": record.metrics["best_heuristic"],
        "evaluation": record.metrics["evaluation"],
    }
    lines = [f"registered {record.version} at {record.model_path}", "NDCG on held-out typists:"]
    lines += [f"  {name:<22} @5 {m['ndcg@5']:.3f}  @10 {m['ndcg@10']:.3f}" for name, m in held_out.items()]
    emit(args, result, "\n".join(lines))
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    catalog, _, read_keystrokes = _gold_source(args)
    scores = score_sections(model, load_training_data(catalog, read_keystrokes))
    out = Path(args.out)
    atomic_write(out, scores.write_csv)
    emit(args, {"out": str(out), "sections": scores.height}, f"wrote {scores.height} section scores to {out}")
    return 0
