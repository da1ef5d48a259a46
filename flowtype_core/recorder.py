"""A typing session from consent to summary: validate, write the CSV, queue the lakehouse push.

This is the one write path for live sessions, the demo generator and dataset imports, so all
data reaches the store and the lakehouses the same way (SPEC §3.1-§3.3).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import polars as pl

from flowtype_core.capture import describe, validate_batch
from flowtype_core.corpus import Sentence, text_sentence_id
from flowtype_core.errors import InvalidInput
from flowtype_core.fingerprint import section_fingerprints
from flowtype_core.ids import check_id, new_session_id, section_id
from flowtype_core.metrics import section_metrics
from flowtype_core.progress import Progress, counted
from flowtype_core.provenance import Provenance, session_provenance
from flowtype_core.quality import flag_sections
from flowtype_core.schema import PARTICIPANTS, PROVENANCE_COLUMNS, SECTIONS, SESSIONS, STUDY_COLUMNS
from flowtype_core.store.atomic import atomic_write_text
from flowtype_core.store.csv_store import SessionStore, refuse_foreign
from flowtype_core.studies.assignment import Assignment
from flowtype_core.sync.publisher import Publisher

CONSENT_VERSION = "2026-11-v1"
# A live session's sentences and the hash of the token of the tab that owns it, so a reload or a
# new tab continues the session (and takes it over) instead of losing it. Absent for sessions
# from before it existed, which accept any token as they always did.
PLAN_FILE = "plan.json"
# Columns set once per session and kept by every rewrite of its row.
SESSION_CONTEXT = (*STUDY_COLUMNS, *PROVENANCE_COLUMNS)


@dataclass(frozen=True)
class SessionHandle:
    """What the UI keeps for a running session; `token` ties browser batches to it."""

    participant_id: str
    session_id: str
    token: str


@dataclass(frozen=True)
class ResumedSession:
    """An unfinished session taken over by a new tab: its plan and the sentences already typed."""

    handle: SessionHandle
    plan: list[dict[str, Any]]  # as the UI stored it at start
    typed: frozenset[int]  # section indexes already recorded
    consented_at: datetime

    @property
    def next_index(self) -> int:
        """The first planned sentence not typed yet (the plan's length when all are)."""
        return next((i for i in range(len(self.plan)) if i not in self.typed), len(self.plan))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SectionResult:
    """Shown to the participant after each sentence."""

    test_section_id: str
    keystroke_count: int
    wpm: float | None
    error_rate: float | None
    kspc: float | None
    mean_iki_ms: float | None
    user_input: str
    quality_flags: str = ""  # the validity rules it tripped (flowtype_core.quality), "" when clean
    valid: bool = True


def _now() -> datetime:
    return datetime.now(UTC)


def _ms_to_datetime(column: str) -> pl.Expr:
    return pl.from_epoch(pl.col(column), time_unit="ms").dt.replace_time_zone("UTC")


def sections_from_keystrokes(
    keystrokes: pl.DataFrame,
    sentence_ids: dict[str, str] | None = None,
    provenance: dict[str, int | None] | None = None,
) -> pl.DataFrame:
    """Section rows (SPEC §2) computed from their keystrokes with the shared metric definitions,
    flagged by the shared validity rules (`flowtype_core.quality`).

    `provenance` (`hidden_ms`, `blur_count`: what the capture reported for the sentence) applies
    to every section of `keystrokes`; a value that is None or absent trips no rule.
    """
    reported = {k: v for k, v in (provenance or {}).items() if v is not None}
    metrics = flag_sections(
        section_metrics(keystrokes).with_columns(pl.lit(v, pl.Int64).alias(k) for k, v in reported.items()),
        keystrokes,
    )
    ids = pl.DataFrame(
        {
            "test_section_id": list((sentence_ids or {}).keys()),
            "sentence_id": list((sentence_ids or {}).values()),
        },
        schema={"test_section_id": pl.String, "sentence_id": pl.String},
    )
    return SECTIONS.conform(
        metrics.join(ids, on="test_section_id", how="left").with_columns(
            pl.col("sentence_id").fill_null(
                pl.col("sentence").map_elements(text_sentence_id, return_dtype=pl.String)
            ),
            _ms_to_datetime("started_at").alias("started_at"),
            _ms_to_datetime("completed_at").alias("completed_at"),
            pl.col("iki_mean_ms").alias("mean_iki_ms"),
        )
    )


def session_row(
    participant_id: str,
    session_id: str,
    sections: pl.DataFrame,
    *,
    created_at: datetime,
    status: str,
    ended_at: datetime | None,
    context: dict[str, Any] | None = None,
) -> pl.DataFrame:
    """The sessions-table row summarising a session's sections.

    `context` holds the columns fixed for the whole session (its study, protocol version and
    condition; timing provenance), which every rewrite of the row carries over unchanged.
    """
    fixed = {c: [v] for c, v in (context or {}).items() if c in SESSION_CONTEXT}
    return SESSIONS.conform(
        pl.DataFrame(
            {
                **fixed,
                "participant_id": [participant_id],
                "session_id": [session_id],
                "created_at": [created_at],
                "ended_at": [ended_at],
                "status": [status],
                "sentence_count": [sections.height],
                "total_keystrokes": [int(sections.get_column("keystroke_count").sum() or 0)],
                "average_wpm": [sections.get_column("wpm").mean()],
                "average_error_rate": [sections.get_column("error_rate").mean()],
            },
            schema_overrides={
                "ended_at": pl.Datetime("us", "UTC"),
                "created_at": pl.Datetime("us", "UTC"),
                "average_wpm": pl.Float64,
                "average_error_rate": pl.Float64,
                **{c: SESSIONS.columns[c] for c in fixed},
            },
        )
    )


def session_context(current: pl.DataFrame) -> dict[str, Any]:
    """The session-fixed columns of a stored session row (empty for a session not written yet)."""
    if not current.height:
        return {}
    row = current.row(0, named=True)
    return {c: row.get(c) for c in SESSION_CONTEXT}


def _open_session(current: pl.DataFrame) -> dict[str, Any] | None:
    """The session's row if it still takes sentences; a completed or abandoned one is refused."""
    if not current.height:
        return None
    row = current.row(0, named=True)
    if row["status"] != "in_progress":
        raise InvalidInput(f"this session is {row['status']}; start a new session to type more")
    return row


def _keep_status_summary(
    participant_id: str,
    session_id: str,
    sections: pl.DataFrame,
    current: pl.DataFrame,
    provenance: Provenance = Provenance(),
) -> pl.DataFrame:
    """Session row after a section changed: counts recomputed, status and times kept, the new
    sentence's timing provenance added to the session's.

    Runs under the session folder's lock, so a session ended meanwhile refuses the section.
    """
    row = _open_session(current)
    context = session_context(current)
    context.update(session_provenance(context, provenance))
    if row is not None:
        return session_row(
            participant_id,
            session_id,
            sections,
            created_at=row["created_at"],
            status=row["status"],
            ended_at=row["ended_at"],
            context=context,
        )
    return session_row(
        participant_id,
        session_id,
        sections,
        created_at=_now(),
        status="in_progress",
        ended_at=None,
        context=context,
    )


@dataclass
class IngestReport:
    """What a bulk ingest wrote and what it found already in place."""

    written_sessions: int = 0
    written_sections: int = 0
    written_keystrokes: int = 0
    unchanged_sessions: int = 0


def completed_sessions(sections: pl.DataFrame) -> pl.DataFrame:
    """Session rows for whole imported sessions: first start to last completion, all sections."""
    return SESSIONS.conform(
        sections.group_by("participant_id", "session_id").agg(
            pl.col("started_at").min().alias("created_at"),
            pl.col("completed_at").max().alias("ended_at"),
            pl.lit("completed").alias("status"),
            pl.len().cast(pl.Int64).alias("sentence_count"),
            pl.col("keystroke_count").sum().alias("total_keystrokes"),
            pl.col("wpm").mean().alias("average_wpm"),
            pl.col("error_rate").mean().alias("average_error_rate"),
        )
    )


class Recorder:
    """Records sessions into the CSV store and queues them for every lakehouse."""

    def __init__(self, store: SessionStore, publisher: Publisher) -> None:
        self.store = store
        self.publisher = publisher

    # live sessions ----------------------------------------------------------------------------
    def start_session(
        self,
        participant_id: str,
        *,
        consented_at: datetime | None,
        started_at: datetime | None = None,
        study: Assignment | None = None,
        plan: list[dict[str, Any]] | None = None,
    ) -> SessionHandle:
        """Open a session; refuses without recorded consent. Earlier unfinished ones become abandoned.

        `started_at` back-dates a session (demo data); live sessions start now. `study` names the
        protocol version and condition every row of the session is recorded under. `plan` (the
        sentences the UI will show, JSON-ready) lets a reload resume the session (`resume`).
        """
        check_id(participant_id, "participant_id")
        if consented_at is None:
            raise InvalidInput("consent is required before a session starts; nothing was recorded")
        for _, old in self.store.sessions(participant_id):
            current = self.store.read("session.csv", participant_id, old)
            if current.height and current.get_column("status")[0] == "in_progress":
                self.end_session(SessionHandle(participant_id, old, ""), status="abandoned")
        started_at = started_at or _now()
        session_id = new_session_id(started_at)
        while self.store.session_dir(participant_id, session_id).exists():
            started_at += timedelta(milliseconds=1)
            session_id = new_session_id(started_at)
        folder = self.store.session_dir(participant_id, session_id)
        folder.mkdir(parents=True)
        consent = {
            "participant_id": participant_id,
            "session_id": session_id,
            "version": CONSENT_VERSION,
            "consented_at": consented_at.astimezone(UTC).isoformat(),
        }
        context: dict[str, Any] = {}
        if study is not None:
            context = {"study_id": study.study_id, "protocol_version": study.protocol_version}
            context["condition"] = study.condition
            consent["version"] = f"{study.study_id}/v{study.protocol_version}"
        atomic_write_text(folder / "consent.json", json.dumps(consent))
        handle = SessionHandle(participant_id, session_id, secrets.token_urlsafe(16))
        if plan is not None:
            self._write_plan(handle, plan)
        self._write_session(
            participant_id,
            session_id,
            status="in_progress",
            ended_at=None,
            created_at=started_at,
            context=context,
        )
        return handle

    def _write_plan(self, handle: SessionHandle, plan: list[dict[str, Any]]) -> None:
        folder = self.store.session_dir(handle.participant_id, handle.session_id)
        record = {"owner_token_sha256": _token_hash(handle.token), "sentences": plan}
        atomic_write_text(folder / PLAN_FILE, json.dumps(record))

    def _plan(self, participant_id: str, session_id: str) -> dict[str, Any] | None:
        path = self.store.session_dir(participant_id, session_id) / PLAN_FILE
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    def resume(self, participant_id: str) -> ResumedSession | None:
        """Take over the participant's unfinished planned session for a new tab (a reload, a new
        window): a new token is issued, so the tab that had it can no longer submit to it."""
        check_id(participant_id, "participant_id")
        for _, session_id in sorted(self.store.sessions(participant_id), reverse=True):
            current = self.store.read("session.csv", participant_id, session_id)
            if not current.height or current.get_column("status")[0] != "in_progress":
                continue
            plan = self._plan(participant_id, session_id)
            consent = self.consent(participant_id, session_id)
            if plan is None or not plan.get("sentences") or consent is None:
                return None
            handle = SessionHandle(participant_id, session_id, secrets.token_urlsafe(16))
            self._write_plan(handle, plan["sentences"])
            sections = self.store.read("sections.csv", participant_id, session_id)
            typed = frozenset(int(s.rsplit("_s", 1)[1]) for s in sections.get_column("test_section_id"))
            consented_at = datetime.fromisoformat(consent["consented_at"])
            return ResumedSession(handle, plan["sentences"], typed, consented_at)
        return None

    def consent(self, participant_id: str, session_id: str) -> dict[str, Any] | None:
        path = self.store.session_dir(participant_id, session_id) / "consent.json"
        return json.loads(path.read_text("utf-8")) if path.is_file() else None

    def submit_section(
        self, handle: SessionHandle, index: int, sentence: Sentence, batch: bytes | str | dict[str, Any]
    ) -> SectionResult:
        """Validate one sentence's batch and make it durable; a re-submission replaces it."""
        if self.consent(handle.participant_id, handle.session_id) is None:
            raise InvalidInput("this session has no recorded consent; nothing was recorded")
        plan = self._plan(handle.participant_id, handle.session_id)
        if plan is not None and plan["owner_token_sha256"] != _token_hash(handle.token):
            raise InvalidInput(
                "this session was continued in another tab or window; nothing was recorded here."
                " Type in that tab, or reload this page to continue here"
            )
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1000:
            raise InvalidInput(f"sentence index must be an integer from 0 to 999, got {describe(index)}")
        test_section_id = section_id(handle.session_id, index)
        session = _open_session(self.store.read("session.csv", handle.participant_id, handle.session_id))
        captured = validate_batch(
            batch,
            participant_id=handle.participant_id,
            session_id=handle.session_id,
            test_section_id=test_section_id,
            section_index=index,
            sentence=sentence.text,
            token=handle.token,
            session_started_ms=None if session is None else session["created_at"].timestamp() * 1000,
        )
        section = sections_from_keystrokes(
            captured.keystrokes, {test_section_id: sentence.id}, captured.provenance.section_columns()
        ).with_columns(
            pl.lit(captured.started_at).alias("started_at"),
            pl.lit(captured.completed_at).alias("completed_at"),
            *(
                pl.lit(session.get(c) if session else None, dtype=t).alias(c)
                for c, t in STUDY_COLUMNS.items()
            ),
        )
        self.store.replace_sections(
            section,
            captured.keystrokes,
            summarize=partial(_keep_status_summary, provenance=captured.provenance),
        )
        self.publisher.enqueue(handle.participant_id, handle.session_id, [test_section_id], session_row=False)
        row = section.row(0, named=True)
        return SectionResult(
            test_section_id,
            row["keystroke_count"],
            row["wpm"],
            row["error_rate"],
            row["kspc"],
            row["mean_iki_ms"],
            captured.user_input,
            row["quality_flags"],
            row["valid"],
        )

    def record_participant(
        self,
        study: Assignment,
        *,
        answers: dict[str, Any] | None = None,
        recruitment: dict[str, str] | None = None,
    ) -> None:
        """Store a participant's questionnaire answers and recruitment ids for a study, durable in
        the CSV store first, then queued for every lakehouse like the other tables.

        Omitted answers keep the stored ones and recruitment ids add to the stored ones, so a
        returning link (a new SESSION_ID) never erases what the participant already answered.
        """
        now = _now()
        mine = self.store.read_participants([study.participant_id]).filter(
            pl.col("study_id") == study.study_id
        )
        before = mine.row(0, named=True) if mine.height else {}
        ids = json.loads(before.get("recruitment") or "{}") | (recruitment or {})
        row = {
            "participant_id": study.participant_id,
            "study_id": study.study_id,
            "protocol_version": study.protocol_version,
            "condition": study.condition,
            "answers": before.get("answers") or "{}"
            if answers is None
            else json.dumps(answers, sort_keys=True, ensure_ascii=False),
            "recruitment": json.dumps(ids, sort_keys=True),
            "created_at": before.get("created_at") or now,
            "updated_at": now,
        }
        self.store.upsert_participants(PARTICIPANTS.conform(pl.DataFrame([row], schema=PARTICIPANTS.schema)))
        self.publisher.enqueue_participants([study.participant_id])

    def end_session(
        self, handle: SessionHandle, *, status: str = "completed", ended_at: datetime | None = None
    ) -> dict[str, Any]:
        """Close a session as completed or abandoned; its sentences are kept either way."""
        if status not in ("completed", "abandoned"):
            raise InvalidInput(f"a session ends as completed or abandoned, not {status!r}")
        return self._write_session(
            handle.participant_id, handle.session_id, status=status, ended_at=ended_at or _now()
        )

    def _write_session(
        self,
        participant_id: str,
        session_id: str,
        *,
        status: str,
        ended_at: datetime | None,
        created_at: datetime | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        existing = self.store.read("session.csv", participant_id, session_id)
        created = existing.get_column("created_at")[0] if existing.height else (created_at or _now())
        sections = self.store.read("sections.csv", participant_id, session_id)
        row = session_row(
            participant_id,
            session_id,
            sections,
            created_at=created,
            status=status,
            ended_at=ended_at,
            context=session_context(existing) | (context or {}),
        )
        self.store.upsert_sessions(row)
        self.publisher.enqueue(participant_id, session_id, [], session_row=True)
        return row.row(0, named=True)

    # bulk: demo data and dataset imports ------------------------------------------------------
    def ingest(
        self,
        keystrokes: pl.DataFrame,
        sections: pl.DataFrame,
        sessions: pl.DataFrame,
        *,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Write whole sessions at once through the same store and outbox.

        Sessions whose sections already hold exactly this content are skipped, so importing the
        same data twice changes nothing, not even a timestamp. Progress is counted in sessions,
        written or skipped.
        """
        for frame, what in ((keystrokes, "keystrokes"), (sections, "sections"), (sessions, "sessions")):
            for column in ("participant_id", "session_id"):
                for value in frame.get_column(column).unique().to_list():
                    check_id(value, f"{what}.{column}")
        refuse_foreign(self.store.foreign_sections(sections))  # before any session is written
        incoming = section_fingerprints(keystrokes, sections)
        report = IngestReport()
        groups = sections.group_by(["participant_id", "session_id"])
        total = sections.select("participant_id", "session_id").n_unique() if sections.height else 0
        for done, ((participant_id, session_id), group) in enumerate(groups):
            counted(progress, done, total, "sessions")  # finished so far, written or skipped
            pid, sid = str(participant_id), str(session_id)
            stored = section_fingerprints(
                self.store.read("keystrokes.csv", pid, sid), self.store.read("sections.csv", pid, sid)
            )
            wanted = incoming.filter((pl.col("participant_id") == pid) & (pl.col("session_id") == sid))
            if wanted.sort("test_section_id").equals(stored.sort("test_section_id")):
                report.unchanged_sessions += 1
                continue
            ids = group.get_column("test_section_id")
            presses = keystrokes.filter(
                (pl.col("participant_id") == pid) & pl.col("test_section_id").is_in(ids.implode())
            )
            row = sessions.filter((pl.col("participant_id") == pid) & (pl.col("session_id") == sid))
            self.store.replace_sections(group, presses, summarize=lambda *_, row=row: row.tail(1))
            self.publisher.enqueue(pid, sid, ids.to_list(), session_row=True)
            report.written_sessions += 1
            report.written_sections += group.height
            report.written_keystrokes += presses.height
        counted(progress, total, total, "sessions")
        return report
