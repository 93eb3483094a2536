"""The author in the loop over the API: reviewing the outline before writing, and
rewriting one section of a ready draft without touching anything else."""

from __future__ import annotations

import re

from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.blogs.test_generation_api import wait_blog
from tests.conftest import make_user
from tests.documents.helpers import fixture

SOURCES = (fixture("tide-pools.md"), fixture("lighthouses.md"))
TOPIC = "tide pool animals and lighthouse keepers"


def sections_of(markdown: str) -> list[tuple[str, str]]:
    """(heading, text) of the body's `##` sections, Sources left out."""
    body = markdown.split("\n## Sources")[0]
    parts = re.split(r"(?m)^## (.+)$", body)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


async def planned_blog(user, **fields) -> tuple[dict, dict]:
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short", **fields)
    response = await user.post(
        f"/api/v1/sessions/{session['id']}/generate", json={"review_outline": True}
    )
    assert response.status_code == 202, response.text
    blog = await wait_blog(user, response.json()["blog_id"])
    return session, blog


async def test_outline_review_then_write_yields_exactly_the_edited_headings(app, user):
    session, blog = await planned_blog(user)
    assert blog["status"] == "outline_ready" and blog["revision"] == 0, blog
    proposed = blog["outline"]
    assert proposed["title"] and len(proposed["sections"]) >= 2
    assert all(s["heading"] and s["query"] for s in proposed["sections"])
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "done" and events[-1]["data"]["status"] == "outline_ready"

    # rename one, reorder, add one, drop none of the points of the other
    first, second = proposed["sections"][:2]
    edited = [
        {"heading": second["heading"], "points": second["points"]},
        {"heading": "Lamps, lenses and fog signals", "points": ["fog horn", "Fresnel lens"]},
        {"heading": "Animals of the pools", "points": first["points"][:1]},
    ]
    put = await user.request(
        "PUT",
        f"/api/v1/blogs/{blog['id']}/outline",
        json={"title": "Pools and Lights", "sections": edited},
    )
    assert put.status_code == 200, put.text
    stored = put.json()
    assert stored["status"] == "outline_ready" and stored["title"] == "Pools and Lights"
    assert [s["heading"] for s in stored["outline"]["sections"]] == [e["heading"] for e in edited]
    assert stored["outline"]["sections"][1]["points"] == ["fog horn", "Fresnel lens"]
    assert TOPIC in stored["outline"]["sections"][1]["query"]
    # stored: reading the blog again shows the edited outline
    again = (await user.get(f"/api/v1/blogs/{blog['id']}")).json()
    assert again["outline"] == stored["outline"]

    write = await user.post(f"/api/v1/blogs/{blog['id']}/write")
    assert write.status_code == 202 and write.json() == {"blog_id": blog["id"], "status": "queued"}
    done = await wait_blog(user, blog["id"])
    assert done["status"] == "ready", done
    headings = [h for h, _ in sections_of(done["markdown"])]
    assert headings[:-1] == [e["heading"] for e in edited] and headings[-1] == "Conclusion"
    assert done["markdown"].startswith("# Pools and Lights\n")
    assert done["title"] == "Pools and Lights" and done["revision"] == 1
    assert [s["heading"] for s in done["outline"]["sections"]] == [e["heading"] for e in edited]
    # each section drew on its own heading: the lamps section quotes the lighthouse document
    lamps = dict(sections_of(done["markdown"]))["Lamps, lenses and fog signals"]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", lamps)}
    names = {c["n"]: c["document_name"] for c in done["citations"]}
    assert cited and {names[n] for n in cited} == {"lighthouses.md"}, done["markdown"]

    # once written, the outline is no longer awaiting review
    late = await user.request(
        "PUT", f"/api/v1/blogs/{blog['id']}/outline", json={"sections": edited}
    )
    assert late.status_code == 409 and late.json()["code"] == "not_awaiting_outline"
    again = await user.post(f"/api/v1/blogs/{blog['id']}/write")
    assert again.status_code == 409 and again.json()["code"] == "not_awaiting_outline"


async def test_outline_edits_are_validated_and_owned(app, user):
    _, blog = await planned_blog(user)
    url = f"/api/v1/blogs/{blog['id']}/outline"
    blank = ("  ", "\f", " \t\n", "\x1c")  # \x1c: blank to Python, not to Unicode
    bad_bodies = [{"sections": []}, {"title": "x"}]
    bad_bodies += [{"sections": [{"heading": "Fine"}, {"heading": h}]} for h in blank]
    for bad in bad_bodies:
        response = await user.request("PUT", url, json=bad)
        assert response.status_code == 422, (bad, response.text)
    # the schema says so too: a heading needs a character that is not a space
    schema = (await user.client.get("/openapi.json")).json()["components"]["schemas"]
    assert schema["OutlineSectionIn"]["properties"]["heading"]["pattern"] == r"\S"
    other = await make_user(user.client, "grace@example.com")
    response = await other.request("PUT", url, json={"sections": [{"heading": "Mine"}]})
    assert response.status_code == 404
    assert (await other.post(f"/api/v1/blogs/{blog['id']}/write")).status_code == 404


