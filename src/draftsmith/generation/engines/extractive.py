"""The offline, deterministic extractive engine.

It writes a draft only from sentences that exist in the sources (whitespace,
hyphenation and inline reference markers tidied), plus at most one templated
framing sentence in the introduction and one recap in the conclusion that use
only the topic and the section headings:

1. retrieving - passages for the topic (plus one pseudo-relevance-feedback
   round with the key phrases of the first results);
2. outlining - sub-topics from the sources' own headings (Markdown headings,
   the passages' section headings and heading lines of PDF text such as
   "2 Basic Idea"), topped up with Title Case key phrases shared by several
   passages; in source order (documents in a stable order, then position);
3. writing - per section, a targeted retrieval, then greedy MMR selection of
   *paragraphs*: runs of 2-5 consecutive, well-formed source sentences
   (a sentence that leans on the one before it - "This ...", "But ..." - is
   only used right after it). The introduction opens with sentences that
   define or introduce the topic's terms and closes with a framing sentence;
   the conclusion prefers summary sentences ("in conclusion", "we presented",
   "results show", conclusion sections, late in a document). The total is
   then nudged toward the length target;
4. verifying - citations and grounding (see ``citations.verify``).

Sentences are split with wrapped PDF lines re-joined, and a sentence whose
beginning is not in view (a passage that starts mid-sentence, a column or
page break) is never used. Work after retrieval is bounded by the number of
retrieved passages, so the time is dominated by the caller's retriever, or,
for a plain list of passages, by building the in-memory BM25 index (linear in
source words).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from draftsmith.text.blocks import markdown_blocks
from draftsmith.text.phrases import extract_keyphrases
from draftsmith.text.sentences import (
    ABBREVIATIONS,
    FUNCTION_WORDS,
    list_items,
    looks_like_heading_line,
    split_sentences_in,
)
from draftsmith.text.tokens import content_words, stem, tokenize
from draftsmith.text.words import normalize_whitespace, word_count

from ..citations import (
    MARKER_RE,
    SourceRegistry,
    grounding,
    split_body,
)
from ..draft import as_retriever, finish_draft, join_parts
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import retrieve_unique
from ..types import (
    Cancelled,
    Draft,
    Emit,
    GenerationRequest,
    OutlineSection,
    Passage,
    Sources,
    target_words,
)

# --------------------------------------------------------------------------
# tunables

SECTIONS_FOR_LENGTH = {"short": 2, "medium": 3, "long": 5}
TOPIC_K = {"short": 40, "medium": 60, "long": 90}
SECTION_K = 14
INTRO_SHARE = 0.14
CONCLUSION_SHARE = 0.11
MAX_SIM = 0.5  # Jaccard above this = redundant
REDUNDANCY_WEIGHT = 0.3
PARA_MAX_SENTENCES = 5
PARA_MAX_WORDS = 130
#: bonus of a paragraph by its number of sentences (one sentence is a last resort)
LENGTH_BONUS = {1: -0.15, 2: 0.0, 3: 0.04, 4: 0.06, 5: 0.06}

GENERIC_HEADINGS = {
    "overview",
    "introduction",
    "intro",
    "summary",
    "conclusion",
    "conclusions",
    "concluding remarks",
    "abstract",
    "faq",
    "faqs",
    "notes",
    "note",
    "contents",
    "table of contents",
    "references",
    "bibliography",
    "appendix",
    "acknowledgements",
    "acknowledgments",
    "acknowledgement",
    "acknowledgment",
    "index",
    "preface",
    "foreword",
    "about",
    "background",
    "discussion",
    "results",
    "result",
    "methods",
    "method",
    "related work",
    "future work",
    "further reading",
    "see also",
    "example",
    "examples",
    "usage",
    "details",
    "misc",
    "other",
    "general",
    "getting started",
    "installation",
    "license",
    "changelog",
    "todo",
    "sources",
    "glossary",
    "table",
    "tables",
    "figure",
    "figures",
    "preliminaries",
    "motivation",
    "practice tips",
    "related provisions",
    "external links",
    "notes and references",
    # German / French / Spanish
    "einleitung",
    "einführung",
    "fazit",
    "zusammenfassung",
    "vorwort",
    "inhaltsverzeichnis",
    "inhalt",
    "literatur",
    "literaturverzeichnis",
    "danksagung",
    "danksagungen",
    "anhang",
    "übungsaufgaben",
    "lösungen der übungsaufgaben",
    "stichwortverzeichnis",
    "symbolverzeichnis",
    "abkürzungsverzeichnis",
    "bildquellen",
    "résumé",
    "sommaire",
    "bibliographie",
    "annexe",
    "resumen",
    "conclusión",
    "conclusiones",
    "introducción",
}
#: headings under which a document sums itself up (good conclusion material)
_SUMMARY_HEADING = re.compile(
    r"\b(?:conclusions?|concluding|summary|summari[sz]ing|discussion|future work|outlook|"
    r"lessons learned|takeaways?|wrap-?up|final thoughts|fazit|zusammenfassung|ausblick|"
    r"résumé|en résumé|conclusión|conclusiones|conclusione)\b",
    re.IGNORECASE,
)
#: headings near the start of a document that introduce it (good introduction material)
_INTRO_HEADING = re.compile(
    r"\b(?:abstract|introduction|overview|what is|about|einleitung|einführung|überblick|"
    r"introducción|présentation)\b",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(
    r"\b(?:acknowledge?ments?|thanks|preface|foreword|copyright|licen[cs]e|dedication|"
    r"about the authors?|danksagung(?:en)?|vorwort|impressum|remerciements|avant-propos|"
    r"agradecimientos|pr[oó]logo)\b",
    re.IGNORECASE,
)
CONCLUSION_HEADING = {
    "en": "Conclusion",
    "fr": "Conclusion",
    "de": "Fazit",
    "es": "Conclusión",
    "it": "Conclusione",
    "pt": "Conclusão",
    "nl": "Conclusie",
    "sv": "Slutsats",
    "da": "Konklusion",
    "no": "Konklusjon",
    "pl": "Podsumowanie",
    "ru": "Заключение",
    "ja": "まとめ",
    "zh": "结论",
    "ko": "결론",
}
#: (introduction framing sentence, same without the topic, conclusion recap, "and", "more")
FRAMING = {
    "en": (
        "This post looks at {topic}: {parts}.",
        "This post covers {parts}.",
        "To recap, this post covered {parts}.",
        "and",
        "more",
    ),
    "de": (
        "Dieser Beitrag behandelt {topic}: {parts}.",
        "Dieser Beitrag behandelt {parts}.",
        "Zusammengefasst ging es um {parts}.",
        "und",
        "mehr",
    ),
    "fr": (
        "Cet article porte sur {topic} : {parts}.",
        "Cet article aborde {parts}.",
        "En résumé, cet article a abordé {parts}.",
        "et",
        "plus encore",
    ),
    "es": (
        "Este artículo trata sobre {topic}: {parts}.",
        "Este artículo trata {parts}.",
        "En resumen, este artículo trató {parts}.",
        "y",
        "más",
    ),
}
_LANG_MARKERS = {
    "en": {"the", "and", "of", "to", "is", "in", "that", "with", "for", "are"},
    "de": {"der", "die", "und", "ist", "nicht", "das", "ein", "eine", "mit", "wird", "sich"},
    "fr": {"le", "la", "les", "et", "est", "des", "une", "dans", "pour", "que"},
    "es": {"el", "los", "las", "y", "es", "del", "una", "para", "que", "por"},
}

#: a sentence that leans on the one before it: only usable right after it
_DANGLING = re.compile(
    r"^(?:this|these|that|those|it|its|it's|they|their|them|such|he|she|his|her|here|"
    r"therefore|thereby|there(?:in|of)|both|neither|however|but|and|or|nor|also|moreover|"
    r"furthermore|additionally|in addition|thus|hence|so|yet|still|then|now|instead|otherwise|"
    r"similarly|likewise|in contrast|by contrast|conversely|on the other hand|nevertheless|"
    r"nonetheless|consequently|as a result|accordingly|finally|first(?:ly)?|second(?:ly)?|"
    r"third(?:ly)?|next|lastly|last|meanwhile|again|for example|for instance|e\.g\.|i\.e\.|"
    r"in this (?:case|way|example|setting|sense|regard|context)|in that case|in such (?:a )?cases?|"
    r"to this end|for this reason|for these reasons|the latter|the former|the same|the above|"
    r"the following|yes|no|other|another|each of these|all of these|some of these|one of these|"
    r"many of these|most of these|as (?:shown|seen|discussed|mentioned|described|noted|explained|"
    r"stated|above|below|such|before|well)|where|which|whereas|after that|before that|"
    r"at the same time|on the contrary|unlike (?:this|these|that)|like this|in turn|"
    r"in particular|particularly|specifically|more specifically|note that|because of this|"
    r"due to this|even so|only then|"
    # German / French / Spanish
    r"dies|diese|dieser|dieses|diesen|es|er|sie|daher|deshalb|dabei|damit|dann|hier|somit|"
    r"außerdem|aber|und|oder|jedoch|auch|ebenso|ce|cette|ces|il|elle|ils|elles|mais|donc|ainsi|"
    r"cependant|esto|este|esta|estos|estas|pero|sin embargo|además)\b",
    re.IGNORECASE,
)
#: "... not to do that.", "... is shown in this." - refers back to something before it
_ENDS_ON_REFERENCE = re.compile(
    r"\b(?:this|that|these|those|it|them|there|here|above|so)[\"'”’)]*[.!?][\"'”’)]*$",
    re.IGNORECASE,
)
#: strict "X is a ..." / "X refers to ..." (a sentence that defines its subject)
_DEFINES = re.compile(
    r"\b(?:is|are|was|were)\s+(?:a|an|the|one|any|generally|usually|typically|commonly|often|"
    r"mostly|defined|called|known|used|considered)\b|\brefers? to\b|\bmeans?\b|"
    r"\bconsists? of\b|\bdescribes?\b|\bist (?:ein|eine|der|die|das)\b|\bsind (?:die|eine?)\b|"
    r"\bbezeichnet\b|\bhei(?:ß|ss)(?:t|en)\b|\bnennt man\b|\best (?:un|une|le|la)\b|\bes (?:un|una|el|la)\b",
    re.IGNORECASE,
)
_META = re.compile(
    r"\b(?:fig(?:ure)?s?\.?\s*\d|tables?\s+\d|tab\.\s*\d|eq(?:uation)?s?\.?\s*\(?\d|"
    r"sections?\s+\d|appendix|chapter\s+\d|see (?:above|below)|shown (?:above|below)|"
    r"as follows|the following|listed below|page \d|p\.\s*\d|footnote|et al\.?\s*\(\d{4}|"
    r"\(\d{4}\)|\b\d{4}[a-z]?\)|(?:next|previous|following|last|this) (?:section|chapter|paragraph)|"
    r"abbildung\s+\d|tabelle\s+\d)",
    re.IGNORECASE,
)
_SOFT_META = re.compile(
    r"\b(?:this paper|this section|this chapter|this article|this document|this report|this guide|"
    r"in this work|we propose|our approach|our method|click|below|above|here is|here are|"
    r"as mentioned|as described|mentioned earlier|described earlier|refer to|for more details|"
    r"for more information|more details)\b",
    re.IGNORECASE,
)
_STRONG_SUMMARY = re.compile(
    r"(?:^overall\b|\boverall,)|"
    r"\b(?:in summary|to summari[sz]e|summing up|in conclusion|to conclude|in short|"
    r"taken together|all in all|in sum|we (?:have )?(?:presented|proposed|introduced|described|"
    r"shown|showed|demonstrated|found|conclude[sd]?|obtained)|(?:this|our) (?:paper|work|article|"
    r"study|chapter|report) (?:has )?(?:presented|proposed|introduced|described|shown|showed)|"
    r"results? (?:show|shows|showed|suggest|suggests|indicate|indicates|demonstrate|confirm)|"
    r"our results|future work|in the future|insgesamt|zusammenfassend|abschließend|"
    r"en résumé|en conclusion|en resumen|en conclusión)\b",
    re.IGNORECASE,
)
_WEAK_SUMMARY = re.compile(
    r"\b(?:therefore|thus|recommend\w*|should|important|key|best|ensure|ultimately|"
    r"as a result|allows?|enables?|helps?|benefits?|open questions?|improve)\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"\b(?:is an?|is the|are|refers? to|is defined as|are defined as|can be defined as|means?|"
    r"describes?|consists? of|is called|are called|known as|provides?|allows?|enables?|"
    r"lets? you|helps?|ist ein|ist eine|sind|bezeichnet|hei(?:ß|ss)(?:t|en)|nennt man|"
    r"est un|est une|es un|es una)\b",
    re.IGNORECASE,
)
_SOURCE_REF = re.compile(r"\s?\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]")
#: "(Voorhees, 1999)", "(Chen et al., 2017; Lee and Kim, 2019)"
_AUTHOR_YEAR = re.compile(
    r"\s?\((?:(?:e\.g\.|see|cf\.)[,\s]+)?(?:[A-Z][^()\d;]{0,80}?,?\s(?:19|20)\d{2}[a-z]?"
    r"(?:,\s*pp?\.\s*[\d–-]+)?\s*(?:;\s*)?)+\)"
)
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\x7f]")
_TERMINAL = re.compile(r"[.!?。！？][\"'”’)\]»」』）*_]*$")
_ENDS_CLAUSE = re.compile(r"[.!?。！？:][\"'”’)\]»」』）*_]*$")


# --------------------------------------------------------------------------
# sentences


def _dedupe_key(text: str) -> str:
    return " ".join(tokenize(text))


def clean_display(raw: str) -> str:
    """Draft text of a source sentence: whitespace collapsed, hyphenation joined,
    reference markers like "[12]" and author-year citations like "(Smith et al., 2019)"
    removed (they would read as the draft's own citations or clutter a blog post)."""
    text = normalize_whitespace(raw)
    text = _SOURCE_REF.sub("", text)
    text = _AUTHOR_YEAR.sub("", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", text)
    return text.strip()


def _balanced(text: str) -> bool:
    for a, b in ("()", "[]", "{}"):
        if text.count(a) != text.count(b):
            return False
    if text.count("`") % 2 or text.count("**") % 2 or text.count('"') % 2:
        return False
    if text.count("“") != text.count("”"):
        return False
    return True


def sentence_problem(display: str) -> str | None:
    """Why a sentence is not fit for a draft, or None if it is."""
    if not display:
        return "empty"
    if _CTRL.search(display):
        return "control characters"
    cjk = sum(1 for ch in display if "\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    nw = word_count(display)
    if cjk > len(display) * 0.3:
        if not (12 <= len(display) <= 220):
            return "length"
    elif nw < 6 or nw > 60:
        return "length"
    if not _TERMINAL.search(display):
        return "no final punctuation"
    if display.rstrip("*_").endswith((":", "...", "…")):
        return "introduces something"
    first = next((ch for ch in display if ch.isalnum()), "")
    if not first or first.islower() or re.match(r"^\d[\d.,]*\s+[a-z]", display):
        return "starts mid-sentence"
    last = re.search(r"(?:^|\s)([\w.]+)\.[\"'”’)\]]*$", display)
    if last and (
        (len(last.group(1)) == 1 and last.group(1).islower())
        or last.group(1).lower() in _END_ABBREVIATIONS
    ):
        return "ends on an abbreviation"
    if display[0] in ",;:)]}-–—(" or display.startswith(
        ("#", "|", ">", "```", "Source:", "Sources:")
    ):
        return "fragment"
    if re.search(r"\{[\w:-]+\}`|,\s*(?:19|20)\d{2}\.?$", display):
        return "markup"
    if "|" in display or "```" in display or _HTML_TAG.search(display) or "\\" in display:
        return "markup"
    if not _balanced(display):
        return "unbalanced"
    if "http://" in display or "https://" in display or re.search(r"\bwww\.\w", display):
        if not re.search(r"\]\(https?://", display):
            return "bare url"
    if "@" in display and re.search(r"\w@\w", display):
        return "e-mail address"
    if re.search(r"\$\d|^\d+\s*/\s*\d+\s", display):
        return "table row"
    nonspace = [ch for ch in display if not ch.isspace()]
    letters = [ch for ch in nonspace if ch.isalpha()]
    digits = sum(ch.isdigit() for ch in nonspace)
    if len(letters) < 0.6 * len(nonspace) or digits > 0.2 * len(nonspace):
        return "not prose"
    if sum(ch.isupper() for ch in letters) > 0.6 * len(letters):
        return "all caps"
    words = [w for w in re.findall(r"[^\W\d_]+", display) if len(w) > 3]
    if len(words) >= 4:
        caps = sum(1 for w in words if w[0].isupper())
        if caps > 0.6 * len(words) and not _mostly_german_nouns(display):
            return "title case run"
    if _META.search(display):
        return "figure/table reference"
    if _MATH.search(display) or _EQUATION.search(display):
        return "math"
    singles = [
        t for t in re.findall(r"(?<![\w'’.-])[^\W\d_](?![\w'’.-])", display) if t not in "aAIoOyeè"
    ]
    if len(singles) >= 4:
        return "math"
    if _BIBLIO.search(display):
        return "bibliography"
    if _FOOTER.search(display):
        return "header or footer"
    if _INLINE_HEADING.search(display) or _RUN_IN_LABEL.match(display):
        return "run-in heading"
    if _FOOTNOTE_GLUE.search(display + " "):
        return "footnote marker"
    for m in _MID_PERIOD.finditer(display):
        if m.group(1).lower() not in ABBREVIATIONS:
            return "broken sentence"
    return None


_GERMAN_WORDS = frozenset(
    """der die das den dem des ein eine einen einem einer und oder aber ist sind wird werden
    wurde wurden nicht sich im von vom zu zum zur für auf aus bei nach mit auch wenn dass als
    es wir sie man kann diese dieses dieser wie noch nur über unter""".split()
)


def _mostly_german_nouns(display: str) -> bool:
    """German capitalises nouns: a capitalised run is normal prose there."""
    toks = set(tokenize(display))
    return len(toks & _GERMAN_WORDS) >= 2


#: abbreviations a sentence does not end on ("... in derselben Halbebene bzgl.")
_END_ABBREVIATIONS = frozenset(
    """bzgl bzw vgl usw ggf evtl inkl sog ca etc z.b d.h u.a s.o s.u e.g i.e cf vs al fig eq
    no nr bros inc corp ltd co approx resp dr prof mr mrs ms st""".split()
)
_MID_PERIOD = re.compile(r"(?<![\w.])([\w.]*\w)\. [a-z]")
_MATH = re.compile(
    r"[≤≥×∑∏√∈∉∀∃·˜ˆ∗⊂⊆⊃⊇∩∪≈≠≡≅∼±→←↦⇒⇔↔∂∇∫∞∠⊥∥∅\u0370-\u03ff]|\b[a-z]\s?\(\s?[a-z]\s?\)"
)
_EQUATION = re.compile(r"=|\s[<>]\s|\w\s?[<>]\s?\w|[<>]\(")
_BIBLIO = re.compile(
    r"\b(?:in proceedings|proceedings of|arxiv|preprint|pp\.\s*\d|pages\s+\d+\s*[–-]\s*\d+|"
    r"association for computational linguistics|journal of|conference on|vol\.\s*\d|doi:|isbn)\b",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^\d+\s+\d+(?:\.\d+)*\.?\s+\S|©|\bcopyright\b|\ball rights reserved\b|\bpage \d+ of \d+\b|\bconfidential\b|"
    r"\bdownloaded from\b|\bprinted in\b",
    re.IGNORECASE,
)
_INLINE_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\s+)?[A-Z][\w-]*(?:\s+(?:[a-z][\w-]*|[A-Z]{2,}|\([A-Z]+\))){0,4}\s+"
    r"(?:We|One|For|The|In|Our|This|It|A|An|To|As|Given|Although|While|Since|Unlike|Here|"
    r"Besides|When|If|During|After|Before|Using|With|Most|Many|Some|All|Each|These|Both|"
    r"There|Instead|However|Because|Once|Our|Finally|First|Second)\s"
    r"|\b\d+(?:\.\d+)*\s+[A-Z][\w-]*(?:\s+[A-Z(][\w)-]*)+\s+(?:We|The|In|Our|This)\s"
    r"|(?:^|\s)\d{1,2}[A-Z](?:[a-z]|[A-Z]{2})"
)
_RUN_IN_LABEL = re.compile(
    r"^(?:Beispiel|Bemerkung|Definition|Satz|Lemma|Korollar|Theorem|Proposition|Corollary|"
    r"Example|Remark|Proof|Beweis|Aufgabe|Exercise|Problem|Übung|Hinweis|Note|Fall|Case|"
    r"Step|Schritt|Algorithm|Algorithmus)\s*(?:\d[\d.]*\s*[a-z]?\b|:|\()"
    r"|^(?:Vor|Beh|Bew|Bsp|Bem|Def|Kor|Vgl)\.\s*:?"
)
_FOOTNOTE_GLUE = re.compile(
    r"\b[a-z]{4,}\d{1,2}[,.;:]?\s|\.\d{1,2}\s+[A-Z]|\b[a-z]{3,}\d{1,2}\s+[A-Z]"
)
_YEAR = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b|\bet al\b|\bProceedings\b|\barXiv\b")


def looks_like_bibliography(text: str) -> bool:
    """A reference list: years, "et al." and "Proceedings" in almost every line."""
    words = len(text.split())
    if words < 20:
        return False
    return len(_YEAR.findall(text)) * 100 / words >= 3.0


# --------------------------------------------------------------------------
# headings

_HEADING_NUM = re.compile(
    r"^(?:(?:chapter|section|part|kapitel|teil)\s+)?(?:\(?\d+(?:\.\d+)*\)?\.?|[IVXLC]+\.|[A-Z]\.)\s+",
    re.I,
)
_SMALL = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "but",
    "by",
    "for",
    "in",
    "of",
    "on",
    "or",
    "the",
    "to",
    "vs",
    "vs.",
    "via",
    "with",
    "from",
    "into",
    "per",
    "und",
    "oder",
    "der",
    "die",
    "das",
    "von",
    "mit",
    "für",
    "im",
    "et",
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "y",
    "del",
}
#: words that make a key phrase a poor heading when they start or end it
_WEAK_PHRASE_WORDS = frozenset(
    """
certain several various different preliminary existing same similar other many new good following
possible large small given whole single multiple each more most less least much few high low main real
simple specific particular general common usual important better best previous next last first second
third overall total actual current additional further full true false able likely due used based related
called known shown way ways case cases type types kind kinds number numbers lot part parts set sets use
example examples thing things time times order fact point points level amount form forms terms end side
result results problem problems reason reasons approach approaches method methods step steps issue issues
value values top bottom left right instance instances sort lack well also even just still only
clear strong weak major significant key great little big wide final initial standard regular
certain obvious interesting able
""".split()
)


