"""The author in the loop with the LLM engine, through the API and a real loopback
OpenAI-compatible server: the approved outline is written as approved (no planning call),
and a section rewrite passes the author's instructions and changes only that section.
A document's own date (from its metadata) reaches the passage headers of the prompts."""

from __future__ import annotations

import re

import pytest

from tests.blogs.helpers import generate, new_session, ready_documents
from tests.blogs.test_author_loop import SOURCES, TOPIC, sections_of, wait_rewrite
from tests.blogs.test_generation_api import wait_blog
from tests.fixtures.make import fixture_path


@pytest.fixture
def settings_overrides(openai_server):
    return {
        "llm_base_url": openai_server.base_url,
        "llm_model": "fake-model",
        "llm_timeout_s": 5,
    }


async def test_llm_outline_review_writes_exactly_the_approved_headings(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short", engine="llm")
    started = await user.post(
        f"/api/v1/sessions/{session['id']}/generate", json={"review_outline": True}
    )
    assert started.status_code == 202, started.text
    blog = await wait_blog(user, started.json()["blog_id"])
    assert blog["status"] == "outline_ready", blog
    assert [r.kind for r in openai_server.chat_requests] == ["outline"]

    edited = [
        {"heading": "Lamps, lenses and fog signals", "points": ["fog horn", "Fresnel lens"]},
        {"heading": "Animals of the pools", "points": ["sea stars"]},
    ]
    put = await user.request(
        "PUT",
        f"/api/v1/blogs/{blog['id']}/outline",
        json={"title": "Pools and Lights", "sections": edited},
    )
    assert put.status_code == 200, put.text
    openai_server.reset()
    assert (await user.post(f"/api/v1/blogs/{blog['id']}/write")).status_code == 202
    done = await wait_blog(user, blog["id"])
    assert done["status"] == "ready", done
    body_headings = [h for h, _ in sections_of(done["markdown"])][: len(edited)]
    assert body_headings == [e["heading"] for e in edited]
    assert done["markdown"].startswith("# Pools and Lights\n")
    kinds = [r.kind for r in openai_server.chat_requests]
    assert "outline" not in kinds and kinds.count("section") >= len(edited)
    # each section is written for its approved heading and points
    lamps = [r.prompt for r in openai_server.chat_requests if "Lamps, lenses" in r.prompt]
    assert any("Fresnel lens" in p for p in lamps)


async def test_llm_section_rewrite_passes_the_instructions_and_keeps_the_rest(
    app, user, openai_server
):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short", engine="llm")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready", blog
    before = blog["markdown"]
    index = 0
    old_text = sections_of(before)[index][1].strip()
    openai_server.reset()
    response = await user.post(
        f"/api/v1/blogs/{blog['id']}/sections/{index}/regenerate",
        json={"revision": blog["revision"], "instructions": "Say more about the barnacles"},
    )
    assert response.status_code == 202, response.text
    last = await wait_rewrite(user, session["id"], response.json()["rewrite_id"])
    assert last["state"] == "done", last
    prompts = [r.prompt for r in openai_server.chat_requests]
    assert prompts and any("Say more about the barnacles" in p for p in prompts)

    after = (await user.get(f"/api/v1/blogs/{blog['id']}")).json()
    assert after["revision"] == blog["revision"] + 1
    old_body = before.split("\n## Sources\n")[0]
    new_body = after["markdown"].split("\n## Sources\n")[0]
    new_text = sections_of(after["markdown"])[index][1].strip()
    head, tail = old_body.split(old_text)
    assert new_body == head + new_text + tail


async def test_passage_headers_carry_the_pdf_creation_date(app, user, openai_server):
    # report.pdf's name has no date; fixtures/make.py writes CreationDate 2024-01-02
    doc_ids = await ready_documents(user, fixture_path("report.pdf"))
    session = await new_session(user, doc_ids, length="short", engine="llm")
    started = await user.post(
        f"/api/v1/sessions/{session['id']}/generate", json={"review_outline": True}
    )
    assert started.status_code == 202, started.text
    blog = await wait_blog(user, started.json()["blog_id"])
    assert blog["status"] == "outline_ready", blog
    (outline,) = [r.prompt for r in openai_server.chat_requests if r.kind == "outline"]
    headers = re.findall(r"^\[\d+\] \(report\.pdf[^\n]*\)$", outline, re.M)
    assert headers and all("dated 2024-01-02" in h for h in headers), outline[:2000]
