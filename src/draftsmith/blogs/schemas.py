from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from draftsmith.generation.citations import draft_word_count
from draftsmith.schemas import InputModel
from draftsmith.sessions.schemas import Brief

BlogStatus = Literal["queued", "generating", "ready", "failed", "cancelled"]
MAX_MARKDOWN = 500_000
MAX_REVISION = 2**31 - 1  # the database column is a 32-bit integer


class CitationOut(BaseModel):
    n: int
    document_id: str
    document_name: str
    page: int | None
    chunk_id: str | None = None
    start: int | None = None
    end: int | None = None
    quote: str
    page_label: str | None = Field(
        None,
        description="The number printed on the page: the PDF's page label where the file "
        "defines them, else the page number.",
    )
    section: str | None = Field(
        None, description="Heading path of the cited passage, e.g. `Installation › Linux`."
    )

    @model_validator(mode="after")
    def _label_from_page(self) -> CitationOut:
        """Citations stored before page labels existed show their page number."""
        if self.page_label is None and self.page is not None:
            self.page_label = str(self.page)
        return self


class BlogSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    session_id: str | None
    title: str
    status: BlogStatus
    error: str | None
    error_code: str | None = None
    revision: int
    engine: str
    model: str | None
    brief: Brief | None = Field(
        None,
        description="The brief this blog was generated from (null for blogs made before "
        "briefs were kept); the session's brief may have changed since.",
    )
    created_at: datetime
    updated_at: datetime


class DocumentRef(BaseModel):
    id: str
    filename: str | None = Field(description="Null when the document was deleted since.")


class BlogListItem(BlogSummary):
    """A blog in the list: enough to tell it from the others without opening it."""

    excerpt: str = Field(description="The draft's first paragraph, as plain text, shortened.")
    word_count: int = Field(description="Words before the Sources list, as the editor counts.")
    documents: list[DocumentRef] = Field(description="The documents of its brief.")


class BlogOut(BlogSummary):
    markdown: str
    html: str
    citations: list[CitationOut]
    grounding: dict[str, Any] | None
    warnings: list[str] | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def word_count(self) -> int:
        """Words before the Sources list, citation markers left out (as the editor counts)."""
        return counted_words(self.markdown)


@lru_cache(maxsize=256)
def counted_words(markdown: str) -> int:
    """A draft is read far more often than it changes: count each text once."""
    return draft_word_count(markdown)


class BlogPage(BaseModel):
    items: list[BlogListItem]
    next_cursor: str | None


class BlogPatch(InputModel):
    revision: int = Field(ge=0, le=MAX_REVISION)
    title: str | None = Field(None, min_length=1, max_length=300)
    markdown: str | None = Field(None, max_length=MAX_MARKDOWN)


class RevisionSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    revision: int
    title: str
    source: str
    created_at: datetime


class RevisionOut(RevisionSummary):
    markdown: str
    grounding: dict[str, Any] | None = None


class RevisionList(BaseModel):
    items: list[RevisionSummary]


class GenerateOut(BaseModel):
    blog_id: str
    status: Literal["queued"]
