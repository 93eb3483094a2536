"""The documents API over real files: upload, processing, content, download, delete."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.conftest import make_user
from tests.documents.helpers import fixture, upload, wait_done
from tests.fixtures.make import PDF_ONLY_WORD, REPORT_PAGES


def stored_files(app) -> list[str]:
    root = app.state.settings.upload_dir
    return (
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def temporaries(app) -> list[str]:
    root = app.state.settings.data_dir / "tmp"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


async def test_upload_process_and_read_back(app, user):
    pdf, md = fixture("report.pdf"), fixture("tide-pools.md")
    body = await upload(user, pdf, md)
    docs = body["documents"]
    assert [d["filename"] for d in docs] == ["report.pdf", "tide-pools.md"]
    assert docs[0]["status"] in ("queued", "processing", "ready")
    assert docs[0]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert docs[0]["size_bytes"] == pdf.stat().st_size
    assert (
        docs[0]["content_type"] == "application/pdf" and docs[1]["content_type"] == "text/markdown"
    )

    ready = await wait_done(user, docs[0]["id"])
    assert ready["status"] == "ready", ready
    assert (
        ready["page_count"] == REPORT_PAGES
        and ready["word_count"] > 3000
        and ready["chunk_count"] > 5
    )
    assert ready["processed_at"] is not None
    assert docs[0]["source_date"] is None  # known once processed
    assert ready["source_date"] == "2024-01-02"  # the PDF's CreationDate (tests/fixtures/make.py)

    content = (await user.get(f"/api/v1/documents/{docs[0]['id']}/content")).json()
    assert content["document_id"] == docs[0]["id"]
    assert PDF_ONLY_WORD in content["markdown"]
    assert {s["page"] for s in content["sections"]} == set(range(1, REPORT_PAGES + 1))
    assert all(s["text"] in content["markdown"] for s in content["sections"])

    download = await user.get(f"/api/v1/documents/{docs[0]['id']}/download")
    assert download.status_code == 200 and download.content == pdf.read_bytes()
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"

    assert (await wait_done(user, docs[1]["id"]))["status"] == "ready"
    later_note = ("later.md", b"# Later\n\nA note written afterwards.")
    later = (await upload(user, later_note))["documents"][0]  # a second request: strictly newer
    items = (await user.get("/api/v1/documents")).json()["items"]
    listed = [d["id"] for d in items]
    assert {d["id"]: d["source_date"] for d in items}[docs[0]["id"]] == "2024-01-02"
    assert listed[0] == later["id"] and set(listed[1:]) == {docs[0]["id"], docs[1]["id"]}


async def test_type_is_decided_by_content_not_name(app, user):
    md = fixture("tide-pools.md").read_bytes()
    body = await upload(user, ("looks-like.pdf", md))
    assert body["documents"][0]["content_type"] == "text/markdown"
    bad = await user.post(
        "/api/v1/documents/upload",
        files=[("files", ("report.pdf", os.urandom(4096), "application/pdf"))],
    )
    assert bad.status_code == 415 and bad.json()["code"] == "unsupported_type"
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 4000
    exe = await user.post(
        "/api/v1/documents/upload", files=[("files", ("notes.txt", elf, "text/plain"))]
    )
    assert exe.status_code == 415


async def test_empty_file_is_422_and_leaves_nothing(app, user):
    response = await user.post(
        "/api/v1/documents/upload", files=[("files", ("empty.pdf", b"", "application/pdf"))]
    )
    assert response.status_code == 422 and response.json()["code"] == "empty_file"
    assert stored_files(app) == [] and temporaries(app) == []
    assert (await user.get("/api/v1/documents")).json()["items"] == []


async def test_a_bad_file_rejects_the_whole_batch(app, user):
    response = await user.post(
        "/api/v1/documents/upload",
        files=[
            ("files", ("good.md", b"# Title\n\nSome text here.", "text/markdown")),
            ("files", ("bad.bin", os.urandom(2048), "x/y")),
        ],
    )
    assert response.status_code == 415
    assert "bad.bin" in response.json()["detail"]
    assert stored_files(app) == [] and temporaries(app) == []


@pytest.fixture
def settings_overrides():
    return {"max_upload_mb": 1}


async def test_over_limit_upload_is_413_and_leaves_nothing(app, user):
    big = b"word " * (300 * 1024)  # 1.5 MB of text
    response = await user.post(
        "/api/v1/documents/upload", files=[("files", ("big.txt", big, "text/plain"))]
    )
    assert response.status_code == 413 and response.json()["code"] == "file_too_large"
    assert stored_files(app) == [] and temporaries(app) == []
    assert (await user.get("/api/v1/documents")).json()["items"] == []


async def test_hostile_filename_is_only_metadata(app, user):
    body = await upload(user, ("../../x\r\n.pdf", b"# Heading\n\nplain words"))
    document = body["documents"][0]
    assert "/" not in document["filename"] and ".." not in document["filename"]
    assert "\r" not in document["filename"] and "\n" not in document["filename"]
    assert document["filename"].startswith("x") and document["filename"].endswith(".pdf")
    assert stored_files(app) == [
        f"{(await user.get('/api/v1/auth/me')).json()['id']}/{document['id']}"
    ]
    download = await user.get(f"/api/v1/documents/{document['id']}/download")
    assert (
        "\r" not in download.headers["content-disposition"]
        and "\n" not in download.headers["content-disposition"]
    )
    # a raw header value with a backslash path and control characters (as some clients send)
    boundary = "b0undary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        'filename="..\\..\\evil\x07\tname.md"\r\n'
        f"Content-Type: text/plain\r\n\r\n# T\n\nsome words\r\n--{boundary}--\r\n"
    ).encode()
    response = await user.post(
        "/api/v1/documents/upload",
        content=raw,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["documents"][0]["filename"] == "evilname.md"


async def test_unicode_filename_download_uses_rfc6266(app, user):
    body = await upload(user, ("Über résumé.md", b"# R\n\nwords and more words"))
    download = await user.get(f"/api/v1/documents/{body['documents'][0]['id']}/download")
    assert (
        "filename*=utf-8''%C3%9Cber%20r%C3%A9sum%C3%A9.md"
        in download.headers["content-disposition"]
    )


async def test_zip_bomb_disguised_as_docx(app, user):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(
            "word/document.xml", b"<w:document>" + b"A" * (300 * 1024 * 1024) + b"</w:document>"
        )
    response = await user.post(
        "/api/v1/documents/upload",
        files=[
            (
                "files",
                (
                    "cv.docx",
                    buffer.getvalue(),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ),
            )
        ],
    )
    assert response.status_code == 415, response.text
    assert stored_files(app) == []


async def test_other_users_documents_are_404_everywhere(app, client, user):
    body = await upload(user, ("mine.md", b"# Mine\n\nprivate words"))
    doc_id = body["documents"][0]["id"]
    await wait_done(user, doc_id)
    eve = await make_user(client, "eve@example.com")
    for method, path in [
        ("GET", f"/api/v1/documents/{doc_id}"),
        ("GET", f"/api/v1/documents/{doc_id}/content"),
        ("GET", f"/api/v1/documents/{doc_id}/download"),
        ("POST", f"/api/v1/documents/{doc_id}/reprocess"),
        ("DELETE", f"/api/v1/documents/{doc_id}"),
    ]:
        response = await eve.request(method, path)
        assert response.status_code == 404, (method, path, response.text)
        assert "private" not in response.text
    assert (await eve.get("/api/v1/documents")).json()["items"] == []
    assert (await eve.get("/api/v1/documents", params={"q": "private"})).json()["items"] == []
    assert (await user.get(f"/api/v1/documents/{doc_id}")).status_code == 200


async def test_delete_removes_file_chunks_and_index(app, user):
    body = await upload(user, fixture("tide-pools.md"))
    doc_id = body["documents"][0]["id"]
    await wait_done(user, doc_id)
    assert (await user.get("/api/v1/documents", params={"q": "barnacle"})).json()["items"]
    assert (await user.request("DELETE", f"/api/v1/documents/{doc_id}")).status_code == 204
    assert stored_files(app) == []
    assert (await user.get(f"/api/v1/documents/{doc_id}")).status_code == 404
    assert (await user.get("/api/v1/documents", params={"q": "barnacle"})).json()["items"] == []
    from sqlalchemy import text

    async with app.state.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM chunks"))).scalar() == 0


async def test_reprocess_is_idempotent(app, user):
    body = await upload(user, fixture("kelp-notes.md"))
    doc_id = body["documents"][0]["id"]
    first = await wait_done(user, doc_id)
    before = await chunk_rows(app, doc_id)
    response = await user.post(f"/api/v1/documents/{doc_id}/reprocess")
    assert response.status_code == 202
    second = await wait_done(user, doc_id)
    assert second["chunk_count"] == first["chunk_count"]
    assert await chunk_rows(app, doc_id) == before


async def chunk_rows(app, doc_id):
    from sqlalchemy import text

    async with app.state.engine.connect() as connection:
        rows = await connection.execute(
            text(
                'SELECT ordinal, text, page, start, "end" FROM chunks WHERE document_id = :d '
                "ORDER BY ordinal"
            ),
            {"d": doc_id},
        )
        return [tuple(r) for r in rows]


async def test_failed_documents_say_why(app, user):
    body = await upload(user, fixture("encrypted.pdf"), fixture("scanned.pdf"))
    locked = await wait_done(user, body["documents"][0]["id"])
    scanned = await wait_done(user, body["documents"][1]["id"])
    assert locked["status"] == "failed" and "password" in locked["error"].lower()
    assert scanned["status"] == "failed" and "no extractable text" in scanned["error"].lower()
    content = await user.get(f"/api/v1/documents/{locked['id']}/content")
    assert content.status_code == 409


async def test_list_filters_and_cursor(app, user):
    ids = []
    for i in range(5):
        body = await upload(user, (f"n{i}.md", f"# Note {i}\n\nalpha beta gamma {i}".encode()))
        ids.append(body["documents"][0]["id"])
    for doc_id in ids:
        await wait_done(user, doc_id)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await user.get("/api/v1/documents", params=params)).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert seen == list(reversed(ids))
    assert (
        len((await user.get("/api/v1/documents", params={"status": "ready"})).json()["items"]) == 5
    )
    assert (await user.get("/api/v1/documents", params={"status": "failed"})).json()["items"] == []
    assert (await user.get("/api/v1/documents", params={"status": "bogus"})).status_code == 422
    assert (await user.get("/api/v1/documents", params={"cursor": "!!!"})).status_code == 422
    assert (await user.get("/api/v1/documents", params={"limit": 0})).status_code == 422


async def test_search_ranks_documents(app, user):
    a = await upload(user, ("a.md", b"# Owls\n\nThe barn owl hunts at night. Owls owls owls."))
    b = await upload(user, ("b.md", b"# Birds\n\nAn owl is a bird. Sparrows are birds too."))
    c = await upload(user, ("c.md", b"# Fish\n\nSalmon swim upstream."))
    for body in (a, b, c):
        await wait_done(user, body["documents"][0]["id"])
    hits = (await user.get("/api/v1/documents", params={"q": "owls"})).json()["items"]
    assert [d["filename"] for d in hits] == ["a.md", "b.md"]  # stemmed: "owl" matches too
    hits = (await user.get("/api/v1/documents", params={"q": "owl"})).json()["items"]
    assert [d["filename"] for d in hits] == ["b.md"] or "b.md" in [d["filename"] for d in hits]
    assert (await user.get("/api/v1/documents", params={"q": "\"' OR 1=1 --"})).status_code == 200


async def test_text_with_nul_characters_is_refused_clearly(app, user):
    text = "# Notes\n\nFirst line of the notes.\u0000 Second sentence of the notes here.\n" * 20
    response = await user.post(
        "/api/v1/documents/upload", files=[("files", ("notes.txt", text.encode("utf-16")))]
    )
    assert response.status_code == 415 and "binary" in response.json()["detail"]


async def test_a_full_disk_is_the_servers_problem_not_a_bad_request(app, user, monkeypatch):
    import builtins

    real_open = builtins.open

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            self.handle.close()

    monkeypatch.setattr(
        "draftsmith.documents.upload.os.fdopen", lambda fd, mode: FullDisk(real_open(fd, mode))
    )
    response = await user.post(
        "/api/v1/documents/upload", files=[("files", ("a.md", b"# A\n\nwords"))]
    )
    assert response.status_code == 507 and response.json()["code"] == "storage_unavailable"
    assert temporaries(app) == [] and (await user.get("/api/v1/documents")).json()["items"] == []
