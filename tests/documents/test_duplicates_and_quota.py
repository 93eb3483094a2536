"""Uploads: identical bytes are not stored twice; the storage quota and the hourly limit."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from draftsmith.db import utcnow
from draftsmith.documents.models import Document
from tests.conftest import make_user
from tests.documents.helpers import upload, wait_done

NOTE = ("note.md", b"# Kelp\n\nKelp forests grow fast in cold water.")


@pytest.fixture
def settings_overrides() -> dict:
    return {"storage_quota_mb": 1, "upload_hourly_limit": 5}


async def rows(app) -> int:
    async with app.state.db() as db:
        return await db.scalar(select(func.count()).select_from(Document))


def stored_files(app) -> list:
    uploads, tmp = app.state.settings.upload_dir, app.state.settings.data_dir / "tmp"
    files = [p for p in uploads.rglob("*") if p.is_file()] if uploads.exists() else []
    return files + list(tmp.iterdir())


def big(name: str, kib: int) -> tuple[str, bytes]:
    return (name, f"# {name}\n\n".encode() + b"plain words of a long note\n" * (kib * 38))


async def test_the_same_bytes_answer_the_existing_document(app, user):
    (first,) = (await upload(user, NOTE))["documents"]
    assert first["duplicate"] is False
    await wait_done(user, first["id"])
    (again,) = (await upload(user, ("renamed.md", NOTE[1])))["documents"]
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert again["filename"] == "note.md" and again["status"] == "ready"
    listed = (await user.get("/api/v1/documents")).json()["items"]
    assert [d["id"] for d in listed] == [first["id"]] and listed[0]["duplicate"] is False
    assert await rows(app) == 1 and len(stored_files(app)) == 1  # no second file, no temporary


async def test_two_identical_files_in_one_upload(app, user):
    docs = (await upload(user, NOTE, ("copy.md", NOTE[1]), ("other.md", b"# Other")))["documents"]
    assert [d["duplicate"] for d in docs] == [False, True, False]
    assert docs[1]["id"] == docs[0]["id"] and docs[2]["id"] != docs[0]["id"]
    assert await rows(app) == 2 and len(stored_files(app)) == 2


async def test_other_users_documents_are_never_matched(app, client, user):
    (mine,) = (await upload(user, NOTE))["documents"]
    other = await make_user(client, "grace@example.com")
    (theirs,) = (await upload(other, NOTE))["documents"]
    assert theirs["duplicate"] is False and theirs["id"] != mine["id"]
    assert (await other.get(f"/api/v1/documents/{mine['id']}")).status_code == 404
    assert await rows(app) == 2


async def test_concurrent_uploads_of_the_same_bytes_store_one(app, user):
    answers = await asyncio.gather(*(upload(user, NOTE) for _ in range(6)))
    docs = [body["documents"][0] for body in answers]
    assert len({d["id"] for d in docs}) == 1
    assert sorted(d["duplicate"] for d in docs) == [False] + [True] * 5
    assert await rows(app) == 1 and len(stored_files(app)) == 1


async def test_storage_quota_stores_nothing_past_it(app, user):
    (kept,) = (await upload(user, big("a.md", 600)))["documents"]
    response = await user.post(
        "/api/v1/documents/upload",
        files=[("files", (n, data)) for n, data in (big("b.md", 300), big("c.md", 300))],
    )
    assert response.status_code == 413
    assert response.json()["code"] == "storage_quota" and "MB" in response.json()["detail"]
    assert await rows(app) == 1 and len(stored_files(app)) == 1
    # what is already stored costs nothing: the duplicate is still answered
    (again,) = (await upload(user, big("a.md", 600)))["documents"]
    assert again["id"] == kept["id"] and again["duplicate"] is True
    # deleting makes room
    assert (await user.request("DELETE", f"/api/v1/documents/{kept['id']}")).status_code == 204
    await upload(user, big("b.md", 300), big("c.md", 300))


async def test_uploads_per_hour(app, user):
    await upload(user, *[(f"{i}.md", f"# note {i}".encode()) for i in range(4)])
    refused = await user.post(
        "/api/v1/documents/upload",
        files=[("files", (f"x{i}.md", f"# more {i}".encode())) for i in range(2)],
    )
    assert refused.status_code == 429 and refused.json()["code"] == "upload_limit"
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600
    assert await rows(app) == 4
    await upload(user, ("fifth.md", b"# fifth"))  # exactly the limit
    # the oldest ages out in 30 s: that is the wait, even before the body is read
    async with app.state.db() as db:
        oldest = await db.scalar(select(func.min(Document.created_at)))
        await db.execute(
            update(Document)
            .where(Document.created_at == oldest)
            .values(created_at=utcnow() - timedelta(minutes=59, seconds=30))
        )
        await db.commit()
    refused = await user.post("/api/v1/documents/upload", files=[("files", ("y.md", b"# y"))])
    assert refused.status_code == 429 and 25 <= int(refused.headers["retry-after"]) <= 30
    assert await rows(app) == 5


async def test_the_new_statuses_are_documented(app, client):
    paths = (await client.get("/openapi.json")).json()["paths"]
    upload_responses = paths["/api/v1/documents/upload"]["post"]["responses"]
    assert "storage_quota" in upload_responses["413"]["description"]
    assert "Retry-After" in upload_responses["429"]["headers"]
    generate = paths["/api/v1/sessions/{session_id}/generate"]["post"]["responses"]
    assert "generation_limit" in generate["429"]["description"]
    assert "Retry-After" in generate["429"]["headers"]
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]["DocumentOut"]
    assert schema["properties"]["duplicate"]["type"] == "boolean"
