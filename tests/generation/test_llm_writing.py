"""How the LLM engine writes one post as one piece, checked by what the loopback server
receives: the brief and numbered passages in every prompt, body sections first and
together, the introduction and conclusion from the body, the polishing pass, a plan
written as approved, one section rewritten; and how it meets slow, single-slot servers."""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import replace

import pytest
from tests.fakes.openai_server import default, ok, sleep, status, stream_forever
from tests.generation.test_llm_engine import KEY, PASSAGES, engine, make_passages, outline_json

from draftsmith.generation import GenerationCancelled, GenerationError, GenerationRequest, Passage
from draftsmith.generation.citations import markers_in, strip_markers
from draftsmith.generation.llm.prompts import WRITE_SYSTEM
from draftsmith.generation.types import OutlineSection, Plan, SectionTarget

pytestmark = pytest.mark.asyncio

BRIEF = GenerationRequest(
    topic="how honey bee colonies work",
    title="Inside the Hive",
    audience="primary school teachers",
    tone="warm and plain",
    length="short",
    language="English",
    instructions="Mention one thing a class could observe.",
)


def by_kind(server, kind: str):
    return [r for r in server.chat_requests if r.kind == kind]


def user_message(request) -> str:
    return request.messages[-1]["content"]


async def test_every_prompt_carries_the_brief_the_passages_and_the_citation_rule(openai_server):
    openai_server.push(ok(outline_json(3)))
    draft = await engine(openai_server).generate(BRIEF, PASSAGES)
    assert draft.title == "Inside the Hive"
    for request in openai_server.chat_requests:
        prompt = user_message(request)
        for line in (
            "Topic: how honey bee colonies work",
            "Audience: primary school teachers",
            "Tone: warm and plain",
            "Language: English",
            "Length of the whole post: short (about 500 words)",
            "Additional instructions from the user: Mention one thing a class could observe.",
        ):
            assert line in prompt, (request.kind, line)
        if request.kind in ("outline", "polish"):
            continue
        assert request.messages[0]["content"] == WRITE_SYSTEM
        assert "cite" in WRITE_SYSTEM and "[1]" in WRITE_SYSTEM and "disagree" in WRITE_SYSTEM
        numbered = re.findall(r"(?m)^\[(\d+)\] \(([^)\n]*)\)$", prompt)
        assert [int(n) for n, _ in numbered] == list(range(1, len(numbered) + 1)) and numbered
        assert all(name.split(",")[0].endswith(".md") for _, name in numbered)
        assert "every paragraph cites at least one source as [n]" in prompt


async def test_sections_know_the_others_and_the_lead_is_written_from_the_body(openai_server):
    openai_server.push(ok(outline_json(3)))
    draft = await engine(openai_server, concurrency=1, polish=False).generate(BRIEF, PASSAGES)
    sections = by_kind(openai_server, "section")
    headings = ["The waggle dance", "Life in the hive", "Winter cluster"]
    assert [re.search(r'section "([^"]+)"', user_message(r)).group(1) for r in sections] == (
        headings
    )
    for request, heading in zip(sections, headings, strict=True):
        prompt = user_message(request)
        assert "do not repeat what they cover" in prompt
        assert all(f'- "{other}"' in prompt for other in headings if other != heading)
    # written in order, each later section gets a digest of the ones before it
    body = {h: md for h, md in _parts(draft.markdown)}
    first_sentence = strip_markers(body["The waggle dance"]).split(". ")[0]
    assert "Already written" not in user_message(sections[0])
    assert first_sentence in user_message(sections[1]) and first_sentence in user_message(
        sections[2]
    )
    # the introduction and the conclusion come after the body and contain it
    kinds = [r.kind for r in openai_server.chat_requests]
    assert kinds.index("introduction") > max(i for i, k in enumerate(kinds) if k == "section")
    for kind in ("introduction", "conclusion"):
        prompt = user_message(by_kind(openai_server, kind)[0])
        assert "<<<BODY" in prompt
        for heading in headings:
            assert heading in prompt
            assert strip_markers(body[heading])[:80] in " ".join(prompt.split())


def _parts(markdown: str) -> list[tuple[str, str]]:
    chunks = re.split(r"(?m)^## (.+)$", markdown.split("\n## Sources")[0])
    return [(chunks[i], chunks[i + 1].strip()) for i in range(1, len(chunks), 2)]


