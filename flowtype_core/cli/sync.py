"""`sync validate`, `sync resync`, `sync outbox`, `sync history`: is the lakehouse right, and repair it."""

from __future__ import annotations

import argparse

from flowtype_core.cli.common import ProgressBar, add_data_dir, add_json, emit, workbench
from flowtype_core.sync.report import IN_SYNC, SyncReport
from flowtype_core.sync.service import Selection, SyncService

SHOWN_IN_TEXT = 50


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sync = sub.add_parser("sync", help="compare the CSV store with the lakehouses and repair differences")
    commands = sync.add_subparsers(dest="sync_command", required=True, metavar="SUBCOMMAND")

    validate = commands.add_parser("validate", help="row counts and checksums per section, per lakehouse")
    add_data_dir(validate)
    validate.add_argument(
        "--full", action="store_true", help="re-read every CSV session, not only changed ones"
    )
    validate.add_argument("--problems", action="store_true", help="list only sections that are not in_sync")
    validate.add_argument(
        "--check", action="store_true", help="exit with status 1 unless every section is in_sync"
    )
    add_json(validate)
    validate.set_defaults(func=cmd_validate)

    resync = commands.add_parser(
        "resync", help="push sections again through the outbox (default: every out-of-sync section)"
    )
    add_data_dir(resync)
    resync.add_argument("--participant", action="append", default=[], metavar="P", help="repeatable")
    resync.add_argument("--session", action="append", default=[], metavar="S", help="repeatable")
    resync.add_argument("--section", action="append", default=[], metavar="T", help="repeatable")
    resync.add_argument("--lakehouse", action="append", default=[], metavar="L", help="repeatable")
    resync.add_argument("--all", action="store_true", help="every section, in sync or not")
    add_json(resync)
    resync.set_defaults(func=cmd_resync)

    outbox = commands.add_parser("outbox", help="list the work waiting for a lakehouse")
    add_data_dir(outbox)
    add_json(outbox)
    outbox.set_defaults(func=cmd_outbox)

    history = commands.add_parser("history", help="recent publishes, validations and resyncs")
    add_data_dir(history)
    history.add_argument("--limit", type=int, default=20)
    add_json(history)
    history.set_defaults(func=cmd_history)


def _summary(report: SyncReport) -> str:
    counts = ", ".join(f"{status} {n}" for status, n in report.counts().items() if n)
    lines = [
        f"{report.sections.height} section(s) across {report.total_sessions} session(s) "
        f"({report.scanned_sessions} re-read) in {report.seconds:.2f} s: {counts or 'nothing to compare'}"
    ]
    lines += [f"cannot read {what}: {error}" for what, error in report.errors.items()]
    problems = report.out_of_sync()
    for row in problems.head(SHOWN_IN_TEXT).iter_rows(named=True):
        lines.append(
            f"  {row['lakehouse']}  {row['participant_id']}/{row['session_id']}/{row['test_section_id']}  "
            f"{row['status']}  (csv {row['csv_rows']}, lakehouse {row['lakehouse_rows']})"
        )
    if problems.height > SHOWN_IN_TEXT:
        lines.append(f"  ... and {problems.height - SHOWN_IN_TEXT} more (use --json)")
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    report = SyncService.for_workbench(workbench(args)).validate(full=args.full)
    emit(args, report.to_dict(only_problems=args.problems), _summary(report))
    all_in_sync = report.counts()[IN_SYNC] == report.sections.height and not report.errors
    return 1 if args.check and not all_in_sync else 0


def cmd_resync(args: argparse.Namespace) -> int:
    selection = Selection(
        participants=tuple(args.participant),
        sessions=tuple(args.session),
        sections=tuple(args.section),
        lakehouses=tuple(args.lakehouse),
        everything=args.all,
    )
    result = SyncService.for_workbench(workbench(args)).resync(selection, progress=ProgressBar("resync"))
    text = (
        f"queued {result.queued} outbox entries, pushed {result.pushed_sections} section(s) / {result.rows} rows "
        f"in {result.seconds:.2f} s\n" + _summary(result.after)
    )
    text += "".join(f"\npush to {name} failed: {error}" for name, error in result.failures.items())
    text += "".join(f"\nskipped (ids cannot be addressed): {key}" for key in result.skipped)
    emit(args, result.to_dict(), text)
    return 0 if result.ok else 1


def cmd_outbox(args: argparse.Namespace) -> int:
    frame = SyncService.for_workbench(workbench(args)).outbox_frame()
    lines = [
        f"{r['lakehouse']:<10} {r['participant_id']}/{r['session_id']}/{r['section']}  "
        f"attempts {r['attempts']}  {r['last_error']}".rstrip()
        for r in frame.iter_rows(named=True)
    ]
    emit(args, {"entries": frame.to_dicts()}, "\n".join(lines) or "the outbox is empty")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    frame = SyncService.for_workbench(workbench(args)).history_frame(args.limit)
    lines = [
        f"{r['started_at']:%Y-%m-%d %H:%M:%S}  {r['kind']:<8} {r['lakehouse']:<10} {r['status']:<7} "
        f"{r['sections']:>6} sections {r['rows']:>8} rows {r['seconds']:>8.2f} s  {r['error']}".rstrip()
        for r in frame.iter_rows(named=True)
    ]
    emit(args, {"runs": frame.to_dicts()}, "\n".join(lines) or "no sync runs recorded yet")
    return 0
