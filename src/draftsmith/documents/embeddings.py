"""Optional dense retrieval through an OpenAI-compatible ``/embeddings`` endpoint.

When ``DRAFTSMITH_EMBEDDINGS_BASE_URL`` is set, every content chunk (heading and text) gets
a vector at ingest, in batches; the vectors are stored with their chunks as float32 blobs
of unit length. A draft's search then embeds the query, compares it by brute force with
the vectors of the session's documents (they are few: a dot product per chunk, no vector
index), and fuses that ranking with BM25's by reciprocal rank.

The endpoint is an aid, never a dependency: when it fails at ingest the document is still
processed (with a warning, searched by words only); when it fails at search time the
search is lexical.
"""

from __future__ import annotations

import heapq
import logging
import math
from array import array
from collections.abc import Sequence
from dataclasses import replace

import openai
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from draftsmith.config import Settings
from draftsmith.documents import search
from draftsmith.documents.models import ChunkRow
from draftsmith.documents.search import SearchHit
from draftsmith.generation.retrieval import fuse

log = logging.getLogger(__name__)

BATCH = 64  # texts per /embeddings request
MAX_CHARS = 8000  # of a text sent for embedding (the model would truncate it anyway)
UNAVAILABLE = (
    "The embeddings endpoint failed while this document was processed; it is searched by "
    "words only (reprocess it to add meaning-based search)."
)


class EmbeddingsUnavailable(RuntimeError):
    """The endpoint could not embed the texts (unreachable, an error, a malformed answer)."""


def configured(settings: Settings) -> bool:
    return bool(settings.embeddings_base_url)


def pack(vector: Sequence[float]) -> bytes:
    """A vector as the float32 blob stored with its chunk, scaled to unit length."""
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return array("f", (x / norm for x in vector)).tobytes()


def unpack(blob: bytes) -> array:
    vector = array("f")
    vector.frombytes(blob)
    return vector


async def embed(settings: Settings, texts: Sequence[str]) -> list[list[float]]:
    """One vector per text, asked for in batches of ``BATCH``."""
    key = settings.embeddings_api_key
    client = openai.AsyncOpenAI(
        base_url=settings.embeddings_base_url,
        api_key=key.get_secret_value() if key else "not-needed",
        timeout=openai.Timeout(settings.llm_timeout_s, connect=settings.llm_connect_timeout_s),
        max_retries=max(0, settings.llm_max_attempts - 1),
    )
    vectors: list[list[float]] = []
    try:
        for i in range(0, len(texts), BATCH):
            batch = [t[:MAX_CHARS] or " " for t in texts[i : i + BATCH]]
            answer = await client.embeddings.create(
                model=settings.embeddings_model, input=batch, encoding_format="float"
            )
            rows = sorted(answer.data, key=lambda row: row.index)
            if len(rows) != len(batch) or not all(row.embedding for row in rows):
                raise EmbeddingsUnavailable("the endpoint answered a different number of vectors")
            vectors += [list(row.embedding) for row in rows]
    except openai.OpenAIError as exc:
        raise EmbeddingsUnavailable(str(exc)) from exc
    finally:
        await client.close()
    return vectors


def chunk_text(heading: str | None, text: str) -> str:
    return f"{heading}\n{text}" if heading else text


async def embed_chunks(
    settings: Settings, chunks: Sequence[tuple[str | None, str, bool]]
) -> list[bytes | None] | None:
    """Blobs for the ``(heading, text, boilerplate)`` chunks of a document (``None`` for
    boilerplate), or ``None`` when the endpoint failed (logged: the caller warns)."""
    wanted = [i for i, (_, _, boilerplate) in enumerate(chunks) if not boilerplate]
    try:
        vectors = await embed(settings, [chunk_text(chunks[i][0], chunks[i][1]) for i in wanted])
    except EmbeddingsUnavailable as exc:
        log.warning("embeddings unavailable, document searched by words only: %s", exc)
        return None
    blobs: list[bytes | None] = [None] * len(chunks)
    for i, vector in zip(wanted, vectors, strict=True):
        blobs[i] = pack(vector)
    return blobs


async def dense_retrieve(
    db: AsyncSession, user_id: str, query_vector: Sequence[float], document_ids: list[str], k: int
) -> list[SearchHit]:
    """The ``k`` content chunks of the documents nearest the query (cosine), by brute force."""
    query = unpack(pack(query_vector))
    rows = await db.execute(
        select(*search.hit_columns(), ChunkRow.embedding).where(
            ChunkRow.user_id == user_id,
            ChunkRow.document_id.in_(document_ids),
            ChunkRow.boilerplate.is_(False),
            ChunkRow.embedding.is_not(None),
        )
    )
    scored = []
    for row in rows:
        vector = unpack(row.embedding)
        if len(vector) == len(query):
            scored.append((sum(a * b for a, b in zip(query, vector, strict=True)), row))
    best = heapq.nlargest(k, scored, key=lambda pair: (pair[0], -pair[1].id))
    return [search.make_hit(row, similarity) for similarity, row in best]


async def hybrid_retrieve(
    db: AsyncSession,
    settings: Settings,
    user_id: str,
    query: str,
    document_ids: list[str],
    k: int = 8,
) -> list[SearchHit]:
    """BM25 alone without an embeddings endpoint; with one, BM25 and the dense ranking fused
    by reciprocal rank (lexical hits keep their BM25 score; a hit found only by meaning gets
    the lowest BM25 score returned, so relevance floors downstream keep it). An endpoint
    failure leaves the lexical ranking."""
    lexical = await search.retrieve(db, user_id, query, document_ids, k=2 * k)
    if not configured(settings) or not document_ids or not query.strip():
        return lexical[:k]
    try:
        (vector,) = await embed(settings, [query])
    except EmbeddingsUnavailable as exc:
        log.warning("embeddings unavailable, searching by words only: %s", exc)
        return lexical[:k]
    dense = await dense_retrieve(db, user_id, vector, document_ids, 2 * k)
    floor = min((hit.score for hit in lexical), default=1.0)
    by_id = {hit.chunk_id: hit for hit in lexical}
    dense = [by_id.get(hit.chunk_id) or replace(hit, score=floor) for hit in dense]
    return fuse([lexical, dense], k)
