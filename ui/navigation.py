"""The one list of pages: path, title, icon, group and the roles that may open each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    group: str
    roles: frozenset[str]


ALL = frozenset({"participant", "analyst", "researcher"})
RESEARCHER = frozenset({"researcher"})
PARTICIPANT_SIDE = frozenset({"participant", "researcher"})

# A page not listed for a role is not routable for that user at all, so typing its URL leads
# nowhere; each page also checks the role itself before reading any data.
PAGES = (
    PageSpec("pages/typing_test.py", "Typing test", ":material/keyboard:", "Practice", PARTICIPANT_SIDE),
    PageSpec("pages/analytics.py", "Analytics", ":material/monitoring:", "Explore", ALL),
    PageSpec("pages/participants.py", "Participants", ":material/group:", "Manage", RESEARCHER),
    PageSpec("pages/studies.py", "Studies", ":material/science:", "Manage", RESEARCHER),
    PageSpec("pages/data.py", "Data", ":material/database:", "Manage", RESEARCHER),
    PageSpec("pages/sync.py", "Sync", ":material/sync:", "Lakehouse", RESEARCHER),
    PageSpec("pages/pipeline.py", "Pipeline", ":material/account_tree:", "Lakehouse", RESEARCHER),
    PageSpec("pages/ranker.py", "Ranker", ":material/leaderboard:", "Lakehouse", RESEARCHER),
)


def pages_for(role: str) -> dict[str, list[st.Page]]:
    """The navigation for one role, grouped as declared above."""
    grouped: dict[str, list[st.Page]] = {}
    for spec in PAGES:
        if role in spec.roles:
            grouped.setdefault(spec.group, []).append(st.Page(spec.path, title=spec.title, icon=spec.icon))
    return grouped


def url_paths() -> list[str]:
    """Every page's URL path (what Streamlit derives from its file name)."""
    return [Path(spec.path).stem for spec in PAGES]


def landing(role: str, url_path: str) -> str:
    """Where a login lands: the page its URL asked for when the role may open it, else home."""
    allowed = {Path(spec.path).stem for spec in PAGES if role in spec.roles}
    return url_path if url_path in allowed else "./"
