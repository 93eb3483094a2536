"""The offline, deterministic extractive engine.

It writes a draft only from sentences that exist verbatim in the sources:

1. retrieving - passages for the topic (plus one pseudo-relevance-feedback
   round with the key phrases of the first results);
2. outlining - sub-topics from the passages' headings, topped up with key
   phrases shared by several passages; ordered like the sources (most
   relevant document first, then position in the document);
3. writing - per section, a targeted retrieval, then MMR selection of
   relevant, non-redundant, well-formed sentences up to the section's word
   budget, re-ordered by source position and grouped into paragraphs;
   an introduction (definitional, central sentences) and a conclusion
   (summary/recommendation cues); the total is then nudged toward the
   length target;
4. verifying - citations and grounding (see ``citations.verify``).

Work after retrieval is bounded by the number of retrieved passages, so the
time is dominated by the caller's retriever, or, for a plain list of
passages, by building the in-memory BM25 index (linear in source words).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import anyio

from ..citations import MARKER_RE, SourceRegistry, assemble_markdown, finalize, verify
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import InMemoryRetriever, retrieve_unique
from ..text import (
    ABBREVIATIONS,
    content_words,
    extract_keyphrases,
    normalize_whitespace,
    split_sentences,
    stem,
    tokenize,
    word_count,
)
from ..types import (
    Cancelled,
    Draft,
    Emit,
    GenerationRequest,
    OutlineSection,
    Passage,
    Retrieve,
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
MMR_LAMBDA = 0.7
PARA_WORDS = 110

GENERIC_HEADINGS = {
    "overview",
    "introduction",
    "intro",
    "summary",
    "conclusion",
    "conclusions",
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
    "index",
    "preface",
    "foreword",
    "about",
    "background",
    "discussion",
    "results",
    "methods",
    "related work",
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
}
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
_ANAPHORA = re.compile(
    r"^(?:this|these|that|those|it|its|they|their|them|such|he|she|his|her|here|both|"
    r"however|but|and|or|also|moreover|furthermore|additionally|in addition|therefore|thus|hence|"
    r"instead|otherwise|similarly|likewise|in contrast|on the other hand|nevertheless|nonetheless|"
    r"consequently|as a result|then|finally|first|second|third|next|lastly|meanwhile|still|yet|"
    r"for example|for instance|in this case|in that case|again|accordingly|the latter|the former|yes|no|so|"
    r"other|another|each of these|all of these|some of these)\b",
    re.IGNORECASE,
)
_META = re.compile(
    r"\b(?:fig(?:ure)?s?\.?\s*\d|tables?\s+\d|tab\.\s*\d|eq(?:uation)?s?\.?\s*\(?\d|"
    r"sections?\s+\d|appendix|chapter\s+\d|see (?:above|below)|shown (?:above|below)|"
    r"as follows|the following|listed below|page \d|p\.\s*\d|footnote|et al\.?\s*\(\d{4}|"
    r"\(\d{4}\)|\b\d{4}[a-z]?\)|(?:next|previous|following|last|this) (?:section|chapter|paragraph))",
    re.IGNORECASE,
)
_SOFT_META = re.compile(
    r"\b(?:this paper|this section|this chapter|this article|this document|this report|this guide|"
    r"in this work|we propose|our approach|our method|click|below|above|here is|here are|"
    r"as mentioned|as described|mentioned earlier|described earlier|refer to|for more details|"
    r"for more information|more details)\b",
    re.IGNORECASE,
)
_CONCLUSION_CUES = re.compile(
    r"\b(?:in summary|to summari[sz]e|in conclusion|overall|in short|in general|therefore|thus|"
    r"we (?:conclude|showed|show|found|demonstrate)|results? (?:show|suggest|indicate)|recommend\w*|"
    r"should|important|key|best|ensure|future|ultimately|as a result|allows?|enables?)\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(
    r"\b(?:is an?|are|is the|refers to|provides?|supports?|allows?|enables?|consists? of|"
    r"lets? you|helps?|means?)\b",
    re.IGNORECASE,
)
_SOURCE_REF = re.compile(r"\s?\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\x7f]")
_TERMINAL = re.compile(r"[.!?。！？][\"'”’)\]»」』）*_]*$")


# --------------------------------------------------------------------------
# candidates


@dataclass(eq=False)
class Cand:
    idx: int
    passage: Passage
    s: int  # offsets in passage.text
    e: int
    display: str
    words: frozenset[str]
    nwords: int
    doc_order: int
    lead: bool
    anaphoric: bool
    penalty: float
    prev_key: tuple[str, int] | None
    key: str

    @property
    def pos(self) -> tuple[int, int, int]:
        return (self.doc_order, self.passage.start + self.s, self.idx)


def _dedupe_key(text: str) -> str:
    return " ".join(tokenize(text))


def clean_display(raw: str) -> str:
    """Draft text of a source sentence: whitespace collapsed, hyphenation joined,
    numeric reference markers like "[12]" removed (they would read as citations)."""
    text = normalize_whitespace(raw)
    text = _SOURCE_REF.sub("", text)
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
    if not first or first.islower():
        return "starts mid-sentence"
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
    if "http://" in display or "https://" in display:
        if not re.search(r"\]\(https?://", display):
            return "bare url"
    nonspace = [ch for ch in display if not ch.isspace()]
    letters = sum(ch.isalpha() for ch in nonspace)
    digits = sum(ch.isdigit() for ch in nonspace)
    if letters < 0.6 * len(nonspace) or digits > 0.2 * len(nonspace):
        return "not prose"
    words = [w for w in re.findall(r"[^\W\d_]+", display) if len(w) > 3]
    if len(words) >= 4:
        caps = sum(1 for w in words if w[0].isupper())
        if caps > 0.6 * len(words):
            return "title case run"
    if _META.search(display):
        return "figure/table reference"
    if _MATH.search(display):
        return "math"
    if _BIBLIO.search(display):
        return "bibliography"
    if _INLINE_HEADING.search(display):
        return "run-in heading"
    for m in _MID_PERIOD.finditer(display):
        if m.group(1).lower() not in ABBREVIATIONS:
            return "broken sentence"
    return None


_MID_PERIOD = re.compile(r"\b(\w+)\. [a-z]")


_MATH = re.compile(r"[≤≥×∑∏√∈∉∀∃·˜ˆ∗⊂⊆∩∪≈≠±→←∂∇λθσμ]|\b[a-z]\s?\(\s?[a-z]\s?\)")
_BIBLIO = re.compile(
    r"\b(?:in proceedings|proceedings of|arxiv|preprint|pp\.\s*\d|pages\s+\d+\s*[–-]\s*\d+|"
    r"association for computational linguistics|journal of|conference on|vol\.\s*\d|doi:|isbn)\b",
    re.IGNORECASE,
)
_INLINE_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\s+)?[A-Z][\w-]*(?:\s+(?:[a-z][\w-]*|[A-Z]{2,}|\([A-Z]+\))){0,4}\s+"
    r"(?:We|One|For|The|In|Our|This|It|A|An|To|As|Given|Although|While|Since|Unlike|Here)\s"
    r"|\b\d+(?:\.\d+)*\s+[A-Z][\w-]*(?:\s+[A-Z(][\w)-]*)+\s+(?:We|The|In|Our|This)\s"
    r"|(?:^|\s)\d{1,2}[A-Z](?:[a-z]|[A-Z]{2})"
)
_FOOTNOTE_GLUE = re.compile(r"[a-z]{4,}\d{1,2}[,.;:]?\s|\.\d{1,2}\s+[A-Z]")
_YEAR = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b|\bet al\b|\bProceedings\b|\barXiv\b")


def looks_like_bibliography(text: str) -> bool:
    """A reference list: years, "et al." and "Proceedings" in almost every line."""
    words = len(text.split())
    if words < 20:
        return False
    return len(_YEAR.findall(text)) * 100 / words >= 3.0


class CandidatePool:
    """Splits passages into quality-filtered candidate sentences, once per passage."""

    def __init__(self) -> None:
        self.by_chunk: dict[str, list[Cand]] = {}
        self.doc_order: dict[str, int] = {}
        self.seen_keys: dict[str, int] = {}
        self._next = 0

    def doc(self, document_id: str) -> int:
        return self.doc_order.setdefault(document_id, len(self.doc_order))

    def cands(self, p: Passage) -> list[Cand]:
        got = self.by_chunk.get(p.chunk_id)
        if got is not None:
            return got
        out: list[Cand] = []
        order = self.doc(p.document_id)
        prev: tuple[str, int] | None = None
        if looks_like_bibliography(p.text):
            self.by_chunk[p.chunk_id] = out
            return out
        for i, sent in enumerate(split_sentences(p.text, include_lists=True)):
            key_here = (p.chunk_id, sent.start)
            display = clean_display(sent.text)
            problem = sentence_problem(display)
            if sent.kind == "list" and problem is None and word_count(display) < 8:
                problem = "short list item"
            prev_key, prev = prev, key_here
            if problem:
                continue
            key = _dedupe_key(display)
            if key in self.seen_keys:  # verbatim duplicate of a sentence elsewhere
                continue
            self.seen_keys[key] = self._next
            penalty = 0.0
            if _SOFT_META.search(display):
                penalty += 0.2
            if display.rstrip("*_\"'”’)").endswith("?"):
                penalty += 0.25
            if sent.kind == "list":
                penalty += 0.1
            if _FOOTNOTE_GLUE.search(display + " "):
                penalty += 0.3
            words = frozenset(content_words(display))
            if not words:
                continue
            out.append(
                Cand(
                    idx=self._next,
                    passage=p,
                    s=sent.start,
                    e=sent.end,
                    display=display,
                    words=words,
                    nwords=word_count(display),
                    doc_order=order,
                    lead=i == 0,
                    anaphoric=bool(_ANAPHORA.match(display.lstrip("*_\"'“"))),
                    penalty=penalty,
                    prev_key=prev_key,
                    key=key,
                )
            )
            self._next += 1
        self.by_chunk[p.chunk_id] = out
        return out


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
    budget: int = 0
    chosen: list[tuple[float, Cand]] = field(default_factory=list)
    pool: list[Cand] = field(default_factory=list)
    relevance: dict[int, float] = field(default_factory=dict)
    own: int = (
        0  # the first ``own`` passages are the sub-topic's own (the rest were retrieved for it)
    )


_HEADING_NUM = re.compile(
    r"^(?:(?:chapter|section|part)\s+)?(?:\(?\d+(?:\.\d+)*\)?\.?|[IVXLC]+\.|[A-Z]\.)\s+", re.I
)


def clean_heading(h: str | None) -> str | None:
    """A source heading usable as a blog section heading, or None."""
    if not h:
        return None
    for sep in (" > ", " / ", " › ", " » "):
        if sep in h:
            h = h.split(sep)[-1]
    h = normalize_whitespace(h)
    h = re.sub(r"^#+\s*", "", h)
    h = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", h)  # links
    h = h.replace("**", "").replace("__", "")
    h = _HEADING_NUM.sub("", h).strip(" :.-–—#*_")
    if not h or len(h) > 90:
        return None
    words = h.split()
    if not (1 <= len(words) <= 12):
        return None
    alnum = [c for c in h if c.isalnum()]
    if not alnum or sum(c.isdigit() for c in alnum) > 0.3 * len(alnum):
        return None
    if h.lower() in GENERIC_HEADINGS or _HTML_TAG.search(h) or "|" in h:
        return None
    return h


def _heading_key(h: str) -> str:
    return " ".join(sorted(set(content_words(h)))) or h.lower()


def _surface_case(phrase: str, case_map: dict[str, str]) -> str:
    """Heading from a key phrase: its own spelling, first letter capitalised (unless the
    word is a lower-case name in the sources, like "pypdf")."""
    first = phrase.split()[0] if phrase.split() else ""
    if case_map.get(first.lower()) == first and first.islower() and not first.isalpha():
        return phrase
    return phrase[:1].upper() + phrase[1:]


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
    "via",
    "with",
    "from",
    "into",
}


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


def _case_map(passages: Sequence[Passage]) -> dict[str, str]:
    """Most common spelling of each word in the passages (to keep "pypdf", "OCR", "Docling")."""
    counts: dict[str, Counter[str]] = {}
    for p in passages[:40]:
        text = p.text
        for m in re.finditer(r"[^\W_][\w.+-]*[^\W_]|[^\W_]", text):
            # skip sentence-initial words: their capital says nothing about the word
            before = text[max(0, m.start() - 3) : m.start()].rstrip(" \t*_\"'“(")
            if not before or before[-1] in ".!?:\n#-•":
                continue
            w = m.group(0)
            counts.setdefault(w.lower(), Counter())[w] += 1
    out: dict[str, str] = {}
    for low, c in counts.items():
        # prefer a non-sentence-initial spelling: lower-case form wins ties unless a cased form dominates
        best = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        out[low] = best
    return out


# --------------------------------------------------------------------------
# the engine


class ExtractiveEngine:
    """Offline engine: every sentence of the draft is copied from a source."""

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
        english = not req.language or req.language.lower().startswith("en")

        # ---------------------------------------------------------------- retrieving
        await prog.status("retrieving", "Finding the passages that match the topic")
        all_passages: list[Passage] | None = None
        if callable(passages_for):
            retrieve: Retrieve = passages_for  # type: ignore[assignment]
        else:
            all_passages = list(passages_for)
            if len(all_passages) > 300:
                index = await anyio.to_thread.run_sync(InMemoryRetriever, all_passages)
            else:
                index = InMemoryRetriever(all_passages)
            retrieve = index
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
        topic_words = [w for w in tokenize(req.topic) if w and not w.isdigit()]
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
        usable = sum(c.nwords for p in topic_passages for c in pool.cands(p))
        if usable == 0:
            raise GenerationError(
                "The selected documents contain no prose sentences to quote (only tables, code, lists or "
                "unreadable text); the extractive engine cannot write from them.",
                code="no_usable_text",
            )
        await prog.status("retrieving", f"Found {len(topic_passages)} relevant passages")

        # ---------------------------------------------------------------- outlining
        await prog.status("outlining", "Choosing the sections")
        case_map = _case_map(topic_passages)
        title = (
            normalize_whitespace(req.title)
            if req.title and req.title.strip()
            else make_title(req.topic, case_map, english)
        )
        plans = self._plan_sections(req, topic_passages, pool, topic_words, case_map)
        # per-section retrieval: more material for each sub-topic
        for plan in plans:
            extra = await retrieve_unique(retrieve, plan.query, SECTION_K)
            prog.check()
            have = {p.chunk_id for p in plan.passages}
            plan.passages += [p for p in extra if p.chunk_id not in have]
        outline = [OutlineSection(heading=p.heading, points=p.points, query=p.query) for p in plans]
        await prog.outline(title, outline)

        # ---------------------------------------------------------------- writing
        await prog.status("writing", "Selecting and ordering sentences")
        draft_parts = self._write(req, W, topic_passages, plans, pool, topic_words, prog)
        intro, sections, conclusion = draft_parts
        registry = SourceRegistry()
        concl_heading = CONCLUSION_HEADING.get((req.language or "en").lower()[:2], "Conclusion")
        parts_md: list[tuple[str | None, str, str]] = [
            (None, self._compose(intro, registry), "introduction")
        ]
        for plan, chosen in zip(plans, sections, strict=False):
            if chosen:
                parts_md.append((plan.heading, self._compose(chosen, registry), "section"))
        if conclusion:
            parts_md.append((concl_heading, self._compose(conclusion, registry), "conclusion"))
        body_chunks = []
        for heading, md, _ in parts_md:
            if heading:
                body_chunks.append(f"## {heading}")
            body_chunks.append(md)
        body = "\n\n".join(c for c in body_chunks if c)
        body, citations = finalize(body, registry)
        for i, (heading, md, kind) in enumerate(parts_md):
            await prog.section(i, heading, md, kind=kind)

        # ---------------------------------------------------------------- verifying
        await prog.status("verifying", "Checking citations and grounding")
        markdown = assemble_markdown(title, body, citations)
        used_passages = {p.chunk_id: p for p in registry.passages.values()}
        v = verify(markdown, citations, used_passages, threshold=self.weak_threshold)
        words = sum(c.nwords for group in (intro, conclusion, *sections) for c in group)
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
            outline=[s for s, chosen in zip(outline, sections, strict=False) if chosen],
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
        if max_score > 0 and any(p.score > 0 for p in passages):
            # sub-topics come from passages that really match the topic, not from the long tail
            strong = [p for p in passages if p.score >= 0.3 * max_score]
            if len(strong) >= 4:
                passages = strong
        topic_key = _heading_key(req.topic)
        groups: dict[str, dict] = {}
        for rank, p in enumerate(passages):
            h = clean_heading(p.heading)
            if not h:
                continue
            key = _heading_key(h)
            if key == topic_key:
                continue
            cands = pool.cands(p)
            if not cands:
                continue
            g = groups.setdefault(
                key, {"heading": h, "passages": [], "score": 0.0, "words": 0, "rank": rank}
            )
            g["passages"].append(p)
            g["score"] += max(p.score, 0.0) / max_score + 0.15
            g["words"] += sum(c.nwords for c in cands)
        min_words = 25
        ranked = sorted(
            (g for g in groups.values() if g["words"] >= min_words),
            key=lambda g: (-g["score"], g["rank"]),
        )
        chosen: list[dict] = []
        for g in ranked:
            hw = set(content_words(g["heading"]))
            if any(
                _jaccard(frozenset(hw), frozenset(content_words(c["heading"]))) >= 0.6
                for c in chosen
            ):
                continue
            chosen.append(g)
            if len(chosen) >= n_sections:
                break
        # top up with key-phrase sections from passages no chosen section covers
        if len(chosen) < n_sections:
            covered = {p.chunk_id for g in chosen for p in g["passages"]}
            rest = [p for p in passages if p.chunk_id not in covered and pool.cands(p)]
            texts = [" ".join(c.display for c in pool.cands(p)) for p in rest]
            exclude = topic_words + [w for g in chosen for w in tokenize(g["heading"])]
            phrases = extract_keyphrases(texts, k=30, exclude=exclude, min_df=2)
            # a one-word heading only for names ("BM25", "FAISS", "Docling"), else phrases of 2+ words
            phrases = [
                (ph, sc)
                for ph, sc in phrases
                if " " in ph or (case_map.get(ph.lower(), ph) != ph.lower() and len(ph) >= 3)
            ]
            pw = [(ph, sc, frozenset(content_words(ph))) for ph, sc in phrases]
            rest_words = [frozenset(w for c in pool.cands(p) for w in c.words) for p in rest]
            taken: set[str] = set()
            while len(chosen) < n_sections and pw:
                best = None
                for ph, sc, words in pw:
                    members = [p for p, rw in zip(rest, rest_words, strict=False) if words <= rw]
                    fresh = sum(1 for p in members if p.chunk_id not in taken)
                    if len(members) < 2 or fresh < 1:
                        continue
                    mw = sum(c.nwords for p in members for c in pool.cands(p))
                    if mw < min_words:
                        continue
                    value = sc * math.sqrt(fresh + 0.3 * (len(members) - fresh))
                    if best is None or value > best[0]:
                        best = (value, ph, words, members)
                if best is None:
                    break
                _, ph, words, members = best
                pw = [x for x in pw if x[0] != ph and not (x[2] & words)]
                taken.update(p.chunk_id for p in members)
                chosen.append(
                    {
                        "heading": _surface_case(ph, case_map),
                        "passages": members,
                        "score": 0.0,
                        "words": 0,
                        "rank": len(passages),
                    }
                )
        if len(chosen) < 2:
            # last resort: split the material by document (or by halves of the ranking)
            by_doc: dict[str, list[Passage]] = {}
            for p in passages:
                if pool.cands(p):
                    by_doc.setdefault(p.document_id, []).append(p)
            buckets = list(by_doc.values())
            if len(buckets) < 2:
                ordered = sorted(
                    (p for p in passages if pool.cands(p)),
                    key=lambda p: (pool.doc(p.document_id), p.start),
                )
                half = max(1, len(ordered) // 2)
                buckets = [ordered[:half], ordered[half:]] if len(ordered) > 1 else [ordered]
            chosen = []
            used_heads: set[str] = set()
            for b in buckets[:n_sections]:
                texts = [" ".join(c.display for c in pool.cands(p)) for p in b]
                phr = extract_keyphrases(texts, k=5, exclude=topic_words, min_df=1)
                head = next((ph for ph, _ in phr if ph.lower() not in used_heads), None)
                if head is None:
                    head = (
                        clean_heading(b[0].document_name.rsplit(".", 1)[0])
                        or f"Part {len(chosen) + 1}"
                    )
                used_heads.add(head.lower())
                chosen.append(
                    {
                        "heading": _surface_case(head, case_map),
                        "passages": b,
                        "score": 0.0,
                        "words": 0,
                        "rank": 0,
                    }
                )
        plans: list[SectionPlan] = []
        for g in chosen:
            ps: list[Passage] = g["passages"]
            texts = [" ".join(c.display for c in pool.cands(p)) for p in ps]
            pts = [
                ph
                for ph, _ in extract_keyphrases(
                    texts,
                    k=4,
                    exclude=topic_words + tokenize(g["heading"]),
                    min_df=1 if len(ps) < 3 else 2,
                )
            ][:3]
            pos = min((pool.doc(p.document_id), p.start) for p in ps)
            query = " ".join([g["heading"], req.topic] + pts)
            plans.append(
                SectionPlan(
                    heading=g["heading"],
                    points=pts,
                    query=query,
                    passages=list(ps),
                    pos=pos,
                    own=len(ps),
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
        cover = sum(w for t, w in terms.items() if t in c.words) / total if total else 0.0
        rel = 0.55 * cover + 0.25 * pscore + (0.25 if member else 0.0)
        if c.lead:
            rel += 0.05
        if 12 <= c.nwords <= 35:
            rel += 0.05
        if c.anaphoric:
            rel -= 0.3
        return rel - c.penalty

    def _write(
        self,
        req: GenerationRequest,
        W: int,
        topic_passages: list[Passage],
        plans: list[SectionPlan],
        pool: CandidatePool,
        topic_words: list[str],
        prog: Progress,
    ) -> tuple[list[Cand], list[list[Cand]], list[Cand]]:
        topic_terms = {stem(w): 1.0 for w in topic_words if w not in ("the",) and content_words(w)}
        topic_total = sum(topic_terms.values())
        selected_keys: set[tuple[str, int]] = set()
        selected: list[Cand] = []

        def pscores(ps: list[Passage]) -> dict[str, float]:
            m = max((p.score for p in ps), default=0.0) or 1.0
            out: dict[str, float] = {}
            for rank, p in enumerate(ps):
                out.setdefault(
                    p.chunk_id, max(0.0, p.score) / m if p.score > 0 else 1.0 / (1 + rank)
                )
            return out

        def mmr_pick(
            cands: list[Cand],
            rel: dict[int, float],
            budget: int,
            current: int,
            limit_extra: float = 0.5,
        ) -> list[tuple[float, Cand]]:
            """Greedy MMR until ``budget`` words (the last sentence may overshoot by < limit_extra of itself)."""
            out: list[tuple[float, Cand]] = []
            avail = [c for c in cands if (c.passage.chunk_id, c.s) not in selected_keys]
            maxsim = {
                c.idx: max((_jaccard(c.words, s.words) for s in selected), default=0.0)
                for c in avail
            }
            words = current
            while avail and words < budget:
                best, best_val = None, -1e9
                for c in avail:
                    ms = maxsim[c.idx]
                    if ms >= MAX_SIM:
                        continue
                    r = rel[c.idx]
                    if c.anaphoric and c.prev_key in selected_keys:
                        r += 0.3  # its antecedent is in the draft: no penalty
                    val = MMR_LAMBDA * r - (1 - MMR_LAMBDA) * ms
                    if val > best_val or (
                        val == best_val and best is not None and c.idx < best.idx
                    ):
                        best, best_val = c, val
                if best is None or best_val < -0.05:
                    break
                if words + best.nwords > budget + 0.5 * best.nwords and words > 0.8 * budget:
                    # overshoots: try a shorter sentence instead, else stop
                    avail = [c for c in avail if c is not best]
                    continue
                out.append((best_val, best))
                selected.append(best)
                selected_keys.add((best.passage.chunk_id, best.s))
                words += best.nwords
                avail = [c for c in avail if c is not best]
                for c in avail:
                    j = _jaccard(c.words, best.words)
                    if j > maxsim[c.idx]:
                        maxsim[c.idx] = j
            return out

        # --- budgets
        intro_budget = max(45, round(W * INTRO_SHARE))
        concl_budget = max(40, round(W * CONCLUSION_SHARE))
        body_budget = W - intro_budget - concl_budget
        per = body_budget / max(1, len(plans))

        # --- section pools and relevance
        # words in a quarter or more of the topic passages (and the topic's own words) do not
        # tell sub-topics apart
        df: Counter[str] = Counter()
        for p in topic_passages:
            df.update({w for c in pool.cands(p) for w in c.words})
        common = {w for w, d in df.items() if d > max(3, 0.25 * len(topic_passages))} | set(
            topic_terms
        )
        plan_focus: list[frozenset[str]] = []
        for plan in plans:
            ps = pscores(plan.passages)
            own = {p.chunk_id for p in plan.passages[: plan.own]}
            terms: dict[str, float] = dict(topic_terms)
            for w in content_words(plan.heading):
                terms[w] = terms.get(w, 0.0) + 2.0
            for pt in plan.points:
                for w in content_words(pt):
                    terms[w] = terms.get(w, 0.0) + 0.7
            total = sum(terms.values())
            focus = frozenset(
                w for w in content_words(plan.heading) if w not in common
            ) or frozenset(w for w in content_words(" ".join(plan.points)) if w not in common)
            plan_focus.append(focus)
            seen: set[int] = set()
            for p in plan.passages:
                for c in pool.cands(p):
                    if c.idx in seen:
                        continue
                    if p.chunk_id not in own and not (c.words & focus):
                        continue  # retrieved for the section but not about its sub-topic
                    seen.add(c.idx)
                    plan.pool.append(c)
                    plan.relevance[c.idx] = self._relevance(
                        c, terms, total, ps.get(p.chunk_id, 0.0), p.chunk_id in own
                    )
            plan.pool.sort(key=lambda c: (-plan.relevance[c.idx], c.idx))
            del plan.pool[400:]
            plan.budget = round(per)

        # --- introduction: central, definitional sentences about the topic
        ips = pscores(topic_passages)
        intro_pool: list[Cand] = []
        intro_rel: dict[int, float] = {}
        seen_i: set[int] = set()
        topic_set = frozenset(topic_terms)
        for p in topic_passages:
            for c in pool.cands(p):
                if c.idx in seen_i:
                    continue
                seen_i.add(c.idx)
                if (
                    topic_set
                    and not (c.words & topic_set)
                    and not (c.lead and ips.get(p.chunk_id, 0.0) >= 0.6)
                ):
                    continue  # the introduction and conclusion stay on the topic itself
                r = self._relevance(c, topic_terms, topic_total, ips.get(p.chunk_id, 0.0), False)
                if _DEFINITION.search(c.display):
                    r += 0.1
                if p.start < 1500:
                    r += 0.05
                intro_pool.append(c)
                intro_rel[c.idx] = r
        intro_pool.sort(key=lambda c: (-intro_rel[c.idx], c.idx))
        del intro_pool[400:]
        intro = mmr_pick([c for c in intro_pool if not c.anaphoric], intro_rel, intro_budget, 0)
        prog.check()

        # --- sections (first the share of each, then the conclusion)
        for plan in plans:
            plan.chosen = mmr_pick(plan.pool, plan.relevance, plan.budget, 0)
            prog.check()

        concl_pool: list[Cand] = []
        concl_rel: dict[int, float] = {}
        for c in intro_pool:
            r = intro_rel[c.idx] - 0.05 * (1 if c.lead else 0)
            if _CONCLUSION_CUES.search(c.display):
                r += 0.2
            touched = sum(1 for f in plan_focus if f & c.words)
            r += 0.1 * min(touched, 2)
            concl_pool.append(c)
            concl_rel[c.idx] = r
        conclusion = mmr_pick(
            [c for c in concl_pool if not c.anaphoric], concl_rel, concl_budget, 0
        )

        # --- length: top up sections round-robin, or trim the longest
        def total_words() -> int:
            return (
                sum(c.nwords for _, c in intro)
                + sum(c.nwords for _, c in conclusion)
                + sum(c.nwords for pl in plans for _, c in pl.chosen)
            )

        rounds = 0
        while total_words() < 0.95 * W and rounds < 50:
            rounds += 1
            grew = False
            for plan in sorted(plans, key=lambda pl: sum(c.nwords for _, c in pl.chosen)):
                cur = sum(c.nwords for _, c in plan.chosen)
                need = min(W - total_words(), 60)
                if need <= 0:
                    break
                got = mmr_pick(plan.pool, plan.relevance, cur + need, cur)
                if got:
                    plan.chosen += got
                    grew = True
            if not grew:
                # sections are exhausted: the introduction may take more
                cur = sum(c.nwords for _, c in intro)
                got = mmr_pick(
                    [c for c in intro_pool if not c.anaphoric],
                    intro_rel,
                    cur + min(W - total_words(), 60),
                    cur,
                )
                if not got:
                    break
                intro += got
        while total_words() > 1.08 * W:
            longest = max(
                plans, key=lambda pl: (sum(c.nwords for _, c in pl.chosen), -plans.index(pl))
            )
            if len(longest.chosen) <= 2:
                break
            worst = min(longest.chosen, key=lambda vc: (vc[0], -vc[1].idx))
            longest.chosen.remove(worst)

        def ordered(items: list[tuple[float, Cand]]) -> list[Cand]:
            # the document contributing most comes first, then source order inside each document
            weight: dict[str, int] = {}
            for _, c in items:
                weight[c.passage.document_id] = weight.get(c.passage.document_id, 0) + c.nwords
            out = [
                c
                for _, c in sorted(
                    items,
                    key=lambda vc: (-weight[vc[1].passage.document_id], vc[1].doc_order, vc[1].pos),
                )
            ]
            # a section should not open with a sentence that leans on a previous one
            while len(out) > 2 and out[0].anaphoric:
                out.pop(0)
            return out

        def in_source_order(items: list[tuple[float, Cand]]) -> list[Cand]:
            out = [c for _, c in sorted(items, key=lambda vc: vc[1].pos)]
            while len(out) > 2 and out[0].anaphoric:
                out.pop(0)
            return out

        concl = in_source_order(conclusion)
        concl.sort(key=lambda c: (bool(_CONCLUSION_CUES.search(c.display)), c.pos))
        while len(concl) > 2 and concl[0].anaphoric:
            concl.pop(0)
        return in_source_order(intro), [ordered(pl.chosen) for pl in plans], concl

    # ------------------------------------------------------------------ compose

    def _compose(self, cands: list[Cand], registry: SourceRegistry) -> str:
        """Paragraphs of sentences with ``[n]`` after each run of sentences from one passage."""
        if not cands:
            return ""
        paras: list[list[Cand]] = []
        cur: list[Cand] = []
        cur_words = 0
        for c in cands:
            if cur:
                prev = cur[-1]
                new_doc = c.passage.document_id != prev.passage.document_id
                topic_shift = (
                    c.passage.chunk_id != prev.passage.chunk_id
                    and c.passage.heading != prev.passage.heading
                )
                if (
                    new_doc
                    or cur_words + c.nwords > PARA_WORDS
                    or (topic_shift and cur_words >= 60)
                ):
                    paras.append(cur)
                    cur, cur_words = [], 0
            cur.append(c)
            cur_words += c.nwords
        if cur:
            if (
                paras
                and sum(c.nwords for c in cur) < 25
                and cur[0].passage.document_id == paras[-1][-1].passage.document_id
            ):
                paras[-1].extend(cur)
            else:
                paras.append(cur)
        out: list[str] = []
        for para in paras:
            pieces: list[str] = []
            for i, c in enumerate(para):
                n = registry.add(c.passage)
                registry.prefer_quote(n, c.s, c.e)
                last_of_run = (
                    i == len(para) - 1 or para[i + 1].passage.chunk_id != c.passage.chunk_id
                )
                text = c.display
                if last_of_run:
                    text = _with_marker(text, n)
                pieces.append(text)
            out.append(" ".join(pieces))
        return "\n\n".join(out)


def _with_marker(sentence: str, n: int) -> str:
    """ "Claim." -> "Claim [n]." (marker before the final punctuation)."""
    m = re.search(r"([.!?。！？]+)([\"'”’)\]»」』）*_]*)$", sentence)
    if m and not m.group(2):
        return f"{sentence[: m.start()]} [{n}]{m.group(1)}"
    return f"{sentence} [{n}]"


__all__ = ["ExtractiveEngine", "clean_heading", "sentence_problem", "MARKER_RE"]
