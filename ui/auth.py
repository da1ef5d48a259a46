"""Login gate and role checks; every page calls `require_role` before it reads any data.

A login opens a server-side session (`flowtype_core.login_sessions`); its token reaches the
browser only as an httpOnly cookie (`ui.login_cookie`), and every script run checks it against
the registry, so a reload, a deep link or a new tab stays logged in while logout, a password reset
or deactivation end it at once, everywhere.
"""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from flowtype_core import Workbench
from flowtype_core.accounts import LoginRefused, User
from flowtype_core.errors import InvalidInput
from flowtype_core.login_sessions import SESSION_TTL
from flowtype_core.studies import StudyRepository
from flowtype_core.studies.recruitment import enrol, link_parameters
from ui import login_cookie
from ui.navigation import landing
from ui.resources import show_error

USER_KEY = "flowtype_user"
TOKEN_KEY = "flowtype_session_token"
PENDING_KEY = "flowtype_login_pending"  # (ticket, token, role) while the browser fetches its cookie
# A participant on a shared lab machine: the cookie dies with the browser and the session after
# a working day, so the next person is not handed the previous one's account.
PARTICIPANT_TTL = timedelta(hours=12)


def _first_run(wb: Workbench) -> None:
    st.title("Welcome to FlowType")
    st.write(
        "This is a fresh install. Create the researcher account: it manages participants, sync, the "
        "pipeline and the ranker."
    )
    with st.form("create_researcher"):
        username = st.text_input("Username")
        name = st.text_input("Full name")
        password = st.text_input("Password (at least 8 characters)", type="password")
        repeat = st.text_input("Repeat password", type="password")
        if st.form_submit_button("Create researcher account"):
            if password != repeat:
                st.error("The passwords do not match.")
            else:
                try:
                    wb.accounts.create_user(username, password, role="researcher", name=name)
                except InvalidInput as exc:
                    show_error(exc)
                else:
                    st.success("Researcher account created. Log in below.")
                    st.rerun()


def login_gate(wb: Workbench) -> User | None:
    """The logged-in user (drawing the sidebar's logout), or None: then show `login_page`."""
    token = st.session_state.get(TOKEN_KEY) or login_cookie.cookie_token()
    user = wb.accounts.session_user(token) if token else None  # None once revoked or expired
    if user is None:
        for key in (USER_KEY, TOKEN_KEY):
            st.session_state.pop(key, None)
        return None
    st.session_state[TOKEN_KEY] = token
    st.session_state[USER_KEY] = user
    with st.sidebar:
        st.text(f"Logged in as {user.name} ({user.role})")  # plain text: a name is never Markdown
        st.button("Log out", key="logout_button", on_click=log_out, args=(wb,))
    return user


def login_page(wb: Workbench, url_path: str = "") -> None:
    """The only page while logged out: the first-run form or the login form. After a login the
    browser gets its cookie and loads the page `url_path` asked for (when the role may open it)."""
    if wb.accounts.is_empty():
        _first_run(wb)
        return
    pending = st.session_state.get(PENDING_KEY)
    if pending is not None:
        ticket, token, role = pending
        if login_cookie.hand_over(ticket, landing(role, url_path)):
            st.session_state.pop(PENDING_KEY)
            st.session_state[TOKEN_KEY] = token  # no cookie: only this tab's connection logs in
            st.rerun()
        st.info("Logging you in…")
        return
    if login_cookie.cookie_token():
        login_cookie.clear()  # a cookie the server no longer honours: let the browser drop it
    if _follow_recruitment_link(wb):
        return
    _, middle, _ = st.columns([1, 2, 1])
    with middle.form("flowtype_login"):
        st.subheader("Log in to FlowType")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Login", type="primary")
    if submitted:
        try:
            user, token = wb.accounts.log_in(username, password, ttl=_ttl_for(wb, username))
        except LoginRefused as exc:
            middle.error(str(exc))
            return
        max_age = None if user.role == "participant" else int(SESSION_TTL.total_seconds())
        st.session_state[PENDING_KEY] = (login_cookie.issue_ticket(token, max_age), token, user.role)
        st.rerun()


def _follow_recruitment_link(wb: Workbench) -> bool:
    """A study link (`?study=S&PROLIFIC_PID=…`) signs its participant in without a password:
    the account is created or resumed, its arm assigned and the panel ids stored; True once the
    login is under way. A bad link is explained and the ordinary login form shown."""
    try:
        link = link_parameters(dict(st.query_params))
        if link is None:
            return False
        visit = enrol(wb.accounts, StudyRepository(wb.data_dir), *link)
        wb.recorder.record_participant(visit.assignment, recruitment=visit.recruitment)
    except InvalidInput as exc:
        show_error(exc)
        return False
    token = wb.accounts.sessions.open(visit.user.username, ttl=PARTICIPANT_TTL)
    st.session_state[PENDING_KEY] = (login_cookie.issue_ticket(token, None), token, visit.user.role)
    st.rerun()
    return True


def _ttl_for(wb: Workbench, username: str) -> timedelta:
    user = wb.accounts.get(username.strip().lower())
    return PARTICIPANT_TTL if user is not None and user.role == "participant" else SESSION_TTL


def log_out(wb: Workbench) -> None:
    """End this login on the server (its cookie is then worthless, wherever it was copied)."""
    for callback in st.session_state.get("flowtype_on_logout", {}).values():
        callback()
    token = st.session_state.get(TOKEN_KEY)
    if token:
        wb.accounts.log_out(token)
    for key in [k for k in st.session_state if str(k).startswith("flowtype")]:
        del st.session_state[key]


def on_logout(name: str, callback: object) -> None:
    """Register work to do at logout (e.g. mark a running typing session abandoned)."""
    st.session_state.setdefault("flowtype_on_logout", {})[name] = callback


def current_user() -> User:
    user = st.session_state.get(USER_KEY)
    if not isinstance(user, User):
        st.warning("Please log in.")
        st.stop()
    return user


def require_role(*roles: str) -> User:
    """Stop the page unless the logged-in user has one of `roles` (URL access included)."""
    user = current_user()
    if user.role not in roles:
        st.error("You do not have access to this page.")
        st.stop()
    return user
