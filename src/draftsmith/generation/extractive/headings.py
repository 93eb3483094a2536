"""Source headings as blog section headings: cleaning, rejecting junk and bland
ones, casing, and key phrases as headings."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from draftsmith.text.sentences import ABBREVIATIONS, FUNCTION_WORDS
from draftsmith.text.tokens import STOPWORDS, content_words
from draftsmith.text.words import normalize_whitespace

from .lexicon import GENERIC_HEADINGS, SMALL_WORDS, SUMMARY_HEADING, WEAK_PHRASE_WORDS, lexicon
from .sentences import HTML_TAG, balanced

if TYPE_CHECKING:
    from .candidates import Cand

_HEADING_NUM = re.compile(
    r"^(?:(?:chapter|section|part|kapitel|teil)\s+)?(?:\(?\d+(?:\.\d+)*\)?\.?|[IVXLC]+\.|[A-Z]\.)\s+",
    re.I,
)
_LABEL = re.compile(
    r"(?i)\b(?:aufgabe|exercise|übung|lösung|solution|beispiel|example|problem|definition|"
    r"bemerkung|satz|lemma|theorem|figure|table|abbildung|tabelle|chapter|kapitel|section|"
    r"appendix|anhang)\s+\d+[a-z]?$"
)
_GENERIC_START = re.compile(
    r"^(?:conclusions?|summary|introduction|references|acknowledge?ments?|appendix|abstract|"
    r"related work|future work|bibliography)\b(?:\s+(?:and|&)\s+.*)?$"
    # a document asking what it is itself ("What is this spec?"): its introduction
    r"|^what (?:is|are) (?:this|these|it)\b"
)


def strip_md(h: str) -> str:
    h = re.sub(r"^#+\s*", "", h.strip())
    h = re.sub(r"\s#+\s*$", "", h)
    h = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", h)  # links
    return h.replace("**", "").replace("__", "").replace("`", "")


def _title_case_word(core: str, first: bool) -> str:
    if not first and core.lower() in SMALL_WORDS:
        return core.lower()
    return core[:1].upper() + core[1:].lower()


def _decapitalise(h: str, case_map: dict[str, str] | None) -> str:
    """An ALL CAPS heading in Title Case ("REVIEW OF FEES (PII)" -> "Review of Fees (PII)");
    acronyms written in capitals in the running text stay in capitals."""
    out: list[str] = []
    for i, w in enumerate(h.split()):
        m = re.match(r"^(\W*)(.*?)(\W*)$", w)
        assert m is not None
        pre, core, post = m.groups()
        low = core.lower()
        if not core or not core.isalpha():
            out.append(w)  # "13", "U.S.C."
            continue
        prose = (case_map or {}).get(low)
        if (prose and prose.isupper() and len(core) > 1) or (
            pre.startswith("(") and len(core) <= 5
        ):
            out.append(w)
        else:
            out.append(pre + _title_case_word(core, i == 0) + post)
    return " ".join(out)


def _bare_heading(h: str) -> str:
    """The heading's own text: the last part of a breadcrumb, without Markdown,
    numbering and "Example 2:" labels."""
    for sep in (" > ", " / ", " › ", " » "):
        if sep in h:
            h = h.split(sep)[-1]
    h = normalize_whitespace(strip_md(h))
    h = _HEADING_NUM.sub("", h).strip(" :.-–—#*_")
    h = _HEADING_NUM.sub("", h).strip(" :.-–—#*_")  # "CHAPTER 3 - 1. ..."
    return re.sub(r"(?i)^(?:example|step|part|exercise|lesson|tip)\s+\d+\s*[:.]\s*", "", h)


def _is_junk(h: str) -> bool:
    """No heading at all: a fragment, a caption, code, a sentence, mostly numbers."""
    if not h or len(h) > 90:
        return True
    words = h.split()
    if not (1 <= len(words) <= 10):
        return True
    alnum = [c for c in h if c.isalnum()]
    if not alnum or sum(c.isdigit() for c in alnum) > 0.3 * len(alnum):
        return True
    if not alnum[0].isupper() and not alnum[0].isdigit():
        return True  # starts in lower case: a fragment
    if HTML_TAG.search(h) or "|" in h or "@" in h or "http" in h or "\\" in h:
        return True
    if re.search(r"\w[:+=_]\w|[{}<>$§]|:\s*\S*\d", h):
        return True  # "PER+SBJ:hit", "Train: 1k", code, formulas, statutes
    if re.search(r"\.\s*\.\s*\.|…", h):
        return True  # table of contents leader
    for m in re.finditer(r"([\w.]*)[.!?]\s+\S", h.rstrip(".")):
        if m.group(1).lower().strip(".") not in ABBREVIATIONS:
            return True  # a sentence, not a heading
    if re.match(r"(?i)^(?:figure|fig\.|table|tab\.|abbildung|tabelle)\s*\d", h):
        return True
    if re.match(r"^[^\W\d_]+\s+\d+[a-z]?$", h) or _LABEL.search(h):
        return True  # a label: "Aufgabe 8", "Lösung zu Aufgabe 7", "Chapter 3"
    if not balanced(h):
        return True
    last = re.sub(r"^\W+|\W+$", "", words[-1]).lower()
    return last in FUNCTION_WORDS and len(words) > 1  # "Results of", "The use of the"


#: a sentence, not a heading ("Hernando Bedoya is a Senior IT Specialist at STG Lab")
_SENTENCE_LIKE = re.compile(r"^(?:\S+\s+){1,}(?:is|are|was|were|has|have)\s+(?:a|an|the)\s")
#: a running header or footer taken for a heading ("... Summary December 1998 Page 12")
_RUNNING_FOOTER = re.compile(r"\bpage\s+\d+\b|\bpage \d+ of \d+\b", re.IGNORECASE)


def heading_problem(
    h: str | None, case_map: dict[str, str] | None = None
) -> tuple[str | None, str]:
    """(cleaned heading, problem): problem is "" for a heading fit for a blog section,
    "generic" for a real but bland one ("Introduction", "Results"), "junk" for text that
    is no heading at all (a fragment, a caption, code, mostly numbers, too long)."""
    if not h:
        return None, "junk"
    h = re.sub(r"^\d{1,2}(?=[A-Z][a-z])", "", _bare_heading(h))  # "7Ethiopian ..." (a note)
    if _is_junk(h) or _SENTENCE_LIKE.search(h) or _RUNNING_FOOTER.search(h):
        return None, "junk"
    words = h.split()
    letters = [c for c in h if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        if not (len(words) == 1 and len(h) <= 5):  # not an acronym like "DPR"
            h = _decapitalise(h, case_map)
    low = h.lower().strip()
    if low in GENERIC_HEADINGS or re.sub(r"[^\w\s]", "", low) in GENERIC_HEADINGS:
        return h, "generic"
    if _GENERIC_START.match(low):
        return h, "generic"
    return h, ""


def clean_heading(h: str | None, case_map: dict[str, str] | None = None) -> str | None:
    """A source heading usable as a blog section heading, or None (generic, a fragment,
    a caption, mostly numbers, too long). ALL CAPS headings come back in Title Case."""
    text, problem = heading_problem(h, case_map)
    return None if problem else text


def is_summary_heading(raw: str | None) -> bool:
    return bool(raw) and bool(SUMMARY_HEADING.search(strip_md(raw or "")))


def heading_key(h: str) -> str:
    return " ".join(sorted(set(content_words(h)))) or h.lower()


def names_topic(key: str | None, topic_stems: set[str] | frozenset[str]) -> bool:
    """The heading (its ``heading_key``) is made of the topic's words and names most of
    them: the source's own section on the whole topic ("Recovering data from damaged
    files" for "Recovering data from a damaged bzip2 file")."""
    hk = set((key or "").split())
    return bool(hk) and hk <= topic_stems and len(hk) >= 0.6 * len(topic_stems)


