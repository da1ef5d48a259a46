"""Cached query results for pages (SPEC: query results in st.cache_data with a ttl)."""

from __future__ import annotations

import streamlit as st

from flowtype_core.analytics import Dashboard, Filters, build_dashboard, load_keystrokes
from ui.resources import workbench


@st.cache_data(ttl=30, show_spinner="Computing metrics…")
def dashboard(filters: Filters, data_dir: str) -> Dashboard:
    """Metrics for the filtered keystrokes; `data_dir` keys the cache per data directory."""
    return build_dashboard(load_keystrokes(workbench().lakehouse, filters))


@st.cache_data(ttl=30)
def session_index(participants: tuple[str, ...], data_dir: str) -> list[tuple[str, str]]:
    """(participant, session) pairs from the CSV store, for the filter widgets."""
    store = workbench().store
    if participants:
        return [pair for p in participants for pair in store.sessions(p)]
    return list(store.sessions())
