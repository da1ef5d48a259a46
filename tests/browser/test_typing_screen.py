"""The typing screen in the real app and a real chromium: keyboard only from consent to summary,
the result against the typed text, a reload mid-session, timing provenance in the stored rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from flowtype_core.accounts import AccountStore
from tests.browser.conftest import app_env
from tests.browser.test_e2e_typing import PASSWORD, UI_TIMEOUT_MS, App, outbox_empty

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(serve_streamlit: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    base = tmp_path_factory.mktemp("typing-screen")
    data = base / "data"
    accounts = AccountStore(data)
    accounts.create_user("rita", PASSWORD, role="researcher", name="Rita")
    for name in ("kim", "lou"):
        accounts.create_user(name, PASSWORD, role="participant", name=name.title())
    return serve_streamlit(ROOT / "app.py", app_env(base, data)).url, data


def _start(app: App, sentences: int) -> None:
    app.see("What is recorded.")
    app.fill("Sentences this session", str(sentences))
    app.page.get_by_text("I agree that my key presses are recorded").click()
    app.click("Start the typing test")


def _result_lines(page: Page) -> dict[str, list[tuple[str, str]]]:
    """The result's two lines as (text, class) runs: what was marked as missed or wrong."""
    return page.get_by_test_id("ft-result").evaluate(
        """(box) => ({
            target: [...box.querySelectorAll('.ft-target-line span')].map((s) => [s.textContent, s.className]),
            typed: [...box.querySelectorAll('.ft-typed-line span')].map((s) => [s.textContent, s.className]),
        })"""
    )


def test_three_sentences_by_keyboard_alone_with_the_differences_shown(
    page: Page, served: tuple[str, Path]
) -> None:
    url, data = served
    app = App(page, url)
    app.log_in("kim")
    _start(app, 3)
    for index in range(3):
        sentence, _ = app.wait_for_section(index)
        # The second sentence gets one wrong letter that stays: the result must show it.
        wrong = 4 if index == 1 else None
        typed = sentence if wrong is None else sentence[:wrong] + "#" + sentence[wrong + 1 :]
        page.keyboard.type(typed, delay=25)
        page.keyboard.press("Enter")
        app.see(f"Sentence {index + 1} of 3: done")
        expect(page.get_by_test_id("ft-result-hint")).to_be_visible()
        lines = _result_lines(page)
        assert "".join(t for t, _ in lines["target"]) == sentence
        assert "".join(t for t, _ in lines["typed"]) == typed
        missed = [t for t, c in lines["target"] if "ft-missed" in c]
        wrongs = [t for t, c in lines["typed"] if "ft-wrong" in c]
        assert (missed, wrongs) == (([], []) if wrong is None else ([sentence[wrong]], ["#"]))
        page.keyboard.press("Enter")  # on the result: next sentence (or the summary)
    app.see("Session summary")
    (session_dir,) = (data / "sessions" / "kim").iterdir()
    session = pl.read_csv(session_dir / "session.csv").row(0, named=True)
    assert (session["status"], session["sentence_count"]) == ("completed", 3)
    # Provenance: served with COOP/COEP, so chromium is isolated and its clock ticks in 5 µs.
    assert session["cross_origin_isolated"] is True
    assert 0 < session["timer_resolution_ms"] <= 0.1
    assert "Chrome" in session["user_agent"]
    assert (session["hidden_ms"], session["blur_count"]) == (0, 0)
    outbox_empty(data)
    lake = pl.read_delta(str(data / "lakehouse" / "sessions")).filter(pl.col("participant_id") == "kim")
    assert lake.select("cross_origin_isolated", "user_agent").row(0) == (True, session["user_agent"])


def test_a_reload_mid_test_keeps_the_login_and_the_session(page: Page, served: tuple[str, Path]) -> None:
    url, data = served
    app = App(page, url)
    app.log_in("lou")
    _start(app, 3)
    first, _ = app.wait_for_section(0)
    page.keyboard.type(first, delay=10)
    page.keyboard.press("Enter")
    app.see("Sentence 1 of 3: done")
    page.keyboard.press("Enter")
    second, _ = app.wait_for_section(1)

    page.reload()
    app.see("Logged in as")
    expect(page.get_by_text("your session continues at sentence 2")).to_be_visible(timeout=UI_TIMEOUT_MS)
    assert app.wait_for_section(1)[0] == second  # same session, same next sentence
    page.keyboard.type(second, delay=10)
    page.keyboard.press("Enter")
    app.see("Sentence 2 of 3: done")
    (session_dir,) = (data / "sessions" / "lou").iterdir()
    sections = pl.read_csv(session_dir / "sections.csv")
    assert sections.get_column("user_input").to_list() == [first, second]
