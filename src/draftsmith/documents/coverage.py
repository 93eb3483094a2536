"""Coverage and language of a user's stored documents (issue 9): the database side of
:mod:`draftsmith.generation.coverage` and :mod:`draftsmith.text.language`.

A document's coverage index (its vocabulary and a BM25 index of its chunks) is built
from its chunks once and kept in a small per-process cache (bounded by words, keyed by
the document and when it was processed), so the generate page can ask again on every
pause in typing; in-process jobs build it as the document becomes ready (``warm``).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.errors import ApiError
from draftsmith.generation.coverage import Coverage, SourceIndex, measure
from draftsmith.generation.types import Passage
from draftsmith.text.language import detect, language_code, language_name

from .models import ChunkRow, Document

#: words of documents whose indexes stay in memory (a 600-page manual is ~300,000)
CACHE_WORDS = 2_000_000
#: characters of each document the language is guessed from
LANGUAGE_SAMPLE = 20_000

_Key = tuple[str, datetime | None]
_CHUNK_COLUMNS = (
    ChunkRow.id,
    ChunkRow.page,
    ChunkRow.start,
    ChunkRow.end,
    ChunkRow.text,
    ChunkRow.heading,
)


class _IndexCache:
    def __init__(self, max_words: int) -> None:
        self.max_words = max_words
        self._items: OrderedDict[_Key, tuple[SourceIndex, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key) -> SourceIndex | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: _Key, index: SourceIndex, words: int) -> None:
        with self._lock:
            self._items[key] = (index, words)
            while len(self._items) > 1 and sum(w for _, w in self._items.values()) > self.max_words:
                self._items.popitem(last=False)


_cache = _IndexCache(CACHE_WORDS)


def _not_ready(count: int) -> ApiError:
    return ApiError(
        409,
        "documents_not_ready",
        f"{count} selected document(s) are not ready yet; coverage is measured once they are.",
    )


async def _index(db: AsyncSession, document: Document) -> SourceIndex:
    key = (document.id, document.processed_at)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = await db.execute(
        select(*_CHUNK_COLUMNS)
        .where(ChunkRow.document_id == document.id, ChunkRow.boilerplate.is_(False))
        .order_by(ChunkRow.ordinal)
    )
    passages = [  # plain rows, not ORM objects: hydrating thousands of them would stall the loop
        Passage(str(id_), document.id, document.filename, page, start, end, text, heading)
        for id_, page, start, end, text, heading in rows.all()
    ]
    index = await asyncio.to_thread(SourceIndex.build, document.filename, passages)
    _cache.put(key, index, document.word_count or 0)
    return index


async def warm(db: AsyncSession, document_id: str) -> None:
    """Build a document's coverage index as it becomes ready, so the generate page's first
    coverage request finds it (jobs run in the API's process when no Redis is set)."""
    document = await db.get(Document, document_id)
    if document is not None and document.status == "ready":
        await _index(db, document)


async def sources(db: AsyncSession, user_id: str, document_ids: list[str]) -> list[SourceIndex]:
    """The coverage indexes of the user's documents (the caller checked the ids are theirs);
    409 ``documents_not_ready`` while one is not ready."""
    documents = {
        d.id: d
        for d in await db.scalars(
            select(Document).where(Document.id.in_(document_ids), Document.user_id == user_id)
        )
    }
    not_ready = [i for i in document_ids if i not in documents or documents[i].status != "ready"]
    if not_ready:
        raise _not_ready(len(not_ready))
    return [await _index(db, documents[i]) for i in document_ids]


async def coverage_of(
    db: AsyncSession, user_id: str, topic: str, document_ids: list[str]
) -> Coverage:
    indexes = await sources(db, user_id, document_ids)
    return await asyncio.to_thread(measure, topic, indexes)


async def coverage_if_ready(
    db: AsyncSession, user_id: str, topic: str, document_ids: list[str]
) -> Coverage | None:
    """The coverage, or None while a document is not ready (a session may be opened on
    documents still processing)."""
    try:
        return await coverage_of(db, user_id, topic, document_ids)
    except ApiError as exc:
        if exc.code == "documents_not_ready":
            return None
        raise


async def languages(db: AsyncSession, user_id: str, document_ids: list[str]) -> dict[str, str]:
    """{filename: language code} of the user's ready documents whose language is clear."""
    rows = await db.execute(
        select(Document.filename, func.substr(Document.markdown, 1, LANGUAGE_SAMPLE)).where(
            Document.id.in_(document_ids),
            Document.user_id == user_id,
            Document.status == "ready",
        )
    )
    samples = rows.all()
    codes = await asyncio.to_thread(lambda: [detect(sample or "") for _, sample in samples])
    return {filename: code for (filename, _), code in zip(samples, codes, strict=True) if code}


async def translation_refusal(
    db: AsyncSession, user_id: str, language: str | None, document_ids: list[str]
) -> str | None:
    """Why the extractive engine cannot write ``language`` from these documents (it quotes
    them, it cannot translate), or None when it can (or their language is unclear)."""
    if not language or not language.strip():
        return None
    wanted = language_code(language)
    found = await languages(db, user_id, document_ids)
    others = {name: code for name, code in found.items() if code != wanted}
    if not others:
        return None
    in_languages = ", ".join(sorted({language_name(c) for c in found.values()}))
    return (
        f"The extractive engine quotes your documents and cannot translate them: they are in "
        f"{in_languages}, so it cannot write in {language.strip()}. Leave the language empty "
        "to write in the documents' language, or choose the LLM engine, which can write in "
        "another language."
    )