def _strip_md(h: str) -> str:
    h = re.sub(r"^#+\s*", "", h.strip())
    h = re.sub(r"\s#+\s*$", "", h)
    h = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", h)  # links
    return h.replace("**", "").replace("__", "").replace("`", "")


def _title_case_word(core: str, first: bool) -> str:
    if not first and core.lower() in _SMALL:
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


def heading_problem(
    h: str | None, case_map: dict[str, str] | None = None
) -> tuple[str | None, str]:
    """(cleaned heading, problem): problem is "" for a heading fit for a blog section,
    "generic" for a real but bland one ("Introduction", "Results"), "junk" for text that
    is no heading at all (a fragment, a caption, code, mostly numbers, too long)."""
    if not h:
        return None, "junk"
    for sep in (" > ", " / ", " › ", " » "):
        if sep in h:
            h = h.split(sep)[-1]
    h = normalize_whitespace(_strip_md(h))
    h = _HEADING_NUM.sub("", h).strip(" :.-–—#*_")
    h = _HEADING_NUM.sub("", h).strip(" :.-–—#*_")  # "CHAPTER 3 - 1. ..."
    h = re.sub(r"(?i)^(?:example|step|part|exercise|lesson|tip)\s+\d+\s*[:.]\s*", "", h)
    if not h or len(h) > 90:
        return None, "junk"
    words = h.split()
    if not (1 <= len(words) <= 10):
        return None, "junk"
    alnum = [c for c in h if c.isalnum()]
    if not alnum or sum(c.isdigit() for c in alnum) > 0.3 * len(alnum):
        return None, "junk"
    if not alnum[0].isupper() and not alnum[0].isdigit():
        return None, "junk"  # starts in lower case: a fragment
    if _HTML_TAG.search(h) or "|" in h or "@" in h or "http" in h or "\\" in h:
        return None, "junk"
    if re.search(r"\w[:+=_]\w|[{}<>$§]|:\s*\S*\d", h):
        return None, "junk"  # "PER+SBJ:hit", "Train: 1k", code, formulas, statutes
    if re.search(r"\.\s*\.\s*\.|…", h):
        return None, "junk"  # table of contents leader
    for m in re.finditer(r"([\w.]*)[.!?]\s+\S", h.rstrip(".")):
        if m.group(1).lower().strip(".") not in ABBREVIATIONS:
            return None, "junk"  # a sentence, not a heading
    if re.match(r"(?i)^(?:figure|fig\.|table|tab\.|abbildung|tabelle)\s*\d", h):
        return None, "junk"
    if re.match(r"^[^\W\d_]+\s+\d+[a-z]?$", h) or re.search(
        r"(?i)\b(?:aufgabe|exercise|übung|lösung|solution|beispiel|example|problem|definition|"
        r"bemerkung|satz|lemma|theorem|figure|table|abbildung|tabelle|chapter|kapitel|section|"
        r"appendix|anhang)\s+\d+[a-z]?$",
        h,
    ):
        return None, "junk"  # a label: "Aufgabe 8", "Lösung zu Aufgabe 7", "Chapter 3"
    if not _balanced(h):
        return None, "junk"
    last = re.sub(r"^\W+|\W+$", "", words[-1]).lower()
    if last in FUNCTION_WORDS and len(words) > 1:
        return None, "junk"  # "Results of", "The use of the"
    letters = [c for c in h if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) > 0.8 * len(letters):
        if not (len(words) == 1 and len(h) <= 5):  # not an acronym like "DPR"
            h = _decapitalise(h, case_map)
    low = h.lower().strip()
    if low in GENERIC_HEADINGS or re.sub(r"[^\w\s]", "", low) in GENERIC_HEADINGS:
        return h, "generic"
    if re.match(
        r"^(?:conclusions?|summary|introduction|references|acknowledge?ments?|appendix|abstract|"
        r"related work|future work|bibliography)\b(?:\s+(?:and|&)\s+.*)?$",
        low,
    ):
        return h, "generic"
    return h, ""


