"""Study protocols: versioned files, validation, balanced assignment, reproducible sentence order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from flowtype_core.errors import InvalidInput
from flowtype_core.studies import (
    AALTO_QUESTIONNAIRE,
    StudyRepository,
    assign,
    check_answers,
    parse_protocol,
    parse_yaml,
    session_sentences,
)

THREE_ARMS = {
    "study_id": "speed-a-b",
    "title": "Sentence sets A and B, with and without feedback",
    "conditions": [
        {
            "name": "A",
            "source": {"kind": "corpus", "sentence_ids": ["s0001", "s0002", "s0003", "s0004", "s0005"]},
        },
        {"name": "B", "feedback": False},
        "C",
    ],
    "sentences_per_session": 3,
    "seed": 7,
}


def _signups(data_dir: Path, seed: int, n: int = 30) -> list[str]:
    repo = StudyRepository(data_dir)
    repo.save(parse_protocol({**THREE_ARMS, "seed": seed}))
    return [assign(repo, "speed-a-b", f"p{i:02d}").condition for i in range(n)]


def test_thirty_signups_over_three_conditions_stay_balanced(tmp_path: Path) -> None:
    arms = _signups(tmp_path, seed=7)
    counts = Counter(arms)
    assert set(counts) == {"A", "B", "C"}
    assert max(counts.values()) - min(counts.values()) <= 1
    # Balanced at every step, not only at the end.
    for k in range(1, len(arms) + 1):
        prefix = Counter(arms[:k])
        assert max(prefix.values()) - min(prefix.get(c, 0) for c in "ABC") <= 1


def test_same_seed_same_assignment_and_other_seed_differs(tmp_path: Path) -> None:
    first = _signups(tmp_path / "one", seed=7)
    again = _signups(tmp_path / "two", seed=7)
    other = [_signups(tmp_path / f"s{s}", seed=s) for s in (8, 9, 10)]
    assert first == again
    assert any(o != first for o in other)


def test_assignment_is_sticky_for_a_returning_participant(tmp_path: Path) -> None:
    repo = StudyRepository(tmp_path)
    repo.save(parse_protocol(THREE_ARMS))
    first = assign(repo, "speed-a-b", "p1")
    for i in range(5):
        assign(repo, "speed-a-b", f"q{i}")
    assert assign(repo, "speed-a-b", "p1") == first


def test_sentence_order_reproducible_per_typist_and_session(tmp_path: Path) -> None:
    protocol = StudyRepository(tmp_path).save(parse_protocol(THREE_ARMS))
    a0 = [s.id for s in session_sentences(protocol, "A", "p1", 0)]
    assert a0 == [s.id for s in session_sentences(protocol, "A", "p1", 0)]
    assert set(a0) <= {"s0001", "s0002", "s0003", "s0004", "s0005"} and len(set(a0)) == 3
    a1 = [s.id for s in session_sentences(protocol, "A", "p1", 1)]
    assert set(a0) != set(a1)  # the next session moves on through the typist's permutation
    others = {tuple(s.id for s in session_sentences(protocol, "B", f"p{i}", 0)) for i in range(6)}
    assert len(others) > 1  # typists get different orders
    reseeded = parse_protocol({**THREE_ARMS, "seed": 8})
    assert [s.id for s in session_sentences(reseeded, "C", "p1", 0)] != [
        s.id for s in session_sentences(protocol, "C", "p1", 0)
    ]


def test_saving_a_change_makes_a_new_version_and_keeps_the_old_file(tmp_path: Path) -> None:
    repo = StudyRepository(tmp_path)
    v1 = repo.save(parse_protocol(THREE_ARMS))
    assert v1.version == 1
    assert repo.save(parse_protocol(THREE_ARMS)).version == 1  # unchanged: no new version
    v2 = repo.save(parse_protocol({**THREE_ARMS, "title": "Renamed"}))
    assert v2.version == 2 and v2.protocol_version == "2"
    assert repo.versions("speed-a-b") == [1, 2]
    assert repo.load("speed-a-b", 1).title == THREE_ARMS["title"]
    assert repo.load("speed-a-b").title == "Renamed"
    assert (tmp_path / "studies" / "speed-a-b" / "v0001.yaml").stat().st_mode & 0o777 == 0o600
    assert repo.study_ids() == ["speed-a-b"]


def test_default_questionnaire_is_the_aalto_platforms() -> None:
    protocol = parse_protocol({"study_id": "s", "title": "t"})
    assert [q.id for q in protocol.questionnaire] == [
        "age",
        "gender",
        "typing_course",
        "fingers",
        "hours_per_day",
        "layout",
        "keyboard_type",
        "native_language",
    ]
    answers = {
        "age": 31,
        "gender": "female",
        "typing_course": "no",
        "fingers": "9-10",
        "hours_per_day": 6,
        "layout": "QWERTY",
        "keyboard_type": "laptop",
        "native_language": " Finnish ",
    }
    assert check_answers(AALTO_QUESTIONNAIRE, answers)["native_language"] == "Finnish"


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"age": 31}, "please answer: Gender"),
        ({"age": 300}, "Age: a whole number from 10 to 100"),
        ({"age": "31"}, "Age: a whole number from 10 to 100"),
        ({"age": 31, "gender": "robot"}, "Gender: choose one of the options"),
        ({"shoe_size": 44}, "answers to unknown questions: shoe_size"),
    ],
)
def test_bad_answers_name_the_item(answers: dict, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        check_answers(AALTO_QUESTIONNAIRE, answers)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("study_id: ../x\ntitle: t\n", "study_id '../x' is not a valid id"),
        ("study_id: s\n", "title must be non-empty text"),
        ("study_id: s\ntitle: t\nsentences_per_session: 0\n", "sentences_per_session must be a whole number"),
        ("study_id: s\ntitle: t\nconditions: [a, a]\n", "condition names must be unique"),
        ("study_id: s\ntitle: t\nsource: {kind: web}\n", "source.kind must be one of corpus, list, ranker"),
        (
            "study_id: s\ntitle: t\nsource: {kind: corpus, sentence_ids: [nope]}\n",
            "unknown sentence id 'nope'",
        ),
        ('study_id: s\ntitle: t\nsource: {kind: list, sentences: [[a, "tab\\there"]]}\n', "source"),
        ("study_id: s\ntitle: t\ncolour: red\n", "unknown protocol fields: colour"),
        ("study_id: [unclosed\n", "the protocol is not valid YAML at line"),
        ("- just\n- a list\n", "a study protocol must be a mapping"),
    ],
)
def test_bad_protocol_files_are_refused_with_the_field_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_yaml(text)
    assert str(err.value).startswith(message)


def test_own_sentence_list_is_the_pool(tmp_path: Path) -> None:
    protocol = parse_protocol(
        {
            "study_id": "own",
            "title": "Own list",
            "source": {"kind": "list", "sentences": [["x1", "the cat sat"], ["x2", "on the mat"]]},
            "sentences_per_session": 2,
        }
    )
    texts = sorted(s.text for s in session_sentences(protocol, "default", "p1", 0))
    assert texts == ["on the mat", "the cat sat"]
    with pytest.raises(InvalidInput, match="asks for 3 sentences per session; its source has 2"):
        session_sentences(
            parse_protocol({**protocol.to_dict(), "sentences_per_session": 3}), "default", "p1", 0
        )
