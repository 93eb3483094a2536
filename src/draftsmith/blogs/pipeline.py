"""The generation job: retrieve → outline (→ outline_ready, for the author to review) →
write → verify citations → ready.

Runs on the same durable job system as document processing; progress events
are stored per blog so any server can stream them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs import events
from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.outline import outline_shape
from draftsmith.blogs.render import render_html
from draftsmith.db import utcnow
from draftsmith.documents import coverage, embeddings
from draftsmith.documents.locations import locate
from draftsmith.documents.models import Document
from draftsmith.generation import (
    Citation,
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
from draftsmith.generation.types import OutlineSection, Plan, Retrieve
from draftsmith.jobs.runner import (
    Cancelled,
    JobContext,
    JobKind,
    PermanentError,
    TransientError,
)
from draftsmith.sessions.brief import brief_to_write
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import Brief

log = logging.getLogger(__name__)

T = TypeVar("T")
CANCEL_POLL_S = 0.5
#: engines whose work is CPU-bound: run off the event loop (see `generate_off_loop`)
CPU_BOUND_ENGINES = {"extractive"}


async def _load(ctx: JobContext, blog_id: str) -> tuple[Blog, Brief, dict[str, Document]]:
    """The blog, the brief it is written from (its snapshot; the session's for a blog queued
    before snapshots existed) and that brief's documents."""
    async with ctx.db() as db:
        blog = await db.get(Blog, blog_id)
        if blog is None or blog.session_id is None:
            raise Cancelled()
        session = await db.get(GenerationSession, blog.session_id)
        if session is None:
            raise Cancelled()
        brief = brief_to_write(blog.brief, session)
        documents = {
            d.id: d
            for d in await db.scalars(
                select(Document).where(
                    Document.id.in_(brief.document_ids), Document.user_id == blog.user_id
                )
            )
        }
    missing = [
        i for i in brief.document_ids if i not in documents or documents[i].status != "ready"
    ]
    if missing:
        raise PermanentError(
            "A selected document was deleted or is not ready any more.", "document_unavailable"
        )
    return blog, brief, documents


async def _check_sources(ctx: JobContext, blog: Blog, brief: Brief) -> list[str]:
    """Before any writing: refuse what the sources cannot honestly give (a translation by
    the extractive engine; a topic they do not cover, unless thin sources are allowed).
    Returns the warnings the draft carries."""
    async with ctx.db() as db:
        if blog.engine == "extractive":
            refusal = await coverage.translation_refusal(
                db, blog.user_id, brief.language, brief.document_ids
            )
            if refusal:
                raise PermanentError(refusal, "language_unsupported")
        measured = await coverage.coverage_of(db, blog.user_id, brief.topic, brief.document_ids)
    if measured.covered:
        return []
    if not brief.allow_thin_sources:
        raise PermanentError(not_covered_message(brief.topic, measured), "topic_not_covered")
    return [thin_sources_warning(measured)]


def retriever(ctx: JobContext, user_id: str, documents: dict[str, Document]) -> Retrieve:
    """Hybrid retrieval over the given documents of the user, as the engines call it."""

    async def retrieve(query: str, k: int) -> list[Passage]:
        async with ctx.db() as db:
            hits = await embeddings.hybrid_retrieve(
                db, ctx.settings, user_id, query, list(documents), k=k
            )
        return [
            Passage.from_hit(h, doc.filename, doc.source_date)
            for h in hits
            for doc in (documents[h.document_id],)
        ]

    return retrieve


def request_of(brief: Brief) -> GenerationRequest:
    return GenerationRequest(
        topic=brief.topic,
        title=brief.title,
        audience=brief.audience,
        tone=brief.tone,
        length=brief.length,
        language=brief.language,
        instructions=brief.instructions,
    )


def stored_plan(outline: Any, title: str) -> Plan | None:
    """The approved outline of a blog as a :class:`Plan` (rows written before outline
    review hold a bare list of sections)."""
    shaped = outline_shape(outline, title)
    if shaped is None or not shaped["sections"]:
        return None
    return Plan(
        title=shaped["title"],
        sections=[
            OutlineSection(heading=s["heading"], points=list(s["points"]), query=s["query"])
            for s in shaped["sections"]
        ],
    )


