"""Data-dir integrity check (issue 20 item 4): what a crash, a full disk or a bad copy left behind.

Reads the data dir as files, never through a workbench, so a broken table cannot stop the check
that is meant to find it. `repair` removes only what is safe to remove: temp files a killed writer
left (the real file beside them is the previous complete version).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from deltalake import DeltaTable

from flowtype_core.errors import InvalidInput
from flowtype_core.store.csv_store import FILES, read_csv_files

# A temp file younger than this may belong to a writer still running: reported, never removed.
STALE_TEMP_S = 10 * 60
STALE_OUTBOX_S = 24 * 3600

UNREADABLE_CSV = "unreadable_csv"
PARTIAL_CSV = "partial_csv"
STRAY_TEMP = "stray_temp"
BROKEN_DELTA = "delta_unloadable"
OLD_OUTBOX = "outbox_entry_older_than_a_day"
BROKEN_OUTBOX = "outbox_entry_unreadable"


@dataclass(frozen=True)
class Problem:
    """One finding: its kind, the file or folder (relative to the data dir) and what is wrong."""

    kind: str
    path: str
    detail: str


@dataclass
class IntegrityReport:
    """Everything the check found, what `repair` removed, and how much it looked at."""

    data_dir: str
    problems: list[Problem] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(
        default_factory=lambda: {"csv_files": 0, "delta_tables": 0, "outbox_entries": 0}
    )

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for problem in self.problems:
            counts[problem.kind] = counts.get(problem.kind, 0) + 1
        return {
            "data_dir": self.data_dir,
            "ok": self.ok,
            "checked": self.checked,
            "counts": counts,
            "problems": [asdict(p) for p in self.problems],
            "repaired": self.repaired,
        }


# Columns every version of the store has written; newer ones are added in place by migration.
REQUIRED_COLUMNS = ("participant_id", "session_id")


def _check_csv(path: Path, relative: str) -> tuple[Problem | None, pl.DataFrame | None]:
    """Parse one session file as the store does; a truncated or mistyped file is a problem."""
    try:
        raw = path.read_bytes()
        header = raw.lstrip(b"\r\n").split(b"\n", 1)[0].decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(UNREADABLE_CSV, relative, f"cannot read: {exc}"[:300]), None
    if raw and not raw.endswith(b"\n"):
        return Problem(PARTIAL_CSV, relative, "the last line is cut off (no final line break)"), None
    spec = FILES[path.name]
    present = [c for c in spec.columns if c in header.split(",")]
    missing = [c for c in REQUIRED_COLUMNS if c not in present]
    if raw.strip() and missing:
        return Problem(PARTIAL_CSV, relative, f"missing column(s) {', '.join(missing)}"), None
    try:
        return None, read_csv_files([path], spec, present or None)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        return Problem(UNREADABLE_CSV, relative, f"does not parse: {str(exc).splitlines()[0]}"[:300]), None


def _check_session(folder: Path, root: Path, report: IntegrityReport) -> None:
    frames: dict[str, pl.DataFrame] = {}
    broken = False
    for name in FILES:
        path = folder / name
        if not path.exists():
            continue
        report.checked["csv_files"] += 1
        problem, frame = _check_csv(path, str(path.relative_to(root)))
        if problem is not None:
            report.problems.append(problem)
            broken = True
        elif frame is not None:
            frames[name] = frame
    sections, keystrokes = frames.get("sections.csv"), frames.get("keystrokes.csv")
    if broken or sections is None or "keystroke_count" not in sections.columns:
        return  # a broken file is reported; comparing it with its neighbours would only repeat that
    counts = (
        keystrokes.group_by("test_section_id").agg(pl.len().alias("on_disk"))
        if keystrokes is not None
        else pl.DataFrame(schema={"test_section_id": pl.String, "on_disk": pl.UInt32})
    )
    short = sections.join(counts, on="test_section_id", how="left").filter(
        pl.col("on_disk").fill_null(0) != pl.col("keystroke_count")
    )
    for row in short.iter_rows(named=True):
        report.problems.append(
            Problem(
                PARTIAL_CSV,
                str((folder / "keystrokes.csv").relative_to(root)),
                f"section {row['test_section_id']} lists {row['keystroke_count']} key presses, "
                f"{row['on_disk'] or 0} are on disk",
            )
        )


def _check_delta(table: Path, root: Path, report: IntegrityReport) -> None:
    report.checked["delta_tables"] += 1
    try:
        dt = DeltaTable(str(table))
        dt.schema()
        missing = [f for f in dt.file_uris() if not Path(f.removeprefix("file://")).exists()]
        if missing:
            raise OSError(f"{len(missing)} data file(s) missing, e.g. {Path(missing[0]).name}")
    except Exception as exc:  # any failure to load is the finding itself
        report.problems.append(Problem(BROKEN_DELTA, str(table.relative_to(root)), f"{exc}"[:300]))


def _check_outbox(root: Path, report: IntegrityReport, now: float) -> None:
    for path in sorted((root / "outbox").glob("*/*.json")):
        report.checked["outbox_entries"] += 1
        relative = str(path.relative_to(root))
        try:
            entry = json.loads(path.read_text("utf-8"))
            age = now - int(entry["seq"]) / 1e9
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.problems.append(Problem(BROKEN_OUTBOX, relative, f"cannot read: {exc}"[:300]))
            continue
        if age > STALE_OUTBOX_S:
            error = str(entry.get("last_error", ""))[:200]
            detail = f"waiting {age / 3600:.1f} h after {entry.get('attempts', 0)} attempt(s)"
            report.problems.append(
                Problem(OLD_OUTBOX, relative, detail + (f"; last error: {error}" if error else ""))
            )


def _check_temps(root: Path, report: IntegrityReport, now: float, repair: bool) -> None:
    for path in sorted(root.rglob(".*.tmp")):
        with contextlib.suppress(FileNotFoundError):
            age = now - path.stat().st_mtime
            relative = str(path.relative_to(root))
            if age < STALE_TEMP_S:
                continue  # a writer may still be running
            if repair:
                path.unlink()
                report.repaired.append(relative)
            else:
                report.problems.append(
                    Problem(STRAY_TEMP, relative, f"left by a writer that stopped {age / 60:.0f} min ago")
                )


def check_data_dir(
    data_dir: str | Path, *, repair: bool = False, now: float | None = None
) -> IntegrityReport:
    """Check every session CSV, Delta table and outbox entry under `data_dir`.

    With `repair`, stray temp files older than `STALE_TEMP_S` are removed and listed as repaired;
    everything else is only reported (it needs a person: a resync, a restore, a look).
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise InvalidInput(f"no data directory at {root}")
    now = time.time() if now is None else now
    report = IntegrityReport(str(root))
    _check_temps(root, report, now, repair)
    for folder in sorted(p for p in (root / "sessions").glob("*/*") if p.is_dir()):
        _check_session(folder, root, report)
    for log in sorted(root.rglob("_delta_log")):
        _check_delta(log.parent, root, report)
    _check_outbox(root, report, now)
    return report
