"""One section of a draft: finding it, and splicing a rewritten one back in (every other
byte the same); the extractive engine's plan, approved-outline writing and rewrite."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from corpus_passages import markdown_passages
from tests.fixtures.make import fixture_path

from draftsmith.generation import ExtractiveEngine, GenerationError, GenerationRequest, Passage
from draftsmith.generation.sections import body_sections, section_target, splice_section
from draftsmith.generation.types import OutlineSection, Plan, RewrittenSection

DRAFT = """# Title

Intro sentence [1].

## First

Old first text [1]. More [2].

## Second

```
## not a heading
```

Second text [2].

## Conclusion

Ends [3].

## Sources

- [1] a.md — “one”
- [2] b.md — “two”
- [3] c.md — “three”
"""
CITATIONS = [
    {"n": n, "chunk_id": f"c{n}", "document_id": "d", "document_name": f"{x}.md", "page": None,
     "start": 0, "end": 3, "quote": q, "passage": q}
    for n, x, q in ((1, "a", "one"), (2, "b", "two"), (3, "c", "three"))
]  # fmt: skip


def passage(chunk: str, text: str) -> Passage:
    return Passage(chunk, "d2", "new.md", 4, 100, 100 + len(text), text)


def test_sections_are_the_level_two_headings_outside_code():
    spans = body_sections(DRAFT)
    assert [s.heading for s in spans] == ["First", "Second", "Conclusion"]
    assert DRAFT[spans[0].start : spans[0].end] == "Old first text [1]. More [2]."
    assert DRAFT[spans[1].start : spans[1].end].endswith("Second text [2].")


def test_the_target_knows_what_the_rest_of_the_draft_quotes():
    target = section_target(DRAFT, CITATIONS, 0, ["a point"], "shorter")
    assert target.heading == "First" and target.points == ["a point"]
    assert target.body == "Old first text [1]. More [2]."
    assert target.quoted_chunks == {"c1", "c2", "c3"}  # [1] intro, [2] second, [3] conclusion
    assert [h for h, _ in target.others] == [None, "Second", "Conclusion"]
    assert section_target(DRAFT, CITATIONS, 3) is None


def test_the_splice_changes_only_that_section_and_appends_new_sources():
    new = passage("c9", "A brand new claim about tides. Another sentence.")
    rewritten = RewrittenSection(
        markdown="New claim [1]. Reused [2].\n\nAnd more [1].",
        passages={1: new, 2: passage("c2", "two")},
        preferred={1: (0, 30)},
    )
    markdown, citations = splice_section(DRAFT, CITATIONS, 0, rewritten)
    old = body_sections(DRAFT)[0]
    assert markdown == (
        DRAFT[: old.start]
        + "New claim [4]. Reused [2].\n\nAnd more [4]."
        + DRAFT[old.end :].rstrip("\n")
        + "\n- [4] new.md, p. 4 — “A brand new claim about tides.”\n"
    )
    assert citations[:3] == CITATIONS
    added = citations[3]
    assert added["n"] == 4 and added["chunk_id"] == "c9" and added["start"] == 100
    assert added["quote"] == "A brand new claim about tides." and added["passage"] == new.text


def test_an_empty_section_gets_its_text_after_the_heading():
    draft = "# T\n\nIntro [1].\n\n## Empty\n\n## Conclusion\n\nEnd [1].\n"
    rewritten = RewrittenSection(markdown="Filled [1].", passages={1: passage("c1", "one")})
    markdown, citations = splice_section(draft, CITATIONS[:1], 0, rewritten)
    assert markdown == "# T\n\nIntro [1].\n\n## Empty\n\nFilled [1].\n\n## Conclusion\n\nEnd [1].\n"
    assert citations == CITATIONS[:1]


@pytest.fixture(scope="module")
def passages() -> list[Passage]:
    return markdown_passages(fixture_path("tide-pools.md")) + markdown_passages(
        fixture_path("lighthouses.md")
    )


REQUEST = GenerationRequest(topic="tide pool animals and lighthouse keepers", length="short")


async def test_the_extractive_engine_writes_exactly_the_approved_outline(passages):
    engine = ExtractiveEngine()
    proposed = await engine.plan(REQUEST, passages)
    assert proposed.title and len(proposed.sections) >= 2
    approved = Plan(
        "Pools and Lights",
        [
            OutlineSection("Lamps, lenses and fog signals", ["Fresnel lens"]),
            proposed.sections[0],
            OutlineSection("Animals of the pools", ["sea stars"]),
        ],
    )
    draft = await engine.generate(REQUEST, passages, plan=approved)
    assert draft.title == "Pools and Lights" and draft.markdown.startswith("# Pools and Lights\n")
    assert re.findall(r"(?m)^## (.+)$", draft.markdown) == [
        *(s.heading for s in approved.sections),
        "Conclusion",
        "Sources",
    ]
    assert [s.heading for s in draft.outline] == [s.heading for s in approved.sections]
    lamps = dict(
        (s.heading, draft.markdown[s.start : s.end]) for s in body_sections(draft.markdown)
    )
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", lamps["Lamps, lenses and fog signals"])}
    assert {c.document_name for c in draft.citations if c.n in cited} == {"lighthouses.md"}


async def test_a_rewrite_draws_on_other_passages_or_says_there_is_nothing_new(passages):
    engine = ExtractiveEngine()
    draft = await engine.generate(REQUEST, passages)
    citations = [{**c.to_dict(), "passage": draft.passages[c.n]} for c in draft.citations]
    target = section_target(draft.markdown, citations, 0)
    rewritten = await engine.rewrite_section(REQUEST, target, passages)
    assert rewritten.markdown.strip() and rewritten.markdown != target.body
    used = {p.chunk_id for p in rewritten.passages.values()}
    assert not used & target.quoted_chunks
    old_sentences = set(re.split(r"(?<=\.) ", re.sub(r" \[\d+\]", "", target.body)))
    new_sentences = set(re.split(r"(?<=\.) ", re.sub(r" \[\d+\]", "", rewritten.markdown)))
    assert not old_sentences & new_sentences

    # every passage already quoted elsewhere: nothing new to draw on
    everything = frozenset(p.chunk_id for p in passages)
    cornered = replace(target, quoted_chunks=everything)
    with pytest.raises(GenerationError) as failure:
        await engine.rewrite_section(REQUEST, cornered, passages)
    assert failure.value.code == "nothing_new" and "nothing new" in failure.value.message
