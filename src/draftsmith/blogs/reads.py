"""The read-only blog requests (one blog, a page of blogs, the revisions list) as Core
statements built once, answered as plain dicts that the response model validates once (no ORM
objects, no validation from attributes). The stored Markdown and HTML are sent as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.schemas import BlogOut, BlogSummary, RevisionSummary
from draftsmith.errors import NotFound
from draftsmith.pagination import as_dicts, keyset_pages, newest_first_rows
from draftsmith.reads import Reads

_blogs = Blog.__table__.c
_revisions = BlogRevision.__table__.c

_OWNED_BLOG = select(*(_blogs[name] for name in BlogOut.model_fields)).where(
    _blogs.id == bindparam("blog_id"), _blogs.user_id == bindparam("user_id")
)

#: one statement per filter combination (status, session), without the text columns
_PAGES = {
    (by_status, by_session): keyset_pages(
        select(*(_blogs[name] for name in BlogSummary.model_fields)).where(
            _blogs.user_id == bindparam("user_id"),
            *([_blogs.status == bindparam("status")] if by_status else []),
            *([_blogs.session_id == bindparam("session_id")] if by_session else []),
        ),
        _blogs.created_at,
        _blogs.id,
    )
    for by_status in (False, True)
    for by_session in (False, True)
}

#: the owned blog's revisions, newest first; one row with no revision for a blog without any
_REVISIONS = (
    select(*(_revisions[name] for name in RevisionSummary.model_fields))
    .select_from(Blog.__table__)
    .outerjoin(BlogRevision.__table__, _revisions.blog_id == _blogs.id)
    .where(_blogs.id == bindparam("blog_id"), _blogs.user_id == bindparam("user_id"))
    .order_by(_revisions.revision.desc())
)


async def blog(reads: Reads, user_id: str, blog_id: str) -> dict[str, Any]:
    """The user's blog as stored, or 404."""
    row = await reads.first(_OWNED_BLOG, {"blog_id": blog_id, "user_id": user_id})
    if row is None:
        raise NotFound("Blog")
    return dict(row._mapping)


async def page(
    reads: Reads,
    user_id: str,
    status: str | None,
    session_id: str | None,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of the user's blogs, newest first, optionally of one status or session."""
    params = {"user_id": user_id, "status": status, "session_id": session_id}
    pages = _PAGES[bool(status), bool(session_id)]
    params = {name: value for name, value in params.items() if value}
    items, next_cursor = await newest_first_rows(reads, pages, params, limit, cursor)
    return {"items": items, "next_cursor": next_cursor}


async def revisions(reads: Reads, user_id: str, blog_id: str) -> list[dict[str, Any]]:
    """The owned blog's revisions without their text, newest first; 404 for another's."""
    rows = await reads.all(_REVISIONS, {"blog_id": blog_id, "user_id": user_id})
    if not rows:
        raise NotFound("Blog")
    return as_dicts([row for row in rows if row.revision is not None])
