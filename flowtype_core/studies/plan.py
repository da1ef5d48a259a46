"""What a participant's next session in their study looks like: consent, questionnaire, sentences.

The typing page asks this one function, so a study changes what a participant sees without the
page knowing any study rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import polars as pl

from flowtype_core.corpus import Sentence
from flowtype_core.ranker import Recommendation, recommend_sentences
from flowtype_core.ranker.recommend import PracticeSource
from flowtype_core.store.csv_store import SessionStore
from flowtype_core.studies.assignment import Enrolment, current_enrolment, session_sentences
from flowtype_core.studies.questionnaire import Question
from flowtype_core.studies.repository import StudyRepository


@dataclass(frozen=True)
class StudyPlan:
    """The next session of an enrolled participant.

    `sentences` is empty when the study lets the ranker pick (the page asks the ranker for
    `count`); `feedback` False means the condition types without live marks or WPM.
    """

    enrolment: Enrolment
    consent_text: str
    questionnaire: tuple[Question, ...]
    needs_answers: bool
    sentences: tuple[Sentence, ...]
    count: int
    feedback: bool


def study_plan(repository: StudyRepository, store: SessionStore, participant_id: str) -> StudyPlan | None:
    """The plan for the participant's newest study, or None when they are in no study."""
    enrolment = current_enrolment(repository, participant_id)
    if enrolment is None:
        return None
    protocol, arm = enrolment.protocol, enrolment.assignment
    sessions = store.read_all("session.csv", participant_id)
    done = sessions.filter(pl.col("study_id") == protocol.study_id).height if sessions.height else 0
    rows = store.read_participants([participant_id]).filter(pl.col("study_id") == protocol.study_id)
    answered = bool(rows.height and json.loads(rows.get_column("answers")[0] or "{}"))
    source = protocol.source_for(arm.condition)
    picked = (
        ()
        if source.kind == "ranker"
        else tuple(session_sentences(protocol, arm.condition, participant_id, done))
    )
    return StudyPlan(
        enrolment=enrolment,
        consent_text=protocol.consent_text,
        questionnaire=protocol.questionnaire,
        needs_answers=bool(protocol.questionnaire) and not answered,
        sentences=picked,
        count=protocol.sentences_per_session,
        feedback=protocol.condition(arm.condition).feedback,
    )


STUDY = "study"  # a Recommendation's source when the study fixes the sentences


def next_sentences(
    source: PracticeSource, participant_id: str, plan: StudyPlan | None, count: int
) -> list[Recommendation]:
    """The sentences of the participant's next session: the study's set when their condition fixes
    one, else the ranker's picks (`count` of them outside a study, the protocol's count inside)."""
    if plan is not None and plan.sentences:
        why = f"the sentence set of study {plan.enrolment.protocol.study_id}"
        return [Recommendation(s, 0.0, why, (), STUDY) for s in plan.sentences]
    return recommend_sentences(source, participant_id, plan.count if plan is not None else count)
