"""The LLM engine: outline as JSON, then an introduction, one streamed call per section
and a conclusion, each written from numbered passages ``[1]..[k]`` that are mapped back
to the draft's citation numbers; finally verification and grounding."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

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
    Retrieve,
    Sources,
    target_words,
)
from . import prompts
from .answers import Unusable, accept_answer
from .client import LLMClient, SchemaRejected
from .outline import parse_outline, response_format
from .settings import LLMSettings

log = logging.getLogger("draftsmith.generation.llm")

SECTIONS_FOR_LENGTH = {"short": (2, 3), "medium": (3, 4), "long": (4, 6)}
OUTLINE_ERROR = "The model returned an outline that is not valid JSON"
_OUTLINE_MAX_TOKENS = 700

#: (heading, markdown) of each written part, introduction first
Parts = list[tuple[str | None, str]]


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
        # servers that reject ``response_format`` json_schema get plain prompts from then on
        self._json_schema_ok = True

    @property
    def model(self) -> str:
        return self.settings.model

    def __repr__(self) -> str:
        return f"OpenAICompatEngine({self.settings!r})"

    async def list_models(self) -> list[str]:
        """Model ids the endpoint offers."""
        async with LLMClient(self.settings) as client:
            return await client.list_models()

    async def generate(
        self,
        req: GenerationRequest,
        passages_for: Sources,
        emit: Emit | None = None,
        cancelled: Cancelled | None = None,
    ) -> Draft:
        prog = Progress(emit, cancelled)
        s = self.settings
        await prog.status("retrieving", "Finding the passages that match the topic")
        retrieve, all_passages = await as_retriever(passages_for)
        topic_passages = await self._topic_passages(req, retrieve, all_passages)
        prog.check()
        async with LLMClient(s) as client:
            await prog.status("outlining", f"Asking {s.model} for an outline")
            llm_title, outline = await self._outline(client, prog, req, topic_passages)
            title = (req.title or llm_title or req.topic).strip()
            await prog.outline(title, outline)
            await prog.status("writing", "Writing the draft")
            writer = _PostWriter(s, client, prog, req)
            parts = await writer.write_post(outline, topic_passages, retrieve)

        await prog.status("verifying", "Checking citations and grounding")
        v, passages = finish_draft(title, join_parts(parts), writer.registry)
        await prog.status(
            "verifying", f"{len(v.citations)} sources cited, grounding {v.grounding.score:.2f}"
        )
        return Draft(
            title=title,
            markdown=v.markdown,
            citations=v.citations,
            grounding=v.grounding,
            outline=outline,
            engine=self.name,
            model=s.model,
            word_count=word_count(strip_markers("\n\n".join(md for _, md in parts))),
            warnings=list(v.problems),
            passages=passages,
        )

    async def _topic_passages(
        self, req: GenerationRequest, retrieve: Retrieve, all_passages: list[Passage] | None
    ) -> list[Passage]:
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
        return found

    async def _outline(
        self,
        client: LLMClient,
        prog: Progress,
        req: GenerationRequest,
        passages: list[Passage],
    ) -> tuple[str | None, list[OutlineSection]]:
        """``(title or None, sections)``; a reply that is not a valid outline is sent back
        once for repair."""
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
        text = await self._ask_outline(client, prog, messages, lo, hi)
        try:
            return _parsed_outline(text, hi)
        except ValueError:
            pass
        await prog.status("outlining", "The outline was not valid JSON; asking the model to fix it")
        repair = messages + [
            {"role": "assistant", "content": text[:4000]},
            {"role": "user", "content": prompts.REPAIR_REQUEST},
        ]
        fixed = await client.chat(repair, _OUTLINE_MAX_TOKENS, prog.cancelled)
        try:
            return _parsed_outline(fixed, hi)
        except ValueError:
            raise GenerationError(OUTLINE_ERROR, code="llm_bad_outline") from None

    async def _ask_outline(
        self, client: LLMClient, prog: Progress, messages: prompts.Messages, lo: int, hi: int
    ) -> str:
        """The outline reply, with a json_schema ``response_format`` while the server takes it."""
        if self._json_schema_ok:
            try:
                return await client.chat(
                    messages,
                    _OUTLINE_MAX_TOKENS,
                    prog.cancelled,
                    response_format=response_format(lo, hi),
                )
            except SchemaRejected:
                log.info("LLM endpoint rejected response_format json_schema; using a plain prompt")
                self._json_schema_ok = False
        return await client.chat(messages, _OUTLINE_MAX_TOKENS, prog.cancelled)


class _PostWriter:
    """Writes the parts of one post, numbering citations in the order they appear."""

    def __init__(
        self, settings: LLMSettings, client: LLMClient, prog: Progress, req: GenerationRequest
    ) -> None:
        self.settings = settings
        self.client = client
        self.prog = prog
        self.req = req
        self.registry = SourceRegistry()

    async def write_post(
        self, outline: list[OutlineSection], topic_passages: list[Passage], retrieve: Retrieve
    ) -> Parts:
        total = target_words(self.req.length)
        intro_words = max(60, round(total * 0.12))
        concl_words = max(60, round(total * 0.10))
        per_section = max(80, round((total - intro_words - concl_words) / max(1, len(outline))))
        k = self.settings.passages_per_section
        headings = [o.heading for o in outline]
        intro = await self.write_part(
            0, "introduction", None, headings, intro_words, topic_passages[:k]
        )
        parts: Parts = [(None, intro)]
        section_passages: list[list[Passage]] = []
        for i, sec in enumerate(outline, start=1):
            queries = section_queries(sec.heading, sec.points, self.req.topic, sec.query)
            got = await retrieve_fused(retrieve, queries, k)
            self.prog.check()
            section_passages.append(got or topic_passages[:k])
            md = await self.write_part(
                i, "section", sec.heading, sec.points, per_section, section_passages[-1]
            )
            parts.append((sec.heading, md))
        concl = await self.write_part(
            len(outline) + 1,
            "conclusion",
            "Conclusion",
            [],
            concl_words,
            _best_of_each(section_passages or [topic_passages], k),
            context="Sections of the post: " + "; ".join(headings),
        )
        parts.append(("Conclusion", concl))
        return parts

    async def write_part(
        self,
        index: int,
        kind: str,
        heading: str | None,
        points: Sequence[str],
        words: int,
        passages: list[Passage],
        context: str = "",
    ) -> str:
        """One part, streamed with partial ``section`` events, then its final event. An
        unusable answer is asked for again ``unusable_retries`` times."""
        s = self.settings
        label = heading or kind
        head, tail = prompts.write_prompt(self.req, kind, heading, points, words, context)
        max_tokens = min(int(words * 2.0) + 150, max(300, s.context_budget_tokens // 2))
        messages, used = prompts.budget_messages(
            prompts.WRITE_SYSTEM,
            head,
            tail,
            passages,
            max_tokens=max_tokens,
            budget_tokens=s.context_budget_tokens,
        )
        if not used:
            raise GenerationError(
                f'No source passage fits the prompt for "{label}".', code="llm_budget"
            )
        last_partial = 0.0

        async def on_text(so_far: str) -> None:
            nonlocal last_partial
            if time.monotonic() - last_partial >= s.partial_event_interval:
                last_partial = time.monotonic()
                await self.prog.section(
                    index, heading, strip_markers(so_far), kind=kind, final=False
                )

        problem = ""
        for _ in range(1 + max(0, s.unusable_retries)):
            text = await self.client.chat(
                messages, max_tokens, self.prog.cancelled, on_text=on_text
            )
            try:
                md = accept_answer(text, used, self.registry, weak_threshold=s.weak_threshold)
            except Unusable as e:
                problem = str(e)
                log.warning("unusable LLM answer for %s: %s", label, problem)
                continue
            await self.prog.section(index, heading, md, kind=kind)
            return md
        raise GenerationError(
            f'The model\'s answer for "{label}" was unusable: {problem}.', code="llm_unusable"
        )


def _parsed_outline(text: str, max_sections: int) -> tuple[str | None, list[OutlineSection]]:
    outline = parse_outline(text)
    return outline.title or None, outline.to_sections(max_sections)


def _best_of_each(passage_lists: list[list[Passage]], k: int) -> list[Passage]:
    """Up to ``k`` passages taking each list's best first, then each one's second, ..."""
    out: list[Passage] = []
    seen: set[str] = set()
    for rank in range(k):
        for passages in passage_lists:
            if rank < len(passages) and passages[rank].chunk_id not in seen:
                seen.add(passages[rank].chunk_id)
                out.append(passages[rank])
    return out[:k]
