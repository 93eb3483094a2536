"""A generation whose sources don't cover the topic ends failed with `topic_not_covered`
before any writing, for both engines; `allow_thin_sources` writes anyway, with a warning
(issue 9). The extractive engine's translation refusal also holds in the job."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from draftsmith.sessions.models import GenerationSession
from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.blogs.test_generation_api import wait_blog
from tests.documents.helpers import fixture

OFF_TOPIC = "Kubernetes pod networking explained"
#: shares "sea" and "star" with tide-pools.md, nothing else
NEAR_MISS = "Sea star wasting disease outbreaks"


async def failed_blog(user, session_id: str) -> dict:
    blog_id = await generate(user, session_id)
    events = await read_events(user, session_id)
    blog = await wait_blog(user, blog_id)
    assert blog["status"] == "failed", blog
    assert events[-1]["type"] == "error" and events[-1]["data"]["code"] == blog["error_code"]
    assert blog["markdown"] == "" and blog["revision"] == 0
    return blog


async def test_an_off_topic_brief_fails_before_writing_and_says_why(app, user):
    doc_ids = await ready_documents(user, fixture("tide-pools.md"))
    session = await new_session(user, doc_ids, topic=OFF_TOPIC, length="short")
    assert not session["coverage"]["covered"]
    blog = await failed_blog(user, session["id"])
    assert blog["error_code"] == "topic_not_covered"
    message = blog["error"]
    assert OFF_TOPIC in message and "“kubernetes”" in message and "“pod”" in message
    assert "Tide Pool Animals on Rocky Shores" in message  # what the document is about
    assert "allow thin sources" in message


async def test_thin_sources_allowed_write_with_a_warning(app, user):
    doc_ids = await ready_documents(user, fixture("tide-pools.md"))
    session = await new_session(user, doc_ids, topic=NEAR_MISS, length="short")
    assert (await failed_blog(user, session["id"]))["error_code"] == "topic_not_covered"
    url = f"/api/v1/sessions/{session['id']}"
    assert (await user.request("PATCH", url, json={"allow_thin_sources": True})).status_code == 200
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready", blog
    assert blog["markdown"] and blog["citations"]
    warning = blog["warnings"][0]
    assert warning.startswith("Thin sources") and "never mention “wasting”" in warning


async def test_a_covered_brief_carries_no_coverage_warning(app, user):
    doc_ids = await ready_documents(user, fixture("tide-pools.md"))
    session = await new_session(user, doc_ids, topic="tide pool animals", length="short")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready"
    assert not any(w.startswith("Thin sources") for w in blog["warnings"] or [])


async def test_the_job_refuses_a_translation_the_session_could_not_check(app, user):
    """A session opened while its documents were processing could not check the language;
    the job does, before writing."""
    doc_ids = await ready_documents(user, fixture("tide-pools.md"))
    session = await new_session(user, doc_ids, topic="tide pool animals", length="short")
    async with app.state.db() as db:  # as if it had been created before the document was ready
        await db.execute(
            update(GenerationSession)
            .where(GenerationSession.id == session["id"])
            .values(language="French")
        )
        await db.commit()
    blog = await failed_blog(user, session["id"])
    assert blog["error_code"] == "language_unsupported" and "LLM engine" in blog["error"]


class TestWithTheLLMEngine:
    @pytest.fixture
    def settings_overrides(self, openai_server):
        return {"llm_base_url": openai_server.base_url, "llm_model": "fake-model"}

    async def test_an_off_topic_brief_never_reaches_the_model(self, app, user, openai_server):
        doc_ids = await ready_documents(user, fixture("tide-pools.md"))
        session = await new_session(user, doc_ids, topic=OFF_TOPIC, length="short")
        assert session["engine"] == "llm"
        blog = await failed_blog(user, session["id"])
        assert blog["error_code"] == "topic_not_covered"
        assert openai_server.chat_requests == []

    async def test_the_llm_engine_may_write_in_another_language(self, app, user):
        doc_ids = await ready_documents(user, fixture("tide-pools.md"))
        session = await new_session(user, doc_ids, topic="tide pool animals", language="French")
        assert session["engine"] == "llm" and session["language"] == "French"
        extractive = await user.post(
            "/api/v1/sessions",
            json={
                "topic": "tide pool animals",
                "document_ids": doc_ids,
                "language": "French",
                "engine": "extractive",
            },
        )
        assert extractive.json()["code"] == "language_unsupported"
