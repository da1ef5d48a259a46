"""Study protocols (versioned YAML), questionnaires, balanced conditions and seeded sentence order."""

from flowtype_core.studies.assignment import (
    Assignment,
    Enrolment,
    assign,
    assignments,
    current_enrolment,
    overview,
    session_sentences,
)
from flowtype_core.studies.protocol import Condition, Protocol, SentenceSource, draft_protocol, parse_protocol
from flowtype_core.studies.questionnaire import AALTO_QUESTIONNAIRE, Question, check_answers
from flowtype_core.studies.repository import StudyRepository, parse_yaml, to_yaml

__all__ = [
    "AALTO_QUESTIONNAIRE",
    "Assignment",
    "Condition",
    "Enrolment",
    "Protocol",
    "Question",
    "SentenceSource",
    "StudyRepository",
    "assign",
    "assignments",
    "check_answers",
    "current_enrolment",
    "draft_protocol",
    "overview",
    "parse_protocol",
    "parse_yaml",
    "session_sentences",
    "to_yaml",
]
