"""The Analytics page as a logged-in analyst sees it, through Streamlit's AppTest, at N keystrokes.

    .venv/bin/python bench/bench_analytics.py [--keystrokes 120000] [--runs 5]

The data is the Aalto sample replicated under new participant ids to N keystrokes, written once
straight into a local Delta lakehouse under bench/out/ (git-ignored) and reused. Timings:
  cold  a page run after every cache is cleared: reading the keystrokes from Delta, all metrics,
        the open view's figures (what the first analyst after a data change waits for);
  warm  the same page run again with the caches filled (every later visit or click);
  view  each view of the page opened in turn, warm (one figure set built per run).
Targets (issue 16): cold <= 2 s and warm <= 1 s at 1M keystrokes.
The last line is exactly `analytics render at N keystrokes: cold p50 X ms, warm p50 Y ms`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import polars as pl
import streamlit as st
from streamlit.testing.v1 import AppTest

from flowtype_core import open_workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.datasets import read_aalto
from ui.auth import TOKEN_KEY

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"
OUT = ROOT / "bench" / "out"
ANALYST, PASSWORD = "bench-analyst", "bench-password"


def data_dir(keystrokes: int) -> Path:
    """A data dir whose lakehouse holds the sample replicated to `keystrokes` rows (built once)."""
    target = OUT / f"analytics_{keystrokes}"
    if (target / "ready").exists():
        return target
    sample = read_aalto(SAMPLE)
    copies = -(-keystrokes // sample.keystrokes.height)

    def replicated(frame: pl.DataFrame) -> pl.DataFrame:
        return pl.concat(
            frame.with_columns(
                pl.format("r{}_{}", pl.lit(i), pl.col("participant_id")).alias("participant_id")
            )
            for i in range(copies)
        )

    keys = replicated(sample.keystrokes).head(keystrokes)
    kept = keys.select("participant_id", "test_section_id").unique()
    sections = replicated(sample.sections).join(kept, on=["participant_id", "test_section_id"], how="semi")
    sessions = replicated(sample.sessions).join(kept.select("participant_id").unique(), on="participant_id")
    wb = open_workbench(data_dir=target)
    wb.lakehouse.replace_sections(sections, keys)
    wb.lakehouse.upsert_sessions(sessions)
    accounts = AccountStore(target)
    accounts.create_user("bench-researcher", PASSWORD, role="researcher", name="Bench Researcher")
    accounts.create_user(ANALYST, PASSWORD, role="analyst", name="Bench Analyst")
    (target / "ready").write_text("ok")
    return target


def page(data: Path) -> AppTest:
    """The app as the analyst sees it after logging in (a real server-side login session)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    _, token = AccountStore(data).log_in(ANALYST, PASSWORD)
    at.session_state[TOKEN_KEY] = token
    return at


def timed(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"the page failed: {at.exception[0].message}")
    return seconds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--keystrokes", type=int, default=120_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.keystrokes < 1 or args.runs < 1:
        parser.error("--keystrokes and --runs must be positive")
    data = data_dir(args.keystrokes)
    os.environ["FLOWTYPE_DATA_DIR"] = str(data)
    timed(page(data))  # imports and the workbench resource, paid once per process, not per page run
    cold, warm = [], []
    for _ in range(args.runs):
        st.cache_data.clear()
        at = page(data)
        cold.append(timed(at))
        warm.append(timed(at))
    at = page(data)
    timed(at)
    for view in at.segmented_control(key="analytics_view").options:
        at.segmented_control(key="analytics_view").set_value(view)
        print(f"  view {view!r}: {timed(at):.0f} ms warm")
    print(f"  cold runs (ms): {', '.join(f'{c:.0f}' for c in cold)}")
    print(f"  warm runs (ms): {', '.join(f'{w:.0f}' for w in warm)}")
    print(
        f"analytics render at {args.keystrokes} keystrokes: "
        f"cold p50 {statistics.median(cold):.0f} ms, warm p50 {statistics.median(warm):.0f} ms"
    )


if __name__ == "__main__":
    main()
