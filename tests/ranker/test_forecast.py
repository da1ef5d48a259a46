"""keybr-style lessons-to-target forecast against hand-computed lines."""

from __future__ import annotations

import polars as pl

from flowtype_core.ranker.forecast import RECENT, lessons_to_target


def _sections(speeds: list[float]) -> pl.DataFrame:
    # Ids in typing order, numeric-aware (s9 before s10).
    return pl.DataFrame({"test_section_id": [f"{i}" for i in range(len(speeds))], "wpm": speeds})


def test_a_rising_line_is_extended_to_the_target() -> None:
    forecast = lessons_to_target(_sections([20.0, 21.0, 22.0, 23.0, 24.0, 25.0]))
    assert abs(forecast.slope_wpm_per_lesson - 1.0) < 1e-9
    assert forecast.r2 is not None and forecast.r2 > 0.999
    assert forecast.lessons == 10 and "about 10 more sentences" in forecast.message  # 25 -> 35 WPM


def test_only_the_recent_lessons_count() -> None:
    old = [60.0] * 20  # long ago, fast: must not pull the line
    forecast = lessons_to_target(_sections(old + [20.0 + 2 * i for i in range(RECENT)]))
    assert abs(forecast.slope_wpm_per_lesson - 2.0) < 1e-9 and forecast.lessons == 0  # 38 WPM fitted now


def test_a_poor_or_falling_fit_says_so() -> None:
    noisy = lessons_to_target(_sections([20.0, 30.0, 18.0, 29.0, 19.0, 31.0, 20.0]))
    assert noisy.lessons is None and "no forecast" in noisy.message
    falling = lessons_to_target(_sections([30.0, 29.0, 28.0, 27.0, 26.0]))
    assert falling.lessons is None and falling.slope_wpm_per_lesson < 0
    assert lessons_to_target(_sections([20.0, 21.0])).lessons is None
    assert "5 typed sentences are needed" in lessons_to_target(_sections([20.0, None, 21.0])).message
