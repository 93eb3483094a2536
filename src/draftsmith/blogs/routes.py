"""/api/v1/blogs: read, edit with revisions, export, cancel, delete; and, under
/api/v1/sessions, starting a generation and following its progress events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import Body, Depends, Header, Path, Query, Request, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller, settings_of
from draftsmith.auth.usage import documented
from draftsmith.blogs import events, listing, reads, sections, service
from draftsmith.blogs.listing import BlogSort
from draftsmith.blogs.models import Blog
from draftsmith.blogs.schemas import (
    MAX_REVISION,
    BlogOut,
    BlogPage,
    BlogPatch,
    BlogStatus,
    GenerateIn,
    GenerateOut,
    OutlineIn,
    RevisionList,
    RevisionOut,
    SectionRewriteIn,
    SectionRewriteOut,
)
from draftsmith.db import Db, get_owned
from draftsmith.pagination import Cursor
from draftsmith.sessions.models import GenerationSession

routes = router(prefix="/api/v1/blogs", tags=["blogs"])
EXPORT_MEDIA_TYPES = (
    "text/markdown",
    "text/html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
generation_routes = router(prefix="/api/v1/sessions", tags=["sessions"])


@generation_routes.post(
    "/{session_id}/generate",
    status_code=202,
    response_model=GenerateOut,
    responses={
        404: {},
        409: {},
        422: {},
        429: documented(
            "`generation_limit`: the caller has as many generations queued or running, or "
            "started in the last hour, as allowed.",
            retry_after=True,
        ),
    },
)
async def generate(
    session_id: str,
    request: Request,
    caller: CurrentCaller,
    db: Db,
    body: Annotated[GenerateIn | None, Body()] = None,
):
    """Generate a blog post from the session.

    Queues the generation and answers the new blog's id at once; follow `/events` or the blog's
    `status`. With `{"review_outline": true}` it stops after planning: the blog becomes
    `outline_ready`, its `outline` to review before `POST /blogs/{id}/write`."""
    session = await get_owned(db, GenerationSession, session_id, caller.user.id)
    await service.check_generation_limits(db, settings_of(request), caller.user.id)
    review = body is not None and body.review_outline
    blog = await service.start_generation(db, session, review_outline=review)
    await request.app.state.jobs.submit("blog", blog.id)
    return {"blog_id": blog.id, "status": "queued"}


async def owned_session_id(session_id: str, caller: CurrentCaller, db: Db) -> str:
    """The caller's session id (else 404, before the stream starts); releases the connection."""
    await get_owned(db, GenerationSession, session_id, caller.user.id)
    await db.close()  # the stream holds no request-scoped connection
    return session_id


