"""The OpenAI-compatible engine against a real HTTP fake server on loopback."""

from __future__ import annotations

import json
import logging
import re
import time
from email.utils import formatdate

import openai
import pytest
from tests.fakes.openai_server import (
    _passages_in,
    json_schema_unsupported,
    ok,
    sleep,
    status,
    stream,
    stream_forever,
)

from draftsmith.config import Settings
from draftsmith.generation import (
    GenerationCancelled,
    GenerationError,
    GenerationRequest,
    InMemoryRetriever,
    LLMSettings,
    OpenAICompatEngine,
    Passage,
    get_engine,
)
from draftsmith.generation.citations import MARKER_RE, split_body
from draftsmith.generation.llm import structured
from draftsmith.generation.llm.answers import clean_section_text
from draftsmith.generation.llm.engine import OUTLINE_ERROR
from draftsmith.generation.llm.outline import extract_json_object, parse_outline, response_format
from draftsmith.text.tokens import estimate_tokens

pytestmark = pytest.mark.asyncio
KEY = "sk-test-secret-123456"

TOPICS = {
    "bees": (
        "Honey bees communicate the location of flowers with a waggle dance. The angle of the "
        "dance shows the direction relative to the sun. The duration of the waggle run encodes "
        "the distance to the food."
    ),
    "hive": (
        "A colony has one queen, thousands of female workers and a few hundred male drones. "
        "Workers clean cells, feed larvae, build comb and guard the entrance. The queen lays up "
        "to two thousand eggs a day in spring."
    ),
    "honey": (
        "Bees make honey from nectar that foragers carry back in their honey stomach. House bees "
        "evaporate the water by fanning their wings. Honey is stored in wax cells and capped when "
        "it is ripe."
    ),
    "winter": (
        "In winter the colony forms a tight cluster to keep the queen warm. Bees shiver their "
        "flight muscles to produce heat inside the cluster. The colony eats stored honey until "
        "spring flowers bloom."
    ),
    "threats": (
        "Varroa mites weaken bees and spread viruses inside the colony. Pesticides and habitat "
        "loss reduce the food available to foragers. Beekeepers monitor mite levels and treat "
        "colonies in late summer."
    ),
}


def make_passages() -> list[Passage]:
    out = []
    for i, (doc, text) in enumerate(TOPICS.items()):
        out.append(
            Passage(f"{doc}:0", doc, f"{doc}.md", i + 1, 0, len(text), text, doc.capitalize(), 0.0)
        )
    return out


PASSAGES = make_passages()


class _AnySchema:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, dict) and other.get("name") == "blog_outline"


ANY_SCHEMA = _AnySchema()
REQ = GenerationRequest(topic="how honey bee colonies work", length="short")


def engine(server, **kw) -> OpenAICompatEngine:
    settings = dict(
        base_url=server.base_url,
        api_key=KEY,
        model="fake-model",
        read_timeout=5.0,
        connect_timeout=2.0,
        partial_event_interval=0.0,
    )
    settings.update(kw)
    return OpenAICompatEngine(LLMSettings(**settings))


def outline_json(n: int = 2) -> str:
    secs = [
        {
            "heading": "The waggle dance",
            "points": ["direction", "distance"],
            "query": "waggle dance flowers",
        },
        {
            "heading": "Life in the hive",
            "points": ["queen", "workers"],
            "query": "queen workers drones",
        },
        {"heading": "Winter cluster", "points": ["heat"], "query": "winter cluster heat"},
    ][:n]
    return json.dumps({"title": "Inside the Hive", "sections": secs})


