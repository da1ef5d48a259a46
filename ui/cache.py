"""Cached query results for pages, keyed on the data's version (SPEC: query results in st.cache_data).

A backend that can name its table version (local Delta) makes a cached result live exactly as
long as the data it was computed from; one that cannot falls back to 30-second buckets.
"""

from __future__ import annotations

import time

import streamlit as st

from flowtype_core.analytics import (
    Dashboard,
    Filters,
    build_dashboard,
    excluded_sections,
    flag_counts,
    load_keystrokes,
    session_choices,
    study_choices,
)
from ui.resources import workbench

FALLBACK_SECONDS = 30


def data_version() -> str:
    """The keystrokes table's version, or the current 30-second bucket when the backend has none."""
    version = workbench().lakehouse.data_version()
    return f"v{version}" if version is not None else f"t{int(time.time() // FALLBACK_SECONDS)}"


@st.cache_data(ttl=3600, max_entries=64, show_spinner="Computing metrics…")
def dashboard(filters: Filters, data_dir: str, version: str) -> Dashboard:
    """Metrics for the filtered keystrokes; `data_dir` and `version` key the cache."""
    return build_dashboard(load_keystrokes(workbench().lakehouse, filters))


@st.cache_data(ttl=3600, max_entries=64)
def sessions_of(participants: tuple[str, ...], data_dir: str, version: str) -> list[tuple[str, str]]:
    """(participant, session) pairs the dashboards can show, for the filter widgets."""
    return session_choices(workbench().lakehouse, participants)


@st.cache_data(ttl=3600, max_entries=64)
def studies_of(data_dir: str, version: str) -> dict[str, list[str]]:
    """Studies with typed sentences and their conditions, for the filter widgets."""
    return study_choices(workbench().lakehouse)


@st.cache_data(ttl=3600, max_entries=64)
def exclusions(filters: Filters, data_dir: str, version: str) -> tuple[int, dict[str, int]]:
    """How many of the selection's sections the quality rules marked invalid, and per rule."""
    excluded = excluded_sections(workbench().lakehouse, filters)
    return excluded.height, flag_counts(excluded)
