"""`import-aalto` and `metrics`: real data in, population figures out."""

from __future__ import annotations

import argparse

from flowtype_core.cli.common import ProgressBar, add_data_dir, add_json, emit, workbench
from flowtype_core.pipeline import gold_sections
from flowtype_core.quality.summary import assessed_sections, counted_summary


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = sub.add_parser(
        "import-aalto", help="import the Aalto 136M-keystrokes files (<id>_keystrokes.txt) from DIR"
    )
    imp.add_argument("directory", metavar="DIR")
    add_data_dir(imp)
    add_json(imp)
    imp.set_defaults(func=cmd_import)

    met = sub.add_parser("metrics", help="population summary (SPEC §3.5) over all participants")
    add_data_dir(met)
    met.add_argument(
        "--source",
        choices=("lakehouse", "gold"),
        default="lakehouse",
        help="compute from the keystrokes table, or read the pipeline's gold tables",
    )
    met.add_argument(
        "--valid-only",
        action="store_true",
        help="average over valid sections only (the validity rules' `valid`); default: all sections",
    )
    add_json(met)
    met.set_defaults(func=cmd_metrics)


def cmd_import(args: argparse.Namespace) -> int:
    report = workbench(args).import_aalto(args.directory, progress=ProgressBar("import"))
    emit(
        args,
        report,
        (
            f"imported {report['participants']} participants, {report['sections']} sections, "
            f"{report['keystrokes']} keystrokes ({report['written_sessions']} sessions written, "
            f"{report['unchanged_sessions']} unchanged); {report['malformed_rows']} malformed rows skipped"
        ),
    )
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    wb = workbench(args)
    if args.source == "gold":
        sections = gold_sections(wb.catalog)
    else:
        sections = assessed_sections(
            wb.lakehouse.read_table("keystrokes"), wb.lakehouse.read_table("sections")
        )
    emit(args, counted_summary(sections, valid_only=args.valid_only))
    return 0
