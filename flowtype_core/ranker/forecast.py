"""keybr's "lessons to target": a straight line through a typist's recent speeds, extended to the target.

keybr fits the recent lesson speeds and shows how many more lessons reaching the target speed
would take at that rate, and shows nothing when the fit does not support a forecast. Here a
lesson is a typed sentence (a section), its speed the section's WPM, in typing order; the target
is keybr's 175 characters per minute (35 WPM at five characters a word).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from flowtype_core.ranker.peers import KEYBR_TARGET_CPM, section_order

TARGET_WPM = KEYBR_TARGET_CPM / 5.0
RECENT = 10  # lessons the line is fitted through
MIN_LESSONS = 5
MIN_R2 = 0.3  # below this the line explains too little of the ups and downs to extend it
MAX_LESSONS = 500  # a forecast further out than this is no forecast


@dataclass(frozen=True)
class Forecast:
    """Lessons still needed (None when there is no forecast), the fit, and what to tell the typist."""

    lessons: int | None
    message: str
    slope_wpm_per_lesson: float | None = None
    r2: float | None = None


def lessons_to_target(sections: pl.DataFrame, *, target_wpm: float = TARGET_WPM) -> Forecast:
    """The forecast from a typist's sections (test_section_id, wpm), recent ones weighing alone."""
    speeds = (
        sections.filter(pl.col("wpm").is_not_null() & (pl.col("wpm") > 0))
        .sort(section_order(pl.col("test_section_id")))
        .get_column("wpm")
        .cast(pl.Float64)
        .to_numpy()[-RECENT:]
    )
    if len(speeds) < MIN_LESSONS:
        return Forecast(
            None, f"{MIN_LESSONS} typed sentences are needed for a forecast ({len(speeds)} so far)"
        )
    x = np.arange(len(speeds), dtype=np.float64)
    slope, intercept = np.polyfit(x, speeds, 1)
    fitted = slope * x + intercept
    spread = float(((speeds - speeds.mean()) ** 2).sum())
    r2 = 1.0 - float(((speeds - fitted) ** 2).sum()) / spread if spread > 0 else 0.0
    now = float(fitted[-1])
    if now >= target_wpm:
        return Forecast(
            0, f"at the target already ({now:.0f} WPM against {target_wpm:.0f})", float(slope), r2
        )
    if slope <= 0 or r2 < MIN_R2:
        return Forecast(
            None,
            f"no forecast: the last {len(speeds)} speeds do not follow a rising line (R² {r2:.2f})",
            float(slope),
            r2,
        )
    lessons = math.ceil(round((target_wpm - now) / slope, 6))  # 9.9999999 lessons are 10
    if lessons > MAX_LESSONS:
        return Forecast(
            None, f"no forecast: at +{slope:.2f} WPM a lesson the target is too far", float(slope), r2
        )
    return Forecast(
        lessons,
        f"about {lessons} more sentences to reach {target_wpm:.0f} WPM (+{slope:.2f} WPM a sentence, R² {r2:.2f})",
        float(slope),
        r2,
    )