def title_case_phrase(phrase: str, case_map: dict[str, str]) -> str:
    """A key phrase as a heading: "basic patterns" -> "Basic Patterns"; words the
    sources spell with capitals ("OCR", "pypdf" stays as spelled if the sources
    never capitalise it) keep their spelling."""
    out: list[str] = []
    for i, w in enumerate(phrase.split()):
        prose = case_map.get(w.lower())
        if any(c.isupper() for c in w[1:]) or (prose and prose != prose.lower()):
            out.append(prose if prose and prose.lower() == w.lower() else w)
        elif prose and prose == prose.lower() and not prose.isalpha():
            out.append(w)  # "pypdf2", "utf-8"
        elif i > 0 and w.lower() in SMALL_WORDS:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


#: words after which the sources' next word is a noun (or its adjective) ...
_DETERMINERS = frozenset(
    "the a an this that these those its their our your his her each every any no of".split()
)
#: ... and after which it is a verb
_VERB_CUES = frozenset(
    "to can cannot will may must should would could might shall does do did not".split()
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def verb_words(texts: Sequence[str]) -> frozenset[str]:
    """Words the sources use as verbs ("to generate", "can generate") and never after a
    determiner ("the market"): a key phrase with one in it is a clause cut out of a
    sentence ("Premium Games Generate"), not a sub-topic."""
    after_det: set[str] = set()
    after_verb: set[str] = set()
    for text in texts:
        words = [w.lower() for w in _WORD.findall(text)]
        for prev, word in zip(words, words[1:], strict=False):
            if prev in _DETERMINERS:
                after_det.add(word)
            elif prev in _VERB_CUES:
                after_verb.add(word)
    return frozenset(after_verb - after_det)


def good_heading_phrase(
    phrase: str, case_map: dict[str, str], verbs: frozenset[str] = frozenset()
) -> bool:
    """A key phrase that names a sub-topic: two to four words, not starting or ending
    with a vague word ("certain type", "preliminary system"), not ending in an adverb,
    a participle or a word the sources use only as a verb (``verb_words``)."""
    words = phrase.split()
    if not (2 <= len(words) <= 4):
        return False
    low = [w.lower() for w in words]
    if any(w in verbs for w in low):
        return False  # a clause ("Games Generate Higher", "Generate Higher Revenue")
    if low[0] in WEAK_PHRASE_WORDS or low[-1] in WEAK_PHRASE_WORDS:
        return False
    if any(w in FUNCTION_WORDS for w in (low[0], low[-1])):
        return False
    if low[-1].endswith("ly") or (
        low[-1].endswith("ed") and case_map.get(low[-1], low[-1]) == low[-1]
    ):
        return False
    if any(sum(c.isdigit() for c in w) > len(w) / 2 for w in words):
        return False
    return all(len(w) >= 2 for w in words)


def inline_heading(h: str, prose_case: tuple[set[str], set[str]], lang: str) -> str:
    """A section heading inside a sentence: capitalised words the sources write in lower
    case (or only ever in headings) are lowered ("Basic Patterns" -> "basic patterns");
    names and acronyms stay (all nouns stay capitalised where the language wants it)."""
    lex = lexicon(lang)
    if lex and lex.noun_case_words:
        return h
    lower, upper = prose_case
    out = []
    for w in h.split():
        core = re.sub(r"^\W+|\W+$", "", w)
        low = core.lower()
        if (
            len(core) > 1  # "R", "C", "X" are names
            and core[:1].isupper()
            and core[1:] == core[1:].lower()
            and (low in lower or low not in upper)
        ):
            out.append(w.replace(core, low, 1))
        else:
            out.append(w)
    return " ".join(out)


def inline_topic(topic: str, prose_case: tuple[set[str], set[str]], lang: str) -> str:
    """The topic inside a sentence, as the user wrote it but for a capitalised first word
    that the sources write in lower case ("Getting started with data frames in R" ->
    "getting started with data frames in R"); names and acronyms stay."""
    first, _, rest = topic.partition(" ")
    lower, upper = prose_case
    if first.lower() in STOPWORDS:  # "How", "What", "The": never a name
        upper = upper - {first.lower()}
    lowered = inline_heading(first, (lower, upper), lang)
    return f"{lowered} {rest}".strip() if rest else lowered


def make_title(topic: str, case_map: dict[str, str], english: bool) -> str:
    t = normalize_whitespace(topic).strip(" .?!:;")
    if not t:
        return "Draft"
    words = t.split()
    if len(words) > 14:
        words = words[:14]
    out = []
    for i, w in enumerate(words):
        src = case_map.get(w.lower())
        if src and src != w.lower():
            out.append(src)
        elif any(c.isupper() for c in w):
            out.append(w)
        elif english and (i == 0 or (w.lower() not in SMALL_WORDS and len(w) > 1)):
            out.append(w[:1].upper() + w[1:])
        else:
            out.append(w)
    res = " ".join(out)
    return res[:1].upper() + res[1:]


def case_map(cands: Sequence[Cand]) -> dict[str, str]:
    """Most common spelling of each word inside the sources' sentences (not their first
    word, not headings), to keep "pypdf", "OCR", "Docling" as the sources write them."""
    counts: dict[str, Counter[str]] = {}
    for c in cands:
        for w in re.findall(r"[^\W_][\w.+-]*[^\W_]|[^\W_]", c.display)[1:]:
            counts.setdefault(w.lower(), Counter())[w] += 1
    out: dict[str, str] = {}
    for low, cnt in counts.items():
        # the lower-case form wins ties unless a cased form dominates
        best = sorted(cnt.items(), key=lambda kv: (-kv[1], not kv[0].islower(), kv[0]))[0][0]
        out[low] = best
    return out
