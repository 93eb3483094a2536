"""Optional dense retrieval through an OpenAI-compatible ``/embeddings`` endpoint.

When ``DRAFTSMITH_EMBEDDINGS_BASE_URL`` is set, every content chunk is embedded at ingest,
in batches, window by window: a chunk (about 250 words) is cut at sentence ends into windows
of about ``WINDOW_WORDS`` words that overlap by about ``OVERLAP_WORDS``, each sent with the
chunk's heading. One vector for the whole chunk blurs the sentence that answers a question
into everything else the chunk says (and a 256-token model does not even read a whole
chunk); on the labelled questions the windows lifted the dense ranking's paraphrase recall@5
from 0.75-0.83 to 0.78-0.94 (bench/results/retrieval_hybrid.txt). The window vectors are
stored with their chunk, one after the other, as a float32 blob, each of unit length (about
six a chunk, so six times the vectors of one a chunk; a chunk stored before, with one
vector, counts as one window). A draft's search then embeds the query, compares it by brute
force with the windows of the session's documents (they are few: no vector index), scores a
chunk by its best window, and combines that ranking with BM25's: each ranking's scores
scaled to 0..1, then summed half and half (a convex combination: better than reciprocal rank
fusion on the labelled questions for every model tried; on the held-out ones better for the
strongest, multilingual-e5-small, worse for all-MiniLM-L6-v2 and WordLlama).

Models trained with different prefixes for searches and for texts (E5: ``query: `` and
``passage: ``; nomic-embed-text: ``search_query: `` and ``search_document: ``) get them
from ``DRAFTSMITH_EMBEDDINGS_QUERY_PREFIX`` and ``_DOCUMENT_PREFIX``.

The endpoint is an aid, never a dependency: when it fails at ingest the document is still
processed (with a warning, searched by words only); when it fails at search time the
search is lexical.
"""

from __future__ import annotations

import heapq
import logging
import math
import operator
import re
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
from draftsmith.text.sentences import split_sentences_in
from draftsmith.text.words import word_count

log = logging.getLogger(__name__)

BATCH = 64  # texts per /embeddings request
MAX_CHARS = 8000  # of a text sent for embedding (the model would truncate it anyway)
#: words of a chunk's window (one vector each), and the words a window repeats of the last
#: (whole sentences; tuned on the labelled retrieval questions, see the module docstring)
WINDOW_WORDS = 60
OVERLAP_WORDS = 20
#: a stored window vector is of unit length: one that is not was made for another dimension
_UNIT_TOLERANCE = 1e-3
_WORDS_RE = re.compile(r"\S+")
#: the dense ranking's share in a hybrid search: scores combined half and half (chosen on
#: the labelled questions, bench/results/retrieval_hybrid.txt)
DENSE_SHARE = 0.5
UNAVAILABLE = (
    "The embeddings endpoint failed while this document was processed; it is searched by "
    "words only (reprocess it to add meaning-based search)."
)


class EmbeddingsUnavailable(RuntimeError):
    """The endpoint could not embed the texts (unreachable, an error, a malformed answer)."""


def configured(settings: Settings) -> bool:
    return bool(settings.embeddings_base_url)


def pack(*vectors: Sequence[float]) -> bytes:
    """Vectors (a chunk's windows) as the float32 blob stored with the chunk, one after
    the other, each scaled to unit length."""
    out = array("f")
    for vector in vectors:
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        out.extend(x / norm for x in vector)
    return out.tobytes()


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


def _pieces(text: str, limit: int) -> list[tuple[int, int, int]]:
    """``(start, end, words)`` of the sentences of ``text``; a sentence of more than
    ``limit`` words (a table, a list without full stops) cut every ``limit`` words."""
    out = []
    for sentence in split_sentences_in(text, 0, len(text)):
        words = [m.span() for m in _WORDS_RE.finditer(text, sentence.start, sentence.end)]
        for i in range(0, len(words), limit):
            part = words[i : i + limit]
            start, end = part[0][0], part[-1][1]
            out.append((start, end, max(1, word_count(text[start:end]))))
    return out


def windows(text: str, size: int = WINDOW_WORDS, overlap: int = OVERLAP_WORDS) -> list[str]:
    """``text`` in windows of whole sentences, about ``size`` words each (a longer
    sentence is cut), each starting with the last sentences of the one before that make up
    at most ``overlap`` words (and holding at least one sentence more); the whole text when
    it is that short."""
    pieces = _pieces(text, size)
    if sum(words for _, _, words in pieces) <= size:
        return [text.strip() or text]
    out = []
    first, last = 0, -1
    while last + 1 < len(pieces):
        new = last + 1  # the first sentence the last window did not hold
        last, words = new, sum(w for _, _, w in pieces[first : new + 1])
        while last + 1 < len(pieces) and words + pieces[last + 1][2] <= size:
            last += 1
            words += pieces[last][2]
        out.append(text[pieces[first][0] : pieces[last][1]])
        first, kept = last + 1, 0
        while first - 1 > new and kept + pieces[first - 1][2] <= overlap:
            first -= 1
            kept += pieces[first][2]
    return out


