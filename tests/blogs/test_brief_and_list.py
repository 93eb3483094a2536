"""Issue 11: a regeneration with a changed brief is a new blog of the same session that
remembers its brief; the blogs list shows excerpt, word count, documents and brief, with
search and sort."""

from __future__ import annotations

from datetime import timedelta

from draftsmith.blogs import pipeline
from draftsmith.blogs.models import Blog
from draftsmith.db import utcnow
from tests.blogs.helpers import generate, new_session, ready_documents
from tests.blogs.test_generation_api import wait_blog
from tests.conftest import make_user
from tests.documents.helpers import fixture

TIDE, LIGHT = fixture("tide-pools.md"), fixture("lighthouses.md")


async def patch_session(user, session_id, **changes):
    return await user.request("PATCH", f"/api/v1/sessions/{session_id}", json=changes)


async def test_a_changed_brief_makes_a_new_blog_of_the_same_session(app, user):
    tide, light = await ready_documents(user, TIDE, LIGHT)
    session = await new_session(
        user, [tide], topic="tide pool animals on rocky shores", audience="Students", length="short"
    )
    first = await wait_blog(user, await generate(user, session["id"]))
    assert first["status"] == "ready", first["error"]
    assert first["brief"]["topic"] == "tide pool animals on rocky shores"
    assert first["brief"]["document_ids"] == [tide] and first["brief"]["audience"] == "Students"

    # the extractive engine cannot translate: refused at once, and the brief is unchanged
    refused = await patch_session(user, session["id"], language="French")
    assert refused.status_code == 422 and refused.json()["code"] == "language_unsupported"
    assert (await user.get(f"/api/v1/sessions/{session['id']}")).json()["language"] is None

    changed = await patch_session(
        user,
        session["id"],
        topic="lighthouse keepers and their lamps",
        document_ids=[light],
        audience="Engineers",
        tone="formal",
        title=None,
    )
    assert changed.status_code == 200, changed.text
    second = await wait_blog(user, await generate(user, session["id"]))
    assert second["status"] == "ready", second["error"]
    assert second["session_id"] == first["session_id"] == session["id"]
    assert second["brief"]["topic"] == "lighthouse keepers and their lamps"
    assert second["brief"]["document_ids"] == [light]
    assert (second["brief"]["audience"], second["brief"]["tone"]) == ("Engineers", "formal")
    assert {c["document_id"] for c in second["citations"]} == {light}

    # the first blog still tells the brief it came from, in the list as when opened
    again = (await user.get(f"/api/v1/blogs/{first['id']}")).json()
    assert again["brief"] == first["brief"]
    items = {b["id"]: b for b in (await user.get("/api/v1/blogs")).json()["items"]}
    assert items[first["id"]]["brief"]["audience"] == "Students"
    assert items[second["id"]]["brief"]["audience"] == "Engineers"
    assert items[first["id"]]["documents"] == [{"id": tide, "filename": "tide-pools.md"}]
    assert items[second["id"]]["documents"] == [{"id": light, "filename": "lighthouses.md"}]
    for blog in (first, second):
        item = items[blog["id"]]
        assert item["word_count"] == blog["word_count"] > 100
        assert 40 < len(item["excerpt"]) <= 221 and "[1]" not in item["excerpt"]
        assert item["excerpt"].rstrip("…")[:30] in blog["markdown"].replace("**", "")

    # coverage is checked when generating: an off-topic brief is accepted, then the blog fails
    off = await patch_session(user, session["id"], topic="Kubernetes pod networking explained")
    assert off.status_code == 200 and off.json()["coverage"]["covered"] is False
    failed = await wait_blog(user, await generate(user, session["id"]))
    assert failed["status"] == "failed" and failed["error_code"] == "topic_not_covered"
    assert failed["brief"]["topic"] == "Kubernetes pod networking explained"


