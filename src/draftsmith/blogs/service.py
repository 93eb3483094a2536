"""Blogs: starting a generation, optimistic-concurrency edits with revisions, export,
cancellation, deletion."""

from __future__ import annotations

from anyio import to_thread
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth.usage import lock_account, seconds_until_room, too_many
from draftsmith.blogs import events, export, sections
from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.render import render_html
from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.documents.models import Document
from draftsmith.errors import ApiError, NotFound
from draftsmith.generation import grounding
from draftsmith.sessions.brief import snapshot_of
from draftsmith.sessions.models import GenerationSession

#: a generation holds one of the user's concurrent slots in these states
ACTIVE = ("queued", "generating")
#: what to wait before trying again when every concurrent slot is taken
SLOT_RETRY_S = 5

EXPORTS = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


async def check_generation_limits(db: AsyncSession, settings: Settings, user_id: str) -> None:
    """429 `generation_limit` past the user's concurrent or hourly generations.

    Locks the account until the caller's transaction ends (`start_generation` commits),
    so concurrent requests cannot both take the last slot."""
    await lock_account(db, user_id)
    active = await db.scalar(
        select(func.count()).where(Blog.user_id == user_id, Blog.status.in_(ACTIVE))
    )
    if active >= settings.generation_concurrency_limit:
        raise too_many(
            "generation_limit",
            f"You already have {active} generations queued or running (the limit is "
            f"{settings.generation_concurrency_limit}); start another when one finishes.",
            SLOT_RETRY_S,
        )
    hourly = settings.generation_hourly_limit
    wait = await seconds_until_room(db, Blog, user_id, hourly)
    if wait is not None:
        raise too_many(
            "generation_limit",
            f"You have started {hourly} generations in the last hour, the limit; "
            f"try again in {wait} seconds.",
            wait,
        )


async def start_generation(
    db: AsyncSession, session: GenerationSession, review_outline: bool = False
) -> Blog:
    """Create the queued blog (and its first event) in one transaction; with
    ``review_outline`` its job stops after planning (``outline_ready``)."""
    rows = await db.execute(
        select(Document.id, Document.status).where(Document.id.in_(session.document_ids))
    )
    statuses = dict(rows.all())
    not_ready = [i for i in session.document_ids if statuses.get(i) != "ready"]
    if not_ready:
        raise ApiError(
            409, "documents_not_ready", f"{len(not_ready)} selected document(s) are not ready yet."
        )
    blog = Blog(
        user_id=session.user_id,
        session_id=session.id,
        title=session.title or session.topic[:300],
        engine=session.engine,
        brief=snapshot_of(session),
        status="queued",
        attempts=0,
        citations=[],
        revision=0,
        job_mode="plan" if review_outline else None,
    )
    db.add(blog)
    await db.flush()
    queued = {"status": "queued", "stage": "queued", "message": "Waiting for a worker"}
    db.add(events.event_row(blog, "status", queued))
    await db.commit()
    return blog


async def revision(db: AsyncSession, blog: Blog, number: int) -> BlogRevision:
    row = await db.scalar(
        select(BlogRevision).where(BlogRevision.blog_id == blog.id, BlogRevision.revision == number)
    )
    if row is None:
        raise NotFound("Revision")
    return row


def export_file(blog: Blog, format: str) -> tuple[bytes, str, str]:
    """The ready blog as a file: its bytes, media type and download name."""
    if blog.status != "ready":
        raise ApiError(
            409, "blog_not_ready", f"The blog is {blog.status}; export it once it is ready."
        )
    if format == "md":
        body = export.export_markdown(blog.title, blog.markdown)
    elif format == "html":
        body = export.export_html(blog.title, blog.markdown, blog.citations)
    else:
        body = export.export_docx(blog.title, blog.markdown, blog.citations)
    return body, EXPORTS[format], export.content_disposition_name(blog.title, format)


async def edit(
    db: AsyncSession, blog: Blog, revision: int, title: str | None, markdown: str | None
) -> Blog:
    """Save an edit as the next revision, only if ``revision`` is still the current one."""
    if blog.status != "ready":
        raise ApiError(
            409,
            "blog_not_ready",
            f"The blog is {blog.status}; it can be edited once it is ready.",
        )
    blog_id = blog.id
    new_title = title if title is not None else blog.title
    new_markdown = markdown if markdown is not None else blog.markdown
    sources = grounding.sources_of(blog.citations)  # checked off the event loop: CPU work
    checked = (await to_thread.run_sync(grounding.check, new_markdown, sources)).to_dict()
    saved = await db.execute(
        update(Blog)
        .where(Blog.id == blog_id, Blog.revision == revision, Blog.status == "ready")
        .values(
            revision=revision + 1,
            title=new_title,
            markdown=new_markdown,
            html=render_html(new_markdown, blog.citations),
            grounding=checked,
            updated_at=utcnow(),
        )
    )
    if saved.rowcount != 1:
        await db.rollback()
        current = await db.scalar(select(Blog.revision).where(Blog.id == blog_id))
        raise ApiError(
            409,
            "revision_conflict",
            f"The blog was changed elsewhere (now at revision {current}); "
            "reload it and apply your edit again.",
        )
    db.add(
        BlogRevision(
            blog_id=blog_id,
            revision=revision + 1,
            title=new_title,
            markdown=new_markdown,
            source="edit",
            grounding=checked,
        )
    )
    await db.commit()
    await db.refresh(blog)
    return blog


async def cancel(db: AsyncSession, blog: Blog) -> Blog:
    """Cancel the blog's generation, or else its running section rewrite."""
    if blog.status == "ready" and await sections.cancel_rewrites(db, blog):
        return blog
    if blog.status not in ("queued", "generating"):
        raise ApiError(
            409, "not_running", f"The blog is {blog.status}; there is nothing to cancel."
        )
    blog.cancel_requested = True
    if blog.status == "queued":  # not started: cancel right here
        blog.status = "cancelled"
        db.add(events.cancelled_event(blog))
    blog.updated_at = utcnow()
    await db.commit()
    return blog


async def delete(db: AsyncSession, blog: Blog) -> None:
    blog.cancel_requested = True  # a running generation stops at its next check
    await db.flush()
    await db.delete(blog)
    await db.commit()
