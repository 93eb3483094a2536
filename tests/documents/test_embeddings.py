"""Optional dense retrieval: vectors from an OpenAI-compatible /embeddings endpoint (the
loopback fake, whose toy embedding is a hashed bag of 5-letter word prefixes) are stored
with the chunks at ingest and fused with BM25; the endpoint failing never fails a document."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from draftsmith.documents import embeddings
from draftsmith.documents.models import ChunkRow, Document
from tests.documents.helpers import upload, wait_done

RIVER = "# Rivers\n\nA river carries silt to the delta. Old photographs show the floods."
OWLS = "# Owls\n\nThe barn owl hunts voles at night. Owls fly silently over fields."


@pytest.fixture
def settings_overrides(openai_server):
    return {
        "embeddings_base_url": openai_server.base_url,
        "embeddings_api_key": "sk-embed",
        "embeddings_model": "toy-embedder",
        "llm_timeout_s": 5,
        "llm_max_attempts": 1,
    }


async def _ready(user, name: str, text: str) -> dict:
    doc_id = (await upload(user, (name, text.encode())))["documents"][0]["id"]
    document = await wait_done(user, doc_id)
    assert document["status"] == "ready"
    return document


async def _uid(user) -> str:
    return (await user.get("/api/v1/auth/me")).json()["id"]


async def test_vectors_are_stored_at_ingest_and_fused_with_bm25(app, user, openai_server):
    river = (await _ready(user, "rivers.md", RIVER))["id"]
    owls = (await _ready(user, "owls.md", OWLS))["id"]
    requests = [r for r in openai_server.requests if r.path.endswith("/embeddings")]
    assert requests and requests[0].body["model"] == "toy-embedder"
    assert requests[0].headers["authorization"] == "Bearer sk-embed"
    async with app.state.db() as db:
        blobs = (await db.scalars(select(ChunkRow.embedding))).all()
        assert blobs and all(len(embeddings.unpack(b)) == 64 for b in blobs)
        uid = await _uid(user)
        # "photons" shares no stem with the river text (BM25 finds nothing), but its
        # 5-letter prefix "photo" is the toy embedding's word for "photographs"
        assert not await embeddings.search.retrieve(db, uid, "photons", [river, owls])
        hits = await embeddings.hybrid_retrieve(
            db, app.state.settings, uid, "photons", [river, owls], k=1
        )
        assert [h.document_id for h in hits] == [river]
        both = await embeddings.hybrid_retrieve(
            db, app.state.settings, uid, "owl hunts", [river, owls], k=2
        )
        assert both[0].document_id == owls and both[0].score > 0


async def test_a_failing_endpoint_leaves_the_document_searchable_by_words(app, user, openai_server):
    openai_server.embeddings_status = 500
    document = await _ready(user, "owls.md", OWLS)
    async with app.state.db() as db:
        stored = await db.get(Document, document["id"])
        assert embeddings.UNAVAILABLE in (stored.warnings or [])
        assert (await db.scalars(select(ChunkRow.embedding))).all() == [None]
        hits = await embeddings.hybrid_retrieve(
            db, app.state.settings, await _uid(user), "owl", [document["id"]], k=3
        )
    assert hits and hits[0].document_id == document["id"]


async def test_a_draft_searches_by_meaning_when_embeddings_are_configured(app, user, openai_server):
    from tests.blogs.helpers import generate, new_session, ready_documents
    from tests.blogs.test_generation_api import SOURCES, TOPIC, wait_blog

    doc_ids = await ready_documents(user, *SOURCES)
    ingest_calls = len([r for r in openai_server.requests if r.path.endswith("/embeddings")])
    session = await new_session(user, doc_ids, topic=TOPIC, length="short", engine="extractive")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready" and blog["citations"]
    queries = [r for r in openai_server.requests if r.path.endswith("/embeddings")][ingest_calls:]
    assert queries and any(TOPIC in str(r.body["input"]) for r in queries)


LONG = " ".join(
    f"Sentence {n} of the long section says something about topic {n}." for n in range(40)
)


def test_a_chunk_is_embedded_in_overlapping_windows_of_whole_sentences():
    from draftsmith.text.words import word_count

    short = "A short chunk. Two sentences."
    assert embeddings.windows(short) == [short]
    parts = embeddings.windows(LONG, size=60, overlap=20)
    assert len(parts) > 1 and all(word_count(p) <= 60 for p in parts)
    assert all(p in LONG and p.startswith("Sentence") and p.endswith(".") for p in parts)
    assert parts[0].startswith("Sentence 0 ") and parts[-1].endswith("topic 39.")
    for before, after in zip(parts, parts[1:], strict=False):
        shared = after.split(" Sentence ")[0]  # the overlap: the last sentence before
        assert before.endswith(shared) and after != shared
    # a sentence longer than a window is cut into windows
    words = " ".join(f"w{n}" for n in range(150))
    assert [word_count(p) for p in embeddings.windows(words, size=60, overlap=20)] == [60, 60, 30]


def test_a_chunk_scores_by_its_nearest_window_and_other_dimensions_are_skipped():
    from array import array

    query = array("f", [1.0, 0.0])
    blob = embeddings.pack([0.0, 1.0], [3.0, 4.0], [1.0, 1.0])
    assert len(embeddings.unpack(blob)) == 6
    assert embeddings.best_window(query, blob) == pytest.approx(0.7071, abs=1e-4)
    assert embeddings.best_window(query, embeddings.pack([0.0, 1.0])) == pytest.approx(0.0)
    # a vector of another model: three dimensions, or four read as two of two
    assert embeddings.best_window(query, embeddings.pack([1.0, 0.0, 0.0])) is None
    assert embeddings.best_window(query, embeddings.pack([1.0, 1.0, 1.0, 1.0])) is None


async def test_prefixes_go_before_searches_and_texts(app, user, openai_server):
    settings = app.state.settings.model_copy(
        update={"embeddings_query_prefix": "query: ", "embeddings_document_prefix": "passage: "}
    )
    document = await _ready(user, "owls.md", OWLS)
    chunks = [("Owls", "Owls fly at night.", False), (None, "Contents", True)]
    blobs = await embeddings.embed_chunks(settings, chunks)
    assert blobs[0] and blobs[1] is None
    assert openai_server.requests[-1].body["input"] == ["passage: Owls\nOwls fly at night."]
    async with app.state.db() as db:
        await embeddings.hybrid_retrieve(db, settings, await _uid(user), "owl", [document["id"]])
    assert openai_server.requests[-1].body["input"] == ["query: owl"]


def test_hybrid_hits_are_ranked_by_both_scores_scaled_and_summed():
    from draftsmith.documents.search import SearchHit

    def hit(chunk_id: int, score: float) -> SearchHit:
        return SearchHit(chunk_id, "d", chunk_id, "text", None, None, 0, 4, score)

    lexical = [hit(1, 9.0), hit(2, 5.0), hit(3, 1.0)]  # scaled 1, 0.5, 0
    dense = [hit(4, 0.9), hit(2, 0.8), hit(1, 0.5)]  # scaled 1, 0.75, 0
    # 2: 0.5 x 0.5 + 0.5 x 0.75; 4: 0.5 x 1 (meaning only); 1: 0.5 x 1; 3: 0
    assert [h.chunk_id for h in embeddings.combine(lexical, dense, 4)] == [2, 1, 4, 3]
    assert [h.score for h in embeddings.combine(lexical, dense, 4)] == [5.0, 9.0, 1.0, 1.0]
    assert [h.chunk_id for h in embeddings.combine(lexical, dense, 2, share=1.0)] == [4, 2]
    assert [h.chunk_id for h in embeddings.combine(lexical, [], 2)] == [1, 2]
    assert [h.chunk_id for h in embeddings.combine([], dense[:1], 2)] == [4]
