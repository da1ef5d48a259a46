"""The built-in practice sentences, with ids that stay stable so sessions can name what was typed."""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id

HEADER = "sentence_id\tsentence"
_PRINTABLE = frozenset(map(chr, range(0x20, 0x7F)))


@dataclass(frozen=True, slots=True)
class Sentence:
    """One practice sentence; `id` is what sections store, `text` is what the participant types."""

    id: str
    text: str


def parse_corpus(text: str, source: str = "corpus") -> tuple[Sentence, ...]:
    """Parse `sentence_id<TAB>sentence` lines, rejecting anything a typing test could not show.

    Rejected: a wrong header, duplicate or unsafe ids, tabs, non-printable or non-ASCII characters,
    blank or padded sentences; the message names `source` and the line so the file can be fixed.
    """
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        raise InvalidInput(f"{source}: first line must be {HEADER!r}")
    sentences: list[Sentence] = []
    seen: set[str] = set()
    for number, line in enumerate(lines[1:], start=2):
        where = f"{source} line {number}"
        parts = line.split("\t")
        if len(parts) != 2:
            raise InvalidInput(f"{where}: expected one tab between id and sentence, got {len(parts) - 1}")
        sentence_id, sentence = parts
        check_id(sentence_id, f"{where}: sentence id")
        if sentence_id in seen:
            raise InvalidInput(f"{where}: duplicate sentence id {sentence_id!r}")
        if not sentence or sentence != sentence.strip():
            raise InvalidInput(f"{where}: sentence is blank or has leading/trailing spaces")
        if not set(sentence) <= _PRINTABLE:
            raise InvalidInput(f"{where}: sentence must be printable ASCII")
        seen.add(sentence_id)
        sentences.append(Sentence(sentence_id, sentence))
    if not sentences:
        raise InvalidInput(f"{source}: no sentences")
    return tuple(sentences)


@functools.cache
def load_corpus() -> tuple[Sentence, ...]:
    """The built-in corpus, read and validated once per process."""
    path = resources.files(__name__).joinpath("sentences.tsv")
    return parse_corpus(path.read_text(encoding="ascii"), source="sentences.tsv")


@functools.cache
def _by_id() -> dict[str, Sentence]:
    return {sentence.id: sentence for sentence in load_corpus()}


def get_sentence(sentence_id: str) -> Sentence:
    """Look a sentence up by the id a stored section recorded."""
    try:
        return _by_id()[sentence_id]
    except (KeyError, TypeError):
        raise InvalidInput(f"unknown sentence id {str(sentence_id)[:80]!r}") from None


def pick_sentences(n: int, *, seed: int | None = None, exclude: Iterable[str] = ()) -> list[Sentence]:
    """`n` distinct sentences not in `exclude` (ids), in random order; a seed makes the pick repeatable."""
    excluded = set(exclude)
    pool = [sentence for sentence in load_corpus() if sentence.id not in excluded]
    if not 0 <= n <= len(pool):
        raise InvalidInput(f"cannot pick {n} sentences: {len(pool)} are available after exclusions")
    return random.Random(seed).sample(pool, n)


def text_sentence_id(text: str, prefix: str = "txt") -> str:
    """A stable id for a sentence from outside the corpus: the same text always gets the same id."""
    return f"{prefix}_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
