"""Ranker targets (issue 6): NDCG@5 >= 0.60 on held-out typists; training on 100k sections <= 30 s.

    .venv/bin/python bench/bench_ranker.py [--sections 100000]

quality  `train_from_frames` on the real Aalto sample (156 typists): grouped 5-fold evaluation,
         each typist held out once, NDCG@5/@10 of the model and every baseline.
scale    the sample's gold tables replicated under new participant ids to `--sections`; timed:
         gold  `examples_from_keystrokes` on the replicated keystrokes (what the pipeline's gold
               layer computes, here in one polars pass),
         train `train_from_frames`: the evaluation folds it runs (enough to hold out 1000 typists)
               + the final model + registration; wall and CPU time (the machine may be shared).
         Replicas are copies, so the scale run's NDCG is meaningless and not printed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from flowtype_core.datasets import read_aalto
from flowtype_core.ranker import examples_from_keystrokes, train_from_frames

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"


def replicate(frame: pl.DataFrame, copies: int) -> pl.DataFrame:
    return pl.concat(
        frame.with_columns(pl.format("r{}_{}", pl.lit(i), pl.col("participant_id")).alias("participant_id"))
        for i in range(copies)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", type=int, default=100_000)
    args = parser.parse_args()
    keystrokes = read_aalto(SAMPLE).keystrokes

    examples, units = examples_from_keystrokes(keystrokes)
    with tempfile.TemporaryDirectory() as models:
        record = train_from_frames(examples, units, models_dir=models)
    held_out = record.metrics["held_out"]
    print(f"quality: {record.metrics['evaluation']['participants']} typists, {examples.height} sections")
    for name, scores in sorted(held_out.items(), key=lambda item: -item[1]["ndcg@5"]):
        print(f"  {name:<22} NDCG@5 {scores['ndcg@5']:.3f}   NDCG@10 {scores['ndcg@10']:.3f}")
    print(f"  target NDCG@5 >= 0.60: {'met' if held_out['model']['ndcg@5'] >= 0.60 else 'MISSED'}")

    copies = -(-args.sections // examples.height)
    big_keystrokes = replicate(keystrokes, copies)
    start = time.perf_counter()
    big_examples, big_units = examples_from_keystrokes(big_keystrokes)
    gold_seconds = time.perf_counter() - start
    del big_keystrokes
    start, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as models:
        big = train_from_frames(big_examples, big_units, models_dir=models)
    train_seconds, train_cpu = time.perf_counter() - start, time.process_time() - cpu
    evaluation = big.metrics["evaluation"]
    print(
        f"scale: {big_examples.height} sections ({big_examples['participant_id'].n_unique()} typists), "
        f"{big_units.height} unit rows"
    )
    print(f"  gold tables from keystrokes  {gold_seconds:6.1f} s")
    print(
        f"  train: {evaluation['folds_evaluated']} of {evaluation['folds']} folds evaluated "
        f"({evaluation['participants']} typists held out) + the final model + registration"
    )
    verdict = "met" if train_seconds <= 30 else "MISSED"
    print(f"    {train_seconds:6.1f} s wall, {train_cpu:6.1f} s CPU   target <= 30 s: {verdict}")


if __name__ == "__main__":
    main()
