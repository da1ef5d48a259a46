"""Test page for the keystroke capture: shows corpus sentences in turn and logs every batch it gets.

Each batch is appended as one JSON line to the file named by `FLOWTYPE_CAPTURE_LOG`. The token comes
from the `token` query parameter, so tests sharing one server keep their batches apart (`feedback=off`
shows the screen as a no-feedback study condition does); the
"Next participant" button changes the token in the same tab, as a participant switch would.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import streamlit as st

from flowtype_core.corpus import load_corpus
from ui.keystroke_capture import captured_action, keystroke_capture

LOG = Path(os.environ["FLOWTYPE_CAPTURE_LOG"])

state = st.session_state
if "token" not in state:
    state.token = st.query_params.get("token", "harness")
    state.section_index = 0

action = captured_action("capture")  # read before drawing, as the typing page does
if action is not None and action[0] == "submit":
    with LOG.open("a", encoding="utf-8") as log:
        log.write(json.dumps(action[1]) + "\n")
    state.section_index += 1

if st.button("Next participant"):
    state.token = f"{state.token}-next"

corpus = load_corpus()
keystroke_capture(
    sentence=corpus[state.section_index % len(corpus)].text,
    token=state.token,
    section_index=state.section_index,
    key="capture",
    feedback=st.query_params.get("feedback", "on") == "on",
)
st.caption(f"token={state.token} section={state.section_index}")
