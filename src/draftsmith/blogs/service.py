"""Blogs: optimistic-concurrency edits with revisions, cancellation, deletion."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs import events
from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.render import render_html
from draftsmith.db import get_owned as owned_or_404
from draftsmith.db import utcnow
from draftsmith.errors import ApiError


async def get_owned(db: AsyncSession, user_id: str, blog_id: str) -> Blog:
    return await owned_or_404(db, Blog, user_id, blog_id, "Blog")


async def edit(db: AsyncSession, blog: Blog, revision: int, title: str | None, markdown: str | None) -> Blog:
    """Save an edit as the next revision, only if ``revision`` is still the current one."""
    if blog.status != "ready":
        raise ApiError(409, "blog_not_ready", f"The blog is {blog.status}; it can be edited once it is ready.")
    blog_id = blog.id
    new_title = title if title is not None else blog.title
    new_markdown = markdown if markdown is not None else blog.markdown
    saved = await db.execute(
        update(Blog)
        .where(Blog.id == blog_id, Blog.revision == revision, Blog.status == "ready")
        .values(
            revision=revision + 1, title=new_title, markdown=new_markdown,
            html=render_html(new_markdown, blog.citations), updated_at=utcnow(),
        )
    )
    if saved.rowcount != 1:
        await db.rollback()
        current = await db.scalar(select(Blog.revision).where(Blog.id == blog_id))
        raise ApiError(
            409, "revision_conflict",
            f"The blog was changed elsewhere (now at revision {current}); reload it and apply your edit again.",
        )
    db.add(BlogRevision(blog_id=blog_id, revision=revision + 1, title=new_title, markdown=new_markdown, source="edit"))
    await db.commit()
    await db.refresh(blog)
    return blog


async def cancel(db: AsyncSession, blog: Blog) -> Blog:
    if blog.status not in ("queued", "generating"):
        raise ApiError(409, "not_running", f"The blog is {blog.status}; there is nothing to cancel.")
    blog.cancel_requested = True
    if blog.status == "queued":  # not started: cancel right here
        blog.status = "cancelled"
        db.add(events.cancelled_event(blog))
    blog.updated_at = utcnow()
    await db.commit()
    return blog
