"""Processing a stored document: extract → chunk → index → commit (idempotent)."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith import metrics
from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.documents import coverage, embeddings, storage
from draftsmith.documents.chunking import TextChunk, chunk_extraction
from draftsmith.documents.extract import (
    Extraction,
    ExtractionError,
    ExtractorUnavailable,
    extract_isolated,
)
from draftsmith.documents.locations import stored_sections
from draftsmith.documents.models import ChunkRow, Document
from draftsmith.jobs.runner import (
    Cancelled,
    JobContext,
    JobKind,
    PermanentError,
    TransientError,
)

log = logging.getLogger(__name__)


def extract_and_chunk(
    settings: Settings, path: Path, kind: str, encoding: str | None
) -> tuple[Extraction, list[TextChunk]]:
    """The CPU part, run in a worker thread (extraction itself runs in an isolated process)."""
    extraction = extract_isolated(
        path,
        kind,
        encoding,
        timeout_s=settings.extract_timeout_s,
        memory_mb=settings.extract_memory_mb,
    )
    if "\x00" in extraction.markdown:  # no database stores NUL; a space keeps every offset
        extraction.markdown = extraction.markdown.replace("\x00", " ")
        for section in extraction.sections:
            section.text = section.text.replace("\x00", " ")
    return extraction, chunk_extraction(extraction)


async def save_extraction(
    db: AsyncSession,
    document: Document,
    extraction: Extraction,
    spans: list[TextChunk],
    running_status: str = "processing",
    vectors: list[bytes | None] | None = None,
) -> bool:
    """Replace the document's chunks (with their ``vectors`` when given) and mark it ready,
    in one transaction.

    Returns False (and writes nothing) when the row is no longer being processed
    (deleted or reprocessed meanwhile)."""
    sections = stored_sections(extraction)
    claimed = await db.execute(
        update(Document)
        .where(Document.id == document.id, Document.status == running_status)
        .values(
            status="ready",
            error=None,
            markdown=extraction.markdown,
            sections=sections,
            warnings=list(extraction.warnings) or None,
            page_count=extraction.page_count,
            word_count=extraction.word_count,
            source_date=extraction.date,
            chunk_count=len(spans),
            processed_at=utcnow(),
            lease_expires_at=None,
        )
    )
    if claimed.rowcount != 1:
        await db.rollback()
        return False
    await db.execute(delete(ChunkRow).where(ChunkRow.document_id == document.id))
    if spans:
        await db.execute(
            insert(ChunkRow),
            [
                {
                    "document_id": document.id,
                    "user_id": document.user_id,
                    "ordinal": span.ordinal,
                    "text": span.text,
                    "page": span.page,
                    "heading": span.heading,
                    "page_label": span.page_label,
                    "section": span.section,
                    "start": span.start,
                    "end": span.end,
                    "word_count": span.word_count,
                    "boilerplate": span.boilerplate,
                    "embedding": vectors[i] if vectors else None,
                }
                for i, span in enumerate(spans)
            ],
        )
    await db.commit()
    return True


async def process_document(ctx: JobContext, document_id: str) -> None:
    async with ctx.db() as db:
        document = await db.get(Document, document_id)
    if document is None:
        raise Cancelled()
    path = storage.path_for(ctx.settings, document.storage_key)
    if not path.is_file():
        raise PermanentError(
            "The stored file is missing; delete this document and upload it again.", "file_missing"
        )
    try:
        extraction, spans = await anyio.to_thread.run_sync(
            extract_and_chunk, ctx.settings, path, document.kind, document.encoding
        )
    except ExtractorUnavailable as exc:  # the server's problem, not the document's
        raise TransientError(str(exc), "extractor_unavailable") from exc
    except ExtractionError as exc:
        raise PermanentError(str(exc), exc.code) from exc
    vectors = None
    if embeddings.configured(ctx.settings) and spans:
        chunks = [(s.heading, s.text, s.boilerplate) for s in spans]
        vectors = await embeddings.embed_chunks(ctx.settings, chunks)
        if vectors is None:
            extraction.warnings.append(embeddings.UNAVAILABLE)
    async with ctx.db() as db:
        if not await save_extraction(db, document, extraction, spans, vectors=vectors):
            raise Cancelled()
        if ctx.settings.redis_url is None:  # the API's own process: its cache
            await coverage.warm(db, document_id)
    metrics.EXTRACTED_PAGES.inc(extraction.page_count or 0)
    log.info(
        "document %s ready: %s pages, %s chunks", document_id, extraction.page_count, len(spans)
    )


async def remove_stale_temporaries(ctx: JobContext) -> None:
    removed = await anyio.to_thread.run_sync(storage.remove_stale_temporaries, ctx.settings)
    if removed:
        log.info("removed %d upload temporaries left behind", removed)


DOCUMENT_JOB = JobKind("document", Document, process_document, tidy=remove_stale_temporaries)
