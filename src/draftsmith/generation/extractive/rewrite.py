"""Writing one section again: other sentences of the sources on the section's heading
and points, from passages the rest of the draft does not quote, so the new text differs
from the old (or the engine says there is nothing new to draw on)."""

from __future__ import annotations

from draftsmith.text.tokens import content_words
from draftsmith.text.words import normalize_whitespace, word_count

from ..citations import SourceRegistry, strip_markers
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import retrieve_fused, section_queries
from ..types import GenerationRequest, Retrieve, RewrittenSection, SectionTarget
from .candidates import Cand, CandidatePool, hits
from .selection import Pick, Selection, chains, fill, passage_scores, relevance, tidy_paragraphs
from .writing import compose

#: passages looked at for the new text (twice a section's usual share: the best are
#: often the ones the draft already quotes)
REWRITE_K = 28
#: the new text aims at the old one's length, within these bounds
MIN_WORDS, MAX_WORDS = 60, 400


def _flat(text: str) -> str:
    return normalize_whitespace(strip_markers(text)).casefold()


def _terms(req: GenerationRequest, target: SectionTarget) -> dict[str, float]:
    """The words a new sentence should be about: the heading's most, then the points,
    the author's instructions and the topic."""
    terms: dict[str, float] = {}
    for text, weight in (
        (req.topic, 1.0),
        (target.instructions or "", 0.8),
        (" ".join(target.points), 0.7),
        (target.heading, 2.0),
    ):
        for w in content_words(text):
            terms[w] = terms.get(w, 0.0) + weight
    return terms


async def rewrite(
    req: GenerationRequest, target: SectionTarget, retrieve: Retrieve, prog: Progress
) -> RewrittenSection:
    queries = section_queries(target.heading, target.points, req.topic, target.instructions or "")
    found = await retrieve_fused(retrieve, queries, REWRITE_K)
    prog.check()
    passages = [p for p in found if p.chunk_id not in target.quoted_chunks]
    await prog.status(
        "writing", f"Choosing new sentences for “{target.heading}” from {len(passages)} passages"
    )
    pool = CandidatePool()
    for p in passages:
        pool.cands(p)
    pool.resolve()
    said = _flat(target.body)
    elsewhere = " ".join(_flat(md) for _, md in target.others)
    terms = _terms(req, target)
    total = sum(terms.values())
    # sentences on the section's own words, if there are any; else on the topic
    own = frozenset(content_words(" ".join([target.heading, *target.points])))
    found_own = any(hits(c.words, own) for p in passages for c in pool.usable(p))
    wanted = own if own and found_own else frozenset(terms)
    scores = passage_scores(passages)
    rel: dict[int, float] = {}
    cands: list[Cand] = []
    for p in passages:
        for c in pool.usable(p):
            text = normalize_whitespace(c.display).casefold()
            if c.idx in rel or text in said or text in elsewhere or not hits(c.words, wanted):
                continue
            rel[c.idx] = relevance(c, terms, total, scores.get(p.chunk_id, 0.0), False)
            cands.append(c)
    budget = min(MAX_WORDS, max(MIN_WORDS, word_count(strip_markers(target.body))))
    paras: list[list[Cand]] = []
    fill(Pick(chains(cands), rel), budget, Selection(), paras)
    prog.check()
    registry = SourceRegistry()
    markdown = compose(tidy_paragraphs(paras), registry) if paras else ""
    if not markdown.strip() or _flat(markdown) == said:
        raise GenerationError(
            f"There is nothing new to draw on for “{target.heading}”: every passage of the "
            "selected documents about it is already quoted in the draft (or says what the "
            "section already says). Edit the section by hand, or add documents.",
            code="nothing_new",
        )
    return RewrittenSection(
        markdown=markdown, passages=dict(registry.passages), preferred=dict(registry.preferred)
    )
