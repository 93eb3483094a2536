"""/api/v1/blogs: read, edit with revisions, export, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Response
from sqlalchemy import select

from draftsmith.auth.access import router
from draftsmith.auth.deps import CurrentCaller
from draftsmith.blogs import export, service
from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.schemas import (
    MAX_REVISION,
    BlogOut,
    BlogPage,
    BlogPatch,
    BlogStatus,
    RevisionList,
    RevisionOut,
)
from draftsmith.db import Db
from draftsmith.errors import ApiError, NotFound
from draftsmith.pagination import newest_first

routes = router(prefix="/api/v1/blogs", tags=["blogs"])


EXPORTS = {
    "md": ("text/markdown; charset=utf-8", export.export_markdown),
    "html": ("text/html; charset=utf-8", export.export_html),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", export.export_docx),
}


@routes.get("", response_model=BlogPage, responses={422: {}})
async def list_blogs(
    caller: CurrentCaller,
    db: Db,
    status: BlogStatus | None = None,
    session_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
):
    query = select(Blog).where(Blog.user_id == caller.user.id)
    if status:
        query = query.where(Blog.status == status)
    if session_id:
        query = query.where(Blog.session_id == session_id)
    items, next_cursor = await newest_first(db, query, Blog, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


@routes.get("/{blog_id}", response_model=BlogOut, responses={404: {}})
async def get_blog(blog_id: str, caller: CurrentCaller, db: Db):
    return await service.get_owned(db, caller.user.id, blog_id)


@routes.patch("/{blog_id}", response_model=BlogOut, responses={404: {}, 409: {}})
async def edit_blog(blog_id: str, body: BlogPatch, caller: CurrentCaller, db: Db):
    """Save an edit; `revision` must be the current one (else 409 `revision_conflict`)."""
    blog = await service.get_owned(db, caller.user.id, blog_id)
    return await service.edit(db, blog, body.revision, body.title, body.markdown)


@routes.get("/{blog_id}/revisions", response_model=RevisionList, responses={404: {}})
async def list_revisions(blog_id: str, caller: CurrentCaller, db: Db):
    await service.get_owned(db, caller.user.id, blog_id)
    rows = await db.scalars(
        select(BlogRevision).where(BlogRevision.blog_id == blog_id).order_by(BlogRevision.revision.desc())
    )
    return {"items": list(rows)}


@routes.get("/{blog_id}/revisions/{revision}", response_model=RevisionOut, responses={404: {}})
async def get_revision(blog_id: str, revision: Annotated[int, Path(ge=1, le=MAX_REVISION)], caller: CurrentCaller, db: Db):
    await service.get_owned(db, caller.user.id, blog_id)
    row = await db.scalar(
        select(BlogRevision).where(BlogRevision.blog_id == blog_id, BlogRevision.revision == revision)
    )
    if row is None:
        raise NotFound("Revision")
    return row


@routes.get("/{blog_id}/export", responses={200: {"description": "The draft as a file"}, 404: {}, 409: {}})
async def export_blog(blog_id: str, caller: CurrentCaller, db: Db, format: Literal["md", "html", "docx"] = "md"):
    blog = await service.get_owned(db, caller.user.id, blog_id)
    if blog.status != "ready":
        raise ApiError(409, "blog_not_ready", f"The blog is {blog.status}; export it once it is ready.")
    media_type, render = EXPORTS[format]
    body = render(blog.title, blog.markdown, blog.citations) if format != "md" else render(blog.title, blog.markdown)
    filename = export.content_disposition_name(blog.title, format)
    return Response(
        body, media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@routes.post("/{blog_id}/cancel", status_code=202, response_model=BlogOut, responses={404: {}, 409: {}})
async def cancel_blog(blog_id: str, caller: CurrentCaller, db: Db):
    blog = await service.get_owned(db, caller.user.id, blog_id)
    return await service.cancel(db, blog)


@routes.delete("/{blog_id}", status_code=204, responses={404: {}})
async def delete_blog(blog_id: str, caller: CurrentCaller, db: Db):
    blog = await service.get_owned(db, caller.user.id, blog_id)
    blog.cancel_requested = True  # a running generation stops at its next check
    await db.flush()
    await db.delete(blog)
    await db.commit()
    return Response(status_code=204)
