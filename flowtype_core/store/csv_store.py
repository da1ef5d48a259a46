"""The durable record: per-participant, per-session CSV files (SPEC §3.2).

`<data-dir>/sessions/<participant>/<session>/{keystrokes,sections,session}.csv`, and per
participant `<data-dir>/sessions/<participant>/participants.csv` (one row per study). Each file is
replaced atomically; a section's keystrokes are written before its section row, so a section
listed in sections.csv always has its presses in keystrokes.csv.

Files written before a column was added (`TableSpec.added`) read it as null, and `migrate`
rewrites them once with the column, so a data dir of an earlier version opens and loses nothing.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import polars as pl

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.schema import KEYSTROKES, PARTICIPANTS, SECTIONS, SESSIONS, TableSpec
from flowtype_core.store.atomic import atomic_write_many, atomic_write_text, folder_lock, private_dir

FILES: dict[str, TableSpec] = {
    "keystrokes.csv": KEYSTROKES,
    "sections.csv": SECTIONS,
    "session.csv": SESSIONS,
}
PARTICIPANTS_FILE = "participants.csv"  # in the participant's folder, beside the session folders
ERASED_DIR = ".erased"  # in the data dir: participant folders on their way out (`remove_participant`)
SCHEMA_MARK = ".sessions-schema"  # in the data dir: the columns every session file was migrated to
SECTION_KEY = list(SECTIONS.key)
CSV_BATCH_BYTES = 256 << 20  # raw text `csv_bodies` holds at once
# (participant_id, session_id, all of the session's sections, current session.csv rows) -> session row
Summarizer = Callable[[str, str, pl.DataFrame, pl.DataFrame], pl.DataFrame]


def _to_csv(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_csv(buffer, datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ", quote_style="necessary")
    return buffer.getvalue()


def _typed(spec: TableSpec, columns: Sequence[str] | None = None) -> list[pl.Expr]:
    """Text columns (as read) to the contract's types; an empty field is null."""
    casts = []
    for column in columns or list(spec.columns):
        dtype, col = spec.columns[column], pl.col(column)
        if dtype == pl.String:
            casts.append(col)
        elif dtype == pl.Boolean:  # written by polars as true/false
            casts.append(
                col.replace_strict({"true": True, "false": False, "": None}, return_dtype=pl.Boolean)
            )
        elif isinstance(dtype, pl.Datetime):
            casts.append(
                col.replace("", None).str.to_datetime(
                    "%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC"
                )
            )
        else:
            casts.append(col.replace("", None).cast(dtype))
    return casts


def _parse(raw: bytes, spec: TableSpec, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """CSV text as typed contract columns; an `added` column the file predates reads as null."""
    names = list(columns or spec.columns)
    header = pl.read_csv(raw, infer_schema=False, n_rows=0).columns
    absent = [c for c in names if c not in header]
    if any(c not in spec.added for c in absent):
        raise pl.exceptions.ColumnNotFoundError(f"{spec.name}: the file lacks columns {absent}")
    present = [c for c in names if c in header]
    frame = pl.read_csv(raw, infer_schema=False, columns=present)
    return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in absent).select(_typed(spec, names))


class _ParsedFiles:
    """The typed frames of the session files this process last read or wrote, by exact content.

    The recorder rewrites a session's three files after every sentence, and parsing back what it
    had just written was a large share of the participant's wait. Reading the bytes is cheap;
    a frame is reused only when the file's bytes are identical to those it was parsed from, so a
    write by any other process is always seen.
    """

    def __init__(self, limit: int = 48) -> None:
        self._limit = limit
        self._entries: OrderedDict[str, tuple[bytes, pl.DataFrame]] = OrderedDict()
        self._lock = threading.Lock()

    def read(self, path: Path, spec: TableSpec) -> pl.DataFrame:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return spec.empty()
        with self._lock:
            hit = self._entries.get(str(path))
        if hit is not None and hit[0] == raw:
            return hit[1]
        frame = _parse(raw, spec) if raw else spec.empty()
        self.remember(path, raw, frame)
        return frame

    def remember(self, path: Path, raw: bytes, frame: pl.DataFrame) -> None:
        with self._lock:
            self._entries[str(path)] = (raw, frame)
            self._entries.move_to_end(str(path))
            while len(self._entries) > self._limit:
                self._entries.popitem(last=False)