async def test_passage_headers_carry_the_documents_title_and_date():
    from draftsmith.generation.llm.prompts import fit_passages

    text = "The colony counted 20,000 bees in June."
    p = Passage(
        "c",
        "d",
        "hive-report-2023-06.pdf",
        3,
        0,
        len(text),
        text,
        None,
        0.0,
        "3",
        "Hive census › Summer",
    )
    _, block = fit_passages([p], 500)
    assert block.startswith('[1] (hive-report-2023-06.pdf, "Hive census", dated 2023-06, p. 3)')
    # the date from the document's own metadata wins over the one in its name
    dated = replace(p, document_date="2023-04-01")
    _, block = fit_passages([dated], 500)
    assert block.startswith('[1] (hive-report-2023-06.pdf, "Hive census", dated 2023-04-01, p. 3)')
    # a name without a date: the metadata date alone
    _, block = fit_passages([replace(dated, document_name="hives.pdf")], 500)
    assert block.startswith('[1] (hives.pdf, "Hive census", dated 2023-04-01, p. 3)')


async def test_body_sections_are_written_together(openai_server):
    openai_server.latency = 0.3
    openai_server.push(ok(outline_json(3)))
    await engine(openai_server, concurrency=3, polish=False).generate(BRIEF, PASSAGES)
    sections = by_kind(openai_server, "section")
    assert len(sections) == 3
    # every section was asked for before any of them was answered
    assert max(r.at for r in sections) < min(r.answered_at for r in sections)
    lead = by_kind(openai_server, "introduction") + by_kind(openai_server, "conclusion")
    assert min(r.at for r in lead) >= max(r.answered_at for r in sections)
    assert (
        abs(lead[0].at - lead[1].at)
        < min(r.answered_at for r in lead) - max(r.at for r in lead) + 0.3
    )  # the introduction and the conclusion overlap too


async def test_cancel_stops_every_section_call_at_once(openai_server):
    openai_server.push(ok(outline_json(3)), *[stream_forever(0.05) for _ in range(3)])
    seen: set[int] = set()

    def on_event(type_, data):
        if type_ == "section":
            seen.add(data["index"])

    with pytest.raises(GenerationCancelled):
        await engine(openai_server, concurrency=3).generate(
            BRIEF, PASSAGES, on_event, lambda: len(seen) >= 3
        )
    await asyncio.sleep(0.3)
    sections = by_kind(openai_server, "section")
    assert len(sections) == 3 and all(r.client_gone for r in sections)


async def test_a_failing_section_fails_the_post_and_names_it(openai_server):
    openai_server.push(ok(outline_json(3)), default(), status(400), default())
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, concurrency=3).generate(BRIEF, PASSAGES)
    assert e.value.code == "llm_bad_request"
    assert re.match(
        r'Writing the section "(The waggle dance|Life in the hive|Winter cluster)" '
        r"failed: The LLM endpoint refused the request \(HTTP 400\): fake error 400",
        e.value.message,
    )
    assert not by_kind(openai_server, "introduction")


def _polisher(edit):
    """An ``answer`` that edits the draft of a polishing request with ``edit``."""
    from tests.fakes.openai_server import default_answer

    def answer(body):
        prompt = "\n".join(m["content"] for m in body["messages"])
        if "Revise this blog post draft" in prompt:
            return edit(prompt.split("DRAFT:\n\n", 1)[1])
        return default_answer(body)

    return answer


async def test_a_polished_version_that_keeps_every_marker_is_used(openai_server):
    openai_server.answer = _polisher(
        lambda d: d.replace(
            "\n## Life in the hive\n",
            "\n## Life in the hive\n\nMeanwhile, in the hive: ",
            1,
        )
    )
    openai_server.push(ok(outline_json(3)))
    draft = await engine(openai_server).generate(BRIEF, PASSAGES)
    assert "Meanwhile, in the hive: " in draft.markdown


