"""Analytics filtered by study and condition (issue 17 item 5)."""

from __future__ import annotations

from datetime import UTC, datetime

from flowtype_core import open_workbench
from flowtype_core.analytics import Filters, load_keystrokes, study_choices
from flowtype_core.studies import StudyRepository, assign, parse_protocol, session_sentences
from tests.app.conftest import logged_in
from tests.conftest import make_batch


def _typed(data_dir) -> dict[str, str]:
    """Three typists in two arms of a study and one outside it; returns participant -> arm."""
    repo = StudyRepository(data_dir)
    protocol = repo.save(parse_protocol({"study_id": "pilot", "title": "Pilot", "conditions": ["a", "b"]}))
    wb = open_workbench(data_dir=data_dir)
    arms = {}
    for n, pid in enumerate(("p1", "p2", "p3", "outside")):
        arm = assign(repo, "pilot", pid) if pid != "outside" else None
        handle = wb.recorder.start_session(pid, consented_at=datetime.now(UTC), study=arm)
        sentence = session_sentences(protocol, arm.condition if arm else "a", pid, 0)[0]
        wb.recorder.submit_section(handle, 0, sentence, make_batch(sentence.text, handle.token, 0, seed=n))
        if arm:
            arms[pid] = arm.condition
    assert wb.publisher.wait_idle(60)
    wb.close()
    return arms


def test_study_and_condition_filters_keep_only_their_typists(app_data) -> None:
    arms = _typed(app_data)
    wb = open_workbench(data_dir=app_data)
    try:
        assert study_choices(wb.lakehouse) == {"pilot": sorted(set(arms.values()))}
        everyone = load_keystrokes(wb.lakehouse, Filters(valid_only=False))
        study = load_keystrokes(wb.lakehouse, Filters(valid_only=False, study="pilot"))
        arm_a = load_keystrokes(wb.lakehouse, Filters(valid_only=False, study="pilot", condition="a"))
    finally:
        wb.close()
    assert set(everyone["participant_id"]) == {"p1", "p2", "p3", "outside"}
    assert set(study["participant_id"]) == set(arms)
    assert set(arm_a["participant_id"]) == {p for p, c in arms.items() if c == "a"}


def test_the_sidebar_offers_the_study_to_analysts_not_to_participants(app_data) -> None:
    _typed(app_data)
    at = logged_in("analyst").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    study = next(s for s in at.selectbox if s.label == "Study")
    study.set_value("pilot").run()
    assert not at.exception
    assert any(s.label == "Condition" for s in at.selectbox)
    at = logged_in("participant").run()
    at.switch_page("pages/analytics.py").run()
    assert not any(s.label == "Study" for s in at.selectbox)
