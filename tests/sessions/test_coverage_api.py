"""Coverage over the API (issue 9): POST /api/v1/coverage, a session's coverage, and the
extractive engine refusing to translate (422 language_unsupported)."""

from __future__ import annotations

import asyncio

from tests.blogs.helpers import new_session, ready_documents
from tests.conftest import make_user
from tests.documents.helpers import fixture, upload, wait_done

OFF_TOPIC = "Kubernetes pod networking explained"


async def test_coverage_answers_score_found_and_missing(app, client, user):
    doc_ids = await ready_documents(user, fixture("tide-pools.md"), fixture("lighthouses.md"))
    covered = await user.post(
        "/api/v1/coverage",
        json={"topic": "Tide pool animals and lighthouse keepers", "document_ids": doc_ids},
    )
    assert covered.status_code == 200, covered.text
    body = covered.json()
    assert set(body) == {"score", "found", "missing", "covered", "about"}
    assert body["covered"] and body["score"] >= 0.9 and body["missing"] == []
    assert {"tide", "pool", "lighthouse", "keepers"} <= set(body["found"])
    assert "Tide Pool Animals on Rocky Shores" in body["about"]

    off = (
        await user.post("/api/v1/coverage", json={"topic": OFF_TOPIC, "document_ids": doc_ids})
    ).json()
    assert not off["covered"] and off["score"] < 0.5
    assert {"kubernetes", "pod"} <= set(off["missing"]) and "explained" not in off["missing"]


async def test_coverage_errors(app, client, user):
    (doc_id,) = await ready_documents(user, fixture("kelp-notes.md"))
    eve = await make_user(client, "eve@example.com")
    for who, ids in ((eve, [doc_id]), (user, ["nope"]), (user, [doc_id, "nope"])):
        answer = await who.post("/api/v1/coverage", json={"topic": "kelp", "document_ids": ids})
        assert answer.status_code == 422 and answer.json()["code"] == "unknown_documents", ids
    for body in ({"topic": "k", "document_ids": [doc_id]}, {"topic": "kelp", "document_ids": []}):
        answer = await user.post("/api/v1/coverage", json=body)
        assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    failed = (await upload(user, fixture("encrypted.pdf")))["documents"][0]["id"]
    assert (await wait_done(user, failed))["status"] == "failed"
    answer = await user.post(
        "/api/v1/coverage", json={"topic": "kelp forests", "document_ids": [doc_id, failed]}
    )
    assert answer.status_code == 409 and answer.json()["code"] == "documents_not_ready"


async def test_a_session_carries_its_coverage_recomputed_when_the_brief_changes(app, user):
    doc_ids = await ready_documents(user, fixture("tide-pools.md"), fixture("kelp-notes.md"))
    session = await new_session(user, doc_ids[:1], topic="tide pool animals")
    assert session["allow_thin_sources"] is False
    assert session["coverage"]["covered"] and session["coverage"]["found"] == [
        "tide",
        "pool",
        "animals",
    ]
    url = f"/api/v1/sessions/{session['id']}"
    patched = (await user.request("PATCH", url, json={"topic": OFF_TOPIC})).json()
    assert not patched["coverage"]["covered"] and "kubernetes" in patched["coverage"]["missing"]
    patched = (
        await user.request(
            "PATCH", url, json={"topic": "sea otters in kelp forests", "document_ids": doc_ids[1:]}
        )
    ).json()
    assert patched["coverage"]["covered"] and "otters" in patched["coverage"]["found"]
    patched = (await user.request("PATCH", url, json={"allow_thin_sources": True})).json()
    assert patched["allow_thin_sources"] is True and patched["coverage"]["covered"]
    refused = await user.request("PATCH", url, json={"allow_thin_sources": None})
    assert refused.status_code == 422
    assert (await user.get(url)).json()["coverage"] == patched["coverage"]


async def test_a_session_on_documents_still_processing_measures_coverage_later(app, user):
    body = await upload(user, fixture("lighthouses.md"))
    doc_id = body["documents"][0]["id"]
    created = await new_session(user, [doc_id], topic="lighthouse keepers")
    await wait_done(user, doc_id)
    if created["coverage"] is None:  # the document was still queued: measured on the next read
        got = (await user.get(f"/api/v1/sessions/{created['id']}")).json()
        assert got["coverage"]["covered"]


async def test_the_extractive_engine_refuses_another_language_than_the_sources(app, user):
    english = await ready_documents(user, fixture("tide-pools.md"))
    for language in ("fr", "French", "français", "de-DE", "Klingon"):
        answer = await user.post(
            "/api/v1/sessions",
            json={"topic": "tide pool animals", "document_ids": english, "language": language},
        )
        assert answer.status_code == 422, (language, answer.text)
        assert answer.json()["code"] == "language_unsupported"
        assert "English" in answer.json()["detail"] and "LLM engine" in answer.json()["detail"]
    for language in ("en", "English", "en-US", "english (UK)", None):
        session = await new_session(user, english, topic="tide pool animals", language=language)
        assert session["language"] == language
    french = await ready_documents(user, fixture("notes-latin1.txt"))
    answer = await user.post(
        "/api/v1/sessions",
        json={"topic": "les espèces des cuvettes", "document_ids": french, "language": "English"},
    )
    assert answer.status_code == 422 and answer.json()["code"] == "language_unsupported"
    assert "French" in answer.json()["detail"]
    await new_session(user, french, topic="les espèces des cuvettes", language="fr")
    url = f"/api/v1/sessions/{session['id']}"
    patched = await user.request("PATCH", url, json={"language": "German"})
    assert patched.status_code == 422 and patched.json()["code"] == "language_unsupported"
    patched = await user.request("PATCH", url, json={"document_ids": french})
    assert patched.status_code == 200  # no language asked: written in the documents' own
    assert (await user.get(url)).json()["language"] is None


async def test_a_document_s_coverage_index_is_built_as_it_becomes_ready(app, user):
    """In-process jobs warm the API process's coverage cache: the first request on the
    generate page does not build a BM25 index."""
    from sqlalchemy import select

    from draftsmith.documents import coverage
    from draftsmith.documents.models import Document

    (doc_id,) = await ready_documents(user, fixture("tide-pools.md"))
    async with app.state.db() as db:
        document = (await db.scalars(select(Document).where(Document.id == doc_id))).one()
    # built just after the document turned ready (its job finishes meanwhile)
    for _ in range(100):
        index = coverage._cache.get((doc_id, document.processed_at))
        if index is not None:
            break
        await asyncio.sleep(0.1)
    assert index is not None and "pool" in " ".join(index.vocabulary)