@pytest.mark.parametrize(
    "edit,why",
    [
        (lambda d: re.sub(r"\[1\]", "", d), "dropped citation markers"),
        (lambda d: d.replace(".", " [99].", 1), "invented citation markers"),
        (lambda d: d.replace("## Winter cluster", "## Cold months"), "changed the headings"),
        (lambda d: "\n\n".join(d.split("\n\n")[:3]), "changed the headings"),
    ],
)
async def test_a_polished_version_that_breaks_the_draft_is_rejected(openai_server, edit, why):
    openai_server.answer = _polisher(edit)
    openai_server.push(ok(outline_json(3)))
    events = []
    polished = await engine(openai_server).generate(
        BRIEF, PASSAGES, lambda t, d: events.append((t, d))
    )
    openai_server.reset()
    openai_server.push(ok(outline_json(3)))
    plain = await engine(openai_server, polish=False).generate(BRIEF, PASSAGES)
    assert polished.markdown == plain.markdown
    assert any(t == "status" and why in d["message"] for t, d in events)


async def test_a_plan_is_written_exactly_as_approved_without_asking_for_one(openai_server):
    eng = engine(openai_server)
    plan = await eng.plan(BRIEF, PASSAGES)
    assert plan.title == "Inside the Hive" and plan.sections
    assert [r.kind for r in openai_server.chat_requests] == ["outline"]
    openai_server.reset()
    approved = Plan(
        title="Bees in the cold",
        sections=[
            OutlineSection("Winter cluster", ["shivering for heat"]),
            OutlineSection("Mites and poisons", ["varroa", "pesticides"]),
        ],
    )
    draft = await eng.generate(BRIEF, PASSAGES, plan=approved)
    assert "outline" not in [r.kind for r in openai_server.chat_requests]
    assert draft.title == "Bees in the cold" and draft.markdown.startswith("# Bees in the cold")
    assert [h for h, _ in _parts(draft.markdown)] == [
        "Winter cluster",
        "Mites and poisons",
        "Conclusion",
    ]
    for request in by_kind(openai_server, "section"):
        prompt = user_message(request)
        wanted = "tight cluster" if "Winter cluster" in prompt.split("\n")[0] else "Varroa mites"
        first_passage = prompt.split("SOURCES:\n\n", 1)[1].split("\n\n")[0]
        assert wanted in first_passage  # each section retrieved for its own heading and points


async def test_one_section_is_rewritten_with_the_instructions_and_the_rest_as_context(
    openai_server,
):
    passages = make_passages()
    winter = next(p for p in passages if p.document_id == "winter")
    target = SectionTarget(
        index=1,
        heading="Winter cluster",
        points=["heat", "stored honey"],
        body="Bees cluster in winter [2].",
        others=[
            (None, "Bees live in colonies [1]."),
            ("The waggle dance", "Bees dance to show where flowers are [3]."),
            ("Conclusion", "Colonies are remarkable [1]."),
        ],
        quoted_chunks=frozenset({winter.chunk_id}),
        instructions="Explain the shivering for children.",
    )
    events = []
    out = await engine(openai_server).rewrite_section(
        BRIEF, target, passages, lambda t, d: events.append((t, d))
    )
    (request,) = openai_server.chat_requests
    prompt = user_message(request)
    assert "The author's instructions for this rewrite: Explain the shivering for children." in (
        prompt
    )
    assert '- "The waggle dance": Bees dance to show where flowers are.' in prompt
    assert "do not repeat these facts" in prompt and "Bees cluster in winter." in prompt
    assert "Audience: primary school teachers" in prompt
    # passages already quoted elsewhere come after fresh ones
    assert "tight cluster" not in prompt.split("SOURCES:\n\n", 1)[1].split("\n\n")[0]
    assert out.markdown and set(markers_in(out.markdown)) <= set(out.passages)
    assert all(isinstance(p, Passage) for p in out.passages.values())
    finals = [d for t, d in events if t == "section" and d["final"]]
    assert finals == [
        {
            "index": 2,
            "heading": "Winter cluster",
            "kind": "section",
            "markdown": out.markdown,
            "final": True,
        }
    ]


# -- slow and single-slot servers


async def test_a_timeout_closes_the_connection_and_is_retried_once_with_a_useful_message(
    openai_server,
):
    openai_server.slots, openai_server.notices_disconnect = 1, False  # as llama-cpp-python
    openai_server.push(sleep(1.5), sleep(1.5), sleep(1.5))
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, read_timeout=0.4, max_attempts=5).generate(BRIEF, PASSAGES)
    assert e.value.code == "llm_timeout"
    assert "too slow for this prompt" in e.value.message
    assert "Lower DRAFTSMITH_LLM_CONTEXT_BUDGET_TOKENS" in e.value.message
    assert "2 attempts" in e.value.message
    await asyncio.sleep(2.5)
    first, second = openai_server.chat_requests  # a timeout is retried once, not five times
    assert first.client_gone and second.client_gone
    # the abandoned request kept the only slot: the retry was worked after it
    assert second.answered_at >= first.answered_at


