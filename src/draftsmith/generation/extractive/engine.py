"""The extractive engine's orchestration: retrieving, outlining, writing, verifying."""

from __future__ import annotations

from dataclasses import dataclass, replace

from draftsmith.text.phrases import extract_keyphrases
from draftsmith.text.sentences import FUNCTION_WORDS
from draftsmith.text.tokens import tokenize
from draftsmith.text.words import normalize_whitespace, word_count

from ..citations import SourceRegistry, Verification
from ..draft import as_retriever, finish_draft, join_parts
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import retrieve_fused, retrieve_unique, section_queries
from ..types import (
    Cancelled,
    Draft,
    Emit,
    GenerationRequest,
    OutlineSection,
    Passage,
    Plan,
    Retrieve,
    RewrittenSection,
    SectionTarget,
    Sources,
    target_words,
)
from .candidates import CandidatePool
from .headings import case_map, make_title
from .lexicon import conclusion_heading, detect_language
from .outline import SectionPlan, approved_sections, own_material, plan_sections
from .rewrite import rewrite
from .units import Unit
from .writing import Material, Written, compose, write

TOPIC_K = {"short": 40, "medium": 60, "long": 90}
SECTION_K = 14

#: (heading, markdown, kind) of each part of the draft
Parts = list[tuple[str | None, str, str]]


@dataclass
class _Prepared:
    retrieve: Retrieve
    topic_passages: list[Passage]
    pool: CandidatePool
    topic_words: list[str]
    cmap: dict[str, str]
    lang: str
    title: str