def clean_heading(h: str | None, case_map: dict[str, str] | None = None) -> str | None:
    """A source heading usable as a blog section heading, or None (generic, a fragment,
    a caption, mostly numbers, too long). ALL CAPS headings come back in Title Case."""
    text, problem = heading_problem(h, case_map)
    return None if problem else text


def _is_summary_heading(raw: str | None) -> bool:
    return bool(raw) and bool(_SUMMARY_HEADING.search(_strip_md(raw or "")))


def _heading_key(h: str) -> str:
    return " ".join(sorted(set(content_words(h)))) or h.lower()


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
        elif i > 0 and w.lower() in _SMALL:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


def good_heading_phrase(phrase: str, case_map: dict[str, str]) -> bool:
    """A key phrase that names a sub-topic: two to four words, not starting or ending
    with a vague word ("certain type", "preliminary system"), not ending in an adverb
    or a participle."""
    words = phrase.split()
    if not (2 <= len(words) <= 4):
        return False
    low = [w.lower() for w in words]
    if low[0] in _WEAK_PHRASE_WORDS or low[-1] in _WEAK_PHRASE_WORDS:
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


# --------------------------------------------------------------------------
# candidates


@dataclass(eq=False)
class Cand:
    """A source sentence fit for the draft."""

    idx: int
    passage: Passage
    s: int  # offsets in passage.text
    e: int
    display: str
    words: frozenset[str]
    nwords: int
    doc_order: int
    dstart: int  # offsets in the document
    dend: int
    #: document end of the sentence right before it (None: none, or a heading/other block between)
    prev_end: int | None
    #: ... and of the one before that (a rejected sentence may sit in between)
    prev_end2: int | None
    #: leans on the sentence before it ("This ...", "But ..."): only usable right after it
    dangling: bool
    #: its beginning is a real sentence start (False: a fragment; None: not known)
    start_ok: bool | None
    penalty: float
    key: str
    #: the source heading it sits under (raw text) and where that heading is
    heading: str | None
    head_pos: int
    first_in_block: bool
    kind: str
    #: the sentence after it leans on it ("... two articles A and B." "These ...")
    leads_on: bool = False

    @property
    def doc(self) -> str:
        return self.passage.document_id

    @property
    def pos(self) -> tuple[int, int, int]:
        return (self.doc_order, self.dstart, self.idx)

    @property
    def usable(self) -> bool:
        return self.start_ok is True


def _continues(raw: str) -> bool:
    """The text clearly runs on after this piece (ends with a comma or a function word)."""
    t = raw.rstrip()
    if not t:
        return False
    if t[-1] in ",;-–—(/&+":
        return True
    last = re.sub(r"^\W+|\W+$", "", t.split()[-1]).lower() if t.split() else ""
    return last in FUNCTION_WORDS and not _ENDS_CLAUSE.search(t)


#: sentences left out for reasons that do not break the flow of the text around them
_SKIPPABLE = {
    "figure/table reference",
    "math",
    "bibliography",
    "bare url",
    "markup",
    "not prose",
    "table row",
    "header or footer",
    "footnote marker",
    "e-mail address",
    "control characters",
}
_NUMBERED_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)\s+[^\W\d_]")


def _tabular(raw: str) -> bool:
    """Several lines, most of them ending in a number: rows of a table."""
    lines = [ln.strip() for ln in raw.split("\n") if ln.strip()]
    if len(lines) < 2:
        return False
    numeric = sum(1 for ln in lines if re.search(r"(?:^|\s)[\d.,/%()+-]*\d[\d.,/%()+-]*$", ln))
    return numeric * 2 >= len(lines)


