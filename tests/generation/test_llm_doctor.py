"""`draftsmith doctor` on an LLM endpoint: a tiny completion and the structured mode."""

from __future__ import annotations

import pytest
from tests.fakes.openai_server import status

from draftsmith.config import Settings
from draftsmith.doctor import check_llm

pytestmark = pytest.mark.asyncio


def settings(server) -> Settings:
    return Settings(_env_file=None, llm_base_url=server.base_url, llm_model="fake-model")


async def test_doctor_reports_the_structured_mode_and_the_time_per_token(openai_server):
    openai_server.like_llama_cpp()
    check = await check_llm(settings(openai_server), probe=True)
    assert check.ok, check.message
    assert "structured output: json_object with a schema" in check.message
    assert "ms per token" in check.message
    sent = openai_server.chat_requests
    assert len(sent) == 3 and sent[2].response_format is None
    assert [r.response_format["type"] for r in sent[:2]] == ["json_schema", "json_object"]


async def test_doctor_says_what_the_server_said_when_a_completion_fails(openai_server):
    body = {"error": {"message": "no model loaded"}}
    openai_server.push(status(500, body=body))
    check = await check_llm(settings(openai_server), probe=True)
    assert not check.ok
    assert "a completion failed" in check.message and "no model loaded" in check.message


async def test_starting_the_server_only_lists_the_models(openai_server):
    check = await check_llm(settings(openai_server))
    assert check.ok and not openai_server.chat_requests