async def test_end_to_end_default_answers(openai_server):
    events = []
    draft = await engine(openai_server).generate(REQ, PASSAGES, lambda t, d: events.append((t, d)))
    md = draft.markdown
    assert md.startswith("# ")
    assert md.count("\n## ") >= 4 and "## Conclusion" in md and "## Sources" in md
    assert draft.engine == "llm" and draft.model == "fake-model"
    assert draft.citations and draft.grounding.score > 0.8
    by_id = {p.chunk_id: p for p in PASSAGES}
    for c in draft.citations:
        assert c.quote in by_id[c.chunk_id].text
    reqs = openai_server.chat_requests
    # outline: plain JSON request with a json_schema response_format; the body sections
    # streamed, then the introduction and conclusion, then one polishing pass
    assert reqs[0].is_outline and not reqs[0].stream
    assert reqs[0].body["response_format"]["type"] == "json_schema"
    kinds = [r.kind for r in reqs]
    n = len(draft.outline)
    assert kinds[1 : 1 + n] == ["section"] * n
    assert sorted(kinds[1 + n : 3 + n]) == ["conclusion", "introduction"]
    assert kinds[3 + n :] == ["polish"]
    assert all(r.stream for r in reqs[1 : 3 + n]) and not reqs[-1].stream
    for r in openai_server.requests:
        assert r.headers["authorization"] == f"Bearer {KEY}"
        assert r.body is None or r.body["model"] == "fake-model"
    kinds = [t for t, _ in events]
    assert kinds[0] == "status" and "outline" in kinds
    finals = [d for t, d in events if t == "section" and d["final"]]
    assert [d["kind"] for d in finals[:n]] == ["section"] * n
    assert sorted(d["index"] for d in finals[:n]) == list(range(1, n + 1))
    assert sorted((d["kind"], d["index"]) for d in finals[n:]) == [
        ("conclusion", n + 1),
        ("introduction", 0),
    ]
    assert any(
        t == "section" and not d["final"] for t, d in events
    )  # partial progress while streaming


async def test_plain_and_streamed_answers_from_the_sdk(openai_server):
    openai_server.push(
        ok("plain answer [1]."), stream(["stre", "amed ", "answer [1]."], delay=0.01)
    )
    client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key=KEY, max_retries=0)
    r = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    assert r.choices[0].message.content == "plain answer [1]."
    st = await client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    parts = [
        c.choices[0].delta.content async for c in st if c.choices and c.choices[0].delta.content
    ]
    assert "".join(parts) == "streamed answer [1]."
    models = await engine(openai_server).list_models()
    assert models == ["fake-model"]
    await client.close()


async def test_429_with_retry_after_then_success(openai_server):
    openai_server.push(status(429, retry_after=1))
    t0 = time.monotonic()
    draft = await engine(openai_server).generate(REQ, PASSAGES)
    assert draft.citations
    reqs = openai_server.chat_requests
    assert reqs[1].at - reqs[0].at >= 0.95  # Retry-After honoured
    assert reqs[0].is_outline and reqs[1].is_outline
    assert time.monotonic() - t0 < 10


async def test_retry_after_as_a_date_or_in_milliseconds_is_honoured(openai_server):
    openai_server.push(
        status(503, retry_after=formatdate(time.time() + 3, usegmt=True)),
        status(429, headers={"retry-after-ms": "1500"}),
    )
    await engine(openai_server).generate(REQ, PASSAGES)
    first, second, third = openai_server.chat_requests[:3]
    assert second.at - first.at >= 1.5  # the date is 2-3 s ahead (whole seconds)
    assert third.at - second.at >= 1.45


async def test_500_every_time_fails_after_bounded_attempts(openai_server):
    openai_server.push(*[status(500)] * 10)
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, max_attempts=3).generate(REQ, PASSAGES)
    assert "HTTP 500" in e.value.message and "3 attempts" in e.value.message
    assert len(openai_server.chat_requests) == 3


async def test_too_long_retry_after_fails_at_once(openai_server):
    openai_server.push(status(429, retry_after=3600))
    with pytest.raises(GenerationError) as e:
        await engine(openai_server).generate(REQ, PASSAGES)
    assert "3600" in e.value.message
    assert len(openai_server.chat_requests) == 1


async def test_read_timeout_becomes_a_generation_error(openai_server):
    openai_server.push(sleep(3), sleep(3), sleep(3))
    t0 = time.monotonic()
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, read_timeout=0.4, max_attempts=2).generate(REQ, PASSAGES)
    assert "timed out" in e.value.message and "2 attempts" in e.value.message
    assert e.value.code == "llm_timeout"
    assert len(openai_server.chat_requests) == 2
    assert time.monotonic() - t0 < 5


async def test_unreachable_endpoint(openai_server):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    eng = OpenAICompatEngine(
        LLMSettings(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_attempts=2)
    )
    with pytest.raises(GenerationError) as e:
        await eng.generate(REQ, PASSAGES)
    assert "Could not connect" in e.value.message and e.value.code == "llm_unreachable"
    assert "2 attempts" in e.value.message


