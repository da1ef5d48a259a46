"""`init`, `demo` and `maintain`: preparing a data directory and keeping it healthy."""

from __future__ import annotations

import argparse
import getpass
import os

from flowtype_core.cli.common import ProgressBar, add_data_dir, add_json, emit, workbench
from flowtype_core.demo import generate_demo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    init = sub.add_parser("init", help="create the data directory, tables and (optionally) the researcher")
    add_data_dir(init)
    init.add_argument(
        "--researcher",
        metavar="USERNAME",
        help="create this researcher account; password from $FLOWTYPE_RESEARCHER_PASSWORD or a prompt",
    )
    add_json(init)
    init.set_defaults(func=cmd_init)

    demo = sub.add_parser("demo", help="create synthetic participants and sessions through the capture path")
    demo.add_argument("--participants", type=int, default=8, help="how many typists (1-500, default 8)")
    demo.add_argument("--sessions", type=int, default=3, help="sessions per participant (default 3)")
    demo.add_argument("--sentences", type=int, default=10, help="sentences per session (default 10)")
    demo.add_argument("--seed", type=int, default=7)
    add_data_dir(demo)
    add_json(demo)
    demo.set_defaults(func=cmd_demo)

    maintain = sub.add_parser("maintain", help="compact and vacuum the lakehouse tables")
    add_data_dir(maintain)
    add_json(maintain)
    maintain.set_defaults(func=cmd_maintain)


def cmd_init(args: argparse.Namespace) -> int:
    wb = workbench(args)
    for lakehouse in wb.lakehouses.values():
        lakehouse.ensure_tables()
    wb.accounts.cookie_key(wb.settings.cookie_key)
    created = None
    if args.researcher:
        password = os.environ.get("FLOWTYPE_RESEARCHER_PASSWORD") or getpass.getpass("Researcher password: ")
        created = wb.accounts.create_user(args.researcher, password, role="researcher").username
    emit(
        args,
        {"data_dir": str(wb.data_dir), "lakehouses": list(wb.lakehouses), "researcher": created},
        f"initialised {wb.data_dir} (lakehouses: {', '.join(wb.lakehouses)})",
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    wb = workbench(args)
    totals = generate_demo(
        wb.recorder,
        participants=args.participants,
        sessions_per_participant=args.sessions,
        sentences_per_session=args.sentences,
        seed=args.seed,
        progress=ProgressBar("demo"),
    )
    published = wb.publisher.wait_idle(timeout=600)
    totals["pending_in_outbox"] = len(wb.publisher.pending())
    emit(args, totals, f"demo data: {totals}" + ("" if published else " (some lakehouse writes are queued)"))
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    wb = workbench(args)
    done = {name: lakehouse.maintain() for name, lakehouse in wb.lakehouses.items()}
    emit(args, done)
    return 0
