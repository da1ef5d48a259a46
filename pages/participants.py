"""Researchers register and manage accounts, and see who has typed what (accounts and dataset typists)."""

import streamlit as st

from flowtype_core.accounts import ROLES
from flowtype_core.erasure import delete_account, remove_typist_data
from flowtype_core.errors import InvalidInput
from flowtype_core.roster import roster
from ui.auth import require_role
from ui.resources import show_error, workbench
from ui.roster_tables import accounts_table, typists_table

NOTICE = "flowtype_participants_notice"
KEEP, REMOVE = "Keep it", "Remove it"

me = require_role("researcher")
wb = workbench()
st.title("Participants")

if notice := st.session_state.pop(NOTICE, None):
    st.success(notice)


def done(message: str) -> None:
    """Show `message` on the next run, which redraws the tables with the change."""
    st.session_state[NOTICE] = message
    st.rerun()


with st.form("register", clear_on_submit=True):
    st.subheader("Register an account")
    # One row of columns per pair, so a narrow screen stacks the fields in reading order.
    left, right = st.columns(2)
    username = left.text_input("Username (letters, digits, '_', '.', '-')")
    name = right.text_input("Full name")
    left, right = st.columns(2)
    password = left.text_input("Initial password (at least 8 characters)", type="password")
    role = right.selectbox("Role", ROLES, index=0)
    if st.form_submit_button("Register"):
        try:
            created = wb.accounts.create_user(username, password, role=role, name=name)
        except InvalidInput as exc:
            show_error(exc)
        else:
            done(f"Registered {created.username} as {created.role}.")

people = roster(wb.store, wb.accounts)
st.subheader(f"Accounts ({people.accounts.height})")
accounts_table(people.accounts)

st.subheader("Manage an account")
users = {u.username: u for u in wb.accounts.users()}
chosen = st.selectbox(
    "Account",
    list(users),
    format_func=lambda u: (
        f"{u} · {users[u].name} ({users[u].role}{'' if users[u].active else ', deactivated'})"
    ),
)
user = users[chosen]
yourself = user.username == me.username
reset_tab, access_tab, delete_tab = st.tabs(["Reset password", "Deactivate or reactivate", "Delete"])

with reset_tab, st.form("reset_password", clear_on_submit=True):
    st.caption(f"Sets a new password for {user.username}; every browser logged in as them is logged out.")
    new = st.text_input("New password (at least 8 characters)", type="password")
    repeat = st.text_input("Repeat the new password", type="password")
    if st.form_submit_button("Set new password"):
        if new != repeat:
            st.error("The passwords do not match.")
        else:
            try:
                wb.accounts.reset_password(user.username, new)
            except InvalidInput as exc:
                show_error(exc)
            else:
                done(f"New password set for {user.username}; their sessions have ended.")

with access_tab:
    if user.active:
        st.caption(
            f"{user.username} can no longer log in and is logged out everywhere; their data stays. "
            "Reactivate to undo."
        )
    else:
        st.caption(f"{user.username} is deactivated. Reactivating lets them log in again.")
    if yourself:
        st.caption("You cannot deactivate your own account.")
    if st.button("Deactivate" if user.active else "Reactivate", disabled=yourself, key="toggle_active"):
        try:
            wb.accounts.set_active(user.username, not user.active, by=me.username)
        except InvalidInput as exc:
            show_error(exc)
        else:
            done(f"{user.username} is {'deactivated' if user.active else 'active again'}.")

with delete_tab:
    if yourself:
        st.info("You cannot delete your own account; another researcher can.")
    else:
        data = st.radio(
            f"What happens to the data recorded under {user.username}?",
            [KEEP, REMOVE],
            captions=[
                "It stays, listed under dataset typists; the id stays reserved, so no new account inherits it.",
                "Its sessions and questionnaire answers are removed from the CSV store and every lakehouse "
                "(queued like other writes; the Sync page shows it). This cannot be undone.",
            ],
            key="delete_data",
        )
        typed = st.text_input(f"Type the username {user.username} to confirm", key="delete_confirm")
        if st.button(
            f"Delete {user.username}", type="primary", disabled=typed.strip() != user.username, key="delete"
        ):
            try:
                result = delete_account(wb, user.username, by=me.username, remove_data=data == REMOVE)
            except (InvalidInput, OSError) as exc:
                show_error(exc)
            else:
                done(
                    f"Deleted {user.username} and removed {result.sessions_removed} session(s) from the CSV "
                    f"store; removal from {', '.join(result.lakehouses)} is queued."
                    if result.data_removed
                    else f"Deleted {user.username}; its data is kept under dataset typists."
                )

typists = people.typists
st.subheader(f"Dataset typists ({typists.height})")
st.caption(
    "Ids that own recorded data but have no account: imported typists (e.g. the Aalto sample) and "
    "accounts deleted with their data kept. Their ids cannot be registered."
)
if typists.is_empty():
    st.info(
        "No dataset typists. Imported typists (Data page) and deleted accounts whose data was kept appear here."
    )
else:
    typists_table(typists)
    with st.expander("Remove a dataset typist's data"):
        typist = st.selectbox("Typist", typists.get_column("participant_id").to_list(), key="typist")
        typed = st.text_input(f"Type the typist id {typist} to confirm", key="typist_confirm")
        st.caption("Removes its sessions from the CSV store and every lakehouse. This cannot be undone.")
        if st.button(f"Remove {typist}'s data", disabled=typed.strip() != typist, key="remove_typist"):
            try:
                result = remove_typist_data(wb, typist)
            except (InvalidInput, OSError) as exc:
                show_error(exc)
            else:
                done(
                    f"Removed {result.sessions_removed} session(s) of {typist} from the CSV store; removal "
                    f"from {', '.join(result.lakehouses)} is queued."
                )
