"""Pieces every command shares: the data-dir option, opening the workbench, printing results."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from flowtype_core.workbench import Workbench, open_workbench


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (default: $FLOWTYPE_DATA_DIR or ./data)")


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def workbench(args: argparse.Namespace) -> Workbench:
    return open_workbench(data_dir=getattr(args, "data_dir", None))


def emit(args: argparse.Namespace, result: dict[str, Any], text: str | None = None) -> None:
    """Print `result` as JSON with --json, else a readable line."""
    if getattr(args, "json", False):
        json.dump(result, sys.stdout, default=str)
        sys.stdout.write("\n")
    else:
        print(text if text is not None else "\n".join(f"{k}: {v}" for k, v in result.items()))


class ProgressBar:
    """A one-line progress bar on stderr (a `flowtype_core.progress.Progress`), so --json output
    on stdout stays clean."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, fraction: float, message: str, /) -> None:
        width = 30
        filled = int(width * min(max(fraction, 0.0), 1.0))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {message:<40}")
        if fraction >= 1:
            sys.stderr.write("\n")
        sys.stderr.flush()