class ExtractiveEngine:
    """Offline engine: every sentence of the draft is copied from a source (apart from
    one templated framing sentence and one recap that name only the topic and the
    section headings)."""

    name = "extractive"
    model: str | None = None

    async def plan(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Plan:
        prog = Progress(emit, cancelled)
        prep = await self._prepare(req, passages_for, prog)
        await prog.status("outlining", "Choosing the sections")
        plans = plan_sections(req, prep.topic_passages, prep.pool, prep.topic_words, prep.cmap)
        outline = [OutlineSection(heading=p.heading, points=p.points, query=p.query) for p in plans]
        await prog.outline(prep.title, outline)
        return Plan(title=prep.title, sections=outline)

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
        plan: Plan | None = None,
    ) -> Draft:
        prog = Progress(emit, cancelled)
        prep = await self._prepare(req, passages_for, prog, plan)
        pool, title = prep.pool, prep.title
        await prog.status("outlining", "Choosing the sections")
        if plan is None:
            plans = plan_sections(req, prep.topic_passages, pool, prep.topic_words, prep.cmap)
        else:
            plans = approved_sections(req, plan)
        concl_passages = await _section_passages(
            req, prep.retrieve, plans, pool, prog, own_only=plan is not None
        )
        if plan is not None:
            own_material(plans, pool, prep.cmap)
        outline = [OutlineSection(heading=p.heading, points=p.points, query=p.query) for p in plans]
        await prog.outline(title, outline)

        await prog.status("writing", "Selecting and ordering sentences")
        material = Material(
            req, prep.topic_passages, concl_passages, pool, prep.topic_words, prep.cmap, prep.lang
        )
        written = write(material, plans, prog, fixed=plan is not None)
        _check_sections(written)
        registry = SourceRegistry()
        parts = _compose_parts(written, plans, registry, prep.lang, keep_empty=plan is not None)
        for i, (heading, md, kind) in enumerate(parts):
            await prog.section(i, heading, md, kind=kind)

        await prog.status("verifying", "Checking citations and grounding")
        v, passages = self._verify(title, parts, registry)
        words = _word_total(written)
        warnings = _warnings(v, written, words, req.length)
        empty = [p.heading for p, paras in zip(plans, written.sections, strict=False) if not paras]
        if plan is not None and empty:
            warnings.append(
                f"The sources hold nothing for {len(empty)} approved section(s) "
                f"({', '.join(empty)}): they are empty."
            )
        await prog.status(
            "verifying", f"{len(v.citations)} sources cited, grounding {v.grounding.score:.2f}"
        )
        return Draft(
            title=title,
            markdown=v.markdown,
            citations=v.citations,
            grounding=v.grounding,
            outline=[
                OutlineSection(heading=p.heading, points=p.points, query=p.query)
                for p, paras in zip(plans, written.sections, strict=False)
                if paras or plan is not None
            ],
            engine=self.name,
            model=None,
            word_count=words,
            warnings=warnings,
            passages=passages,
        )

    async def rewrite_section(
        self,
        req: GenerationRequest,
        target: SectionTarget,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> RewrittenSection:
        prog = Progress(emit, cancelled)
        await prog.status("retrieving", f"Finding other passages for “{target.heading}”")
        retrieve, _ = await as_retriever(passages_for)
        return await rewrite(req, target, retrieve, prog)

    async def _prepare(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        prog: Progress,
        plan: Plan | None = None,
    ) -> _Prepared:
        """Retrieval for the topic, the candidate sentences, the language and the title."""
        await prog.status("retrieving", "Finding the passages that match the topic")
        retrieve, all_passages = await as_retriever(passages_for)
        prog.check()
        pool = CandidatePool()
        topic_passages = await _topic_passages(req, retrieve, all_passages, pool, prog)
        topic_words = [
            w for w in tokenize(req.topic) if w and not w.isdigit() and w not in FUNCTION_WORDS
        ]
        topic_passages += await _feedback_passages(req, retrieve, topic_passages, topic_words, prog)
        for p in topic_passages:
            pool.cands(p)
        pool.resolve()
        if sum(c.nwords for p in topic_passages for c in pool.usable(p)) == 0:
            raise GenerationError(
                "The selected documents contain no prose sentences to quote (only tables, "
                "code, lists or unreadable text); the extractive engine cannot write from them.",
                code="no_usable_text",
            )
        await prog.status("retrieving", f"Found {len(topic_passages)} relevant passages")
        cmap = case_map([c for p in topic_passages[:60] for c in pool.usable(p)])
        lang = detect_language(req, topic_passages)
        if plan is not None and plan.title.strip():
            title = normalize_whitespace(plan.title)
        elif req.title and req.title.strip():
            title = normalize_whitespace(req.title)
        else:
            title = make_title(req.topic, cmap, lang == "en")
        return _Prepared(retrieve, topic_passages, pool, topic_words, cmap, lang, title)

    def _verify(
        self, title: str, parts: Parts, registry: SourceRegistry
    ) -> tuple[Verification, dict[int, str]]:
        """Finish and verify the draft (the framing and recap sentences name only the
        topic and the headings: grounding does not check them)."""
        body = join_parts([(heading, md) for heading, md, _ in parts])
        return finish_draft(title, body, registry)


def _topic_query(req: GenerationRequest) -> str:
    return " ".join(x for x in (req.topic, req.title or "") if x).strip()


async def _topic_passages(
    req: GenerationRequest,
    retrieve: Retrieve,
    all_passages: list[Passage] | None,
    pool: CandidatePool,
    prog: Progress,
) -> list[Passage]:
    """The passages for the topic (topped up from a plain list when few match)."""
    query = _topic_query(req)
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
            "None of the selected documents has text about this topic; try other words or "
            "other documents.",
            code="no_relevant_passages",
        )
    for p in topic_passages:
        pool.doc(p.document_id)
    return topic_passages