async def test_outline_not_json_then_repair_succeeds(openai_server):
    openai_server.push(
        ok("Sure! Here is the outline: sections are dance, hive."),
        ok("```json\n" + outline_json(2) + "\n```"),
    )
    draft = await engine(openai_server).generate(REQ, PASSAGES)
    assert [s.heading for s in draft.outline] == ["The waggle dance", "Life in the hive"]
    repair = openai_server.chat_requests[1]
    assert [m["role"] for m in repair.messages] == ["system", "user", "assistant", "user"]
    assert "not a valid JSON" in repair.messages[-1]["content"]


async def test_outline_not_json_twice_fails_cleanly(openai_server):
    openai_server.push(ok("no json here"), ok("{still: not json"))
    with pytest.raises(GenerationError) as e:
        await engine(openai_server).generate(REQ, PASSAGES)
    assert e.value.message == OUTLINE_ERROR
    assert len(openai_server.chat_requests) == 2


async def test_structured_output_falls_back_mode_by_mode_and_is_remembered(openai_server):
    openai_server.response_format_supported = False  # refuses any response_format (HTTP 400)
    draft = await engine(openai_server, max_attempts=3).generate(REQ, PASSAGES)
    assert draft.outline
    outline = [r for r in openai_server.chat_requests if r.kind == "outline"]
    assert [r.response_format for r in outline[:3]] == [
        {"type": "json_schema", "json_schema": ANY_SCHEMA},
        {"type": "json_object", "schema": outline[0].response_format["json_schema"]["schema"]},
        {"type": "json_object"},
    ]
    assert outline[3].response_format is None and len(outline) == 4  # no retries spent
    # remembered for the process: another engine on the same endpoint asks plainly at once
    n = len(openai_server.chat_requests)
    await engine(openai_server).generate(REQ, PASSAGES)
    assert openai_server.chat_requests[n].is_outline
    assert openai_server.chat_requests[n].response_format is None
    assert structured.known_mode(openai_server.base_url, "fake-model") == "plain"


async def test_llama_cpp_500_on_json_schema_falls_back_to_json_object_with_schema(openai_server):
    openai_server.like_llama_cpp()
    draft = await engine(openai_server, max_attempts=3).generate(REQ, PASSAGES)
    reqs = openai_server.chat_requests
    assert reqs[0].response_format["type"] == "json_schema"
    assert reqs[1].response_format["type"] == "json_object" and reqs[1].response_format["schema"]
    assert [r.kind for r in reqs].count("outline") == 2
    assert [s.heading for s in draft.outline]
    assert structured.known_mode(openai_server.base_url, "fake-model") == "json_object_schema"
    # the one-shot scripted refusal (HTTP 400) behaves the same
    openai_server.reset()
    structured.forget_all()
    openai_server.push(json_schema_unsupported())
    await engine(openai_server).generate(REQ, PASSAGES)
    assert openai_server.chat_requests[1].response_format["type"] == "json_object"


async def test_a_500_that_is_not_about_response_format_is_retried_not_a_fallback(openai_server):
    openai_server.push(status(500, body={"error": {"message": "CUDA out of memory"}}))
    await engine(openai_server, max_attempts=2).generate(REQ, PASSAGES)
    first, second = openai_server.chat_requests[:2]
    assert first.response_format["type"] == second.response_format["type"] == "json_schema"


async def test_never_ending_stream_is_cancelled_within_seconds(openai_server):
    openai_server.push(ok(outline_json(2)), stream_forever(delay=0.05))
    started = {}

    def on_event(t, d):
        if t == "section" and "t" not in started:
            started["t"] = time.monotonic()

    def cancelled() -> bool:
        return "t" in started and time.monotonic() - started["t"] > 0.5

    t0 = time.monotonic()
    with pytest.raises(GenerationCancelled):
        await engine(openai_server).generate(REQ, PASSAGES, on_event, cancelled)
    assert time.monotonic() - t0 < 5


