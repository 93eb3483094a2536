"""The section-rewrite job: one body section of a ready blog written again, saved as the
next revision with every other byte of the draft unchanged.

A job of its own (not the blog's), so the blog stays ready, readable and editable while it
runs; the result is saved only on top of the revision it started from, so a save that
comes first makes it a ``revision_conflict``. Its progress events are ``rewrite`` events
of the blog (``state``: running, done, failed, cancelled), each naming the section.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from typing import Any

from anyio import to_thread
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs import events
from draftsmith.blogs.models import Blog, BlogRevision, SectionRewrite
from draftsmith.blogs.outline import outline_shape
from draftsmith.blogs.pipeline import (
    check_quotes,
    located_citation,
    request_of,
    retriever,
    run_watched,
)
from draftsmith.blogs.render import render_html
from draftsmith.db import utcnow
from draftsmith.documents.models import Document
from draftsmith.generation import get_engine, grounding
from draftsmith.generation.sections import section_target, splice_section
from draftsmith.generation.types import Citation, SectionTarget
from draftsmith.jobs.runner import Cancelled, JobContext, JobKind, PermanentError
from draftsmith.sessions.brief import brief_to_write
from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import Brief

CONFLICT = (
    "The blog was saved since revision {base} (it is now at revision {now}); the rewritten "
    "section was not saved. Reload the blog and rewrite the section again."
)


def rewrite_event(job: SectionRewrite, session_id: str | None, state: str, **data: Any):
    return events.new_event(
        job.blog_id,
        session_id,
        "rewrite",
        {"rewrite_id": job.id, "section": job.section, "state": state, **data},
    )


async def _load(
    ctx: JobContext, rewrite_id: str
) -> tuple[SectionRewrite, Blog, Brief, dict[str, Document]]:
    """The rewrite, its blog, the brief the blog was written from, and its documents."""
    async with ctx.db() as db:
        job = await db.get(SectionRewrite, rewrite_id)
        blog = await db.get(Blog, job.blog_id) if job is not None else None
        if job is None or blog is None:
            raise Cancelled()
        if blog.status != "ready":
            raise PermanentError(f"The blog is {blog.status}, not ready.", "blog_not_ready")
        if blog.revision != job.base_revision:
            message = CONFLICT.format(base=job.base_revision, now=blog.revision)
            raise PermanentError(message, "revision_conflict")
        session = await db.get(GenerationSession, blog.session_id) if blog.session_id else None
        if session is None:
            raise PermanentError(
                "The blog's session was deleted: its topic and documents are unknown.",
                "session_unavailable",
            )
        brief = brief_to_write(blog.brief, session)
        wanted = {c.get("document_id") for c in blog.citations} | set(brief.document_ids)
        documents = {
            d.id: d
            for d in await db.scalars(
                select(Document).where(
                    Document.id.in_(wanted),
                    Document.user_id == blog.user_id,
                    Document.status == "ready",
                )
            )
        }
    if not any(i in documents for i in brief.document_ids):
        raise PermanentError(
            "The blog's documents were deleted; there is nothing to write from.",
            "document_unavailable",
        )
    return job, blog, brief, documents


def _target(blog: Blog, job: SectionRewrite) -> SectionTarget:
    outline = outline_shape(blog.outline, blog.title) or {"sections": []}
    target = section_target(blog.markdown, blog.citations, job.section, (), job.instructions)
    if target is None:
        raise PermanentError(
            f"The draft has no section {job.section} (its sections are its `##` headings).",
            "section_not_found",
        )
    points = next((s["points"] for s in outline["sections"] if s["heading"] == target.heading), [])
    return replace(target, points=list(points))


async def rewrite_section(ctx: JobContext, rewrite_id: str) -> None:
    job, blog, brief, documents = await _load(ctx, rewrite_id)
    target = _target(blog, job)
    own_documents = {i: d for i, d in documents.items() if i in brief.document_ids}

    async def emit(type_: str, data: dict[str, Any]) -> None:
        if type_ != "status":
            return  # a rewrite shows its stages; the text arrives as the new revision
        async with ctx.db() as db:
            db.add(
                rewrite_event(
                    job,
                    blog.session_id,
                    "running",
                    heading=target.heading,
                    stage=data.get("stage"),
                    message=data.get("message"),
                )
            )
            with contextlib.suppress(IntegrityError):  # the blog was deleted meanwhile
                await db.commit()

    await emit("status", {"stage": "queued", "message": f"Rewriting “{target.heading}”"})
    request = request_of(brief)
    engine = get_engine(blog.engine, ctx.settings)
    rewritten = await run_watched(
        ctx,
        select(SectionRewrite.cancel_requested).where(SectionRewrite.id == rewrite_id),
        engine,
        lambda r, e, c: engine.rewrite_section(request, target, r, e, c),
        retriever(ctx, blog.user_id, own_documents),
        emit,
        lambda: _mark_cancelled(ctx, rewrite_id, blog.session_id),
    )

    def locate(c: Citation) -> Citation:
        return located_citation(c, documents)

    markdown, citations = splice_section(
        blog.markdown, blog.citations, job.section, rewritten, locate
    )
    new = citations[len(blog.citations) :]
    names = [f.name for f in fields(Citation)]
    check_quotes([Citation(**{k: c[k] for k in names}) for c in new], documents)
    checked = await to_thread.run_sync(grounding.check, markdown, grounding.sources_of(citations))
    await _save(ctx, job, markdown, citations, checked.to_dict(), target.heading)


async def _save(
    ctx: JobContext,
    job: SectionRewrite,
    markdown: str,
    citations: list[dict[str, Any]],
    checked: dict[str, Any],
    heading: str,
) -> None:
    """The next revision, only on top of the one the rewrite started from."""
    base, now = job.base_revision, utcnow()
    async with ctx.db() as db:
        blog = await db.get(Blog, job.blog_id)
        if blog is None:
            raise Cancelled()
        saved = await db.execute(
            update(Blog)
            .where(Blog.id == job.blog_id, Blog.revision == base, Blog.status == "ready")
            .values(
                revision=base + 1,
                markdown=markdown,
                html=render_html(markdown, citations),
                citations=citations,
                grounding=checked,
                updated_at=now,
            )
        )
        if saved.rowcount != 1:
            await db.rollback()
            current = await db.scalar(select(Blog.revision).where(Blog.id == job.blog_id))
            raise PermanentError(CONFLICT.format(base=base, now=current), "revision_conflict")
        finished = await db.execute(
            update(SectionRewrite)
            .where(
                SectionRewrite.id == job.id,
                SectionRewrite.status == "running",
                SectionRewrite.cancel_requested.is_(False),
            )
            .values(status="ready", revision=base + 1, lease_expires_at=None, updated_at=now)
        )
        if finished.rowcount != 1:
            await db.rollback()
            raise Cancelled()
        db.add(
            BlogRevision(
                blog_id=job.blog_id,
                revision=base + 1,
                title=blog.title,
                markdown=markdown,
                source="rewrite",
                grounding=checked,
            )
        )
        db.add(
            rewrite_event(
                job,
                blog.session_id,
                "done",
                heading=heading,
                revision=base + 1,
                message=f"“{heading}” rewritten: revision {base + 1}",
            )
        )
        await db.commit()


async def _mark_cancelled(ctx: JobContext, rewrite_id: str, session_id: str | None) -> None:
    async with ctx.db() as db:
        job = await db.get(SectionRewrite, rewrite_id)
        if job is None:
            return
        job.status, job.lease_expires_at, job.updated_at = "cancelled", None, utcnow()
        db.add(rewrite_event(job, session_id, "cancelled", message="The rewrite was cancelled."))
        with contextlib.suppress(IntegrityError):  # the blog was deleted meanwhile
            await db.commit()


async def _on_failed(db: AsyncSession, rewrite_id: str, message: str, code: str) -> None:
    job = await db.get(SectionRewrite, rewrite_id)
    blog = await db.get(Blog, job.blog_id) if job is not None else None
    if job is not None and blog is not None:
        db.add(rewrite_event(job, blog.session_id, "failed", code=code, message=message))


REWRITE_JOB = JobKind(
    "section_rewrite",
    SectionRewrite,
    rewrite_section,
    running_status="running",
    on_failed=_on_failed,
)