def _prose_like(display: str) -> bool:
    """Looks like running prose: six or more words, a capital first, final punctuation."""
    first = next((ch for ch in display if ch.isalnum()), "")
    return (
        word_count(display) >= 6
        and first.isupper()
        and bool(_TERMINAL.search(display))
        and not re.search(r"\$\d|\|", display)
    )


def _merge_intervals(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1] + 4:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _covered(merged: list[tuple[int, int]], a: int, b: int) -> bool:
    i = bisect.bisect_right(merged, (a, float("inf"))) - 1
    return i >= 0 and merged[i][0] <= a and merged[i][1] >= b


class CandidatePool:
    """Splits passages into quality-filtered candidate sentences, once per passage.

    Besides the sentences it remembers, per document, every piece of text it has
    split (to tell whether a passage that starts mid-sentence shows a sentence's
    beginning) and every heading it has seen (so a sentence of a PDF passage knows
    the section heading printed earlier on the page)."""

    def __init__(self) -> None:
        self.by_chunk: dict[str, list[Cand]] = {}
        self.by_span: dict[tuple[str, int, int], Cand] = {}
        self.doc_order: dict[str, int] = {}
        self.seen_keys: set[str] = set()
        self.segments: dict[str, list[tuple[int, int, bool, bool]]] = {}
        self.headings: dict[str, list[tuple[int, str]]] = {}
        self.covered: dict[str, list[tuple[int, int]]] = {}
        self.extent: dict[str, int] = {}
        #: heading lines at the very end of a passage: (start, end, text)
        self.trailing: dict[str, list[tuple[int, int, str]]] = {}
        self.all: list[Cand] = []
        self._dirty = False

    def doc(self, document_id: str) -> int:
        return self.doc_order.setdefault(document_id, len(self.doc_order))

    def usable(self, p: Passage) -> list[Cand]:
        return [c for c in self.cands(p) if c.usable]

    def cands(self, p: Passage) -> list[Cand]:
        got = self.by_chunk.get(p.chunk_id)
        if got is not None:
            return got
        out: list[Cand] = []
        self.by_chunk[p.chunk_id] = out
        doc = p.document_id
        order = self.doc(doc)
        self.covered.setdefault(doc, []).append((p.start, p.end))
        self.extent[doc] = max(self.extent.get(doc, 0), p.end)
        self._dirty = True
        text = p.text
        if looks_like_bibliography(text):
            return out
        segs = self.segments.setdefault(doc, [])
        heads = self.headings.setdefault(doc, [])
        heading = p.heading or None
        head_pos = p.start if heading else -1
        if heading:
            heads.append((p.start, heading))
        prev: tuple[int, bool, bool] | None = None  # (end, ends a clause, runs on)
        prev2: int | None = None
        boundary = False  # a heading, table, list, ... since ``prev``
        pending: tuple[int, str] | None = None  # a heading line waiting for its first sentence
        prev_skippable = False  # ``prev`` was dropped but the text reads on without it
        prev_start = cur_start = 0  # document start of ``prev`` (and of the current sentence)
        for b in markdown_blocks(text):
            if b.kind == "heading":
                h = _strip_md(text[b.start : b.end].split("\n")[0])
                if h:
                    heading, head_pos = h, p.start + b.start
                    heads.append((head_pos, h))
                segs.append((p.start + b.start, p.start + b.end, True, False))
                prev, prev2, boundary, pending = None, None, True, None
                continue
            if b.kind not in ("prose", "list"):
                prev, prev2, boundary, pending = None, None, True, None
                continue
            items = list_items(text, b) if b.kind == "list" else [(b.start, b.end)]
            multiline = "\n" in text[b.start : b.end]
            for a, z in items:
                # a "list item" running over several lines of extracted text ("A. Author\n
                # Abstract\nA tide pool is ...") is prose that happens to start like one
                kind = b.kind if b.kind == "prose" or text.count("\n", a, z) < 2 else "prose"
                if b.kind == "list":
                    prev, prev2, boundary = None, None, True
                    multiline = kind == "prose"
                first = True
                for sent in split_sentences_in(text, a, z, kind, join_wrapped_lines=True):
                    ds, de = p.start + sent.start, p.start + sent.end
                    raw = sent.text
                    if (
                        kind == "prose"
                        and "\n" not in raw
                        and not _ENDS_CLAUSE.search(raw)
                        and looks_like_heading_line(raw)
                        # a line of its own in Markdown is a caption, unless numbered
                        and (multiline or _NUMBERED_HEADING.match(raw.strip()))
                    ):
                        if not any(ch.isalpha() for ch in raw):
                            continue  # a page number between two lines: transparent
                        segs.append((ds, de, True, False))
                        pending = (ds, raw)
                        prev, prev2, boundary = (de, True, False), None, True
                        first = False
                        continue
                    display = clean_display(raw)
                    problem = "table row" if _tabular(raw) else sentence_problem(display)
                    if boundary:
                        start_ok: bool | None = True
                    elif prev is None:
                        start_ok = True if p.start == 0 else None
                    elif first:  # a new paragraph: only a clear run-on makes it a fragment
                        start_ok = not prev[2]
                    else:
                        start_ok = prev[1]
                    ends = bool(_ENDS_CLAUSE.search(raw.rstrip()))
                    segs.append((ds, de, ends, _continues(raw)))
                    if pending is not None:
                        # a heading line is a heading if real prose follows it
                        if (
                            start_ok
                            and _prose_like(display)
                            and heading_problem(pending[1])[1] != "junk"
                        ):
                            heading, head_pos = pending[1], pending[0]
                            heads.append(pending)
                        pending = None
                    pe = prev[0] if prev is not None and not boundary else None
                    pe2 = prev2 if not boundary and prev_skippable else None
                    prev2 = prev[0] if prev is not None else None
                    prev_start, cur_start = cur_start, ds
                    prev = (de, ends, _continues(raw))
                    prev_skippable = problem in _SKIPPABLE
                    boundary = False
                    block_first, first = first, False
                    if problem or start_ok is False:
                        continue
                    if kind == "list" and word_count(display) < 8:
                        continue
                    span = (doc, ds, de)
                    old = self.by_span.get(span)
                    if old is not None:  # the same sentence in an overlapping passage
                        if old.start_ok is None and start_ok is not None:
                            old.start_ok = start_ok
                        if old.prev_end is None and pe is not None:
                            old.prev_end, old.prev_end2 = pe, pe2
                        if old.heading is None and heading:
                            old.heading, old.head_pos = heading, head_pos
                        if old not in out:
                            out.append(old)
                        continue
                    key = _dedupe_key(display)
                    if key in self.seen_keys:  # verbatim duplicate of a sentence elsewhere
                        continue
                    words = frozenset(content_words(display))
                    if not words:
                        continue
                    self.seen_keys.add(key)
                    penalty = 0.0
                    if _SOFT_META.search(display):
                        penalty += 0.2
                    if display.rstrip("*_\"'”’)").endswith("?"):
                        penalty += 0.25
                    if kind == "list":
                        penalty += 0.1
                    c = Cand(
                        idx=len(self.all),
                        passage=p,
                        s=sent.start,
                        e=sent.end,
                        display=display,
                        words=words,
                        nwords=word_count(display),
                        doc_order=order,
                        dstart=ds,
                        dend=de,
                        prev_end=pe,
                        prev_end2=pe2,
                        dangling=bool(
                            _DANGLING.match(display.lstrip("*_\"'“‘(¿¡"))
                            or _ENDS_ON_REFERENCE.search(display)
                        ),
                        start_ok=start_ok,
                        penalty=penalty,
                        key=key,
                        heading=heading,
                        head_pos=head_pos,
                        first_in_block=block_first,
                        kind=kind,
                    )
                    if c.dangling and pe is not None:
                        before = self.by_span.get((doc, prev_start, pe)) if prev_start else None
                        if before is not None:
                            before.leads_on = True
                    self.by_span[span] = c
                    self.all.append(c)
                    out.append(c)
        if pending is not None and heading_problem(pending[1])[1] != "junk":
            # the passage ends on a heading line: its text is in the next passage
            self.trailing.setdefault(doc, []).append(
                (pending[0], pending[0] + len(pending[1]), pending[1])
            )
        return out

    def resolve(self) -> None:
        """Settle what one passage cannot tell alone, using every passage seen so far:
        whether a sentence at the very start of a passage is a sentence's real beginning
        (else it is never used), and the heading of sentences printed before the first
        heading of their passage (only when the text in between has been seen)."""
        if not self._dirty:
            return
        self._dirty = False
        known = {(c.doc, c.dstart) for c in self.all if c.start_ok is not False}
        for d, lines in self.trailing.items():
            for s, e, text in lines:
                # a heading line that ends one passage, followed by prose in the next
                if (
                    any((d, e + k) in known for k in range(1, 5))
                    and (s, text) not in self.headings[d]
                ):
                    self.headings[d].append((s, text))
        segs = {d: sorted(v) for d, v in self.segments.items()}
        seg_starts = {d: [s[0] for s in v] for d, v in segs.items()}
        heads = {d: sorted(v) for d, v in self.headings.items()}
        cover = {d: _merge_intervals(v) for d, v in self.covered.items()}
        for c in self.all:
            d = c.doc
            if c.start_ok is None:
                ss = segs.get(d, [])
                i = bisect.bisect_left(seg_starts.get(d, []), c.dstart) - 1
                verdict: bool | None = None
                best: tuple[int, int, bool, bool] | None = None
                steps = 0
                while i >= 0 and steps < 16:
                    s, e, ends, runs_on = ss[i]
                    if s < c.dstart < e:
                        verdict = False  # another passage shows it is the tail of a sentence
                        break
                    if e <= c.dstart and (best is None or e > best[1]):
                        best = ss[i]
                    i -= 1
                    steps += 1
                if verdict is None and best is not None and c.dstart - best[1] <= 4:
                    verdict = (not best[3]) if c.dstart - best[1] >= 2 else best[2]
                    if verdict and c.prev_end is None:
                        c.prev_end = best[1]
                c.start_ok = verdict
            if c.heading is None and d in heads:
                hs = heads[d]
                k = bisect.bisect_left(hs, (c.dstart,)) - 1
                if k >= 0 and _covered(cover[d], hs[k][0], c.dstart):
                    c.heading, c.head_pos = hs[k][1], hs[k][0]


