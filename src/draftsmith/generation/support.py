"""Does a cited passage support a sentence? A lexical judge that can say no.

:func:`assess` compares one sentence with the text of the passages it cites and
looks for the ways a sentence goes beyond its source:

- *critical tokens* the passages lack: numbers and dates, quoted strings, code
  identifiers, proper names and acronyms (one missing is enough to fail);
- *negation*: a word negated in the sentence but not in the passage, or the reverse,
  or a sentence with more negations than the passage sentence it follows closely
  ("not", "never", "no longer", "fails to", "unable to", "un-" words);
- *swaps*: in a sentence that follows one passage sentence closely, a word taken
  from elsewhere in the passage in place of the source's own ("descended from the
  Muscovy duck, apart from the mallard"), or an antonym of it ("hard" for "easy");
- *coverage*: too small a share of the sentence's content words (Snowball stems, with
  prefix matching for derived forms and the common synonyms of :mod:`.lexicon`; rare
  words weigh more, by their frequency in English from ``wordfreq``) occurs in the
  passage - a claim it doesn't make.

Verbatim and near-verbatim sentences pass; faithful paraphrases mostly pass when
they keep the source's names, numbers and key terms. ``borderline`` marks the
verdicts a second opinion (``verify.py``) may overturn.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from wordfreq import zipf_frequency

from draftsmith.text.tokens import STOPWORDS, is_content_token, tokenize
from draftsmith.text.tokens import stem as _stem

from .lexicon import opposite, synonyms


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The shared stem of a lower-cased word (``text.tokens.stem``), possessive "'s" dropped."""
    return _stem(word.removesuffix("'s").removesuffix("'"))


def content_words(text: str) -> list[str]:
    """Stems of the content words of ``text`` (no stopwords, no one-letter words)."""
    return [stem(t) for t in tokenize(text) if is_content_token(t)]


#: below this share of content words found in the passage a sentence is unsupported
MIN_COVERAGE = 0.55
#: a supported sentence under this coverage is borderline (as is one failed on coverage alone)
BORDER_HIGH = 0.8

_NEGATION_CUES = (
    "not no never none nothing neither nor cannot without nobody nowhere rather instead"
)
#: negation cues, as written and as stemmed (tokens are stems: "nothing" is "noth");
#: "rather (than)" and "instead (of)" negate their complement too
NEGATIONS = frozenset(w for cue in _NEGATION_CUES.split() for w in (cue, stem(cue)))
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    w: str(10 * i)
    for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)
}
_NUMBER_RE = re.compile(r"(?<![\w.])\d+(?:[.,:/–-]\d+)*(?![\w])|(?<![\w.])\d+(?=[a-zA-Z%])")
_QUOTED_RE = re.compile(
    r"`([^`]{2,80})`|\"(\w[^\"]{1,78}\w)\"|“([^”]{3,80})”|<([^<>\s][^<>]{2,80})>"
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])(?:\[\d+\])*\s+(?=[A-Z\"“(*`])|\n\s*\n")
_WORD_RE = re.compile(r"[A-Za-z0-9_][\w.\-*/]*[\w*]|[A-Za-z0-9*]")
_IDENTIFIER_RE = re.compile(
    r"^(?:\*[A-Z]+|[A-Za-z]+[A-Z0-9_][\w]*|[\w]+[._][\w.]*\w|[\w]*\d[\w]*[A-Za-z][\w]*)$"
)


@dataclass(frozen=True, slots=True)
class Support:
    """The verdict on one sentence: ``supported``, a 0..1 ``score`` and, when
    unsupported, the human ``reasons`` (e.g. "number 2.4.1 not in the source")."""

    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)
    borderline: bool = False


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _numbers(text: str) -> set[str]:
    """Numbers of ``text`` normalised ("5,000" -> "5000"), with their dotted prefixes
    ("2.2.2" also gives "2.2" and "2") and spelled-out small numbers."""
    out: set[str] = set()
    for m in _NUMBER_RE.finditer(text):
        raw = m.group(0).replace(",", "")
        for part in re.split(r"[–/:-]", raw):
            pieces = part.split(".")
            out.update(".".join(pieces[: i + 1]) for i in range(len(pieces)) if pieces[0])
            out.add(part.lstrip("0") or "0")
    for tok in tokenize(text):
        if tok in _NUMBER_WORDS:
            out.add(_NUMBER_WORDS[tok])
    return out


