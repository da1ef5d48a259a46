#!/usr/bin/env python3
"""mypy, strict on flowtype_core (pyproject.toml), against a shrinking baseline of known errors.

Every error mypy reports must be listed in scripts/mypy-baseline.txt (by file, code and message,
not line, so edits above an error do not churn it); a new one fails. A listed error that is gone
fails too, until it is struck from the list, so the baseline only shrinks. `--update` rewrites
the list from the current errors (for striking fixed ones; review the diff).

    python scripts/typecheck.py [--update]
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scripts" / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[a-z-]+)\]$")


def current_errors() -> Counter[str]:
    """Each error mypy reports, as `path: [code] message`, with how often it occurs."""
    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    if run.returncode not in (0, 1) or "error: " in run.stderr:
        sys.exit(f"mypy did not run: {run.stderr or run.stdout}")
    found: Counter[str] = Counter()
    for line in run.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            found[f"{match['path']}: [{match['code']}] {match['message']}"] += 1
    return found


def main() -> int:
    found = current_errors()
    if sys.argv[1:] == ["--update"]:
        BASELINE.write_text("".join(f"{key}\n" for key in sorted(found.elements())))
        print(f"{BASELINE.name}: {sum(found.values())} known errors")
        return 0
    known = Counter(line for line in BASELINE.read_text().splitlines() if line.strip())
    new, fixed = found - known, known - found
    for key in sorted(new.elements()):
        print(f"new type error: {key}")
    for key in sorted(fixed.elements()):
        print(f"fixed, strike it from {BASELINE.name}: {key}")
    print(
        f"mypy --strict: {sum(found.values())} errors, all in the baseline" if not new and not fixed else ""
    )
    return 1 if new or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
