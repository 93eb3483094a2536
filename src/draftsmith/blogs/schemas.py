from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from draftsmith.blogs.outline import outline_shape
from draftsmith.generation.citations import draft_word_count
from draftsmith.schemas import InputModel
from draftsmith.sessions.schemas import Brief

BlogStatus = Literal["queued", "generating", "outline_ready", "ready", "failed", "cancelled"]
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


class OutlineSectionOut(BaseModel):
    heading: str
    points: list[str]
    query: str = Field(description="What the section retrieves its passages by.")


class OutlineOut(BaseModel):
    title: str
    sections: list[OutlineSectionOut]


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
    outline: OutlineOut | None = Field(
        None,
        description="The post's title and sections; while `outline_ready`, the proposal to "
        "review (`PUT /outline`), then what was written.",
    )

    @field_validator("outline", mode="before")
    @classmethod
    def _outline_of_old_rows(cls, value: Any, info: ValidationInfo) -> Any:
        """The stored outline in the API's shape (older rows store a bare list)."""
        return outline_shape(value, info.data.get("title", ""))

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


class GenerateIn(InputModel):
    review_outline: StrictBool = Field(
        False,
        description="Stop after planning: the blog becomes `outline_ready` with its proposed "
        "`outline`, to edit (`PUT /blogs/{id}/outline`) and write (`POST /blogs/{id}/write`).",
    )


class OutlineSectionIn(InputModel):
    #: the pattern tells clients what the check below refuses (a blank heading)
    heading: str = Field(min_length=1, max_length=200, pattern=r"\S")
    points: list[Annotated[str, Field(max_length=300)]] = Field(default_factory=list, max_length=12)

    @model_validator(mode="after")
    def _heading_not_blank(self) -> OutlineSectionIn:
        if not self.heading.strip():
            raise ValueError("a section heading cannot be blank")
        return self


class OutlineIn(InputModel):
    title: str | None = Field(None, min_length=1, max_length=300)
    sections: list[OutlineSectionIn] = Field(min_length=1, max_length=20)


class SectionRewriteIn(InputModel):
    revision: int = Field(ge=0, le=MAX_REVISION, description="The revision you see.")
    instructions: str | None = Field(None, max_length=2000)


class SectionRewriteOut(BaseModel):
    rewrite_id: str
    blog_id: str
    section: int
    status: Literal["queued"]
