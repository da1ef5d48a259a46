"""The keystroke capture component in a real chromium, driven like a participant would type.

All tests share one harness server; each uses its own token (query parameter) and reads back only
its own batches from the harness log.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

HARNESS = Path(__file__).with_name("capture_harness.py")
DELAY_MS = 60
BATCH_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def capture_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("capture") / "batches.jsonl"


@pytest.fixture(scope="module")
def harness_url(serve_streamlit: Callable[..., Any], capture_log: Path) -> str:
    return serve_streamlit(HARNESS, {"FLOWTYPE_CAPTURE_LOG": str(capture_log)}).url


class Harness:
    """The harness page as one participant (token) sees it."""

    def __init__(self, page: Page, url: str, log: Path, token: str, query: str = "") -> None:
        self.page, self.log, self.token = page, log, token
        page.goto(f"{url}/?token={token}{query}")
        self.field: Locator = page.get_by_test_id("ft-input")  # inside the component's shadow root
        self.sentence: Locator = page.get_by_test_id("ft-sentence")
        self.notice: Locator = page.get_by_test_id("ft-notice")
        self.wait_for_section(0)

    def wait_for_section(self, index: int) -> str:
        """Wait until the component shows section `index`'s sentence; return that sentence."""
        expect(self.page.get_by_text(f"token={self.token} section={index}")).to_be_visible()
        # Set by the component's script once it has applied this section's data.
        expect(self.field).to_have_attribute("data-token", self.token)
        expect(self.field).to_have_attribute("data-section", str(index))
        self.field.click()
        return self.sentence.inner_text()

    def batches(self, count: int, token: str | None = None) -> list[dict[str, Any]]:
        """Poll the harness log until `count` batches for `token` arrived (bounded by a deadline)."""
        token = token or self.token
        deadline = time.monotonic() + BATCH_TIMEOUT_S
        while True:
            lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
            found = [b for b in map(json.loads, lines) if b["token"] == token]
            if len(found) >= count or time.monotonic() > deadline:
                assert len(found) == count, f"expected {count} batches for {token}, got {found}"
                return found
            self.page.wait_for_timeout(100)  # poll interval only

    def now_ms(self) -> float:
        return float(self.page.evaluate("Date.now()"))

    def submit_short(self) -> None:
        """Enter on text under half the sentence asks first; the second Enter sends it."""
        self.page.keyboard.press("Enter")
        expect(self.notice).to_contain_text("Press Enter again to submit it anyway")
        self.page.keyboard.press("Enter")


@pytest.fixture
def harness(page: Page, harness_url: str, capture_log: Path, request: pytest.FixtureRequest) -> Harness:
    return Harness(page, harness_url, capture_log, token=request.node.name.replace("_", "-"))


def _keys(batch: dict[str, Any]) -> list[str]:
    return [event["key"] for event in batch["events"]]


def test_typed_sentence_gives_one_batch_with_real_timing(harness: Harness) -> None:
    sentence = harness.sentence.inner_text()
    harness.page.keyboard.press("Enter")  # nothing typed yet: no batch, a hint instead
    expect(harness.notice).to_have_text("Type the sentence first, then press Enter.")
    before = harness.now_ms()
    harness.page.keyboard.type(sentence, delay=DELAY_MS)
    harness.page.keyboard.press("Enter")
    (batch,) = harness.batches(1)
    after = harness.now_ms()

    assert batch["text"] == sentence
    assert batch["section_index"] == 0
    assert "".join(_keys(batch)) == sentence  # one press per character, Enter not recorded
    events = batch["events"]
    presses = [e["press"] for e in events]
    holds = [e["release"] - e["press"] for e in events]
    intervals = [b - a for a, b in zip(presses, presses[1:], strict=False)]
    assert all(hold > 0 for hold in holds)
    assert all(interval > 0 for interval in intervals)
    # keyboard.type(delay=d) holds each key d ms and presses the next right after the release.
    assert DELAY_MS * 0.8 <= statistics.median(holds) <= DELAY_MS * 3
    assert DELAY_MS * 0.8 <= statistics.median(intervals) <= DELAY_MS * 4
    assert min(intervals) >= DELAY_MS * 0.5
    # Epoch milliseconds from performance.timeOrigin, with sub-millisecond precision.
    assert before - 250 <= batch["started_at"] == presses[0]
    assert presses[-1] < batch["submitted_at"] <= after + 250
    assert any(p != int(p) for p in presses)
    assert all(isinstance(e["keyCode"], int) and e["code"] for e in events)
    expect(harness.field).to_have_value("")