async def test_slow_token_rates_reach_the_user_as_a_timeout_not_a_hang(openai_server):
    openai_server.token_delay = 0.05  # a long outline takes seconds to generate
    t0 = time.monotonic()
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, read_timeout=0.5).generate(BRIEF, PASSAGES)
    assert e.value.code == "llm_timeout" and time.monotonic() - t0 < 5


async def test_the_servers_own_words_reach_the_user_without_secrets(openai_server):
    body = {"error": {"message": f"model is loading, retry later (key {KEY}) " + "x" * 500}}
    openai_server.push(*[status(503, body=body)] * 3)
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, max_attempts=3).generate(BRIEF, PASSAGES)
    assert e.value.code == "llm_server_error"
    assert "HTTP 503 after 3 attempts: model is loading, retry later" in e.value.message
    assert KEY not in e.value.message and len(e.value.message) < 400


async def test_outline_json_survives_any_structured_mode(openai_server):
    openai_server.response_format_supported = False
    openai_server.push(
        *[status(400, body={"error": {"message": "response_format unsupported"}})] * 3,
        ok("Sure: ```json\n" + outline_json(2) + "\n```"),
    )
    draft = await engine(openai_server).generate(BRIEF, PASSAGES)
    assert [s.heading for s in draft.outline] == ["The waggle dance", "Life in the hive"]
    assert json.loads(outline_json(2))


async def test_an_outline_listing_an_introduction_and_conclusion_keeps_only_the_body(
    openai_server,
):
    sections = [
        {"heading": h, "points": [], "query": ""}
        for h in ("Introduction", "The waggle dance", "Life in the hive", "Conclusion")
    ]
    openai_server.push(ok(json.dumps({"title": "Bees", "sections": sections})))
    plan = await engine(openai_server).plan(BRIEF, PASSAGES)
    assert [s.heading for s in plan.sections] == ["The waggle dance", "Life in the hive"]


async def test_an_answer_without_markers_is_cited_where_its_passages_support_it(openai_server):
    text = "In winter the colony forms a tight cluster to keep the queen warm."
    openai_server.push(ok(outline_json(2)), ok(text))
    draft = await engine(openai_server, concurrency=1).generate(BRIEF, PASSAGES)
    first = _parts(draft.markdown)[0][1]
    assert first.startswith(text[:-1]) and markers_in(first)


async def test_a_single_slot_server_that_cuts_off_streams_gets_one_call_at_a_time(openai_server):
    openai_server.like_llama_cpp(token_delay=0.002)
    openai_server.stream_piece_chars = 8
    draft = await engine(openai_server, concurrency=1).generate(BRIEF, PASSAGES)
    assert draft.citations
    calls = sorted(openai_server.chat_requests, key=lambda r: r.at)
    for earlier, later in zip(calls, calls[1:], strict=False):
        assert later.at >= earlier.answered_at  # nothing overlapped, nothing was cut off
    # the same server with calls that overlap: a stream is cut off, and the post says so
    openai_server.reset()
    openai_server.like_llama_cpp(token_delay=0.002)
    openai_server.stream_piece_chars = 8
    with pytest.raises(GenerationError) as e:
        await engine(openai_server, concurrency=3).generate(BRIEF, PASSAGES)
    assert e.value.code == "llm_stream_closed"
    assert "set DRAFTSMITH_LLM_CONCURRENCY=1 for this server" in e.value.message
    # remembered: the next try (the job's retry) writes one call at a time, and succeeds
    openai_server.requests.clear()
    draft = await engine(openai_server, concurrency=3).generate(BRIEF, PASSAGES)
    assert draft.citations
    calls = sorted(openai_server.chat_requests, key=lambda r: r.at)
    assert all(b.at >= a.answered_at for a, b in zip(calls, calls[1:], strict=False))


