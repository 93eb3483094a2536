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

Modules, one per stage: ``lexicon`` (words and templates per language),
``sentences`` (cleaning and quality filters), ``headings``, ``candidates``
(``Cand``, ``CandidatePool``), ``outline`` (``SectionPlan``), ``selection``
(sentences and paragraphs for a section), ``writing`` (introduction, sections,
conclusion, length, framing) and ``engine`` (orchestration).
"""

from .candidates import Cand, CandidatePool
from .engine import ExtractiveEngine
from .headings import clean_heading, good_heading_phrase, title_case_phrase
from .lexicon import detect_language
from .sentences import clean_display, sentence_problem
from .writing import is_framing_sentence

__all__ = [
    "Cand",
    "CandidatePool",
    "ExtractiveEngine",
    "clean_display",
    "clean_heading",
    "detect_language",
    "good_heading_phrase",
    "is_framing_sentence",
    "sentence_problem",
    "title_case_phrase",
]