_parsed = _ParsedFiles()


def _read_csv(path: Path, spec: TableSpec) -> pl.DataFrame:
    return _parsed.read(path, spec)


def _write_files(folder: Path, frames: Sequence[tuple[str, pl.DataFrame]]) -> None:
    """Replace the folder's files atomically, in the given order, and remember what they hold."""
    files = [(name, _to_csv(frame)) for name, frame in frames]
    atomic_write_many(folder, files)
    for (name, raw), (_, frame) in zip(files, frames, strict=True):
        _parsed.remember(folder / name, raw, frame)


def csv_bodies(paths: Iterable[str | Path]) -> Iterator[tuple[bytes, list[tuple[int, bytes | memoryview]]]]:
    """Many CSV files' rows as text, in batches of one header line: `(header, [(position, body)])`.

    Per-file parsing costs more than the parsing itself at thousands of files, so a batch's bodies
    are parsed in one call; a batch closes at `CSV_BATCH_BYTES` so the raw text held at once stays
    bounded. The header is the first line that is not blank; each body ends with a newline; a file
    that is missing or has no line break (empty, or a bare header) holds nothing.
    """
    pending: dict[bytes, list[tuple[int, bytes | memoryview]]] = {}
    sizes: dict[bytes, int] = {}
    for position, path in enumerate(paths):
        try:
            with open(path, "rb") as handle:
                raw = handle.read().lstrip(b"\r\n")
        except FileNotFoundError:
            continue
        cut = raw.find(b"\n") + 1
        if cut == 0:
            continue
        header, body = raw[:cut], memoryview(raw)[cut:]
        pending.setdefault(header, []).append(
            (position, body if raw.endswith(b"\n") else bytes(body) + b"\n")
        )
        sizes[header] = sizes.get(header, 0) + len(raw)
        if sizes[header] >= CSV_BATCH_BYTES:
            yield header, pending.pop(header)
            del sizes[header]
    yield from pending.items()


