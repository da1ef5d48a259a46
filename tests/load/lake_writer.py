"""A second writer of the same data dir while the app serves typists, as a notebook would be:
demo sessions through the workbench's own recorder (CSV first, then the outbox), drained into the
same lakehouse tables by this process's publisher, so its commits race the app's.

    python -m tests.load.lake_writer --data-dir D --stop-file F

Writes until F exists, then prints {"sessions": n, "sections": n, "keystrokes": n} as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from flowtype_core import open_workbench
from flowtype_core.demo import generate_demo

PAUSE_S = 1.0  # between rounds: a notebook's pace, leaving the two cores to the typists


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True, type=Path)
    parser.add_argument("--stop-file", required=True, type=Path)
    args = parser.parse_args()
    wb = open_workbench(data_dir=args.data_dir)
    totals = {"sessions": 0, "sections": 0, "keystrokes": 0}
    seed = 0
    try:
        while not args.stop_file.exists():
            seed += 1
            written = generate_demo(
                wb.recorder, participants=2, sessions_per_participant=1, sentences_per_session=3, seed=seed
            )
            for key in totals:
                totals[key] += written[key]
            wb.publisher.drain()
            time.sleep(PAUSE_S)
        assert wb.publisher.wait_idle(120), "the writer could not publish what it wrote"
    finally:
        wb.close()
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
