"""Blogs over the API: generation, events, editing, export, isolation."""

from __future__ import annotations

import asyncio
import io
import re
import time

from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.conftest import make_user
from tests.documents.helpers import fixture, upload, wait_done

SOURCES = (fixture("tide-pools.md"), fixture("lighthouses.md"))
TOPIC = "tide pool animals on rocky shores"


async def wait_blog(user, blog_id, timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        blog = (await user.get(f"/api/v1/blogs/{blog_id}")).json()
        if blog["status"] not in ("queued", "generating"):
            return blog
        assert time.monotonic() < deadline, blog["status"]
        await asyncio.sleep(0.1)


async def test_generating_with_a_document_not_ready_is_409(app, user):
    body = await upload(user, fixture("encrypted.pdf"))
    doc_id = body["documents"][0]["id"]
    await wait_done(user, doc_id)
    session = await new_session(user, [doc_id])
    response = await user.post(f"/api/v1/sessions/{session['id']}/generate")
    assert response.status_code == 409 and response.json()["code"] == "documents_not_ready"
    assert (await user.get("/api/v1/blogs")).json()["items"] == []


async def test_extractive_generation_end_to_end(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog_id = await generate(user, session["id"])
    events = await read_events(user, session["id"])
    types = [e["type"] for e in events]
    assert types[0] == "status" and types[-1] == "done"
    assert {"outline", "section"} <= set(types)
    assert all(e["data"]["blog_id"] == blog_id for e in events)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)

    blog = (await user.get(f"/api/v1/blogs/{blog_id}")).json()
    assert blog["status"] == "ready" and blog["revision"] == 1 and blog["engine"] == "extractive"
    assert blog["session_id"] == session["id"]
    assert blog["markdown"].startswith("# ") and "## Sources" in blog["markdown"]
    assert blog["citations"] and blog["grounding"]["score"] > 0.5
    contents = {
        d: (await user.get(f"/api/v1/documents/{d}/content")).json()["markdown"] for d in doc_ids
    }
    for citation in blog["citations"]:
        assert citation["quote"] in contents[citation["document_id"]]
        assert citation["document_name"] in {p.name for p in SOURCES}
    body = blog["markdown"].split("## Sources")[0]
    paragraphs = [p for p in body.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
    assert paragraphs and all(re.search(r"\[\d+\]", p) for p in paragraphs)
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert numbers <= {c["n"] for c in blog["citations"]}
    assert "<script" not in blog["html"] and 'href="#source-' in blog["html"]

    # a finished generation replays to `done` at once; Last-Event-ID resumes after it
    started = time.monotonic()
    replay = await read_events(user, session["id"])
    assert time.monotonic() - started < 2
    assert [e["id"] for e in replay] == [e["id"] for e in events]
    tail = await read_events(user, session["id"], last_event_id=events[-3]["id"])
    assert [e["id"] for e in tail] == [e["id"] for e in events[-2:]]

    revisions = (await user.get(f"/api/v1/blogs/{blog_id}/revisions")).json()["items"]
    assert [r["revision"] for r in revisions] == [1] and revisions[0]["source"] == "generated"


async def test_editing_with_optimistic_concurrency(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog_id = await generate(user, session["id"])
    original = await wait_blog(user, blog_id)
    edited = await user.request(
        "PATCH",
        f"/api/v1/blogs/{blog_id}",
        json={"revision": 1, "markdown": original["markdown"] + "\n\nMy own closing words."},
    )
    assert edited.status_code == 200
    assert edited.json()["revision"] == 2 and "My own closing words." in edited.json()["html"]
    stale = await user.request(
        "PATCH", f"/api/v1/blogs/{blog_id}", json={"revision": 1, "title": "Stale title"}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "revision_conflict"
    current = (await user.get(f"/api/v1/blogs/{blog_id}")).json()
    assert current["revision"] == 2 and current["title"] == original["title"]
    renamed = await user.request(
        "PATCH", f"/api/v1/blogs/{blog_id}", json={"revision": 2, "title": "A better title"}
    )
    assert renamed.json()["revision"] == 3 and renamed.json()["title"] == "A better title"
    revisions = (await user.get(f"/api/v1/blogs/{blog_id}/revisions")).json()["items"]
    assert [r["revision"] for r in revisions] == [3, 2, 1]
    first = (await user.get(f"/api/v1/blogs/{blog_id}/revisions/1")).json()
    assert first["markdown"] == original["markdown"]
    assert (await user.get(f"/api/v1/blogs/{blog_id}/revisions/9")).status_code == 404
    # two concurrent edits of the same revision: exactly one wins
    results = await asyncio.gather(
        *[
            user.request(
                "PATCH",
                f"/api/v1/blogs/{blog_id}",
                json={"revision": 3, "markdown": f"# Take {i}\n\ntext [1]"},
            )
            for i in range(4)
        ]
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409]


async def test_hostile_markdown_and_documents_are_sanitised(app, user):
    hostile = (
        b"# Widgets\n\n"
        b"The widget loader is small and it runs in every modern browser without plugins. "
        b"Teams embed the widget loader on pages where <script>alert('doc')</script> tags once "
        b"lived. "
        b"Loading the widget takes less than a second on most connections.\n\n"
        b"Browsers render the widget <img src=x onerror=alert(1)> inside a sandboxed frame. "
        b"The widget loader retries failed requests three times before it gives up. "
        b"Each widget keeps its own state, so one broken widget never breaks the page.\n"
    )
    doc_ids = await ready_documents(user, ("hostile.md", hostile), fixture("lighthouses.md"))
    session = await new_session(user, doc_ids, topic="widget loader in browsers", length="short")
    blog_id = await generate(user, session["id"])
    blog = await wait_blog(user, blog_id)
    assert blog["status"] == "ready", blog
    assert active_html(blog["html"]) == []
    edit = (
        "# T\n\n<script>alert(1)</script>\n\n[click](javascript:alert(1)) <a href='x' "
        "onclick='y'>a</a>"
    )
    response = await user.request(
        "PATCH", f"/api/v1/blogs/{blog_id}", json={"revision": 1, "markdown": edit}
    )
    html = response.json()["html"]
    assert active_html(html) == []
    assert "&lt;script&gt;" in html  # shown as text, not run


def active_html(html: str) -> list[str]:
    """Elements and attributes that would run code in a browser."""
    from html.parser import HTMLParser

    found = []

    class Scan(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "style"):
                found.append(tag)
            for name, value in attrs:
                if name.startswith("on") or (value or "").strip().lower().startswith(
                    ("javascript:", "data:")
                ):
                    found.append(f"{tag}[{name}]")

    Scan().feed(html)
    return found


async def test_exports(app, user):
    from html.parser import HTMLParser

    import docx

    doc_ids = await ready_documents(user, *SOURCES)
    blog_id = await generate(
        user, (await new_session(user, doc_ids, topic=TOPIC, length="short"))["id"]
    )
    blog = await wait_blog(user, blog_id)
    md = await user.get(f"/api/v1/blogs/{blog_id}/export", params={"format": "md"})
    assert md.status_code == 200 and md.headers["content-disposition"].startswith("attachment")
    assert "## Sources" in md.text and "[1]" in md.text
    html = await user.get(f"/api/v1/blogs/{blog_id}/export", params={"format": "html"})
    assert html.text.lower().startswith("<!doctype html")
    tags = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append(tag)

    Collect().feed(html.text)
    assert "h1" in tags and "script" not in tags
    word = await user.get(f"/api/v1/blogs/{blog_id}/export", params={"format": "docx"})
    document = docx.Document(io.BytesIO(word.content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert blog["title"] in text and "[1]" in text and "Sources" in text
    assert any(
        p.style.name.startswith("Heading") or p.style.name == "Title" for p in document.paragraphs
    )
    assert (
        await user.get(f"/api/v1/blogs/{blog_id}/export", params={"format": "pdf"})
    ).status_code == 422


async def test_other_users_sessions_and_blogs_are_404(app, client, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog_id = await generate(user, session["id"])
    await wait_blog(user, blog_id)
    eve = await make_user(client, "eve@example.com")
    sid = session["id"]
    for method, path, body in [
        ("GET", f"/api/v1/sessions/{sid}", None),
        ("PATCH", f"/api/v1/sessions/{sid}", {"tone": "x"}),
        ("DELETE", f"/api/v1/sessions/{sid}", None),
        ("POST", f"/api/v1/sessions/{sid}/generate", None),
        ("GET", f"/api/v1/sessions/{sid}/events", None),
        ("GET", f"/api/v1/blogs/{blog_id}", None),
        ("PATCH", f"/api/v1/blogs/{blog_id}", {"revision": 1, "title": "x"}),
        ("GET", f"/api/v1/blogs/{blog_id}/revisions", None),
        ("GET", f"/api/v1/blogs/{blog_id}/revisions/1", None),
        ("GET", f"/api/v1/blogs/{blog_id}/export", None),
        ("POST", f"/api/v1/blogs/{blog_id}/cancel", None),
        ("DELETE", f"/api/v1/blogs/{blog_id}", None),
    ]:
        response = await eve.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
    assert (await eve.get("/api/v1/blogs")).json()["items"] == []
    assert (await eve.get("/api/v1/sessions")).json()["items"] == []
    assert (await user.get(f"/api/v1/blogs/{blog_id}")).status_code == 200


async def test_deleting_blogs_and_sessions(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    first = await generate(user, session["id"])
    await wait_blog(user, first)
    second = await generate(user, session["id"])
    await wait_blog(user, second)
    assert (await user.request("DELETE", f"/api/v1/blogs/{first}")).status_code == 204
    assert (await user.get(f"/api/v1/blogs/{first}")).status_code == 404
    assert (await user.request("DELETE", f"/api/v1/sessions/{session['id']}")).status_code == 204
    kept = (await user.get(f"/api/v1/blogs/{second}")).json()
    assert kept["status"] == "ready" and kept["session_id"] is None


async def test_cancel_a_queued_generation(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    # keep the job from starting: no message is sent while the queue is detached
    app.state.jobs.context.queue, queue = None, app.state.jobs.context.queue
    try:
        blog_id = await generate(user, session["id"])
    finally:
        app.state.jobs.context.queue = queue
    response = await user.post(f"/api/v1/blogs/{blog_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error" and events[-1]["data"]["code"] == "cancelled"
    assert (await user.post(f"/api/v1/blogs/{blog_id}/cancel")).status_code == 409


async def test_a_killed_workers_generation_is_resumed_by_the_sweep(app, user):
    from datetime import timedelta

    from sqlalchemy import update

    from draftsmith.blogs.models import Blog
    from draftsmith.db import utcnow
    from draftsmith.jobs import runner

    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    app.state.jobs.context.queue, queue = (
        None,
        app.state.jobs.context.queue,
    )  # hold the message back
    try:
        blog_id = await generate(user, session["id"])
    finally:
        app.state.jobs.context.queue = queue
    # as if a worker claimed it and died mid-generation
    async with app.state.db() as db:
        await db.execute(
            update(Blog)
            .where(Blog.id == blog_id)
            .values(
                status="generating", attempts=1, lease_expires_at=utcnow() - timedelta(seconds=1)
            )
        )
        await db.commit()
    assert await runner.sweep(app.state.jobs.context) >= 1
    blog = await wait_blog(user, blog_id)
    assert blog["status"] == "ready" and blog["revision"] == 1
    # and one that keeps dying is failed with an error event, never left generating
    async with app.state.db() as db:
        await db.execute(
            update(Blog)
            .where(Blog.id == blog_id)
            .values(
                status="generating",
                attempts=runner.MAX_ATTEMPTS,
                lease_expires_at=utcnow() - timedelta(seconds=1),
            )
        )
        await db.commit()
    await runner.sweep(app.state.jobs.context)
    blog = (await user.get(f"/api/v1/blogs/{blog_id}")).json()
    assert blog["status"] == "failed" and "interrupted" in blog["error"]
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error" and events[-1]["data"]["blog_id"] == blog_id