async def generate_blog(ctx: JobContext, blog_id: str) -> None:
    """The blog job: plan and write (``job_mode`` None), plan only (``plan``: the blog
    stops at ``outline_ready``), or write the approved outline (``write``)."""
    blog, brief, documents = await _load(ctx, blog_id)
    warnings = await _check_sources(ctx, blog, brief)
    mode = blog.job_mode
    plan = stored_plan(blog.outline, blog.title) if mode == "write" else None
    if mode == "write" and plan is None:
        raise PermanentError("The blog has no outline to write from.", "no_outline")

    async def emit(type_: str, data: dict[str, Any]) -> None:
        await events.publish(ctx.db, blog_id, blog.session_id, type_, data)

    await emit(
        "status",
        {"status": "generating", "stage": "retrieving", "message": "Reading your documents"},
    )
    request = request_of(brief)
    engine = get_engine(blog.engine, ctx.settings)

    def call(r: Any, e: Any, c: Any) -> Awaitable[Any]:
        if mode == "plan":
            return engine.plan(request, r, e, c)
        if plan is None:  # (an engine that predates outline review takes no plan)
            return engine.generate(request, r, e, c)
        return engine.generate(request, r, e, c, plan=plan)

    result = await run_watched(
        ctx,
        select(Blog.cancel_requested).where(Blog.id == blog_id),
        engine,
        call,
        retriever(ctx, blog.user_id, documents),
        emit,
        lambda: _mark_cancelled(ctx, blog_id),
    )
    if mode == "plan":
        await _save_plan(ctx, blog_id, result, warnings)
        return
    draft: Draft = result
    check_quotes(draft.citations, documents)
    if ctx.settings.verify == "llm" and ctx.settings.llm_base_url:
        draft = await verify.recheck(draft, LLMSettings.from_settings(ctx.settings))
    draft = replace(draft, warnings=[*warnings, *draft.warnings])
    await _save(ctx, blog_id, with_locations(draft, documents))


def job_error(exc: GenerationError) -> Exception:
    """The job system's error for an engine's: retried when it may pass."""
    if exc.transient:
        return TransientError(exc.message, exc.code)
    return PermanentError(exc.message, exc.code)


async def run_watched(
    ctx: JobContext,
    cancel_flag: Select[Any],
    engine: Any,
    call: Callable[[Any, Any, Any], Awaitable[T]],
    retrieve: Callable[..., Awaitable[Any]],
    emit: Callable[..., Awaitable[None]],
    on_cancel: Callable[[], Awaitable[None]],
) -> T:
    """`run_engine`, stopped once ``cancel_flag`` reads true (then ``on_cancel()`` and the
    job is `Cancelled`); an engine's error becomes the job's."""
    cancel = asyncio.Event()
    watcher = asyncio.create_task(watch_cancel(ctx, cancel_flag, cancel))
    try:
        return await run_engine(engine, call, retrieve, emit, cancel.is_set)
    except GenerationCancelled as exc:
        await on_cancel()
        raise Cancelled() from exc
    except GenerationError as exc:
        raise job_error(exc) from exc
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def run_engine(
    engine: Any,
    call: Callable[[Any, Any, Any], Awaitable[T]],
    retrieve: Callable[..., Awaitable[Any]],
    emit: Callable[..., Awaitable[None]],
    cancelled: Callable[[], bool],
) -> T:
    """``call(retrieve, emit, cancelled)`` on this loop, or off it for a CPU-bound engine."""
    if engine.name in CPU_BOUND_ENGINES:
        return await off_loop(call, retrieve, emit, cancelled)
    return await call(retrieve, emit, cancelled)


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
    """A whole generation off the event loop (see `off_loop`)."""
    return await off_loop(
        lambda r, e, c: engine.generate(request, r, e, c), retrieve, emit, cancelled
    )


