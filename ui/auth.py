"""Login gate and role checks; every page calls `require_role` before it reads any data."""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth

from flowtype_core import Workbench
from flowtype_core.accounts import User
from flowtype_core.errors import InvalidInput
from ui.resources import show_error

USER_KEY = "flowtype_user"
COOKIE_NAME = "flowtype_auth"


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


def _authenticator(wb: Workbench) -> stauth.Authenticate:
    return stauth.Authenticate(
        wb.accounts.credentials(),
        COOKIE_NAME,
        wb.accounts.cookie_key(wb.settings.cookie_key),
        cookie_expiry_days=7,
        auto_hash=False,
    )


def login_gate(wb: Workbench) -> User | None:
    """The logged-in user (drawing the sidebar's logout), or None: then show `login_page`."""
    username = st.session_state.get("username", "") if st.session_state.get("authentication_status") else ""
    user = wb.accounts.get(username) if username else None  # None too when the account was removed
    if user is None:
        st.session_state.pop(USER_KEY, None)
        return None
    st.session_state[USER_KEY] = user
    with st.sidebar:
        st.caption(f"Logged in as **{user.name}** ({user.role})")
        _authenticator(wb).logout("Log out", location="sidebar", callback=_on_logout)
    return user


def login_page(wb: Workbench) -> None:
    """The only page while logged out: the first-run form, or the login form (cookie included)."""
    if wb.accounts.is_empty():
        _first_run(wb)
        return
    try:
        _authenticator(wb).login(location="main", fields={"Form name": "Log in to FlowType"})
    except Exception as exc:  # a stale or tampered cookie must not break the login page
        show_error(exc)
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Username or password is incorrect.")
    elif status:
        st.rerun()  # logged in: the role's navigation replaces this page


def _on_logout(_: object = None) -> None:
    for callback in st.session_state.get("flowtype_on_logout", {}).values():
        callback()
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
