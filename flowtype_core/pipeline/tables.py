"""The medallion tables (SPEC §3.7): their names, lineage columns, and which CSV file feeds which.

Bronze keeps each CSV file's text as ingested; silver and gold hold typed rows. Every table lives
beside the session tables (`<data-dir>/lakehouse/<name>` locally, `catalog.schema.<name>` on
Databricks).
"""

from __future__ import annotations

from dataclasses import dataclass

from flowtype_core.schema import KEYSTROKES, SECTIONS

SOURCE_FILE = "_source_file"
SOURCE_HASH = "_source_hash"
INGESTED_AT = "_ingested_at"
PROCESSED_AT = "_processed_at"
RULE = "rule"
SECTION_KEY = SECTIONS.key
KEYSTROKE_KEY = KEYSTROKES.key

BRONZE_SOURCES = "bronze_sources"  # what bronze ingested: file, content hash, size, mtime
BRONZE_KEYSTROKES = "bronze_keystrokes"
BRONZE_SECTIONS = "bronze_sections"
SILVER_KEYSTROKES = "silver_keystrokes"
SILVER_QUARANTINE = "silver_quarantine"
GOLD_SECTIONS = "gold_sections"
GOLD_SESSIONS = "gold_sessions"
GOLD_PARTICIPANTS = "gold_participants"
GOLD_DIGRAPHS = "gold_digraphs"
GOLD_RANKER_EXAMPLES = "gold_ranker_examples"
GOLD_RANKER_UNITS = "gold_ranker_units"


@dataclass(frozen=True)
class Source:
    """A per-session CSV file of the session store and the bronze table that keeps its rows."""

    file_name: str
    table: str
    columns: tuple[str, ...]


SOURCES = (
    Source("keystrokes.csv", BRONZE_KEYSTROKES, tuple(KEYSTROKES.columns)),
    # Sections only contribute the sentence id (the corpus id the ranker recommends by).
    Source("sections.csv", BRONZE_SECTIONS, tuple(SECTIONS.columns)),
)

PIPELINE_TABLES = (
    BRONZE_SOURCES,
    BRONZE_KEYSTROKES,
    BRONZE_SECTIONS,
    SILVER_KEYSTROKES,
    SILVER_QUARANTINE,
    GOLD_SECTIONS,
    GOLD_SESSIONS,
    GOLD_PARTICIPANTS,
    GOLD_DIGRAPHS,
    GOLD_RANKER_EXAMPLES,
    GOLD_RANKER_UNITS,
)
