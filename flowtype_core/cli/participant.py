"""`participant list` and `participant delete`: the Participants page's roster and deletion."""

from __future__ import annotations

import argparse

from flowtype_core.cli.common import add_data_dir, add_json, emit, workbench
from flowtype_core.erasure import delete_account, remove_typist_data
from flowtype_core.errors import InvalidInput
from flowtype_core.roster import roster


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("participant", help="list accounts and dataset typists; delete one")
    verbs = group.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = verbs.add_parser(
        "list", help="accounts and dataset typists with sessions, sentences, last session"
    )
    add_data_dir(listing)
    add_json(listing)
    listing.set_defaults(func=cmd_list)

    delete = verbs.add_parser(
        "delete",
        help="delete an account (its data is kept unless --data), or with --data a dataset typist's data",
    )
    delete.add_argument("participant_id", metavar="ID")
    delete.add_argument(
        "--data",
        action="store_true",
        help="also remove the recorded data from the CSV store and every lakehouse (cannot be undone)",
    )
    delete.add_argument(
        "--wait",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds to wait for the lakehouses (default 60)",
    )
    add_data_dir(delete)
    add_json(delete)
    delete.set_defaults(func=cmd_delete)


def cmd_list(args: argparse.Namespace) -> int:
    wb = workbench(args)
    people = roster(wb.store, wb.accounts)
    result = {"accounts": people.accounts.to_dicts(), "typists": people.typists.to_dicts()}
    text = "\n".join(
        [f"{len(result['accounts'])} account(s), {len(result['typists'])} dataset typist(s)"]
        + [
            f"  account {a['participant_id']} ({a['role']}): {a['sessions']} session(s)"
            for a in result["accounts"]
        ]
        + [f"  typist  {t['participant_id']}: {t['sessions']} session(s)" for t in result["typists"]]
    )
    emit(args, result, text)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    wb = workbench(args)
    pid = args.participant_id
    if wb.accounts.get(pid) is not None:
        done = delete_account(wb, pid, remove_data=args.data)
    elif args.data:
        done = remove_typist_data(wb, pid)
    else:
        raise InvalidInput(f"there is no account {pid!r}; pass --data to remove a dataset typist's data")
    published = wb.publisher.wait_idle(timeout=args.wait) if done.data_removed else True
    result = {**done.to_dict(), "pending_in_outbox": len(wb.publisher.pending())}
    what = f"removed {done.sessions_removed} session(s)" if done.data_removed else "data kept"
    emit(
        args,
        result,
        f"{pid}: {'account deleted, ' if done.account_deleted else ''}{what}"
        + ("" if published else " (the lakehouse removal is queued; it runs when they are reachable)"),
    )
    return 0
