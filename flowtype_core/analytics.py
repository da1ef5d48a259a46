"""Queries behind the dashboards and the `metrics` command: filtered data, summaries, exports.

Everything reads from the lakehouse (the first configured one) and computes with the shared
metric definitions, so a notebook, the CLI and the Analytics page show the same numbers.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import polars as pl

from flowtype_core import metrics
from flowtype_core.keyboard import BACKSPACE, key_of
from flowtype_core.lakehouse.base import Lakehouse
from flowtype_core.metrics import SECTION_IDS
from flowtype_core.scalars import number, number_or_none


@dataclass(frozen=True)
class Filters:
    """What the analyst narrowed the data to; `participants` is forced for participant users.

    `sessions` are (participant_id, session_id) pairs: imported typists share session names
    (every Aalto typist has the session "aalto"), so a name alone would select them all.
    """

    participants: tuple[str, ...] = ()
    sessions: tuple[tuple[str, str], ...] = ()
    start: date | None = None
    end: date | None = None
    valid_only: bool = True  # leave out sections the quality rules marked invalid (issue 13)
    study: str | None = None  # only sections typed in this study (issue 17) ...
    condition: str | None = None  # ... and in this condition of it

    def describe(self) -> str:
        """The narrowing in words, for an empty state that names its cause."""
        parts = []
        if self.participants:
            parts.append(
                f"{_plural(len(self.participants), 'participant')} ({', '.join(self.participants[:3])}…)"
            )
        if self.sessions:
            parts.append(_plural(len(self.sessions), "session"))
        if self.start is not None or self.end is not None:
            parts.append(f"dates {self.start or '…'} to {self.end or '…'}")
        if self.study is not None:
            parts.append(f"study {self.study}" + (f", condition {self.condition}" if self.condition else ""))
        return ", ".join(parts) or "no filter"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def load_keystrokes(lakehouse: Lakehouse, filters: Filters = Filters()) -> pl.DataFrame:
    """Keystrokes matching the filters (participant, session, press date range, validity)."""
    frame = _narrowed(_read(lakehouse, "keystrokes", filters), filters, "press_time")
    if filters.study is not None:
        chosen = _in_study(_read(lakehouse, "sections", filters), filters).select(SECTION_IDS)
        frame = frame.join(chosen, on=list(SECTION_IDS), how="semi", maintain_order="left")
    if filters.valid_only:
        invalid = excluded_sections(lakehouse, filters).select(SECTION_IDS)
        frame = frame.join(invalid, on=list(SECTION_IDS), how="anti", maintain_order="left")
    return frame


def excluded_sections(lakehouse: Lakehouse, filters: Filters = Filters()) -> pl.DataFrame:
    """The filtered selection's sections that the quality rules marked invalid, with their flags.

    These are what `valid_only` leaves out; the page shows how many and why.
    """
    sections = _in_study(_narrowed(_read(lakehouse, "sections", filters), filters, "started_at"), filters)
    return sections.filter(pl.col("valid").not_()).select(*SECTION_IDS, "quality_flags")


def flag_counts(excluded: pl.DataFrame) -> dict[str, int]:
    """Sections per quality rule (a section breaking two rules counts under both), most common first."""
    rules = excluded.select(pl.col("quality_flags").fill_null("").str.split(",").explode().str.strip_chars())
    counts = (
        rules.filter(pl.col("quality_flags") != "")
        .group_by("quality_flags")
        .len()
        .sort("len", "quality_flags", descending=[True, False])
    )
    return dict(counts.rows())


def _read(lakehouse: Lakehouse, table: str, filters: Filters) -> pl.DataFrame:
    if len(filters.participants) == 1:
        return lakehouse.read_table(table, participant_id=filters.participants[0])
    frame = lakehouse.read_table(table)
    if filters.participants:
        frame = frame.filter(pl.col("participant_id").is_in(list(filters.participants)))
    return frame


def _in_study(sections: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    if filters.study is None:
        return sections
    sections = sections.filter(pl.col("study_id") == filters.study)
    return (
        sections if filters.condition is None else sections.filter(pl.col("condition") == filters.condition)
    )


def study_choices(lakehouse: Lakehouse) -> dict[str, list[str]]:
    """Studies that have sections in the lakehouse, each with its conditions, for filter widgets."""
    pairs = (
        lakehouse.read_table("sections")
        .select("study_id", "condition")
        .drop_nulls("study_id")
        .unique()
        .sort("study_id", "condition")
    )
    choices: dict[str, list[str]] = {}
    for study, condition in pairs.iter_rows():
        choices.setdefault(study, [])
        if condition is not None:
            choices[study].append(condition)
    return choices


def _narrowed(frame: pl.DataFrame, filters: Filters, moment: str) -> pl.DataFrame:
    """Rows of the chosen sessions whose `moment` (epoch ms or a timestamp) falls in the date range."""
    if filters.sessions:
        chosen = pl.DataFrame(list(filters.sessions), schema=["participant_id", "session_id"], orient="row")
        frame = frame.join(chosen, on=["participant_id", "session_id"], how="semi", maintain_order="left")
    when = pl.col(moment) if frame.schema[moment].is_integer() else pl.col(moment).dt.epoch("ms")
    if filters.start is not None:
        frame = frame.filter(when >= _ms(datetime.combine(filters.start, time.min)))
    if filters.end is not None:
        frame = frame.filter(when <= _ms(datetime.combine(filters.end, time.max)))
    return frame


def session_choices(lakehouse: Lakehouse, participants: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(participant, session) pairs in the lakehouse (what the dashboards read), for filter widgets."""
    sessions = lakehouse.read_table("sessions").select("participant_id", "session_id").unique()
    if participants:
        sessions = sessions.filter(pl.col("participant_id").is_in(list(participants)))
    return sessions.sort("participant_id", "session_id").rows()


