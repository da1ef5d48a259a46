"""`pipeline run` and `pipeline status`: the medallion pipeline on the configured runner."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from flowtype_core.backends import ENGINES, RUNNERS
from flowtype_core.cli.common import add_data_dir, add_json, emit
from flowtype_core.errors import ConfigError
from flowtype_core.pipeline import TARGETS
from flowtype_core.pipeline.runners import Runner, RunRecord
from flowtype_core.workbench import open_workbench

TASK_FIELDS = ("state", "rows_in", "rows_written", "quarantined", "seconds", "error")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pipeline = sub.add_parser("pipeline", help="run and watch the bronze/silver/gold pipeline")
    actions = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="ACTION")

    run = actions.add_parser("run", help="run a layer (or all) and wait for it")
    run.add_argument("target", choices=list(TARGETS))
    add_runner(run)
    run.add_argument(
        "--engine",
        choices=list(ENGINES),
        help="run the local runner's transforms on Spark through Databricks Connect (default: polars)",
    )
    add_data_dir(run)
    add_json(run)
    run.set_defaults(func=cmd_run)

    status = actions.add_parser("status", help="recent runs, or one run with --run-id")
    status.add_argument("--run-id", help="show this run only")
    status.add_argument("--limit", type=int, default=10, help="how many recent runs (default 10)")
    add_runner(status)
    add_data_dir(status)
    add_json(status)
    status.set_defaults(func=cmd_status)


def add_runner(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runner", choices=list(RUNNERS), help="default: $FLOWTYPE_RUNNER or local")


def _runner(args: argparse.Namespace) -> Runner:
    engine = getattr(args, "engine", None)
    wb = open_workbench(data_dir=args.data_dir, FLOWTYPE_RUNNER=args.runner, FLOWTYPE_ENGINE=engine)
    if wb.settings.engine and wb.settings.runner != "local":
        raise ConfigError(
            f"--engine {wb.settings.engine} runs the pipeline from this machine (the local runner); "
            f"the {wb.settings.runner} runner computes on Databricks itself: drop one of the two"
        )
    return wb.runner


def summary(record: RunRecord) -> dict[str, Any]:
    """A run as plain JSON: per task its state, rows, quarantined rows, seconds and details; the run's
    own details (files uploaded to the volume, the model downloaded) alongside."""
    return {
        "run_id": record.run_id,
        "runner": record.runner,
        "target": record.target,
        "state": record.state,
        "url": record.url,
        "error": record.error,
        "seconds": record.elapsed_seconds(),
        "tasks": {t.name: {**{f: getattr(t, f) for f in TASK_FIELDS}, **t.details} for t in record.tasks},
        "details": record.details,
    }


def _text(record: RunRecord) -> str:
    lines = [f"run {record.run_id} ({record.runner}, {record.target}): {record.state}"]
    lines += [
        f"  {t.name:<13} {t.state:<10} in={t.rows_in} written={t.rows_written} "
        f"quarantined={t.quarantined} {t.seconds if t.seconds is not None else '-'} s"
        + (f"  {t.error}" if t.error else "")
        for t in record.tasks
    ]
    lines += [f"  {name}: {value}" for name, value in record.details.items()]
    if record.url:
        lines.append(f"  {record.url}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    runner = _runner(args)
    record = runner.start(args.target)
    print(f"started {record.run_id} on the {runner.name} runner", file=sys.stderr)
    final = runner.wait(record.run_id)
    emit(args, summary(final), _text(final))
    return 0 if final.state == "succeeded" else 1


def cmd_status(args: argparse.Namespace) -> int:
    runner = _runner(args)
    records = [runner.status(args.run_id)] if args.run_id else runner.runs(limit=args.limit)
    emit(args, {"runs": [summary(r) for r in records]}, "\n".join(_text(r) for r in records) or "no runs yet")
    return 0
