"""Participants page (issue 16 item 7, issue 13 item 4): accounts and dataset typists apart, and a
control for each account action, run through the real app as a logged-in researcher."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from streamlit.testing.v1 import AppTest

from flowtype_core import open_workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.corpus import load_corpus
from flowtype_core.schema import TABLES
from tests.app.conftest import PASSWORD, logged_in
from tests.conftest import make_batch

PAGE = "pages/participants.py"
ACCOUNT_LABELS = ["Username", "Name", "Role", "Status", "Sessions", "Sentences", "Last session (UTC)"]
TYPIST_LABELS = ["Typist id", "Sessions", "Sentences", "Last session (UTC)"]


def record(data: Path, participant_ids: list[str], sentences: int = 2) -> None:
    """One session per id through the live write path, pushed to the local lakehouse."""
    wb = open_workbench(data_dir=data)
    corpus = load_corpus()
    for participant_id in participant_ids:
        handle = wb.recorder.start_session(participant_id, consented_at=datetime.now(UTC))
        for index in range(sentences):
            batch = make_batch(corpus[index].text, handle.token, index)
            wb.recorder.submit_section(handle, index, corpus[index], batch)
        wb.recorder.end_session(handle)
    assert wb.publisher.wait_idle()
    wb.close()


def page() -> AppTest:
    at = logged_in("researcher").run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def manage(at: AppTest, username: str) -> AppTest:
    next(s for s in at.selectbox if s.label == "Account").select(username).run()
    assert not at.exception, at.exception
    return at


def cells(at: AppTest) -> list[str]:
    return [str(v) for frame in at.dataframe for v in frame.value.to_numpy().ravel()]


def test_accounts_and_dataset_typists_are_shown_apart_in_numeric_order(app_data: Path) -> None:
    accounts = AccountStore(app_data)
    for username in ("p10", "p2"):
        accounts.create_user(username, PASSWORD, role="participant")
    record(app_data, ["p2", "109", "9"])
    at = page()
    users, typists = (frame.value for frame in at.dataframe)
    assert list(users.columns) == ACCOUNT_LABELS and list(typists.columns) == TYPIST_LABELS
    assert users["Username"].tolist() == ["andy", "p2", "p10", "pat", "pia", "rita"]
    assert typists["Typist id"].tolist() == ["9", "109"]
    assert typists["Sessions"].tolist() == [1, 1] and typists["Sentences"].tolist() == [2, 2]
    p2 = users[users["Username"] == "p2"].iloc[0]
    assert (p2["Sessions"], p2["Sentences"], p2["Status"]) == (1, 2, "active")
    assert users[users["Username"] == "pat"].iloc[0]["Last session (UTC)"] == "—"
    assert "None" not in cells(at) and "nan" not in cells(at)
    assert [s.value for s in at.subheader if s.value.startswith(("Accounts", "Dataset"))] == [
        "Accounts (6)",
        "Dataset typists (2)",
    ]


def test_without_dataset_typists_the_page_says_where_they_come_from(app_data: Path) -> None:
    at = page()
    assert len(at.dataframe) == 1
    assert any(i.value.startswith("No dataset typists.") for i in at.info)


def test_reset_password_sets_a_new_one_and_refuses_a_mismatch(app_data: Path) -> None:
    at = manage(page(), "pat")
    fields = {t.label: t for t in at.text_input}
    fields["New password (at least 8 characters)"].input("brand-new-pass")
    fields["Repeat the new password"].input("something-else")
    next(b for b in at.button if b.label == "Set new password").click().run()
    assert any("do not match" in e.value for e in at.error)
    fields = {t.label: t for t in at.text_input}
    fields["New password (at least 8 characters)"].input("brand-new-pass")
    fields["Repeat the new password"].input("brand-new-pass")
    next(b for b in at.button if b.label == "Set new password").click().run()
    assert not at.exception
    assert any("New password set for pat" in s.value for s in at.success)
    accounts = AccountStore(app_data)
    assert accounts.verify("pat", "brand-new-pass") and not accounts.verify("pat", PASSWORD)


def test_deactivate_then_reactivate(app_data: Path) -> None:
    at = manage(page(), "pat")
    assert at.button(key="toggle_active").label == "Deactivate"
    at.button(key="toggle_active").click().run()
    assert any("pat is deactivated" in s.value for s in at.success)
    assert not AccountStore(app_data).get("pat").active
    status = at.dataframe[0].value.set_index("Username")["Status"]
    assert status["pat"] == "deactivated"
    at = manage(at, "pat")
    assert at.button(key="toggle_active").label == "Reactivate"
    at.button(key="toggle_active").click().run()
    assert AccountStore(app_data).get("pat").active


def test_a_researcher_cannot_deactivate_or_delete_themselves(app_data: Path) -> None:
    at = manage(page(), "rita")
    assert at.button(key="toggle_active").disabled
    assert not [b for b in at.button if b.key == "delete"]
    assert any("cannot delete your own account" in i.value for i in at.info)


def test_delete_keeping_the_data_lists_it_under_dataset_typists(app_data: Path) -> None:
    record(app_data, ["pat"])
    at = manage(page(), "pat")
    assert at.button(key="delete").disabled  # until the username is typed
    at.text_input(key="delete_confirm").input("pat").run()
    at.button(key="delete").click().run()
    assert not at.exception
    assert any("Deleted pat; its data is kept" in s.value for s in at.success)
    assert AccountStore(app_data).get("pat") is None
    users, typists = (frame.value for frame in at.dataframe)
    assert "pat" not in users["Username"].tolist() and typists["Typist id"].tolist() == ["pat"]
    assert (app_data / "sessions" / "pat").is_dir()


def test_delete_removing_the_data_clears_the_store_and_the_lakehouse(app_data: Path) -> None:
    record(app_data, ["pia", "pat"])
    at = manage(page(), "pia")
    at.radio(key="delete_data").set_value("Remove it").run()
    at.text_input(key="delete_confirm").input("pia").run()
    at.button(key="delete").click().run()
    assert not at.exception
    assert any("removed 1 session(s)" in s.value and "local is queued" in s.value for s in at.success)
    assert not (app_data / "sessions" / "pia").exists()
    assert len(at.dataframe) == 1  # pat still has an account: no dataset typists
    wb = open_workbench(data_dir=app_data)
    try:
        assert wb.publisher.wait_idle()
        lakehouse = wb.lakehouse
        assert all(lakehouse.read_table(t, participant_id="pia").is_empty() for t in TABLES)
        assert not lakehouse.read_table("keystrokes", participant_id="pat").is_empty()
    finally:
        wb.close()


def test_a_dataset_typists_data_can_be_removed_after_confirmation(app_data: Path) -> None:
    record(app_data, ["9", "109"])
    at = page()
    at.selectbox(key="typist").select("109").run()
    assert at.button(key="remove_typist").disabled
    at.text_input(key="typist_confirm").input("109").run()
    at.button(key="remove_typist").click().run()
    assert not at.exception
    assert any("Removed 1 session(s) of 109" in s.value for s in at.success)
    assert at.dataframe[1].value["Typist id"].tolist() == ["9"]
    assert sorted(p.name for p in (app_data / "sessions").iterdir()) == ["9"]
