"""Failed generations say what happened, and only what may pass is tried again."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import update

from draftsmith.blogs.models import Blog
from draftsmith.db import utcnow
from draftsmith.jobs import runner
from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.blogs.test_generation_api import SOURCES, wait_blog
from tests.fakes.openai_server import default, not_json, status, stream_cut


@pytest.fixture
def settings_overrides(openai_server):
    return {
        "llm_base_url": openai_server.base_url,
        "llm_api_key": "sk-test-key",
        "llm_model": "fake-model",
        "llm_timeout_s": 5,
        "llm_max_attempts": 1,
        "llm_concurrency": 1,  # scripted answers go to the sections in order
    }


async def blog_row(app, blog_id: str) -> Blog:
    async with app.state.db() as db:
        return await db.get(Blog, blog_id)


async def retried_until_done(app, user, blog_id: str) -> dict:
    """Follow a blog through its retries, making each scheduled retry due at once."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = await blog_row(app, blog_id)
        if row.status in ("ready", "failed"):
            return await wait_blog(user, blog_id)
        if row.status == "queued" and row.run_after is not None and row.run_after > utcnow():
            async with app.state.db() as db:
                await db.execute(update(Blog).where(Blog.id == blog_id).values(run_after=utcnow()))
                await db.commit()
            await runner.sweep(app.state.jobs.context)
        await asyncio.sleep(0.05)
    raise AssertionError("the blog did not finish")


async def test_a_body_that_is_not_json_fails_at_once_saying_so(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    openai_server.push(not_json(), not_json(), not_json())
    blog_id = await generate(user, session["id"])
    blog = await wait_blog(user, blog_id, timeout=30)
    assert blog["status"] == "failed" and blog["error_code"] == "llm_bad_response"
    assert "not JSON" in blog["error"] and "JSONDecodeError" not in blog["error"]
    assert (await blog_row(app, blog_id)).attempts == 1
    assert len(openai_server.chat_requests) == 1
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error" and events[-1]["data"]["code"] == "llm_bad_response"


async def test_a_stream_closed_mid_answer_says_so_and_is_retried(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    for _ in range(runner.MAX_ATTEMPTS):  # the outline answers, the first section is cut off
        openai_server.push(default(), stream_cut(["The first words of ", "a section"]))
    blog_id = await generate(user, session["id"])
    blog = await retried_until_done(app, user, blog_id)
    assert blog["status"] == "failed" and blog["error_code"] == "llm_stream_closed"
    assert "closed the stream before the answer was complete" in blog["error"]
    assert "cites none" not in blog["error"]
    assert (await blog_row(app, blog_id)).attempts == runner.MAX_ATTEMPTS


async def test_a_server_error_is_retried_and_can_then_succeed(app, user, openai_server):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    openai_server.push(status(503))
    blog_id = await generate(user, session["id"])
    blog = await retried_until_done(app, user, blog_id)
    assert blog["status"] == "ready" and blog["error"] is None and blog["error_code"] is None
    assert (await blog_row(app, blog_id)).attempts == 2


async def test_a_programming_error_is_not_retried(app, user, monkeypatch):
    from draftsmith.generation.llm.engine import OpenAICompatEngine

    async def broken(self, *args, **kwargs):
        raise KeyError("section")

    monkeypatch.setattr(OpenAICompatEngine, "generate", broken)
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    blog_id = await generate(user, session["id"])
    blog = await wait_blog(user, blog_id, timeout=30)
    assert blog["status"] == "failed" and blog["error_code"] == "internal_error"
    assert "KeyError" in blog["error"] and "not retried" in blog["error"]
    assert (await blog_row(app, blog_id)).attempts == 1


async def test_a_refused_request_fails_with_the_servers_words_and_its_own_code(
    app, user, openai_server
):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    reason = "This model's maximum context length is 2048 tokens (key sk-test-key)"
    openai_server.push(status(400, body={"error": {"message": reason}}))
    blog_id = await generate(user, session["id"])
    blog = await wait_blog(user, blog_id, timeout=30)
    assert blog["status"] == "failed" and blog["error_code"] == "llm_bad_request"
    assert "maximum context length is 2048 tokens" in blog["error"]
    assert "sk-test-key" not in blog["error"]
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error"
    assert events[-1]["data"]["code"] == "llm_bad_request"
    assert "maximum context length" in events[-1]["data"]["detail"]


async def test_a_server_that_keeps_failing_ends_as_llm_server_error_with_its_reason(
    app, user, openai_server
):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    body = {"error": {"message": "model failed to load: out of memory"}}
    openai_server.push(*[status(500, body=body) for _ in range(runner.MAX_ATTEMPTS)])
    blog_id = await generate(user, session["id"])
    blog = await retried_until_done(app, user, blog_id)
    assert blog["status"] == "failed" and blog["error_code"] == "llm_server_error"
    assert "HTTP 500" in blog["error"] and "out of memory" in blog["error"]
    events = await read_events(user, session["id"])
    assert events[-1]["type"] == "error" and events[-1]["data"]["code"] == "llm_server_error"


async def test_a_llama_cpp_server_writes_the_post(app, user, openai_server):
    """json_schema refused with HTTP 500 (as llama-cpp-python does): the outline is asked
    again with json_object and its schema at once, no retry spent, and the post is written."""
    openai_server.like_llama_cpp()
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, length="short")
    blog_id = await generate(user, session["id"])
    blog = await wait_blog(user, blog_id, timeout=30)
    assert blog["status"] == "ready", blog["error"]
    outline = [r for r in openai_server.chat_requests if r.kind == "outline"]
    assert [r.response_format["type"] for r in outline] == ["json_schema", "json_object"]
    assert outline[1].response_format["schema"]["required"] == ["title", "sections"]
    assert (await blog_row(app, blog_id)).attempts == 1
