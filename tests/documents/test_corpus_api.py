"""Every corpus file through the API ends ready or failed with a sentence a person understands."""

from __future__ import annotations

import asyncio

import pytest

from tests.corpus import CORPUS
from tests.documents.helpers import wait_done
from tests.documents.test_extract_corpus import EXPECTED_FAILURES as EXTRACTION_FAILURES

# The extraction tests' expectations; the empty file never gets past the upload (422).
EXPECTED_FAILURES = {k: v for k, v in EXTRACTION_FAILURES.items() if k != "pdf/plumb_empty.pdf"}

pytestmark = pytest.mark.corpus


async def test_whole_corpus_through_the_api(app, user):
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in {".pdf", ".docx", ".html", ".md"})
    assert len(files) >= 50
    uploaded = {}
    for path in files:
        relative = str(path.relative_to(CORPUS))
        response = await user.post(
            "/api/v1/documents/upload", files=[("files", (path.name, path.read_bytes()))]
        )
        if path.stat().st_size == 0:
            assert response.status_code == 422 and response.json()["code"] == "empty_file"
            continue
        assert response.status_code == 202, (relative, response.text)
        uploaded[relative] = response.json()["documents"][0]["id"]
    results = dict(
        zip(
            uploaded,
            await asyncio.gather(*(wait_done(user, i, timeout=300) for i in uploaded.values())),
            strict=True,
        )
    )
    for relative, document in results.items():
        if relative in EXPECTED_FAILURES:
            assert document["status"] == "failed", relative
            assert EXPECTED_FAILURES[relative] in document["error"].lower(), (
                relative,
                document["error"],
            )
            assert document["error"].endswith("."), document["error"]
        else:
            assert document["status"] == "ready", (relative, document["error"])
            assert document["chunk_count"] >= 1 and document["word_count"] >= 1, relative
    assert results["pdf/un_DA-619p.pdf"]["page_count"] == 619
    assert results["docx/dl_docx_rich_tables_01.docx"]["word_count"] >= 1400
    # the server is still healthy afterwards
    assert (await user.get("/readyz")).status_code == 200
