"""Documents of a user: intake of uploaded files, listing, content and removal."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.config import Settings
from draftsmith.db import get_owned, new_id
from draftsmith.documents import search, storage
from draftsmith.documents.models import ChunkRow, Document
from draftsmith.documents.sniff import EmptyFile, UnsupportedType, detect_type
from draftsmith.documents.upload import ReceivedFile
from draftsmith.errors import ApiError
from draftsmith.jobs.service import Jobs
from draftsmith.pagination import newest_first

log = logging.getLogger(__name__)


def _detect(received: ReceivedFile):
    name = storage.sanitise_filename(received.filename)
    try:
        return detect_type(received.path)
    except EmptyFile as exc:
        raise ApiError(422, "empty_file", f"{name} is empty.") from exc
    except UnsupportedType as exc:
        raise ApiError(415, "unsupported_type", f"{name}: {exc}") from exc


async def store_uploads(
    db: AsyncSession, settings: Settings, user_id: str, files: list[ReceivedFile]
) -> list[Document]:
    """Turn received temporary files into queued documents, all or nothing.

    Files are renamed into place before the rows commit; if the commit fails
    they are removed again, so no row points at a missing file and no file
    outlives a failed request.
    """
    placed: list[str] = []
    try:
        detected = [_detect(received) for received in files]
        documents = []
        for received, kind in zip(files, detected, strict=True):
            document_id = new_id()
            key = storage.storage_key(user_id, document_id)
            storage.place(settings, received.path, key)
            placed.append(key)
            documents.append(
                Document(
                    id=document_id,
                    user_id=user_id,
                    filename=storage.sanitise_filename(received.filename),
                    content_type=kind.content_type,
                    kind=kind.kind,
                    encoding=kind.encoding,
                    size_bytes=received.size,
                    sha256=received.sha256,
                    storage_key=key,
                    status="queued",
                    attempts=0,
                )
            )
        db.add_all(documents)
        await db.commit()
    except BaseException:
        await db.rollback()
        for key in placed:
            storage.remove(settings, key)
        for received in files:
            received.path.unlink(missing_ok=True)
        raise
    return documents


async def list_documents(
    db: AsyncSession,
    user_id: str,
    *,
    q: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Document], str | None]:
    if q and q.strip():
        return await _search_documents(db, user_id, q, status, limit, cursor)
    query = select(Document).where(Document.user_id == user_id)
    if status:
        query = query.where(Document.status == status)
    return await newest_first(db, query, Document, limit, cursor)


async def _search_documents(
    db, user_id, q, status, limit, cursor
) -> tuple[list[Document], str | None]:
    """Ranked by full-text relevance; the cursor is ``<offset into the ranking>.rank``."""
    offset = int(cursor.partition(".")[0]) if cursor else 0
    ranked = [doc_id for doc_id, _ in await search.rank_documents(db, user_id, q)]
    if ranked:
        found = {d.id: d for d in await db.scalars(select(Document).where(Document.id.in_(ranked)))}
        ordered = [
            found[i] for i in ranked if i in found and (not status or found[i].status == status)
        ]
    else:
        ordered = []
    page = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return page, f"{offset + limit}.rank" if more else None


async def upload(
    db: AsyncSession, settings: Settings, jobs: Jobs, user_id: str, files: list[ReceivedFile]
) -> list[Document]:
    """Store the received files as queued documents and queue their processing."""
    documents = await store_uploads(db, settings, user_id, files)
    for document in documents:
        await jobs.submit("document", document.id)
    return documents


async def content(db: AsyncSession, user_id: str, document_id: str) -> dict:
    """The extracted Markdown and its sections; 409 until the document is ready."""
    document = await get_owned(db, Document, document_id, user_id)
    if document.status != "ready" or document.markdown is None:
        raise ApiError(
            409,
            "document_not_ready",
            f"The document is {document.status}; its text is not available yet.",
        )
    sections = [
        {
            "heading": s.get("heading"),
            "page": s.get("page"),
            "text": document.markdown[s["start"] : s["end"]],
        }
        for s in document.sections or []
    ]
    return {"document_id": document.id, "markdown": document.markdown, "sections": sections}


async def stored_file(
    db: AsyncSession, settings: Settings, user_id: str, document_id: str
) -> tuple[Document, Path]:
    """The document and the path of its original bytes; 404 when the file is gone."""
    document = await get_owned(db, Document, document_id, user_id)
    path = storage.path_for(settings, document.storage_key)
    if not path.is_file():
        raise ApiError(404, "file_missing", "The stored file is missing.")
    return document, path


async def reprocess(db: AsyncSession, jobs: Jobs, user_id: str, document_id: str) -> Document:
    """Queue the document for processing again, from a fresh attempt count."""
    document = await get_owned(db, Document, document_id, user_id)
    if document.status in ("queued", "processing"):
        raise ApiError(409, "already_processing", "The document is already being processed.")
    document.status, document.error, document.attempts = "queued", None, 0
    document.enqueued_at = document.run_after = None
    await db.commit()
    await jobs.submit("document", document.id)
    await db.refresh(document)
    return document


async def delete_document(
    db: AsyncSession, settings: Settings, user_id: str, document_id: str
) -> None:
    """Remove the row, its chunks (and so their index entries), then the file."""
    document = await get_owned(db, Document, document_id, user_id)
    key = document.storage_key
    await db.execute(delete(ChunkRow).where(ChunkRow.document_id == document.id))
    await db.delete(document)
    await db.commit()
    storage.remove(settings, key)
