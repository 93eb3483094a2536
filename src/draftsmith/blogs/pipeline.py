"""The generation job: retrieve → outline → write → verify citations → ready.

Runs on the same durable job system as document processing; progress events
are stored per blog so any server can stream them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs import events
from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.render import render_html
from draftsmith.db import utcnow
from draftsmith.documents import coverage, embeddings
from draftsmith.documents.locations import locate
from draftsmith.documents.models import Document
from draftsmith.generation import (
    Draft,
    GenerationCancelled,
    GenerationError,
    GenerationRequest,
    LLMSettings,
    Passage,
    get_engine,
    verify,
)
from draftsmith.generation.citations import draft_word_count, render_sources, split_body
from draftsmith.generation.coverage import not_covered_message, thin_sources_warning
from draftsmith.jobs.runner import (
    Cancelled,
    JobContext,
    JobKind,
    PermanentError,
    TransientError,
)
from draftsmith.sessions.models import GenerationSession

log = logging.getLogger(__name__)

CANCEL_POLL_S = 0.5
#: engines whose work is CPU-bound: run off the event loop (see `generate_off_loop`)
CPU_BOUND_ENGINES = {"extractive"}


async def _load(
    ctx: JobContext, blog_id: str
) -> tuple[Blog, GenerationSession, dict[str, Document]]:
    async with ctx.db() as db:
        blog = await db.get(Blog, blog_id)
        if blog is None or blog.session_id is None:
            raise Cancelled()
        session = await db.get(GenerationSession, blog.session_id)
        if session is None:
            raise Cancelled()
        documents = {
            d.id: d
            for d in await db.scalars(
                select(Document).where(
                    Document.id.in_(session.document_ids), Document.user_id == blog.user_id
                )
            )
        }
    missing = [
        i for i in session.document_ids if i not in documents or documents[i].status != "ready"
    ]
    if missing:
        raise PermanentError(
            "A selected document was deleted or is not ready any more.", "document_unavailable"
        )
    return blog, session, documents


async def _check_sources(ctx: JobContext, blog: Blog, session: GenerationSession) -> list[str]:
    """Before any writing: refuse what the sources cannot honestly give (a translation by
    the extractive engine; a topic they do not cover, unless thin sources are allowed).
    Returns the warnings the draft carries."""
    async with ctx.db() as db:
        if blog.engine == "extractive":
            refusal = await coverage.translation_refusal(
                db, blog.user_id, session.language, session.document_ids
            )
            if refusal:
                raise PermanentError(refusal, "language_unsupported")
        measured = await coverage.coverage_of(db, blog.user_id, session.topic, session.document_ids)
    if measured.covered:
        return []
    if not session.allow_thin_sources:
        raise PermanentError(not_covered_message(session.topic, measured), "topic_not_covered")
    return [thin_sources_warning(measured)]


async def generate_blog(ctx: JobContext, blog_id: str) -> None:
    blog, session, documents = await _load(ctx, blog_id)
    warnings = await _check_sources(ctx, blog, session)

    async def emit(type_: str, data: dict[str, Any]) -> None:
        await events.publish(ctx.db, blog_id, blog.session_id, type_, data)

    async def retrieve(query: str, k: int) -> list[Passage]:
        async with ctx.db() as db:
            hits = await embeddings.hybrid_retrieve(
                db, ctx.settings, blog.user_id, query, list(documents), k=k
            )
        return [Passage.from_hit(h, documents[h.document_id].filename) for h in hits]

    cancel = asyncio.Event()
    watcher = asyncio.create_task(_watch_cancel(ctx, blog_id, cancel))
    await emit(
        "status",
        {"status": "generating", "stage": "retrieving", "message": "Reading your documents"},
    )
    request = GenerationRequest(
        topic=session.topic,
        title=session.title,
        audience=session.audience,
        tone=session.tone,
        length=session.length,
        language=session.language,
        instructions=session.instructions,
    )
    try:
        engine = get_engine(blog.engine, ctx.settings)
        if engine.name in CPU_BOUND_ENGINES:
            draft = await generate_off_loop(engine, request, retrieve, emit, cancel.is_set)
        else:
            draft = await engine.generate(request, retrieve, emit, cancel.is_set)
    except GenerationCancelled as exc:
        await _mark_cancelled(ctx, blog_id)
        raise Cancelled() from exc
    except GenerationError as exc:
        if exc.transient:
            raise TransientError(exc.message, exc.code) from exc
        raise PermanentError(exc.message, exc.code) from exc
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    _check_quotes(draft, documents)
    if ctx.settings.verify == "llm" and ctx.settings.llm_base_url:
        draft = await verify.recheck(draft, LLMSettings.from_settings(ctx.settings))
    draft = replace(draft, warnings=[*warnings, *draft.warnings])
    await _save(ctx, blog_id, with_locations(draft, documents))


@cache
def _cpu_threads() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="generate")


async def generate_off_loop(
    engine: Any,
    request: GenerationRequest,
    retrieve: Callable[..., Awaitable[Any]],
    emit: Callable[..., Awaitable[None]],
    cancelled: Callable[[], bool],
) -> Draft:
    """Run a CPU-bound engine in a thread (a pool sized to the cores) with an event loop of
    its own, so this loop keeps serving requests and heartbeats; its retrieve and emit calls
    are run on this loop, where the database connections live."""
    loop = asyncio.get_running_loop()
    stopping = threading.Event()

    def here(function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(function(*args), loop)
            return await asyncio.wrap_future(future)

        return call

    def work() -> Draft:
        return asyncio.run(
            engine.generate(
                request, here(retrieve), here(emit), lambda: stopping.is_set() or cancelled()
            )
        )

    try:
        return await loop.run_in_executor(_cpu_threads(), work)
    except asyncio.CancelledError:
        stopping.set()  # the engine stops at its next check
        raise


async def _watch_cancel(ctx: JobContext, blog_id: str, cancel: asyncio.Event) -> None:
    while not cancel.is_set():
        await asyncio.sleep(CANCEL_POLL_S)
        async with ctx.db() as db:
            requested = await db.scalar(select(Blog.cancel_requested).where(Blog.id == blog_id))
        if requested is None or requested:
            cancel.set()


def with_locations(draft: Draft, documents: dict[str, Document]) -> Draft:
    """Each citation's page, page label and section taken where its quote starts (a
    passage may run over pages and headings; it knows only where it starts), with the
    Sources list of the draft rewritten to match."""
    located = []
    for c in draft.citations:
        at = locate(documents[c.document_id].sections, c.start)
        if at is not None:
            c = replace(c, page=at.page, page_label=at.page_label, section=at.section)
        located.append(c)
    if located == draft.citations:
        return draft
    body, _ = split_body(draft.markdown)
    return replace(
        draft, citations=located, markdown=body.rstrip() + "\n\n" + render_sources(located)
    )


def _check_quotes(draft: Draft, documents: dict[str, Document]) -> None:
    """Every citation quote must occur verbatim in its stored document text."""
    for citation in draft.citations:
        text = documents[citation.document_id].markdown or ""
        if text[citation.start : citation.end] != citation.quote and citation.quote not in text:
            raise PermanentError(
                f"Citation [{citation.n}] does not quote its source; the draft was not saved.",
                "bad_quote",
            )


async def _save(ctx: JobContext, blog_id: str, draft: Draft) -> None:
    data = draft.to_dict()
    now = utcnow()
    async with ctx.db() as db:
        saved = await db.execute(
            update(Blog)
            .where(
                Blog.id == blog_id, Blog.status == "generating", Blog.cancel_requested.is_(False)
            )
            .values(
                status="ready",
                error=None,
                title=draft.title,
                markdown=draft.markdown,
                html=render_html(draft.markdown, data["citations"]),
                citations=data["citations"],
                grounding=data["grounding"],
                outline=data["outline"],
                warnings=data["warnings"] or None,
                model=draft.model,
                revision=1,
                updated_at=now,
                lease_expires_at=None,
            )
        )
        if saved.rowcount != 1:
            await db.rollback()
            raise Cancelled()
        await db.execute(BlogRevision.__table__.delete().where(BlogRevision.blog_id == blog_id))
        db.add(
            BlogRevision(
                blog_id=blog_id,
                revision=1,
                title=draft.title,
                markdown=draft.markdown,
                source="generated",
                grounding=data["grounding"],
            )
        )
        blog = await db.get(Blog, blog_id)
        db.add(
            events.event_row(
                blog,
                "done",
                {
                    "status": "ready",
                    "revision": 1,
                    "title": draft.title,
                    "word_count": draft_word_count(draft.markdown),
                    "citations": len(draft.citations),
                    "grounding_score": draft.grounding.score,
                },
            )
        )
        await db.commit()


async def _mark_cancelled(ctx: JobContext, blog_id: str) -> None:
    """Status and terminal event in one transaction: a follower never sees one alone."""
    async with ctx.db() as db:
        blog = await db.get(Blog, blog_id)
        if blog is None:
            return
        blog.status, blog.lease_expires_at, blog.updated_at = "cancelled", None, utcnow()
        db.add(events.cancelled_event(blog))
        await db.commit()


async def _on_failed(db: AsyncSession, blog_id: str, message: str, code: str) -> None:
    blog = await db.get(Blog, blog_id)
    if blog is not None:
        db.add(
            events.event_row(blog, "error", {"status": "failed", "code": code, "detail": message})
        )


BLOG_JOB = JobKind("blog", Blog, generate_blog, running_status="generating", on_failed=_on_failed)
