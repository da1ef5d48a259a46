"""Reader for the public Aalto "136M Keystrokes" files (Dhakal et al., CHI 2018).

Each `<id>_keystrokes.txt` is tab-separated with the header in `AALTO_COLUMNS`. The files are not
clean: sentences contain quote characters (so quoting is disabled), a few bytes are not UTF-8,
some PRESS_TIME values are floats such as `1.473278e+12`, KEYSTROKE_ID is not always in press
order (the metrics order by press time) and some rows are malformed.

Each row passes the same rules as a live browser batch (`row_checks`, from `capture`). A row
that breaks one, a malformed row, a row holding a NUL byte, an unsafe id or a repeated key is
dropped and counted against its file under that reason; a line with bytes that are not UTF-8 is
kept with U+FFFD in their place and counted (`lossy`); a file that cannot be read (a broken
link, no permission) is reported by name. None of these stops an import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from flowtype_core.capture import KEY_NAMES
from flowtype_core.corpus import text_sentence_id
from flowtype_core.datasets.row_checks import broken_rule
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.progress import Progress
from flowtype_core.recorder import completed_sessions, sections_from_keystrokes
from flowtype_core.schema import KEYSTROKES

AALTO_COLUMNS = (
    "PARTICIPANT_ID",
    "TEST_SECTION_ID",
    "SENTENCE",
    "USER_INPUT",
    "KEYSTROKE_ID",
    "PRESS_TIME",
    "RELEASE_TIME",
    "LETTER",
    "KEYCODE",
)
FILE_PATTERN = "*_keystrokes.txt"
SESSION_ID = "aalto"
# Dataset typists live in their own id space (`109` -> `aalto-109`), so a file can never name an
# account's data; an id already in the space (a re-imported export) is kept as it is.
PARTICIPANT_PREFIX = "aalto-"
FILES_PER_BATCH = 32
MALFORMED = "malformed"
NUL_BYTE = "nul_byte"
UNSAFE_ID = "unsafe_id"
DUPLICATE_KEY = "duplicate_key"
# Some files spell Backspace as its ASCII control code (keyCode 8) instead of BKSP; it is given
# the capture's name for the key, and counted per file (`FileReport.renamed`).
BACKSPACE_CODE = "\x08"
_INTEGER_FIELDS = {
    "KEYSTROKE_ID": pl.Int64,
    "PRESS_TIME": pl.Int64,
    "RELEASE_TIME": pl.Int64,
    "KEYCODE": pl.Int32,
}
_REQUIRED_FIELDS = ("KEYSTROKE_ID", "PRESS_TIME")
_OPTIONAL_FIELDS = ("RELEASE_TIME", "KEYCODE")
KEY = ("PARTICIPANT_ID", "TEST_SECTION_ID", "KEYSTROKE_ID")


@dataclass(frozen=True)
class FileReport:
    """What one file contributed: data rows seen, rows kept, dropped rows per reason, lossy rows."""

    file: str
    rows: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)
    lossy: int = 0  # kept with U+FFFD for bytes that are not UTF-8
    renamed: int = 0  # LETTER written as the Backspace control code, stored as BKSP

    @property
    def malformed(self) -> int:
        """Every row left out, whatever the reason."""
        return self.rows - self.kept


@dataclass(frozen=True)
class AaltoImport:
    """Frames ready for `Recorder.ingest`, conforming to `schema.KEYSTROKES/SECTIONS/SESSIONS`."""

    keystrokes: pl.DataFrame
    sections: pl.DataFrame
    sessions: pl.DataFrame
    files: tuple[FileReport, ...]
    unreadable: dict[str, str] = field(default_factory=dict)  # file name -> why it could not be read

    @property
    def malformed(self) -> dict[str, int]:
        """Dropped-row count per file name, only for files that had any."""
        return {f.file: f.malformed for f in self.files if f.malformed}

    @property
    def dropped(self) -> dict[str, int]:
        """Dropped rows per reason over all files."""
        total: Counter[str] = Counter()
        for f in self.files:
            total.update(f.dropped)
        return dict(sorted(total.items()))


def _number(field: str) -> pl.Expr:
    """Integer fields, accepting float spellings (`1.473278e+12`); anything else becomes null."""
    as_float = pl.col(field).str.strip_chars().cast(pl.Float64, strict=False)
    whole = as_float.is_finite() & (as_float.round() == as_float)
    return pl.when(whole).then(as_float).cast(_INTEGER_FIELDS[field], strict=False)


def _parse(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Split raw lines into typed fields and a `_valid` flag; header and blank lines are dropped.

    Valid: exactly nine fields, ids present, keystroke id and press time are whole numbers, and
    release time and keycode are whole numbers or empty (a key never released, an unknown code).
    """
    line = pl.col("line").str.strip_suffix("\r")
    fields = line.str.split_exact("\t", len(AALTO_COLUMNS) - 1).struct.rename_fields(list(AALTO_COLUMNS))
    parsed_or_empty = [
        pl.col(c).is_not_null() | (pl.col(f"_{c}").str.strip_chars() == "") for c in _OPTIONAL_FIELDS
    ]
    valid = pl.all_horizontal(
        line.str.count_matches("\t", literal=True) == len(AALTO_COLUMNS) - 1,
        pl.col("PARTICIPANT_ID") != "",
        pl.col("TEST_SECTION_ID") != "",
        *(pl.col(c).is_not_null() for c in _REQUIRED_FIELDS),
        *parsed_or_empty,
    )
    return (
        lines.filter(pl.col("line").is_not_null() & ~pl.col("line").str.starts_with(AALTO_COLUMNS[0]))
        .with_columns(fields.alias("_fields"))
        .unnest("_fields")
        .with_columns(pl.col(c).alias(f"_{c}") for c in _OPTIONAL_FIELDS)
        .with_columns(
            *(_number(c) for c in _INTEGER_FIELDS),
            pl.col("PARTICIPANT_ID").str.strip_chars(),
            pl.col("TEST_SECTION_ID").str.strip_chars(),
        )
        .with_columns(valid.fill_null(value=False).alias("_valid"))
    )


