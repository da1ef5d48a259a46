"""A study protocol: what a participant consents to, answers, types, and under which condition.

Protocols are plain data so a researcher can read and diff the YAML file a study is saved as;
`parse_protocol` is the one gate every file, form and CLI edit passes through.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from flowtype_core.corpus import get_sentence, parse_corpus
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.studies.questionnaire import AALTO_QUESTIONNAIRE, Question, parse_questions

SOURCES = ("corpus", "list", "ranker")
MAX_SENTENCES_PER_SESSION = 100
MAX_CONDITIONS = 20
MAX_CONSENT_CHARS = 20_000
DEFAULT_CONSENT = (
    "You will type short English sentences. Every key press and release is timed and stored with "
    "your answers to a short questionnaire, under a pseudonymous id, for research on typing. You "
    "may stop at any time; sentences you finished are kept unless you ask for them to be deleted."
)


@dataclass(frozen=True)
class SentenceSource:
    """Where a session's sentences come from.

    `corpus`: the built-in corpus, or the subset named by `sentence_ids`; `list`: the researcher's
    own sentences (`sentences`, `sentence_id<TAB>sentence` rows as the corpus file has them);
    `ranker`: the trained model picks per typist (falls back to the corpus without a model).
    """

    kind: str = "corpus"
    sentence_ids: tuple[str, ...] = ()
    sentences: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Condition:
    """One arm of the study; `source` overrides the study's sentence source when set."""

    name: str
    feedback: bool = True
    source: SentenceSource | None = None


@dataclass(frozen=True)
class Protocol:
    """One version of a study; `version` is 0 until the repository saves it."""

    study_id: str
    title: str
    consent_text: str = DEFAULT_CONSENT
    questionnaire: tuple[Question, ...] = AALTO_QUESTIONNAIRE
    source: SentenceSource = field(default_factory=SentenceSource)
    sentences_per_session: int = 5
    conditions: tuple[Condition, ...] = (Condition("default"),)
    seed: int = 0
    version: int = 0

    @property
    def protocol_version(self) -> str:
        """What section and session rows store: the version as text, so ids and versions never mix."""
        return str(self.version)

    def condition(self, name: str) -> Condition:
        for condition in self.conditions:
            if condition.name == name:
                return condition
        raise InvalidInput(f"study {self.study_id!r} has no condition {name!r}")

    def source_for(self, condition: str) -> SentenceSource:
        return self.condition(condition).source or self.source

    def with_version(self, version: int) -> Protocol:
        return replace(self, version=version)

    def to_dict(self) -> dict[str, Any]:
        """The YAML shape (lists, not tuples; no version: the file name carries it)."""
        data = _plain(asdict(self))
        data.pop("version")
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _text(data: dict[str, Any], key: str, default: str, limit: int) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{key} must be non-empty text")
    if len(value) > limit:
        raise InvalidInput(f"{key} is {len(value)} characters; the limit is {limit}")
    return value.strip()


def _int(data: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{key} must be a whole number from {low} to {high}")
    return value


def parse_source(data: Any, where: str) -> SentenceSource:
    """Check a sentence source: known kind, corpus ids that exist, a well-formed own list."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{where} must be a mapping with a 'kind'")
    kind = data.get("kind", "corpus")
    if kind not in SOURCES:
        raise InvalidInput(f"{where}.kind must be one of {', '.join(SOURCES)}, not {str(kind)[:40]!r}")
    ids = tuple(data.get("sentence_ids") or ())
    for sentence_id in ids:
        get_sentence(check_id(sentence_id, f"{where} sentence id"))
    rows = tuple(tuple(row) for row in data.get("sentences") or ())
    if kind == "list":
        if not rows:
            raise InvalidInput(f"{where}: a 'list' source needs sentences")
        body = "\n".join(["sentence_id\tsentence", *(f"{i}\t{t}" for i, t in rows)])
        rows = tuple((s.id, s.text) for s in parse_corpus(body, where))
    return SentenceSource(kind, ids, rows)


def parse_protocol(data: Any, *, version: int = 0) -> Protocol:
    """Validate a protocol mapping (from YAML, a form or the CLI); the error names the field."""
    if not isinstance(data, dict):
        raise InvalidInput("a study protocol must be a mapping of fields")
    known = {f for f in Protocol.__dataclass_fields__ if f != "version"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InvalidInput(f"unknown protocol fields: {', '.join(map(str, unknown))[:200]}")
    study_id = check_id(data.get("study_id"), "study_id")
    conditions_data = data.get("conditions") or [{"name": "default"}]
    if not isinstance(conditions_data, list) or not 1 <= len(conditions_data) <= MAX_CONDITIONS:
        raise InvalidInput(f"conditions must be a list of 1 to {MAX_CONDITIONS} mappings")
    conditions = []
    for i, item in enumerate(conditions_data):
        item = {"name": item} if isinstance(item, str) else item
        if not isinstance(item, dict):
            raise InvalidInput(f"conditions[{i}] must be a name or a mapping")
        name = check_id(item.get("name"), f"conditions[{i}].name")
        feedback = item.get("feedback", True)
        if not isinstance(feedback, bool):
            raise InvalidInput(f"conditions[{i}].feedback must be true or false")
        source = item.get("source")
        parsed = parse_source(source, f"conditions[{i}].source") if source is not None else None
        conditions.append(Condition(name, feedback, parsed))
    names = [c.name for c in conditions]
    if len(set(names)) != len(names):
        raise InvalidInput("condition names must be unique")
    return Protocol(
        study_id=study_id,
        title=_text(data, "title", "", 200),
        consent_text=_text(data, "consent_text", DEFAULT_CONSENT, MAX_CONSENT_CHARS),
        questionnaire=parse_questions(data.get("questionnaire", [asdict(q) for q in AALTO_QUESTIONNAIRE])),
        source=parse_source(data.get("source", {"kind": "corpus"}), "source"),
        sentences_per_session=_int(data, "sentences_per_session", 5, 1, MAX_SENTENCES_PER_SESSION),
        conditions=tuple(conditions),
        seed=_int(data, "seed", 0, 0, 2**63 - 1),
        version=version,
    )


def draft_protocol(
    study_id: str,
    title: str,
    *,
    conditions: list[str] | tuple[str, ...] = ("default",),
    without_feedback: list[str] | tuple[str, ...] = (),
    sentences_per_session: int = 5,
    seed: int = 0,
    source: str = "corpus",
    sentence_list: str = "",
    consent_text: str = "",
) -> Protocol:
    """A new protocol from the few choices a form or `study new` offers; the rest are defaults.

    `sentence_list` is the text of a `sentence_id<TAB>sentence` file (the corpus format), used
    when `source` is `list`.
    """
    unknown = sorted(set(without_feedback) - set(conditions))
    if unknown:
        raise InvalidInput(f"conditions without feedback must be among the conditions: {', '.join(unknown)}")
    data: dict[str, Any] = {
        "study_id": study_id.strip() if isinstance(study_id, str) else study_id,
        "title": title,
        "conditions": [{"name": n, "feedback": n not in without_feedback} for n in conditions],
        "sentences_per_session": sentences_per_session,
        "seed": seed,
        "source": {"kind": source},
    }
    if source == "list":
        data["source"]["sentences"] = [(s.id, s.text) for s in parse_corpus(sentence_list, "sentence list")]
    if consent_text.strip():
        data["consent_text"] = consent_text
    return parse_protocol(data)
