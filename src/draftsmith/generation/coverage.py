"""How well some documents cover a topic, before anything is written (issue 9).

The topic's terms are its content words (stemmed; stop words and words that only say
"a post about", like "guide" or "explained", left out) and its *named phrases*: runs of
names, acronyms and numbers ("Chapter 11", "Raspberry Pi", "Boeing 737 MAX") that must
occur as a phrase, not word by word. A term is *found* when the documents contain it.

The score (0..1) mixes two shares of the terms' weight (a named term weighs double, an
everyday word like "life" or "problems" half):
the share found anywhere in the documents, and the share found together in the best
passages the topic retrieves (BM25 over the documents' chunks). A named term the
documents never mention caps the score below the threshold: documents about ducks do
not cover "Duck typing in Python". The threshold ``COVERED_AT`` is calibrated on
tests/data/coverage_briefs.jsonl (``bench/coverage.py`` reports it).
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from draftsmith.text.generic import GENERIC_TOPIC_WORDS
from draftsmith.text.tokens import STOPWORDS, stem

from .retrieval import InMemoryRetriever
from .types import Passage

#: a topic covered at or above this score may be written (calibrated: bench/coverage.py)
COVERED_AT = 0.72
#: the score when a named term is missing: under the threshold, however much else is found
NAMED_MISSING_CAP = 0.4
NAMED_WEIGHT = 2.0
#: an everyday word ("life", "problems", "better") says less of what a topic is about
COMMON_WEIGHT = 0.5
#: weight of "found anywhere" against "found together in the best passage"
ANYWHERE_WEIGHT = 0.5
BEST_PASSAGES = 5

COMMON_WORDS = frozenset(
    """
    life live living work works working time times person world day days year years part
    parts place places case cases thing good great better big small large long short high
    low old young important common general different main key major real full right wrong
    problem problems issue issues question questions matter matters help helps keep find
    finding change changes today modern trade-off trade-offs tradeoff tradeoffs pros cons
    advantages disadvantages drawbacks limitations challenges considerations
    """.split()
)
#: plurals a suffix rule does not undo
IRREGULAR = {
    "lives": "life", "leaves": "leaf", "wives": "wife", "knives": "knife", "halves": "half",
    "children": "child", "men": "man", "women": "woman", "people": "person", "mice": "mouse",
    "feet": "foot", "teeth": "tooth", "geese": "goose", "analyses": "analysis",
}  # fmt: skip
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?", re.UNICODE)
#: a topic's words keep their hyphens: "trade-offs" is one term (its parts are no terms)
_TOPIC_WORD_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*(?:['’][^\W\d_]+)?", re.UNICODE)
_COMPOUND_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)+", re.UNICODE)
_POSSESSIVE_RE = re.compile(r"['’]s?$")


def _plain(word: str) -> str:
    """Lower-cased, without a possessive ("Gaming's" -> "gaming"), irregular plurals singular."""
    plain = _POSSESSIVE_RE.sub("", word.lower().replace("’", "'"))
    return IRREGULAR.get(plain, plain)


def _key(plain: str) -> str:
    """The stem a word is looked up by (a hyphenated word joined: "trade-offs" -> "tradeoff")."""
    return stem(plain.replace("-", ""))


def compound_stems(text: str) -> set[str]:
    """The joined stems of the hyphenated words of ``text``, which a vocabulary holds
    beside their parts."""
    return {_key(_plain(m.group())) for m in _COMPOUND_RE.finditer(text)}


def stream_of(text: str) -> str:
    """Every word of ``text`` stemmed, space-separated and space-padded: named phrases are
    looked up in it (stop words stay, so adjacency is real)."""
    return " " + " ".join(stem(_plain(w)) for w in _WORD_RE.findall(text)) + " "


def _matches(stem_: str, vocabulary: Sequence[str]) -> bool:
    """``stem_`` is in the sorted ``vocabulary``, or a word there shares its long prefix
    ("installation" finds "install", "programming" finds "program")."""
    i = bisect.bisect_left(vocabulary, stem_)
    if i < len(vocabulary) and vocabulary[i] == stem_:
        return True
    if len(stem_) <= 5 or stem_.isdigit():
        return False
    prefix = stem_[: max(5, len(stem_) - 3)]
    j = bisect.bisect_left(vocabulary, prefix)
    return j < len(vocabulary) and vocabulary[j].startswith(prefix)


@dataclass(frozen=True)
class TopicTerm:
    text: str  # as shown to the user: "networking", "chapter 11"
    stems: tuple[str, ...]
    named: bool

    @property
    def weight(self) -> float:
        if self.named:
            return NAMED_WEIGHT
        return COMMON_WEIGHT if self.text in COMMON_WORDS else 1.0

    def found_in(self, vocabulary: Sequence[str], stream: str) -> bool:
        if len(self.stems) > 1:
            return f" {' '.join(self.stems)} " in stream
        return _matches(self.stems[0], vocabulary)


def _is_named(word: str, first: bool, title_case: bool) -> bool:
    if any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:]):
        return True  # 2021, DB2, NumPy, FAA
    return word[:1].isupper() and not first and not title_case


def _skipped(plain: str) -> bool:
    return (
        plain in STOPWORDS
        or plain in GENERIC_TOPIC_WORDS
        or (len(plain) < 2 and not plain.isdigit())
    )


def topic_terms(topic: str) -> list[TopicTerm]:
    """The terms coverage looks for: named phrases (which replace their words), then the
    other content words."""
    words = [m.group() for m in _TOPIC_WORD_RE.finditer(topic)]
    # In a Title Cased Topic capitals say nothing: then only acronyms and numbers are named.
    # (Names alone, as in "Installing NumPy on a Raspberry Pi", are no title case.)
    plain_words = [w for w in words[1:] if not _skipped(_plain(w)) and not _is_named(w, True, True)]
    title_case = len(plain_words) >= 3 and all(w[:1].isupper() for w in plain_words)
    phrases: dict[tuple[str, ...], TopicTerm] = {}
    singles: dict[tuple[str, ...], TopicTerm] = {}
    run: list[str] = []  # consecutive named words

    def close_run() -> None:
        if len(run) > 1:
            key = tuple(stem(w) for w in run)
            phrases.setdefault(key, TopicTerm(" ".join(run), key, True))
        run.clear()

    for i, word in enumerate(words):
        plain = _plain(word)
        if _skipped(plain) or plain in MONTHS:
            close_run()
            if not _skipped(plain):
                singles.setdefault((_key(plain),), TopicTerm(plain, (_key(plain),), False))
            continue
        named = _is_named(word, i == 0, title_case)
        if named:
            run.extend(plain.split("-"))  # a phrase is looked up word by word
        else:
            close_run()
        singles.setdefault((_key(plain),), TopicTerm(plain, (_key(plain),), named))
        if _POSSESSIVE_RE.search(word.lower()):
            close_run()
    close_run()
    inside = {s for key in phrases for s in key}
    in_phrase = [all(stem(part) in inside for part in t.text.split("-")) for t in singles.values()]
    return list(phrases.values()) + [
        t for t, inside_one in zip(singles.values(), in_phrase, strict=True) if not inside_one
    ]


_GENERIC_HEADING_RE = re.compile(
    r"^(?:table of contents|contents|references|bibliography|abstract|introduction|index|"
    r"acknowledg\w*|appendix\b.*|notes?|tags|summary|conclusions?|page \d+)$",
    re.IGNORECASE,
)


@dataclass
class SourceIndex:
    """What coverage needs of one document; build it once and keep it (see
    ``draftsmith.documents.coverage``)."""

    name: str
    vocabulary: tuple[str, ...]  # sorted stems of every content word (a tuple: untracked)
    stream: str
    retriever: InMemoryRetriever
    about: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, name: str, passages: Sequence[Passage]) -> SourceIndex:
        texts = [f"{p.heading or ''}\n{p.text}" for p in passages]
        surface: Counter[str] = Counter()
        by_stem: dict[str, Counter[str]] = {}
        for text in texts:
            for match in (*_WORD_RE.finditer(text), *_COMPOUND_RE.finditer(text)):
                plain = _plain(match.group())
                if plain in STOPWORDS or len(plain) < 2:
                    continue
                key = _key(plain)
                surface[key] += 1
                by_stem.setdefault(key, Counter())[plain] += 1
        return cls(
            name=name,
            vocabulary=tuple(sorted(surface)),
            stream="".join(stream_of(t) for t in texts),
            retriever=InMemoryRetriever(passages),
            about=_about(passages, surface, by_stem),
        )


def _about(
    passages: Sequence[Passage], counts: Counter[str], by_stem: dict[str, Counter[str]]
) -> list[str]:
    """A few headings (document order) and the most frequent words: what it is about."""
    headings: list[str] = []
    for p in passages:
        heading = " ".join((p.heading or "").split()).strip(" #:")
        if (
            heading
            and heading not in headings
            and len(heading) <= 80
            and not _GENERIC_HEADING_RE.match(heading)
        ):
            headings.append(heading)
    words = [
        by_stem[s].most_common(1)[0][0]
        for s, _ in counts.most_common(40)
        if not s.isdigit() and len(s) > 2 and s not in GENERIC_TOPIC_WORDS
    ]
    return headings[:4] + words[: 8 - min(len(headings), 4)]


@dataclass(frozen=True)
class Coverage:
    score: float
    found: list[str]
    missing: list[str]
    about: list[str]

    @property
    def covered(self) -> bool:
        return self.score >= COVERED_AT

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "found": list(self.found),
            "missing": list(self.missing),
            "covered": self.covered,
            "about": list(self.about),
        }


def _share(terms: Iterable[TopicTerm], found: set[TopicTerm]) -> float:
    terms = list(terms)
    total = sum(t.weight for t in terms)
    return sum(t.weight for t in terms if t in found) / total if total else 0.0


def _best_passage_share(
    topic: str, terms: list[TopicTerm], sources: Sequence[SourceIndex]
) -> float:
    """The share of the terms found together in one of the best passages of each document
    (several documents may each cover a part of the topic)."""
    together: set[TopicTerm] = set()
    for source in sources:
        best: set[TopicTerm] = set()
        for passage in source.retriever.search(topic, BEST_PASSAGES):
            text = f"{passage.heading or ''}\n{passage.text}"
            stream = stream_of(text)
            vocabulary = sorted(set(stream.split()) | compound_stems(text))
            found = {t for t in terms if t.found_in(vocabulary, stream)}
            if _share(terms, found) > _share(terms, best):
                best = found
        together |= best
    return _share(terms, together)


def signals(topic: str, sources: Sequence[SourceIndex]) -> dict[str, Any]:
    """The measure's parts: terms, those found, and the two shares (for the bench)."""
    terms = topic_terms(topic)
    found = {t for t in terms if any(t.found_in(s.vocabulary, s.stream) for s in sources)}
    return {
        "terms": terms,
        "found": found,
        "anywhere": _share(terms, found),
        "passage": _best_passage_share(topic, terms, sources) if found else 0.0,
        "named_missing": any(t.named and t not in found for t in terms),
    }


