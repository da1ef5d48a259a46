"""The synthetic typist produces batches a browser could have sent."""

from __future__ import annotations

import random

from flowtype_core.capture import validate_batch
from flowtype_core.corpus import load_corpus
from flowtype_core.demo import TypistProfile, synthesize_batch


def test_every_synthetic_batch_validates_and_capitals_follow_their_shift():
    corpus = load_corpus()
    for i in range(1500):
        sentence = corpus[i % len(corpus)]
        rng = random.Random(i)
        batch = synthesize_batch(
            sentence.text, TypistProfile.draw(rng), rng, start_ms=1.7e12, token="t", section_index=0
        )
        validate_batch(
            batch,
            participant_id="p",
            session_id="s",
            test_section_id="s_s000",
            section_index=0,
            sentence=sentence.text,
            token="t",
            now_ms=1.7e12 + 3_600_000,
            session_started_ms=1.7e12,
        )
        events = batch["events"]
        for before, after in zip(events, events[1:], strict=False):
            if before["key"] == "Shift":
                assert after["press"] > before["press"] and after["key"] != "Shift"
                assert before["release"] > after["press"]  # Shift is held while the capital is pressed
