"""`check`: is the data dir whole after a crash, a full disk or a copy (and `--repair` what is safe)."""

from __future__ import annotations

import argparse

from flowtype_core.cli.common import add_data_dir, add_json, emit
from flowtype_core.config import load_settings
from flowtype_core.integrity import IntegrityReport, check_data_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = sub.add_parser(
        "check",
        help="report unreadable or partial CSVs, stray temp files, Delta tables that fail to load, "
        "outbox entries older than a day; exit 1 if any",
    )
    add_data_dir(check)
    check.add_argument(
        "--repair", action="store_true", help="remove stray temp files left by a killed writer"
    )
    add_json(check)
    check.set_defaults(func=cmd_check)


def _text(report: IntegrityReport) -> str:
    checked = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in report.checked.items())
    lines = [
        f"{report.data_dir}: checked {checked}: "
        + ("no problems" if report.ok else f"{len(report.problems)} problem(s)")
    ]
    lines += [f"  {p.kind}  {p.path}  {p.detail}" for p in report.problems]
    lines += [f"  removed {path}" for path in report.repaired]
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    data_dir = args.data_dir or load_settings().data_dir
    report = check_data_dir(data_dir, repair=args.repair)
    emit(args, report.to_dict(), _text(report))
    return 0 if report.ok else 1