async def off_loop(
    call: Callable[[Any, Any, Any], Awaitable[T]],
    retrieve: Callable[..., Awaitable[Any]],
    emit: Callable[..., Awaitable[None]],
    cancelled: Callable[[], bool],
) -> T:
    """Run a CPU-bound engine call in a thread (a pool sized to the cores) with an event loop
    of its own, so this loop keeps serving requests and heartbeats; its retrieve and emit
    calls are run on this loop, where the database connections live."""
    loop = asyncio.get_running_loop()
    stopping = threading.Event()

    def here(function: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def run_here(*args: Any) -> Any:
            future = asyncio.run_coroutine_threadsafe(function(*args), loop)
            return await asyncio.wrap_future(future)

        return run_here

    def work() -> T:
        async def main() -> T:
            return await call(here(retrieve), here(emit), lambda: stopping.is_set() or cancelled())

        return asyncio.run(main())

    try:
        return await loop.run_in_executor(_cpu_threads(), work)
    except asyncio.CancelledError:
        stopping.set()  # the engine stops at its next check
        raise


async def watch_cancel(ctx: JobContext, requested: Select[Any], cancel: asyncio.Event) -> None:
    """Set ``cancel`` once ``requested`` (a cancel flag's select) reads true, or its row is gone."""
    while not cancel.is_set():
        await asyncio.sleep(CANCEL_POLL_S)
        async with ctx.db() as db:
            flag = await db.scalar(requested)
        if flag is None or flag:
            cancel.set()


def with_locations(draft: Draft, documents: dict[str, Document]) -> Draft:
    """Each citation's page, page label and section taken where its quote starts (a
    passage may run over pages and headings; it knows only where it starts), with the
    Sources list of the draft rewritten to match."""
    located = [located_citation(c, documents) for c in draft.citations]
    if located == draft.citations:
        return draft
    body, _ = split_body(draft.markdown)
    return replace(
        draft, citations=located, markdown=body.rstrip() + "\n\n" + render_sources(located)
    )


def located_citation(c: Citation, documents: dict[str, Document]) -> Citation:
    """The citation's page, page label and section where its quote starts."""
    at = locate(documents[c.document_id].sections, c.start)
    if at is None:
        return c
    return replace(c, page=at.page, page_label=at.page_label, section=at.section)


def check_quotes(citations: Iterable[Citation], documents: dict[str, Document]) -> None:
    """Every citation quote must occur verbatim in its stored document text."""
    for citation in citations:
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
        await _finish_generating(
            db,
            blog_id,
            status="ready",
            title=draft.title,
            markdown=draft.markdown,
            html=render_html(draft.markdown, data["citations"]),
            citations=data["citations"],
            grounding=data["grounding"],
            outline={"title": draft.title, "sections": data["outline"]},
            warnings=data["warnings"] or None,
            model=draft.model,
            revision=1,
            updated_at=now,
        )
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


async def _finish_generating(db: AsyncSession, blog_id: str, **values: Any) -> None:
    """End the running job with these values, unless it was cancelled meanwhile."""
    saved = await db.execute(
        update(Blog)
        .where(Blog.id == blog_id, Blog.status == "generating", Blog.cancel_requested.is_(False))
        .values(error=None, job_mode=None, lease_expires_at=None, **values)
    )
    if saved.rowcount != 1:
        await db.rollback()
        raise Cancelled()


async def _save_plan(ctx: JobContext, blog_id: str, plan: Plan, warnings: list[str]) -> None:
    """Stop at ``outline_ready`` with the proposed outline (and its terminal event)."""
    outline = plan.to_dict()
    async with ctx.db() as db:
        await _finish_generating(
            db,
            blog_id,
            status="outline_ready",
            title=plan.title[:300],
            outline=outline,
            warnings=warnings or None,
            updated_at=utcnow(),
        )
        blog = await db.get(Blog, blog_id)
        db.add(events.event_row(blog, "done", {"status": "outline_ready", "outline": outline}))
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