def _sentence_numbers(text: str) -> list[str]:
    """Numbers the sentence states: with digits, or spelled out from "two" up
    ("one" is too often a pronoun to count)."""
    out = []
    for m in _NUMBER_RE.finditer(text):
        raw = m.group(0).replace(",", "")
        out.extend(p for p in re.split(r"[–/:-]", raw) if p)
    out.extend(_NUMBER_WORDS[t] for t in tokenize(text) if t in _NUMBER_WORDS and t != "one")
    return out


def _names(sentence: str) -> list[str]:
    """Proper names, acronyms and code identifiers of ``sentence``: capitalised words
    not opening it, words with inner capitals, digits or underscores, ``*SPECIAL``."""
    out: list[str] = []
    words = list(_WORD_RE.finditer(sentence))
    for i, m in enumerate(words):
        w = m.group(0).strip(".-/")
        if not w or w.isdigit() or _NUMBER_RE.fullmatch(w):
            continue
        before = sentence[: m.start()].rstrip()
        opens = i == 0 or before.endswith((":", ";", ".", "!", "?", "(", '"', "“"))
        if _IDENTIFIER_RE.match(w) and not w.isdigit():
            out.append(w)
        elif w[0].isupper() and not opens and w.lower() not in STOPWORDS:
            out.append(w)
    return out


def _name_stems(text: str) -> set[str]:
    return {t for name in _names(text) for t in _tokens(name)}


def _has_word(word: str, norm_passage: str, passage_stems: frozenset[str]) -> bool:
    low = word.lower()
    for form in {low, low.removesuffix("s")}:  # "PDFs" ~ "PDF"; "Center1": a footnote mark
        if re.search(rf"(?<![\w]){re.escape(form)}\d*(?![\w])", norm_passage):
            return True
    parts = content_words(word)
    return bool(parts) and all(p in passage_stems for p in parts)


def _missing_critical(sentence: str, src: _Source) -> list[str]:
    """Human reasons for each number, quoted string or name the passage lacks."""
    norm, passage_stems, numbers = src.norm, src.stems, src.numbers
    reasons: list[str] = []
    for n in _sentence_numbers(sentence):
        key = n.lstrip("0") or "0"
        if n not in numbers and key not in numbers:
            reasons.append(f"the number {n} is not in the source")
    for m in _QUOTED_RE.finditer(sentence):
        quoted = _norm(next(g for g in m.groups() if g))
        if quoted not in norm and quoted.strip("`'\"") not in norm:
            reasons.append(f"“{quoted}” is not in the source")
    for name in _names(sentence):
        if not _has_word(name, norm, passage_stems):
            reasons.append(f"“{name}” is not in the source")
    return reasons


def _tokens(text: str) -> list[str]:
    """Lower-cased stemmed word tokens, negations kept: "n't" split off as "not",
    "unprotected" as "not protected", "fails to" and "unable to" as "not"."""
    out: list[str] = []
    tokens = tokenize(text)
    for i, tok in enumerate(tokens):
        if tok.endswith("n't"):
            out.extend([tok[:-3], "not"])
        elif tok == "cannot":
            out.extend(["can", "not"])
        elif tok in _NEGATIVE_VERBS and tokens[i + 1 : i + 2] == ["to"]:
            out.append("not")
        elif len(tok) >= 7 and tok.startswith("un") and zipf_frequency(tok[2:], "en") >= 3:
            out.extend(["not", stem(tok[2:])])  # "unprotected" = "not protected"
        else:
            out.append(stem(tok))
    return out


#: words that negate the verb after their "to" ("fails to start")
_NEGATIVE_VERBS = frozenset("fail fails failed failing unable".split())


