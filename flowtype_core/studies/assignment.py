"""Balanced assignment of participants to conditions, and each session's reproducible sentences.

Assignment follows the minimisation rule study tools use for small samples: each new participant
joins the least-filled condition, ties broken by a draw seeded from the protocol's seed and the
number already assigned, so replaying the same sign-ups with the same seed gives the same arms.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flowtype_core.corpus import Sentence, get_sentence, load_corpus
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.store.atomic import atomic_write_text, folder_lock
from flowtype_core.studies.protocol import Protocol, SentenceSource
from flowtype_core.studies.repository import StudyRepository

LEDGER = "assignments.csv"
LEDGER_COLUMNS = ("participant_id", "condition", "protocol_version", "assigned_at")


@dataclass(frozen=True)
class Assignment:
    """Which arm a participant is in, and under which protocol version they joined."""

    study_id: str
    participant_id: str
    condition: str
    protocol_version: str


def _read_ledger(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def assign(repository: StudyRepository, study_id: str, participant_id: str) -> Assignment:
    """The participant's arm: the one already recorded, else the least-filled (seeded tie-break)."""
    participant_id = check_id(participant_id, "participant_id")
    protocol = repository.load(study_id)
    folder = repository.folder(study_id)
    with folder_lock(folder):
        rows = _read_ledger(folder / LEDGER)
        for row in rows:
            if row["participant_id"] == participant_id:
                return Assignment(study_id, participant_id, row["condition"], row["protocol_version"])
        names = [c.name for c in protocol.conditions]
        counts = Counter(row["condition"] for row in rows if row["condition"] in names)
        fewest = min(counts.get(n, 0) for n in names)
        tied = [n for n in names if counts.get(n, 0) == fewest]
        condition = random.Random(f"{protocol.seed}:{study_id}:{len(rows)}").choice(tied)
        rows.append(
            {
                "participant_id": participant_id,
                "condition": condition,
                "protocol_version": protocol.protocol_version,
                "assigned_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        out = io.StringIO()
        writer = csv.DictWriter(out, LEDGER_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(folder / LEDGER, out.getvalue(), mode=0o600)
    return Assignment(study_id, participant_id, condition, protocol.protocol_version)


def assignments(repository: StudyRepository, study_id: str) -> list[Assignment]:
    """Everyone assigned so far, in sign-up order."""
    return [
        Assignment(study_id, r["participant_id"], r["condition"], r["protocol_version"])
        for r in _read_ledger(repository.folder(study_id) / LEDGER)
    ]


def sentence_pool(source: SentenceSource) -> list[Sentence]:
    """The sentences a source draws from (`ranker` draws from the corpus when no model is served)."""
    if source.kind == "list":
        return [Sentence(i, t) for i, t in source.sentences]
    if source.sentence_ids:
        return [get_sentence(i) for i in source.sentence_ids]
    return list(load_corpus())


def session_sentences(
    protocol: Protocol, condition: str, participant_id: str, session_index: int
) -> list[Sentence]:
    """This session's sentences in order: the same seed, typist and session give the same list.

    Sentences are drawn without repeats across a typist's sessions while the pool lasts: session k
    takes the k-th slice of one seeded permutation of the pool per typist.
    """
    if session_index < 0:
        raise InvalidInput("session_index must be 0 or more")
    pool = sentence_pool(protocol.source_for(condition))
    n = protocol.sentences_per_session
    if n > len(pool):
        raise InvalidInput(f"the study asks for {n} sentences per session; its source has {len(pool)}")
    order = random.Random(f"{protocol.seed}:{protocol.study_id}:{participant_id}").sample(pool, len(pool))
    start = (session_index * n) % len(order)
    return (order + order)[start : start + n]


def overview(repository: StudyRepository) -> list[dict[str, object]]:
    """Each study's newest version and how many participants each condition holds."""
    studies = []
    for study_id in repository.study_ids():
        protocol = repository.load(study_id)
        counts = {c.name: 0 for c in protocol.conditions}
        for a in assignments(repository, study_id):
            counts[a.condition] = counts.get(a.condition, 0) + 1
        studies.append(
            {
                "study_id": study_id,
                "title": protocol.title,
                "version": protocol.version,
                "participants": counts,
            }
        )
    return studies


@dataclass(frozen=True)
class Enrolment:
    """The study a participant types in now: the protocol for new sessions and their arm."""

    protocol: Protocol
    assignment: Assignment


def current_enrolment(repository: StudyRepository, participant_id: str) -> Enrolment | None:
    """The participant's newest study assignment with the study's newest protocol, or None.

    New sessions follow the newest version (each row stores which); an arm the newest version no
    longer has is a clear error rather than a silent move to another condition.
    """
    newest: tuple[str, Assignment] | None = None
    for study_id in repository.study_ids():
        for row in _read_ledger(repository.folder(study_id) / LEDGER):
            if row["participant_id"] == participant_id and (
                newest is None or row["assigned_at"] >= newest[0]
            ):
                newest = (row["assigned_at"], Assignment(study_id, participant_id, row["condition"], ""))
    if newest is None:
        return None
    protocol = repository.load(newest[1].study_id)
    protocol.condition(newest[1].condition)
    assignment = Assignment(protocol.study_id, participant_id, newest[1].condition, protocol.protocol_version)
    return Enrolment(protocol, assignment)