def _decode(raw: bytes) -> tuple[list[str], int, int]:
    """A file's non-blank lines as text, lines dropped for a NUL byte, lines decoded lossily."""
    try:
        text, lossy = raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        parts = []
        lossy = 0
        for line in raw.split(b"\n"):
            try:
                parts.append(line.decode("utf-8"))
            except UnicodeDecodeError:
                parts.append(line.decode("utf-8", errors="replace"))
                lossy += 1
        text = "\n".join(parts)
    lines = [line for line in text.split("\n") if line.strip("\r")]
    if "\x00" not in text:
        return lines, 0, lossy
    clean = [line for line in lines if "\x00" not in line]
    return clean, len(lines) - len(clean), lossy


def _read_lines(
    paths: Sequence[Path], unreadable: dict[str, str], nul: Counter[str], lossy: Counter[str]
) -> pl.LazyFrame:
    """The batch's lines with their file; unreadable files are noted and skipped."""
    lines: list[str] = []
    owners: list[str] = []
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError as exc:  # a broken link, a folder, no permission: the rest still imports
            unreadable[path.name] = f"{type(exc).__name__}: {exc.strerror or exc}"
            continue
        text, nul[str(path)], lossy[str(path)] = _decode(raw)
        lines += text
        owners += [str(path)] * len(text)
    return pl.LazyFrame({"line": lines, "_file": owners}, schema={"line": pl.String, "_file": pl.String})


def _rejected_ids(values: pl.Series, what: str) -> list[str]:
    """The distinct ids that could not become a path part (checked once per id, not per row)."""
    rejected = []
    for value in values.unique().to_list():
        try:
            check_id(value, what)
        except InvalidInput:
            rejected.append(value)
    return rejected


def _keystrokes(rows: pl.DataFrame, created_at: datetime) -> pl.DataFrame:
    frame = rows.select(
        pl.col("PARTICIPANT_ID").alias("participant_id"),
        pl.lit(SESSION_ID).alias("session_id"),
        pl.col("TEST_SECTION_ID").alias("test_section_id"),
        pl.col("SENTENCE").fill_null("").alias("sentence"),
        pl.col("USER_INPUT").fill_null("").alias("user_input"),
        pl.col("KEYSTROKE_ID").alias("keystroke_id"),
        pl.col("PRESS_TIME").alias("press_time"),
        pl.col("RELEASE_TIME").alias("release_time"),
        # An empty LETTER (the dataset has many) means the character is unknown.
        pl.col("LETTER").replace("", None).alias("letter"),
        pl.col("KEYCODE").alias("keycode"),
        pl.lit(created_at).cast(KEYSTROKES.columns["created_at"]).alias("created_at"),
    )
    return KEYSTROKES.conform(frame)