async def _feedback_passages(
    req: GenerationRequest,
    retrieve: Retrieve,
    topic_passages: list[Passage],
    topic_words: list[str],
    prog: Progress,
) -> list[Passage]:
    """Pseudo-relevance feedback: the key phrases of the best passages widen the net."""
    head_texts = [p.text for p in topic_passages[:12]]
    prf = [ph for ph, _ in extract_keyphrases(head_texts, k=6, exclude=topic_words)]
    if not prf:
        return []
    query = _topic_query(req)
    k0 = TOPIC_K.get(req.length, 60)
    more = await retrieve_unique(retrieve, f"{query} {' '.join(prf)}", k0 // 2)
    prog.check()
    have = {p.chunk_id for p in topic_passages}
    # their scores answer another query: scale them below the topic's own best matches
    top = max((p.score for p in topic_passages), default=0.0)
    more_top = max((p.score for p in more), default=0.0)
    factor = (0.5 * top / more_top) if top > 0 and more_top > 0 else 0.0
    return [replace(p, score=p.score * factor) for p in more if p.chunk_id not in have]


async def _section_passages(
    req: GenerationRequest,
    retrieve: Retrieve,
    plans: list[SectionPlan],
    pool: CandidatePool,
    prog: Progress,
    own_only: bool = False,
) -> list[Passage]:
    """More material for each section by its own query (``own_only``: by its heading and
    points alone, as an approved outline's sections); returns the passages for the
    conclusion (the documents' own summaries)."""
    for plan in plans:
        extra: list[Passage] = []
        if own_only:
            extra = await retrieve_fused(
                retrieve, section_queries(plan.heading, plan.points, ""), SECTION_K
            )
        if not extra:  # (for an approved section: its own words match nothing on their own)
            queries = section_queries(plan.heading, plan.points, req.topic, plan.query)
            extra = await retrieve_fused(retrieve, queries, SECTION_K)
        prog.check()
        have = {p.chunk_id for p in plan.passages}
        plan.passages += [p for p in extra if p.chunk_id not in have]
        for p in extra:
            pool.cands(p)
    concl_passages = await retrieve_unique(
        retrieve, f"{req.topic} conclusion summary overall results", SECTION_K
    )
    prog.check()
    for p in concl_passages:
        pool.cands(p)
    pool.resolve()
    return concl_passages


def _compose_parts(
    written: Written,
    plans: list[SectionPlan],
    registry: SourceRegistry,
    lang: str,
    keep_empty: bool = False,
) -> Parts:
    """The draft's parts; ``keep_empty`` keeps the heading of a section with nothing to say
    (an approved outline's headings are all written, in order)."""
    parts: Parts = [(None, compose(written.intro, registry, tail=written.framing), "introduction")]
    for plan, paras in zip(plans, written.sections, strict=False):
        if paras or keep_empty:
            parts.append((plan.heading, compose(paras, registry), "section"))
    if written.conclusion:
        md = compose(written.conclusion, registry, lead=written.recap)
        parts.append((conclusion_heading(lang), md, "conclusion"))
    return parts


def _check_sections(written: Written) -> None:
    if not any(written.sections):
        raise GenerationError(
            "The selected documents are not about this topic: their closest sections ("
            f"{', '.join(written.dropped[:4]) or 'none'}) are about something else. "
            "Try other documents or other words.",
            code="no_relevant_passages",
        )


def _warnings(v: Verification, written: Written, words: int, length: str) -> list[str]:
    warnings = list(v.problems)
    if written.dropped:
        warnings.append(
            f"Left out {len(written.dropped)} section(s) of the sources that are not about "
            f"the topic ({', '.join(written.dropped)}); the draft is shorter instead."
        )
    target = target_words(length)
    if words < 0.75 * target:
        warnings.append(
            f"The selected documents only support about {words} words on this topic "
            f"(the {length} target is {target})."
        )
    return warnings


def _word_total(written: Written) -> int:
    """Words of the draft's body (the framing and recap included)."""
    groups = (written.intro, written.conclusion, *written.sections)
    words = sum(
        para.shown_words if isinstance(para, Unit) else sum(c.nwords for c in para)
        for group in groups
        for para in group
    )
    if written.intro and written.framing:
        words += word_count(written.framing)
    if written.conclusion and written.recap:
        words += word_count(written.recap)
    return words