async def embed_chunks(
    settings: Settings, chunks: Sequence[tuple[str | None, str, bool]]
) -> list[bytes | None] | None:
    """Blobs of window vectors for the ``(heading, text, boilerplate)`` chunks of a
    document (``None`` for boilerplate), or ``None`` when the endpoint failed (logged: the
    caller warns)."""
    prefix = settings.embeddings_document_prefix
    owners: list[int] = []
    texts: list[str] = []
    for i, (heading, text, boilerplate) in enumerate(chunks):
        if not boilerplate:
            for window in windows(text):
                owners.append(i)
                texts.append(prefix + chunk_text(heading, window))
    try:
        vectors = await embed(settings, texts)
    except EmbeddingsUnavailable as exc:
        log.warning("embeddings unavailable, document searched by words only: %s", exc)
        return None
    by_chunk: dict[int, list[list[float]]] = {}
    for i, vector in zip(owners, vectors, strict=True):
        by_chunk.setdefault(i, []).append(vector)
    return [pack(*by_chunk[i]) if i in by_chunk else None for i in range(len(chunks))]


def best_window(query: array, blob: bytes) -> float | None:
    """The cosine of the query and the nearest window vector of a stored blob, or
    ``None`` when the blob was made for another dimension (another model)."""
    vectors = unpack(blob)
    n = len(query)
    if not n or len(vectors) % n:
        return None
    if abs(sum(map(operator.mul, vectors[:n], vectors[:n])) - 1.0) > _UNIT_TOLERANCE:
        return None
    return max(sum(map(operator.mul, query, vectors[i : i + n])) for i in range(0, len(vectors), n))


async def dense_retrieve(
    db: AsyncSession, user_id: str, query_vector: Sequence[float], document_ids: list[str], k: int
) -> list[SearchHit]:
    """The ``k`` content chunks of the documents nearest the query (cosine with a chunk's
    nearest window), by brute force."""
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
        similarity = best_window(query, row.embedding)
        if similarity is not None:
            scored.append((similarity, row))
    best = heapq.nlargest(k, scored, key=lambda pair: (pair[0], -pair[1].id))
    return [search.make_hit(row, similarity) for similarity, row in best]


def _scaled(hits: Sequence[SearchHit]) -> dict[int, float]:
    """The scores of a ranking scaled to 0..1 (its best 1, its last 0; all 1 when equal)."""
    scores = [hit.score for hit in hits]
    low, high = min(scores, default=0.0), max(scores, default=0.0)
    return {h.chunk_id: (h.score - low) / (high - low) if high > low else 1.0 for h in hits}


def combine(
    lexical: Sequence[SearchHit], dense: Sequence[SearchHit], k: int, share: float = DENSE_SHARE
) -> list[SearchHit]:
    """The top ``k`` of both rankings by ``share`` x the dense score plus the rest x the
    BM25 score, each scaled to 0..1 within its ranking (a hit missing from one counts 0
    there); ties by first appearance, lexical first. A hit keeps its BM25 score; one found
    only by meaning gets the lowest BM25 score of the ranking, so relevance floors downstream
    keep it."""
    words, meaning = _scaled(lexical), _scaled(dense)
    floor = min((hit.score for hit in lexical), default=1.0)
    hits = {hit.chunk_id: hit for hit in lexical}
    for hit in dense:
        hits.setdefault(hit.chunk_id, replace(hit, score=floor))
    combined = {
        cid: share * meaning.get(cid, 0.0) + (1 - share) * words.get(cid, 0.0) for cid in hits
    }
    order = sorted(hits, key=lambda cid: -combined[cid])  # stable: ties keep their order
    return [hits[cid] for cid in order[: max(0, k)]]


async def hybrid_retrieve(
    db: AsyncSession,
    settings: Settings,
    user_id: str,
    query: str,
    document_ids: list[str],
    k: int = 8,
) -> list[SearchHit]:
    """BM25 alone without an embeddings endpoint; with one, the ``2k`` best of BM25 and of
    the dense ranking combined by their scores (:func:`combine`). An endpoint failure leaves
    the lexical ranking."""
    lexical = await search.retrieve(db, user_id, query, document_ids, k=2 * k)
    if not configured(settings) or not document_ids or not query.strip():
        return lexical[:k]
    try:
        (vector,) = await embed(settings, [settings.embeddings_query_prefix + query])
    except EmbeddingsUnavailable as exc:
        log.warning("embeddings unavailable, searching by words only: %s", exc)
        return lexical[:k]
    dense = await dense_retrieve(db, user_id, vector, document_ids, 2 * k)
    return combine(lexical, dense, k)
