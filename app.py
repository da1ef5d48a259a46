"""FlowType: the Streamlit entry point. Login gate, then the pages this user's role may open."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ui.auth import login_gate
from ui.resources import workbench


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    group: str
    roles: frozenset[str]


ALL = frozenset({"participant", "analyst", "researcher"})
STAFF = frozenset({"analyst", "researcher"})
RESEARCHER = frozenset({"researcher"})
PARTICIPANT_SIDE = frozenset({"participant", "researcher"})

# One list: every page, its group and who may open it. A page not listed for a role is not
# routable for that user at all, so typing its URL leads nowhere.
PAGES = (
    PageSpec("pages/typing_test.py", "Typing test", ":material/keyboard:", "Practice", PARTICIPANT_SIDE),
    PageSpec("pages/analytics.py", "Analytics", ":material/monitoring:", "Explore", ALL),
    PageSpec("pages/participants.py", "Participants", ":material/group:", "Manage", RESEARCHER),
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


st.set_page_config(page_title="FlowType", page_icon=":material/keyboard:", layout="wide")
user = login_gate(workbench())
if user is None:
    st.stop()
st.navigation(pages_for(user.role)).run()
