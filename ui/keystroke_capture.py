"""The typing screen and in-browser keystroke capture (SPEC §3.1, issue 13).

The browser side (`static/keystroke_capture.js`) records each key press with `performance.timeOrigin
+ event.timeStamp`, pairs releases by `event.code`, ignores auto-repeat, blocks paste and drop, and
sends one batch when Enter is pressed. While the participant types it shows a caret, marks each
character right or wrong and shows live WPM and time (none of which is recorded); on the result
screen it shows the sentence against what was typed, and Enter asks for the next sentence. Its state
is reset whenever `token`, `section_index`, `attempt`, `sentence` or the mode change, so a batch only
ever holds keys typed for the section it names.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

import streamlit as st

from flowtype_core.practice import DiffSegment
from flowtype_core.quality.rules import MIN_INPUT_SHARE

_STATIC = Path(__file__).with_name("static")

_HTML = """
<div class="ft-capture" data-mode="type" data-feedback="on">
  <div class="ft-typing">
    <div class="ft-stats" data-testid="ft-stats" aria-hidden="true">
      <span><b class="ft-wpm" data-testid="ft-wpm">0</b> WPM</span>
      <span><b class="ft-time" data-testid="ft-time">0.0</b> s</span>
      <span class="ft-count" data-testid="ft-count"></span>
    </div>
    <p class="ft-line"><span class="ft-sentence" data-testid="ft-sentence"></span><span
      class="ft-overflow" data-testid="ft-overflow"></span></p>
    <textarea class="ft-input" data-testid="ft-input" rows="2" autocomplete="off" autocorrect="off"
      autocapitalize="off" spellcheck="false" aria-label="Type the sentence, then press Enter"></textarea>
    <p class="ft-notice" data-testid="ft-notice" role="status" aria-live="polite"></p>
    <p class="ft-hint">Type the sentence above exactly, then press <kbd>Enter</kbd>.</p>
  </div>
  <div class="ft-result" data-testid="ft-result" tabindex="-1">
    <div class="ft-diff">
      <span class="ft-label">Sentence</span>
      <p class="ft-target-line" data-testid="ft-target-line"></p>
      <span class="ft-label">You typed</span>
      <p class="ft-typed-line" data-testid="ft-typed-line"></p>
    </div>
    <p class="ft-hint" data-testid="ft-result-hint">Press <kbd>Enter</kbd> for the next sentence,
      <kbd>Esc</kbd> to type this one again.</p>
  </div>
</div>
"""

_capture = st.components.v2.component(
    "flowtype_keystroke_capture",
    html=_HTML,
    css=(_STATIC / "keystroke_capture.css").read_text(encoding="utf-8"),
    js=(_STATIC / "keystroke_capture.js").read_text(encoding="utf-8"),
)

Action = Literal["submit", "next", "retry"]
ACTIONS: tuple[Action, ...] = ("submit", "next", "retry")


def keystroke_capture(
    *,
    sentence: str,
    token: str,
    section_index: int,
    key: str,
    attempt: int = 0,
    feedback: bool = True,
    result: tuple[DiffSegment, ...] | None = None,
) -> None:
    """Mount the typing screen for one sentence (or, with `result`, its result); what the
    participant does arrives on the next run through `captured_action(key)`.

    Keep `key` fixed for a session: the field then stays focused from one sentence to the next.
    Bump `attempt` to clear the field for a new try at the same sentence. `feedback` False (a
    study condition) shows no marks, caret, live figures or differences.
    """
    _capture(
        key=key,
        data={
            "mode": "type" if result is None else "result",
            "sentence": sentence,
            "token": token,
            "section_index": section_index,
            "attempt": attempt,
            "feedback": feedback,
            "min_input_share": MIN_INPUT_SHARE,
            "result": None if result is None or not feedback else {"segments": [asdict(s) for s in result]},
        },
        # Streamlit surfaces a trigger value only when it has an `on_<name>_change` callback.
        on_submit_change=lambda: None,
        on_next_change=lambda: None,
        on_retry_change=lambda: None,
    )


def captured_action(key: str) -> tuple[Action, dict[str, Any]] | None:
    """What the participant did in the component mounted under `key`, read before anything is
    drawn so that a key press costs one script run: ("submit", batch), ("next", …) or ("retry", …).

    The batch is the untrusted dict `flowtype_core.capture.validate_batch` checks: `token`,
    `section_index`, `text`, `started_at` (first press), `submitted_at` (the Enter press), `events`
    (`key`, `code`, `keyCode`, `press`, `release` or None; times in epoch milliseconds) and
    `provenance`.
    """
    returned = st.session_state.get(key)
    if returned is None:
        return None
    for action in ACTIONS:
        payload = returned.get(action)
        if isinstance(payload, dict):
            return action, payload
    return None
