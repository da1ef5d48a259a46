"""Sync benchmark: validation time for 10k sessions / 1M keystrokes, and Databricks statement counts.

    .venv/bin/python -m bench.bench_sync [--sessions 10000] [--bulk-sessions 10000] [--only bulk]

Prints one line per figure. Databricks figures come from the stand-in warehouse
(tests/support/databricks_sql_server.py), which counts statements and bytes as the real client sends
them. The data is synthetic and written in the store's own CSV format (the per-file fsync of the
live path is skipped: it measures the disk, not validation).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from deltalake import write_deltalake

from flowtype_core import Workbench, open_workbench
from flowtype_core.corpus import pick_sentences
from flowtype_core.demo import TypistProfile, synthesize_batch
from flowtype_core.sync.report import IN_SYNC
from flowtype_core.sync.service import SyncService
from flowtype_core.sync.validate import SyncValidator
from tests.support.databricks_sql_server import DatabricksSqlServer
from tests.sync.synthetic import synthetic, write_store


def _wide(frame: pl.DataFrame) -> str:
    return ", ".join(f"{k} {v}" for k, v in frame.iter_rows())


def bench_validation(args: argparse.Namespace, work: Path) -> None:
    """Validation over the local Delta lakehouse: cold full run, then incremental runs."""
    keystrokes, sections = synthetic(args.sessions, args.sections, args.keys)
    data = work / "local"
    started = time.perf_counter()
    write_store(data, keystrokes, sections)
    wb = open_workbench(data_dir=data, FLOWTYPE_LAKEHOUSE="local")
    lake = wb.lakehouses["local"]
    write_deltalake(str(lake.path("keystrokes")), keystrokes.to_arrow(), mode="append")
    write_deltalake(str(lake.path("sections")), sections.to_arrow(), mode="append")
    print(
        f"setup: {args.sessions} sessions, {keystrokes.height} keystrokes in {time.perf_counter() - started:.1f} s"
    )
    validator = SyncValidator(
        wb.store, wb.lakehouses, wb.outbox, wb.history, data / "sync", watermark_slack_ns=0
    )
    report = validator.validate(full=True)
    print(f"validation, full (every CSV file read): {report.seconds:.2f} s, counts {report.counts()}")
    report = validator.validate()
    print(
        f"validation, incremental, nothing changed: {report.seconds:.2f} s ({report.scanned_sessions} sessions read)"
    )
    changed = sections.unique("session_id").head(max(1, args.sessions // 100))
    wb.store.replace_sections(
        changed, keystrokes.join(changed.select("test_section_id"), on="test_section_id")
    )
    report = validator.validate()
    print(
        f"validation, incremental, {changed.height} sessions rewritten: {report.seconds:.2f} s "
        f"({report.scanned_sessions} sessions read)"
    )
    wb.close()


def _databricks_workbench(server: DatabricksSqlServer, data: Path) -> Workbench:
    return open_workbench(
        data_dir=data,
        FLOWTYPE_LAKEHOUSE="databricks",
        FLOWTYPE_DATABRICKS_SERVER_URL=server.url,
        DATABRICKS_HTTP_PATH=server.http_path,
        DATABRICKS_ACCESS_TOKEN=server.token,
        DATABRICKS_CATALOG="main",
        DATABRICKS_SCHEMA="flowtype",
        DATABRICKS_VOLUME="staging",
    )


def _kinds(log: list[tuple[str, dict[str, str | None]]]) -> pl.DataFrame:
    words = [sql.lstrip().split(None, 1)[0].upper() for sql, _ in log]
    return pl.DataFrame({"statement": words}).group_by("statement").len().sort("len", descending=True)


def bench_databricks_sentence(args: argparse.Namespace, work: Path) -> None:
    """What one live sentence costs on the wire: submit, then the publisher's push."""
    with DatabricksSqlServer(work / "warehouse-live") as server:
        wb = _databricks_workbench(server, work / "live")
        wb.lakehouse.ensure_tables()
        recorder = wb.recorder
        handle = recorder.start_session("bench-01", consented_at=datetime.now(UTC))
        wb.publisher.drain()
        rng = random.Random(3)
        profile = TypistProfile.draw(rng)
        figures = []
        for index, sentence in enumerate(pick_sentences(args.sentences, seed=5)):
            batch = synthesize_batch(
                sentence.text,
                profile,
                rng,
                start_ms=time.time() * 1000 - 60_000,
                token=handle.token,
                section_index=index,
            )
            before, logged = server.traffic(), len(server.statement_log)
            result = recorder.submit_section(handle, index, sentence, batch)
            assert wb.publisher.drain().ok
            cost = server.traffic() - before
            figures.append((result.keystroke_count, cost.statements, cost.bytes_received, cost.bytes_sent))
            kinds = _kinds(server.statement_log[logged:])
        frame = pl.DataFrame(
            figures, schema=["presses", "statements", "bytes_to_server", "bytes_from_server"], orient="row"
        )
        means = frame.mean().row(0, named=True)
        print(
            f"databricks, per sentence ({frame.height} sentences, {means['presses']:.0f} presses on average): "
            f"statements {frame['statements'].min()}-{frame['statements'].max()} ({_wide(kinds)}), "
            f"bytes to server {means['bytes_to_server']:.0f} (max {frame['bytes_to_server'].max()}), "
            f"bytes back {means['bytes_from_server']:.0f}"
        )
        wb.close()