def test_auto_repeat_is_recorded_once(harness: Harness) -> None:
    keyboard = harness.page.keyboard
    keyboard.down("a")
    for _ in range(4):
        keyboard.down("a")  # playwright sends these with event.repeat = true
    keyboard.up("a")
    keyboard.type("b")
    harness.submit_short()
    (batch,) = harness.batches(1)
    assert batch["text"] == "aaaaab"  # the repeats still type, as they do for a participant
    assert _keys(batch) == ["a", "b"]
    assert batch["events"][0]["code"] == "KeyA"
    assert batch["events"][0]["release"] > batch["events"][0]["press"]


def test_backspace_is_recorded_and_the_final_text_is_sent(harness: Harness) -> None:
    keyboard = harness.page.keyboard
    keyboard.type("thw", delay=10)
    keyboard.press("Backspace")
    keyboard.type("e", delay=10)
    harness.submit_short()
    (batch,) = harness.batches(1)
    assert batch["text"] == "the"
    assert _keys(batch) == ["t", "h", "w", "Backspace", "e"]
    backspace = batch["events"][3]
    assert (backspace["code"], backspace["keyCode"]) == ("Backspace", 8)


def test_paste_drop_and_context_menu_are_blocked(harness: Harness) -> None:
    page = harness.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("navigator.clipboard.writeText('pasted words')")
    # Control: a plain textarea on the same page does receive the paste.
    page.evaluate(
        "document.body.appendChild(Object.assign(document.createElement('textarea'), {id: 'plain'}))"
    )
    page.locator("#plain").focus()
    page.keyboard.press("Control+v")
    expect(page.locator("#plain")).to_have_value("pasted words")

    harness.field.click()
    page.keyboard.type("ab")
    page.keyboard.press("Control+v")
    expect(harness.field).to_have_value("ab")
    prevented = harness.field.evaluate(
        """(field) => {
            const data = new DataTransfer();
            data.setData('text/plain', 'dropped words');
            const events = [
                new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}),
                new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}),
                new InputEvent('beforeinput', {inputType: 'insertFromPaste', data: 'x', cancelable: true}),
                new InputEvent('beforeinput', {inputType: 'insertFromDrop', data: 'x', cancelable: true}),
                new MouseEvent('contextmenu', {bubbles: true, cancelable: true}),
            ];
            return events.map((event) => !field.dispatchEvent(event));
        }"""
    )
    assert prevented == [True] * 5
    page.keyboard.type("c")
    harness.submit_short()
    (batch,) = harness.batches(1)
    assert batch["text"] == "abc"
    # The shortcut's own key presses are real keystrokes; the pasted text adds none.
    assert _keys(batch) == ["a", "b", "Control", "v", "c"]


def test_enter_submits_without_being_recorded_and_shift_enter_is_plain_enter(harness: Harness) -> None:
    keyboard = harness.page.keyboard
    keyboard.type("ok", delay=10)
    keyboard.down("Shift")
    keyboard.press("Enter")
    expect(harness.notice).to_contain_text("Press Enter again")  # "ok" is short: asked first
    keyboard.press("Enter")
    keyboard.up("Shift")
    (batch,) = harness.batches(1)
    assert batch["text"] == "ok"  # no newline
    assert _keys(batch) == ["o", "k", "Shift"]
    assert batch["events"][2]["release"] is None  # released after the batch was sent
    assert batch["submitted_at"] > batch["events"][2]["press"]


def test_next_sentence_after_remount_is_a_separate_batch(harness: Harness) -> None:
    first = harness.sentence.inner_text()
    harness.page.keyboard.type(first, delay=5)
    harness.page.keyboard.press("Enter")
    second = harness.wait_for_section(1)
    assert second != first
    expect(harness.field).to_have_value("")
    harness.page.keyboard.type(second, delay=5)
    harness.page.keyboard.press("Enter")
    one, two = harness.batches(2)
    assert (one["section_index"], one["text"], "".join(_keys(one))) == (0, first, first)
    assert (two["section_index"], two["text"], "".join(_keys(two))) == (1, second, second)
    assert one["submitted_at"] < two["started_at"]


def test_token_change_discards_the_previous_participants_keys(harness: Harness) -> None:
    page = harness.page
    page.keyboard.type("left behind", delay=5)
    page.get_by_role("button", name="Next participant").click()
    harness.token = f"{harness.token}-next"
    harness.wait_for_section(0)
    expect(harness.field).to_have_value("")
    page.keyboard.type("fresh", delay=5)
    harness.submit_short()
    (batch,) = harness.batches(1)
    assert batch["text"] == "fresh"
    assert "".join(_keys(batch)) == "fresh"
    assert harness.batches(0, token=harness.token.removesuffix("-next")) == []


