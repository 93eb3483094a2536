"""Plain data types shared by the generation engines.

Everything here is a dataclass with a ``to_dict()`` that returns JSON-ready
data, so the caller can store a :class:`Draft` in the database or send parts
of it over SSE without knowing the engine.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Length = Literal["short", "medium", "long"]

#: Target number of body words for each ``length`` (title, headings, citation
#: markers and the Sources list are not counted).
TARGET_WORDS: dict[str, int] = {"short": 500, "medium": 1000, "long": 1800}


def target_words(length: str) -> int:
    """Target body words for a length name (unknown names count as medium)."""
    return TARGET_WORDS.get(length, TARGET_WORDS["medium"])


@dataclass(frozen=True, slots=True)
class Passage:
    """A retrieved chunk of a stored document.

    ``text`` is verbatim ``document_markdown[start:end]``. ``page_label`` is the
    number printed on ``page``; ``section`` the heading path ("Install › Linux").
    """

    chunk_id: str
    document_id: str
    document_name: str
    page: int | None
    start: int
    end: int
    text: str
    heading: str | None = None
    score: float = 0.0
    page_label: str | None = None
    section: str | None = None
    #: the document's own publication date (ISO ``YYYY[-MM[-DD]]``), None when unknown
    document_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_hit(
        cls, hit: ChunkHit, document_name: str, document_date: str | None = None
    ) -> Passage:
        """The passage of a search hit (``documents.search.SearchHit``) of that document
        (dated ``document_date`` when its metadata says so)."""
        return cls(
            chunk_id=str(hit.chunk_id),
            document_id=hit.document_id,
            document_name=document_name,
            page=hit.page,
            start=hit.start,
            end=hit.end,
            text=hit.text,
            heading=hit.heading,
            score=hit.score,
            page_label=hit.page_label,
            section=hit.section,
            document_date=document_date,
        )


class ChunkHit(Protocol):
    """What a passage is made of: a search hit (generation does not import documents)."""

    @property
    def chunk_id(self) -> int | str: ...
    @property
    def document_id(self) -> str: ...
    @property
    def page(self) -> int | None: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def heading(self) -> str | None: ...
    @property
    def score(self) -> float: ...
    @property
    def page_label(self) -> str | None: ...
    @property
    def section(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    topic: str
    title: str | None = None
    audience: str | None = None
    tone: str | None = None
    length: Length = "medium"
    language: str | None = None
    instructions: str | None = None

    @property
    def target_words(self) -> int:
        return target_words(self.length)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Citation:
    """Source ``[n]`` of a draft.

    ``start``/``end`` are offsets of ``quote`` in the DOCUMENT markdown
    (``passage.start`` + offset inside the passage); ``quote`` is a verbatim
    substring of the passage text, made of whole sentences. ``page_label`` is the
    number printed on the page, ``section`` the passage's heading path.
    """

    n: int
    document_id: str
    document_name: str
    page: int | None
    chunk_id: str
    start: int
    end: int
    quote: str
    page_label: str | None = None
    section: str | None = None
    #: the document's own publication date (ISO ``YYYY[-MM[-DD]]``), None when unknown
    document_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FlaggedSentence:
    """A sentence grounding failed: ``markdown[start:end]``, why (``unknown_citation``,
    ``unsupported`` or ``uncited``), the numbers it cites, and a human ``detail``."""

    sentence: str
    start: int
    end: int
    reason: str
    citations: list[int]
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "reason": self.reason,
            "citations": list(self.citations),
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Grounding:
    """``score`` in 0..1: the share of the ``checked`` sentences not ``flagged``."""

    score: float
    checked: int = 0
    flagged: list[FlaggedSentence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "checked": self.checked,
            "flagged": [f.to_dict() for f in self.flagged],
        }


@dataclass(frozen=True, slots=True)
class OutlineSection:
    heading: str
    points: list[str] = field(default_factory=list)
    query: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"heading": self.heading, "points": list(self.points), "query": self.query}


@dataclass(frozen=True, slots=True)
class Draft:
    title: str
    markdown: str
    citations: list[Citation]
    grounding: Grounding
    outline: list[OutlineSection]
    engine: str
    model: str | None = None
    #: body words (no title, headings, markers or Sources list)
    word_count: int = 0
    #: human sentences about anything the caller may want to surface
    #: (e.g. "The sources only support about 600 words").
    warnings: list[str] = field(default_factory=list)
    #: citation number -> the text of its passage (stored with the citations, so a
    #: saved edit can be checked again without retrieval)
    passages: dict[int, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        citations = [c.to_dict() for c in self.citations]
        for c in citations:
            if c["n"] in self.passages:
                c["passage"] = self.passages[c["n"]]
        return {
            "title": self.title,
            "markdown": self.markdown,
            "citations": citations,
            "grounding": self.grounding.to_dict(),
            "outline": [s.to_dict() for s in self.outline],
            "engine": self.engine,
            "model": self.model,
            "word_count": self.word_count,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A post's title and outline: what ``Engine.plan`` proposes and the author may edit
    before ``Engine.generate(..., plan=...)`` writes exactly these headings, in order."""

    title: str
    sections: list[OutlineSection]

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "sections": [s.to_dict() for s in self.sections]}


@dataclass(frozen=True, slots=True)
class SectionTarget:
    """Body section ``index`` (0-based, in ``##`` order) of an existing draft, to be
    written again. ``body`` is its current Markdown (markers in the draft's numbering);
    ``others`` the ``(heading, markdown)`` of the draft's other parts, so the new text
    does not repeat them; ``quoted_chunks`` the chunk ids cited anywhere else in the draft."""

    index: int
    heading: str
    points: list[str]
    body: str
    others: list[tuple[str | None, str]] = field(default_factory=list)
    quoted_chunks: frozenset[str] = frozenset()
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class RewrittenSection:
    """A section written again: ``markdown`` (no heading) with provisional markers
    ``[n]`` keyed into ``passages``; ``preferred`` optionally pins the quote of source
    ``n`` to a span inside its passage text (as ``SourceRegistry.prefer_quote``)."""

    markdown: str
    passages: dict[int, Passage]
    preferred: dict[int, tuple[int, int]] = field(default_factory=dict)


# --------------------------------------------------------------------------
# Callables the caller provides

#: ``retrieve(query, k)`` -> up to k passages, best first.
Retrieve = Callable[[str, int], Awaitable[list[Passage]]]
#: Either a retriever or a plain list of passages (then an in-memory BM25
#: index is built over them).
Sources = Retrieve | Sequence[Passage]
#: ``emit(type, data)``; may be sync or async. Types: status, outline, section.
Emit = Callable[[str, dict[str, Any]], Awaitable[None] | None]
#: Returns True once the caller wants generation to stop.
Cancelled = Callable[[], bool]


@runtime_checkable
class Engine(Protocol):
    name: str
    model: str | None

    async def plan(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Plan:
        """The title and outline the engine would write (for the author to review)."""
        ...

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
        plan: Plan | None = None,
    ) -> Draft:
        """The whole draft; with ``plan``, its title and exactly its headings in order
        (each section retrieving for its own heading and points)."""
        ...

    async def rewrite_section(
        self,
        req: GenerationRequest,
        target: SectionTarget,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> RewrittenSection:
        """One body section written again (``GenerationError`` with code
        ``nothing_new`` when the sources hold nothing the draft does not already say)."""
        ...
