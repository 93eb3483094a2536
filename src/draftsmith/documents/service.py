"""Documents of a user: intake of uploaded files, listing, content and removal."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.auth.usage import lock_account, seconds_until_room, too_many
from draftsmith.config import Settings
from draftsmith.db import get_owned, new_id
from draftsmith.documents import search, storage
from draftsmith.documents.locations import stored_location
from draftsmith.documents.models import ChunkRow, Document
from draftsmith.documents.schemas import DocumentOut
from draftsmith.documents.sniff import EmptyFile, UnsupportedType, detect_type
from draftsmith.documents.upload import ReceivedFile
from draftsmith.errors import ApiError
from draftsmith.jobs.service import Jobs
from draftsmith.pagination import keyset_pages, newest_first_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """One item of an upload's answer: a new document, or the one already holding its bytes."""

    document: Document
    duplicate: bool = False


def _detect(received: ReceivedFile):
    name = storage.sanitise_filename(received.filename)
    try:
        return detect_type(received.path)
    except EmptyFile as exc:
        raise ApiError(422, "empty_file", f"{name} is empty.") from exc
    except UnsupportedType as exc:
        raise ApiError(415, "unsupported_type", f"{name}: {exc}") from exc


async def store_uploads(
    db: AsyncSession,
    settings: Settings,
    user_id: str,
    files: list[ReceivedFile],
    *,
    hourly_limit: bool = False,
) -> list[Stored]:
    """Turn received temporary files into queued documents, all or nothing.

    A file whose bytes are already in the user's library (or earlier in this upload)
    answers as that document, marked a duplicate, and is not stored again.  The
    account is locked while this decides, so concurrent uploads cannot store the same
    bytes twice or pass the quota together.  Files are renamed into place before the
    rows commit; if the commit fails they are removed again, so no row points at a
    missing file and no file outlives a failed request.
    """
    placed: list[str] = []
    try:
        detected = [_detect(received) for received in files]
        await lock_account(db, user_id)
        existing = await _existing_by_hash(db, user_id, files)
        first_of: dict[str, Document] = {}
        answer: list[Stored] = []
        for received, kind in zip(files, detected, strict=True):
            known = existing.get(received.sha256) or first_of.get(received.sha256)
            if known is not None:
                answer.append(Stored(known, duplicate=True))
                continue
            document = _new_document(user_id, received, kind)
            first_of[received.sha256] = document
            answer.append(Stored(document))
        new = [stored for stored in answer if not stored.duplicate]
        await _check_room(db, settings, user_id, new, hourly_limit)
        for stored, received in zip(answer, files, strict=True):
            if not stored.duplicate:
                storage.place(settings, received.path, stored.document.storage_key)
                placed.append(stored.document.storage_key)
            else:
                received.path.unlink(missing_ok=True)
        db.add_all(stored.document for stored in new)
        await db.commit()
    except BaseException:
        await db.rollback()
        for key in placed:
            storage.remove(settings, key)
        for received in files:
            received.path.unlink(missing_ok=True)
        raise
    return answer


async def _existing_by_hash(
    db: AsyncSession, user_id: str, files: list[ReceivedFile]
) -> dict[str, Document]:
    """The user's documents with the bytes of any of the files, by sha256 (the oldest wins)."""
    hashes = {received.sha256 for received in files}
    found = await db.scalars(
        select(Document)
        .where(Document.user_id == user_id, Document.sha256.in_(hashes))
        .order_by(Document.created_at.desc())
    )
    return {document.sha256: document for document in found}


async def _check_room(
    db: AsyncSession,
    settings: Settings,
    user_id: str,
    new: list[Stored],
    hourly_limit: bool,
) -> None:
    """413 `storage_quota` past the user's stored bytes; 429 `upload_limit` past the
    files per hour (when ``hourly_limit``)."""
    stored = await db.scalar(
        select(func.coalesce(func.sum(Document.size_bytes), 0)).where(Document.user_id == user_id)
    )
    incoming = sum(stored.document.size_bytes for stored in new)
    quota = settings.storage_quota_bytes
    if stored + incoming > quota:
        raise ApiError(
            413,
            "storage_quota",
            f"This upload needs {_mb(incoming)} but only {_mb(max(0, quota - stored))} of "
            f"your {_mb(quota)} storage is left; delete documents to make room.",
        )
    if hourly_limit and new:
        await check_upload_rate(db, settings, user_id, len(new))


