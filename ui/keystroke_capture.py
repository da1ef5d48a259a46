"""The in-browser keystroke capture (SPEC §3.1): shows one sentence and returns its keystroke batch.

The browser side (`static/keystroke_capture.js`) records each key press with `performance.timeOrigin
+ event.timeStamp`, pairs releases by `event.code`, ignores auto-repeat, blocks paste and drop, and
sends one batch when Enter is pressed. Its state is reset whenever `token`, `section_index` or
`sentence` change, so a batch only ever holds keys typed for the section it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

_STATIC = Path(__file__).with_name("static")

_HTML = """
<div class="ft-capture">
  <p class="ft-sentence" data-testid="ft-sentence"></p>
  <textarea class="ft-input" data-testid="ft-input" rows="2" autocomplete="off" autocorrect="off"
    autocapitalize="off" spellcheck="false" aria-label="Type the sentence, then press Enter"></textarea>
  <p class="ft-hint">Type the sentence above exactly, then press Enter.</p>
</div>
"""

_capture = st.components.v2.component(
    "flowtype_keystroke_capture",
    html=_HTML,
    css=(_STATIC / "keystroke_capture.css").read_text(encoding="utf-8"),
    js=(_STATIC / "keystroke_capture.js").read_text(encoding="utf-8"),
)


def keystroke_capture(*, sentence: str, token: str, section_index: int, key: str) -> dict[str, Any] | None:
    """Mount the capture for one sentence; return its batch on the run after Enter, else None.

    The batch is the untrusted dict `flowtype_core.capture.validate_batch` checks: `token`,
    `section_index`, `text`, `started_at` (first press), `submitted_at` (the Enter press) and
    `events` (`key`, `code`, `keyCode`, `press`, `release` or None), times in epoch milliseconds.
    Keep `key` fixed for a session: the field then stays focused from one sentence to the next.
    The field clears on Enter, so if the page rejects a batch and keeps the section, the participant
    just types the sentence again.
    """
    result = _capture(
        key=key,
        data={"sentence": sentence, "token": token, "section_index": section_index},
        # Streamlit surfaces a trigger value only when it has an `on_<name>_change` callback.
        on_submit_change=lambda: None,
    )
    payload = result.get("submit")
    return payload if isinstance(payload, dict) else None