@generation_routes.get(
    "/{session_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"description": "Server-sent progress events"}, 404: {}},
)
async def session_events(
    session_id: Annotated[str, Depends(owned_session_id)],
    request: Request,
    blog_id: Annotated[
        str | None, Query(max_length=36, description="Only this blog's events")
    ] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> AsyncIterator[ServerSentEvent]:
    """Follow a session's progress events.

    Server-sent events (`status`, `outline`, `section`, `done`, `error`; `rewrite` for a section
    rewrite, with its `section` and `state`), each naming its blog.
    Replays what was missed (after `Last-Event-ID`, or from the start) and follows live events; the
    stream ends when no generation of the session is running."""
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    state = request.app.state
    async for event in events.follow(state.db, state.signals, session_id, after, blog_id):
        yield event


@routes.get("", response_model=BlogPage, responses={422: {}})
async def list_blogs(
    caller: CurrentCaller,
    db: Db,
    status: BlogStatus | None = None,
    session_id: Annotated[str | None, Query(max_length=36)] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="Only blogs whose title, text or brief contain this"),
    ] = None,
    sort: Annotated[
        BlogSort,
        Query(description="`newest` or `oldest` created, last `updated`, or `title` (A–Z)"),
    ] = "newest",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Cursor = None,
):
    """List your blogs.

    Each with an excerpt, its word count, and the brief and documents it was written from.
    Search with `q`, filter by `status` or `session_id`, order with `sort` (newest first by
    default); page with `limit` and the `next_cursor` of the previous page."""
    return await listing.page(
        db,
        caller.user.id,
        status=status,
        session_id=session_id,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


@routes.get("/{blog_id}", response_model=BlogOut, responses={404: {}})
async def get_blog(blog_id: str, request: Request, caller: CurrentCaller):
    """One blog.

    Its status, title, Markdown, citations, grounding and current revision."""
    return await reads.blog(request.app.state.reads, caller.user.id, blog_id)


@routes.patch("/{blog_id}", response_model=BlogOut, responses={404: {}, 409: {}})
async def edit_blog(blog_id: str, body: BlogPatch, caller: CurrentCaller, db: Db):
    """Save an edit of a blog.

    Send the `revision` you edited: if it is no longer the current one, 409 `revision_conflict` and
    nothing is saved. Each save is a new revision."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    return await service.edit(db, blog, body.revision, body.title, body.markdown)


@routes.get("/{blog_id}/revisions", response_model=RevisionList, responses={404: {}})
async def list_revisions(blog_id: str, request: Request, caller: CurrentCaller):
    """A blog's revisions.

    Every saved revision, newest first."""
    return {"items": await reads.revisions(request.app.state.reads, caller.user.id, blog_id)}


@routes.get("/{blog_id}/revisions/{revision}", response_model=RevisionOut, responses={404: {}})
async def get_revision(
    blog_id: str,
    revision: Annotated[int, Path(ge=1, le=MAX_REVISION)],
    caller: CurrentCaller,
    db: Db,
):
    """One revision of a blog.

    The title and Markdown as saved in that revision."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    return await service.revision(db, blog, revision)


@routes.get(
    "/{blog_id}/export",
    responses={
        200: {
            "description": "The draft as a file",
            "content": {
                media_type: {"schema": {"type": "string", "format": "binary"}}
                for media_type in EXPORT_MEDIA_TYPES
            },
        },
        404: {},
        409: {},
    },
)
async def export_blog(
    blog_id: str, caller: CurrentCaller, db: Db, format: Literal["md", "html", "docx"] = "md"
):
    """Export a blog as a file.

    `format` is `md` (Markdown), `html` or `docx`; answered as an attachment. 409 until the blog is
    ready."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    body, media_type, filename = service.export_file(blog, format)
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.post(
    "/{blog_id}/cancel", status_code=202, response_model=BlogOut, responses={404: {}, 409: {}}
)
async def cancel_blog(blog_id: str, caller: CurrentCaller, db: Db):
    """Cancel a generation.

    Stops a queued or running generation; 409 when it has already finished."""
    return await service.cancel(db, await get_owned(db, Blog, blog_id, caller.user.id))


@routes.delete("/{blog_id}", status_code=204, responses={404: {}})
async def delete_blog(blog_id: str, caller: CurrentCaller, db: Db):
    """Delete a blog.

    With all its revisions."""
    await service.delete(db, await get_owned(db, Blog, blog_id, caller.user.id))
    return Response(status_code=204)


@routes.put("/{blog_id}/outline", response_model=BlogOut, responses={404: {}, 409: {}, 422: {}})
async def replace_outline(blog_id: str, body: OutlineIn, caller: CurrentCaller, db: Db):
    """Edit the proposed outline.

    Replaces the sections (renamed, reordered, added, removed; their points) and optionally the
    title; only while the blog is `outline_ready`, else 409 `not_awaiting_outline`."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    return await sections.replace_outline(db, blog, body)


@routes.post(
    "/{blog_id}/write",
    status_code=202,
    response_model=GenerateOut,
    responses={
        404: {},
        409: {},
        429: documented(
            "`generation_limit`: the caller has as many generations queued or running as allowed.",
            retry_after=True,
        ),
    },
)
async def write_blog(blog_id: str, request: Request, caller: CurrentCaller, db: Db):
    """Write the post from the approved outline.

    Queues the writing of an `outline_ready` blog: its headings exactly as approved, in that order,
    each section drawing on passages found for its own heading and points. 409
    `not_awaiting_outline` in any other status."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    sections.check_awaiting_outline(blog)
    await service.check_generation_limits(db, settings_of(request), caller.user.id)
    blog = await sections.start_writing(db, blog)
    await request.app.state.jobs.submit("blog", blog.id)
    return {"blog_id": blog.id, "status": "queued"}


@routes.post(
    "/{blog_id}/sections/{index}/regenerate",
    status_code=202,
    response_model=SectionRewriteOut,
    responses={
        404: {},
        409: {},
        422: {},
        429: documented(
            "`generation_limit`: the caller has as many section rewrites queued or running as "
            "generations allowed at once.",
            retry_after=True,
        ),
    },
)
async def rewrite_section(
    blog_id: str,
    index: Annotated[int, Path(ge=0, le=1000, description="0-based, in `##` heading order")],
    body: SectionRewriteIn,
    request: Request,
    caller: CurrentCaller,
    db: Db,
):
    """Rewrite one section.

    Queues the rewrite of body section `index` of the ready blog at `revision`; when done, the next
    revision differs only in that section's text (new sources appended to the Sources list).
    Progress arrives as `rewrite` events. 409 `revision_conflict` when `revision` is not the current
    one (also when a save comes first while it runs: then the rewrite fails with that code),
    `rewrite_running` while another rewrite of the blog runs, `blog_not_ready`."""
    blog = await get_owned(db, Blog, blog_id, caller.user.id)
    job = await sections.start_rewrite(
        db, settings_of(request), blog, index, body.revision, body.instructions
    )
    await request.app.state.jobs.submit("section_rewrite", job.id)
    return {"rewrite_id": job.id, "blog_id": blog.id, "section": index, "status": "queued"}
