"""Searching the documents list: documents ranked in the database by their best passage,
every query word required, pages of the ranking, a status filter."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from draftsmith.documents import search as search_module
from tests.documents.helpers import upload, wait_done


def _doc(title: str, sentence: str, times: int) -> bytes:
    filler = "The committee met again and wrote the minutes down."
    body = " ".join([sentence] * times + [filler] * (12 - times))
    return f"# {title}\n\n{body}\n".encode()


async def test_documents_are_ranked_by_their_best_passage_and_paged(app, user):
    strong = _doc("Lighthouse lenses", "The lighthouse lens bends the lamp light.", 10)
    weak = _doc("Harbour notes", "A lighthouse stood near the harbour lens shop.", 1)
    other = _doc("Kelp", "Giant kelp grows quickly in cold water.", 6)
    body = await upload(user, ("strong.md", strong), ("weak.md", weak), ("other.md", other))
    ids = {d["filename"]: d["id"] for d in body["documents"]}
    for doc_id in ids.values():
        await wait_done(user, doc_id)

    async def search(**params):
        response = await user.get("/api/v1/documents", params=params)
        assert response.status_code == 200, response.text
        return response.json()

    found = await search(q="lighthouse lens")
    assert [d["filename"] for d in found["items"]] == ["strong.md", "weak.md"]
    assert (await search(q="lighthouse kelp"))["items"] == []  # every word must occur
    first = await search(q="lighthouse lens", limit=1)
    assert [d["filename"] for d in first["items"]] == ["strong.md"] and first["next_cursor"]
    second = await search(q="lighthouse lens", limit=1, cursor=first["next_cursor"])
    assert [d["filename"] for d in second["items"]] == ["weak.md"]
    assert second["next_cursor"] is None
    assert [d["filename"] for d in (await search(q="lens", status="ready"))["items"]] == [
        "strong.md",
        "weak.md",
    ]
    assert (await search(q="lens", status="failed"))["items"] == []


async def test_sqlite_ranks_from_the_full_text_index_not_from_every_chunk(app, user):
    """The plan walks the full-text matches and looks each chunk up by its key (walking the
    user's chunks and asking the index about each made search 20x slower)."""
    if not app.state.settings.is_sqlite:
        pytest.skip("a SQLite query plan")
    body = await upload(user, ("a.md", _doc("Lighthouse", "The lighthouse lens.", 3)))
    await wait_done(user, body["documents"][0]["id"])
    async with app.state.engine.connect() as connection:
        plan = [
            row[3]
            for row in await connection.execute(
                text("EXPLAIN QUERY PLAN " + search_module._SQLITE_RANK_DOCUMENTS),
                {"match": '"lighthouse"', "user_id": "u", "k": 10},
            )
        ]
    scans = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
    assert scans[0].startswith("SCAN chunks_fts"), plan
    assert "PRIMARY KEY" in scans[1], plan