def bench_databricks_bulk(args: argparse.Namespace, work: Path) -> None:
    """A resync of a whole store into an empty Databricks schema: statements and time."""
    keystrokes, sections = synthetic(args.bulk_sessions, args.sections, args.keys, seed=11)
    data = work / "bulk"
    write_store(data, keystrokes, sections)
    with DatabricksSqlServer(work / "warehouse-bulk") as server:
        wb = _databricks_workbench(server, data)
        wb.lakehouse.ensure_tables()
        sync = SyncService.for_workbench(wb)
        before, logged = server.traffic(), len(server.statement_log)
        result = sync.resync()
        cost = server.traffic() - before
        writes = [
            entry
            for entry in server.statement_log[logged:]
            if not entry[0].lstrip().upper().startswith("SELECT")
        ]
        print(
            f"databricks, bulk resync of {result.rows} keystrokes / {result.pushed_sections} sections "
            f"({args.bulk_sessions} sessions, {-(-args.bulk_sessions // wb.publisher.sessions_per_push)} batches): "
            f"{result.seconds:.1f} s, {len(writes)} write statements ({_wide(_kinds(writes))}), "
            f"{cost.statements} statements in all with validation; {cost.bytes_received / 1e6:.1f} MB to server; "
            f"after: {result.after.counts()[IN_SYNC]} in_sync"
        )
        report = sync.validate(full=True)
        print(f"databricks, full validation of the same: {report.seconds:.2f} s, counts {report.counts()}")
        wb.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions for the validation figure")
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--keys", type=int, default=20, help="presses per section")
    parser.add_argument(
        "--sentences", type=int, default=20, help="live sentences for the per-sentence figure"
    )
    parser.add_argument(
        "--bulk-sessions", type=int, default=10_000, help="sessions for the bulk resync figure"
    )
    parser.add_argument("--only", choices=["validation", "sentence", "bulk"], action="append")
    args = parser.parse_args()
    parts = {
        "validation": bench_validation,
        "sentence": bench_databricks_sentence,
        "bulk": bench_databricks_bulk,
    }
    with tempfile.TemporaryDirectory(prefix="bench_sync_", dir=os.environ.get("BENCH_TMP")) as tmp:
        for name in args.only or parts:
            parts[name](args, Path(tmp))


if __name__ == "__main__":
    main()
