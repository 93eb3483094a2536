"""A failed document says why in a stable `error_code`; the reasons that reading the same
bytes again cannot fix (encrypted, no text layer, no text) are told apart from the others,
so the documents page offers "Reprocess" only where it can help."""

from __future__ import annotations

from tests.documents.helpers import fixture, upload, wait_done

CASES = {
    "encrypted.pdf": "encrypted",
    "scanned.pdf": "no_text_layer",
    "pictures-only.docx": "no_text",
    "truncated.pdf": "extraction_failed",
}


async def test_a_failure_carries_its_reason(app, user):
    body = await upload(user, *(fixture(name) for name in CASES))
    for document in body["documents"]:
        done = await wait_done(user, document["id"])
        assert done["status"] == "failed", done
        assert done["error_code"] == CASES[done["filename"]], done
        assert done["error"]  # the sentence for a person, as before
    listed = (await user.get("/api/v1/documents", params={"status": "failed"})).json()["items"]
    assert {d["filename"]: d["error_code"] for d in listed} == CASES
    ready = await upload(user, fixture("tide-pools.md"))
    assert (await wait_done(user, ready["documents"][0]["id"]))["error_code"] is None
