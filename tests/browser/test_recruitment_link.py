"""A recruitment link in a real chromium: a new panel id gets an account, the study's consent,
its questionnaire, then typing, and the row lands under the study with the panel ids stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Page

from flowtype_core.accounts import AccountStore
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.studies import StudyRepository, parse_protocol
from tests.browser.conftest import app_env
from tests.browser.test_e2e_typing import PASSWORD, App

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PID = "5f1e2d3c4b5a69788796a5b4"


@pytest.fixture(scope="module")
def served(serve_streamlit: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    base = tmp_path_factory.mktemp("recruit")
    data = base / "data"
    AccountStore(data).create_user("rita", PASSWORD, role="researcher", name="Rita")
    StudyRepository(data).save(
        parse_protocol(
            {
                "study_id": "pilot",
                "title": "Pilot",
                "consent_text": "Pilot study consent: you type one sentence for us.",
                "sentences_per_session": 1,
                "conditions": ["only"],
                "questionnaire": [{"id": "fingers", "label": "Fingers used", "options": ["1-2", "9-10"]}],
            }
        )
    )
    return serve_streamlit(ROOT / "app.py", app_env(base, data)).url, data


def test_new_panel_id_consents_answers_and_types(page: Page, served: tuple[str, Path]) -> None:
    url, data = served
    app = App(page, f"{url}/?study=pilot&PROLIFIC_PID={PID}&STUDY_ID=st-9&SESSION_ID=se-1")
    app.see("Pilot study consent: you type one sentence for us.")
    app.see("Logged in as")
    page.get_by_text("I agree that my key presses are recorded").click()
    app.click("Start the typing test")
    app.see("A few questions first")
    page.get_by_label("Fingers used").click()
    page.get_by_role("option", name="9-10").click()
    app.click("Continue to the typing test")
    sentence, _ = app.wait_for_section(0)
    page.keyboard.type(sentence, delay=10)
    page.keyboard.press("Enter")
    app.see("Sentence 1 of 1: done")

    participant = f"prolific-{PID}"
    (session_dir,) = [d for d in (data / "sessions" / participant).iterdir() if d.is_dir()]
    section = pl.read_csv(session_dir / "sections.csv").row(0, named=True)
    assert (section["study_id"], section["condition"], section["user_input"]) == ("pilot", "only", sentence)
    row = SessionStore(data).read_participants([participant]).row(0, named=True)
    assert json.loads(row["answers"]) == {"fingers": "9-10"}
    assert json.loads(row["recruitment"]) == {"PROLIFIC_PID": PID, "STUDY_ID": "st-9", "SESSION_ID": "se-1"}