def score_of(parts: dict[str, Any]) -> float:
    score = ANYWHERE_WEIGHT * parts["anywhere"] + (1 - ANYWHERE_WEIGHT) * parts["passage"]
    if parts["named_missing"]:
        score = min(score, NAMED_MISSING_CAP)
    return round(score, 3)


def measure(topic: str, sources: Sequence[SourceIndex]) -> Coverage:
    """How well ``sources`` cover ``topic``."""
    parts = signals(topic, sources)
    about: list[str] = []
    for source in sources:
        about += [a for a in source.about if a not in about][: max(3, 8 // len(sources))]
    return Coverage(
        score=score_of(parts) if parts["terms"] else 0.0,
        found=[t.text for t in parts["terms"] if t in parts["found"]],
        missing=[t.text for t in parts["terms"] if t not in parts["found"]],
        about=about[:8],
    )


def _lacking(coverage: Coverage) -> str:
    if coverage.missing:
        return "they never mention " + ", ".join(f"“{m}”" for m in coverage.missing[:6])
    if coverage.found:
        return "they mention its words only apart, never together in one passage"
    return "the topic names nothing to look for (only words like “guide” or “how”)"


def not_covered_message(topic: str, coverage: Coverage) -> str:
    """Why a generation was refused, and what the documents are about instead."""
    about = "; ".join(coverage.about[:6])
    return (
        f"Your documents don't cover “{topic.strip()}” (coverage {coverage.score:.2f}): "
        f"{_lacking(coverage)}."
        + (f" They are about: {about}." if about else "")
        + " Choose documents about this topic, change the topic, or allow thin sources "
        "to write anyway."
    )


def thin_sources_warning(coverage: Coverage) -> str:
    """The warning a draft written from thin sources carries."""
    return (
        f"Thin sources: your documents cover this topic poorly (coverage {coverage.score:.2f}): "
        f"{_lacking(coverage)}; check every claim against them."
    )
