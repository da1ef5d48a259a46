"""A participant's next study session: questionnaire once, then seeded sentences session by session."""

from __future__ import annotations

from datetime import UTC, datetime

from flowtype_core.studies import StudyRepository, assign, parse_protocol
from flowtype_core.studies.plan import study_plan
from tests.conftest import make_batch


def test_plan_asks_once_then_moves_through_the_sentences(wb) -> None:
    repo = StudyRepository(wb.data_dir)
    repo.save(
        parse_protocol(
            {
                "study_id": "pilot",
                "title": "Pilot",
                "conditions": [{"name": "quiet", "feedback": False}],
                "sentences_per_session": 2,
                "consent_text": "You agree to type.",
            }
        )
    )
    assert study_plan(repo, wb.store, "alice") is None  # not in a study
    arm = assign(repo, "pilot", "alice")
    first = study_plan(repo, wb.store, "alice")
    assert first is not None and first.needs_answers and not first.feedback
    assert first.consent_text == "You agree to type." and len(first.sentences) == 2
    wb.recorder.record_participant(arm, answers={"age": 40})
    handle = wb.recorder.start_session("alice", consented_at=datetime.now(UTC), study=arm)
    for i, sentence in enumerate(first.sentences):
        wb.recorder.submit_section(handle, i, sentence, make_batch(sentence.text, handle.token, i, seed=i))
    wb.recorder.end_session(handle)
    second = study_plan(repo, wb.store, "alice")
    assert second is not None and not second.needs_answers
    assert not set(second.sentences) & set(first.sentences)  # the next session's slice


def test_a_ranker_study_leaves_the_pick_to_the_ranker(wb) -> None:
    repo = StudyRepository(wb.data_dir)
    repo.save(parse_protocol({"study_id": "adaptive", "title": "A", "source": {"kind": "ranker"}}))
    assign(repo, "adaptive", "bob")
    plan = study_plan(repo, wb.store, "bob")
    assert plan is not None and plan.sentences == () and plan.count == 5 and plan.feedback