async def test_stalled_stream_is_cancelled_even_without_chunks(openai_server):
    openai_server.push(ok(outline_json(2)), stream_forever(delay=30))
    t_cancel = time.monotonic() + 1.0
    t0 = time.monotonic()
    with pytest.raises(GenerationCancelled):
        await engine(openai_server, read_timeout=60).generate(
            REQ, PASSAGES, None, lambda: time.monotonic() > t_cancel
        )
    assert time.monotonic() - t0 < 3


async def test_cancel_during_retry_wait(openai_server):
    openai_server.push(status(503, retry_after=20))
    t_cancel = time.monotonic() + 0.5
    with pytest.raises(GenerationCancelled):
        await engine(openai_server).generate(
            REQ, PASSAGES, None, lambda: time.monotonic() > t_cancel
        )
    assert time.monotonic() < t_cancel + 2


async def test_prompt_stays_within_budget_with_many_long_passages(openai_server):
    long_text = " ".join(
        f"Sentence {i} about honey bee colonies, foraging, queens and the waggle dance in detail."
        for i in range(400)
    )
    many = [
        Passage(f"d{i}:0", f"d{i}", f"d{i}.md", None, 0, len(long_text), long_text, None, 0.0)
        for i in range(40)
    ]
    budget = 3000
    draft = await engine(
        openai_server, context_budget_tokens=budget, passages_per_section=8
    ).generate(REQ, many)
    assert draft.citations
    for r in openai_server.chat_requests:
        prompt_tokens = sum(estimate_tokens(m["content"]) for m in r.messages)
        assert prompt_tokens + r.body["max_tokens"] <= budget, (prompt_tokens, r.body["max_tokens"])
        if r.kind != "polish":  # the room is used, not wasted
            assert prompt_tokens > budget * 0.4
        assert len(json.dumps(r.body)) < budget * 6


async def test_local_numbers_map_to_the_right_global_citations(openai_server):
    """Each section cites its local [2] and [1] in that order; the draft points to those chunks."""

    def answer(body):
        prompt = "\n".join(m["content"] for m in body["messages"])
        if "JSON" in prompt:
            return outline_json(3)
        ps = dict(_passages_in(prompt))
        first = lambda n: re.split(r"(?<=\.)\s", ps[n])[0]  # noqa: E731
        return f"{first(2)[:-1]} [2].\n\n{first(1)[:-1]} [1]."

    openai_server.answer = answer
    index = InMemoryRetriever(PASSAGES)
    draft = await engine(openai_server).generate(REQ, index)
    body, _ = split_body(draft.markdown)
    by_n = {c.n: c for c in draft.citations}
    by_chunk = {p.chunk_id: p for p in PASSAGES}
    checked = 0
    for para in re.split(r"\n\s*\n", body):
        m = MARKER_RE.search(para)
        if not m or para.startswith("#"):
            continue
        sentence = MARKER_RE.sub("", para).strip().rstrip(".").strip()
        n = int(m.group(1))
        assert sentence in by_chunk[by_n[n].chunk_id].text, (n, sentence)
        assert by_n[n].quote.startswith(sentence)
        checked += 1
    assert checked >= 2 * 5  # intro + 3 sections + conclusion, two paragraphs each
    assert sorted(by_n) == list(range(1, len(by_n) + 1))
    assert draft.grounding.score == 1.0


@pytest.mark.parametrize(
    "bad,why",
    [
        ("", "empty"),
        ("I'm sorry, but I can't help with that.", "declined"),
        ("Bees are great and everybody loves them.", "cites none"),
    ],
)
async def test_unusable_answers(openai_server, bad, why):
    openai_server.push(ok(outline_json(2)), ok(bad), ok(bad))
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, unusable_retries=1, concurrency=1).generate(REQ, PASSAGES)
    assert why in e.value.message
    assert '"The waggle dance"' in e.value.message  # the failing section is named
    assert e.value.code == "llm_unusable"
    assert len(openai_server.chat_requests) == 3


async def test_one_unusable_answer_is_retried(openai_server):
    openai_server.push(ok(outline_json(2)), ok("I cannot do that."))
    draft = await engine(openai_server, unusable_retries=1).generate(REQ, PASSAGES)
    assert draft.citations


