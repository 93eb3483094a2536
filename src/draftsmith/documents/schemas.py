from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DocumentStatus = Literal["queued", "processing", "ready", "failed"]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    status: DocumentStatus
    error: str | None
    error_code: str | None = Field(
        None,
        description="Why it failed: `encrypted`, `no_text_layer` (a scan without OCR) and "
        "`no_text` are final (reprocessing the same file cannot help); others, such as "
        "`extraction_failed`, may pass on a retry.",
    )
    page_count: int | None
    word_count: int | None
    chunk_count: int | None
    source_date: str | None = Field(
        None,
        description="The document's own publication date from its metadata (PDF, DOCX, "
        "HTML `<meta>`, Markdown front matter): `YYYY-MM-DD`, or `YYYY-MM`/`YYYY` when that "
        "is all it says; null when unknown.",
    )
    created_at: datetime
    processed_at: datetime | None
    duplicate: bool = Field(
        False, description="In an upload's answer: these bytes were already in your library."
    )


class UploadOut(BaseModel):
    documents: list[DocumentOut]


class DocumentPage(BaseModel):
    items: list[DocumentOut]
    next_cursor: str | None


class SectionOut(BaseModel):
    heading: str | None
    page: int | None
    text: str
    start: int | None = Field(None, description="Offset of the section in `markdown`.")
    end: int | None = Field(None, description="End offset (exclusive) in `markdown`.")
    page_label: str | None = Field(
        None, description="The number printed on `page` (PDF page labels, else `page`)."
    )
    path: str | None = Field(None, description="Heading path, e.g. `Installation › Linux`.")


class ContentOut(BaseModel):
    document_id: str
    markdown: str
    sections: list[SectionOut]
