"""The built-in corpus: enough varied, safe sentences with stable ids, and picks that honour exclusions."""

from __future__ import annotations

import re
import string

import pytest

from flowtype_core.corpus import Sentence, get_sentence, load_corpus, parse_corpus, pick_sentences
from flowtype_core.errors import InvalidInput


def test_corpus_is_large_and_every_sentence_is_typeable() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 220
    assert len({s.id for s in corpus}) == len(corpus)
    assert len({s.text for s in corpus}) == len(corpus)
    for sentence in corpus:
        assert re.fullmatch(r"s\d{4}", sentence.id), sentence
        assert 25 <= len(sentence.text) <= 80, sentence
        assert set(sentence.text) <= set(string.printable) - set("\t\n\r\x0b\x0c"), sentence


def test_corpus_difficulty_varies() -> None:
    texts = [s.text for s in load_corpus()]
    plain = [t for t in texts if re.fullmatch(r"[a-z ]+", t)]
    with_capitals = [t for t in texts if re.search(r"[A-Z]", t)]
    with_digits = [t for t in texts if re.search(r"\d", t)]
    with_punctuation = [t for t in texts if re.search(r"[^\w\s]", t)]
    assert len(plain) >= len(texts) / 3
    assert len(with_capitals) >= 30
    assert len(with_digits) >= 30
    assert len(with_punctuation) >= 30
    lengths = sorted(len(t) for t in texts)
    assert lengths[0] < 35 and lengths[-1] > 70


def test_load_corpus_is_cached_and_ids_are_stable() -> None:
    assert load_corpus() is load_corpus()
    assert load_corpus()[0] == Sentence("s0001", "The library has over 40,000 books.")
    assert [s.id for s in load_corpus()] == [f"s{i:04d}" for i in range(1, len(load_corpus()) + 1)]


def test_get_sentence_finds_by_id_and_rejects_unknown_ids() -> None:
    last = load_corpus()[-1]
    assert get_sentence(last.id) is last
    with pytest.raises(InvalidInput, match="unknown sentence id 's9999'"):
        get_sentence("s9999")
    with pytest.raises(InvalidInput, match="unknown sentence id"):
        get_sentence(["s0001"])  # type: ignore[arg-type]


def test_sentence_is_frozen() -> None:
    sentence = get_sentence("s0001")
    with pytest.raises(AttributeError):
        sentence.text = "changed"  # type: ignore[misc]


def test_pick_sentences_is_repeatable_with_a_seed_and_distinct() -> None:
    first = pick_sentences(15, seed=7)
    assert first == pick_sentences(15, seed=7)
    assert len({s.id for s in first}) == 15
    assert first != pick_sentences(15, seed=8)


def test_pick_sentences_honours_exclusions() -> None:
    corpus = load_corpus()
    excluded = [s.id for s in corpus[:-3]]
    picked = pick_sentences(3, seed=1, exclude=excluded)
    assert {s.id for s in picked} == {s.id for s in corpus[-3:]}
    assert pick_sentences(0, exclude=excluded) == []
    with pytest.raises(InvalidInput, match="cannot pick 4 sentences: 3 are available"):
        pick_sentences(4, exclude=excluded)
    with pytest.raises(InvalidInput, match="cannot pick -1"):
        pick_sentences(-1)


def test_pick_sentences_without_seed_varies() -> None:
    picks = {tuple(s.id for s in pick_sentences(5)) for _ in range(5)}
    assert len(picks) > 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id\ttext\ns0001\thello there", "first line must be"),
        ("sentence_id\tsentence\n", "no sentences"),
        ("sentence_id\tsentence\ns0001\tone\ttwo", "line 2: expected one tab"),
        (
            "sentence_id\tsentence\ns0001 no tab here",
            "line 2: expected one tab between id and sentence, got 0",
        ),
        ("sentence_id\tsentence\ns0001\tfine\ns0001\tagain", "line 3: duplicate sentence id 's0001'"),
        ("sentence_id\tsentence\n../x\tsneaky", "line 2: sentence id '../x' is not a valid id"),
        ("sentence_id\tsentence\ns0001\t", "line 2: sentence is blank"),
        ("sentence_id\tsentence\ns0001\t padded", "leading/trailing spaces"),
        ("sentence_id\tsentence\ns0001\tcaf\u00e9 au lait", "line 2: sentence must be printable ASCII"),
        ("sentence_id\tsentence\ns0001\tbell\x07", "printable ASCII"),
    ],
)
def test_parse_corpus_rejects_bad_files_with_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_corpus(text, source="bad.tsv")


def test_parse_corpus_accepts_a_small_valid_file() -> None:
    parsed = parse_corpus('sentence_id\tsentence\na1\tHe said "hi", twice.\nb2\tok: 1 + 1 = 2\n')
    assert parsed == (Sentence("a1", 'He said "hi", twice.'), Sentence("b2", "ok: 1 + 1 = 2"))