async def test_uncited_paragraph_gets_a_supported_citation_or_is_reported(openai_server):
    text = (
        "Honey bees communicate the location of flowers with a waggle dance [1].\n\n"
        "The duration of the waggle run encodes the distance to the food.\n\n"
        "Quantum spreadsheets will replace every calendar next week."
    )
    openai_server.push(ok(outline_json(2)), ok(text))
    draft = await engine(openai_server, concurrency=1).generate(REQ, make_passages())
    first = draft.markdown.split("\n## ")[1]
    paras = first.split("\n\n")[1:]
    assert MARKER_RE.search(paras[1]), "supported paragraph should get a citation"
    assert not MARKER_RE.search(paras[2])
    assert any("cite no source" in w for w in draft.warnings)
    flagged = {f.reason: f.sentence for f in draft.grounding.flagged}
    assert "Quantum" in flagged["uncited"]


async def test_api_key_is_never_logged(openai_server, caplog):
    caplog.set_level(logging.DEBUG)
    openai_server.push(status(500), status(429, retry_after=0))
    eng = engine(openai_server)
    await eng.generate(REQ, PASSAGES)
    assert KEY not in caplog.text
    assert KEY not in repr(eng) and KEY not in repr(eng.settings)
    openai_server.api_key = "another-key"
    with pytest.raises(GenerationError) as e:
        await eng.generate(REQ, PASSAGES)
    assert e.value.code == "llm_auth" and KEY not in str(e.value)


async def test_get_engine_from_settings(openai_server):
    settings = Settings(
        _env_file=None,
        llm_base_url=openai_server.base_url,
        llm_api_key=KEY,
        llm_model="fake-model",
        llm_connect_timeout_s=1.5,
        llm_max_attempts=4,
        llm_context_budget_tokens=5000,
        llm_temperature=0.7,
    )
    assert settings.default_engine == "llm"
    eng = get_engine(settings.default_engine, settings)
    assert eng.name == "llm" and eng.model == "fake-model"
    assert (eng.settings.api_key, eng.settings.connect_timeout, eng.settings.max_attempts) == (
        KEY,
        1.5,
        4,
    )
    assert (eng.settings.context_budget_tokens, eng.settings.temperature) == (5000, 0.7)
    assert get_engine("llm", settings, model="other").model == "other"
    await eng.generate(REQ, PASSAGES)
    assert openai_server.chat_requests[0].body["temperature"] == 0.7
    unset = Settings(_env_file=None, llm_base_url=None)
    assert unset.default_engine == "extractive"
    assert get_engine(unset.default_engine, unset).name == "extractive"
    with pytest.raises(GenerationError) as e:
        get_engine("llm", unset)
    assert e.value.code == "llm_not_configured"
    with pytest.raises(GenerationError):
        get_engine("nope")


async def test_tolerant_parsing_helpers():
    assert extract_json_object('blah ```json\n{"a": {"b": "}"}}\n``` tail') == {"a": {"b": "}"}}
    assert extract_json_object('Here: {"x": 1} and {"y": 2}') == {"x": 1}
    with pytest.raises(ValueError):
        extract_json_object("{nope")
    assert (
        clean_section_text("```markdown\n## Heading\n\nText [1].\n\nSources:\n[1] doc\n```")
        == "Text [1]."
    )


async def test_outline_model_takes_other_key_names_and_gives_the_strict_schema():
    outline = parse_outline(
        'Here you go:\n```json\n{"outline": ["Bare heading", {"title": "## Named  one", '
        '"bullets": "just one", "query": 7}, 42, {"name": " "}]}\n```\nAnything else?'
    )
    assert outline.title == ""
    assert [s.to_dict() for s in outline.to_sections(5)] == [
        {"heading": "Bare heading", "points": [], "query": ""},
        {"heading": "Named one", "points": ["just one"], "query": "7"},
    ]
    assert len(outline.to_sections(1)) == 1
    with pytest.raises(ValueError):
        parse_outline('{"sections": [{"heading": ""}]}')
    schema = response_format(2, 3)["json_schema"]["schema"]
    item = schema["$defs"]["OutlineItem"]
    assert schema["required"] == ["title", "sections"] and item["required"] == [
        "heading",
        "points",
        "query",
    ]
    assert schema["additionalProperties"] is False and item["additionalProperties"] is False
    assert (
        schema["properties"]["sections"]["minItems"],
        schema["properties"]["sections"]["maxItems"],
    ) == (2, 3)
    assert "default" not in json.dumps(schema)
