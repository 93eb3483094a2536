"""Generation sessions over the API: validation, ownership of documents, updates, listing."""

from __future__ import annotations

from tests.blogs.helpers import new_session, ready_documents
from tests.conftest import make_user
from tests.documents.helpers import fixture


async def test_session_validation(app, client, user):
    (doc_id,) = await ready_documents(user, fixture("kelp-notes.md"))
    eve = await make_user(client, "eve@example.com")
    foreign = await eve.post(
        "/api/v1/sessions", json={"topic": "ocr engines", "document_ids": [doc_id]}
    )
    assert foreign.status_code == 422 and foreign.json()["code"] == "unknown_documents"
    missing = await user.post(
        "/api/v1/sessions", json={"topic": "ocr engines", "document_ids": ["nope"]}
    )
    assert missing.status_code == 422
    empty = await user.post("/api/v1/sessions", json={"topic": "ocr engines", "document_ids": []})
    assert empty.status_code == 422
    bad_length = await user.post(
        "/api/v1/sessions", json={"topic": "ocr", "document_ids": [doc_id], "length": "epic"}
    )
    assert bad_length.status_code == 422
    llm = await user.post(
        "/api/v1/sessions", json={"topic": "ocr engines", "document_ids": [doc_id], "engine": "llm"}
    )
    assert llm.status_code == 422 and llm.json()["code"] == "llm_not_configured"
    session = await new_session(
        user, [doc_id, doc_id], audience="engineers", tone="friendly", length="short", language="en"
    )
    assert session["document_ids"] == [doc_id] and session["engine"] == "extractive"
    assert {
        "id",
        "title",
        "topic",
        "document_ids",
        "audience",
        "tone",
        "length",
        "instructions",
        "created_at",
    } <= set(session)
    patched = await user.request(
        "PATCH", f"/api/v1/sessions/{session['id']}", json={"tone": "formal", "topic": None}
    )
    assert patched.status_code == 422
    patched = await user.request(
        "PATCH", f"/api/v1/sessions/{session['id']}", json={"tone": "formal"}
    )
    assert patched.status_code == 200 and patched.json()["tone"] == "formal"
    listed = (await user.get("/api/v1/sessions")).json()
    assert [s["id"] for s in listed["items"]] == [session["id"]]


async def test_patch_refuses_null_for_required_fields(app, client, user):
    """Optional in a PATCH, never null: each is a 422 naming the field, never a 500."""
    (doc_id,) = await ready_documents(user, fixture("kelp-notes.md"))
    session = await user.post("/api/v1/sessions", json={"topic": "kelp", "document_ids": [doc_id]})
    url = f"/api/v1/sessions/{session.json()['id']}"
    for field in ("topic", "document_ids", "length"):
        answer = await user.request("PATCH", url, json={field: None, "engine": None})
        assert answer.status_code == 422, (field, answer.text)
        assert field in answer.text
    assert (await user.request("PATCH", url, json={"document_ids": []})).status_code == 422
    assert (await user.get(url)).json()["document_ids"] == [doc_id]