def _negated_spans(tokens: list[str], width: int = 2, reach: int = 5) -> set[str]:
    """The first ``width`` content words after each negation ("does not *support*
    *tables*"; "no longer" is one negation)."""
    heads: set[str] = set()
    for i, tok in enumerate(tokens):
        if tok in NEGATIONS:
            span = [
                t
                for t in tokens[i + 1 : i + 1 + reach]
                if t not in STOPWORDS and t not in NEGATIONS and len(t) > 2 and t != "longer"
            ]
            heads.update(span[:width])
    return heads


def _negations(tokens: list[str]) -> int:
    return sum(t in NEGATIONS for t in tokens)


def _passage_sentences(passages: Sequence[str]) -> list[list[str]]:
    """Token lists of the passages' sentences (a footnote marker such as "[5]" after
    the full stop ends the sentence too)."""
    out: list[list[str]] = []
    for text in passages:
        for sent in _SENTENCE_END_RE.split(text):
            tokens = _tokens(sent)
            if tokens:
                out.append(tokens)
    return out


def _aligned(sentence: list[str], passage: list[list[str]]) -> list[str]:
    """The passage sentence (or two adjacent ones) sharing most content words with it."""
    words = {t for t in sentence if t not in STOPWORDS}
    best: list[str] = []
    best_score = 0
    for i, sent in enumerate(passage):
        for cand in (sent, sent + passage[i + 1] if i + 1 < len(passage) else None):
            if cand is None:
                continue
            shared = len(words & set(cand))
            score = shared * 100 - len(cand)
            if shared and score > best_score:
                best, best_score = cand, score
    return best


def _negation_mismatch(sentence: list[str], passage: list[list[str]]) -> str:
    """A reason when the sentence negates what the passage states, or states what
    a passage sentence close to it negates; else ""."""
    words = {t for t in sentence if t not in STOPWORDS and t not in NEGATIONS}
    s_negated = _negated_spans(sentence, width=1)
    p_negated = set().union(*(_negated_spans(p) for p in passage)) if passage else set()
    everywhere = {t for p in passage for t in p}
    if lone := sorted(s_negated & everywhere - p_negated):
        return f"the sentence negates “{lone[0]}”, the source does not"
    if not words:
        return ""
    if negations := _negations(sentence):
        # the passage sentence that says nearly the same thing has fewer negations
        closest = max(passage, key=lambda p: len(words & set(p)), default=[])
        if len(words & set(closest)) >= 0.7 * len(words) and negations > _negations(closest):
            return "the sentence negates more than the source sentence it follows"
        return ""
    for sent in passage:
        shared = words & set(sent)
        if len(shared) >= 3 and len(shared) >= 0.4 * len(words):
            flipped = _negated_spans(sent, width=1, reach=3) & shared
            if flipped:
                return f"the source negates “{sorted(flipped)[0]}”, the sentence does not"
    return ""