def _ms(moment: datetime) -> int:
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def population_summary(keystrokes: pl.DataFrame | pl.LazyFrame) -> dict[str, float | int | None]:
    """The population table (SPEC §3.5) for these keystrokes, as the `metrics --json` keys."""
    return metrics.population_summary(metrics.participant_metrics(metrics.section_metrics(keystrokes)))


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """CSV for spreadsheets: text cells that a spreadsheet would run as a formula are neutralised."""
    safe = frame.with_columns(
        pl.when(pl.col(c).str.contains(r"^[=+\-@\t\r]"))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c, dtype in frame.schema.items()
        if dtype == pl.String
    )
    buffer = io.BytesIO()
    safe.write_csv(buffer)
    return buffer.getvalue()


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """Parquet keeps values exactly as stored (no spreadsheet risk, so no neutralising)."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Dashboard:
    """Everything the Analytics page draws, computed once per filter and data version.

    Only aggregates: no frame here is keystroke-sized, so caching it and sending its figures is
    cheap; the filtered keystrokes themselves are re-read only when an export is asked for.
    """

    keystrokes: int
    sections: pl.DataFrame
    participants: pl.DataFrame
    digraphs: pl.DataFrame  # first, second (keys), latency_ms, count
    keys: pl.DataFrame  # key, presses, iki_mean_ms, hold_mean_ms, error_rate (null for backspace)
    confusion: pl.DataFrame  # intended, pressed, count
    iki_bins: pl.DataFrame  # bin_start, bin_end, count
    hold_bins: pl.DataFrame
    summary: dict[str, float | int | None]


def build_dashboard(keystrokes: pl.DataFrame) -> Dashboard:
    """Section and participant metrics, per-key, digraph and confusion tables, timing histograms."""
    features = metrics.keystroke_features(keystrokes)
    sections = metrics.section_metrics(features)
    participants = metrics.participant_metrics(sections)
    presses = _with_next_letter(features)
    return Dashboard(
        keystrokes=keystrokes.height,
        sections=sections,
        participants=participants,
        digraphs=digraph_table(presses),
        keys=key_table(presses),
        confusion=confusions(presses),
        iki_bins=histogram(features.get_column("iki_ms"), start=0, stop=1500, width=25),
        hold_bins=histogram(features.get_column("hold_ms"), start=0, stop=600, width=10),
        summary=metrics.population_summary(participants) if participants.height else {},
    )


def _with_next_letter(features: pl.DataFrame) -> pl.DataFrame:
    """Per-press features plus `next_letter`, the next press of the same section.

    `features` is in press order, section by section (as `keystroke_features` returns it on
    polars), so the next press is simply the next row when it belongs to the same section.
    """
    same_section = pl.all_horizontal(pl.col(c) == pl.col(c).shift(-1) for c in SECTION_IDS)
    return features.select(
        "letter",
        "prev_letter",
        "iki_ms",
        "hold_ms",
        pl.when(same_section).then(pl.col("letter").shift(-1)).alias("next_letter"),
    )


def _folded(counts: pl.DataFrame, by: tuple[str, ...]) -> pl.DataFrame:
    """Sums per character folded into sums per key (A and a are one key): exact, and cheap, since
    the per-character table is small while folding every press would touch a million strings."""
    return counts.with_columns(key_of(pl.col(c)) for c in by).group_by(*by).agg(pl.all().sum())


def key_table(presses: pl.DataFrame) -> pl.DataFrame:
    """Per key: presses, mean IKI into it, mean hold, and the share of its presses undone by the next
    backspace (its error rate; null for backspace itself, whose repeat is one longer correction)."""
    per_char = presses.group_by("letter").agg(
        pl.len().alias("presses"),
        pl.col("iki_ms").sum().alias("_iki_sum"),
        pl.col("iki_ms").count().alias("_iki_n"),
        pl.col("hold_ms").sum().alias("_hold_sum"),
        pl.col("hold_ms").count().alias("_hold_n"),
        (pl.col("next_letter") == BACKSPACE).sum().alias("_undone"),
    )
    return (
        _folded(per_char.filter(pl.col("letter").is_not_null()), ("letter",))
        .select(
            pl.col("letter").alias("key"),
            pl.col("presses").cast(pl.Int64),
            (pl.col("_iki_sum") / pl.col("_iki_n")).alias("iki_mean_ms"),
            (pl.col("_hold_sum") / pl.col("_hold_n")).alias("hold_mean_ms"),
            pl.when(pl.col("letter") != BACKSPACE)
            .then(pl.col("_undone") / pl.col("presses"))
            .alias("error_rate"),
        )
        .sort("presses", descending=True)
    )


def at_least(frame: pl.DataFrame, column: str, least: int) -> pl.DataFrame:
    """The rows with `column` >= `least`: keys and pairs seen too rarely give no stable figure."""
    return frame.filter(pl.col(column) >= least)


def _single(column: str) -> pl.Expr:
    return pl.col(column).str.len_chars() == 1


def digraph_table(presses: pl.DataFrame) -> pl.DataFrame:
    """Per key pair (first, second): mean latency (the IKI into the second key) and count."""
    per_pair = (
        presses.filter(_single("prev_letter") & _single("letter") & pl.col("iki_ms").is_not_null())
        .group_by("prev_letter", "letter")
        .agg(pl.col("iki_ms").sum().alias("_sum"), pl.len().alias("count"))
    )
    return _folded(per_pair, ("prev_letter", "letter")).select(
        pl.col("prev_letter").alias("first"),
        pl.col("letter").alias("second"),
        (pl.col("_sum") / pl.col("count")).alias("latency_ms"),
        pl.col("count").cast(pl.Int64),
    )


def confusions(presses: pl.DataFrame) -> pl.DataFrame:
    """Corrected slips as (intended key, pressed key, count): X, backspace, Y in a row reads "meant Y, hit X"."""
    slips = (
        presses.filter((pl.col("letter") == BACKSPACE) & _single("prev_letter") & _single("next_letter"))
        .group_by(pl.col("next_letter").alias("intended"), pl.col("prev_letter").alias("pressed"))
        .agg(pl.len().alias("count"))
    )
    return (
        _folded(slips, ("intended", "pressed"))
        .filter(pl.col("intended") != pl.col("pressed"))
        .with_columns(pl.col("count").cast(pl.Int64))
        .sort("count", "intended", "pressed", descending=[True, False, False])
    )


def histogram(values: pl.Series, *, start: float, stop: float, width: float) -> pl.DataFrame:
    """Counts per bin [start + k·width, start + (k+1)·width) over start <= value < stop.

    Binned here, so a figure carries one bar per bin instead of every value (1.25 MB of JSON
    for 120k presses otherwise).
    """
    bins = (
        pl.DataFrame({"value": values.cast(pl.Float64)})
        .filter((pl.col("value") >= start) & (pl.col("value") < stop))
        .group_by(((pl.col("value") - start) // width).cast(pl.Int64).alias("k"))
        .agg(pl.len().cast(pl.Int64).alias("count"))
    )
    every = pl.DataFrame({"k": range(int(-(-(stop - start) // width)))}, schema={"k": pl.Int64})
    return (
        every.join(bins, on="k", how="left")
        .select(
            (start + pl.col("k") * width).alias("bin_start"),
            (start + (pl.col("k") + 1) * width).alias("bin_end"),
            pl.col("count").fill_null(0),
        )
        .sort("bin_start")
    )


MIN_CELL = 5  # a participant never sees a population bin holding fewer typists than this
MIN_POPULATION = 10  # nor percentile bands or a rank computed from fewer typists


@dataclass(frozen=True)
class Standing:
    """Where one typist stands among the loaded typists, as aggregates only.

    `bins` counts typists per bin (null where the count is below the cell size); `bands` are the
    p10 … p90 of the typists' means (rounded to the bin width when private); `mine` is the
    typist's own value. Nothing here is another person's exact value when `private`.
    """

    bins: pl.DataFrame
    bands: dict[str, float]
    typists: int
    mine: float | None
    percentile: float | None


def standing(participants: pl.DataFrame, metric: str, me: str | None, *, private: bool) -> Standing:
    """The population histogram and bands of `metric` (a `participant_metrics` column) and `me` in it.

    `private` is for a participant's own view: bins under `MIN_CELL` typists are suppressed, bands
    are coarsened to the bin width, and neither bands nor rank are given below `MIN_POPULATION`.
    """
    values = participants.get_column(metric).drop_nulls()
    width = _nice_width(values)
    low = number(values.min()) // width * width if values.len() else 0.0
    high = number(values.max()) // width * width + width if values.len() else width
    bins = histogram(values, start=low, stop=high, width=width).rename({"count": "typists"})
    mine_rows = participants.filter(pl.col("participant_id") == me).get_column(metric) if me else None
    mine = None if mine_rows is None or mine_rows.is_empty() else number_or_none(mine_rows[0])
    bands, pct = percentile_bands(values), percentile_of(values, mine)
    if private:
        bins = bins.with_columns(
            pl.when(pl.col("typists") >= MIN_CELL).then(pl.col("typists")).alias("typists")
        )
        enough = values.len() >= MIN_POPULATION
        bands = {k: round(v / width) * width for k, v in bands.items()} if enough else {}
        pct = round(pct) if enough and pct is not None else None
    return Standing(bins=bins, bands=bands, typists=values.len(), mine=mine, percentile=pct)


def _nice_width(values: pl.Series, target_bins: int = 30) -> float:
    """A bin width of 1, 2 or 5 × 10^k giving about `target_bins` bins over the values' range."""
    spread = number(values.max()) - number(values.min()) if values.len() > 1 else 0.0
    if spread <= 0:
        return 1.0
    raw = spread / target_bins
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def percentile_of(values: pl.Series, value: float | None) -> float | None:
    """Share of `values` at or below `value`, in percent (where a typist stands in a group)."""
    clean = values.drop_nulls()
    if value is None or clean.is_empty():
        return None
    return number((clean <= value).mean()) * 100


def percentile_bands(
    values: pl.Series, quantiles: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)
) -> dict[str, float]:
    """Population bands (p10 … p90) of a metric for drawing a typist's position against them."""
    clean = values.drop_nulls()
    return {f"p{int(q * 100)}": number(clean.quantile(q)) for q in quantiles} if clean.len() else {}