_HIT_CACHE: dict[tuple[frozenset[str], frozenset[str]], frozenset[str]] = {}


def _hits(words: frozenset[str], terms: frozenset[str]) -> frozenset[str]:
    """The terms found among ``words``: the same stem, or for words of six letters or
    more the same first five letters ("Mannigfaltigkeiten" ~ "Mannigfaltigkeit")."""
    key = (words, terms)
    got = _HIT_CACHE.get(key)
    if got is None:
        found = set(words & terms)
        long_terms = [t for t in terms if len(t) >= 6 and t not in found]
        if long_terms:
            prefixes = {w[:5] for w in words if len(w) >= 6}
            found.update(t for t in long_terms if t[:5] in prefixes)
        got = frozenset(found)
        if len(_HIT_CACHE) > 200_000:
            _HIT_CACHE.clear()
        _HIT_CACHE[key] = got
    return got


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


# --------------------------------------------------------------------------
# outline


@dataclass
class SectionPlan:
    heading: str
    points: list[str]
    query: str
    passages: list[Passage]
    pos: tuple[int, int]
    #: heading key of the source section it is made of ("" for a key-phrase section)
    key: str = ""
    #: sentences (Cand.idx) that belong to it
    members: set[int] = field(default_factory=set)
    #: stems that say a sentence is about its sub-topic (key-phrase sections)
    focus: frozenset[str] = frozenset()
    budget: int = 0
    paras: list[list[Cand]] = field(default_factory=list)
    pool: list[Cand] = field(default_factory=list)
    relevance: dict[int, float] = field(default_factory=dict)
    chains: list[list[Cand]] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(c.nwords for para in self.paras for c in para)


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
        elif english and (i == 0 or w.lower() not in _SMALL):
            out.append(w[:1].upper() + w[1:])
        else:
            out.append(w)
    res = " ".join(out)
    return res[:1].upper() + res[1:]


def _case_map(cands: Sequence[Cand]) -> dict[str, str]:
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


def detect_language(req: GenerationRequest, passages: Sequence[Passage]) -> str:
    """Two-letter language of the draft: the request's, else guessed from function words
    of the passages ("other" when none of the known ones is clear)."""
    if req.language and req.language.strip():
        return req.language.strip().lower()[:2]
    counts: Counter[str] = Counter()
    n = 0
    for p in passages[:20]:
        for t in tokenize(p.text[:3000]):
            n += 1
            for lang, marks in _LANG_MARKERS.items():
                if t in marks:
                    counts[lang] += 1
    if not counts:
        return "en"
    lang, k = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] != "en"))[0]
    return lang if k >= 0.03 * n else "other"


def _inline_heading(h: str, prose_case: tuple[set[str], set[str]], lang: str) -> str:
    """A section heading inside a sentence: capitalised words the sources write in lower
    case (or only ever in headings) are lowered ("Basic Patterns" -> "basic patterns");
    names and acronyms stay."""
    if lang == "de":
        return h
    lower, upper = prose_case
    out = []
    for w in h.split():
        core = re.sub(r"^\W+|\W+$", "", w)
        low = core.lower()
        if (
            core[:1].isupper()
            and core[1:] == core[1:].lower()
            and (low in lower or low not in upper)
        ):
            out.append(w.replace(core, low, 1))
        else:
            out.append(w)
    return " ".join(out)


def _defines(c: Cand, topic_set: frozenset[str]) -> bool:
    """The sentence defines or introduces a topic term: it starts with the term and
    goes on with "is a", "refers to", ... ("Ducks are ...", "Preemptive Information
    Extraction is an attempt ...")."""
    if not topic_set:
        return False
    words = c.display.split()
    if not _hits(frozenset(content_words(" ".join(words[:4]))), topic_set):
        return False
    return bool(_DEFINES.search(" ".join(words[:9])))


def _prose_case(cands: Sequence[Cand]) -> tuple[set[str], set[str]]:
    """(words seen in lower case, words seen capitalised) inside sentences (not first)."""
    lower: set[str] = set()
    upper: set[str] = set()
    for c in cands:
        for w in re.findall(r"[^\W\d_][\w'’-]*", c.display)[1:]:
            (lower if w.islower() else upper).add(w.lower())
    return lower, upper


def _listing(items: list[str], and_word: str) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"


def _chains(cands: Sequence[Cand]) -> list[list[Cand]]:
    """Runs of sentences that follow each other in a document (at most one rejected
    sentence between two of them, and never before a sentence that leans on it)."""
    out: list[list[Cand]] = []
    for c in sorted(cands, key=lambda c: c.pos):
        if out:
            a = out[-1][-1]
            if a.doc == c.doc and (
                (c.prev_end is not None and c.prev_end == a.dend)
                or (not c.dangling and c.prev_end2 is not None and c.prev_end2 == a.dend)
            ):
                out[-1].append(c)
                continue
        out.append([c])
    return out


