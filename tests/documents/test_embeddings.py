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