def _swap(
    sentence: list[str],
    aligned: list[str],
    everywhere: set[str],
    names: set[str],
    passage_names: set[str],
) -> str:
    """A reason when a sentence that follows ``aligned`` closely puts a name found
    elsewhere in the passage, or an antonym, in place of one of its words; else ""."""
    matcher = SequenceMatcher(None, sentence, aligned, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    matched = sum(b.size for b in blocks)
    if matched < 4 or matched < 0.6 * len(sentence):
        return ""
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "replace":
            continue
        s_gap = [t for t in sentence[i1:i2] if t not in STOPWORDS and not t.isdigit()]
        p_gap = [t for t in aligned[j1:j2] if t not in STOPWORDS and not t.isdigit()]
        for s_word in s_gap:
            for p_word in p_gap:
                if opposite(s_word, p_word):
                    return f"“{s_word}” where the source says “{p_word}”"
        if not p_gap or len(s_gap) > 6:
            continue
        moved = [w for w in s_gap if w in names and w in everywhere and w not in p_gap]
        outside_s, outside_p = sentence[:i1] + sentence[i2:], aligned[:j1] + aligned[j2:]
        # a name from elsewhere in place of one the sentence dropped ("except Australia"
        # for "except Antarctica"), or two words trading places within the sentence
        substituted = [w for w in p_gap if w in passage_names and w not in sentence]
        crossed = [w for w in p_gap if w in outside_s] if set(moved) & set(outside_p) else []
        if moved and (substituted or crossed):
            return f"“{moved[0]}” where the source says “{(substituted or crossed)[0]}”"
    return ""


@lru_cache(maxsize=100_000)
def _weight(word: str) -> float:
    """How much a word says: rare words (low Zipf frequency in English) weigh more,
    so a paraphrase's everyday words ("keep", "look") cost less than an invented
    "telemetry" or "Africa". Unknown words (identifiers, names) weigh most."""
    return max(0.5, 6.5 - zipf_frequency(word, "en", wordlist="small"))


def coverage(sentence: str, passage_stems: set[str]) -> float:
    """Weighted share of the sentence's content words found in the passage (stems;
    words of 6+ letters also match on their first 5 letters: "retrieval" ~ "retrieve";
    a synonym of the lexicon counts: "difficult" ~ "hard")."""
    words = {stem(t): t for t in tokenize(sentence) if is_content_token(t)}
    if not words:
        return 1.0
    prefixes = {w[:5] for w in passage_stems if len(w) >= 5}
    total = hit = 0.0
    for s, word in words.items():
        w = _weight(word)
        total += w
        if (
            s in passage_stems
            or (len(s) >= 6 and s[:5] in prefixes)
            or not synonyms(s).isdisjoint(passage_stems)
        ):
            hit += w
    return hit / total


def support_score(sentence: str, passage_texts: Sequence[str]) -> float:
    """Unweighted share of the sentence's content words found in the passages (0..1);
    the LLM engine picks with it the passage an uncited paragraph leans on."""
    words = set(content_words(sentence))
    if not words:
        return 1.0
    vocab = {w for t in passage_texts for w in content_words(t)}
    prefixes = {w[:5] for w in vocab if len(w) >= 5}
    return sum(1 for w in words if w in vocab or (len(w) >= 6 and w[:5] in prefixes)) / len(words)


@dataclass(frozen=True, slots=True)
class _Source:
    """What :func:`assess` needs of the cited text, computed once per text."""

    text: str
    norm: str
    stems: frozenset[str]
    sentences: list[list[str]]
    everywhere: frozenset[str]
    names: frozenset[str]
    numbers: frozenset[str]


@lru_cache(maxsize=256)
def _source(text: str) -> _Source:
    sentences = _passage_sentences([text])
    return _Source(
        text=text,
        norm=_norm(text),
        stems=frozenset(content_words(text)),
        sentences=sentences,
        everywhere=frozenset(t for sent in sentences for t in sent),
        names=frozenset(_name_stems(text)),
        numbers=frozenset(_numbers(text)),
    )


def assess(sentence: str, passages: Sequence[str]) -> Support:
    """Judge whether ``passages`` (the cited texts) support ``sentence``."""
    src = _source("\n\n".join(p for p in passages if p))
    if not src.norm:
        return Support(False, 0.0, ["the cited source has no text"])
    if _norm(sentence).strip(" .") in src.norm:
        return Support(True, 1.0)
    stems = set(src.stems)
    cov = coverage(sentence, stems)
    reasons = _missing_critical(sentence, src)
    s_tokens = _tokens(sentence)
    aligned = _aligned(s_tokens, src.sentences)
    names = _name_stems(sentence)
    for reason in (
        _negation_mismatch(s_tokens, src.sentences),
        _swap(s_tokens, aligned, set(src.everywhere), names, set(src.names)) if aligned else "",
    ):
        if reason:
            reasons.append(reason)
    if cov < MIN_COVERAGE:
        reasons.append(f"only {cov:.0%} of its words are in the source")
    if reasons:
        score = min(cov, 0.5) * (0.5 ** (len(reasons) - 1))
        soft = len(reasons) == 1 and reasons[0].startswith("only")  # on word overlap alone
        return Support(False, round(score, 3), reasons, borderline=soft)
    return Support(True, round(cov, 3), borderline=cov < BORDER_HIGH)
