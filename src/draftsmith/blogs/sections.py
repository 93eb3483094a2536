"""The author in the loop: editing the proposed outline, writing from it, and starting
the rewrite of one section (the `section_rewrite` job, see `blogs.rewrite`)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth.usage import too_many
from draftsmith.blogs import events
from draftsmith.blogs.models import Blog, SectionRewrite
from draftsmith.blogs.outline import approved_outline
from draftsmith.blogs.schemas import OutlineIn
from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.errors import ApiError, NotFound
from draftsmith.generation.sections import body_sections
from draftsmith.sessions.models import GenerationSession

#: a rewrite holds the blog's one rewrite slot in these states
ACTIVE_REWRITE = ("queued", "running")
#: what to wait before trying again when every rewrite slot is taken
SLOT_RETRY_S = 5


def check_awaiting_outline(blog: Blog) -> None:
    if blog.status != "outline_ready":
        raise ApiError(
            409,
            "not_awaiting_outline",
            f"The blog is {blog.status}; its outline can be changed and written only while it "
            "is outline_ready (generate with review_outline).",
        )


async def replace_outline(db: AsyncSession, blog: Blog, body: OutlineIn) -> Blog:
    """The author's outline replaces the proposal (title too, when given)."""
    check_awaiting_outline(blog)
    session = await db.get(GenerationSession, blog.session_id) if blog.session_id else None
    title = body.title if body.title is not None else blog.title
    blog.outline = approved_outline(
        title,
        [(s.heading, s.points) for s in body.sections],
        session.topic if session is not None else "",
    )
    blog.title = blog.outline["title"][:300]
    blog.updated_at = utcnow()
    await db.commit()
    await db.refresh(blog)
    return blog


async def start_writing(db: AsyncSession, blog: Blog) -> Blog:
    """Queue the job that writes the approved outline (conditional: one request wins)."""
    check_awaiting_outline(blog)
    started = await db.execute(
        update(Blog)
        .where(Blog.id == blog.id, Blog.status == "outline_ready")
        .values(
            status="queued",
            job_mode="write",
            attempts=0,
            error=None,
            error_code=None,
            run_after=None,
            enqueued_at=None,
            cancel_requested=False,
            updated_at=utcnow(),
        )
    )
    if started.rowcount != 1:
        await db.rollback()
        raise ApiError(409, "not_awaiting_outline", "The outline is already being written.")
    queued = {"status": "queued", "stage": "queued", "message": "Waiting for a worker"}
    db.add(events.event_row(blog, "status", queued))
    await db.commit()
    await db.refresh(blog)
    return blog


async def start_rewrite(
    db: AsyncSession,
    settings: Settings,
    blog: Blog,
    index: int,
    revision: int,
    instructions: str | None,
) -> SectionRewrite:
    """Queue the rewrite of body section ``index`` of ``revision`` (the current one)."""
    if blog.status != "ready":
        raise ApiError(
            409, "blog_not_ready", f"The blog is {blog.status}; rewrite a section once it is ready."
        )
    if revision != blog.revision:
        raise ApiError(
            409,
            "revision_conflict",
            f"The blog was changed elsewhere (now at revision {blog.revision}); reload it "
            "and try again.",
        )
    spans = body_sections(blog.markdown)
    if not 0 <= index < len(spans):
        raise NotFound(f"Section {index} (the draft has {len(spans)})")
    running = await db.scalar(
        select(SectionRewrite.id).where(
            SectionRewrite.blog_id == blog.id, SectionRewrite.status.in_(ACTIVE_REWRITE)
        )
    )
    if running is not None:
        raise ApiError(
            409,
            "rewrite_running",
            "A section of this blog is being rewritten; wait for it (or cancel it) first.",
        )
    await _check_rewrite_limit(db, settings, blog.user_id)
    job = SectionRewrite(
        user_id=blog.user_id,
        blog_id=blog.id,
        section=index,
        base_revision=revision,
        instructions=(instructions or "").strip() or None,
        status="queued",
        attempts=0,
    )
    db.add(job)
    await db.flush()
    db.add(
        events.event_row(
            blog,
            "rewrite",
            {
                "rewrite_id": job.id,
                "section": index,
                "heading": spans[index].heading,
                "state": "running",
                "stage": "queued",
                "message": f"Rewriting “{spans[index].heading}”: waiting for a worker",
            },
        )
    )
    await db.commit()
    return job


async def _check_rewrite_limit(db: AsyncSession, settings: Settings, user_id: str) -> None:
    """429 `generation_limit` when the user has as many rewrites queued or running as
    generations allowed at once (each is a generation's work)."""
    limit = settings.generation_concurrency_limit
    active = await db.scalar(
        select(func.count()).where(
            SectionRewrite.user_id == user_id, SectionRewrite.status.in_(ACTIVE_REWRITE)
        )
    )
    if active >= limit:
        raise too_many(
            "generation_limit",
            f"You already have {active} section rewrites queued or running (the limit is "
            f"{limit}); start another when one finishes.",
            SLOT_RETRY_S,
        )


async def cancel_rewrites(db: AsyncSession, blog: Blog) -> bool:
    """Ask the blog's queued or running rewrite to stop; False when there is none."""
    jobs = list(
        await db.scalars(
            select(SectionRewrite).where(
                SectionRewrite.blog_id == blog.id, SectionRewrite.status.in_(ACTIVE_REWRITE)
            )
        )
    )
    for job in jobs:
        job.cancel_requested = True
        job.updated_at = utcnow()
        if job.status == "queued":  # not started: cancelled right here
            job.status = "cancelled"
            db.add(
                events.event_row(
                    blog,
                    "rewrite",
                    {
                        "rewrite_id": job.id,
                        "section": job.section,
                        "state": "cancelled",
                        "message": "The rewrite was cancelled.",
                    },
                )
            )
    await db.commit()
    return bool(jobs)
