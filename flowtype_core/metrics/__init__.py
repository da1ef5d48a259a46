"""Typing metrics (SPEC §3.5), one definition for polars and PySpark frames alike."""

from flowtype_core.metrics.definitions import (
    SECTION_IDS,
    digraph_latencies,
    key_stats,
    keystroke_features,
    participant_metrics,
    population_summary,
    section_metrics,
    session_metrics,
)
from flowtype_core.metrics.published import CHI2018_CITATION, PUBLISHED_CHI2018

__all__ = [
    "CHI2018_CITATION",
    "PUBLISHED_CHI2018",
    "SECTION_IDS",
    "digraph_latencies",
    "key_stats",
    "keystroke_features",
    "participant_metrics",
    "population_summary",
    "section_metrics",
    "session_metrics",
]
