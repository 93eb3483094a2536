"""The blogs list: search, sort, and what each item shows to tell drafts apart (an
excerpt, its word count, the documents and brief it was written from)."""

from __future__ import annotations

import re
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.blogs.models import Blog
from draftsmith.blogs.schemas import BlogSummary, counted_words
from draftsmith.documents.models import Document
from draftsmith.generation.citations import split_body, strip_markers
from draftsmith.pagination import sorted_page
from draftsmith.text.blocks import markdown_blocks

BlogSort = Literal["newest", "oldest", "updated", "title"]
#: sort -> (key, newest/last first, the key is a time)
SORTS: dict[str, tuple[Any, bool, bool]] = {
    "newest": (Blog.created_at, True, True),
    "oldest": (Blog.created_at, False, True),
    "updated": (Blog.updated_at, True, True),
    "title": (func.lower(Blog.title), False, False),
}
EXCERPT_CHARS = 220
_INLINE_RE = re.compile(r"[*_`~]+|!?\[([^\]]*)\]\([^)]*\)")


def excerpt(markdown: str, limit: int = EXCERPT_CHARS) -> str:
    """The draft's first paragraph as plain text (no markers, no inline syntax), cut at a
    word near ``limit`` characters."""
    body, _ = split_body(markdown)
    for block in markdown_blocks(body):
        if block.kind != "prose":
            continue
        text = " ".join(strip_markers(body[block.start : block.end]).split())
        text = _INLINE_RE.sub(lambda m: m.group(1) or "", text)
        if not text:
            continue
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return ""


#: the brief's free-text fields a search looks in (by value: not its JSON text, whose
#: key names would match every blog and whose non-ASCII letters are escaped)
SEARCHED_BRIEF_FIELDS = ("topic", "audience", "tone", "instructions")


def _matching(query, q: str):
    """Blogs whose title, text or brief (topic, audience, …) contain ``q`` (any case)."""
    return query.where(
        or_(
            Blog.title.icontains(q, autoescape=True),
            Blog.markdown.icontains(q, autoescape=True),
            *(
                Blog.brief[name].as_string().icontains(q, autoescape=True)
                for name in SEARCHED_BRIEF_FIELDS
            ),
        )
    )


async def page(
    db: AsyncSession,
    user_id: str,
    *,
    status: str | None,
    session_id: str | None,
    q: str | None,
    sort: str,
    limit: int,
    cursor: str | None,
) -> dict[str, Any]:
    """One page of the user's blogs as list items."""
    query = select(Blog).where(Blog.user_id == user_id)
    if status:
        query = query.where(Blog.status == status)
    if session_id:
        query = query.where(Blog.session_id == session_id)
    if q and q.strip():
        query = _matching(query, q.strip())
    key, descending, is_time = SORTS[sort]
    blogs, next_cursor = await sorted_page(
        db, query, Blog, key, descending, limit, cursor, Blog.user_id == user_id, is_time
    )
    names = await _document_names(db, user_id, blogs)
    return {"items": [_item(blog, names) for blog in blogs], "next_cursor": next_cursor}


async def _document_names(db: AsyncSession, user_id: str, blogs: list[Blog]) -> dict[str, str]:
    ids = {i for blog in blogs for i in (blog.brief or {}).get("document_ids", [])}
    if not ids:
        return {}
    rows = await db.execute(
        select(Document.id, Document.filename).where(
            Document.id.in_(ids), Document.user_id == user_id
        )
    )
    return {document_id: filename for document_id, filename in rows}


def _item(blog: Blog, names: dict[str, str]) -> dict[str, Any]:
    document_ids = (blog.brief or {}).get("document_ids", [])
    return {
        **BlogSummary.model_validate(blog).model_dump(),
        "excerpt": excerpt(blog.markdown),
        "word_count": counted_words(blog.markdown),
        "documents": [{"id": i, "filename": names.get(i)} for i in document_ids],
    }
