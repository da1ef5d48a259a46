"""Researchers register participants and see who has typed what."""

import polars as pl
import streamlit as st

from flowtype_core.accounts import ROLES
from flowtype_core.errors import InvalidInput
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

sessions = wb.store.read_all("session.csv")
counts = (
    sessions.group_by("participant_id").agg(
        pl.len().alias("sessions"),
        pl.col("sentence_count").sum().alias("sentences"),
        pl.col("created_at").max().alias("last_session"),
    )
    if sessions.height
    else pl.DataFrame(schema={"participant_id": pl.String})
)
accounts = pl.DataFrame(
    [{"participant_id": u.username, "name": u.name, "role": u.role} for u in wb.accounts.users()],
    schema={"participant_id": pl.String, "name": pl.String, "role": pl.String},
)
st.subheader("Accounts and their sessions")
st.dataframe(
    accounts.join(counts, on="participant_id", how="full", coalesce=True).sort("participant_id"),
    hide_index=True,
    width="stretch",
)
