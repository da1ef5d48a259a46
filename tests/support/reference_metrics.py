"""SPEC §3.5 written a second time, independently of `flowtype_core.metrics`: DuckDB SQL plus a
textbook Levenshtein, so tests compare the pipeline's figures with a computation that shares no
code with it.

Within a section presses are ordered by press time (ties by keystroke id). DuckDB's own
`levenshtein` counts UTF-8 bytes (docs/NOTES.md), so the edit distance is computed here over code
points.
"""

from __future__ import annotations

import duckdb
import polars as pl

SECTION_SQL = """
WITH ordered AS (
    SELECT *,
        press_time - lag(press_time) OVER w AS iki,
        lag(release_time) OVER w AS prev_release,
        lag(letter) OVER w AS prev_letter,
        row_number() OVER w AS position
    FROM keystrokes
    WINDOW w AS (PARTITION BY participant_id, session_id, test_section_id ORDER BY press_time, keystroke_id)
), sections AS (
    SELECT participant_id, session_id, test_section_id,
        any_value(sentence) AS sentence,
        any_value(user_input) AS user_input,
        count(*) AS keystroke_count,
        min(press_time) AS started_at,
        max(press_time) AS completed_at,
        avg(iki) AS iki_mean_ms,
        stddev_pop(iki) AS iki_sd,
        median(iki) AS iki_median_ms,
        avg(release_time - press_time) AS hold_mean_ms,
        avg(CASE WHEN position > 1 THEN (prev_release IS NOT NULL AND press_time < prev_release)::INT END)
            AS rollover,
        sum((letter = 'BKSP')::INT) AS backspaces
    FROM ordered
    GROUP BY ALL
)
SELECT *, completed_at - started_at AS duration_ms,
    CASE WHEN length(user_input) >= 2 AND completed_at > started_at
        THEN (length(user_input) - 1) / ((completed_at - started_at) / 1000) * 60 / 5 END AS wpm,
    CASE WHEN length(user_input) > 0 THEN keystroke_count / length(user_input) END AS kspc,
    CASE WHEN iki_mean_ms > 0 THEN 100 * (1 - tanh(
        iki_sd / iki_mean_ms + pow(iki_sd / iki_mean_ms, 3) / 3 + pow(iki_sd / iki_mean_ms, 5) / 5
    )) END AS consistency
FROM sections
"""

MEANS = (
    "wpm",
    "error_rate",
    "kspc",
    "iki_mean_ms",
    "iki_median_ms",
    "hold_mean_ms",
    "rollover",
    "consistency",
)
SUMMARY = {
    "wpm": "wpm",
    "error_rate_pct": "error_rate",
    "iki_mean_ms": "iki_mean_ms",
    "hold_mean_ms": "hold_mean_ms",
    "rollover": "rollover",
    "kspc": "kspc",
    "consistency": "consistency",
}

DIGRAPH_SQL = """
WITH ordered AS (
    SELECT participant_id, letter,
        lag(letter) OVER w AS prev_letter,
        press_time - lag(press_time) OVER w AS iki
    FROM keystrokes
    WINDOW w AS (PARTITION BY participant_id, session_id, test_section_id ORDER BY press_time, keystroke_id)
)
SELECT participant_id, prev_letter || letter AS digraph,
    any_value(prev_letter) AS first, any_value(letter) AS second,
    avg(iki) AS latency_mean_ms, median(iki) AS latency_median_ms, count(*) AS count
FROM ordered
WHERE length(letter) = 1 AND length(prev_letter) = 1 AND iki IS NOT NULL
GROUP BY ALL
"""


def levenshtein(a: str, b: str) -> int:
    """Edit distance over code points (insert, delete, substitute: 1 each)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def section_metrics(keystrokes: pl.DataFrame) -> pl.DataFrame:
    """One row per section: the SPEC §3.5 figures (error rate in percent)."""
    frame = _query(SECTION_SQL, keystrokes)
    rates = [
        levenshtein(s, u) / max(len(s), len(u)) * 100 if max(len(s), len(u)) else None
        for s, u in zip(frame["sentence"], frame["user_input"], strict=True)
    ]
    return frame.drop("iki_sd").with_columns(pl.Series("error_rate", rates, dtype=pl.Float64))


def means_over(sections: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Means of each section figure per group (nulls left out, as SPEC §3.5 says), with counts."""
    sql = f"""
        SELECT {", ".join(by)}, count(*) AS n_sections, sum(keystroke_count)::BIGINT AS keystrokes,
            sum(backspaces)::BIGINT AS backspaces, min(started_at) AS started_at, max(completed_at) AS completed_at,
            {", ".join(f"avg({m}) AS {m}" for m in MEANS)}
        FROM frame GROUP BY ALL
    """
    return _query(sql, sections, name="frame")


def population(participants: pl.DataFrame) -> dict[str, float | int]:
    """Mean and sample SD (ddof = 1) over participants of each summary figure, and the counts."""
    stats = [
        "count(*) AS participants",
        "sum(n_sections)::BIGINT AS sections",
        "sum(keystrokes)::BIGINT AS keystrokes",
    ]
    for key, column in SUMMARY.items():
        stats += [f"avg({column}) AS {key}_mean", f"stddev_samp({column}) AS {key}_sd"]
    return _query(f"SELECT {', '.join(stats)} FROM frame", participants, name="frame").row(0, named=True)


def digraph_latencies(keystrokes: pl.DataFrame) -> pl.DataFrame:
    """Per (participant, digraph of two characters): mean and median IKI into the second, count."""
    return _query(DIGRAPH_SQL, keystrokes)


def _query(sql: str, frame: pl.DataFrame, name: str = "keystrokes") -> pl.DataFrame:
    con = duckdb.connect()
    try:
        con.register(name, frame.to_arrow())
        return pl.from_arrow(con.sql(sql).to_arrow_table())  # type: ignore[return-value]
    finally:
        con.close()
