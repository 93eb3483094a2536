"""VERIFY=llm (issue 9): borderline sentences go to the model in one batched request
over the loopback fake OpenAI server; its JSON verdicts (parsed tolerantly) replace the
lexical ones; an unusable answer or a failing endpoint keeps them. The fake server can
only test this plumbing, not how good a real model's opinion is."""

from __future__ import annotations

import json

import pytest
from tests.fakes.openai_server import not_json, ok, status

from draftsmith.generation import LLMSettings
from draftsmith.generation.grounding import assess_draft, summarize
from draftsmith.generation.verify import needs_opinion, parse_verdicts, second_opinion

PASSAGE = (
    "The FAA proposes to supersede an AD which applies to all Boeing 737 MAX airplanes. "
    "This proposed AD would require installing new flight control computer software, "
    "revising the airplane flight manual and doing an operational readiness flight."
)
DRAFT = (
    "# Notes\n\n"
    "The FAA proposes to supersede an AD which applies to all Boeing 737 MAX airplanes [1]. "
    "The directive asks for new flight software and a readiness flight before service [1]. "
    "The new directive would cover fewer airplanes than the one it replaces [1]. "
    "The FAA proposes to supersede an AD for all Airbus A320neo airplanes [1].\n"
)
SOURCES = {1: PASSAGE}


def settings(server, **overrides) -> LLMSettings:
    return LLMSettings(base_url=server.base_url, api_key="k", max_attempts=1, **overrides)


def test_borderline_sentences_are_the_ones_asked():
    checked = assess_draft(DRAFT, SOURCES)
    asked = [c.sentence for c in checked if needs_opinion(c)]
    assert asked == [checked[1].sentence, checked[2].sentence]
    assert checked[0].reason is None  # verbatim: certain
    assert checked[3].reason == "unsupported" and not needs_opinion(checked[3])  # a name


@pytest.mark.parametrize(
    "answer",
    [
        '{"verdicts": [{"id": 1, "supported": true}, {"id": 2, "supported": false}]}',
        'Here you go:\n```json\n[{"id": 1, "supported": true}, {"id": 2, "supported": false}]\n```',
        '{"verdicts": [{"id": "1", "supported": true}, {"id": 2, "supported": false},]}',
    ],
)
def test_verdicts_are_parsed_tolerantly(answer):
    assert parse_verdicts(answer) == {1: True, 2: False}


async def test_one_request_for_all_borderline_sentences_and_its_verdicts_count(openai_server):
    checked = assess_draft(DRAFT, SOURCES)
    before = [c.reason for c in checked]
    answer = {"verdicts": [{"id": 1, "supported": False}, {"id": 2, "supported": True}]}
    openai_server.push(ok(json.dumps(answer)))
    after = await second_opinion([(c, SOURCES) for c in checked], settings(openai_server))
    assert len(openai_server.chat_requests) == 1
    prompt = openai_server.chat_requests[0].prompt
    assert "Sentence 1: The directive asks" in prompt and "Sentence 2: The new directive" in prompt
    assert "Sentence 3" not in prompt and PASSAGE[:60] in prompt
    assert [c.reason for c in after] == [None, "unsupported", None, "unsupported"]
    assert before[1] != after[1] or before[2] != after[2]
    assert summarize(after).score == 0.5


@pytest.mark.parametrize("failure", [not_json(), status(500), ok("I think they are fine.")])
async def test_without_a_usable_answer_the_lexical_verdicts_stay(openai_server, failure):
    checked = assess_draft(DRAFT, SOURCES)
    openai_server.push(failure)
    after = await second_opinion([(c, SOURCES) for c in checked], settings(openai_server))
    assert after == checked


async def test_batches_are_capped(openai_server, monkeypatch):
    from draftsmith.generation import verify

    monkeypatch.setattr(verify, "BATCH", 1)
    checked = assess_draft(DRAFT, SOURCES)
    openai_server.push(ok('[{"id": 1, "supported": true}]'), ok('[{"id": 1, "supported": true}]'))
    after = await second_opinion([(c, SOURCES) for c in checked], settings(openai_server))
    assert len(openai_server.chat_requests) == 2
    assert [c.reason for c in after] == [None, None, None, "unsupported"]


async def test_recheck_refines_a_drafts_grounding(openai_server):
    from draftsmith.generation import Draft
    from draftsmith.generation.grounding import check
    from draftsmith.generation.verify import recheck

    lexical = check(DRAFT, SOURCES)
    draft = Draft("Notes", DRAFT, [], lexical, [], "llm", passages=SOURCES)
    openai_server.push(
        ok('{"verdicts": [{"id": 1, "supported": true}, {"id": 2, "supported": true}]}')
    )
    rechecked = await recheck(draft, settings(openai_server))
    assert [f.reason for f in lexical.flagged] == ["unsupported"] * 3
    assert [f.sentence for f in rechecked.grounding.flagged] == [lexical.flagged[2].sentence]
    assert rechecked.grounding.score == 0.75 and rechecked.markdown == DRAFT