async def check_upload_rate(
    db: AsyncSession, settings: Settings, user_id: str, incoming: int = 1
) -> None:
    """429 `upload_limit` when ``incoming`` more files would pass the hourly limit."""
    limit = settings.upload_hourly_limit
    wait = await seconds_until_room(db, Document, user_id, limit, incoming)
    if wait is not None:
        raise too_many(
            "upload_limit",
            f"You can upload {limit} files per hour; try again in {wait} seconds.",
            wait,
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _new_document(user_id: str, received: ReceivedFile, kind) -> Document:
    document_id = new_id()
    return Document(
        id=document_id,
        user_id=user_id,
        filename=storage.sanitise_filename(received.filename),
        content_type=kind.content_type,
        kind=kind.kind,
        encoding=kind.encoding,
        size_bytes=received.size,
        sha256=received.sha256,
        storage_key=storage.storage_key(user_id, document_id),
        status="queued",
        attempts=0,
    )


async def list_documents(
    state: Any,
    user_id: str,
    *,
    q: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the user's documents (as dicts: the response model validates them once),
    newest first or, with ``q``, by relevance. ``state`` is the app's: its ``reads``, and a
    read session for a search only."""
    if q and q.strip():
        async with state.read_db() as db:
            return await _search_documents(db, user_id, q, status, limit, cursor)
    params = {"user_id": user_id, **({"status": status} if status else {})}
    return await newest_first_rows(state.reads, _PAGES[bool(status)], params, limit, cursor)


# the listed columns (no content: the extracted text stays in the database), by status filter
_LISTED_COLUMNS = [
    Document.__table__.c[name] for name in DocumentOut.model_fields if name != "duplicate"
]
_PAGES = {
    filtered: keyset_pages(
        select(*_LISTED_COLUMNS).where(
            Document.user_id == bindparam("user_id"),
            *([Document.status == bindparam("status")] if filtered else []),
        ),
        Document.created_at,
        Document.id,
    )
    for filtered in (False, True)
}


async def _search_documents(
    db, user_id, q, status, limit, cursor
) -> tuple[list[dict[str, Any]], str | None]:
    """Ranked by full-text relevance; the cursor is ``<offset into the ranking>.rank``."""
    offset = int(cursor.partition(".")[0]) if cursor else 0
    ranked = [doc_id for doc_id, _ in await search.rank_documents(db, user_id, q)]
    if status and ranked:
        having = select(Document.id).where(Document.id.in_(ranked), Document.status == status)
        keep = set(await db.scalars(having))
        ranked = [i for i in ranked if i in keep]
    wanted = ranked[offset : offset + limit]
    found: dict[str, dict[str, Any]] = {}
    if wanted:  # only the page's documents, as rows (ORM objects cost ~2 ms for twenty)
        listed = select(*_LISTED_COLUMNS).where(Document.id.in_(wanted))
        found = {row["id"]: dict(row) for row in (await db.execute(listed)).mappings()}
    page = [found[i] for i in wanted if i in found]
    more = offset + limit < len(ranked)
    return page, f"{offset + limit}.rank" if more else None


async def upload(
    db: AsyncSession, settings: Settings, jobs: Jobs, user_id: str, files: list[ReceivedFile]
) -> list[DocumentOut]:
    """Store the received files as queued documents and queue their processing."""
    answer = await store_uploads(db, settings, user_id, files, hourly_limit=True)
    for stored in answer:
        if not stored.duplicate:
            await jobs.submit("document", stored.document.id)
    return [
        DocumentOut.model_validate(stored.document).model_copy(
            update={"duplicate": stored.duplicate}
        )
        for stored in answer
    ]


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
            "start": s["start"],
            "end": s["end"],
            "page_label": location.page_label,
            "path": location.section,
        }
        for s in document.sections or []
        for location in [stored_location(s)]
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
