"""BM25 retrieval, on SQLite FTS5 and PostgreSQL tsvector alike."""

from __future__ import annotations

from draftsmith.documents import search
from tests.conftest import make_user
from tests.documents.helpers import upload, wait_done


async def _doc(user, name: str, text: str) -> str:
    doc_id = (await upload(user, (name, text.encode())))["documents"][0]["id"]
    assert (await wait_done(user, doc_id))["status"] == "ready"
    return doc_id


async def user_id(user) -> str:
    return (await user.get("/api/v1/auth/me")).json()["id"]


async def test_retrieve_ranks_and_restricts(app, client, user):
    owls = await _doc(
        user,
        "owls.md",
        "# Owls\n\nThe barn owl hunts voles at night. Owls fly silently over fields.",
    )
    rivers = await _doc(
        user,
        "rivers.md",
        "# Rivers\n\nA river carries silt to the delta. The owl nests near the river bank.",
    )
    await _doc(user, "fish.md", "# Fish\n\nSalmon swim upstream to spawn in the river.")
    eve = await make_user(client, "eve@example.com")
    await _doc(eve, "eve.md", "# Eve\n\nOwls owls owls, the owl of Eve.")
    uid = await user_id(user)
    async with app.state.db() as db:
        hits = await search.retrieve(db, uid, "owl hunts", None, k=5)
        assert [h.document_id for h in hits][:2] == [owls, rivers]
        assert all(h.score > 0 for h in hits) and hits[0].score >= hits[1].score
        only_rivers = await search.retrieve(db, uid, "owl", [rivers], k=5)
        assert {h.document_id for h in only_rivers} == {rivers}
        assert await search.retrieve(db, uid, "owl", [], k=5) == []
        assert await search.retrieve(db, uid, "   ", None, k=5) == []
        assert await search.retrieve(db, uid, '"owl" OR NEAR(x) -- ;', None, k=5)  # syntax is data
        hit = only_rivers[0]
        content = (await user.get(f"/api/v1/documents/{rivers}/content")).json()["markdown"]
        assert content[hit.start : hit.end] == hit.text
        eve_hits = await search.retrieve(db, await user_id(eve), "owl", None, k=5)
        assert eve_hits and {h.document_id for h in eve_hits}.isdisjoint({owls, rivers})