async def test_the_job_writes_from_the_blogs_snapshot_not_the_session_now(app, user):
    """A brief changed while a blog waits in the queue does not change that blog."""
    tide, light = await ready_documents(user, TIDE, LIGHT)
    session = await new_session(user, [tide], topic="tide pool animals on rocky shores")
    blog_id = await generate(user, session["id"])
    await patch_session(user, session["id"], topic="lighthouse keepers", document_ids=[light])
    _, brief, documents = await pipeline._load(app.state.jobs.context, blog_id)
    assert brief.topic == "tide pool animals on rocky shores" and list(documents) == [tide]
    await wait_blog(user, blog_id)


async def add_blog(app, user_id, title, markdown, minutes_ago, edited_minutes_ago=None, **brief):
    now = utcnow()
    async with app.state.db() as db:
        blog = Blog(
            user_id=user_id,
            title=title,
            markdown=markdown,
            engine="extractive",
            status="ready",
            revision=1,
            citations=[],
            brief={"topic": title, "document_ids": [], **brief},
            created_at=now - timedelta(minutes=minutes_ago),
            updated_at=now - timedelta(minutes=edited_minutes_ago or minutes_ago),
        )
        db.add(blog)
        await db.commit()
        return blog.id


async def test_the_blogs_list_searches_and_sorts(app, user, client):
    me = (await user.get("/api/v1/auth/me")).json()["id"]
    kelp = await add_blog(
        app, me, "Kelp forests", "# Kelp forests\n\nGiant kelp grows fast [1].\n", 30
    )
    tides = await add_blog(
        app, me, "tide tables", "# tide tables\n\nSpring tides 100% higher.\n", 20, 1
    )
    lamps = await add_blog(
        app,
        me,
        "Lighthouse lamps",
        "# Lighthouse lamps\n\nFresnel lenses.\n",
        10,
        audience="Ingénieurs",
    )
    other = await make_user(client, "eve@example.com")
    other_id = (await other.get("/api/v1/auth/me")).json()["id"]
    await add_blog(app, other_id, "Kelp for Eve", "# Kelp\n\nKelp.\n", 5)

    async def ids(**params):
        response = await user.get("/api/v1/blogs", params=params)
        assert response.status_code == 200, response.text
        return [b["id"] for b in response.json()["items"]]

    assert await ids() == [lamps, tides, kelp]
    assert await ids(sort="oldest") == [kelp, tides, lamps]
    assert await ids(sort="updated") == [tides, lamps, kelp]
    assert await ids(sort="title") == [kelp, lamps, tides]  # any case: "tide" after "Light"
    assert await ids(q="KELP") == [kelp]  # the title, any case; never another user's
    assert await ids(q="fresnel") == [lamps]  # the text
    assert await ids(q="ingénieurs") == [lamps]  # the brief's values, accents included
    assert await ids(q="audience") == []  # ...not its JSON key names
    assert await ids(q="100%") == [tides]  # wildcards are literal
    assert await ids(q="nothing like this") == []
    excerpt = (await user.get("/api/v1/blogs", params={"q": "kelp"})).json()["items"][0]
    assert excerpt["excerpt"] == "Giant kelp grows fast." and excerpt["word_count"] == 6

    # every sort pages with its cursor, without repeats or gaps
    for sort, expected in (
        ("newest", [lamps, tides, kelp]),
        ("title", [kelp, lamps, tides]),
        ("updated", [tides, lamps, kelp]),
    ):
        seen, cursor = [], None
        while True:
            params = {"sort": sort, "limit": 1, **({"cursor": cursor} if cursor else {})}
            page = (await user.get("/api/v1/blogs", params=params)).json()
            seen += [b["id"] for b in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected, sort

    bad = await user.get("/api/v1/blogs", params={"sort": "title", "cursor": "%%%.x"})
    assert bad.status_code == 422
    # a cursor naming no blog of yours (another user's, or gone) ends the list
    eves = (await other.get("/api/v1/blogs")).json()["items"][0]["id"]
    for row_id in (eves, "no-such-blog"):
        page = await user.get("/api/v1/blogs", params={"sort": "title", "cursor": f"1.{row_id}"})
        assert page.status_code == 200 and page.json() == {"items": [], "next_cursor": None}
    assert (await user.get("/api/v1/blogs", params={"sort": "words"})).status_code == 422
