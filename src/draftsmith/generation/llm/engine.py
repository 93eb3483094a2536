"""The LLM engine: a plan (outline as JSON, in the structured-output mode the endpoint
takes), the body sections written concurrently from numbered passages ``[1]..[k]``
mapped back to the draft's citation numbers, the introduction and conclusion from the
finished body, a verified polishing pass, then verification and grounding."""

from __future__ import annotations

import logging
import re

from draftsmith.text.words import word_count

from ..citations import SourceRegistry, strip_markers
from ..draft import as_retriever, finish_draft, join_parts
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import above_floor, retrieve_fused, retrieve_unique, section_queries
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
)
from . import prompts
from .client import LLMClient
from .outline import outline_schema, parse_outline
from .polish import polish
from .settings import LLMSettings
from .writer import PostWriter, digest

log = logging.getLogger("draftsmith.generation.llm")

SECTIONS_FOR_LENGTH = {"short": (2, 3), "medium": (3, 4), "long": (4, 6)}
OUTLINE_ERROR = "The model returned an outline that is not valid JSON"
_OUTLINE_MAX_TOKENS = 700


class OpenAICompatEngine:
    """Writes a draft with any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, ...)."""

    name = "llm"

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.base_url:
            raise GenerationError(
                "No LLM endpoint is configured (DRAFTSMITH_LLM_BASE_URL).",
                code="llm_not_configured",
            )
        self.settings = settings

    @property
    def model(self) -> str:
        return self.settings.model

    def __repr__(self) -> str:
        return f"OpenAICompatEngine({self.settings!r})"

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers."""
        async with LLMClient(self.settings) as client:
            return await client.list_models()

    # -- the three steps of the Engine protocol

    async def plan(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Plan:
        """The title and outline the model proposes (one structured-output call)."""
        prog = Progress(emit, cancelled)
        retrieve, all_passages = await as_retriever(passages_for)
        topic_passages = await self._topic_passages(prog, req, retrieve, all_passages)
        async with LLMClient(self.settings) as client:
            return await self._plan(client, prog, req, topic_passages)

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
        plan: Plan | None = None,
    ) -> Draft:
        prog = Progress(emit, cancelled)
        s = self.settings
        retrieve, all_passages = await as_retriever(passages_for)
        topic_passages = await self._topic_passages(prog, req, retrieve, all_passages)
        async with LLMClient(s) as client:
            if plan is None:
                plan = await self._plan(client, prog, req, topic_passages)
            else:
                plan = Plan(
                    title=(plan.title or req.title or req.topic).strip(), sections=plan.sections
                )
                await prog.outline(plan.title, plan.sections)
            await prog.status("writing", f"Writing {len(plan.sections)} sections")
            writer = PostWriter(s, client, prog, req)
            parts = await writer.write_post(plan.sections, topic_passages, retrieve)
            if s.polish:
                parts = await self._polish(client, prog, req, parts, writer.registry)

        await prog.status("verifying", "Checking citations and grounding")
        v, passages = finish_draft(plan.title, join_parts(parts), writer.registry)
        await prog.status(
            "verifying", f"{len(v.citations)} sources cited, grounding {v.grounding.score:.2f}"
        )
        return Draft(
            title=plan.title,
            markdown=v.markdown,
            citations=v.citations,
            grounding=v.grounding,
            outline=list(plan.sections),
            engine=self.name,
            model=s.model,
            word_count=word_count(strip_markers("\n\n".join(md for _, md in parts))),
            warnings=list(v.problems),
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
        """Body section ``target.index`` written again from passages found for its heading and
        points (those not quoted elsewhere in the draft first), told what the other parts say
        (not to repeat it), its current text (to improve on) and the author's instructions."""
        prog = Progress(emit, cancelled)
        s = self.settings
        retrieve, _ = await as_retriever(passages_for)
        await prog.status("retrieving", f'Finding passages for "{target.heading}"')
        queries = section_queries(target.heading, target.points, req.topic)
        found = await retrieve_fused(retrieve, queries, 2 * s.passages_per_section)
        fresh = [p for p in found if p.chunk_id not in target.quoted_chunks]
        passages = (fresh + [p for p in found if p.chunk_id in target.quoted_chunks])[
            : s.passages_per_section
        ]
        if not passages:
            raise GenerationError(
                f'None of the selected documents has text about "{target.heading}".',
                code="no_relevant_passages",
            )
        others = [(h or "Introduction", digest(md)) for h, md in target.others]
        context = "\n".join(
            [
                prompts.others_context([], others),
                "The current text of this section, to be written anew (better, not longer "
                f"for its own sake):\n<<<CURRENT\n{strip_markers(target.body)}\nCURRENT>>>",
                *(
                    [f"The author's instructions for this rewrite: {target.instructions}"]
                    if target.instructions
                    else []
                ),
            ]
        )
        words = max(80, word_count(strip_markers(target.body)))
        registry = SourceRegistry()
        async with LLMClient(s) as client:
            await prog.status("writing", f'Rewriting "{target.heading}"')
            writer = PostWriter(s, client, prog, req, registry)
            md = await writer.write_part(
                target.index + 1, "section", target.heading, target.points, words, passages, context
            )
        return RewrittenSection(markdown=md, passages=dict(registry.passages))

    # -- steps

    async def _topic_passages(
        self,
        prog: Progress,
        req: GenerationRequest,
        retrieve: Retrieve,
        all_passages: list[Passage] | None,
    ) -> list[Passage]:
        await prog.status("retrieving", "Finding the passages that match the topic")
        k = self.settings.passages_per_section
        query = " ".join(x for x in (req.topic, req.title or "") if x)
        # the relevance floor (relative only: the coverage check refuses off-topic briefs)
        found = above_floor(await retrieve_unique(retrieve, query, max(12, k * 2)), absolute=0)
        if not found and all_passages:
            found = all_passages[: k * 2]
        if not found:
            raise GenerationError(
                "None of the selected documents has text about this topic; "
                "try other words or other documents.",
                code="no_relevant_passages",
            )
        prog.check()
        return found

    async def _plan(
        self,
        client: LLMClient,
        prog: Progress,
        req: GenerationRequest,
        passages: list[Passage],
    ) -> Plan:
        """The outline; a reply that is not a valid outline is sent back once for repair."""
        await prog.status("outlining", f"Asking {self.settings.model} for an outline")
        lo, hi = SECTIONS_FOR_LENGTH.get(req.length, (3, 4))
        head, tail = prompts.outline_prompt(req, lo, hi)
        messages, _ = prompts.budget_messages(
            prompts.OUTLINE_SYSTEM,
            head,
            tail,
            passages,
            max_tokens=_OUTLINE_MAX_TOKENS,
            budget_tokens=self.settings.context_budget_tokens,
        )
        text, mode = await client.structured(
            messages,
            _OUTLINE_MAX_TOKENS,
            prog.cancelled,
            name="blog_outline",
            schema=outline_schema(lo, hi),
        )
        log.info("outline asked in structured-output mode %s", mode)
        try:
            plan = _parsed(text, req, hi)
        except ValueError:
            await prog.status(
                "outlining", "The outline was not valid JSON; asking the model to fix it"
            )
            repair = messages + [
                {"role": "assistant", "content": text[:4000]},
                {"role": "user", "content": prompts.REPAIR_REQUEST},
            ]
            fixed = await client.chat(repair, _OUTLINE_MAX_TOKENS, prog.cancelled)
            try:
                plan = _parsed(fixed, req, hi)
            except ValueError:
                raise GenerationError(OUTLINE_ERROR, code="llm_bad_outline") from None
        await prog.outline(plan.title, plan.sections)
        return plan

    async def _polish(
        self,
        client: LLMClient,
        prog: Progress,
        req: GenerationRequest,
        parts: list[tuple[str | None, str]],
        registry: SourceRegistry,
    ) -> list[tuple[str | None, str]]:
        await prog.status("polishing", "Removing repeated facts and smoothing transitions")
        sources = {n: p.text for n, p in registry.passages.items()}
        try:
            polished, why = await polish(client, req, parts, sources, prog.cancelled)
        except GenerationError as e:
            polished, why = parts, e.message
        if why:
            log.info("polishing pass not used: %s", why)
            await prog.status("polishing", f"The polished version was not used: {why}")
        return polished


_FRAME_HEADING = re.compile(r"(?i)^\W*(introduction|intro|conclusions?|summary|overview)\W*$")


def _parsed(text: str, req: GenerationRequest, max_sections: int) -> Plan:
    """The plan of the model's answer; an introduction or conclusion it listed among the
    body sections is left out (those are written from the body)."""
    outline = parse_outline(text)
    title = (req.title or outline.title or req.topic).strip()
    sections: list[OutlineSection] = outline.to_sections(max_sections + 2)
    body = [s for s in sections if not _FRAME_HEADING.match(s.heading)] or sections
    return Plan(title=title, sections=body[:max_sections])