def _marks(harness: Harness) -> dict[str, Any]:
    """The live view as the DOM shows it: which characters are marked, where the caret is."""
    return harness.sentence.evaluate(
        """(line) => {
            const chars = [...line.querySelectorAll('.ft-char')];
            const marked = (cls) => chars.flatMap((c, i) => (c.classList.contains(cls) ? [i] : []));
            return {ok: marked('ft-ok'), bad: marked('ft-bad'), caret: marked('ft-caret')};
        }"""
    )


def test_the_caret_moves_and_a_wrong_character_is_marked_as_you_type(harness: Harness) -> None:
    sentence = harness.sentence.inner_text()
    assert _marks(harness) == {"ok": [], "bad": [], "caret": [0]}
    wrong = "#" if sentence[2] != "#" else "%"
    harness.page.keyboard.type(sentence[:2] + wrong, delay=20)
    assert _marks(harness) == {"ok": [0, 1], "bad": [2], "caret": [3]}
    harness.page.keyboard.press("Backspace")
    assert _marks(harness) == {"ok": [0, 1], "bad": [], "caret": [2]}
    harness.page.keyboard.type(sentence[2:6], delay=20)
    assert _marks(harness)["caret"] == [6] and _marks(harness)["bad"] == []
    expect(harness.page.get_by_test_id("ft-count")).to_have_text(f"6/{len(sentence)}")
    # Live figures: the timer runs from the first press and WPM follows the text typed.
    expect(harness.page.get_by_test_id("ft-time")).not_to_have_text("0.0")
    expect(harness.page.get_by_test_id("ft-wpm")).not_to_have_text("0")


def test_a_short_text_asks_before_it_is_sent_and_typing_on_cancels_the_question(harness: Harness) -> None:
    keyboard = harness.page.keyboard
    keyboard.type("Th", delay=10)
    keyboard.press("Enter")
    expect(harness.notice).to_contain_text("You typed 2 of")
    keyboard.type("e", delay=10)  # typing on withdraws the question
    expect(harness.notice).to_have_text("")
    keyboard.press("Enter")
    expect(harness.notice).to_contain_text("You typed 3 of")
    assert harness.batches(0) == []  # nothing sent while asking
    keyboard.press("Enter")
    (batch,) = harness.batches(1)
    assert batch["text"] == "The"


def test_the_batch_reports_timing_provenance(harness: Harness) -> None:
    sentence = harness.sentence.inner_text()
    keyboard = harness.page.keyboard
    keyboard.type(sentence[:10], delay=15)
    # Focus lost and the tab hidden mid-sentence, as a participant switching windows does.
    harness.page.evaluate(
        """() => {
            window.dispatchEvent(new Event('blur'));
            Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    harness.page.wait_for_timeout(50)  # the tab stays hidden a while (not a timing assertion)
    harness.page.evaluate(
        """() => {
            Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
            document.dispatchEvent(new Event('visibilitychange'));
        }"""
    )
    keyboard.type(sentence[10:], delay=15)
    keyboard.press("Enter")
    (batch,) = harness.batches(1)
    provenance = batch["provenance"]
    assert provenance["blur_count"] == 1
    assert 0 < provenance["hidden_ms"] <= batch["submitted_at"] - batch["started_at"]
    # The harness is served without the app's isolation headers: chromium coarsens to 100 µs.
    assert provenance["cross_origin_isolated"] is False
    assert 0 < provenance["timer_resolution_ms"] <= 0.1 + 1e-9
    assert "Chrome" in provenance["user_agent"]


def test_with_feedback_off_nothing_is_marked_and_no_figures_show(
    page: Page, harness_url: str, capture_log: Path
) -> None:
    harness = Harness(page, harness_url, capture_log, token="feedback-off", query="&feedback=off")
    sentence = harness.sentence.inner_text()
    harness.page.keyboard.type(sentence[:1] + "#", delay=20)
    assert _marks(harness) == {"ok": [], "bad": [], "caret": []}
    expect(page.get_by_test_id("ft-stats")).to_be_hidden()
    harness.page.keyboard.type(sentence[2:], delay=5)
    harness.page.keyboard.press("Enter")
    (batch,) = harness.batches(1)  # recorded exactly as with feedback
    assert batch["text"] == sentence[:1] + "#" + sentence[2:]
