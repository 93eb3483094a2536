"""The hot read-only blog requests (one blog, the revisions list) as Core
statements built once, answered as plain dicts that the response model validates once (no ORM
objects, no validation from attributes). The stored Markdown and HTML are sent as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from draftsmith.blogs.models import Blog, BlogRevision
from draftsmith.blogs.schemas import BlogOut, RevisionSummary
from draftsmith.errors import NotFound
from draftsmith.reads import Reads

_blogs = Blog.__table__.c
_revisions = BlogRevision.__table__.c

_OWNED_BLOG = select(*(_blogs[name] for name in BlogOut.model_fields)).where(
    _blogs.id == bindparam("blog_id"), _blogs.user_id == bindparam("user_id")
)

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
    return row


async def revisions(reads: Reads, user_id: str, blog_id: str) -> list[dict[str, Any]]:
    """The owned blog's revisions without their text, newest first; 404 for another's."""
    rows = await reads.all(_REVISIONS, {"blog_id": blog_id, "user_id": user_id})
    if not rows:
        raise NotFound("Blog")
    return [row for row in rows if row["revision"] is not None]
