"""Writing one post as one piece: body sections first (``concurrency`` at a time, each told
what the others cover and, batch by batch, a digest of those already written), then the
introduction and the conclusion from the finished body, as STORM writes its lead last."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import anyio

from draftsmith.text.sentences import split_sentences
from draftsmith.text.tokens import truncate_to_tokens

from ..citations import SourceRegistry, strip_markers
from ..draft import join_parts
from ..errors import GenerationError
from ..events import Progress
from ..retrieval import retrieve_fused, section_queries
from ..types import GenerationRequest, OutlineSection, Passage, Retrieve, target_words
from . import prompts, structured
from .answers import Unusable, accept_answer
from .client import LLMClient
from .settings import LLMSettings

log = logging.getLogger("draftsmith.generation.llm")

#: (heading, markdown) of each written part, introduction first
Parts = list[tuple[str | None, str]]
#: words of a written section's digest, as other sections see it
DIGEST_WORDS = 60


def digest(markdown: str, words: int = DIGEST_WORDS) -> str:
    """The first sentence of each paragraph, markers stripped, cut to ``words`` words."""
    firsts = []
    for para in strip_markers(markdown).split("\n\n"):
        sents = split_sentences(para)
        firsts.append(sents[0].text if sents else para.strip())
    out = " ".join(" ".join(firsts).split()[:words])
    return out


def body_text(parts: Sequence[tuple[str | None, str]], max_tokens: int) -> str:
    """The body (headings and text, markers stripped) cut to ``max_tokens``."""
    return truncate_to_tokens(strip_markers(join_parts(parts)), max_tokens)


class PostWriter:
    """Writes the parts of one post into one registry of provisional citation numbers."""

    def __init__(
        self,
        settings: LLMSettings,
        client: LLMClient,
        prog: Progress,
        req: GenerationRequest,
        registry: SourceRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.prog = prog
        self.req = req
        self.registry = registry if registry is not None else SourceRegistry()
        #: every call of this post waits for one of ``concurrency`` slots: a single-slot
        #: server (llama-cpp-python) cuts off the answer it is streaming when another
        #: request arrives, so with 1 nothing may overlap, not even the lead's two calls
        self.concurrency = max(1, settings.concurrency)
        if structured.one_at_a_time(settings.base_url, settings.model):
            self.concurrency = 1
        self.slots = anyio.Semaphore(self.concurrency)

    def words(self, sections: int) -> tuple[int, int, int]:
        """Target words of the introduction, each body section and the conclusion."""
        total = target_words(self.req.length)
        intro = max(60, round(total * 0.12))
        concl = max(60, round(total * 0.10))
        return intro, max(80, round((total - intro - concl) / max(1, sections))), concl

    async def passages_for(
        self, sec: OutlineSection, retrieve: Retrieve, fallback: list[Passage]
    ) -> list[Passage]:
        """A section's passages, found by its own heading and points."""
        k = self.settings.passages_per_section
        queries = section_queries(sec.heading, sec.points, self.req.topic, sec.query)
        got = await retrieve_fused(retrieve, queries, k)
        self.prog.check()
        return got or fallback[:k]

    async def write_post(
        self,
        outline: Sequence[OutlineSection],
        topic_passages: list[Passage],
        retrieve: Retrieve,
    ) -> Parts:
        """Introduction, body sections and conclusion, in draft order."""
        intro_words, per_section, concl_words = self.words(len(outline))
        per_passages: dict[int, list[Passage]] = {}
        body = await self.write_body(outline, per_section, retrieve, topic_passages, per_passages)
        k = self.settings.passages_per_section
        room = self.settings.context_budget_tokens // 3
        text = body_text(body, room)
        results: dict[str, str] = {}

        async def intro() -> None:
            results["intro"] = await self.write_part(
                0,
                "introduction",
                None,
                [],
                intro_words,
                topic_passages[:k],
                prompts.body_context("introduction", text),
            )

        async def conclusion() -> None:
            lists = [per_passages[i] for i in sorted(per_passages)] or [topic_passages]
            results["conclusion"] = await self.write_part(
                len(outline) + 1,
                "conclusion",
                "Conclusion",
                [],
                concl_words,
                _best_of_each(lists, k),
                prompts.body_context("conclusion", text),
            )

        await self.prog.status("writing", "Writing the introduction and the conclusion")
        await _all([intro, conclusion])
        return [(None, results["intro"]), *body, ("Conclusion", results["conclusion"])]

    async def write_body(
        self,
        outline: Sequence[OutlineSection],
        words: int,
        retrieve: Retrieve,
        fallback: list[Passage],
        per_passages: dict[int, list[Passage]],
    ) -> Parts:
        """The body sections, ``concurrency`` at a time, each retrieving its own passages
        (while the others are being written); a failing section fails the post naming it.
        ``per_passages`` receives each section's passages."""
        n = self.concurrency
        written: dict[int, str] = {}
        for start in range(0, len(outline), n):
            batch = range(start, min(start + n, len(outline)))
            digests = [(outline[j].heading, digest(written[j])) for j in sorted(written)]

            def task(i: int, digests=digests):
                async def run() -> None:
                    sec = outline[i]
                    per_passages[i] = await self.passages_for(sec, retrieve, fallback)
                    others = [(o.heading, o.points) for j, o in enumerate(outline) if j != i]
                    written[i] = await self.write_part(
                        i + 1,
                        "section",
                        sec.heading,
                        sec.points,
                        words,
                        per_passages[i],
                        prompts.others_context(others, digests),
                    )

                return run

            await _all([task(i) for i in batch])
        return [(sec.heading, written[i]) for i, sec in enumerate(outline)]

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
        unusable answer is asked for again ``unusable_retries`` times. Any failure names
        the part."""
        try:
            return await self._write_part(index, kind, heading, points, words, passages, context)
        except GenerationError as e:
            if e.code == "llm_stream_closed" and self.concurrency > 1:
                # likely cut off by this post's next request: from now on, one at a time
                s = self.settings
                structured.remember_one_at_a_time(s.base_url, s.model)
                e.message += (
                    " It may handle one request at a time (cutting off one answer for the "
                    "next): the next try writes one section at a time; set "
                    "DRAFTSMITH_LLM_CONCURRENCY=1 for this server."
                )
                e.args = (e.message,)
            if kind == "section" and heading and heading not in e.message:
                e.message = f'Writing the section "{heading}" failed: {e.message}'
                e.args = (e.message,)
            raise

    async def _write_part(self, index, kind, heading, points, words, passages, context) -> str:
        s = self.settings
        label = heading or kind
        head, tail = prompts.write_prompt(self.req, kind, heading, points, words, context)
        # what an answer must not echo: the instructions and the brief (not the points or
        # the body, which it may well restate)
        brief, _ = prompts.write_prompt(self.req, kind, heading, [], words)
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
            async with self.slots:
                text = await self.client.chat(
                    messages, max_tokens, self.prog.cancelled, on_text=on_text
                )
            try:
                md = accept_answer(
                    text,
                    used,
                    self.registry,
                    weak_threshold=s.weak_threshold,
                    instructions=f"{prompts.WRITE_SYSTEM}\n{tail}",
                    brief=brief,
                )
            except Unusable as e:
                problem = str(e)
                log.warning("unusable LLM answer for %s: %s", label, problem)
                continue
            await self.prog.section(index, heading, md, kind=kind)
            return md
        raise GenerationError(
            f'The model\'s answer for "{label}" was unusable: {problem}.', code="llm_unusable"
        )


async def _all(jobs: Sequence) -> None:
    """Run the coroutine functions ``jobs`` together; the first failure cancels the others
    (so a cancel or an error stops every call at once) and is raised as it is."""
    if len(jobs) == 1:
        await jobs[0]()
        return
    errors: list[BaseException] = []

    async with anyio.create_task_group() as tg:

        async def run(job) -> None:
            try:
                await job()
            except Exception as exc:  # the first one wins; the others were cancelled by it
                errors.append(exc)
                tg.cancel_scope.cancel()

        for job in jobs:
            tg.start_soon(run, job)
    if errors:
        raise errors[0]


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
