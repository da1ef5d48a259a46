"""Load benchmark (issue 20 item 1): typists at once through `streamlit run` on 127.0.0.1.

    .venv/bin/python bench/bench_load.py [--typists 30] [--sentences 5] [--no-background]

Each typist is a context of one headless chromium that logs in, consents and types its sentences
key by key (holds 45-80 ms, intervals 120-230 ms), while a researcher's Pipeline page runs `all`
back to back and a second process writes the same lakehouse tables (`--no-background`: neither,
the baseline). Prints sentences submitted, what the CSV store and Delta hold (exactly once,
`sync validate` in_sync), the submit latency measured in the browser (key-up of Enter to the
result heading in the document) p50/p99, errors shown, and the server's CPU and peak memory.
Target: p99 <= 300 ms at 30 typists on 2 cores, no error shown to any participant.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.browser.conftest import ROOT, app_env, start_streamlit
from tests.load.scenario import create_accounts, run_load
from tests.load.stored import check_stored_once
from tests.load.typists import run_async

TARGET_P99_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--typists", type=int, default=30)
    parser.add_argument("--sentences", type=int, default=5)
    parser.add_argument("--no-background", action="store_true", help="no pipeline runs, no second writer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        base = Path(work)
        data = base / "data"
        names = create_accounts(data, args.typists)
        env = app_env(base, data)
        os.environ.update(env)  # the checks below open the same data dir with the same settings
        server = start_streamlit(ROOT / "app.py", base, env)
        try:
            print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
            result = run_async(
                lambda: run_load(
                    server.url,
                    data,
                    env,
                    names,
                    server.process.pid,
                    sentences=args.sentences,
                    background=not args.no_background,
                    timeout_ms=300_000,  # measure slow answers, do not give up on them
                )
            )
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            server.stop()
            log = server.log.read_text(errors="replace")
            print(f"server log: {log.count('Traceback')} tracebacks, {log.count('WARNING')} warnings")
            print("\n".join([line for line in log.splitlines() if "Error" in line or "WARNING" in line][:20]))
        print(result.summary())
        stored = check_stored_once(env, [t for o in result.outcomes for t in o.typed])
        print(
            f"stored exactly once: {stored['sentences']} sentences, {stored['keystrokes']} keystrokes in CSV and "
            f"Delta, 0 lost, 0 duplicated; sync validate: {stored['validated_sections']} sections in_sync"
        )
        shown = [f"{o.participant_id}: {p[:300]}" for o in result.outcomes for p in o.problems]
        print(f"problems (errors shown, results never shown): {len(shown)}", *shown, sep="\n  ")
        p99 = result.percentile(99)
        print(
            f"target p99 <= {TARGET_P99_MS} ms: {'met' if p99 <= TARGET_P99_MS else 'NOT met'} ({p99:.0f} ms)"
        )


if __name__ == "__main__":
    main()