def read_aalto(directory: str | Path, *, progress: Progress | None = None) -> AaltoImport:
    """Read every `<id>_keystrokes.txt` in `directory` into table-shaped frames.

    Each file is one session (`session_id = "aalto"`) of its participant, whose id is the file's
    PARTICIPANT_ID in the dataset's own id space (`aalto-<id>`); `created_at` is the
    import time; sessions start and end at their first and last key press. `progress(fraction,
    message)` is called as batches of files are read (it suits `st.progress`).
    """
    paths = sorted(Path(directory).glob(FILE_PATTERN))
    if not paths:
        raise InvalidInput(f"no {FILE_PATTERN} files in {directory}")
    created_at = datetime.now(UTC)
    batches: list[pl.DataFrame] = []
    unreadable: dict[str, str] = {}
    nul: Counter[str] = Counter()
    lossy: Counter[str] = Counter()
    for start in range(0, len(paths), FILES_PER_BATCH):
        batch = paths[start : start + FILES_PER_BATCH]
        batches.append(_parse(_read_lines(batch, unreadable, nul, lossy)).collect())
        if progress is not None:
            done = start + len(batch)
            progress(0.9 * done / len(paths), f"read {done}/{len(paths)} files")
    parsed = pl.concat(batches)
    pid = pl.col("PARTICIPANT_ID")
    parsed = parsed.with_columns(
        pl.when(pid.str.starts_with(PARTICIPANT_PREFIX))
        .then(pid)
        .otherwise(PARTICIPANT_PREFIX + pid)
        .alias("PARTICIPANT_ID"),
        pl.col("LETTER").replace(BACKSPACE_CODE, KEY_NAMES["Backspace"]),
        (pl.col("LETTER") == BACKSPACE_CODE).fill_null(value=False).alias("_renamed"),
    )
    valid = parsed.filter("_valid")
    # Unsafe ids could not become path parts; a repeated key would break the upsert (keep the first).
    unsafe = pl.any_horizontal(pl.col(c).is_in(_rejected_ids(valid.get_column(c), c)) for c in KEY[:2])
    reason = (
        pl.when(~pl.col("_valid"))
        .then(pl.lit(MALFORMED))
        .when(unsafe)
        .then(pl.lit(UNSAFE_ID))
        .otherwise(broken_rule(valid))
    )
    judged = parsed.with_columns(reason.alias("_reason"))
    passed = judged.filter(pl.col("_reason").is_null())
    kept = passed.unique(KEY, keep="first", maintain_order=True)
    dropped = pl.concat(
        [
            judged.filter(pl.col("_reason").is_not_null()).select("_file", "_reason"),
            passed.filter(~pl.struct(KEY).is_first_distinct())
            .select("_file")
            .with_columns(pl.lit(DUPLICATE_KEY).alias("_reason")),
        ]
    )
    reasons: dict[str, dict[str, int]] = {}
    for file, why, count in dropped.group_by("_file", "_reason").len().iter_rows():
        reasons.setdefault(file, {})[why] = count
    for file, count in nul.items():
        if count:
            reasons.setdefault(file, {})[NUL_BYTE] = count
    rows = dict(parsed.group_by("_file").len().iter_rows())
    kept_rows = dict(kept.group_by("_file").len().iter_rows())
    renamed = dict(kept.group_by("_file").agg(pl.col("_renamed").sum()).iter_rows())
    files = tuple(
        FileReport(
            p.name,
            rows.get(str(p), 0) + nul[str(p)],
            kept_rows.get(str(p), 0),
            dict(sorted(reasons.get(str(p), {}).items())),
            lossy[str(p)],
            int(renamed.get(str(p), 0)),
        )
        for p in paths
        if p.name not in unreadable
    )
    keystrokes = _keystrokes(kept, created_at)
    ids = {
        text: text_sentence_id(text, "aalto") for text in keystrokes.get_column("sentence").unique().to_list()
    }
    section_ids = dict(
        keystrokes.select("test_section_id", pl.col("sentence").replace_strict(ids).alias("sentence_id"))
        .unique("test_section_id")
        .iter_rows()
    )
    sections = sections_from_keystrokes(keystrokes, section_ids)
    if progress is not None:
        progress(1.0, f"{keystrokes.height} keystrokes in {sections.height} sections")
    return AaltoImport(keystrokes, sections, completed_sessions(sections), files, unreadable)
