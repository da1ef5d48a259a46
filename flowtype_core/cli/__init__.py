"""`python -m flowtype_core`: the command line over the same core the app uses.

Each command group is a module with `register(subparsers)`; add it to COMMANDS.
"""

from __future__ import annotations

import argparse
import logging
import sys
from importlib import import_module

from flowtype_core import redaction
from flowtype_core.errors import FlowTypeError

COMMANDS = [
    "flowtype_core.cli.setup",
    "flowtype_core.cli.config",
    "flowtype_core.cli.sync",
    "flowtype_core.cli.analytics",
    "flowtype_core.cli.pipeline",
    "flowtype_core.cli.ranker",
    "flowtype_core.cli.check",
    "flowtype_core.cli.study",
    "flowtype_core.cli.participant",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m flowtype_core", description="FlowType keystroke-dynamics workbench"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        import_module(module).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    redaction.install()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return int(args.func(args) or 0)
    except (FlowTypeError, ValueError) as exc:
        print(f"error: {redaction.redact(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