async def test_a_post_too_long_for_one_call_is_polished_in_windows(openai_server):
    from draftsmith.generation.llm.client import LLMClient
    from draftsmith.generation.llm.polish import polish, polish_windows

    facts = [
        "Worker bees build wax combs from glands under their bellies",
        "The queen lays up to two thousand eggs on a summer day",
        "Foragers dance to tell their sisters where the flowers are",
        "Drones leave the hive to mate and are pushed out in autumn",
    ]
    sources = {i + 1: f"{fact}. " * 3 for i, fact in enumerate(facts)}
    parts = [(None, " ".join(f"{facts[0]} [1]." for _ in range(12)))] + [
        (f"Part {i}", " ".join(f"{facts[i]} [{i + 1}]." for _ in range(12))) for i in (1, 2, 3)
    ]
    windows_at = {b: polish_windows(BRIEF, parts, b) for b in range(300, 4000, 50)}
    budget = next(b for b, w in windows_at.items() if len(w) == 2)
    assert polish_windows(BRIEF, parts, 100) == []  # not even one part fits
    openai_server.answer = _polisher(lambda d: re.sub(r"(?m)^(## .+\n\n)", r"\1Meanwhile, ", d))
    eng = engine(openai_server, context_budget_tokens=budget)
    async with LLMClient(eng.settings) as client:
        polished, why = await polish(client, BRIEF, parts, sources, lambda: False)
    assert why is None
    requests = by_kind(openai_server, "polish")
    assert len(requests) == 2
    for request in requests:  # each stretch is told what the rest of the post covers
        prompt = user_message(request)
        assert "The rest of the post covers:" in prompt
        mine = prompt.split("DRAFT:\n\n", 1)[1]
        others = [h for h, _ in parts if h and f"## {h}" not in mine]
        assert all(f"- {h}:" in prompt for h in others)
    assert [h for h, _ in polished] == [h for h, _ in parts]
    assert all(md.startswith("Meanwhile, ") for h, md in polished if h)
    assert polished[0] == parts[0]


async def test_what_a_weak_model_copies_from_its_prompt_never_reaches_the_draft(openai_server):
    """What gemma3-270m wrote on llama-cpp-python without its chat template: the template's
    tokens, the system prompt (a word changed), HTML paragraphs, passage headers, and one
    paragraph over and over, the last copy cut off."""
    fact = "In winter the colony forms a tight cluster to keep the queen warm. [1]"
    heat = "Bees shiver their flight muscles to produce heat inside the cluster. [1]"
    on_topic = "This is how honey bee colonies work in the cold months. [1]"
    system = WRITE_SYSTEM.replace("[1] or [2][3]", "[1] or [2]")
    echo = "\n\n".join(
        [
            "<</SYS>",
            system,
            "<</SYS>>",
            f"Topic: {BRIEF.topic}",
            f'[1] (winter.md, "Winter")\n{fact}',
            f"<p>{on_topic}</p>",
            f' (winter.md, "Winter")\n{fact}\n{heat}',
            f"{fact}\n{heat}\n<<SYS>>",
            f"{fact}\nBees shiver their",
            "Cite only the numbers given. Do not invent facts that the sources do not state.",
        ]
    )
    openai_server.push(ok(outline_json(2)), ok(echo))
    draft = await engine(openai_server, concurrency=1, polish=False).generate(BRIEF, PASSAGES)
    first = strip_markers(_parts(draft.markdown)[0][1])
    paragraphs = [" ".join(p.split()) for p in first.split("\n\n")]
    assert paragraphs == [
        strip_markers(fact).strip(),
        strip_markers(on_topic).strip(),
        " ".join(strip_markers(f"{fact}\n{heat}").split()),
    ], first
    body = draft.markdown.split("\n## Sources")[0]
    for debris in ("SYS", "Cite only", "Topic:", "winter.md", "grounded strictly", "<p>"):
        assert debris not in body


async def test_an_outline_from_a_weak_model_is_cleaned_up():
    from draftsmith.generation.llm.outline import parse_outline

    outline = parse_outline(
        json.dumps(
            {
                "title": "https://www.pypdf.org/docs/en-US/1005392478600018101.pdf",
                "sections": [
                    {"heading": "Section 1: The waggle dance"},
                    {"heading": "section 2 - Life in the hive"},
                    {"heading": "3. Winter cluster"},
                    {"heading": "10 things bees do"},
                    {"heading": "Life in the Hive"},
                ],
            }
        )
    )
    assert outline.title == ""
    assert [s.heading for s in outline.to_sections(5)] == [
        "The waggle dance",
        "Life in the hive",
        "Winter cluster",
        "10 things bees do",
    ]
