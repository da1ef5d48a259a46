"""End to end in a real chromium: first-run researcher, a registered participant, a typed session.

Keys are pressed with explicit `keyboard.down` / `keyboard.up` on a planned schedule (every press
and release at a known offset), so the test knows each hold and each inter-key interval it typed
and can check the CSV store and the local Delta tables hold exactly those presses, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import app_env

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
RESEARCHER, PARTICIPANT, PASSWORD = "rita", "pam", "long-password-1"
SHIFTED = set('~!@#$%^&*()_+{}|:"<>?')
SHIFT_LEAD_MS = 60  # Shift goes down this long before the character it capitalises
# Per-key timing patterns (ms), cycled over a sentence's keys; two patterns so a retyped
# sentence is told apart from its first attempt by its timing alone.
PATTERNS = {
    "steady": ((120, 160, 200), (50, 65, 80)),
    "uneven": ((230, 140, 180), (70, 45, 60)),
}
ROUNDING_MS = 1.5  # press and release times are whole milliseconds on disk
PUBLISH_TIMEOUT_S = 60.0
UI_TIMEOUT_MS = 30_000  # Streamlit reruns are slow on a busy 2-core machine
KEY_COLUMNS = ["participant_id", "test_section_id", "keystroke_id"]


@dataclass(frozen=True)
class Stroke:
    """One planned key press: the playwright key, the letter the data must show, its timing."""

    key: str
    letter: str
    press_ms: int  # offset from the sentence's first press
    hold_ms: int


def plan(sentence: str, pattern: str, typo_at: int | None = None) -> list[Stroke]:
    """The presses that type `sentence`, optionally with a wrong letter erased by Backspace."""
    intervals, holds = PATTERNS[pattern]
    keys: list[str] = []
    for i, char in enumerate(sentence):
        if i == typo_at:
            keys += ["q" if char.lower() != "q" else "z", "Backspace"]
        keys.append(char)
    strokes: list[Stroke] = []
    t = 0
    for i, key in enumerate(keys):
        if i:
            t += intervals[i % len(intervals)]
        hold = holds[i % len(holds)]
        if len(key) == 1 and (key.isupper() or key in SHIFTED):
            strokes.append(Stroke("Shift", "SHIFT", t, SHIFT_LEAD_MS + hold + 15))
            t += SHIFT_LEAD_MS
        letter = {"Backspace": "BKSP"}.get(key, key)
        strokes.append(Stroke({" ": "Space"}.get(key, key), letter, t, hold))
    return strokes


@dataclass(frozen=True)
class Typed:
    """A stroke as sent: when each of its key-down and key-up calls started and returned (ms on
    this process's monotonic clock). The browser stamps the event while the call is in flight."""

    stroke: Stroke
    down: tuple[float, float]
    up: tuple[float, float]


def perform(page: Page, strokes: list[Stroke]) -> list[Typed]:
    """Send every key-down and key-up at its planned offset (sleeping until each is due), so
    command latency delays single events but never accumulates over the sentence."""
    events = sorted(
        [(s.press_ms, 0, i, s.key) for i, s in enumerate(strokes)]
        + [(s.press_ms + s.hold_ms, 1, i, s.key) for i, s in enumerate(strokes)]
    )
    windows: dict[tuple[int, int], tuple[float, float]] = {}
    start = time.monotonic()
    for at_ms, is_up, index, key in events:
        delay = start + at_ms / 1000 - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing the keyboard, not a timing assertion
        sent = time.monotonic() * 1000
        (page.keyboard.up if is_up else page.keyboard.down)(key)
        windows[index, is_up] = (sent, time.monotonic() * 1000)
    return [Typed(s, windows[i, 0], windows[i, 1]) for i, s in enumerate(strokes)]


def _within(value: int, first: tuple[float, float], second: tuple[float, float]) -> bool:
    """Is `value` a possible gap between an event stamped in window `first` and one in `second`?
    (1 ms either way for the whole-millisecond times on disk.)"""
    return second[0] - first[1] - ROUNDING_MS <= value <= second[1] - first[0] + ROUNDING_MS


def typo_position(sentence: str) -> int:
    """A lower-case letter a few characters in: the typo goes just before it."""
    return next(i for i, c in enumerate(sentence) if i >= 3 and c.islower())


class App:
    """The served app as one browser tab sees it.

    While Streamlit reruns a script it keeps the previous run's elements on screen (marked stale),
    so a form can briefly appear twice; every interaction first waits for the run to finish.
    """

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        page.goto(url)

    def settle(self) -> None:
        """Wait until no script run is in progress and no stale element is left."""
        idle = self.page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
        expect(idle).to_have_count(1, timeout=UI_TIMEOUT_MS)
        expect(self.page.locator('[data-stale="true"]')).to_have_count(0, timeout=UI_TIMEOUT_MS)

    def see(self, text: str) -> None:
        """Wait for `text` to show, then for the run that shows it to finish."""
        expect(self.page.get_by_text(text).first).to_be_visible(timeout=UI_TIMEOUT_MS)
        self.settle()

    def gone(self, text: str) -> None:
        expect(self.page.get_by_text(text)).to_have_count(0, timeout=UI_TIMEOUT_MS)
        self.settle()

    def fill(self, label: str, value: str) -> None:
        self.page.get_by_label(label, exact=True).fill(value)

    def click(self, name: str, role: Literal["button", "link"] = "button") -> None:
        self.settle()
        self.page.get_by_role(role, name=name, exact=True).click()

    def log_in(self, username: str) -> None:
        self.see("Log in to FlowType")
        self.fill("Username", username)
        self.fill("Password", PASSWORD)
        self.click("Login")
        self.see("Logged in as")
        self.gone("Log in to FlowType")

    def log_out(self) -> None:
        self.click("Log out")
        self.see("Log in to FlowType")

    @property
    def field(self) -> Locator:
        return self.page.get_by_test_id("ft-input")  # inside the component's shadow root

    def wait_for_section(self, index: int) -> tuple[str, str]:
        """Wait until the capture records for section `index`; return (sentence, session token)."""
        expect(self.field).to_have_attribute("data-section", str(index), timeout=UI_TIMEOUT_MS)
        self.settle()
        expect(self.field).to_have_value("")
        self.field.click()
        return self.page.get_by_test_id("ft-sentence").inner_text(), self.field.get_attribute("data-token")

    def type_sentence(self, strokes: list[Stroke], index: int, total: int) -> list[Typed]:
        typed = perform(self.page, strokes)
        self.page.keyboard.press("Enter")
        self.see(f"Sentence {index + 1} of {total}: done")
        return typed


def outbox_empty(data: Path) -> None:
    """Poll (bounded by a deadline) until the app's background publisher emptied the outbox."""
    deadline = time.monotonic() + PUBLISH_TIMEOUT_S
    while any((data / "outbox" / "local").glob("*.json")):
        assert time.monotonic() < deadline, "the publisher did not empty the outbox in time"
        time.sleep(0.2)  # poll interval only


def delta(data: Path, table: str) -> pl.DataFrame:
    return pl.read_delta(str(data / "lakehouse" / table)).filter(pl.col("participant_id") == PARTICIPANT)


def check_presses(rows: pl.DataFrame, typed: list[Typed], sentence: str) -> None:
    """One section's rows hold exactly the typed presses, in order, with the timing typed:
    every interval and hold lies within what the key calls' send/return times allow."""
    rows = rows.sort("keystroke_id")
    assert rows.height == len(typed)
    assert rows.get_column("keystroke_id").to_list() == list(range(len(typed)))
    assert rows.get_column("letter").to_list() == [t.stroke.letter for t in typed]
    assert set(rows.get_column("user_input")) == {sentence}
    press = rows.get_column("press_time").to_list()
    release = rows.get_column("release_time").to_list()
    assert all(r is not None and p < r for p, r in zip(press, release, strict=True))
    assert all(a < b for a, b in zip(press, press[1:], strict=False))
    for i in range(1, len(typed)):
        interval = press[i] - press[i - 1]
        assert _within(interval, typed[i - 1].down, typed[i].down), (i, interval, typed[i - 1], typed[i])
    for p, r, t in zip(press, release, typed, strict=True):
        assert _within(r - p, t.down, t.up), (r - p, t)


@pytest.fixture(scope="module")
def served(serve_streamlit: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The real app on a fresh data dir. The server starts before the per-test settings isolation,
    so every setting that matters is passed explicitly."""
    base = tmp_path_factory.mktemp("e2e")
    data = base / "data"
    env = app_env(base, data)
    return serve_streamlit(ROOT / "app.py", env).url, data


def test_participant_session_lands_once_in_csv_and_delta(page: Page, served: tuple[str, Path]) -> None:
    url, data = served
    app = App(page, url)

    # First run: create the researcher, log in, register a participant, log out.
    app.see("Welcome to FlowType")
    app.fill("Username", RESEARCHER)
    app.fill("Full name", "Rita Researcher")
    app.fill("Password (at least 8 characters)", PASSWORD)
    app.fill("Repeat password", PASSWORD)
    app.click("Create researcher account")
    app.gone("Welcome to FlowType")
    app.log_in(RESEARCHER)
    app.click("Participants", role="link")
    app.see("Register an account")
    app.fill("Username (letters, digits, '_', '.', '-')", PARTICIPANT)
    app.fill("Full name", "Pam Participant")
    app.fill("Initial password (at least 8 characters)", PASSWORD)
    app.click("Register")
    app.see(f"Registered {PARTICIPANT} as participant.")
    app.log_out()

    # The participant consents and types three sentences; the first one twice.
    app.log_in(PARTICIPANT)
    app.see("What is recorded.")
    app.fill("Sentences this session", "3")
    page.get_by_text("I agree that my key presses are recorded").click()
    app.click("Start the typing test")
    app.see("Why this sentence:")

    sentence, token = app.wait_for_section(0)
    first_try = app.type_sentence(plan(sentence, "steady"), 0, 3)
    (session_dir,) = (data / "sessions" / PARTICIPANT).iterdir()
    section0 = f"{session_dir.name}_s000"
    outbox_empty(data)
    check_presses(delta(data, "keystrokes"), first_try, sentence)  # published before the retype

    app.click("Retype this sentence")
    assert app.wait_for_section(0) == (sentence, token)
    retyped = app.type_sentence(plan(sentence, "uneven", typo_at=typo_position(sentence)), 0, 3)
    expected = {section0: (retyped, sentence)}
    for index, pattern in ((1, "uneven"), (2, "steady")):
        app.click("Next sentence")
        sentence, _ = app.wait_for_section(index)
        strokes = plan(sentence, pattern, typo_at=typo_position(sentence) if index == 1 else None)
        expected[f"{session_dir.name}_s{index:03d}"] = (app.type_sentence(strokes, index, 3), sentence)
    app.click("See my summary")
    app.see("Session summary")

    # The CSV store: exactly the typed presses, the retyped sentence replacing its first attempt.
    csv_keys = pl.read_csv(session_dir / "keystrokes.csv", try_parse_dates=True)
    assert not csv_keys.select(KEY_COLUMNS).is_duplicated().any()
    assert sorted(csv_keys.get_column("test_section_id").unique()) == sorted(expected)
    assert {"BKSP", "SHIFT"} <= set(csv_keys.get_column("letter"))  # the typos and a capital
    for section, (typed, sentence) in expected.items():
        check_presses(csv_keys.filter(pl.col("test_section_id") == section), typed, sentence)
    sections = pl.read_csv(session_dir / "sections.csv")
    assert sorted(sections.get_column("test_section_id")) == sorted(expected)
    assert sections.get_column("user_input").to_list() == [
        expected[s][1] for s in sections["test_section_id"]
    ]
    session = pl.read_csv(session_dir / "session.csv").row(0, named=True)
    assert (session["status"], session["sentence_count"]) == ("completed", 3)
    assert session["total_keystrokes"] == sum(len(s) for s, _ in expected.values())

    # The local Delta tables, once the background publisher is done: the same rows, once each.
    outbox_empty(data)
    lake_keys = delta(data, "keystrokes")
    assert not lake_keys.select(KEY_COLUMNS).is_duplicated().any()
    for section, (typed, sentence) in expected.items():
        check_presses(lake_keys.filter(pl.col("test_section_id") == section), typed, sentence)
    columns = ["test_section_id", "keystroke_id", "press_time", "release_time", "letter", "keycode"]
    assert (
        lake_keys.select(columns)
        .sort(columns[:2])
        .equals(csv_keys.select(columns).cast({"keycode": pl.Int32}).sort(columns[:2]))
    )
    lake_sections = delta(data, "sections")
    assert sorted(lake_sections.get_column("test_section_id")) == sorted(expected)
    lake_session = delta(data, "sessions").row(0, named=True)
    assert (lake_session["status"], lake_session["sentence_count"]) == ("completed", 3)