def read_csv_files(
    paths: Iterable[str | Path], spec: TableSpec, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Many small CSV files of one kind as one frame, parsed once per header (`csv_bodies`).

    Files whose header differs (written by another version) are parsed apart. Missing files hold
    nothing.
    """
    names = list(columns or spec.columns)
    frames = [
        _parse(header + b"".join(body for _, body in bodies), spec, names)
        for header, bodies in csv_bodies(paths)
    ]
    return pl.concat(frames) if frames else pl.DataFrame(schema={c: spec.columns[c] for c in names})


def refuse_foreign(foreign: pl.DataFrame) -> None:
    """Raise, naming the first few, when sections would land on ids another session holds."""
    if foreign.is_empty():
        return
    shown = "; ".join(
        f"{r['participant_id']}/{r['test_section_id']} (held by session {r['held_in']}, sent for {r['session_id']})"
        for r in foreign.head(3).iter_rows(named=True)
    )
    raise InvalidInput(
        f"{foreign.height} section id(s) already exist in another session of the same participant: {shown}. "
        "A section id belongs to one session; nothing was written."
    )


def _schema_mark() -> str:
    return "\n".join(
        f"{n}:{','.join(s.columns)}" for n, s in {**FILES, PARTICIPANTS_FILE: PARTICIPANTS}.items()
    )


def _migrate_file(folder: Path, name: str, spec: TableSpec) -> int:
    """Rewrite one file with the contract's columns when its header lacks some (1), else 0."""
    path = folder / name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0
    if not raw.strip() or pl.read_csv(raw, infer_schema=False, n_rows=0).columns == list(spec.columns):
        return 0
    _write_files(folder, [(name, _parse(raw, spec))])
    return 1


class SessionStore:
    """Reads and writes the CSV session folders under `<data-dir>/sessions`."""

    def __init__(self, data_dir: Path) -> None:
        self.root = private_dir(private_dir(Path(data_dir)) / "sessions")
        self.migrate()

    def migrate(self) -> int:
        """Rewrite, once, every file written before a column was added, with it; returns files rewritten.

        The new columns are null in the old rows (never assessed); nothing else changes. A mark
        in the data dir records the column set, so later opens skip the scan.
        """
        mark = self.root.parent / SCHEMA_MARK
        wanted = _schema_mark()
        if mark.is_file() and mark.read_text("utf-8") == wanted:
            return 0
        rewritten = 0
        with folder_lock(self.root.parent):
            for pdir in sorted(p for p in self.root.iterdir() if p.is_dir()):
                rewritten += _migrate_file(pdir, PARTICIPANTS_FILE, PARTICIPANTS)
                for sdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
                    with folder_lock(sdir):
                        rewritten += sum(_migrate_file(sdir, name, spec) for name, spec in FILES.items())
            atomic_write_text(mark, wanted)
        return rewritten

    def session_dir(self, participant_id: str, session_id: str) -> Path:
        path = self.root / check_id(participant_id, "participant_id") / check_id(session_id, "session_id")
        if self.root.resolve() not in path.resolve().parents:
            raise ValueError("session folder escapes the data directory")
        return path

    def _merged(self, folder: Path, name: str, new: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
        """The file's rows with every row matching `keys` replaced by `new`: never an append."""
        spec = FILES[name]
        current = _read_csv(folder / name, spec)
        kept = current.join(keys.unique(), on=keys.columns, how="anti")
        merged = pl.concat([kept, spec.conform(new)])
        order = [c for c in ("test_section_id", "keystroke_id") if c in merged.columns]
        return merged.sort(order) if order else merged

    def foreign_sections(self, sections: pl.DataFrame) -> pl.DataFrame:
        """Rows of `sections` whose (participant, section id) another session folder already holds.

        The lakehouse key is (participant_id, test_section_id): one id in two session folders
        would make the two sources overwrite each other there. Returns participant_id,
        test_section_id, session_id (the incoming one) and held_in (the session holding it).
        """
        key = ["participant_id", "test_section_id"]
        wanted = sections.select(*key, "session_id").unique()
        participants = wanted.get_column("participant_id").unique().to_list()
        folders = [(p, s) for pid in participants for p, s in self.sessions(pid)]
        held = self.read_many("sections.csv", folders, [*key, "session_id"]).rename({"session_id": "held_in"})
        return (
            wanted.join(held, on=key, how="inner")
            .filter(pl.col("held_in") != pl.col("session_id"))
            .sort(*key, "held_in")
        )

    def replace_sections(
        self, sections: pl.DataFrame, keystrokes: pl.DataFrame, *, summarize: Summarizer | None = None
    ) -> None:
        """Make each session folder hold exactly these rows for each given section.

        With `summarize`, the session row is recomputed from the folder's sections in the same
        locked write, so sections.csv and session.csv never disagree. A section id another
        session of the participant holds is refused (`foreign_sections`) before anything is written.
        """
        refuse_foreign(self.foreign_sections(sections))
        for (participant_id, session_id), group in sections.group_by(["participant_id", "session_id"]):
            pid, sid = str(participant_id), str(session_id)
            folder = self.session_dir(pid, sid)
            presses = keystrokes.filter(
                (pl.col("participant_id") == pid)
                & pl.col("test_section_id").is_in(group.get_column("test_section_id").implode())
            )
            with folder_lock(folder):
                # Keyed by the sections, so a section whose new keystroke set is empty is emptied too.
                keys = group.select(SECTION_KEY)
                all_sections = self._merged(folder, "sections.csv", group, keys)
                frames = [
                    ("keystrokes.csv", self._merged(folder, "keystrokes.csv", presses, keys)),
                    ("sections.csv", all_sections),
                ]
                if summarize is not None:
                    current = _read_csv(folder / "session.csv", SESSIONS)
                    frames.append(
                        ("session.csv", SESSIONS.conform(summarize(pid, sid, all_sections, current)))
                    )
                # Keystrokes first: a section listed in sections.csv always has its presses on disk.
                _write_files(folder, frames)

    def upsert_sessions(self, sessions: pl.DataFrame) -> None:
        for (participant_id, session_id), group in sessions.group_by(["participant_id", "session_id"]):
            folder = self.session_dir(str(participant_id), str(session_id))
            latest = group.tail(1)
            with folder_lock(folder):
                merged = self._merged(
                    folder, "session.csv", latest, latest.select("participant_id", "session_id")
                )
                _write_files(folder, [("session.csv", merged)])

    def participant_dir(self, participant_id: str) -> Path:
        path = self.root / check_id(participant_id, "participant_id")
        if self.root.resolve() not in path.resolve().parents:
            raise ValueError("participant folder escapes the data directory")
        return path

    def upsert_participants(self, rows: pl.DataFrame) -> None:
        """Insert or replace participants rows by (participant_id, study_id); a null study is one key."""
        for (participant_id,), group in rows.group_by(["participant_id"]):
            folder = self.participant_dir(str(participant_id))
            new = PARTICIPANTS.conform(group).unique(subset=list(PARTICIPANTS.key), keep="last")
            with folder_lock(folder):
                current = _read_csv(folder / PARTICIPANTS_FILE, PARTICIPANTS)
                kept = current.join(
                    new.select(PARTICIPANTS.key), on=list(PARTICIPANTS.key), how="anti", nulls_equal=True
                )
                merged = pl.concat([kept, new]).sort("study_id", nulls_last=False)
                _write_files(folder, [(PARTICIPANTS_FILE, merged)])

    def remove_participant(self, participant_id: str) -> int:
        """Remove the participant's folder (every session, participants.csv): an erasure.

        Returns the session folders removed. The folder leaves `sessions/` in one rename, so
        readers see all of it or none of it; the renamed copy is then deleted (and one a crash
        left behind by an earlier removal with it).
        """
        folder = self.participant_dir(participant_id)
        trash = private_dir(self.root.parent / ERASED_DIR)
        removed = 0
        if folder.is_dir():
            with folder_lock(folder):
                removed = sum(1 for p in folder.iterdir() if p.is_dir())
                folder.rename(trash / f"{participant_id}-{time.time_ns()}")
        for leftover in trash.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
        return removed

    def read_participants(self, participant_ids: Iterable[str] | None = None) -> pl.DataFrame:
        """Participants rows of these participants (default: everyone), parsed in one call."""
        ids = (
            list(participant_ids) if participant_ids is not None else [p for p, _ in self.participant_files()]
        )
        return read_csv_files([self.participant_dir(p) / PARTICIPANTS_FILE for p in ids], PARTICIPANTS)

    def participant_files(self) -> Iterator[tuple[str, Path]]:
        """(participant_id, participants.csv) of every participant that has one, sorted."""
        for pdir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if (pdir / PARTICIPANTS_FILE).is_file():
                yield pdir.name, pdir / PARTICIPANTS_FILE

    def read(self, name: str, participant_id: str, session_id: str) -> pl.DataFrame:
        """One session's file as a typed frame (empty when absent)."""
        return _read_csv(self.session_dir(participant_id, session_id) / name, FILES[name])

    def read_many(
        self, name: str, sessions: Iterable[tuple[str, str]], columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """One file kind over many sessions, parsed in one call (validation, publishing)."""
        paths = [self.session_dir(p, s) / name for p, s in sessions]
        return read_csv_files(paths, FILES[name], columns)

    def sessions(self, participant_id: str | None = None) -> Iterator[tuple[str, str]]:
        """(participant_id, session_id) of every session folder, sorted."""
        participants = (
            [self.root / check_id(participant_id, "participant_id")]
            if participant_id
            else sorted(p for p in self.root.iterdir() if p.is_dir())
        )
        for pdir in participants:
            if not pdir.is_dir():
                continue
            for sdir in sorted(p for p in pdir.iterdir() if p.is_dir()):
                yield pdir.name, sdir.name

    def read_all(self, name: str, participant_id: str | None = None) -> pl.DataFrame:
        """Concatenate one file over all sessions (or one participant's)."""
        frames = [self.read(name, p, s) for p, s in self.sessions(participant_id)]
        return pl.concat(frames) if frames else FILES[name].empty()