async def test_a_generation_without_review_is_not_awaiting_its_outline(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready"
    assert [s["heading"] for s in blog["outline"]["sections"]] == [
        h for h, _ in sections_of(blog["markdown"])
    ][:-1]
    response = await user.request(
        "PUT", f"/api/v1/blogs/{blog['id']}/outline", json={"sections": [{"heading": "New"}]}
    )
    assert response.status_code == 409 and response.json()["code"] == "not_awaiting_outline"


async def ready_blog(user) -> tuple[dict, dict]:
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready", blog
    return session, blog


async def wait_rewrite(user, session_id: str, rewrite_id: str) -> dict:
    """The rewrite's last event (the stream ends once it has finished)."""
    events = [
        e
        for e in await read_events(user, session_id)
        if e["type"] == "rewrite" and e["data"]["rewrite_id"] == rewrite_id
    ]
    assert events and events[-1]["data"]["state"] != "running", events
    return events[-1]["data"]


async def test_rewriting_a_section_changes_only_that_section(app, user):
    session, blog = await ready_blog(user)
    before = blog["markdown"]
    parts = sections_of(before)
    index = 1  # the second body section
    response = await user.post(
        f"/api/v1/blogs/{blog['id']}/sections/{index}/regenerate",
        json={"revision": blog["revision"], "instructions": "more about the animals"},
    )
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["section"] == index and started["status"] == "queued"
    last = await wait_rewrite(user, session["id"], started["rewrite_id"])
    assert last["state"] == "done" and last["revision"] == 2, last
    events = await read_events(user, session["id"])
    progress = [e["data"] for e in events if e["type"] == "rewrite"]
    assert all(p["section"] == index for p in progress)
    assert any(p.get("heading") == parts[index][0] for p in progress)

    after = (await user.get(f"/api/v1/blogs/{blog['id']}")).json()
    assert after["revision"] == 2 and after["title"] == blog["title"]
    old_body, old_sources = before.split("\n## Sources\n")
    new_body, new_sources = after["markdown"].split("\n## Sources\n")
    # every byte but the section's text is the same
    old_text, new_text = parts[index][1].strip(), sections_of(after["markdown"])[index][1].strip()
    assert old_text != new_text
    head, tail = old_body.split(old_text)
    assert new_body == head + new_text + tail
    # existing Sources entries unchanged; new numbers appended after them
    assert new_sources.startswith(old_sources.rstrip("\n"))
    old_numbers = {c["n"] for c in blog["citations"]}
    assert after["citations"][: len(blog["citations"])] == blog["citations"]
    added = after["citations"][len(blog["citations"]) :]
    assert [c["n"] for c in added] == list(
        range(max(old_numbers) + 1, max(old_numbers) + 1 + len(added))
    )
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", new_text)}
    assert cited <= {c["n"] for c in after["citations"]}
    for c in added:
        assert f"- [{c['n']}] {c['document_name']}" in new_sources
    # the new text quotes nothing the rest of the draft quotes
    elsewhere = {int(n) for n in re.findall(r"\[(\d+)\]", head + tail)}
    chunks_elsewhere = {c["chunk_id"] for c in blog["citations"] if c["n"] in elsewhere}
    chunk_of = {c["n"]: c["chunk_id"] for c in after["citations"]}
    assert not {chunk_of[n] for n in cited} & chunks_elsewhere
    # grounding recomputed for the new text; a revision that undoing can go back to
    grounding = after["grounding"]
    assert grounding["checked"] > 0
    for flagged in grounding["flagged"]:  # offsets into the new markdown
        assert flagged["sentence"] in after["markdown"][flagged["start"] : flagged["end"] + 5]
    revisions = (await user.get(f"/api/v1/blogs/{blog['id']}/revisions")).json()["items"]
    assert [(r["revision"], r["source"]) for r in revisions][:2] == [
        (2, "rewrite"),
        (1, "generated"),
    ]
    first = (await user.get(f"/api/v1/blogs/{blog['id']}/revisions/1")).json()
    assert first["markdown"] == before


async def test_a_stale_revision_is_a_conflict(app, user):
    session, blog = await ready_blog(user)
    url = f"/api/v1/blogs/{blog['id']}/sections/0/regenerate"
    saved = await user.request(
        "PATCH", f"/api/v1/blogs/{blog['id']}", json={"revision": 1, "title": "Renamed"}
    )
    assert saved.status_code == 200
    stale = await user.post(url, json={"revision": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "revision_conflict"
    missing = await user.post(
        f"/api/v1/blogs/{blog['id']}/sections/40/regenerate", json={"revision": 2}
    )
    assert missing.status_code == 404
    other = await make_user(user.client, "grace@example.com")
    assert (await other.post(url, json={"revision": 2})).status_code == 404
    assert (await user.get(f"/api/v1/blogs/{blog['id']}")).json()["revision"] == 2


async def test_a_save_while_the_rewrite_runs_wins(app, user):
    """The rewrite checks the revision again when it saves: a save that came first stays."""
    from draftsmith.jobs import runner

    session, blog = await ready_blog(user)
    jobs = app.state.jobs
    submitted: list[str] = []
    original_submit = jobs.submit

    async def hold(kind: str, row_id: str) -> None:  # keep the rewrite queued for a moment
        if kind == "section_rewrite":
            submitted.append(row_id)
            return
        await original_submit(kind, row_id)

    jobs.submit = hold
    try:
        response = await user.post(
            f"/api/v1/blogs/{blog['id']}/sections/0/regenerate", json={"revision": 1}
        )
        assert response.status_code == 202
        saved = await user.request(
            "PATCH",
            f"/api/v1/blogs/{blog['id']}",
            json={"revision": 1, "markdown": blog["markdown"] + "\nMy note.\n"},
        )
        assert saved.status_code == 200
    finally:
        jobs.submit = original_submit
    await runner.run(app.state.jobs.context, "section_rewrite", submitted[0])
    last = await wait_rewrite(user, session["id"], submitted[0])
    assert last["state"] == "failed" and last["code"] == "revision_conflict", last
    after = (await user.get(f"/api/v1/blogs/{blog['id']}")).json()
    assert after["revision"] == 2 and after["markdown"].endswith("My note.\n")


async def test_one_rewrite_at_a_time_and_cancel_stops_it(app, user):
    session, blog = await ready_blog(user)
    jobs = app.state.jobs
    original_submit = jobs.submit

    async def hold(kind: str, row_id: str) -> None:  # the rewrite stays queued
        if kind != "section_rewrite":
            await original_submit(kind, row_id)

    jobs.submit = hold
    try:
        url = f"/api/v1/blogs/{blog['id']}/sections/0/regenerate"
        first = await user.post(url, json={"revision": 1})
        assert first.status_code == 202
        second = await user.post(url.replace("/0/", "/1/"), json={"revision": 1})
        assert second.status_code == 409 and second.json()["code"] == "rewrite_running"
        cancelled = await user.post(f"/api/v1/blogs/{blog['id']}/cancel")
        assert cancelled.status_code == 202 and cancelled.json()["status"] == "ready"
    finally:
        jobs.submit = original_submit
    last = await wait_rewrite(user, session["id"], first.json()["rewrite_id"])
    assert last["state"] == "cancelled"
    # nothing changed, and the blog can be rewritten again
    assert (await user.get(f"/api/v1/blogs/{blog['id']}")).json()["markdown"] == blog["markdown"]
    again = await user.post(url, json={"revision": 1})
    assert again.status_code == 202
    done = await wait_rewrite(user, session["id"], again.json()["rewrite_id"])
    assert done["state"] == "done"
    nothing = await user.post(f"/api/v1/blogs/{blog['id']}/cancel")
    assert nothing.status_code == 409 and nothing.json()["code"] == "not_running"


async def test_rewrites_count_against_the_concurrent_generation_limit(app, user):
    session, first = await ready_blog(user)  # the limit is 2 generations at once
    others = [await wait_blog(user, await generate(user, session["id"])) for _ in range(2)]
    jobs = app.state.jobs
    original_submit = jobs.submit

    async def hold(kind: str, row_id: str) -> None:  # rewrites stay queued
        if kind != "section_rewrite":
            await original_submit(kind, row_id)

    jobs.submit = hold
    try:
        answers = [
            await user.post(f"/api/v1/blogs/{b['id']}/sections/0/regenerate", json={"revision": 1})
            for b in (first, *others)
        ]
    finally:
        jobs.submit = original_submit
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["code"] == "generation_limit" and answers[2].headers["Retry-After"]


async def test_outlines_stored_before_outline_review_read_in_the_new_shape(app, user):
    from sqlalchemy import update

    from draftsmith.blogs.models import Blog

    _, blog = await ready_blog(user)
    old = [{"heading": "Old one", "points": ["a"], "query": "q"}, {"heading": "Two"}]
    async with app.state.db() as db:  # as rows written before outline review hold it
        await db.execute(update(Blog).where(Blog.id == blog["id"]).values(outline=old))
        await db.commit()
    read = (await user.get(f"/api/v1/blogs/{blog['id']}")).json()
    assert read["outline"] == {
        "title": blog["title"],
        "sections": [
            {"heading": "Old one", "points": ["a"], "query": "q"},
            {"heading": "Two", "points": [], "query": ""},
        ],
    }