class _Selection:
    """Sentences chosen so far (across the whole draft), with cached redundancy."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.selected: list[Cand] = []
        self._ms: dict[int, tuple[float, int]] = {}

    def maxsim(self, c: Cand) -> float:
        v, k = self._ms.get(c.idx, (0.0, 0))
        if k < len(self.selected):
            for s in self.selected[k:]:
                j = _jaccard(c.words, s.words)
                if j > v:
                    v = j
            self._ms[c.idx] = (v, len(self.selected))
        return v

    def add(self, c: Cand) -> None:
        self.used.add(c.idx)
        self.selected.append(c)


def _fill(
    chains: list[list[Cand]],
    rel: dict[int, float],
    budget: int,
    sel: _Selection,
    paras: list[list[Cand]],
    *,
    max_paras: int = 99,
    opener: Callable[[Cand], float | None] | None = None,
    opener_all: bool = False,
) -> int:
    """Greedy MMR over paragraphs: add a run of 2-5 consecutive sentences, or extend a
    paragraph with the sentence after (or before) it, whichever is worth most, until
    ``budget`` more words. ``opener(c)`` (for the first paragraph only) is None if ``c``
    may not open it, else a bonus. Returns the words added."""
    where = {c.idx: (ci, k) for ci, ch in enumerate(chains) for k, c in enumerate(ch)}
    flex = max(20, round(0.2 * budget))
    added = 0
    while added < budget - 10:
        room = budget - added
        best: tuple[tuple[float, int, int], str, int, int, int] | None = None
        if len(paras) < max_paras:
            for ci, ch in enumerate(chains):
                for i, c0 in enumerate(ch):
                    if c0.dangling or c0.idx in sel.used:
                        continue
                    bonus = 0.0
                    if opener is not None and (not paras or opener_all):
                        ob = opener(c0)
                        if ob is None:
                            continue
                        bonus = ob
                    acc_r = 0.0
                    acc_w = 0
                    ms = 0.0
                    for j in range(i, min(len(ch), i + PARA_MAX_SENTENCES)):
                        c = ch[j]
                        if c.idx in sel.used:
                            break
                        sim = sel.maxsim(c)
                        if sim >= MAX_SIM:
                            break
                        acc_w += c.nwords
                        if (j > i and acc_w > PARA_MAX_WORDS) or acc_w > room + flex:
                            break
                        acc_r += rel[c.idx]
                        ms = max(ms, sim)
                        n = j - i + 1
                        val = acc_r / n + LENGTH_BONUS[n] - REDUNDANCY_WEIGHT * ms + bonus
                        if c.leads_on:
                            val -= 0.06  # stops where the source goes on about it
                        key = (val, -c0.idx, -n)
                        if best is None or key > best[0]:
                            best = (key, "new", ci, i, j)
        for pi, para in enumerate(paras):
            if len(para) >= PARA_MAX_SENTENCES:
                continue
            pw = sum(c.nwords for c in para)
            loc = where.get(para[-1].idx)
            if loc is not None and loc[1] + 1 < len(chains[loc[0]]):
                c = chains[loc[0]][loc[1] + 1]
                if (
                    c.idx not in sel.used
                    and c.nwords <= room + flex
                    and pw + c.nwords <= PARA_MAX_WORDS + 25
                ):
                    sim = sel.maxsim(c)
                    if sim < MAX_SIM:
                        key = (rel[c.idx] + 0.05 - REDUNDANCY_WEIGHT * sim, -c.idx, 0)
                        if best is None or key > best[0]:
                            best = (key, "append", pi, loc[0], loc[1] + 1)
            loc = where.get(para[0].idx)
            if (
                loc is not None
                and loc[1] > 0
                and not (opener is not None and pi == 0)
                and not chains[loc[0]][loc[1] - 1].dangling
            ):
                c = chains[loc[0]][loc[1] - 1]
                if (
                    c.idx not in sel.used
                    and c.nwords <= room + flex
                    and pw + c.nwords <= PARA_MAX_WORDS + 25
                ):
                    sim = sel.maxsim(c)
                    if sim < MAX_SIM:
                        key = (rel[c.idx] + 0.03 - REDUNDANCY_WEIGHT * sim, -c.idx, 0)
                        if best is None or key > best[0]:
                            best = (key, "prepend", pi, loc[0], loc[1] - 1)
        if best is None or best[0][0] < -0.05:
            break
        _, action, a, b, z = best
        if action == "new":
            new = chains[a][b : z + 1]
            paras.append(list(new))
        elif action == "append":
            new = [chains[b][z]]
            paras[a].append(new[0])
        else:
            new = [chains[b][z]]
            paras[a].insert(0, new[0])
        for c in new:
            sel.add(c)
            added += c.nwords
    return added


def _tidy_paragraphs(paras: list[list[Cand]], keep_first: bool = False) -> list[list[Cand]]:
    """Source order (the first paragraph stays first if ``keep_first``); a paragraph that
    continues the one before it in the source joins it when they fit together; a lone
    sentence joins a neighbour from the same document."""
    paras = [p for p in paras if p]
    if not paras:
        return []
    head = [paras[0]] if keep_first else []
    rest = sorted(paras[1:] if keep_first else paras, key=lambda p: p[0].pos)
    ordered = head + rest
    out: list[list[Cand]] = []
    for para in ordered:
        if out:
            prev = out[-1]
            same_doc = para[0].doc == prev[-1].doc
            adjacent = same_doc and para[0].prev_end == prev[-1].dend
            # a sentence or so further on, in the same source section
            near = (
                same_doc
                and para[0].heading == prev[-1].heading
                and 0 <= para[0].dstart - prev[-1].dend < 200
            )
            size = len(prev) + len(para)
            words = sum(c.nwords for c in prev) + sum(c.nwords for c in para)
            if (
                (adjacent or (near and min(len(prev), len(para)) <= 2))
                and size <= PARA_MAX_SENTENCES
                and words <= PARA_MAX_WORDS + 25
                and not (keep_first and len(out) == 1 and not adjacent)
            ):
                prev.extend(para)
                continue
        out.append(list(para))
    # lone sentences
    i = 0
    while i < len(out) and len(out) > 1:
        para = out[i]
        if len(para) == 1:
            cands = []
            if i > 0 and out[i - 1][-1].doc == para[0].doc:
                cands.append(i - 1)
            if i + 1 < len(out) and out[i + 1][0].doc == para[0].doc:
                cands.append(i + 1)
            target = min(cands, key=lambda k: len(out[k])) if cands else None
            if target is not None and len(out[target]) < PARA_MAX_SENTENCES + 1:
                if target < i:
                    out[target].extend(para)
                elif not (keep_first and target == 0) and not out[target][0].dangling:
                    out[target][:0] = para
                else:
                    i += 1
                    continue
                del out[i]
                continue
        i += 1
    return out


# --------------------------------------------------------------------------
# the engine


class ExtractiveEngine:
    """Offline engine: every sentence of the draft is copied from a source (apart from
    one templated framing sentence and one recap that name only the topic and the
    section headings)."""

    name = "extractive"
    model: str | None = None

    def __init__(self, *, weak_threshold: float = 0.4) -> None:
        self.weak_threshold = weak_threshold

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Draft:
        prog = Progress(emit, cancelled)
        W = target_words(req.length)

        # ---------------------------------------------------------------- retrieving
        await prog.status("retrieving", "Finding the passages that match the topic")
        retrieve, all_passages = await as_retriever(passages_for)
        prog.check()
        query = " ".join(x for x in (req.topic, req.title or "") if x).strip()
        k0 = TOPIC_K.get(req.length, 60)
        topic_passages = await retrieve_unique(retrieve, query, k0)
        prog.check()
        if len(topic_passages) < 8 and all_passages:
            have = {p.chunk_id for p in topic_passages}
            topic_passages += [p for p in all_passages if p.chunk_id not in have][
                : k0 - len(topic_passages)
            ]
        if not topic_passages:
            raise GenerationError(
                "None of the selected documents has text about this topic; try other words or other documents.",
                code="no_relevant_passages",
            )
        pool = CandidatePool()
        for p in topic_passages:
            pool.doc(p.document_id)
        topic_words = [
            w for w in tokenize(req.topic) if w and not w.isdigit() and w not in FUNCTION_WORDS
        ]
        # pseudo-relevance feedback: the key phrases of the best passages widen the net
        head_texts = [p.text for p in topic_passages[:12]]
        prf = [ph for ph, _ in extract_keyphrases(head_texts, k=6, exclude=topic_words)]
        if prf:
            more = await retrieve_unique(retrieve, f"{query} {' '.join(prf)}", k0 // 2)
            prog.check()
            have = {p.chunk_id for p in topic_passages}
            # their scores answer another query: scale them below the topic's own best matches
            top = max((p.score for p in topic_passages), default=0.0)
            more_top = max((p.score for p in more), default=0.0)
            factor = (0.5 * top / more_top) if top > 0 and more_top > 0 else 0.0
            topic_passages += [
                replace(p, score=p.score * factor) for p in more if p.chunk_id not in have
            ]
        for p in topic_passages:
            pool.cands(p)
        pool.resolve()
        usable = sum(c.nwords for p in topic_passages for c in pool.usable(p))
        if usable == 0:
            raise GenerationError(
                "The selected documents contain no prose sentences to quote (only tables, code, lists or "
                "unreadable text); the extractive engine cannot write from them.",
                code="no_usable_text",
            )
        await prog.status("retrieving", f"Found {len(topic_passages)} relevant passages")

        # ---------------------------------------------------------------- outlining
        await prog.status("outlining", "Choosing the sections")
        case_map = _case_map([c for p in topic_passages[:60] for c in pool.usable(p)])
        lang = detect_language(req, topic_passages)
        title = (
            normalize_whitespace(req.title)
            if req.title and req.title.strip()
            else make_title(req.topic, case_map, lang == "en")
        )
        plans = self._plan_sections(req, topic_passages, pool, topic_words, case_map)
        # per-section retrieval: more material for each sub-topic
        for plan in plans:
            extra = await retrieve_unique(retrieve, plan.query, SECTION_K)
            prog.check()
            have = {p.chunk_id for p in plan.passages}
            plan.passages += [p for p in extra if p.chunk_id not in have]
            for p in extra:
                pool.cands(p)
        # and for the conclusion: the documents' own summaries
        concl_passages = await retrieve_unique(
            retrieve, f"{req.topic} conclusion summary overall results", SECTION_K
        )
        prog.check()
        for p in concl_passages:
            pool.cands(p)
        pool.resolve()
        outline = [OutlineSection(heading=p.heading, points=p.points, query=p.query) for p in plans]
        await prog.outline(title, outline)

        # ---------------------------------------------------------------- writing
        await prog.status("writing", "Selecting and ordering sentences")
        intro, sections, conclusion, framing, recap = self._write(
            req, W, topic_passages, concl_passages, plans, pool, topic_words, case_map, lang, prog
        )
        registry = SourceRegistry()
        concl_heading = CONCLUSION_HEADING.get(lang, "Conclusion")
        parts_md: list[tuple[str | None, str, str]] = [
            (None, self._compose(intro, registry, tail=framing), "introduction")
        ]
        for plan, paras in zip(plans, sections, strict=False):
            if paras:
                parts_md.append((plan.heading, self._compose(paras, registry), "section"))
        if conclusion:
            parts_md.append(
                (concl_heading, self._compose(conclusion, registry, lead=recap), "conclusion")
            )
        for i, (heading, md, kind) in enumerate(parts_md):
            await prog.section(i, heading, md, kind=kind)

        # ---------------------------------------------------------------- verifying
        await prog.status("verifying", "Checking citations and grounding")
        body = join_parts([(heading, md) for heading, md, _ in parts_md])
        v = finish_draft(title, body, registry, threshold=self.weak_threshold)
        used_passages = {p.chunk_id: p for p in registry.passages.values()}
        templated = [t for t in (framing if intro else None, recap if conclusion else None) if t]
        if templated:
            # the framing and recap sentences name only the topic and the headings: they
            # make no claim a source must support, so grounding scores the rest
            claims, _ = split_body(v.markdown)
            for t in templated:
                claims = claims.replace(" " + t, "").replace(t + " ", "")
            texts_by_n = {
                c.n: used_passages[c.chunk_id].text
                for c in v.citations
                if c.chunk_id in used_passages
            }
            v.grounding = grounding(claims, texts_by_n, threshold=self.weak_threshold)
        words = sum(
            c.nwords for group in (intro, conclusion, *sections) for para in group for c in para
        )
        if intro and framing:
            words += word_count(framing)
        if conclusion and recap:
            words += word_count(recap)
        warnings = list(v.problems)
        if words < 0.75 * W:
            warnings.append(
                f"The selected documents only support about {words} words on this topic "
                f"(the {req.length} target is {W})."
            )
        await prog.status(
            "verifying", f"{len(v.citations)} sources cited, grounding {v.grounding.score:.2f}"
        )
        return Draft(
            title=title,
            markdown=v.markdown,
            citations=v.citations,
            grounding=v.grounding,
            outline=[s for s, paras in zip(outline, sections, strict=False) if paras],
            engine=self.name,
            model=None,
            word_count=words,
            warnings=warnings,
        )

    # ------------------------------------------------------------------ outline

    def _plan_sections(
        self,
        req: GenerationRequest,
        passages: list[Passage],
        pool: CandidatePool,
        topic_words: list[str],
        case_map: dict[str, str],
    ) -> list[SectionPlan]:
        n_sections = SECTIONS_FOR_LENGTH.get(req.length, 3)
        max_score = max((p.score for p in passages), default=0.0) or 1.0
        all_passages = passages
        if max_score > 0 and any(p.score > 0 for p in passages):
            # key-phrase sub-topics come from passages that really match the topic, not
            # from the long tail (a source section is scored by its passages' scores)
            strong = [p for p in passages if p.score >= 0.3 * max_score]
            if len(strong) >= 4:
                passages = strong
        pnorm = {
            p.chunk_id: (max(p.score, 0.0) / max_score if p.score > 0 else 1.0 / (1 + rank))
            for rank, p in reversed(list(enumerate(all_passages)))
        }
        topic_key = _heading_key(req.topic)
        topic_stems = set(content_words(" ".join(topic_words)))
        # a heading at the very start of a document is its title, not a sub-topic
        titles = {
            _heading_key(_strip_md(h)) for hs in pool.headings.values() for pos, h in hs if pos <= 2
        }
        groups: dict[str, dict] = {}
        for rank, p in enumerate(all_passages):
            cs = pool.usable(p)
            total = sum(c.nwords for c in cs) or 1
            for c in cs:
                h = clean_heading(c.heading, case_map)
                if not h:
                    continue
                key = _heading_key(h)
                hk = set(key.split())
                if (
                    key == topic_key
                    or (hk <= topic_stems and len(hk) >= 0.6 * len(topic_stems))
                    or c.head_pos == 0
                    or _heading_key(_strip_md(c.heading or "")) in titles
                ):
                    continue  # names the whole topic (or is the document's title)
                where = (c.doc_order, c.head_pos if c.head_pos >= 0 else c.dstart)
                g = groups.get(key)
                if g is None:
                    g = groups[key] = {
                        "heading": h,
                        "passages": [],
                        "chunks": set(),
                        "cands": {},
                        "score": 0.0,
                        "words": 0,
                        "rank": rank,
                        "pos": where,
                        "focus": frozenset(content_words(h)),
                    }
                if c.idx in g["cands"]:
                    continue
                g["cands"][c.idx] = c
                if p.chunk_id not in g["chunks"]:
                    g["chunks"].add(p.chunk_id)
                    g["passages"].append(p)
                    g["score"] += 0.15
                g["score"] += pnorm[p.chunk_id] * c.nwords / total
                g["words"] += c.nwords
                g["pos"] = min(g["pos"], where)
        for key in list(groups):
            g = groups[key]
            seen_words: set[str] = set()
            for c in g["cands"].values():
                seen_words |= c.words
            found = _hits(frozenset(seen_words), frozenset(topic_stems))
            if topic_stems and not found:
                del groups[key]  # a section that never mentions the topic is off-topic
                continue
            if topic_stems:
                g["score"] += 0.3 * len(found) / len(topic_stems)
                # a heading that names part of the topic ("Breeding" for "ducks: behaviour,
                # breeding and ...") is what the reader asked about
                hk = set(_heading_key(g["heading"]).split())
                g["score"] += (
                    0.5 * len(_hits(frozenset(hk), frozenset(topic_stems))) / max(1, len(hk))
                )
        ranked = sorted(
            (g for g in groups.values() if g["words"] >= 40 and len(g["cands"]) >= 2),
            key=lambda g: (-g["score"], g["rank"], g["heading"]),
        )
        if len(ranked) < n_sections:  # thin sources: smaller source sections will do
            ranked += sorted(
                (g for g in groups.values() if 20 <= g["words"] < 40 and len(g["cands"]) >= 2),
                key=lambda g: (-g["score"], g["rank"], g["heading"]),
            )
        chosen: list[dict] = []
        small: list[dict] = []
        # the best sub-topics; more (up to two) while they do not hold enough words
        need = 1.3 * (1 - INTRO_SHARE - CONCLUSION_SHARE) * target_words(req.length)

        def similar(g: dict) -> bool:
            hw = frozenset(content_words(g["heading"]))
            return any(_jaccard(hw, frozenset(content_words(c["heading"]))) >= 0.6 for c in chosen)

        for g in ranked:
            if similar(g):
                continue
            if len(chosen) >= n_sections and g["words"] < 40:
                small.append(g)  # a small section only to reach the number of sections
                continue
            if len(chosen) >= n_sections and (
                sum(c["words"] for c in chosen) >= need or len(chosen) >= n_sections + 2
            ):
                continue
            chosen.append(g)
        # top up with key-phrase sections from sentences no chosen section covers
        if len(chosen) < n_sections or sum(g["words"] for g in chosen) < need:
            covered = {i for g in chosen for i in g["cands"]}
            # sentences of other real sections, and summaries (for the conclusion), stay out
            covered |= {
                c.idx
                for p in passages
                for c in pool.usable(p)
                if _is_summary_heading(c.heading) or clean_heading(c.heading, case_map)
            }
            rest = [p for p in passages if any(c.idx not in covered for c in pool.usable(p))]
            rest_cands = [[c for c in pool.usable(p) if c.idx not in covered] for p in rest]
            texts = [" ".join(c.display for c in cs) for cs in rest_cands]
            exclude = topic_words + [w for g in chosen for w in tokenize(g["heading"])]
            phrases = [
                (ph, sc)
                for ph, sc in extract_keyphrases(texts, k=40, exclude=exclude, min_df=2)
                if good_heading_phrase(ph, case_map)
            ]
            pw = [(ph, sc, frozenset(content_words(ph))) for ph, sc in phrases]
            rest_words = [frozenset(w for c in cs for w in c.words) for cs in rest_cands]
            taken: set[str] = set()
            while pw and (
                len(chosen) < n_sections
                or (sum(g["words"] for g in chosen) < need and len(chosen) < n_sections + 2)
            ):
                best = None
                for ph, sc, words in pw:
                    members = [p for p, rw in zip(rest, rest_words, strict=False) if words <= rw]
                    fresh = sum(1 for p in members if p.chunk_id not in taken)
                    if len(members) < 2 or fresh < 1:
                        continue
                    mw = sum(c.nwords for p in members for c in pool.usable(p))
                    if mw < 40:
                        continue
                    value = sc * math.sqrt(fresh + 0.3 * (len(members) - fresh))
                    if best is None or value > best[0]:
                        best = (value, ph, words, members)
                if best is None:
                    break
                _, ph, words, members = best
                pw = [x for x in pw if x[0] != ph and not (x[2] & words)]
                taken.update(p.chunk_id for p in members)
                cands = {c.idx: c for p in members for c in pool.usable(p) if c.idx not in covered}
                covered |= set(cands)
                chosen.append(
                    {
                        "heading": title_case_phrase(ph, case_map),
                        "passages": members,
                        "cands": cands,
                        "score": 0.0,
                        "words": sum(c.nwords for c in cands.values()),
                        "rank": len(passages),
                        "pos": min((c.doc_order, c.dstart) for c in cands.values()),
                        "focus": words,
                        "phrase": True,
                    }
                )
        for g in small:  # thin sources: small source sections rather than none
            if sum(c["words"] for c in chosen) >= need or len(chosen) >= n_sections + 2:
                break
            if not similar(g):
                chosen.append(g)
        if len(chosen) < 2:
            # last resort: split the material by document (or by halves of the ranking)
            by_doc: dict[str, list[Passage]] = {}
            for p in passages:
                if pool.usable(p):
                    by_doc.setdefault(p.document_id, []).append(p)
            buckets = list(by_doc.values())
            if len(buckets) < 2:
                ordered = sorted(
                    (p for p in passages if pool.usable(p)),
                    key=lambda p: (pool.doc(p.document_id), p.start),
                )
                half = max(1, len(ordered) // 2)
                buckets = [ordered[:half], ordered[half:]] if len(ordered) > 1 else [ordered]
            chosen = []
            used_heads: set[str] = set()
            for b in buckets[:n_sections]:
                texts = [" ".join(c.display for c in pool.usable(p)) for p in b]
                phr = [
                    ph
                    for ph, _ in extract_keyphrases(texts, k=20, exclude=topic_words, min_df=1)
                    if good_heading_phrase(ph, case_map)
                ]
                head = next((ph for ph in phr if ph.lower() not in used_heads), None)
                heading = (
                    title_case_phrase(head, case_map)
                    if head
                    else clean_heading(b[0].document_name.rsplit(".", 1)[0], case_map)
                    or f"Part {len(chosen) + 1}"
                )
                used_heads.add((head or heading).lower())
                cands = {c.idx: c for p in b for c in pool.usable(p)}
                chosen.append(
                    {
                        "heading": heading,
                        "passages": b,
                        "cands": cands,
                        "score": 0.0,
                        "words": 0,
                        "rank": 0,
                        "pos": min(
                            ((c.doc_order, c.dstart) for c in cands.values()), default=(0, 0)
                        ),
                        "focus": frozenset(content_words(heading)),
                        "phrase": True,
                    }
                )
        plans: list[SectionPlan] = []
        for g in chosen:
            ps: list[Passage] = g["passages"]
            texts = [" ".join(c.display for c in pool.usable(p)) for p in ps]
            pts = [
                ph
                for ph, _ in extract_keyphrases(
                    texts,
                    k=4,
                    exclude=topic_words + tokenize(g["heading"]),
                    min_df=1 if len(ps) < 3 else 2,
                )
            ][:3]
            query = " ".join([g["heading"], req.topic] + pts)
            plans.append(
                SectionPlan(
                    heading=g["heading"],
                    points=pts,
                    query=query,
                    passages=list(ps),
                    pos=g["pos"],
                    key="" if g.get("phrase") else _heading_key(g["heading"]),
                    members=set(g["cands"]),
                    focus=frozenset(g["focus"]),
                )
            )
        plans.sort(key=lambda pl: pl.pos)
        return plans

    # ------------------------------------------------------------------ writing

    def _relevance(
        self,
        c: Cand,
        terms: dict[str, float],
        total: float,
        pscore: float,
        member: bool,
    ) -> float:
        hit = _hits(c.words, frozenset(terms))
        cover = sum(w for t, w in terms.items() if t in hit) / total if total else 0.0
        rel = 0.55 * cover + 0.25 * pscore + (0.25 if member else 0.0)
        if c.first_in_block:
            rel += 0.04
        if 12 <= c.nwords <= 35:
            rel += 0.05
        return rel - c.penalty

    def _write(
        self,
        req: GenerationRequest,
        W: int,
        topic_passages: list[Passage],
        concl_passages: list[Passage],
        plans: list[SectionPlan],
        pool: CandidatePool,
        topic_words: list[str],
        case_map: dict[str, str],
        lang: str,
        prog: Progress,
    ) -> tuple[list[list[Cand]], list[list[list[Cand]]], list[list[Cand]], str | None, str | None]:
        topic_terms = {stem(w): 1.0 for w in topic_words if content_words(w)}
        topic_total = sum(topic_terms.values())
        topic_set = frozenset(topic_terms)
        sel = _Selection()

        def pscores(ps: list[Passage]) -> dict[str, float]:
            m = max((p.score for p in ps), default=0.0) or 1.0
            out: dict[str, float] = {}
            for rank, p in enumerate(ps):
                out.setdefault(
                    p.chunk_id, max(0.0, p.score) / m if p.score > 0 else 1.0 / (1 + rank)
                )
            return out

        group_key: dict[int, str | None] = {}

        def gkey(c: Cand) -> str | None:
            if c.idx not in group_key:
                h = clean_heading(c.heading, case_map)
                group_key[c.idx] = _heading_key(h) if h else None
            return group_key[c.idx]

        owned = {plan.key for plan in plans if plan.key}
        members = {i for plan in plans for i in plan.members}
        claimed = {i for plan in plans if plan.key for i in plan.members}

        # --- budgets (a framing sentence takes about 15 words of the introduction)
        template = FRAMING.get(lang)
        intro_budget = max(45, round(W * INTRO_SHARE)) - (15 if template else 0)
        concl_budget = max(40, round(W * CONCLUSION_SHARE))
        body_budget = W - intro_budget - concl_budget - (15 if template else 0)
        per = body_budget / max(1, len(plans))

        # --- section pools and relevance
        plan_focus: list[frozenset[str]] = []
        for plan in plans:
            ps = pscores(plan.passages)
            terms: dict[str, float] = dict(topic_terms)
            for w in content_words(plan.heading):
                terms[w] = terms.get(w, 0.0) + 2.0
            for pt in plan.points:
                for w in content_words(pt):
                    terms[w] = terms.get(w, 0.0) + 0.7
            total = sum(terms.values())
            focus = plan.focus - topic_set or plan.focus
            plan_focus.append(focus)
            seen: set[int] = set()
            for p in plan.passages:
                for c in pool.usable(p):
                    if c.idx in seen:
                        continue
                    k = gkey(c)
                    if plan.key:
                        member = c.idx in plan.members or k == plan.key
                        if not member:
                            continue  # a section is made of its own source section
                    else:
                        if (
                            (k is not None and k in owned)
                            or c.idx in claimed
                            or _is_summary_heading(c.heading)
                        ):
                            continue  # belongs to another section, or to the conclusion
                        member = c.idx in plan.members
                        if not member and not (c.words & focus):
                            continue
                    seen.add(c.idx)
                    plan.pool.append(c)
                    plan.relevance[c.idx] = self._relevance(
                        c, terms, total, ps.get(p.chunk_id, 0.0), member
                    )
            plan.pool.sort(key=lambda c: (-plan.relevance[c.idx], c.idx))
            del plan.pool[400:]
            plan.chains = _chains(plan.pool)
            plan.budget = round(per)

        # --- introduction: opens on the topic with sentences that define or introduce it
        ips = pscores(topic_passages)
        intro_rel: dict[int, float] = {}
        intro_pool: list[Cand] = []
        for p in topic_passages:
            for c in pool.usable(p):
                if c.idx in intro_rel:
                    continue
                r = self._relevance(c, topic_terms, topic_total, ips.get(p.chunk_id, 0.0), False)
                if _defines(c, topic_set):
                    r += 0.15
                elif _hits(c.words, topic_set) and _DEFINITION.search(c.display):
                    r += 0.08
                if c.idx in members:
                    r -= 0.15  # leave a section's material to the section
                if c.kind == "list":
                    r -= 0.15  # an introduction is prose
                if _INTRO_HEADING.search(c.heading or "") or c.dstart < 2500:
                    r += 0.08
                if _is_summary_heading(c.heading):
                    r -= 0.1
                if c.heading and _FRONT_MATTER.search(c.heading):
                    r -= 0.3  # thanks, licences and prefaces do not introduce a topic
                intro_rel[c.idx] = r
                intro_pool.append(c)
        intro_pool.sort(key=lambda c: (-intro_rel[c.idx], c.idx))
        del intro_pool[500:]
        intro_chains = _chains(intro_pool)
        has_topic_opener = any(_hits(c.words, topic_set) and not c.dangling for c in intro_pool)

        def opener(c: Cand) -> float | None:
            hit = _hits(c.words, topic_set)
            if has_topic_opener and not hit:
                return None
            bonus = 0.1 * len(hit) / max(1, len(topic_set))
            if _defines(c, topic_set):
                bonus += 0.25
            elif hit and _DEFINITION.search(c.display):
                bonus += 0.1
            return bonus

        intro_paras: list[list[Cand]] = []
        max_intro = 2 if req.length == "long" else 1
        _fill(
            intro_chains,
            intro_rel,
            intro_budget,
            sel,
            intro_paras,
            max_paras=max_intro,
            opener=opener,
        )
        prog.check()

        # --- sections
        for plan in plans:
            _fill(plan.chains, plan.relevance, plan.budget, sel, plan.paras)
            prog.check()

        # --- conclusion: the documents' own summaries, late in a document, on the topic
        cps = pscores(concl_passages)
        concl_rel: dict[int, float] = {}
        concl_pool: list[Cand] = []
        for p in [*topic_passages, *concl_passages]:
            for c in pool.usable(p):
                if c.idx in concl_rel:
                    continue
                cover = len(_hits(c.words, topic_set)) / len(topic_set) if topic_set else 0.0
                r = 0.35 * cover + 0.15 * max(ips.get(p.chunk_id, 0.0), cps.get(p.chunk_id, 0.0))
                if _STRONG_SUMMARY.search(c.display):
                    r += 0.3
                elif _WEAK_SUMMARY.search(c.display):
                    r += 0.08
                if _is_summary_heading(c.heading):
                    r += 0.35
                elif _INTRO_HEADING.search(c.heading or ""):
                    r -= 0.1
                ext = pool.extent.get(c.doc, 0)
                if ext:
                    r += 0.15 * c.dstart / ext
                r += 0.05 * min(2, sum(1 for f in plan_focus if f & c.words))
                if c.idx in members and not _is_summary_heading(c.heading):
                    r -= 0.1
                concl_rel[c.idx] = r - c.penalty
                concl_pool.append(c)
        concl_pool.sort(key=lambda c: (-concl_rel[c.idx], c.idx))
        del concl_pool[500:]
        concl_chains = _chains(concl_pool)
        concl_paras: list[list[Cand]] = []
        max_concl = 2 if req.length == "long" else 1
        _fill(concl_chains, concl_rel, concl_budget, sel, concl_paras, max_paras=max_concl)

        # --- length: top up sections (then the introduction and conclusion), or trim
        def total_words() -> int:
            return (
                sum(c.nwords for para in intro_paras for c in para)
                + sum(c.nwords for para in concl_paras for c in para)
                + sum(pl.words for pl in plans)
                + (30 if template else 0)
            )

        rounds = 0
        while total_words() < 0.95 * W and rounds < 40:
            rounds += 1
            grew = False
            for plan in sorted(plans, key=lambda pl: (pl.words, pl.pos)):
                need = min(W - total_words(), 70)
                if need <= 10:
                    break
                if _fill(plan.chains, plan.relevance, need, sel, plan.paras):
                    grew = True
            if not grew:
                need = min(W - total_words(), 70)
                if need <= 10:
                    break
                got = _fill(
                    intro_chains,
                    intro_rel,
                    need,
                    sel,
                    intro_paras,
                    max_paras=max_intro + 1,
                    opener=opener,
                    opener_all=True,
                )
                if not got:
                    got = _fill(
                        concl_chains, concl_rel, need, sel, concl_paras, max_paras=max_concl + 1
                    )
                if not got:
                    break
        while total_words() > 1.08 * W:
            longest = max(plans, key=lambda pl: (pl.words, -plans.index(pl)))
            trimmable = [para for para in longest.paras if len(para) > 2]
            if trimmable:
                para = min(trimmable, key=lambda pa: (longest.relevance[pa[-1].idx], -pa[-1].idx))
                para.pop()
            elif len(longest.paras) > 1:
                worst = min(
                    longest.paras,
                    key=lambda pa: (
                        sum(longest.relevance[c.idx] for c in pa) / len(pa),
                        -pa[0].idx,
                    ),
                )
                longest.paras.remove(worst)
            else:
                break

        intro_out = _tidy_paragraphs(intro_paras, keep_first=True)
        sections_out = [_tidy_paragraphs(plan.paras) for plan in plans]
        concl_out = _tidy_paragraphs(concl_paras)

        # --- templated framing (topic and section headings only)
        framing = recap = None
        prose_case = _prose_case([c for p in topic_passages for c in pool.usable(p)])
        heads = [
            _inline_heading(plan.heading, prose_case, lang)
            for plan, paras in zip(plans, sections_out, strict=False)
            if paras
        ]
        if template and heads and intro_out:
            intro_t, intro_plain, recap_t, and_word, more = template
            listed = [h for h in heads if not re.search(r"[:;?!]", h)] or heads[:1]
            if len(listed) > 4:
                listed = [*listed[:4], more]
            parts = _listing(listed, and_word)
            topic = normalize_whitespace(req.topic).strip(" .?!;:")
            if topic and len(topic.split()) <= 12 and not re.search(r"[:;?!]", topic):
                framing = intro_t.format(topic=topic, parts=parts)
            else:
                framing = intro_plain.format(parts=parts)
            summarised = any(
                _STRONG_SUMMARY.search(c.display) or _is_summary_heading(c.heading)
                for para in concl_out
                for c in para
            )
            if concl_out and not summarised:
                recap = recap_t.format(parts=parts)
        return intro_out, sections_out, concl_out, framing, recap

    # ------------------------------------------------------------------ compose

    def _compose(
        self,
        paras: list[list[Cand]],
        registry: SourceRegistry,
        *,
        lead: str | None = None,
        tail: str | None = None,
    ) -> str:
        """Paragraphs of sentences with ``[n]`` after each run of sentences from one
        passage; ``lead``/``tail`` open the first / close the last paragraph."""
        out: list[str] = []
        for k, para in enumerate(paras):
            pieces: list[str] = []
            if lead and k == 0:
                pieces.append(lead)
            for i, c in enumerate(para):
                n = registry.add(c.passage)
                registry.prefer_quote(n, c.s, c.e)
                last_of_run = (
                    i == len(para) - 1 or para[i + 1].passage.chunk_id != c.passage.chunk_id
                )
                pieces.append(_with_marker(c.display, n) if last_of_run else c.display)
            if tail and k == len(paras) - 1:
                pieces.append(tail)
            out.append(" ".join(pieces))
        return "\n\n".join(out)


def _template_re(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{topic\}|\{parts\}", template)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$", re.DOTALL)


_TEMPLATE_RES = [_template_re(t) for tpl in FRAMING.values() for t in tpl[:3]]


def is_framing_sentence(sentence: str) -> bool:
    """True for the engine's templated framing / recap sentences (the only draft
    sentences that are not copied from a source)."""
    text = normalize_whitespace(MARKER_RE.sub("", sentence))
    return any(r.match(text) for r in _TEMPLATE_RES)


def _with_marker(sentence: str, n: int) -> str:
    """ "Claim." -> "Claim [n]." (marker before the final punctuation)."""
    m = re.search(r"([.!?。！？]+)([\"'”’)\]»」』）*_]*)$", sentence)
    if m and not m.group(2):
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}"
    return f"{sentence} [{n}]"


__all__ = [
    "ExtractiveEngine",
    "clean_display",
    "clean_heading",
    "detect_language",
    "good_heading_phrase",
    "is_framing_sentence",
    "sentence_problem",
    "title_case_phrase",
    "MARKER_RE",
]
