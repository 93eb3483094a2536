"""Every corpus file through the API ends ready or failed with a sentence a person understands."""

from __future__ import annotations

import asyncio

from tests.conftest import CORPUS
from tests.documents.helpers import wait_done

EXPECTED_FAILURES = {
    "pdf/plumb_password-example.pdf": "password",
    "pdf/pypdf_crazyones-encrypted-256.pdf": "password",
    "pdf/sf_libreoffice-writer-password.pdf": "password",
    "pdf/dl_ocr_test.pdf": "no extractable text",
    "pdf/un_loremipsum-flat.pdf": "no extractable text",
    "pdf/dl_nemotron_multipage.pdf": "no extractable text",
    "pdf/pm_pdf-with-jbig2.pdf": "no extractable text",
    "pdf/sf_imagemagick-CCITTFaxDecode.pdf": "no extractable text",
    "docx/pydocx_having-images.docx": "no text",
}


async def test_whole_corpus_through_the_api(app, user):
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in {".pdf", ".docx", ".html", ".md"})
    assert len(files) >= 50
    uploaded = {}
    for path in files:
        relative = str(path.relative_to(CORPUS))
        response = await user.post("/api/v1/documents/upload", files=[("files", (path.name, path.read_bytes()))])
        if path.stat().st_size == 0:
            assert response.status_code == 422 and response.json()["code"] == "empty_file"
            continue
        assert response.status_code == 202, (relative, response.text)
        uploaded[relative] = response.json()["documents"][0]["id"]
    results = dict(zip(uploaded, await asyncio.gather(*(wait_done(user, i, timeout=300) for i in uploaded.values())), strict=True))
    for relative, document in results.items():
        if relative in EXPECTED_FAILURES:
            assert document["status"] == "failed", relative
            assert EXPECTED_FAILURES[relative] in document["error"].lower(), (relative, document["error"])
            assert document["error"].endswith("."), document["error"]
        else:
            assert document["status"] == "ready", (relative, document["error"])
            assert document["chunk_count"] >= 1 and document["word_count"] >= 1, relative
    assert results["pdf/un_DA-619p.pdf"]["page_count"] == 619
    assert results["docx/dl_docx_rich_tables_01.docx"]["word_count"] >= 1400
    # the server is still healthy afterwards
    assert (await user.get("/readyz")).status_code == 200
