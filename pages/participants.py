"""Researchers register participants and see who has typed what."""

import streamlit as st

from flowtype_core.accounts import ROLES
from flowtype_core.errors import InvalidInput
from flowtype_core.roster import account_roster
from ui.auth import require_role
from ui.resources import show_error, workbench

require_role("researcher")
wb = workbench()
st.title("Participants")

with st.form("register", clear_on_submit=True):
    st.subheader("Register an account")
    col1, col2 = st.columns(2)
    username = col1.text_input("Username (letters, digits, '_', '.', '-')")
    name = col2.text_input("Full name")
    password = col1.text_input("Initial password (at least 8 characters)", type="password")
    role = col2.selectbox("Role", ROLES, index=0)
    if st.form_submit_button("Register"):
        try:
            created = wb.accounts.create_user(username, password, role=role, name=name)
        except InvalidInput as exc:
            show_error(exc)
        else:
            st.success(f"Registered {created.username} as {created.role}.")

st.subheader("Accounts and their sessions")
st.dataframe(
    account_roster(wb.accounts.users(), wb.store.read_all("session.csv")), hide_index=True, width="stretch"
)
