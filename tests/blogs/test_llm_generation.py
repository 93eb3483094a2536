"""The LLM engine through the whole API, against a real loopback OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.blogs.test_generation_api import SOURCES, wait_blog
from tests.fakes.openai_server import status, stream_forever


@pytest.fixture
def settings_overrides(openai_server):
    return {
        "llm_base_url": openai_server.base_url,
        "llm_api_key": "sk-test-key",
        "llm_model": "fake-model",
        "llm_timeout_s": 5,
    }


async def test_llm_is_the_default_engine_and_writes_a_cited_draft(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    assert session["engine"] == "llm"
    blog_id = await generate(user, session["id"])
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "done", events[-1]
    blog = (await user.get(f"/api/v1/blogs/{blog_id}")).json()
    assert blog["status"] == "ready" and blog["engine"] == "llm" and blog["model"] == "fake-model"
    assert blog["citations"]
    contents = {
        d: (await user.get(f"/api/v1/documents/{d}/content")).json()["markdown"] for d in doc_ids
    }
    assert all(c["quote"] in contents[c["document_id"]] for c in blog["citations"])
    # Markdown sources: no pages; each quote's heading path
    assert all(c["section"] and c["page_label"] is None for c in blog["citations"])
    requests = openai_server.chat_requests
    assert requests and all(
        r.headers.get("authorization") == "Bearer sk-test-key" for r in requests
    )
    assert any(r.stream for r in requests)


async def test_llm_failure_fails_the_blog_with_an_error_event(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    openai_server.push(*[status(401) for _ in range(10)])  # a wrong key: not retried
    blog_id = await generate(user, session["id"])
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error" and events[-1]["data"]["code"] == "llm_auth"
    blog = await wait_blog(user, blog_id)
    assert blog["status"] == "failed" and blog["error"] and blog["error_code"] == "llm_auth"
    assert "sk-test-key" not in blog["error"]
    assert len(openai_server.chat_requests) == 1


async def test_cancel_stops_a_never_ending_stream_within_seconds(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    openai_server.push(*[stream_forever(0.05) for _ in range(10)])
    blog_id = await generate(user, session["id"])
    for _ in range(200):
        if (await user.get(f"/api/v1/blogs/{blog_id}")).json()["status"] == "generating":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    started = time.monotonic()
    assert (await user.post(f"/api/v1/blogs/{blog_id}/cancel")).status_code == 202
    blog = await wait_blog(user, blog_id, timeout=10)
    assert blog["status"] == "cancelled"
    assert time.monotonic() - started < 5
    events = await read_events(user, session["id"])
    assert events[-1]["data"]["code"] == "cancelled"
